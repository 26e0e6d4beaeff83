/* CDI Publish: a pool's spec, with this host's library and placeholder, into a CDI directory */
#include "cdi-publish.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cdi-spec.h"
#include "library-path.h"

int dn_cdi_publish(const char *dir, const char *rundir, const char *name, const char *socket,
		   const char *mountpoint, const char *more, bool compat_mount, char *why,
		   size_t why_len)
{
	char lib[PATH_MAX];
	int r = dn_library_find(NULL, lib, sizeof(lib));
	if (r < 0) {
		snprintf(why, why_len, "no libdanaus.so to preload at %s: %s", lib, strerror(-r));
		return r;
	}
	char placeholder[PATH_MAX];
	snprintf(placeholder, sizeof(placeholder), "%s/not-served", rundir);
	if ((r = dn_cdi_placeholder_ensure(placeholder)) < 0) {
		snprintf(why, why_len, "cannot make the mountpoint placeholder %s: %s", placeholder,
			 strerror(-r));
		return r;
	}
	const struct dn_cdi_pool p = {
		.name = name,
		.socket = socket,
		.mountpoint = mountpoint,
		.more = more,
		.library = lib,
		.placeholder = placeholder,
		.compat_mount = compat_mount,
	};
	if ((r = dn_cdi_spec_write(dir, &p)) < 0)
		snprintf(why, why_len, "cannot write %s's spec into %s: %s", name, dir,
			 strerror(-r));
	return r;
}
