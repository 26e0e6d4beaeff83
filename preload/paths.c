/* Path Calls: open, stat, mkdir, unlink, rename... on paths under the Danaus mount */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "client.h"
#include "dn-errno.h"
#include "export.h"
#include "fault.h"
#include "path.h"
#include "paths.h"
#include "proc-files.h"
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

/*
 * For a kernel path: the kernel's answer, unless that is ENOENT or EACCES
 * because a host symlink on the way leads into a mount; then t names the
 * file there and what follows runs (route.h, dn_route_host_link).
 */
#define KERNEL_OR_LINK(dirfd, path, t, call)                                                       \
	do {                                                                                       \
		__typeof__(call) kr_ = (call);                                                     \
		if (kr_ >= 0 || !dn_route_after((dirfd), (path), &(t)))                            \
			return kr_;                                                                \
	} while (0)

/* The same for a stat: found, it may be a mountpoint's placeholder reached by a link. */
#define KERNEL_STAT_OR_LINK(dirfd, path, t, call, st)                                              \
	do {                                                                                       \
		int kr_ = (call);                                                                  \
		if (kr_ == 0 ? !dn_route_placeholder((dirfd), (path), (st), &(t))                  \
			     : !dn_route_after((dirfd), (path), &(t)))                             \
			return kr_;                                                                \
	} while (0)

/*
 * The calls that follow an absolute symlink met in a pool as the kernel
 * does, from the process's root (ops.h, DN_OP_REDIRECTED): each asks again
 * with the path the pool answered, which is the host's or a mount's and
 * absolute; next holds it; false after too many (the kernel's ELOOP).
 */
static bool redirected(int *dirfd, const char **path, char next[PATH_MAX], int hops)
{
	*dirfd = AT_FDCWD;
	return dn_op_redirect_follow(path, next, hops);
}

/* After a pool call's answer r: return it, or go round again where an absolute symlink led. */
#define RETURN_UNLESS_REDIRECTED(r, dirfd, path, next, hops)                                       \
	do {                                                                                       \
		if ((r) != -DN_OP_REDIRECTED)                                                      \
			DN_RETURN(r);                                                              \
		if (!redirected(&(dirfd), &(path), next, hops))                                    \
			DN_RETURN(-ELOOP);                                                         \
	} while (0)

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
	char next[PATH_MAX];
	for (int hops = 0;; hops++) {
		ROUTE(dirfd, path, t)
		if (!(flags & O_CREAT) || !dn_route_create(dirfd, path, &t))
			KERNEL_OR_LINK(dirfd, path, t,
				       dn_proc_opened(REAL(openat)(dirfd, path, flags, mode), path, flags));
		t.redirect = true;
		int r = dn_op_open(&t, flags, mode);
		if (r != -DN_OP_REDIRECTED)
			DN_RETURN(r);
		if (!redirected(&dirfd, &path, next, hops))
			DN_RETURN(-ELOOP);
	}
}
DN_ALIAS(openat, openat64);

DN_EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = open_mode(flags, ap);
	va_end(ap);
	return openat(AT_FDCWD, path, flags, mode);
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

/*
 * AT_EMPTY_PATH on a Danaus fd: does path name the fd itself? An empty
 * string does; NULL does on Linux >= 6.11 and is EFAULT before, so the
 * kernel is asked on our placeholder (a stat that writes only ours).
 */
static bool at_self(int dirfd, const char *path, int flags)
{
	if (!(flags & AT_EMPTY_PATH) || dn_fdmap_get(dirfd) < 0)
		return false;
	char c;
	if (dn_fault_copy_in(&c, path, 1) == 0)
		return c == 0;
	struct stat st;
	return !dn_fault_opaque(path) && REAL(fstatat)(dirfd, NULL, &st, AT_EMPTY_PATH) == 0;
}

/* Results go to the caller's memory last, as the kernel's copy_to_user does. */
static int put(void *dst, const void *src, size_t n, int r)
{
	return r < 0 ? r : dn_fault_copy_out(dst, src, n);
}

/* lstat of /proc/self/fd/N of a Danaus fd: the kernel's magic link itself, as without us */
static bool own_link_itself(const char *path, int flags)
{
	char own[PATH_MAX];
	return (flags & AT_SYMLINK_NOFOLLOW) && dn_route_own_link(path, own, sizeof(own)) != 0;
}

DN_EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	struct stat s;
	if (at_self(dirfd, path, flags))
		DN_RETURN(put(st, &s, sizeof(s), dn_op_fstat(dirfd, &s)));
	char next[PATH_MAX];
	if (own_link_itself(path, flags))
		return REAL(fstatat)(dirfd, path, st, flags);
	path = dn_route_empty_cwd(dirfd, path, flags);
	for (int hops = 0;; hops++) {
		ROUTE(dirfd, path, t)
		KERNEL_STAT_OR_LINK(dirfd, path, t, REAL(fstatat)(dirfd, path, st, flags), st);
		t.redirect = true;
		int r = dn_op_stat(&t, flags & AT_SYMLINK_NOFOLLOW, &s);
		if (r != -DN_OP_REDIRECTED)
			DN_RETURN(put(st, &s, sizeof(s), r));
		if (!redirected(&dirfd, &path, next, hops))
			DN_RETURN(-ELOOP);
	}
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

