/* Local Libservice: a host directory as a pool's storage, confined to its root */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cleanup.h"
#include "cred.h"
#include "gens.h"
#include "local-walk.h"
#include "no-symlinks.h"
#include "path.h"
#include "protect.h"
#include "redirect.h"
#include "svc.h"
#include "umask.h"

/*
 * POSIX record locks belong to a process, not to an open file: every lock
 * of one owner on one file goes through one host open file description of
 * its own, so the kernel's OFD locks give POSIX semantics between owners
 * (a fork child conflicts with its parent; a process never with itself).
 */
struct lock_fd {
	struct lock_fd *next;
	uint64_t owner;
	uid_t uid; /* whose: [limits] lock_owners_per_uid bounds the descriptors each uid holds */
	dev_t dev;
	ino_t ino;
	int fd;
};

struct local_svc {
	struct dn_svc base;
	int root_fd;
	char root_path[PATH_MAX]; /* where root_fd was, as the kernel names it ("" unknown) */
	struct dn_protect protect; /* fs.protected_*: for what the client opens itself */
	pthread_mutex_t locks_lock;
	struct lock_fd *locks;
	unsigned lock_fds_per_uid;
};

struct dn_file {
	int fd;
	_Atomic bool direct; /* fd has O_DIRECT: the client's open or F_SETFL said so */
	pthread_mutex_t dir_lock; /* readdir seeks the shared fd */
};

/* What a client may ask of open(2); O_CLOEXEC is always ours to add. */
#define OPEN_FLAGS_ALLOWED                                                                         \
	(O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_DIRECTORY | O_NOFOLLOW |            \
	 O_NONBLOCK | O_DSYNC | O_SYNC | O_NOATIME | O_LARGEFILE | O_DIRECT | O_PATH | O_TMPFILE)

static struct local_svc *to_local(struct dn_svc *s)
{
	return (struct local_svc *)s;
}

/* openat2, again when a rename raced its walk (it asks with EAGAIN) */
static int openat2_retrying(int dirfd, const char *path, struct open_how *how)
{
	for (int tries = 0;; tries++) {
		long fd = syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
		if (fd >= 0)
			return (int)fd;
		if (errno != EAGAIN || tries == 16)
			return -errno;
	}
}

/*
 * Opens path with the root as "/": "..", absolute symlinks and magic links
 * cannot climb out of it, whatever the client wrote. path is as the caller
 * wrote it ("sub/..", "file/"): the kernel's walk gives each component its
 * meaning, with the caller's rights (search permission on sub, ENOTDIR).
 */
/*
 * A path one system call cannot take (PATH_MAX or longer, below
 * DN_PATH_MAX): walked in user space to its last component, which one
 * openat2 opens beneath the directory it is in. The walk stops at the
 * root as RESOLVE_IN_ROOT would; it cannot tell a directory moved out of
 * the root meanwhile from the host (the kernel can), which only the host
 * itself could do.
 */
static int resolve_long(struct local_svc *ls, const char *rel, struct open_how how, bool follow)
{
	char last[NAME_MAX + 2];
	_cleanup_close_ int dir = -1;
	int r = dn_local_walk_long(ls->root_fd, rel, follow, &ls->protect, dn_cred_current()->uid,
				   &dir, last);
	if (r < 0)
		return r;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;
	return openat2_retrying(dir, last, &how);
}

static int resolve(struct local_svc *ls, const char *path, int flags, mode_t mode)
{
	struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		how.mode = mode & 07777;
	const char *rel = path;
	while (*rel == '/')
		rel++;
	if (!*rel)
		rel = ".";
	bool follow = !(flags & O_NOFOLLOW) && !((flags & O_CREAT) && (flags & O_EXCL));
	if (dn_walk_symlinks_refused())
		how.resolve |= RESOLVE_NO_SYMLINKS; /* (under a union: no-symlinks.h) */
	if (strlen(rel) >= PATH_MAX)
		return resolve_long(ls, rel, how, follow);
	if (dn_redirect_allowed() && !dn_walk_symlinks_refused()) {
		/*
		 * The client follows absolute symlinks itself (redirect.h): a path
		 * without symlinks opens as it is; one with some is walked for an
		 * absolute one first.
		 */
		struct open_how plain = how;
		plain.resolve |= RESOLVE_NO_SYMLINKS;
		int fd = openat2_retrying(ls->root_fd, rel, &plain);
		if (fd != -ELOOP)
			return fd;
		int r = dn_local_abs_link(ls->root_fd, rel, follow, &ls->protect,
					  dn_cred_current()->uid);
		if (r < 0)
			return r;
	}
	return openat2_retrying(ls->root_fd, rel, &how);
}

/*
 * Opens the directory holding path's last component (split off, nothing
 * folded); *base points at that component as written, trailing slashes and
 * all. The *at calls that add or remove a name give ".", ".." and a
 * trailing slash the kernel's meaning for each call without looking them
 * up (EEXIST, EBUSY, ENOTDIR...), so they cannot lead out of the root
 * either. The pool's top itself (no last component) is the top's ".", and
 * l->type says DN_LAST_ROOT.
 */
static int resolve_parent(struct local_svc *ls, const char *path, const char **base,
			  struct dn_path_last *l)
{
	dn_path_last(path, l);
	if (l->type == DN_LAST_ROOT) {
		*base = ".";
		return resolve(ls, "/", O_PATH | O_DIRECTORY, 0);
	}
	*base = l->name;
	char dir[DN_PATH_MAX];
	if (l->dir_len + 1 > sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, l->dir_len);
	dir[l->dir_len] = 0;
	int fd = resolve(ls, dir, O_PATH | O_DIRECTORY, 0);
	if (fd == -DN_EREDIRECT) {
		/* the directory's walk met an absolute link: the name goes after it */
		int e = dn_redirect_append("/");
		if (e == 0)
			e = dn_redirect_append(l->name);
		return e < 0 ? e : fd;
	}
	return fd;
}

