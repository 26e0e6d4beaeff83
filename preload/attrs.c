/* Attribute Calls: timestamps and ownership (utimensat, futimens, chown...) */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

#include "client.h"
#include "dn-errno.h"
#include "export.h"
#include "ops.h"
#include "real.h"
#include "route.h"

/* Linux: a NULL path means the file dirfd itself (futimens); glibc's prototype forbids it. */
static int utimens_at(int dirfd, const char *path, const struct timespec times[2], int flags)
{
	if (!path) {
		if (dn_fdmap_get(dirfd) < 0)
			return REAL(utimensat)(dirfd, path, times, flags);
		DN_RETURN(dn_op_utimens(NULL, dirfd, times, false));
	}
	if ((flags & AT_EMPTY_PATH) && !path[0] && dn_fdmap_get(dirfd) >= 0)
		DN_RETURN(dn_op_utimens(NULL, dirfd, times, false));
	struct dn_target t;
	int r = dn_route(dirfd, path, &t);
	if (r == 0)
		return REAL(utimensat)(dirfd, path, times, flags);
	if (r < 0)
		DN_RETURN(r);
	DN_RETURN(dn_op_utimens(&t, -1, times, flags & AT_SYMLINK_NOFOLLOW));
}

DN_EXPORT int utimensat(int dirfd, const char *path, const struct timespec times[2], int flags)
{
	return utimens_at(dirfd, path, times, flags);
}

DN_EXPORT int futimens(int fd, const struct timespec times[2])
{
	return utimens_at(fd, NULL, times, 0);
}

static const struct timespec *from_timeval(const struct timeval tv[2], struct timespec ts[2])
{
	if (!tv)
		return NULL;
	for (int i = 0; i < 2; i++)
		ts[i] = (struct timespec){tv[i].tv_sec, tv[i].tv_usec * 1000};
	return ts;
}

DN_EXPORT int utimes(const char *path, const struct timeval tv[2])
{
	struct timespec ts[2];
	return utimensat(AT_FDCWD, path, from_timeval(tv, ts), 0);
}

DN_EXPORT int lutimes(const char *path, const struct timeval tv[2])
{
	struct timespec ts[2];
	return utimensat(AT_FDCWD, path, from_timeval(tv, ts), AT_SYMLINK_NOFOLLOW);
}

DN_EXPORT int futimes(int fd, const struct timeval tv[2])
{
	struct timespec ts[2];
	return utimens_at(fd, NULL, from_timeval(tv, ts), 0);
}

DN_EXPORT int futimesat(int dirfd, const char *path, const struct timeval tv[2])
{
	struct timespec ts[2];
	return utimensat(dirfd, path, from_timeval(tv, ts), 0);
}

DN_EXPORT int utime(const char *path, const struct utimbuf *b)
{
	struct timespec ts[2] = {{b ? b->actime : 0, 0}, {b ? b->modtime : 0, 0}};
	return utimensat(AT_FDCWD, path, b ? ts : NULL, 0);
}

DN_EXPORT int fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
	if ((flags & AT_EMPTY_PATH) && !path[0] && dn_fdmap_get(dirfd) >= 0)
		DN_RETURN(dn_op_chown(NULL, dirfd, uid, gid, false));
	struct dn_target t;
	int r = dn_route(dirfd, path, &t);
	if (r == 0)
		return REAL(fchownat)(dirfd, path, uid, gid, flags);
	if (r < 0)
		DN_RETURN(r);
	DN_RETURN(dn_op_chown(&t, -1, uid, gid, flags & AT_SYMLINK_NOFOLLOW));
}

DN_EXPORT int chown(const char *path, uid_t uid, gid_t gid)
{
	return fchownat(AT_FDCWD, path, uid, gid, 0);
}

DN_EXPORT int lchown(const char *path, uid_t uid, gid_t gid)
{
	return fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW);
}

DN_EXPORT int fchown(int fd, uid_t uid, gid_t gid)
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(fchown)(fd, uid, gid);
	DN_RETURN(dn_op_chown(NULL, fd, uid, gid, false));
}

