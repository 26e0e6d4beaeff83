/* Attribute Calls: timestamps and ownership (utimensat, futimens, chown...) */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>
#include <linux/limits.h>

#include "client.h"
#include "dn-errno.h"
#include "export.h"
#include "fault.h"
#include "ops.h"
#include "real.h"
#include "route.h"

/* An empty path with AT_EMPTY_PATH on a Danaus fd: the fd itself. */
static bool at_self(int dirfd, const char *path, int flags)
{
	char c;
	return (flags & AT_EMPTY_PATH) && dn_fdmap_get(dirfd) >= 0 &&
	       dn_fault_copy_in(&c, path, 1) == 0 && c == 0;
}

/* The caller's times (NULL: now), read first of all as the kernel does. */
static int utimens_ours(const struct dn_target *t, int fd, const struct timespec times[2],
			bool nofollow)
{
	struct timespec ts[2];
	if (times && dn_fault_copy_in(ts, times, sizeof(ts)) < 0)
		return -EFAULT;
	return dn_op_utimens(t, fd, times ? ts : NULL, nofollow);
}

/*
 * An O_PATH description with AT_EMPTY_PATH: the kernel acts on its file,
 * which the pool reaches by name only (its own descriptor is O_PATH too).
 */
static bool o_path(int fd)
{
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	return o && (o->oflags & O_PATH);
}

DN_EXPORT int utimensat(int dirfd, const char *path_, const struct timespec times[2], int flags)
{
	const char *path = dn_fault_opaque(path_);
	/* glibc refuses a NULL path (EINVAL); the kernel's NULL is futimens */
	if (path && at_self(dirfd, path, flags) && o_path(dirfd)) {
		struct dn_target t;
		bool nofollow;
		int r = dn_route_self(dirfd, &t, &nofollow);
		DN_RETURN(r < 0 ? r : utimens_ours(&t, -1, times, nofollow));
	}
	if (path && at_self(dirfd, path, flags))
		DN_RETURN(utimens_ours(NULL, dirfd, times, false));
	if (path)
		path = dn_route_empty_cwd(dirfd, path, flags);
	char next[PATH_MAX];
	for (int hops = 0;; hops++) {
		struct dn_target t;
		int r = path ? dn_route(dirfd, path, &t) : 0;
		if (r == 0) {
			int kr = REAL(utimensat)(dirfd, path, times, flags);
			if (kr == 0 || !path || !dn_route_after(dirfd, path, &t))
				return kr;
			r = 1; /* a host symlink on the way leads into a mount */
		}
		struct timespec ts[2];
		if (times && dn_fault_copy_in(ts, times, sizeof(ts)) < 0)
			DN_RETURN(-EFAULT);
		if (r < 0)
			DN_RETURN(r);
		t.redirect = true; /* an absolute symlink goes on from the process's root */
		r = dn_op_utimens(&t, -1, times ? ts : NULL, flags & AT_SYMLINK_NOFOLLOW);
		if (r != -DN_OP_REDIRECTED)
			DN_RETURN(r);
		if (!dn_op_redirect_follow(&path, next, hops))
			DN_RETURN(-ELOOP);
		dirfd = AT_FDCWD;
	}
}

DN_EXPORT int futimens(int fd, const struct timespec times[2])
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(futimens)(fd, times);
	DN_RETURN(utimens_ours(NULL, fd, times, false));
}

/*
 * glibc reads a timeval pair itself before any system call (a bad one
 * kills the program there, with or without us); for Danaus files it is
 * read under a guard. t NULL: Danaus fd.
 */
static int utimes_ours(const struct dn_target *t, int fd, const struct timeval tv[2],
		       bool nofollow)
{
	struct timeval v[2];
	struct timespec ts[2];
	if (tv) {
		if (dn_fault_copy_in(v, tv, sizeof(v)) < 0)
			return -EFAULT;
		for (int i = 0; i < 2; i++)
			ts[i] = (struct timespec){v[i].tv_sec, v[i].tv_usec * 1000};
	}
	return dn_op_utimens(t, fd, tv ? ts : NULL, nofollow);
}

DN_EXPORT int utimes(const char *path, const struct timeval tv[2])
{
	struct dn_target t;
	int r = dn_route(AT_FDCWD, path, &t);
	if (r == 0) {
		int kr = REAL(utimes)(path, tv);
		if (kr == 0 || !dn_route_after(AT_FDCWD, path, &t))
			return kr;
		r = 1; /* a host symlink on the way leads into a mount */
	}
	DN_RETURN(r < 0 ? r : utimes_ours(&t, -1, tv, false));
}

