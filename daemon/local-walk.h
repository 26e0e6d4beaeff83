/* Local Walk: the absolute symlink a path's walk would follow, for the local backend */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "protect.h"

/*
 * Walks path below root_fd as the kernel would (the caller's rights are
 * the thread's: search permission, fs.protected_symlinks) up to the first
 * absolute symlink it would follow -- the last component too when
 * follow_last -- and answers dn_redirect_to(its target, what followed it)
 * (redirect.h). 0 when there is none, or when the walk fails before one:
 * openat2 then resolves the path and answers what the kernel would.
 */
int dn_local_abs_link(int root_fd, const char *path, bool follow_last,
		      const struct dn_protect *protect, uid_t fsuid);