/*
 * The file path names, its last component not followed, for calls that
 * look a name up: its directory and *base, the name (a plain one); or the
 * file itself with *base "" when the name is ".", ".." or has a trailing
 * slash, which the kernel resolves (following, for the slash) to a
 * directory: a "..", looked up by an *at call from the root, would leave it.
 */
static int resolve_nofollow(struct local_svc *ls, const char *path, const char **base)
{
	struct dn_path_last l;
	dn_path_last(path, &l);
	if (l.type == DN_LAST_NORM && !l.slash)
		return resolve_parent(ls, path, base, &l);
	*base = "";
	return resolve(ls, path, O_PATH | O_NOFOLLOW, 0);
}

/*
 * The mode a create asks the kernel for: the caller's umask is the
 * worker's own (umask.h), which the kernel applies unless the directory
 * has a default ACL; where the worker cannot have one, it goes here.
 */
static mode_t create_mode(mode_t mode)
{
	return dn_umask_by_kernel() ? mode : mode & ~dn_umask_caller();
}

/* The host path of fd, as the kernel names it (symlinks and ".." resolved). */
static int fd_host_path(int fd, char *buf, size_t len)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, buf, len - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n == len - 1)
		return -ENAMETOOLONG;
	buf[n] = 0;
	return 0;
}

/*
 * The attributes of the directory holding what path names (fd, resolved):
 * path's own directory, unless its last component is a symlink, which
 * the kernel followed to the directory of its target.
 */
static int dir_of(struct local_svc *ls, const char *path, int fd, struct stat *dir)
{
	const char *base;
	struct dn_path_last l;
	_cleanup_close_ int dfd = resolve_parent(ls, path, &base, &l);
	struct stat st;
	if (dfd >= 0 && l.type == DN_LAST_NORM &&
	    fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISLNK(st.st_mode))
		return fstat(dfd, dir) < 0 ? -errno : 0;
	/* through a symlink: its target's directory, by the name the kernel gives it */
	char host[PATH_MAX];
	int r = fd_host_path(fd, host, sizeof(host));
	if (r < 0)
		return r;
	char *slash = strrchr(host, '/');
	if (!slash)
		return -ENOENT;
	*(slash == host ? slash + 1 : slash) = 0;
	return stat(host, dir) < 0 ? -errno : 0;
}

/* Whether open(2) of a file of this type may block or reach beyond the file. */
static bool handed_over(mode_t mode)
{
	return S_ISFIFO(mode) || S_ISCHR(mode) || S_ISBLK(mode) || S_ISSOCK(mode);
}

/*
 * An existing FIFO, device or socket that open would open: its O_PATH
 * descriptor for the client (DN_SVC_HANDOVER), else 0 (open as usual). An
 * exclusive create or O_DIRECTORY gets its error from the usual open.
 *
 * The pool must not open a FIFO even for a moment (a writer waiting in open
 * would be let through, then find no reader), so the type is known first.
 * A confined O_PATH walk costs ~2 us here, as much as the open itself; an
 * unconfined statx of the last component ~1 us, and serves as the hint: it
 * decides nothing but whether the confined walk is made (a regular file,
 * the common case, needs none; a symlink gets the walk).
 */
static int handover_probe(struct local_svc *ls, const char *path, int oflags, int *handover)
{
	if ((oflags & O_PATH) || (oflags & O_DIRECTORY) ||
	    ((oflags & O_CREAT) && (oflags & O_EXCL)))
		return 0;
	/*
	 * The hint's walk is not confined: a path with ".." (the caller's, as
	 * written) may climb past the root there, where the confined walk
	 * stops at it; such a path gets the walk.
	 */
	const char *rel = path;
	while (*rel == '/')
		rel++;
	struct statx hint;
	if (!(dn_path_oddities(rel) & DN_PATH_DOTDOT) && strlen(rel) < PATH_MAX &&
	    (statx(ls->root_fd, *rel ? rel : ".", AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE,
		   &hint) < 0 ||
	     S_ISREG(hint.stx_mode) || S_ISDIR(hint.stx_mode)))
		return 0;
	_cleanup_close_ int fd = resolve(ls, path, O_PATH | (oflags & O_NOFOLLOW), 0);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !handed_over(st.st_mode))
		return 0;
	/*
	 * The client opens it without O_CREAT, through its descriptor: the
	 * kernel's fs.protected_fifos check of an O_CREAT open in a sticky
	 * directory (may_create_in_sticky) is made here, on its directory.
	 */
	struct stat dir;
	if ((oflags & O_CREAT) && dir_of(ls, path, fd, &dir) == 0) {
		int r = dn_protect_create(&ls->protect, dir.st_mode, dir.st_uid, st.st_mode, st.st_uid,
					  dn_cred_current()->uid);
		if (r < 0)
			return r;
	}
	*handover = TAKE_FD(fd);
	return DN_SVC_HANDOVER;
}

/*
 * APPEND_ONLY: a file with chattr's append-only flag opens for writing only
 * with O_APPEND (may_open: EPERM), which the pool's descriptor otherwise
 * leaves out; asked again with it, the descriptor keeps it, and every
 * write appends, as the kernel's F_SETFL lets no one clear it there.
 */