DN_EXPORT int lutimes(const char *path, const struct timeval tv[2])
{
	struct dn_target t;
	int r = dn_route(AT_FDCWD, path, &t);
	if (r == 0) {
		int kr = REAL(lutimes)(path, tv);
		if (kr == 0 || !dn_route_after(AT_FDCWD, path, &t))
			return kr;
		r = 1; /* a host symlink on the way leads into a mount */
	}
	DN_RETURN(r < 0 ? r : utimes_ours(&t, -1, tv, true));
}

DN_EXPORT int futimes(int fd, const struct timeval tv[2])
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(futimes)(fd, tv);
	DN_RETURN(utimes_ours(NULL, fd, tv, false));
}

DN_EXPORT int futimesat(int dirfd, const char *path_, const struct timeval tv[2])
{
	const char *path = dn_fault_opaque(path_);
	if (!path) { /* glibc passes it on: the kernel's futimens */
		if (dn_fdmap_get(dirfd) < 0)
			return REAL(futimesat)(dirfd, path, tv);
		DN_RETURN(utimes_ours(NULL, dirfd, tv, false));
	}
	struct dn_target t;
	int r = dn_route(dirfd, path, &t);
	if (r == 0) {
		int kr = REAL(futimesat)(dirfd, path, tv);
		if (kr == 0 || !dn_route_after(dirfd, path, &t))
			return kr;
		r = 1;
	}
	DN_RETURN(r < 0 ? r : utimes_ours(&t, -1, tv, false));
}

DN_EXPORT int utime(const char *path, const struct utimbuf *b)
{
	struct dn_target t;
	int r = dn_route(AT_FDCWD, path, &t);
	if (r == 0) {
		int kr = REAL(utime)(path, b);
		if (kr == 0 || !dn_route_after(AT_FDCWD, path, &t))
			return kr;
		r = 1;
	}
	if (r < 0)
		DN_RETURN(r);
	struct utimbuf u;
	if (b && dn_fault_copy_in(&u, b, sizeof(u)) < 0)
		DN_RETURN(-EFAULT);
	struct timespec ts[2] = {{b ? u.actime : 0, 0}, {b ? u.modtime : 0, 0}};
	DN_RETURN(dn_op_utimens(&t, -1, b ? ts : NULL, false));
}

DN_EXPORT int fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
	if (at_self(dirfd, path, flags) && o_path(dirfd)) {
		struct dn_target t;
		bool nofollow;
		int r = dn_route_self(dirfd, &t, &nofollow);
		DN_RETURN(r < 0 ? r : dn_op_chown(&t, -1, uid, gid, nofollow));
	}
	if (at_self(dirfd, path, flags))
		DN_RETURN(dn_op_chown(NULL, dirfd, uid, gid, false));
	path = dn_route_empty_cwd(dirfd, path, flags);
	char next[PATH_MAX];
	for (int hops = 0;; hops++) {
		struct dn_target t;
		int r = dn_route(dirfd, path, &t);
		if (r == 0) {
			int kr = REAL(fchownat)(dirfd, path, uid, gid, flags);
			if (kr == 0 || !dn_route_after(dirfd, path, &t))
				return kr;
			r = 1; /* a host symlink on the way leads into a mount */
		}
		if (r < 0)
			DN_RETURN(r);
		t.redirect = true; /* an absolute symlink goes on from the process's root */
		r = dn_op_chown(&t, -1, uid, gid, flags & AT_SYMLINK_NOFOLLOW);
		if (r != -DN_OP_REDIRECTED)
			DN_RETURN(r);
		if (!dn_op_redirect_follow(&path, next, hops))
			DN_RETURN(-ELOOP);
		dirfd = AT_FDCWD;
	}
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

/*
 * Extended attributes: of a path (l*: the symlink itself), or of a Danaus
 * fd (t NULL). As the kernel (6.13 and later): the name, and a value to
 * set, are taken in before anything else; a value read lands in the
 * caller's buffer last, and only the bytes the answer has.
 */
