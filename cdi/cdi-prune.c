/* CDI Prune: the generator's specs of pools that are no longer configured go */
#include "cdi-prune.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdi-spec.h"
#include "cleanup.h"

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

/* NAME of FILE "danaus-pool-NAME.json" into OUT; false for any other file. */
static bool spec_pool(const char *file, char *out, size_t len)
{
	static const char prefix[] = "danaus-pool-", suffix[] = ".json";
	size_t n = strlen(file), p = sizeof(prefix) - 1, s = sizeof(suffix) - 1;
	if (n <= p + s || strncmp(file, prefix, p) != 0 || strcmp(file + n - s, suffix) != 0 ||
	    n - p - s >= len)
		return false;
	memcpy(out, file + p, n - p - s);
	out[n - p - s] = 0;
	return true;
}

int dn_cdi_prune(const char *dir, const char *rundir, bool (*stale)(const char *pool, void *arg),
		 void *arg)
{
	_cleanup_(closedirp) DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	int removed = 0;
	for (struct dirent *de; (de = readdir(d));) {
		char pool[NAME_MAX + 1], path[PATH_MAX], units[PATH_MAX], bound[PATH_MAX];
		if (!spec_pool(de->d_name, pool, sizeof(pool)) ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path) ||
		    (size_t)snprintf(units, sizeof(units), "%s/%s.sock", rundir, pool) >=
			    sizeof(units))
			continue;
		_cleanup_free_ char *text = NULL;
		if (dn_cdi_spec_load(path, &text) < 0 ||
		    dn_cdi_spec_socket(text, pool, bound, sizeof(bound)) < 0 ||
		    strcmp(bound, units) != 0 || !stale(pool, arg))
			continue;
		if (unlink(path) == 0)
			removed++;
	}
	return removed;
}