static int local_open(struct dn_svc *s, const struct dn_cred *c, const char *path, int oflags,
		      mode_t mode, struct dn_file **out, int *handover)
{
	if (oflags & ~OPEN_FLAGS_ALLOWED)
		return -EINVAL;
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	if ((r = handover_probe(to_local(s), path, oflags, handover)) != 0)
		return r;
	_cleanup_free_ struct dn_file *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	/*
	 * Appending is asked per write (RWF_APPEND): the client's F_SETFL may
	 * change it. O_NONBLOCK: a FIFO put in place since the probe (or one the
	 * hint could not see) must not hold the worker; nothing else here is
	 * changed by it.
	 */
	int fl = oflags & ~O_APPEND;
	if (oflags & O_PATH) /* as open(2), which ignores the rest: openat2 refuses them */
		fl &= O_PATH | O_DIRECTORY | O_NOFOLLOW;
	else
		fl |= O_NONBLOCK;
	f->fd = resolve(to_local(s), path, fl, create_mode(mode));
	if (f->fd == -EPERM && (oflags & O_APPEND)) /* an append-only file: see APPEND_ONLY */
		f->fd = resolve(to_local(s), path, fl | O_APPEND, create_mode(mode));
	if (f->fd < 0)
		return f->fd;
	f->direct = (fl & O_DIRECT) != 0;
	pthread_mutex_init(&f->dir_lock, NULL);
	*out = TAKE_PTR(f);
	return 0;
}

/* The kernel's name of f below the root: the path of what the open resolved. */
/*
 * The open file itself (a second descriptor of it): a client's shared map
 * of it is the kernel's, one page cache with the pool's reads and writes
 * and every other mapper's. It carries the access the open was checked for.
 */
static int local_mapfd(struct dn_svc *s, struct dn_file *f, bool writable)
{
	int fd = fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

static int local_fpath(struct dn_svc *s, struct dn_file *f, char *buf, size_t len)
{
	struct local_svc *ls = to_local(s);
	char host[PATH_MAX];
	int r = fd_host_path(f->fd, host, sizeof(host));
	if (r < 0)
		return r;
	size_t rl = strlen(ls->root_path);
	/* moved out of the root's view meanwhile, or removed (" (deleted)"): not known */
	if (!rl || strncmp(host, ls->root_path, rl) != 0 || (host[rl] && host[rl] != '/') ||
	    strstr(host + rl, " (deleted)"))
		return -ENOENT;
	const char *below = host[rl] ? host + rl : "/";
	if (strlen(below) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, below);
	return 0;
}

static void local_close(struct dn_svc *s, struct dn_file *f)
{
	close(f->fd);
	pthread_mutex_destroy(&f->dir_lock);
	free(f);
}

/*
 * The client's F_SETFL of O_DIRECT, on the pool's own descriptor (setfl's
 * checks then). A vector's lengths against the alignment statx tells
 * (STATX_DIOALIGN, Linux 6.1); a kernel that cannot tell leaves them to
 * the reads and writes of each segment.
 */
static int local_set_direct(struct dn_svc *s, struct dn_file *f, bool on, uint32_t lens)
{
	(void)s;
	struct statx stx;
	if (lens && statx(f->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align &&
	    (lens & (stx.stx_dio_offset_align - 1)))
		return -EINVAL;
	if (atomic_load_explicit(&f->direct, memory_order_relaxed) == on)
		return 0;
	int fl = fcntl(f->fd, F_GETFL);
	if (fl < 0 || fcntl(f->fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT) < 0)
		return -errno;
	atomic_store_explicit(&f->direct, on, memory_order_relaxed);
	return 0;
}

static ssize_t local_pread(struct dn_svc *s, struct dn_file *f, void *buf, size_t len, off_t off)
{
	dn_gens_touch(); /* the kernel moves its atime (relatime) */
	ssize_t n = pread(f->fd, buf, len, off);
	return n < 0 ? -errno : n;
}

static ssize_t local_pwrite(struct dn_svc *s, struct dn_file *f, const void *buf, size_t len,
			    off_t off, uint64_t *end)
{
	ssize_t n;
	if (off < 0) {
		/* The kernel places the data at the end and leaves the fd's offset after it. */
		struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
		n = pwritev2(f->fd, &iov, 1, -1, RWF_APPEND);
		if (n < 0)
			return -errno;
		off_t pos = lseek(f->fd, 0, SEEK_CUR);
		*end = pos < 0 ? 0 : (uint64_t)pos;
		return n;
	}
	n = pwrite(f->fd, buf, len, off);
	if (n < 0)
		return -errno;
	*end = (uint64_t)off + (uint64_t)n;
	return n;
}

/*
 * fstatat by statx, which also tells the birth time and the attributes
 * (chattr's flags as statx shows them): kept for the reply (dn_stat_more)
 */
static int stat_more(int dirfd, const char *name, int flags, struct stat *st)
{
	struct statx x;
	if (statx(dirfd, name, flags, STATX_BASIC_STATS | STATX_BTIME, &x) < 0)
		return -errno;
	*st = (struct stat){
		.st_dev = makedev(x.stx_dev_major, x.stx_dev_minor), .st_ino = x.stx_ino,
		.st_nlink = x.stx_nlink, .st_mode = x.stx_mode, .st_uid = x.stx_uid,
		.st_gid = x.stx_gid, .st_rdev = makedev(x.stx_rdev_major, x.stx_rdev_minor),
		.st_size = (off_t)x.stx_size, .st_blksize = (blksize_t)x.stx_blksize,
		.st_blocks = (blkcnt_t)x.stx_blocks,
		.st_atim = {x.stx_atime.tv_sec, x.stx_atime.tv_nsec},
		.st_mtim = {x.stx_mtime.tv_sec, x.stx_mtime.tv_nsec},
		.st_ctim = {x.stx_ctime.tv_sec, x.stx_ctime.tv_nsec},
	};
	struct dn_stat_more m = {.mask = DN_STAT_ATTRS, .dev = st->st_dev, .ino = st->st_ino,
				 .attributes = (uint32_t)x.stx_attributes,
				 .attributes_mask = (uint32_t)x.stx_attributes_mask};
	if (x.stx_mask & STATX_BTIME) {
		m.mask |= DN_STAT_BTIME;
		m.btime = (struct timespec){x.stx_btime.tv_sec, x.stx_btime.tv_nsec};
	}
	dn_stat_more_set(&m);
	return 0;
}

static int local_fstat(struct dn_svc *s, struct dn_file *f, struct stat *st)
{
	return stat_more(f->fd, "", AT_EMPTY_PATH, st);
}

static int local_stat(struct dn_svc *s, const struct dn_cred *c, const char *path, bool nofollow,
		      struct stat *st)
{
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = resolve(to_local(s), path, O_PATH | (nofollow ? O_NOFOLLOW : 0), 0);
	if (fd < 0)
		return fd;
	return stat_more(fd, "", AT_EMPTY_PATH, st);
}

/* chmod of the inode an O_PATH fd holds: its proc link names exactly that inode. */
static int chmod_held(int fd, mode_t mode)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return chmod(proc, mode & 07777) < 0 ? -errno : 0;
}

/* utimensat of the inode an O_PATH fd holds (by its proc link, as chmod_held) */
static int utimens_held(int fd, const struct timespec times[2])
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return utimensat(AT_FDCWD, proc, times, 0) < 0 ? -errno : 0;
}