static void statx_from_stat(const struct stat *st, struct statx *sx, unsigned mask)
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
	/* the backend's filesystem's birth time (given when asked, as ext4's) and attributes */
	struct dn_stat m;
	if (!dn_stat_more(st, &m))
		return;
	if ((m.more & DN_STAT_BTIME) && (mask & STATX_BTIME)) {
		sx->stx_mask |= STATX_BTIME;
		sx->stx_btime = (struct statx_timestamp){m.btime_sec, m.btime_nsec, 0};
	}
	if (m.more & DN_STAT_ATTRS) {
		sx->stx_attributes = m.attributes;
		sx->stx_attributes_mask = m.attributes_mask;
	}
}

/* The file a statx the kernel filled names, as dn_route_placeholder reads it. */
static struct stat *statx_ids(const struct statx *sx, struct stat *st)
{
	st->st_dev = makedev(sx->stx_dev_major, sx->stx_dev_minor);
	st->st_ino = sx->stx_ino;
	return st;
}

DN_EXPORT int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *sx)
{
	struct stat st, ids;
	int r;
	char next[PATH_MAX];
	if (own_link_itself(path, flags))
		return REAL(statx)(dirfd, path, flags, mask, sx);
	/* do_statx and vfs_statx: the flags and the mask, after the name is read */
	bool bad = (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH |
			      AT_STATX_SYNC_TYPE)) ||
		   (flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE || (mask & STATX__RESERVED);
	if (at_self(dirfd, path, flags)) {
		if (bad)
			DN_RETURN(-EINVAL);
		r = dn_op_fstat(dirfd, &st);
	} else {
		path = dn_route_empty_cwd(dirfd, path, flags);
		for (int hops = 0;; hops++) {
			ROUTE(dirfd, path, t)
			KERNEL_STAT_OR_LINK(dirfd, path, t, REAL(statx)(dirfd, path, flags, mask, sx),
					    statx_ids(sx, &ids));
			if (bad)
				DN_RETURN(-EINVAL);
			t.redirect = true;
			/* a forced sync asks the pool, as FUSE and CephFS ask for fresh attributes */
			r = (flags & AT_STATX_SYNC_TYPE) == AT_STATX_FORCE_SYNC
				    ? dn_op_stat_fresh(&t, flags & AT_SYMLINK_NOFOLLOW, &st)
				    : dn_op_stat(&t, flags & AT_SYMLINK_NOFOLLOW, &st);
			if (r != -DN_OP_REDIRECTED)
				break;
			if (!redirected(&dirfd, &path, next, hops))
				DN_RETURN(-ELOOP);
		}
	}
	struct statx x;
	if (r == 0)
		statx_from_stat(&st, &x, mask);
	DN_RETURN(put(sx, &x, sizeof(x), r));
}

DN_EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
	char next[PATH_MAX];
	if (at_self(dirfd, path, flags)) {
		/* the fd's own file: the pool checks access by name */
		struct dn_target t;
		bool nofollow;
		int r = dn_route_self(dirfd, &t, &nofollow);
		if (r == 0 && (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)))
			r = -EINVAL;
		if (r == 0)
			r = dn_op_path(DN_OP_ACCESS, &t, (uint32_t)mode,
				       (nofollow ? DN_AT_NOFOLLOW : 0) |
					       ((flags & AT_EACCESS) ? DN_AT_EACCESS : 0),
				       0);
		DN_RETURN(r == -DN_OP_REDIRECTED ? -ELOOP : r);
	}
	path = dn_route_empty_cwd(dirfd, path, flags);
	for (int hops = 0;; hops++) {
		ROUTE(dirfd, path, t)
		KERNEL_OR_LINK(dirfd, path, t, REAL(faccessat)(dirfd, path, mode, flags));
		if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
			DN_RETURN(-EINVAL); /* as faccessat2(2), before the mode */
		t.redirect = true;
		int r = dn_op_path(DN_OP_ACCESS, &t, (uint32_t)mode,
				   ((flags & AT_SYMLINK_NOFOLLOW) ? DN_AT_NOFOLLOW : 0) |
					   ((flags & AT_EACCESS) ? DN_AT_EACCESS : 0),
				   0);
		if (r != -DN_OP_REDIRECTED)
			DN_RETURN(r);
		if (!redirected(&dirfd, &path, next, hops))
			DN_RETURN(-ELOOP);
	}
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
	char next[PATH_MAX];
	for (int hops = 0;; hops++) {
		ROUTE(dirfd, path, t)
		if (!dn_route_create(dirfd, path, &t))
			KERNEL_OR_LINK(dirfd, path, t, REAL(mkdirat)(dirfd, path, mode));
		t.redirect = true;
		int r = dn_op_path(DN_OP_MKDIR, &t, mode, 0, 0);
		RETURN_UNLESS_REDIRECTED(r, dirfd, path, next, hops);
	}
}

DN_EXPORT int mkdir(const char *path, mode_t mode)
{
	return mkdirat(AT_FDCWD, path, mode);
}