static ssize_t xattr_ours(uint32_t op, const struct dn_target *t, int fd, bool nofollow,
			  const char *name, const void *in, size_t inlen, void *out, size_t outlen,
			  int flags)
{
	char kname[XATTR_NAME_MAX + 1];
	if (op != DN_OP_LISTXATTR) {
		long n = dn_fault_strcpy_in(kname, name, sizeof(kname));
		if (n == -ENAMETOOLONG || n == 0)
			return -ERANGE;
		if (n < 0)
			return n;
	}
	if (op == DN_OP_SETXATTR) {
		if (inlen > XATTR_SIZE_MAX)
			return -E2BIG;
		if (dn_fault_readable(in, inlen) < 0)
			return -EFAULT;
	}
	const char *nm = op == DN_OP_LISTXATTR ? NULL : kname;
	if (!outlen || dn_fault_writable(out, outlen) == 0)
		return dn_op_pathfd(op, t, fd, nofollow, nm, in, inlen, out, outlen, (uint32_t)flags);
	/* a buffer we cannot write: the answer goes to ours, then what of it fits */
	size_t cap = outlen < XATTR_SIZE_MAX ? outlen : XATTR_SIZE_MAX;
	void *scratch = malloc(cap);
	if (!scratch)
		return -ENOMEM;
	ssize_t r = dn_op_pathfd(op, t, fd, nofollow, nm, in, inlen, scratch, cap, (uint32_t)flags);
	if (r > 0 && dn_fault_copy_out(out, scratch, (size_t)r) < 0)
		r = -EFAULT;
	free(scratch);
	return r;
}

/*
 * An xattr call on *path: the pool's answer, with *routed 1; or *routed 0
 * when the path is the kernel's, *path then being where an absolute symlink
 * met in a pool led (next holds it).
 */
static ssize_t xattr_path(uint32_t op, const char **path, char next[PATH_MAX], bool nofollow,
			  const char *name, const void *in, size_t inlen, void *out, size_t outlen,
			  int flags, int *routed, const struct dn_target *linked)
{
	for (int hops = 0;; hops++) {
		struct dn_target t;
		int r = 1;
		if (linked && !hops)
			t = *linked; /* where a host symlink on the way led */
		else
			r = dn_route(AT_FDCWD, *path, &t);
		*routed = r;
		if (r <= 0)
			return r;
		t.redirect = true;
		ssize_t n = xattr_ours(op, &t, -1, nofollow, name, in, inlen, out, outlen, flags);
		/* the top of an instance refused to the caller: its placeholder's, as dn_op_stat */
		if (n == -EACCES && !t.handle && strcmp(t.path, "/") == 0 &&
		    (op == DN_OP_GETXATTR || op == DN_OP_LISTXATTR)) {
			*routed = 0;
			return 0;
		}
		if (n != -DN_OP_REDIRECTED)
			return n;
		if (!dn_op_redirect_follow(path, next, hops))
			return -ELOOP;
	}
}

/* The kernel's answer for its paths, unless a host symlink on the way leads into a mount. */
#define XATTR_PATH_CALL(real_call, op, nofollow, name, in, inlen, out, outlen, flags)              \
	int routed;                                                                                \
	char next_[PATH_MAX];                                                                      \
	ssize_t r = xattr_path(op, &path, next_, nofollow, name, in, inlen, out, outlen, flags,    \
			       &routed, NULL);                                                     \
	if (routed == 0) {                                                                         \
		struct dn_target t_;                                                               \
		ssize_t kr_ = real_call;                                                           \
		if (kr_ >= 0 || !dn_route_after(AT_FDCWD, path, &t_))                              \
			return kr_;                                                                \
		t_.redirect = true;                                                                \
		r = xattr_path(op, &path, next_, nofollow, name, in, inlen, out, outlen, flags,    \
			       &routed, &t_);                                                      \
		if (routed == 0)                                                                   \
			return real_call;                                                          \
	}                                                                                          \
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
	DN_RETURN(xattr_ours(DN_OP_GETXATTR, NULL, fd, false, name, NULL, 0, value, size, 0));
}

DN_EXPORT ssize_t flistxattr(int fd, char *list, size_t size)
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(flistxattr)(fd, list, size);
	DN_RETURN(xattr_ours(DN_OP_LISTXATTR, NULL, fd, false, NULL, NULL, 0, list, size, 0));
}

DN_EXPORT int fsetxattr(int fd, const char *name, const void *value, size_t size, int flags)
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(fsetxattr)(fd, name, value, size, flags);
	DN_RETURN(xattr_ours(DN_OP_SETXATTR, NULL, fd, false, name, value, size, NULL, 0, flags));
}

DN_EXPORT int fremovexattr(int fd, const char *name)
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(fremovexattr)(fd, name);
	DN_RETURN(xattr_ours(DN_OP_REMOVEXATTR, NULL, fd, false, name, NULL, 0, NULL, 0, 0));
}
