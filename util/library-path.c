/* Library Path: where libdanaus.so is, for danaus-run and the CDI specs */
#include "library-path.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dn-paths.h"

int dn_library_find(const char *given, char *out, size_t len)
{
	const char *env = getenv("DANAUS_LIBRARY");
	if (given || env) {
		snprintf(out, len, "%s", given ? given : env);
		return access(out, R_OK) == 0 ? 0 : -errno;
	}
	snprintf(out, len, "%s/libdanaus.so", DN_LIBDIR);
	if (access(out, R_OK) == 0)
		return 0;
	char self[PATH_MAX - 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			snprintf(out, len, "%s/../preload/libdanaus.so", self);
			if (access(out, R_OK) == 0)
				return 0;
		}
	}
	snprintf(out, len, "%s/libdanaus.so", DN_LIBDIR);
	return -ENOENT;
}