DN_EXPORT int mknodat(int dirfd, const char *path, mode_t mode, dev_t dev)
{
	char next[PATH_MAX];
	for (int hops = 0;; hops++) {
		ROUTE(dirfd, path, t)
		if (!dn_route_create(dirfd, path, &t))
			KERNEL_OR_LINK(dirfd, path, t, REAL(mknodat)(dirfd, path, mode, dev));
		/* may_mknod, before any lookup: no type is a regular file, a directory EPERM */
		switch (mode & S_IFMT) {
		case 0:
			mode |= S_IFREG;
			break;
		case S_IFDIR:
			DN_RETURN(-EPERM);
		case S_IFREG: case S_IFCHR: case S_IFBLK: case S_IFIFO: case S_IFSOCK:
			break;
		default:
			DN_RETURN(-EINVAL);
		}
		/* the umask goes along (dn_op_path): the pool applies it as the kernel does */
		t.redirect = true;
		int r = dn_op_path(DN_OP_MKNOD, &t, mode, 0, (uint64_t)dev);
		RETURN_UNLESS_REDIRECTED(r, dirfd, path, next, hops);
	}
}

DN_EXPORT int mknod(const char *path, mode_t mode, dev_t dev)
{
	return mknodat(AT_FDCWD, path, mode, dev);
}

DN_EXPORT int mkfifoat(int dirfd, const char *path, mode_t mode)
{
	return mknodat(dirfd, path, (mode & 07777) | S_IFIFO, 0);
}

DN_EXPORT int mkfifo(const char *path, mode_t mode)
{
	return mknodat(AT_FDCWD, path, (mode & 07777) | S_IFIFO, 0);
}

DN_EXPORT int unlinkat(int dirfd, const char *path, int flags)
{
	char next[PATH_MAX];
	for (int hops = 0;; hops++) {
		ROUTE(dirfd, path, t)
		KERNEL_OR_LINK(dirfd, path, t, REAL(unlinkat)(dirfd, path, flags));
		if (flags & ~AT_REMOVEDIR)
			DN_RETURN(-EINVAL);
		t.redirect = true;
		int r = dn_op_path((flags & AT_REMOVEDIR) ? DN_OP_RMDIR : DN_OP_UNLINK, &t, 0, 0, 0);
		RETURN_UNLESS_REDIRECTED(r, dirfd, path, next, hops);
	}
}

DN_EXPORT int unlink(const char *path)
{
	return unlinkat(AT_FDCWD, path, 0);
}

DN_EXPORT int rmdir(const char *path)
{
	return unlinkat(AT_FDCWD, path, AT_REMOVEDIR);
}

/*
 * Routes the two paths of rename and link: 1 when both name Danaus files, 0
 * when both are the kernel's (or the old one cannot be read: the kernel
 * answers EFAULT before it looks at either), else -errno (-EXDEV for one of
 * each).
 */
/* A name the kernel reads whole (else its EFAULT or ENAMETOOLONG comes before anything else) */
static bool readable(const char *path)
{
	char copy[PATH_MAX];
	return !dn_fault_low(path) && dn_fault_strcpy_in(copy, path, sizeof(copy)) >= 0;
}

static int route_pair(int olddirfd, const char *oldpath, struct dn_target *from, int newdirfd,
		      const char *newpath, struct dn_target *to, bool old_may_be_empty)
{
	int a = dn_route_strict(olddirfd, oldpath, from);
	int b = dn_route_strict(newdirfd, newpath, to);
	/*
	 * getname refuses an empty name (ENOENT) before any lookup, not EXDEV
	 * because "" and a Danaus name seem to lie apart; the old name first.
	 * (Simplified: an empty new name is not preceded by the old parent's lookup.)
	 */
	if (a != -EFAULT && !oldpath[0] && !old_may_be_empty && (a == 1 || b == 1))
		return -ENOENT;
	if (a != -EFAULT && b != -EFAULT && !newpath[0] && (a == 1 || b == 1))
		return -ENOENT;
	/*
	 * A Danaus old path and an unreadable new one: the kernel would look up
	 * the old one's parent in our placeholder (ENOENT) before it reads the
	 * new, where the pool's parent would be found: EFAULT.
	 */
	if (a == 1 && b == -EFAULT)
		return -EFAULT;
	/* names too long (dn_route left them to the kernel): the same order */
	if (a == 0 && b == 1 && dn_path_too_long(oldpath))
		return 0;
	if (a == 1 && b == 0 && dn_path_too_long(newpath))
		return -ENAMETOOLONG;
	if (a == -EFAULT || b == -EFAULT) /* as dn_route: our placeholders stay out of it */
		return dn_fdmap_get(olddirfd) >= 0 || dn_fdmap_get(newdirfd) >= 0 ? -EFAULT : 0;
	if (a < 0)
		return a;
	if (b < 0)
		return b;
	if (a != b)
		return -EXDEV; /* between a Danaus mount and the kernel's */
	return a;
}

/*
 * Where one name of rename or link lies once the absolute symlinks on the
 * way to it are followed from the process's root: its directory (the whole
 * path for a followed name: link's AT_SYMLINK_FOLLOW) is looked up in the
 * pool with redirects followed, as chdir's walk is, until it stays in a
 * pool (1: t names it there) or leaves for the kernel's tree (0: kpath
 * names it there).
 */