/*
 * The resolve flags of a name in an open directory: beneath it, so that
 * what leaves it (a symlink to "..", an absolute one) answers EXDEV and
 * takes the path's way, resolved inside the top; no symlinks at all where
 * a libservice above walks them itself (no-symlinks.h).
 */
static uint64_t beneath_resolve(void)
{
	return RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS |
	       (dn_walk_symlinks_refused() ? RESOLVE_NO_SYMLINKS : 0);
}

/* A name in an open directory, without a walk from the top: one system call. */
static int local_stat_at(struct dn_svc *s, struct dn_file *dir, const char *name, bool nofollow,
			 struct stat *st)
{
	(void)s;
	int r = stat_more(dir->fd, name, AT_SYMLINK_NOFOLLOW, st);
	if (r < 0 || !S_ISLNK(st->st_mode) || nofollow)
		return r;
	/* a symlink to follow: where it leads, if that is beneath the directory */
	struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = beneath_resolve()};
	_cleanup_close_ int fd = openat2_retrying(dir->fd, name, &how);
	if (fd == -EXDEV || (fd == -ELOOP && dn_walk_symlinks_refused()))
		return -EAGAIN;
	if (fd < 0)
		return fd;
	return stat_more(fd, "", AT_EMPTY_PATH, st);
}

static int local_unlink_at(struct dn_svc *s, struct dn_file *dir, const char *name, int flags)
{
	return unlinkat(dir->fd, name, flags & AT_REMOVEDIR) < 0 ? -errno : 0;
}

/*
 * open of a name in an open directory: one openat2 beneath it. A FIFO,
 * device or socket, which the client opens itself (handover_probe), takes
 * the path's way (-EAGAIN), as does a symlink that leads out.
 */
static int local_open_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
			 const char *name, int oflags, mode_t mode, struct dn_file **out,
			 int *handover)
{
	(void)s;
	(void)handover;
	if (oflags & ~OPEN_FLAGS_ALLOWED)
		return -EINVAL;
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	bool excl = (oflags & O_CREAT) && (oflags & O_EXCL);
	bool follow = !(oflags & O_NOFOLLOW) && !excl;
	/* (a hint, as handover_probe's: the open itself stays beneath the directory) */
	struct stat st;
	if (!excl && !(oflags & (O_PATH | O_DIRECTORY)) &&
	    fstatat(dir->fd, name, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) == 0 &&
	    handed_over(st.st_mode))
		return -EAGAIN;
	_cleanup_free_ struct dn_file *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	/* as local_open: appending per write; O_NONBLOCK for a FIFO swapped in since */
	int fl = oflags & ~O_APPEND;
	if (oflags & O_PATH)
		fl &= O_PATH | O_DIRECTORY | O_NOFOLLOW;
	else
		fl |= O_NONBLOCK;
	struct open_how how = {.flags = (uint64_t)(fl | O_CLOEXEC), .resolve = beneath_resolve()};
	if ((oflags & O_CREAT) || (oflags & O_TMPFILE) == O_TMPFILE)
		how.mode = create_mode(mode) & 07777;
	f->fd = openat2_retrying(dir->fd, name, &how);
	if (f->fd == -EPERM && (oflags & O_APPEND)) { /* APPEND_ONLY */
		how.flags |= O_APPEND;
		f->fd = openat2_retrying(dir->fd, name, &how);
	}
	if (f->fd == -EXDEV || (f->fd == -ELOOP && follow && dn_walk_symlinks_refused()))
		return -EAGAIN;
	if (f->fd < 0)
		return f->fd;
	f->direct = (fl & O_DIRECT) != 0;
	pthread_mutex_init(&f->dir_lock, NULL);
	*out = TAKE_PTR(f);
	return 0;
}

static int local_mkdir_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
			  const char *name, mode_t mode)
{
	(void)s;
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	return mkdirat(dir->fd, name, create_mode(mode) & 07777) < 0 ? -errno : 0;
}

static int local_rename_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *from_dir,
			   const char *from, struct dn_file *to_dir, const char *to, unsigned flags)
{
	(void)s;
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	return renameat2(from_dir->fd, from, to_dir->fd, to, flags) < 0 ? -errno : 0;
}

