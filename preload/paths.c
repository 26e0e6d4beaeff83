/* Path Calls: open, stat, mkdir, unlink, rename... on paths under the Danaus mount */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "client.h"
#include "dn-errno.h"
#include "export.h"
#include "ops.h"
#include "real.h"
#include "route.h"


/* Routes (dirfd, path); for kernel paths the statement after it runs. */
#define ROUTE(dirfd, path, t)                                                                      \
	struct dn_target t;                                                                        \
	int route_ = dn_route((dirfd), (path), &t);                                                \
	if (route_ < 0)                                                                            \
		DN_RETURN(route_);                                                                 \
	if (route_ == 0)

static mode_t open_mode(int flags, va_list ap)
{
	return ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? (mode_t)va_arg(ap, int) : 0;
}

DN_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = open_mode(flags, ap);
	va_end(ap);
	ROUTE(dirfd, path, t)
	return REAL(openat)(dirfd, path, flags, mode);
	DN_RETURN(dn_op_open(&t, flags, mode));
}
DN_ALIAS(openat, openat64);

DN_EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = open_mode(flags, ap);
	va_end(ap);
	ROUTE(AT_FDCWD, path, t)
	return REAL(open)(path, flags, mode);
	DN_RETURN(dn_op_open(&t, flags, mode));
}
DN_ALIAS(open, open64);

DN_EXPORT int creat(const char *path, mode_t mode)
{
	return open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}
DN_ALIAS(creat, creat64);

/* _FORTIFY_SOURCE entry points: open without a mode argument. */
DN_EXPORT int __open_2(const char *path, int flags)
{
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		__chk_fail();
	return open(path, flags);
}
DN_ALIAS(__open_2, __open64_2);

DN_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		__chk_fail();
	return openat(dirfd, path, flags);
}
DN_ALIAS(__openat_2, __openat64_2);

DN_EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	if ((flags & AT_EMPTY_PATH) && !path[0] && dn_fdmap_get(dirfd) >= 0)
		DN_RETURN(dn_op_fstat(dirfd, st));
	ROUTE(dirfd, path, t)
	return REAL(fstatat)(dirfd, path, st, flags);
	DN_RETURN(dn_op_stat(&t, flags & AT_SYMLINK_NOFOLLOW, st));
}
DN_EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	return fstatat(dirfd, path, (struct stat *)st, flags);
}

DN_EXPORT int stat(const char *path, struct stat *st)
{
	return fstatat(AT_FDCWD, path, st, 0);
}
DN_EXPORT int stat64(const char *path, struct stat64 *st)
{
	return fstatat(AT_FDCWD, path, (struct stat *)st, 0);
}

DN_EXPORT int lstat(const char *path, struct stat *st)
{
	return fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}
DN_EXPORT int lstat64(const char *path, struct stat64 *st)
{
	return fstatat(AT_FDCWD, path, (struct stat *)st, AT_SYMLINK_NOFOLLOW);
}

/* Programs built against glibc < 2.33 call the versioned stat entry points. */
DN_EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return fstatat(AT_FDCWD, path, st, 0);
}
DN_EXPORT int __xstat64(int ver, const char *path, struct stat64 *st)
{
	(void)ver;
	return fstatat(AT_FDCWD, path, (struct stat *)st, 0);
}

DN_EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}
DN_EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st)
{
	(void)ver;
	return fstatat(AT_FDCWD, path, (struct stat *)st, AT_SYMLINK_NOFOLLOW);
}

DN_EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	(void)ver;
	return fstatat(dirfd, path, st, flags);
}
DN_EXPORT int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags)
{
	(void)ver;
	return fstatat(dirfd, path, (struct stat *)st, flags);
}

static void statx_from_stat(const struct stat *st, struct statx *sx)
{
	memset(sx, 0, sizeof(*sx));
	sx->stx_mask = STATX_BASIC_STATS;
	sx->stx_blksize = (uint32_t)st->st_blksize;
	sx->stx_nlink = (uint32_t)st->st_nlink;
	sx->stx_uid = st->st_uid;
	sx->stx_gid = st->st_gid;
	sx->stx_mode = (uint16_t)st->st_mode;
	sx->stx_ino = st->st_ino;
	sx->stx_size = (uint64_t)st->st_size;
	sx->stx_blocks = (uint64_t)st->st_blocks;
	sx->stx_atime = (struct statx_timestamp){st->st_atim.tv_sec, (uint32_t)st->st_atim.tv_nsec, 0};
	sx->stx_mtime = (struct statx_timestamp){st->st_mtim.tv_sec, (uint32_t)st->st_mtim.tv_nsec, 0};
	sx->stx_ctime = (struct statx_timestamp){st->st_ctim.tv_sec, (uint32_t)st->st_ctim.tv_nsec, 0};
	sx->stx_rdev_major = major(st->st_rdev);
	sx->stx_rdev_minor = minor(st->st_rdev);
	sx->stx_dev_major = major(st->st_dev);
	sx->stx_dev_minor = minor(st->st_dev);
}

DN_EXPORT int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *sx)
{
	struct stat st;
	int r;
	if ((flags & AT_EMPTY_PATH) && !path[0] && dn_fdmap_get(dirfd) >= 0) {
		r = dn_op_fstat(dirfd, &st);
	} else {
		ROUTE(dirfd, path, t)
		return REAL(statx)(dirfd, path, flags, mask, sx);
		r = dn_op_stat(&t, flags & AT_SYMLINK_NOFOLLOW, &st);
	}
	if (r < 0)
		DN_RETURN(r);
	statx_from_stat(&st, sx);
	return 0;
}