static int pair_locate(struct dn_target *t, char kpath[PATH_MAX], bool whole)
{
	struct dn_path_last l;
	dn_path_last(t->path, &l);
	if (l.type == DN_LAST_ROOT)
		return 1;
	char base[NAME_MAX + 2] = "";
	struct dn_target dir = {.mount = t->mount, .handle = t->handle, .redirect = true};
	if (whole) {
		memcpy(dir.path, t->path, sizeof(dir.path));
	} else {
		if (l.name_len > NAME_MAX)
			return -ENAMETOOLONG;
		snprintf(base, sizeof(base), "%.*s%s", (int)l.name_len, l.name,
			 l.slash ? "/" : "");
		if (l.dir_len == 0)
			snprintf(dir.path, sizeof(dir.path), "%s", t->handle ? "." : "/");
		else
			snprintf(dir.path, sizeof(dir.path), "%.*s", (int)l.dir_len, t->path);
	}
	char next[PATH_MAX];
	for (int hops = 0;; hops++) {
		struct stat st;
		int r = dn_op_stat(&dir, false, &st);
		if (r != -DN_OP_REDIRECTED) {
			if (r < 0)
				return r;
			if (!whole && !S_ISDIR(st.st_mode))
				return -ENOTDIR; /* as the parent's walk answers */
			t->handle = dir.handle;
			r = whole ? (int)strlen(dir.path) : dn_path_concat(dir.path, base, t->path,
									  sizeof(t->path));
			if (whole)
				memcpy(t->path, dir.path, sizeof(t->path));
			return r < 0 ? r : 1;
		}
		const char *to;
		if (!dn_op_redirect_follow(&to, next, hops))
			return -ELOOP;
		int k = dn_route(AT_FDCWD, to, &dir);
		if (k < 0)
			return k;
		if (k == 0) {
			/* the kernel's walk of it comes first: ENOENT, ENOTDIR, EACCES */
			if (REAL(fstatat)(AT_FDCWD, to, &st, 0) < 0)
				return -errno;
			if (!whole && !S_ISDIR(st.st_mode))
				return -ENOTDIR;
			int n = whole ? snprintf(kpath, PATH_MAX, "%s", to)
				      : dn_path_concat(to, base, kpath, PATH_MAX);
			return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
		}
		dir.redirect = true;
	}
}

/* Whether a located name is there (0 or -errno): in the pool, or in the kernel's tree. */
static int located_stat(bool in_pool, const struct dn_target *t, const char *kpath, bool follow)
{
	struct stat st;
	if (!in_pool)
		return REAL(fstatat)(AT_FDCWD, kpath, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) < 0
			       ? -errno
			       : 0;
	struct dn_target here = *t;
	here.redirect = false; /* only whether it is there: no further hops */
	return dn_op_stat(&here, !follow, &st);
}

/*
 * rename or link met an absolute symlink on the way to one of its names
 * (the pool answered DN_OP_REDIRECTED): both names are located from the
 * process's root, then renamed (linked) in the pool, by the kernel when
 * both left the pool, or refused with EXDEV when one of each.
 */
static int pair_redirected(uint32_t op, struct dn_target *from, struct dn_target *to,
			   unsigned flags)
{
	char kfrom[PATH_MAX], kto[PATH_MAX];
	for (int hops = 0; hops < DN_OP_REDIRECTS_MAX; hops++) {
		int a = pair_locate(from, kfrom, op == DN_OP_LINK && (flags & AT_SYMLINK_FOLLOW));
		if (a < 0)
			return a;
		int b = pair_locate(to, kto, false);
		if (b < 0)
			return b;
		if (a != b && op == DN_OP_LINK) {
			/* do_linkat: the old name is found, the new one free, then EXDEV */
			int r = located_stat(a, from, kfrom, flags & AT_SYMLINK_FOLLOW);
			if (r < 0)
				return r;
			if (located_stat(b, to, kto, false) == 0)
				return -EEXIST;
		}
		if (a != b)
			return -EXDEV; /* after both names' directories were found, as do_renameat2 */
		if (a == 0) {
			int r = op == DN_OP_RENAME
					? REAL(renameat2)(AT_FDCWD, kfrom, AT_FDCWD, kto, flags)
					: REAL(linkat)(AT_FDCWD, kfrom, AT_FDCWD, kto, (int)flags);
			return r < 0 ? -errno : 0;
		}
		int r = op == DN_OP_RENAME ? dn_op_rename(from, to, flags)
					   : dn_op_path2(DN_OP_LINK, from, to, NULL,
							 (flags & AT_SYMLINK_FOLLOW) ? DN_LINK_FOLLOW : 0);
		if (r != -DN_OP_REDIRECTED)
			return r;
	}
	return -ELOOP;
}

/* The directory a kernel name of rename or link lies in is there (0), or -errno. */
static int host_parent(int dirfd, const char *path)
{
	char dir[PATH_MAX];
	if (dn_fault_strcpy_in(dir, path, sizeof(dir)) < 0)
		return -EFAULT;
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	while (n > 0 && dir[n - 1] != '/')
		n--;
	if (n == 0)
		return 0; /* dirfd's own directory */
	dir[n] = '\0'; /* with its slash: fstatat then wants a directory */
	struct stat st;
	return REAL(fstatat)(dirfd, dir, &st, 0) < 0 ? -errno : 0;
}

/* link's new name looked up (r: its stat's answer): there (EEXIST), free (0), or the lookup's error */
static int name_free(int r)
{
	return r == 0 ? -EEXIST : r == -ENOENT ? 0 : r;
}

