/* Real Fallbacks: the system call itself for libc functions an older glibc lacks */
#include "real.h"

#include <sys/stat.h>
#include <sys/syscall.h>

/*
 * The library loads into programs of older images (glibc-baseline.h), whose
 * libc has no fstat/fstatat/mknodat (before 2.33: only __fxstat and kin),
 * statx/renameat2 (2.28), copy_file_range (2.27), preadv2/pwritev2 (2.26), close_range/closefrom/
 * execveat (2.34). The library still passes calls through to these for
 * files that are not a pool's: each becomes the system call newer glibc
 * makes, so a missing symbol never becomes a NULL call. Through libc's own
 * syscall(): ours (preload/syscall.c) would route a pool's path again.
 */

static int sys_fstat(int fd, struct stat *st)
{
	return (int)REAL(syscall)(SYS_fstat, fd, st);
}

static int sys_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return (int)REAL(syscall)(SYS_newfstatat, dirfd, path, st, flags);
}

static int sys_mknodat(int dirfd, const char *path, mode_t mode, dev_t dev)
{
	return (int)REAL(syscall)(SYS_mknodat, dirfd, path, mode, dev);
}

static int sys_statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *stx)
{
	return (int)REAL(syscall)(SYS_statx, dirfd, path, flags, mask, stx);
}

static int sys_renameat2(int olddir, const char *oldpath, int newdir, const char *newpath,
			 unsigned flags)
{
	return (int)REAL(syscall)(SYS_renameat2, olddir, oldpath, newdir, newpath, flags);
}

static ssize_t sys_copy_file_range(int in, off_t *inoff, int out, off_t *outoff, size_t len,
				   unsigned flags)
{
	return REAL(syscall)(SYS_copy_file_range, in, inoff, out, outoff, len, flags);
}

static ssize_t sys_preadv2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	return REAL(syscall)(SYS_preadv2, fd, iov, cnt, off, 0, flags);
}

static ssize_t sys_pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	return REAL(syscall)(SYS_pwritev2, fd, iov, cnt, off, 0, flags);
}

static int sys_close_range(unsigned first, unsigned last, int flags)
{
	return (int)REAL(syscall)(SYS_close_range, first, last, flags);
}

static void sys_closefrom(int lowfd)
{
	REAL(syscall)(SYS_close_range, (unsigned)lowfd, ~0u, 0);
}

static int sys_execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
			int flags)
{
	return (int)REAL(syscall)(SYS_execveat, dirfd, path, argv, envp, flags);
}

void dn_real_fill_missing(struct dn_real_table *t)
{
#define DN_FALLBACK(name)                                                                          \
	do {                                                                                       \
		if (!t->name)                                                                      \
			t->name = sys_##name;                                                      \
	} while (0)
	DN_FALLBACK(fstat);
	DN_FALLBACK(fstatat);
	DN_FALLBACK(mknodat);
	DN_FALLBACK(statx);
	DN_FALLBACK(renameat2);
	DN_FALLBACK(copy_file_range);
	DN_FALLBACK(preadv2);
	DN_FALLBACK(pwritev2);
	DN_FALLBACK(close_range);
	DN_FALLBACK(closefrom);
	DN_FALLBACK(execveat);
#undef DN_FALLBACK
}
