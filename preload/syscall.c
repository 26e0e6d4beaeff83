/* Raw System Calls: syscall(2) with a number the library serves, as that call */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

#include "client.h"
#include "dn-errno.h"
#include "export.h"
#include "fault.h"
#include "native-aio.h"
#include "ops.h"
#include "paths.h"
#include "real.h"
#include "route.h"

/*
 * Some programs make file calls through glibc's syscall() (libuv, hence
 * node, calls statx and copy_file_range so; stress-ng makes most of its
 * file calls so): the kernel would meet a Danaus fd's placeholder, or a
 * path behind the mountpoint, and answer for the wrong file. Every system
 * call on a file descriptor or a path that the library serves is in the
 * table below: when it names a Danaus fd or path it runs as the library's
 * own function of that call (with the system call's own conventions where
 * glibc's function differs); everything else goes to the kernel untouched. Identity changes made this way are seen as the set*id
 * functions' are (identity.c), but only after the kernel made them: a raw
 * setuid changes one thread, where glibc's changes them all.
 */

static bool fd_in_range(long fd)
{
	return fd >= 0 && fd <= INT32_MAX;
}

static bool danaus_fd(long fd)
{
	return fd_in_range(fd) && dn_fdmap_get((int)fd) >= 0;
}

/*
 * Whether the library answers for (dirfd, path), as dn_route decides: a
 * Danaus file, or an error routing found (a /proc/self/fd/N whose file is
 * gone: the kernel would open the placeholder instead); an unreadable path
 * is the kernel's, unless relative to a Danaus fd.
 */
/* Linux 6.6's, one number on every architecture; Debian 12's headers predate it. */
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static bool danaus_path(long dirfd, long path)
{
	struct dn_target t;
	int r = dn_route_strict((int)dirfd, (const char *)path, &t);
	return r == 1 || (r < 0 && r != -EFAULT) || danaus_fd(dirfd);
}

static bool identity_call(long n)
{
	switch (n) {
	case SYS_setuid: case SYS_setgid: case SYS_setreuid: case SYS_setregid:
	case SYS_setresuid: case SYS_setresgid: case SYS_setgroups: case SYS_capset:
	/* (a user namespace entered: its capabilities count there only, userns.c) */
	case SYS_unshare: case SYS_setns:
		return true;
	}
	return false;
}


/* The old getdents record: getdents64's, with d_type moved to the end (the same length). */
struct old_dirent {
	unsigned long d_ino, d_off;
	unsigned short d_reclen;
	char d_name[];
};

static long getdents_old(int fd, void *buf, size_t len)
{
	ssize_t n = getdents64(fd, buf, len);
	for (ssize_t at = 0; n > 0 && at < n;) {
		struct dirent64 *e = (struct dirent64 *)((char *)buf + at);
		unsigned short reclen = e->d_reclen;
		unsigned char type = (unsigned char)e->d_type;
		struct old_dirent *o = (struct old_dirent *)e;
		memmove(o->d_name, e->d_name, strlen(e->d_name) + 1);
		((char *)o)[reclen - 1] = (char)type;
		at += reclen;
	}
	return n;
}

/* struct open_how of openat2(2) */
struct dn_open_how {
	uint64_t flags, mode, resolve;
};

/*
 * openat2 without RESOLVE_* flags is openat with openat2's stricter
 * checks; the RESOLVE_* walks are not the library's: ENOSYS, as a kernel
 * without openat2 answers, so that callers take their openat path.
 */
static long openat2_ours(int dirfd, const char *path, const struct dn_open_how *how_, size_t size)
{
	struct dn_open_how how;
	if (size < sizeof(how))
		return dn_errno_return(-EINVAL);
	if (dn_fault_copy_in(&how, how_, sizeof(how)) < 0)
		return dn_errno_return(-EFAULT);
	if (how.resolve)
		return dn_errno_return(-ENOSYS);
	if ((how.flags & ~(uint64_t)(unsigned)KERNEL_OPEN_FLAGS) || (how.mode & ~07777ull) ||
	    (how.mode && !(how.flags & (O_CREAT | (O_TMPFILE & ~O_DIRECTORY)))))
		return dn_errno_return(-EINVAL);
	return openat(dirfd, path, (int)how.flags, (mode_t)how.mode);
}