/*
 * One name of rename or link in a pool (in_pool: t), the other the
 * kernel's: what do_renameat2 and do_linkat find before they compare the
 * mounts. rename: the old name's directory, then the new one's; link: the
 * old name itself, then the new name's directory and that it is free.
 * 0 when all are there (then EXDEV), else their -errno.
 */
static int mixed_lookups(uint32_t op, bool follow, bool old_in_pool, int olddirfd,
			 const char *oldpath, struct dn_target *from, int newdirfd,
			 const char *newpath, struct dn_target *to)
{
	char k[PATH_MAX];
	int r;
	if (!old_in_pool) {
		if (op == DN_OP_LINK) {
			struct stat st;
			r = REAL(fstatat)(olddirfd, oldpath, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) < 0
				    ? -errno
				    : 0;
		} else {
			r = host_parent(olddirfd, oldpath);
		}
	} else {
		r = pair_locate(from, k, op == DN_OP_LINK && follow);
		if (r == 1 && op == DN_OP_LINK)
			r = located_stat(true, from, k, follow);
	}
	if (r < 0)
		return r;
	if (old_in_pool) {
		r = host_parent(newdirfd, newpath);
		if (r == 0 && op == DN_OP_LINK) {
			struct stat st;
			r = REAL(fstatat)(newdirfd, newpath, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
			r = name_free(r);
		}
	} else {
		r = pair_locate(to, k, false);
		if (r == 1 && op == DN_OP_LINK)
			r = name_free(located_stat(true, to, k, false));
	}
	return r < 0 ? r : 0;
}

/*
 * rename and link after the kernel's ENOENT (r 0) or our EXDEV (a name in a
 * mount, one outside): a host symlink may lead a kernel name into a mount
 * (dn_route_host_link). 1 when both names are then Danaus ones, -EXDEV when
 * one is (or the error of a lookup the kernel makes first), else r again
 * (the kernel's answer stands).
 */
/*
 * dn_route_host_link for a name rename or link does not follow at its end
 * (rename's two, link's new one, its old one without AT_SYMLINK_FOLLOW):
 * only its directory's way may lead into a mount; a host symlink named
 * last stays the kernel's own file (its target is not what is renamed).
 */
static int host_link_unfollowed(int dirfd, const char *path, struct dn_target *t)
{
	size_t n = strlen(path);
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || n >= PATH_MAX)
		return dn_route_host_link(dirfd, path, t); /* (a trailing slash follows) */
	if (!slash)
		return 0; /* in dirfd's own directory, which the kernel found */
	char dir[PATH_MAX];
	size_t dlen = slash == path ? 1 : (size_t)(slash - path);
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	int saved = errno;
	int r = dn_route_host_link(dirfd, dir, t);
	errno = saved;
	if (r != 1)
		return r;
	size_t plen = strlen(t->path);
	if (plen + 1 + strlen(name) >= sizeof(t->path))
		return -ENAMETOOLONG;
	snprintf(t->path + plen, sizeof(t->path) - plen, "%s%s",
		 plen && t->path[plen - 1] == '/' ? "" : "/", name);
	return 1;
}

static int pair_via_links(int r, uint32_t op, bool follow, int olddirfd, const char *oldpath,
			  struct dn_target *from, int newdirfd, const char *newpath,
			  struct dn_target *to)
{
	if (r != 0 && r != -EXDEV)
		return r;
	if (r == 0 && errno != ENOENT)
		return 0;
	int a = dn_route(olddirfd, oldpath, from), b = dn_route(newdirfd, newpath, to);
	if (a == 0)
		a = op == DN_OP_LINK && follow ? dn_route_host_link(olddirfd, oldpath, from)
					       : host_link_unfollowed(olddirfd, oldpath, from);
	if (b == 0)
		b = host_link_unfollowed(newdirfd, newpath, to);
	if (a == 1 && b == 1)
		return 1;
	if (a == 1 || b == 1) {
		int e = mixed_lookups(op, follow, a == 1, olddirfd, oldpath, from, newdirfd,
				      newpath, to);
		return e < 0 ? e : -EXDEV;
	}
	return r;
}

DN_EXPORT int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
			unsigned flags)
{
	struct dn_target from, to;
	int r = route_pair(olddirfd, oldpath, &from, newdirfd, newpath, &to, false);
	/* a host file to a name in a placeholder (root may write there): another filesystem */
	if (r == 0 && dn_route_create(newdirfd, newpath, &to) && readable(oldpath))
		r = -EXDEV;
	if (r == 0 && REAL(renameat2)(olddirfd, oldpath, newdirfd, newpath, flags) == 0)
		return 0;
	r = pair_via_links(r, DN_OP_RENAME, false, olddirfd, oldpath, &from, newdirfd, newpath, &to);
	if (r == 0)
		return -1; /* the kernel's errno */
	if (r < 0)
		DN_RETURN(r);
	from.redirect = to.redirect = true;
	r = dn_op_rename(&from, &to, flags);
	if (r == -DN_OP_REDIRECTED)
		r = pair_redirected(DN_OP_RENAME, &from, &to, flags);
	DN_RETURN(r);
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
	char next[PATH_MAX];
	int dirfd = AT_FDCWD;
	for (int hops = 0;; hops++) {
		ROUTE(dirfd, path, t)
		KERNEL_OR_LINK(dirfd, path, t, REAL(truncate)(path, len));
		if (len < 0)
			DN_RETURN(-EINVAL);
		t.redirect = true;
		int r = dn_op_path(DN_OP_TRUNCATE, &t, 0, 0, (uint64_t)len);
		RETURN_UNLESS_REDIRECTED(r, dirfd, path, next, hops);
	}
}
DN_ALIAS(truncate, truncate64);