DN_EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
	ROUTE(dirfd, path, t)
	return REAL(faccessat)(dirfd, path, mode, flags);
	DN_RETURN(dn_op_path(DN_OP_ACCESS, &t, (uint32_t)mode,
			     (flags & AT_SYMLINK_NOFOLLOW) ? DN_AT_NOFOLLOW : 0, 0));
}

DN_EXPORT int access(const char *path, int mode)
{
	return faccessat(AT_FDCWD, path, mode, 0);
}

DN_EXPORT int euidaccess(const char *path, int mode)
{
	return faccessat(AT_FDCWD, path, mode, AT_EACCESS);
}
DN_ALIAS(euidaccess, eaccess);

DN_EXPORT int mkdirat(int dirfd, const char *path, mode_t mode)
{
	ROUTE(dirfd, path, t)
	return REAL(mkdirat)(dirfd, path, mode);
	DN_RETURN(dn_op_path(DN_OP_MKDIR, &t, mode, 0, 0));
}

DN_EXPORT int mkdir(const char *path, mode_t mode)
{
	return mkdirat(AT_FDCWD, path, mode);
}

DN_EXPORT int unlinkat(int dirfd, const char *path, int flags)
{
	ROUTE(dirfd, path, t)
	return REAL(unlinkat)(dirfd, path, flags);
	if (flags & ~AT_REMOVEDIR)
		DN_RETURN(-EINVAL);
	DN_RETURN(dn_op_path((flags & AT_REMOVEDIR) ? DN_OP_RMDIR : DN_OP_UNLINK, &t, 0, 0, 0));
}

DN_EXPORT int unlink(const char *path)
{
	return unlinkat(AT_FDCWD, path, 0);
}

DN_EXPORT int rmdir(const char *path)
{
	return unlinkat(AT_FDCWD, path, AT_REMOVEDIR);
}

DN_EXPORT int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
			unsigned flags)
{
	struct dn_target from, to;
	int a = dn_route(olddirfd, oldpath, &from);
	int b = dn_route(newdirfd, newpath, &to);
	if (a < 0)
		DN_RETURN(a);
	if (b < 0)
		DN_RETURN(b);
	if (a == 0 && b == 0)
		return REAL(renameat2)(olddirfd, oldpath, newdirfd, newpath, flags);
	if (a != b)
		DN_RETURN(-EXDEV); /* between a Danaus mount and the kernel's */
	DN_RETURN(dn_op_rename(&from, &to, flags));
}

DN_EXPORT int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	return renameat2(olddirfd, oldpath, newdirfd, newpath, 0);
}

DN_EXPORT int rename(const char *oldpath, const char *newpath)
{
	return renameat2(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

DN_EXPORT int truncate(const char *path, off_t len)
{
	ROUTE(AT_FDCWD, path, t)
	return REAL(truncate)(path, len);
	if (len < 0)
		DN_RETURN(-EINVAL);
	DN_RETURN(dn_op_path(DN_OP_TRUNCATE, &t, 0, 0, (uint64_t)len));
}
DN_ALIAS(truncate, truncate64);

DN_EXPORT int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	ROUTE(dirfd, path, t)
	return REAL(fchmodat)(dirfd, path, mode, flags);
	if (flags & AT_SYMLINK_NOFOLLOW)
		DN_RETURN(-ENOTSUP); /* as Linux: symlinks have no mode of their own */
	DN_RETURN(dn_op_path(DN_OP_CHMOD, &t, mode, 0, 0));
}

DN_EXPORT int chmod(const char *path, mode_t mode)
{
	return fchmodat(AT_FDCWD, path, mode, 0);
}

DN_EXPORT ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size)
{
	ROUTE(dirfd, path, t)
	return REAL(readlinkat)(dirfd, path, buf, size);
	DN_RETURN(dn_op_readlink(&t, buf, size));
}

DN_EXPORT ssize_t readlink(const char *path, char *buf, size_t size)
{
	return readlinkat(AT_FDCWD, path, buf, size);
}

/* Extended attributes are not served yet: the answer of a filesystem without them. */
static bool danaus_path(const char *path)
{
	struct dn_target t;
	return dn_route(AT_FDCWD, path, &t) == 1;
}

DN_EXPORT ssize_t getxattr(const char *path, const char *name, void *value, size_t size)
{
	if (!danaus_path(path))
		return REAL(getxattr)(path, name, value, size);
	DN_RETURN(-ENOTSUP);
}

DN_EXPORT ssize_t lgetxattr(const char *path, const char *name, void *value, size_t size)
{
	if (!danaus_path(path))
		return REAL(lgetxattr)(path, name, value, size);
	DN_RETURN(-ENOTSUP);
}

DN_EXPORT ssize_t listxattr(const char *path, char *list, size_t size)
{
	if (!danaus_path(path))
		return REAL(listxattr)(path, list, size);
	DN_RETURN(-ENOTSUP);
}

DN_EXPORT ssize_t llistxattr(const char *path, char *list, size_t size)
{
	if (!danaus_path(path))
		return REAL(llistxattr)(path, list, size);
	DN_RETURN(-ENOTSUP);
}