/*
 * The kernel's getcwd answers the length with its NUL, checks the size
 * before it writes (ERANGE, also for size 0, where glibc's says EINVAL),
 * and only then meets a bad buffer (EFAULT).
 */
static long getcwd_ours(char *buf, size_t size)
{
	char full[PATH_MAX + DN_MOUNT_MAX];
	if (!getcwd(full, sizeof(full)))
		return -1;
	size_t n = strlen(full) + 1;
	if (n > size)
		return dn_errno_return(-ERANGE);
	if (!buf || dn_fault_copy_out(buf, full, n) < 0)
		return dn_errno_return(-EFAULT);
	return (long)n;
}

static long fadvise_ours(int fd, off_t off, off_t len, int advice)
{
	int r = posix_fadvise(fd, off, len, advice);
	return r ? dn_errno_return(-r) : 0;
}

/* utimensat's NULL path is the fd itself (futimens), which glibc's function refuses. */
static long utimensat_ours(int dirfd, const char *path, const struct timespec *ts, int flags)
{
	if (!path)
		return flags ? dn_errno_return(-EINVAL) : futimens(dirfd, ts);
	return utimensat(dirfd, path, ts, flags);
}

/* One system call on the library's side: its test, then the function. */
#define ON_FD(nr, fd, call)                                                                        \
	case nr:                                                                                   \
		if (danaus_fd(fd))                                                                 \
			return call;                                                               \
		break;
#define ON_PATH(nr, dirfd, path, call)                                                             \
	case nr:                                                                                   \
		if (danaus_path(dirfd, path))                                                      \
			return call;                                                               \
		break;
#define ON_TWO(nr, d1, p1, d2, p2, call)                                                           \
	case nr:                                                                                   \
		if (danaus_path(d1, p1) || danaus_path(d2, p2))                                    \
			return call;                                                               \
		break;

#define I(x) ((int)(x))
#define P(t, x) ((t)(x))
#define CWD AT_FDCWD