/*
 * Whether this glibc's fchmodat passes flags other than AT_SYMLINK_NOFOLLOW
 * to the kernel (fchmodat2, glibc 2.39 and Linux 6.6 on): older ones answer
 * EINVAL themselves. Asked once, on no file (-1).
 */
static bool chmod_takes_flags(void)
{
	static _Atomic int known; /* 0: not asked yet, 1 no, 2 yes */
	int k = atomic_load_explicit(&known, memory_order_relaxed);
	if (!k) {
		int saved = errno;
		k = REAL(fchmodat)(-1, "", 0, AT_EMPTY_PATH) < 0 && errno == EINVAL ? 1 : 2;
		errno = saved;
		atomic_store_explicit(&known, k, memory_order_relaxed);
	}
	return k == 2;
}

/* AT_EMPTY_PATH on a pool file: the kernel's fchmodat2 takes it, old glibc's fchmodat not */
static int chmod_flags(int flags, bool kernel)
{
	return (flags & AT_EMPTY_PATH) && !kernel && !chmod_takes_flags() ? -EINVAL : 0;
}

/* chmod of t; nofollow: a symlink has no mode of its own (as Linux), anything else has */
static int chmod_target(struct dn_target *t, mode_t mode, bool nofollow)
{
	if (nofollow) {
		struct stat st;
		int r = dn_op_stat(t, true, &st);
		if (r == 0 && S_ISLNK(st.st_mode))
			return -EOPNOTSUPP;
		if (r < 0)
			return r;
	}
	return dn_op_path(DN_OP_CHMOD, t, mode, 0, 0);
}

static int chmod_at(int dirfd, const char *path, mode_t mode, int flags, bool kernel)
{
	char next[PATH_MAX];
	/* glibc, or the kernel after it, refuses them before any lookup (EINVAL) */
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return REAL(fchmodat)(dirfd, path, mode, flags);
	if (at_self(dirfd, path, flags)) {
		/* the fd's own file (fchmodat2's AT_EMPTY_PATH), by its name */
		struct dn_target t;
		bool nofollow;
		int r = chmod_flags(flags, kernel);
		if (r == 0)
			r = dn_route_self(dirfd, &t, &nofollow);
		if (r == 0)
			r = chmod_target(&t, mode, nofollow);
		DN_RETURN(r == -DN_OP_REDIRECTED ? -ELOOP : r);
	}
	path = dn_route_empty_cwd(dirfd, path, flags);
	for (int hops = 0;; hops++) {
		ROUTE(dirfd, path, t)
		KERNEL_OR_LINK(dirfd, path, t, REAL(fchmodat)(dirfd, path, mode, flags));
		t.redirect = true;
		int r = chmod_flags(flags, kernel);
		if (r < 0)
			DN_RETURN(r);
		r = chmod_target(&t, mode, flags & AT_SYMLINK_NOFOLLOW);
		RETURN_UNLESS_REDIRECTED(r, dirfd, path, next, hops);
	}
}

DN_EXPORT int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	return chmod_at(dirfd, path, mode, flags, false);
}

int dn_fchmodat2(int dirfd, const char *path, mode_t mode, int flags)
{
	return chmod_at(dirfd, path, mode, flags, true);
}

DN_EXPORT int chmod(const char *path, mode_t mode)
{
	return fchmodat(AT_FDCWD, path, mode, 0);
}

/* glibc's lchmod opens the file with an internal call: it must come here. */
DN_EXPORT int lchmod(const char *path, mode_t mode)
{
	return fchmodat(AT_FDCWD, path, mode, AT_SYMLINK_NOFOLLOW);
}

DN_EXPORT ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size)
{
	char next[PATH_MAX];
	/* a magic link to a Danaus fd: the file's path, as the kernel's d_path */
	char own[PATH_MAX];
	int ln = dn_route_own_link(path, own, sizeof(own));
	/* /dev/stdin and the like are real symlinks (to /proc/self/fd/N): the kernel reads them */
	if (ln != 0 && strncmp(path, "/dev/std", 8) == 0)
		return REAL(readlinkat)(dirfd, path, buf, size);
	if (ln != 0) {
		if ((int)size <= 0)
			DN_RETURN(-EINVAL);
		if (ln < 0)
			DN_RETURN(ln);
		size_t n = (size_t)ln < size ? (size_t)ln : size;
		DN_RETURN(dn_fault_copy_out(buf, own, n) < 0 ? -EFAULT : (ssize_t)n);
	}
	for (int hops = 0;; hops++) {
		ROUTE(dirfd, path, t)
		KERNEL_OR_LINK(dirfd, path, t, REAL(readlinkat)(dirfd, path, buf, size));
		char link[PATH_MAX]; /* a link's target is shorter */
		if ((int)size <= 0) /* the kernel's bufsiz is an int, checked before the path */
			DN_RETURN(-EINVAL);
		t.redirect = true;
		ssize_t n = dn_op_readlink(&t, link, size < sizeof(link) ? size : sizeof(link));
		if (n > 0 && dn_fault_copy_out(buf, link, (size_t)n) < 0)
			n = -EFAULT;
		if (n != -DN_OP_REDIRECTED)
			DN_RETURN(n);
		if (!redirected(&dirfd, &path, next, hops))
			DN_RETURN(-ELOOP);
	}
}

