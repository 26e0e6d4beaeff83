/* Absolute Symlinks: a walk that meets one hands it back to the client */
#include "redirect.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static _Thread_local bool allowed;
static _Thread_local char path[PATH_MAX];
static _Thread_local size_t path_len;

void dn_redirect_allow(bool on)
{
	allowed = on;
}

bool dn_redirect_allowed(void)
{
	return allowed;
}

int dn_redirect_to(const char *target, const char *rest)
{
	int n = snprintf(path, sizeof(path), "%s%s", target, rest);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	path_len = (size_t)n;
	return -DN_EREDIRECT;
}

int dn_redirect_append(const char *suffix)
{
	size_t n = strlen(suffix);
	if (path_len + n >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path + path_len, suffix, n + 1);
	path_len += n;
	return 0;
}

const char *dn_redirect_path(size_t *len)
{
	*len = path_len;
	return path;
}