/* Extended attributes: of a path (l*: the symlink itself), or of a Danaus fd. */
static ssize_t xattr_path(uint32_t op, const char *path, bool nofollow, const char *name,
			  const void *in, size_t inlen, void *out, size_t outlen, int flags,
			  int *routed)
{
	struct dn_target t;
	int r = dn_route(AT_FDCWD, path, &t);
	*routed = r;
	if (r <= 0)
		return r;
	return dn_op_pathfd(op, &t, -1, nofollow, name, in, inlen, out, outlen, (uint32_t)flags);
}

#define XATTR_PATH_CALL(real_call, op, nofollow, name, in, inlen, out, outlen, flags)              \
	int routed;                                                                                \
	ssize_t r = xattr_path(op, path, nofollow, name, in, inlen, out, outlen, flags, &routed);  \
	if (routed == 0)                                                                           \
		return real_call;                                                                  \
	DN_RETURN(r)

DN_EXPORT ssize_t getxattr(const char *path, const char *name, void *value, size_t size)
{
	XATTR_PATH_CALL(REAL(getxattr)(path, name, value, size), DN_OP_GETXATTR, false, name, NULL,
			0, value, size, 0);
}

DN_EXPORT ssize_t lgetxattr(const char *path, const char *name, void *value, size_t size)
{
	XATTR_PATH_CALL(REAL(lgetxattr)(path, name, value, size), DN_OP_GETXATTR, true, name,
			NULL, 0, value, size, 0);
}

DN_EXPORT ssize_t listxattr(const char *path, char *list, size_t size)
{
	XATTR_PATH_CALL(REAL(listxattr)(path, list, size), DN_OP_LISTXATTR, false, NULL, NULL, 0,
			list, size, 0);
}

DN_EXPORT ssize_t llistxattr(const char *path, char *list, size_t size)
{
	XATTR_PATH_CALL(REAL(llistxattr)(path, list, size), DN_OP_LISTXATTR, true, NULL, NULL, 0,
			list, size, 0);
}

DN_EXPORT int setxattr(const char *path, const char *name, const void *value, size_t size,
		       int flags)
{
	XATTR_PATH_CALL(REAL(setxattr)(path, name, value, size, flags), DN_OP_SETXATTR, false,
			name, value, size, NULL, 0, flags);
}

DN_EXPORT int lsetxattr(const char *path, const char *name, const void *value, size_t size,
			int flags)
{
	XATTR_PATH_CALL(REAL(lsetxattr)(path, name, value, size, flags), DN_OP_SETXATTR, true,
			name, value, size, NULL, 0, flags);
}

DN_EXPORT int removexattr(const char *path, const char *name)
{
	XATTR_PATH_CALL(REAL(removexattr)(path, name), DN_OP_REMOVEXATTR, false, name, NULL, 0,
			NULL, 0, 0);
}

DN_EXPORT int lremovexattr(const char *path, const char *name)
{
	XATTR_PATH_CALL(REAL(lremovexattr)(path, name), DN_OP_REMOVEXATTR, true, name, NULL, 0,
			NULL, 0, 0);
}

DN_EXPORT ssize_t fgetxattr(int fd, const char *name, void *value, size_t size)
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(fgetxattr)(fd, name, value, size);
	DN_RETURN(dn_op_pathfd(DN_OP_GETXATTR, NULL, fd, false, name, NULL, 0, value, size, 0));
}

DN_EXPORT ssize_t flistxattr(int fd, char *list, size_t size)
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(flistxattr)(fd, list, size);
	DN_RETURN(dn_op_pathfd(DN_OP_LISTXATTR, NULL, fd, false, NULL, NULL, 0, list, size, 0));
}

DN_EXPORT int fsetxattr(int fd, const char *name, const void *value, size_t size, int flags)
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(fsetxattr)(fd, name, value, size, flags);
	DN_RETURN(dn_op_pathfd(DN_OP_SETXATTR, NULL, fd, false, name, value, size, NULL, 0,
			       (uint32_t)flags));
}

DN_EXPORT int fremovexattr(int fd, const char *name)
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(fremovexattr)(fd, name);
	DN_RETURN(dn_op_pathfd(DN_OP_REMOVEXATTR, NULL, fd, false, name, NULL, 0, NULL, 0, 0));
}
