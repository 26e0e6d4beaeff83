/* Path Calls: what other modules of the library call of paths.c besides the libc names */
#pragma once

#include <sys/types.h>

/*
 * fchmodat2(2) as the kernel takes its flags (syscall.c's raw calls);
 * fchmodat(3) takes them as this glibc does (before 2.39: only
 * AT_SYMLINK_NOFOLLOW). -1 and errno, as fchmodat.
 */
int dn_fchmodat2(int dirfd, const char *path, mode_t mode, int flags);
