/* Local Walk: a local pool's walk done in user space, for what openat2 cannot do alone */
#pragma once

#include <limits.h>
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

/*
 * For a path longer than one system call takes (PATH_MAX and more: a
 * working directory's pool path joined to a relative path the kernel
 * accepts): walks path below root_fd as the kernel would, as above, but
 * to its end: every component but the last, a last symlink too when
 * follow_last (or "name/"), a last "." or "..". *dir_fd gets the directory
 * the last component is in, last that component ("." if none is left)
 * with its trailing slash, for one openat2 (RESOLVE_BENEATH) to finish.
 * 0, -errno of the component that failed, or dn_redirect_to's answer.
 */
int dn_local_walk_long(int root_fd, const char *path, bool follow_last,
		       const struct dn_protect *protect, uid_t fsuid, int *dir_fd,
		       char last[NAME_MAX + 2]);
