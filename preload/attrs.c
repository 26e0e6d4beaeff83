/* Attribute Calls: timestamps and ownership (utimensat, futimens, chown...) */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/time.h>
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