DN_EXPORT ssize_t readlink(const char *path, char *buf, size_t size)
{
	return readlinkat(AT_FDCWD, path, buf, size);
}

DN_EXPORT int symlinkat(const char *target, int dirfd, const char *path)
{
	char next[PATH_MAX];
	for (int hops = 0;; hops++) {
		ROUTE(dirfd, path, t)
		if (!dn_route_create(dirfd, path, &t))
			KERNEL_OR_LINK(dirfd, path, t, REAL(symlinkat)(target, dirfd, path));
		/* the kernel takes both names in before it looks at either */
		char copy[PATH_MAX];
		long n = dn_fault_strcpy_in(copy, target, sizeof(copy));
		if (n < 0)
			DN_RETURN(n);
		if (n == 0)
			DN_RETURN(-ENOENT); /* getname refuses an empty target first */
		t.redirect = true;
		int r = dn_op_path2(DN_OP_SYMLINK, &t, NULL, copy, 0);
		RETURN_UNLESS_REDIRECTED(r, dirfd, path, next, hops);
	}
}

DN_EXPORT int symlink(const char *target, const char *path)
{
	return symlinkat(target, AT_FDCWD, path);
}

/*
 * The old name is a Danaus fd's file itself: "" with AT_EMPTY_PATH, or
 * /proc/self/fd/N (whose magic link linkat follows with AT_SYMLINK_FOLLOW).
 * That fd, else -1.
 */
static int link_self(int olddirfd, const char *oldpath, int flags, bool *by_proc)
{
	char c;
	*by_proc = false;
	if ((flags & AT_EMPTY_PATH) && dn_fdmap_get(olddirfd) >= 0 &&
	    dn_fault_copy_in(&c, oldpath, 1) == 0 && c == 0)
		return olddirfd;
	int fd = dn_route_own_fd(oldpath);
	*by_proc = fd >= 0;
	return fd;
}

/*
 * The kernel's AT_EMPTY_PATH rule for linkat: CAP_DAC_READ_SEARCH, or
 * (6.10 and later) the credentials the file was opened with still being
 * the caller's (not after fork, exec or an identity change; not an fd
 * received from another process). Our placeholder was opened with the
 * same ones as the Danaus fd, so the kernel is asked on it: a new name
 * relative to no directory (-1) fails with EBADF only after that rule.
 */
static bool may_link_empty(int fd)
{
	int saved = errno;
	bool may = REAL(linkat)(fd, "", -1, "x", AT_EMPTY_PATH) == 0 || errno != ENOENT;
	errno = saved;
	return may;
}

/*
 * A new name for a Danaus fd's file: the pool links the open file (an
 * O_TMPFILE has no other way in; with O_EXCL, or deleted, the kernel's
 * ENOENT). -ENOSYS when the pool links it by its name (a backend without
 * the call).
 */
static int link_fd(int fd, bool by_proc, int newdirfd, const char *newpath, int flags)
{
	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	if (!by_proc && !may_link_empty(fd))
		return -ENOENT;
	struct dn_target to;
	int r = dn_route_strict(newdirfd, newpath, &to);
	if (r < 0)
		return r;
	/* the magic link itself (not followed), or a name outside the pool: another filesystem */
	if (r == 0 || (by_proc && !(flags & AT_SYMLINK_FOLLOW)))
		return -EXDEV;
	to.redirect = false;
	return dn_op_link_file(fd, &to);
}

DN_EXPORT int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
		     int flags)
{
	struct dn_target from, to;
	bool by_proc;
	char own[64];
	int self = link_self(olddirfd, oldpath, flags, &by_proc);
	if (self >= 0) {
		int r = link_fd(self, by_proc, newdirfd, newpath, flags);
		if (r != -ENOSYS)
			DN_RETURN(r);
		/* by the name it was opened by (dn_route_strict checks it is still that file) */
		snprintf(own, sizeof(own), "/proc/self/fd/%d", self);
		olddirfd = AT_FDCWD;
		oldpath = own;
		flags = AT_SYMLINK_FOLLOW;
	}
	/* The kernel looks the old name up before it finds the new one unreadable. */
	if (dn_route(olddirfd, oldpath, &from) == 1 &&
	    dn_route_strict(newdirfd, newpath, &to) == -EFAULT) {
		struct stat st;
		int r = dn_op_stat(&from, !(flags & AT_SYMLINK_FOLLOW), &st);
		DN_RETURN(r < 0 ? r : -EFAULT);
	}
	int r = route_pair(olddirfd, oldpath, &from, newdirfd, newpath, &to,
			   flags & AT_EMPTY_PATH);
	if (r == 0 && dn_route_create(newdirfd, newpath, &to) && readable(oldpath))
		r = -EXDEV; /* as rename's */
	if (r == 0 && REAL(linkat)(olddirfd, oldpath, newdirfd, newpath, flags) == 0)
		return 0;
	r = pair_via_links(r, DN_OP_LINK, flags & AT_SYMLINK_FOLLOW, olddirfd, oldpath, &from, newdirfd,
			   newpath, &to);
	if (r == 0)
		return -1; /* the kernel's errno */
	if (r < 0)
		DN_RETURN(r);
	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		DN_RETURN(-EINVAL);
	from.redirect = to.redirect = true;
	uint32_t follow = (flags & AT_SYMLINK_FOLLOW) ? DN_LINK_FOLLOW : 0;
	r = dn_op_path2(DN_OP_LINK, &from, &to, NULL, follow);
	if (r == -DN_OP_REDIRECTED)
		r = pair_redirected(DN_OP_LINK, &from, &to, (unsigned)flags);
	DN_RETURN(r);
}