DN_EXPORT long syscall(long n, ...)
{
	/* As glibc's own syscall(), which passes six registers whatever was given. */
	va_list ap;
	va_start(ap, n);
	long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
	long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
	va_end(ap);
	switch (n) {
	/* native AIO: requests on Danaus fds are done by the library (native-aio.c) */
	case SYS_io_submit:
		return dn_errno_return(dn_io_submit((aio_context_t)a, b, P(struct iocb **, c)));
	case SYS_io_getevents:
		return dn_errno_return(dn_io_getevents((aio_context_t)a, b, c,
						       P(struct io_event *, d),
						       P(struct timespec *, e), NULL));
	case SYS_io_pgetevents:
		return dn_errno_return(dn_io_getevents((aio_context_t)a, b, c,
						       P(struct io_event *, d),
						       P(struct timespec *, e), P(const void *, f)));
	case SYS_io_destroy:
		return dn_errno_return(dn_io_destroy((aio_context_t)a));
	/* descriptors */
	ON_FD(SYS_read, a, read(I(a), P(void *, b), (size_t)c))
	ON_FD(SYS_write, a, write(I(a), P(const void *, b), (size_t)c))
	ON_FD(SYS_pread64, a, pread(I(a), P(void *, b), (size_t)c, d))
	ON_FD(SYS_pwrite64, a, pwrite(I(a), P(const void *, b), (size_t)c, d))
	ON_FD(SYS_readv, a, readv(I(a), P(const struct iovec *, b), I(c)))
	ON_FD(SYS_writev, a, writev(I(a), P(const struct iovec *, b), I(c)))
	/* the offset is (pos_l, pos_h): one register on 64-bit */
	ON_FD(SYS_preadv, a, preadv(I(a), P(const struct iovec *, b), I(c), d))
	ON_FD(SYS_pwritev, a, pwritev(I(a), P(const struct iovec *, b), I(c), d))
	ON_FD(SYS_preadv2, a, preadv2(I(a), P(const struct iovec *, b), I(c), d, I(f)))
	ON_FD(SYS_pwritev2, a, pwritev2(I(a), P(const struct iovec *, b), I(c), d, I(f)))
	ON_FD(SYS_lseek, a, lseek(I(a), b, I(c)))
	case SYS_close: /* close() also keeps the library's own fds open */
		if (fd_in_range(a) && (danaus_fd(a) || dn_is_internal_fd(I(a))))
			return close(I(a));
		break;
	ON_FD(SYS_fstat, a, fstat(I(a), P(struct stat *, b)))
	ON_FD(SYS_fstatfs, a, fstatfs(I(a), P(struct statfs *, b)))
	ON_FD(SYS_fsync, a, fsync(I(a)))
	ON_FD(SYS_fdatasync, a, fdatasync(I(a)))
	ON_FD(SYS_syncfs, a, syncfs(I(a)))
	ON_FD(SYS_ftruncate, a, ftruncate(I(a), b))
	ON_FD(SYS_fallocate, a, fallocate(I(a), I(b), c, d))
	ON_FD(SYS_fadvise64, a, fadvise_ours(I(a), b, c, I(d)))
	ON_FD(SYS_readahead, a, readahead(I(a), b, (size_t)c))
	ON_FD(SYS_sync_file_range, a, sync_file_range(I(a), b, c, (unsigned)d))
	ON_FD(SYS_fchmod, a, fchmod(I(a), (mode_t)b))
	ON_FD(SYS_fchown, a, fchown(I(a), (uid_t)b, (gid_t)c))
	ON_FD(SYS_flock, a, flock(I(a), I(b)))
	ON_FD(SYS_fcntl, a, fcntl(I(a), I(b), c))
	ON_FD(SYS_ioctl, a, ioctl(I(a), (unsigned long)b, c))
	ON_FD(SYS_getdents64, a, getdents64(I(a), P(void *, b), (size_t)c))
	ON_FD(SYS_fgetxattr, a, fgetxattr(I(a), P(const char *, b), P(void *, c), (size_t)d))
	ON_FD(SYS_fsetxattr, a, fsetxattr(I(a), P(const char *, b), P(const void *, c), (size_t)d, I(e)))
	ON_FD(SYS_flistxattr, a, flistxattr(I(a), P(char *, b), (size_t)c))
	ON_FD(SYS_fremovexattr, a, fremovexattr(I(a), P(const char *, b)))
	ON_FD(SYS_dup, a, dup(I(a)))
	ON_FD(SYS_mmap, e, (long)mmap(P(void *, a), (size_t)b, I(c), I(d), I(e), f))
	/* onto a Danaus fd (its entry goes) or an internal one (moved away first) too */
	case SYS_dup3:
		if (danaus_fd(a) || danaus_fd(b) || (fd_in_range(b) && dn_is_internal_fd(I(b))))
			return dup3(I(a), I(b), I(c));
		break;
	case SYS_copy_file_range:
		if (danaus_fd(a) || danaus_fd(c))
			return copy_file_range(I(a), P(off_t *, b), I(c), P(off_t *, d), (size_t)e,
					       (unsigned)f);
		break;
	case SYS_sendfile:
		if (danaus_fd(a) || danaus_fd(b))
			return sendfile(I(a), I(b), P(off_t *, c), (size_t)d);
		break;
	case SYS_splice:
		if (danaus_fd(a) || danaus_fd(c))
			return splice(I(a), P(off_t *, b), I(c), P(off_t *, d), (size_t)e, (unsigned)f);
		break;
	case SYS_tee:
		if (danaus_fd(a) || danaus_fd(b))
			return tee(I(a), I(b), (size_t)c, (unsigned)d);
		break;
	case SYS_close_range:
		return close_range((unsigned)a, (unsigned)b, I(c));
	/* paths, relative to a directory fd or the working directory */
	ON_PATH(SYS_openat, a, b, openat(I(a), P(const char *, b), I(c), (mode_t)d))
	ON_PATH(SYS_openat2, a, b, openat2_ours(I(a), P(const char *, b), P(const struct dn_open_how *, c), (size_t)d))
	ON_PATH(SYS_newfstatat, a, b, fstatat(I(a), P(const char *, b), P(struct stat *, c), I(d)))
	ON_PATH(SYS_statx, a, b, statx(I(a), P(const char *, b), I(c), (unsigned)d, P(struct statx *, e)))
	ON_PATH(SYS_faccessat, a, b, faccessat(I(a), P(const char *, b), I(c), 0))
	ON_PATH(SYS_faccessat2, a, b, faccessat(I(a), P(const char *, b), I(c), I(d)))
	ON_PATH(SYS_mkdirat, a, b, mkdirat(I(a), P(const char *, b), (mode_t)c))
	ON_PATH(SYS_mknodat, a, b, mknodat(I(a), P(const char *, b), (mode_t)c, (dev_t)d))
	ON_PATH(SYS_unlinkat, a, b, unlinkat(I(a), P(const char *, b), I(c)))
	ON_PATH(SYS_readlinkat, a, b, readlinkat(I(a), P(const char *, b), P(char *, c), (size_t)d))
	ON_PATH(SYS_fchmodat, a, b, fchmodat(I(a), P(const char *, b), (mode_t)c, 0))
	ON_PATH(SYS_fchownat, a, b, fchownat(I(a), P(const char *, b), (uid_t)c, (gid_t)d, I(e)))
#ifdef SYS_futimesat /* not in the generic table (aarch64) */
	ON_PATH(SYS_futimesat, a, b, futimesat(I(a), P(const char *, b), P(const struct timeval *, c)))
#endif
	ON_PATH(SYS_symlinkat, b, c, symlinkat(P(const char *, a), I(b), P(const char *, c)))
	ON_PATH(SYS_inotify_add_watch, CWD, b, inotify_add_watch(I(a), P(const char *, b), (uint32_t)c))
	ON_PATH(SYS_name_to_handle_at, a, b, name_to_handle_at(I(a), P(const char *, b), P(struct file_handle *, c), P(int *, d), I(e)))
	ON_PATH(SYS_execveat, a, b, execveat(I(a), P(const char *, b), P(char *const *, c), P(char *const *, d), I(e)))
	ON_PATH(SYS_getxattr, CWD, a, getxattr(P(const char *, a), P(const char *, b), P(void *, c), (size_t)d))
	ON_PATH(SYS_lgetxattr, CWD, a, lgetxattr(P(const char *, a), P(const char *, b), P(void *, c), (size_t)d))
	ON_PATH(SYS_setxattr, CWD, a, setxattr(P(const char *, a), P(const char *, b), P(const void *, c), (size_t)d, I(e)))
	ON_PATH(SYS_lsetxattr, CWD, a, lsetxattr(P(const char *, a), P(const char *, b), P(const void *, c), (size_t)d, I(e)))
	ON_PATH(SYS_listxattr, CWD, a, listxattr(P(const char *, a), P(char *, b), (size_t)c))
	ON_PATH(SYS_llistxattr, CWD, a, llistxattr(P(const char *, a), P(char *, b), (size_t)c))
	ON_PATH(SYS_removexattr, CWD, a, removexattr(P(const char *, a), P(const char *, b)))
	ON_PATH(SYS_lremovexattr, CWD, a, lremovexattr(P(const char *, a), P(const char *, b)))
	ON_PATH(SYS_truncate, CWD, a, truncate(P(const char *, a), b))
	ON_PATH(SYS_statfs, CWD, a, statfs(P(const char *, a), P(struct statfs *, b)))
	ON_PATH(SYS_execve, CWD, a, execve(P(const char *, a), P(char *const *, b), P(char *const *, c)))
	ON_TWO(SYS_renameat2, a, b, c, d, renameat2(I(a), P(const char *, b), I(c), P(const char *, d), (unsigned)e))
	ON_TWO(SYS_linkat, a, b, c, d, linkat(I(a), P(const char *, b), I(c), P(const char *, d), I(e)))
	case SYS_utimensat:
		if (b ? danaus_path(a, b) : danaus_fd(a))
			return utimensat_ours(I(a), P(const char *, b), P(const struct timespec *, c), I(d));
		break;
#ifdef SYS_renameat
	ON_TWO(SYS_renameat, a, b, c, d, renameat(I(a), P(const char *, b), I(c), P(const char *, d)))
#endif
	ON_PATH(SYS_fchmodat2, a, b, dn_fchmodat2(I(a), P(const char *, b), (mode_t)c, I(d)))
#ifdef SYS_open /* the calls 64-bit x86 keeps from before the *at ones */
	ON_FD(SYS_getdents, a, getdents_old(I(a), P(void *, b), (size_t)c))
	case SYS_dup2:
		if (danaus_fd(a) || danaus_fd(b) || (fd_in_range(b) && dn_is_internal_fd(I(b))))
			return dup2(I(a), I(b));
		break;
	ON_PATH(SYS_open, CWD, a, open(P(const char *, a), I(b), (mode_t)c))
	ON_PATH(SYS_creat, CWD, a, creat(P(const char *, a), (mode_t)b))
	ON_PATH(SYS_stat, CWD, a, stat(P(const char *, a), P(struct stat *, b)))
	ON_PATH(SYS_lstat, CWD, a, lstat(P(const char *, a), P(struct stat *, b)))
	ON_PATH(SYS_access, CWD, a, access(P(const char *, a), I(b)))
	ON_PATH(SYS_mkdir, CWD, a, mkdir(P(const char *, a), (mode_t)b))
	ON_PATH(SYS_mknod, CWD, a, mknod(P(const char *, a), (mode_t)b, (dev_t)c))
	ON_PATH(SYS_rmdir, CWD, a, rmdir(P(const char *, a)))
	ON_PATH(SYS_unlink, CWD, a, unlink(P(const char *, a)))
	ON_PATH(SYS_readlink, CWD, a, readlink(P(const char *, a), P(char *, b), (size_t)c))
	ON_PATH(SYS_chmod, CWD, a, chmod(P(const char *, a), (mode_t)b))
	ON_PATH(SYS_chown, CWD, a, chown(P(const char *, a), (uid_t)b, (gid_t)c))
	ON_PATH(SYS_lchown, CWD, a, lchown(P(const char *, a), (uid_t)b, (gid_t)c))
	ON_PATH(SYS_utime, CWD, a, utime(P(const char *, a), P(const struct utimbuf *, b)))
	ON_PATH(SYS_utimes, CWD, a, utimes(P(const char *, a), P(const struct timeval *, b)))
	ON_PATH(SYS_symlink, CWD, b, symlink(P(const char *, a), P(const char *, b)))
	ON_TWO(SYS_rename, CWD, a, CWD, b, rename(P(const char *, a), P(const char *, b)))
	ON_TWO(SYS_link, CWD, a, CWD, b, link(P(const char *, a), P(const char *, b)))
#endif
	/*
	 * Every chdir is the library's, wherever it leads: leaving a mount for
	 * a kernel directory must reset the cwd it keeps (cwd.c passes kernel
	 * paths and fds through to the kernel and notes where the cwd went).
	 */
	case SYS_chdir:
		return chdir(P(const char *, a));
	case SYS_fchdir:
		return fd_in_range(a) ? fchdir(I(a)) : REAL(syscall)(n, a);
	case SYS_getcwd:
		if (atomic_load(&dn_client.cwd_in_mount))
			return getcwd_ours(P(char *, a), (size_t)b);
		break;
	}
	long r = REAL(syscall)(n, a, b, c, d, e, f);
	if (r == 0 && identity_call(n)) {
		int saved = errno;
		dn_identity_changed();
		errno = saved;
	}
	return r;
}