/* An O_PATH descriptor of name in dir, resolved beneath it; -EAGAIN: the path's way */
static int beneath_fd(struct dn_file *dir, const char *name, bool nofollow)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0),
			       .resolve = beneath_resolve()};
	int fd = openat2_retrying(dir->fd, name, &how);
	return fd == -EXDEV || (fd == -ELOOP && !nofollow && dn_walk_symlinks_refused()) ? -EAGAIN
											 : fd;
}

static int local_chmod_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
			  const char *name, mode_t mode)
{
	(void)s;
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = beneath_fd(dir, name, false);
	return fd < 0 ? fd : chmod_held(fd, mode);
}

static int local_utimens_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
			    const char *name, bool nofollow, const struct timespec times[2])
{
	(void)s;
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	if (nofollow) /* (nothing followed: nothing can lead out) */
		return utimensat(dir->fd, name, times, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	_cleanup_close_ int fd = beneath_fd(dir, name, false);
	return fd < 0 ? fd : utimens_held(fd, times);
}

static int local_chown_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
			  const char *name, bool nofollow, uid_t uid, gid_t gid)
{
	(void)s;
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = beneath_fd(dir, name, nofollow);
	if (fd < 0)
		return fd;
	return fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0 ? -errno : 0;
}

static int local_access(struct dn_svc *s, const struct dn_cred *c, const char *path, int mode,
			bool nofollow)
{
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = resolve(to_local(s), path, O_PATH | (nofollow ? O_NOFOLLOW : 0), 0);
	if (fd < 0)
		return fd;
	/* AT_EACCESS: check the fs identity in force (the client's), not the service's real one. */
	return faccessat(fd, "", mode, AT_EACCESS | AT_EMPTY_PATH) < 0 ? -errno : 0;
}

static int local_mkdir(struct dn_svc *s, const struct dn_cred *c, const char *path, mode_t mode)
{
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	const char *base;
	struct dn_path_last l;
	_cleanup_close_ int dfd = resolve_parent(to_local(s), path, &base, &l);
	if (dfd < 0)
		return dfd;
	return mkdirat(dfd, base, create_mode(mode) & 07777) < 0 ? -errno : 0;
}

static int local_mknod(struct dn_svc *s, const struct dn_cred *c, const char *path, mode_t mode,
		       dev_t dev)
{
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	const char *base;
	struct dn_path_last l;
	_cleanup_close_ int dfd = resolve_parent(to_local(s), path, &base, &l);
	if (dfd < 0)
		return dfd;
	return mknodat(dfd, base, (mode & S_IFMT) | create_mode(mode & 07777), dev) < 0 ? -errno : 0;
}

static int unlink_common(struct dn_svc *s, const struct dn_cred *c, const char *path, int flags)
{
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	const char *base;
	struct dn_path_last l;
	_cleanup_close_ int dfd = resolve_parent(to_local(s), path, &base, &l);
	if (dfd < 0)
		return dfd;
	if (l.type == DN_LAST_ROOT && flags)
		return -EBUSY; /* the pool's top is mounted, as it were: rmdir("/") */
	return unlinkat(dfd, base, flags) < 0 ? -errno : 0;
}

static int local_rmdir(struct dn_svc *s, const struct dn_cred *c, const char *path)
{
	return unlink_common(s, c, path, AT_REMOVEDIR);
}

static int local_unlink(struct dn_svc *s, const struct dn_cred *c, const char *path)
{
	return unlink_common(s, c, path, 0);
}

static int local_rename(struct dn_svc *s, const struct dn_cred *c, const char *from,
			const char *to, unsigned flags)
{
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	const char *fb, *tb;
	struct dn_path_last fl, tl;
	_cleanup_close_ int ffd = resolve_parent(to_local(s), from, &fb, &fl);
	if (ffd < 0)
		return ffd;
	_cleanup_close_ int tfd = resolve_parent(to_local(s), to, &tb, &tl);
	if (tfd < 0) {
		/*
		 * The kernel searches the old name's directory for its last
		 * component before it looks at the new name at all: that
		 * refusal comes first (on the error path only, it costs nothing
		 * otherwise; renameat2 itself checks it when both resolved).
		 */
		if (fl.type != DN_LAST_ROOT &&
		    faccessat(ffd, "", X_OK, AT_EACCESS | AT_EMPTY_PATH) < 0 && errno == EACCES)
			return -EACCES;
		return tfd;
	}
	return renameat2(ffd, fb, tfd, tb, flags) < 0 ? -errno : 0;
}

static ssize_t local_readdir(struct dn_svc *s, struct dn_file *f, uint64_t cookie, void *buf,
			     size_t len, uint64_t *next)
{
	dn_gens_touch(); /* the directory's atime */
	pthread_mutex_lock(&f->dir_lock);
	ssize_t n = -1;
	if (lseek(f->fd, (off_t)cookie, SEEK_SET) >= 0)
		n = getdents64(f->fd, buf, len);
	if (n < 0)
		n = -errno;
	pthread_mutex_unlock(&f->dir_lock);
	*next = cookie;
	for (ssize_t at = 0; at < n;) {
		struct dirent64 *d = (struct dirent64 *)((char *)buf + at);
		*next = (uint64_t)d->d_off;
		at += d->d_reclen;
	}
	return n;
}

static int local_fsync(struct dn_svc *s, struct dn_file *f, bool datasync)
{
	return (datasync ? fdatasync(f->fd) : fsync(f->fd)) < 0 ? -errno : 0;
}

/* the host filesystem under the pool's root: all of it, as the kernel's syncfs */
static int local_syncfs(struct dn_svc *s, struct dn_file *f)
{
	return syncfs(f->fd) < 0 ? -errno : 0;
}