DN_EXPORT int link(const char *oldpath, const char *newpath)
{
	return linkat(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

static void statvfs_from_wire(const struct dn_statfs *w, struct statvfs *v)
{
	memset(v, 0, sizeof(*v));
	v->f_bsize = w->bsize;
	v->f_frsize = w->frsize;
	v->f_blocks = w->blocks;
	v->f_bfree = w->bfree;
	v->f_bavail = w->bavail;
	v->f_files = w->files;
	v->f_ffree = w->ffree;
	v->f_favail = w->favail;
	v->f_fsid = w->fsid;
	v->f_flag = w->flag;
	v->f_namemax = w->namemax;
}

#ifndef ST_VALID
#define ST_VALID 0x0020 /* linux/statfs.h: f_flags is filled in */
#endif

/* statfs(2) has a type field statvfs lacks: the backend's, else a magic of ours. */
#define DANAUS_SUPER_MAGIC 0x44414e41

static void statfs_from_wire(const struct dn_statfs *w, struct statfs *f)
{
	memset(f, 0, sizeof(*f));
	f->f_type = w->type ? (__fsword_t)w->type : DANAUS_SUPER_MAGIC;
	f->f_bsize = (long)w->bsize;
	f->f_frsize = (long)w->frsize;
	f->f_blocks = w->blocks;
	f->f_bfree = w->bfree;
	f->f_bavail = w->bavail;
	f->f_files = w->files;
	f->f_ffree = w->ffree;
	memcpy(&f->f_fsid, &w->fsid, sizeof(f->f_fsid) < sizeof(w->fsid) ? sizeof(f->f_fsid) : sizeof(w->fsid));
	f->f_namelen = (long)w->namemax;
	/* statvfs's flags, with the bit statfs(2) always sets (glibc's statvfs drops it) */
	f->f_flags = (long)w->flag | ST_VALID;
}

/* The pool's STATFS of t's path or (t NULL) of Danaus fd, into whichever of v and f is given. */
static int pool_statfs(const struct dn_target *t, int fd, bool vfs, struct statvfs *v,
		       struct statfs *f)
{
	struct dn_statfs w;
	int r = (int)dn_op_pathfd(DN_OP_STATFS, t, fd, false, NULL, NULL, 0, &w, sizeof(w), 0);
	if (r < 0)
		return r;
	if (vfs) {
		struct statvfs out;
		statvfs_from_wire(&w, &out);
		return put(v, &out, sizeof(out), 0);
	}
	struct statfs out;
	statfs_from_wire(&w, &out);
	return put(f, &out, sizeof(out), 0);
}

/* statvfs (vfs: into v) or statfs (into f) of a path, the kernel's or the pool's */
static int path_statfs(const char *path, bool vfs, struct statvfs *v, struct statfs *f)
{
	char next[PATH_MAX];
	int dirfd = AT_FDCWD;
	for (int hops = 0;; hops++) {
		ROUTE(dirfd, path, t)
		KERNEL_OR_LINK(dirfd, path, t, vfs ? REAL(statvfs)(path, v) : REAL(statfs)(path, f));
		t.redirect = true;
		int r = pool_statfs(&t, -1, vfs, v, f);
		RETURN_UNLESS_REDIRECTED(r, dirfd, path, next, hops);
	}
}

DN_EXPORT int statvfs(const char *path, struct statvfs *v)
{
	return path_statfs(path, true, v, NULL);
}
DN_EXPORT int statvfs64(const char *path, struct statvfs64 *v)
{
	return statvfs(path, (struct statvfs *)v);
}

DN_EXPORT int fstatvfs(int fd, struct statvfs *v)
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(fstatvfs)(fd, v);
	DN_RETURN(pool_statfs(NULL, fd, true, v, NULL));
}
DN_EXPORT int fstatvfs64(int fd, struct statvfs64 *v)
{
	return fstatvfs(fd, (struct statvfs *)v);
}

DN_EXPORT int statfs(const char *path, struct statfs *f)
{
	return path_statfs(path, false, NULL, f);
}
DN_EXPORT int statfs64(const char *path, struct statfs64 *f)
{
	return statfs(path, (struct statfs *)f);
}

DN_EXPORT int fstatfs(int fd, struct statfs *f)
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(fstatfs)(fd, f);
	DN_RETURN(pool_statfs(NULL, fd, false, NULL, f));
}
DN_EXPORT int fstatfs64(int fd, struct statfs64 *f)
{
	return fstatfs(fd, (struct statfs *)f);
}