static int local_truncate(struct dn_svc *s, const struct dn_cred *c, const char *path, off_t len)
{
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	/*
	 * As truncate(2): the file's type first (a FIFO or device is EINVAL,
	 * and never opened here), then the caller's write permission, which
	 * the open for writing checks.
	 */
	_cleanup_close_ int at = resolve(to_local(s), path, O_PATH, 0);
	if (at < 0)
		return at;
	struct stat st;
	if (fstat(at, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", at);
	_cleanup_close_ int fd = open(proc, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return ftruncate(fd, len) < 0 ? -errno : 0;
}

static int local_ftruncate(struct dn_svc *s, struct dn_file *f, off_t len)
{
	return ftruncate(f->fd, len) < 0 ? -errno : 0;
}

static int local_chmod(struct dn_svc *s, const struct dn_cred *c, const char *path, mode_t mode)
{
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = resolve(to_local(s), path, O_PATH, 0);
	return fd < 0 ? fd : chmod_held(fd, mode);
}

static int local_fchmod(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f, mode_t mode)
{
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	return fchmod(f->fd, mode & 07777) < 0 ? -errno : 0;
}

static ssize_t local_readlink(struct dn_svc *s, const struct dn_cred *c, const char *path,
			      char *buf, size_t len)
{
	dn_gens_touch(); /* the link's atime: also a union following it in a stat */
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	const char *base;
	_cleanup_close_ int dfd = resolve_nofollow(to_local(s), path, &base);
	if (dfd < 0)
		return dfd;
	if (!base[0])
		return -EINVAL; /* a directory */
	ssize_t n = readlinkat(dfd, base, buf, len);
	return n < 0 ? -errno : n;
}

static int local_utimens(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			 const char *path, bool nofollow, const struct timespec times[2])
{
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	if (f)
		return futimens(f->fd, times) < 0 ? -errno : 0;
	const char *base = "";
	_cleanup_close_ int fd = nofollow ? resolve_nofollow(to_local(s), path, &base)
					  : resolve(to_local(s), path, O_PATH, 0);
	if (fd < 0)
		return fd;
	/* The last component is not followed, so it cannot lead outside. */
	if (base[0])
		return utimensat(fd, base, times, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	return utimens_held(fd, times);
}

static int local_chown(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
		       const char *path, bool nofollow, uid_t uid, gid_t gid)
{
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	if (f)
		return fchown(f->fd, uid, gid) < 0 ? -errno : 0;
	_cleanup_close_ int fd = resolve(to_local(s), path, O_PATH | (nofollow ? O_NOFOLLOW : 0), 0);
	if (fd < 0)
		return fd;
	return fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0 ? -errno : 0;
}

static int local_symlink(struct dn_svc *s, const struct dn_cred *c, const char *target,
			 const char *path)
{
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	const char *base;
	struct dn_path_last l;
	_cleanup_close_ int dfd = resolve_parent(to_local(s), path, &base, &l);
	if (dfd < 0)
		return dfd;
	/* The target is stored as given; resolving it later stays inside the root. */
	return symlinkat(target, dfd, base) < 0 ? -errno : 0;
}

/* A new name tb in directory tfd for the open file fd, by its magic link (no CAP_DAC_READ_SEARCH). */
static int link_by_fd(int fd, int tfd, const char *tb)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, proc, tfd, tb, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
}

static int local_link(struct dn_svc *s, const struct dn_cred *c, const char *from, const char *to,
		      bool follow)
{
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	/* as linkat(2): the old name is looked up first, followed only when asked */
	const char *fb = "", *tb;
	_cleanup_close_ int ffd = follow ? resolve(to_local(s), from, O_PATH, 0)
					 : resolve_nofollow(to_local(s), from, &fb);
	if (ffd < 0)
		return ffd;
	struct stat st;
	if (fb[0] && fstatat(ffd, fb, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	struct dn_path_last tl;
	_cleanup_close_ int tfd = resolve_parent(to_local(s), to, &tb, &tl);
	if (tfd < 0)
		return tfd;
	if (fb[0])
		return linkat(ffd, fb, tfd, tb, 0) < 0 ? -errno : 0;
	/*
	 * The file itself (followed, or "dir/.", "dir/": a directory, which the
	 * kernel refuses, EPERM, after the new name's checks), by its magic link.
	 */
	return link_by_fd(ffd, tfd, tb);
}

/* (the library asks the kernel's AT_EMPTY_PATH rule, if at all) */
static int local_link_file(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			   const char *to)
{
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	const char *tb;
	struct dn_path_last tl;
	_cleanup_close_ int tfd = resolve_parent(to_local(s), to, &tb, &tl);
	if (tfd < 0)
		return tfd;
	return link_by_fd(f->fd, tfd, tb);
}

/* The host filesystem's figures, and its type: a local pool is a view of it, as a bind mount. */
static int fd_statfs(int fd, struct statvfs *st, uint64_t *type)
{
	struct statfs sf;
	if (fstatvfs(fd, st) < 0 || fstatfs(fd, &sf) < 0)
		return -errno;
	*type = (uint64_t)sf.f_type;
	return 0;
}

static int local_statfs(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			const char *path, struct statvfs *st, uint64_t *type)
{
	if (f)
		return fd_statfs(f->fd, st, type);
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = resolve(to_local(s), path, O_PATH, 0);
	if (fd < 0)
		return fd;
	return fd_statfs(fd, st, type);
}

static int local_fallocate(struct dn_svc *s, struct dn_file *f, int mode, off_t off, off_t len)
{
	return fallocate(f->fd, mode, off, len) < 0 ? -errno : 0;
}

/*
 * Holes as the host filesystem keeps them; a directory as the host's
 * answers it too. The shared fd's offset moves: under the lock readdir
 * holds between its own seek and getdents.
 */
static off_t local_seek(struct dn_svc *s, struct dn_file *f, off_t off, int whence)
{
	pthread_mutex_lock(&f->dir_lock);
	off_t r = lseek(f->fd, off, whence);
	int e = errno;
	pthread_mutex_unlock(&f->dir_lock);
	return r < 0 ? -e : r;
}

/* The host's own answer: DN_OP_IOCTL lets only read-only inode ioctls through. */
static int local_ioctl_get(struct dn_svc *s, struct dn_file *f, unsigned int req, void *arg)
{
	(void)s;
	return ioctl(f->fd, req, arg) < 0 ? -errno : 0;
}

/* chattr: the host's filesystem decides, the thread being the caller (dn_cred_apply) */
static int local_ioctl_set(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			   unsigned int req, const void *arg)
{
	(void)s;
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	return ioctl(f->fd, req, arg) < 0 ? -errno : 0;
}

/* The host's page cache is the local pool's: DONTNEED drops it, as fio asks. */
static int local_fadvise(struct dn_svc *s, struct dn_file *f, off_t off, off_t len, int advice)
{
	return -posix_fadvise(f->fd, off, len, advice);
}

/*
 * A /proc/self/fd path naming path's file inside the root: the file itself
 * (following: use the following calls, the magic link leads to it), or its
 * directory plus the last component (nofollow: use the l* calls, a symlink's
 * own attributes). *fd holds what the name refers to; *follow says which
 * calls to use (a "." or ".." names a directory: never a symlink).
 */
static int xattr_name(struct local_svc *ls, const char *path, bool nofollow, int *fd,
		      char *out, size_t len, bool *follow)
{
	const char *base = "";
	*fd = nofollow ? resolve_nofollow(ls, path, &base) : resolve(ls, path, O_PATH, 0);
	if (*fd < 0)
		return *fd;
	*follow = !base[0];
	snprintf(out, len, "/proc/self/fd/%d%s%s", *fd, base[0] ? "/" : "", base);
	return 0;
}

static ssize_t local_getxattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			      const char *path, bool nofollow, const char *name, void *buf,
			      size_t len)
{
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	ssize_t n;
	if (f) {
		n = fgetxattr(f->fd, name, buf, len);
		return n < 0 ? -errno : n;
	}
	_cleanup_close_ int fd = -1;
	char p[PATH_MAX];
	bool follow;
	if ((r = xattr_name(to_local(s), path, nofollow, &fd, p, sizeof(p), &follow)) < 0)
		return r;
	n = follow ? getxattr(p, name, buf, len) : lgetxattr(p, name, buf, len);
	return n < 0 ? -errno : n;
}

static int local_setxattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			  const char *path, bool nofollow, const char *name, const void *value,
			  size_t len, int flags)
{
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	if (f)
		return fsetxattr(f->fd, name, value, len, flags) < 0 ? -errno : 0;
	_cleanup_close_ int fd = -1;
	char p[PATH_MAX];
	bool follow;
	if ((r = xattr_name(to_local(s), path, nofollow, &fd, p, sizeof(p), &follow)) < 0)
		return r;
	r = follow ? setxattr(p, name, value, len, flags) : lsetxattr(p, name, value, len, flags);
	return r < 0 ? -errno : 0;
}

static ssize_t local_listxattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			       const char *path, bool nofollow, char *buf, size_t len)
{
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	ssize_t n;
	if (f) {
		n = flistxattr(f->fd, buf, len);
		return n < 0 ? -errno : n;
	}
	_cleanup_close_ int fd = -1;
	char p[PATH_MAX];
	bool follow;
	if ((r = xattr_name(to_local(s), path, nofollow, &fd, p, sizeof(p), &follow)) < 0)
		return r;
	n = follow ? listxattr(p, buf, len) : llistxattr(p, buf, len);
	return n < 0 ? -errno : n;
}

static int local_removexattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			     const char *path, bool nofollow, const char *name)
{
	int r = dn_cred_apply(c);
	if (r < 0)
		return r;
	if (f)
		return fremovexattr(f->fd, name) < 0 ? -errno : 0;
	_cleanup_close_ int fd = -1;
	char p[PATH_MAX];
	bool follow;
	if ((r = xattr_name(to_local(s), path, nofollow, &fd, p, sizeof(p), &follow)) < 0)
		return r;
	r = follow ? removexattr(p, name) : lremovexattr(p, name);
	return r < 0 ? -errno : 0;
}

#define OWNER_IS_OFD (1ull << 31) /* lock_owner() in dispatch.c */

/* The host fd that carries owner's POSIX locks on f's file (made on first use). */
static int lock_fd_of(struct local_svc *ls, struct dn_file *f, uint64_t owner, bool create)
{
	struct stat st;
	if (fstat(f->fd, &st) < 0)
		return -errno;
	uid_t uid = dn_cred_current()->uid;
	unsigned held = 0;
	for (struct lock_fd *l = ls->locks; l; l = l->next) {
		if (l->owner == owner && l->dev == st.st_dev && l->ino == st.st_ino)
			return l->fd;
		held += l->uid == uid;
	}
	if (!create)
		return -ENOENT;
	/* as fcntl(2) when the kernel's lock table is full */
	if (held >= ls->lock_fds_per_uid)
		return -ENOLCK;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->fd);
	/* Read and write, so one fd serves every lock type; the client's own
	 * fd mode was checked by the caller, as the kernel checks it. */
	int fd = open(proc, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		fd = open(proc, (fcntl(f->fd, F_GETFL) & O_ACCMODE) | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	struct lock_fd *l = malloc(sizeof(*l));
	if (!l) {
		close(fd);
		return -ENOMEM;
	}
	*l = (struct lock_fd){ls->locks, owner, uid, st.st_dev, st.st_ino, fd};
	ls->locks = l;
	return fd;
}

static void forget_lock_fd(struct local_svc *ls, int fd)
{
	for (struct lock_fd **it = &ls->locks; *it; it = &(*it)->next)
		if ((*it)->fd == fd) {
			struct lock_fd *l = *it;
			*it = l->next;
			close(l->fd);
			free(l);
			return;
		}
}

static int local_lock(struct dn_svc *s, struct dn_file *f, int cmd, struct flock *fl,
		      uint64_t owner)
{
	struct local_svc *ls = to_local(s);
	int mode = fcntl(f->fd, F_GETFL) & O_ACCMODE;
	if (cmd == F_SETLK && ((fl->l_type == F_WRLCK && mode == O_RDONLY) ||
			       (fl->l_type == F_RDLCK && mode == O_WRONLY)))
		return -EBADF; /* as fcntl(2): the lock needs the fd's access */
	int r = 0, fd = f->fd;
	pthread_mutex_lock(&ls->locks_lock);
	if (!(owner & OWNER_IS_OFD)) {
		/* An unlock of an owner that never locked this file has nothing to do. */
		fd = lock_fd_of(ls, f, owner, !(cmd == F_SETLK && fl->l_type == F_UNLCK));
		if (fd == -ENOENT) {
			if (cmd == F_GETLK)
				fd = f->fd; /* no locks of ours: test against everyone's */
			else
				goto out;
		}
		if (fd < 0) {
			r = fd;
			goto out;
		}
	}
	fl->l_pid = 0;
	if (fcntl(fd, cmd == F_GETLK ? F_OFD_GETLK : F_OFD_SETLK, fl) < 0)
		r = errno == EACCES ? -EAGAIN : -errno;
	else if (fd != f->fd && cmd == F_SETLK && fl->l_type == F_UNLCK && fl->l_start == 0 &&
		 fl->l_len == 0)
		forget_lock_fd(ls, fd); /* nothing left to hold: as on close(2) */
out:
	pthread_mutex_unlock(&ls->locks_lock);
	return r;
}

static void local_forget_owners(struct dn_svc *s, uint64_t session_bits)
{
	struct local_svc *ls = to_local(s);
	pthread_mutex_lock(&ls->locks_lock);
	for (struct lock_fd **it = &ls->locks; *it;) {
		struct lock_fd *l = *it;
		if ((l->owner & ~0xffffffffull) != session_bits) {
			it = &l->next;
			continue;
		}
		*it = l->next;
		close(l->fd); /* the kernel drops its locks with it */
		free(l);
	}
	pthread_mutex_unlock(&ls->locks_lock);
}

static int local_flock(struct dn_svc *s, struct dn_file *f, int op, uint64_t owner)
{
	return flock(f->fd, op | LOCK_NB) < 0 ? -errno : 0;
}

static void local_destroy(struct dn_svc *s)
{
	struct local_svc *ls = to_local(s);
	close(ls->root_fd);
	for (struct lock_fd *l = ls->locks, *n; l; l = n) {
		n = l->next;
		close(l->fd);
		free(l);
	}
	pthread_mutex_destroy(&ls->locks_lock);
	free(ls);
}

static const struct dn_svc_ops local_ops = {
	.name = "local",
	.open = local_open,
	.close = local_close,
	.fpath = local_fpath,
	.mapfd = local_mapfd,
	.set_direct = local_set_direct,
	.pread = local_pread,
	.pwrite = local_pwrite,
	.fstat = local_fstat,
	.stat = local_stat,
	.access = local_access,
	.mkdir = local_mkdir,
	.mknod = local_mknod,
	.rmdir = local_rmdir,
	.stat_at = local_stat_at,
	.unlink_at = local_unlink_at,
	.open_at = local_open_at,
	.mkdir_at = local_mkdir_at,
	.rename_at = local_rename_at,
	.chmod_at = local_chmod_at,
	.utimens_at = local_utimens_at,
	.chown_at = local_chown_at,
	.unlink = local_unlink,
	.rename = local_rename,
	.readdir = local_readdir,
	.fsync = local_fsync,
	.syncfs = local_syncfs,
	.truncate = local_truncate,
	.ftruncate = local_ftruncate,
	.chmod = local_chmod,
	.fchmod = local_fchmod,
	.readlink = local_readlink,
	.utimens = local_utimens,
	.chown = local_chown,
	.symlink = local_symlink,
	.link = local_link,
	.link_file = local_link_file,
	.statfs = local_statfs,
	.fallocate = local_fallocate,
	.fadvise = local_fadvise,
	.seek = local_seek,
	.ioctl_get = local_ioctl_get,
	.ioctl_set = local_ioctl_set,
	.getxattr = local_getxattr,
	.setxattr = local_setxattr,
	.listxattr = local_listxattr,
	.removexattr = local_removexattr,
	.lock = local_lock,
	.flock = local_flock,
	.forget_owners = local_forget_owners,
	.destroy = local_destroy,
};

int dn_svc_local_new(const struct dn_config *cfg, struct dn_svc **out, char *err, size_t errlen)
{
	_cleanup_close_ int fd = open(cfg->local_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "[local] root: %s: %s", cfg->local_root, strerror(e));
		return -e;
	}
	struct local_svc *ls = calloc(1, sizeof(*ls));
	if (!ls)
		return -ENOMEM;
	ls->base.ops = &local_ops;
	ls->root_fd = TAKE_FD(fd);
	dn_protect_read(&ls->protect);
	if (fd_host_path(ls->root_fd, ls->root_path, sizeof(ls->root_path)) < 0 ||
	    strcmp(ls->root_path, "/") == 0)
		ls->root_path[0] = 0;
	ls->lock_fds_per_uid = cfg->lock_owners_per_uid;
	pthread_mutex_init(&ls->locks_lock, NULL);
	*out = &ls->base;
	return 0;
}
