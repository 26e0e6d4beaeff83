/* Compat Operations: the FUSE calls of the compat mount, served by the pool's libservice */
#include "compat-ops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "compat-caller.h"
#include "compat-metrics.h"
#include "cleanup.h"
#include "cred.h"
#include "futex.h"
#include "gens.h"
#include "no-symlinks.h"
#include "redirect.h"
#include "umask.h"

/* A backend op it may leave NULL answers ENOSYS, as through the preload library. */
#define CALL(s, op, ...) ((s)->ops->op ? (s)->ops->op((s), __VA_ARGS__) : -ENOSYS)

/*
 * The open flags the kernel passes on that a backend takes. Not O_DIRECT:
 * the mount caches nothing already, and libfuse's buffers are not aligned
 * for the backend's own direct I/O; nor the kernel's own (O_CLOEXEC,
 * FMODE_EXEC, FASYNC), which concern its file, not the backend's.
 */
#define COMPAT_OPEN_FLAGS                                                                    \
	(O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_DIRECTORY | O_NONBLOCK | O_DSYNC | \
	 O_SYNC | O_NOATIME)

/* Locks of the compat mount are session 0's (sessions count from 1): they meet the preloaded ones. */
#define OWNER_OFD (1ull << 31)

static _Thread_local bool thread_ready;

/*
 * The tree, with this thread acting as the request's caller (its fsuid,
 * fsgid, groups and capabilities), or NULL with *err. Every path the
 * kernel sends is resolved already: absolute symlinks were followed from
 * the caller's root by the kernel, none reaches the backend's walk.
 */
static struct dn_svc *caller_begin(bool access, struct dn_cred *c, int *err)
{
	struct fuse_context *ctx = fuse_get_context();
	struct dn_compat_tree *t = ctx->private_data;
	if (!thread_ready) {
		dn_umask_thread_init(); /* a umask of its own: each caller's in turn */
		thread_ready = true;
	}
	int r = dn_compat_caller(ctx->pid, ctx->uid, ctx->gid, access, c);
	/* the pool's [access], as at a preloaded program's attach: others get nothing */
	if (r == 0 && !dn_config_allows(t->cfg, c->uid, c->gid, c->groups, c->ngroups))
		r = -EACCES;
	/* and an instance's own lists, as for preloaded programs (dispatch.c) */
	if (r == 0 && t->mount &&
	    !dn_config_mount_allows(t->mount, c->uid, c->gid, c->groups, c->ngroups))
		r = -EACCES;
	if (r == 0)
		r = dn_cred_apply(c);
	if (r < 0) {
		*err = r;
		return NULL;
	}
	dn_redirect_allow(false);
	dn_walk_refuse_symlinks(t->svc->ops->real_paths);
	return t->svc;
}

/* Creating calls: the caller's umask (the kernel sends it), applied as the backend applies it. */
static void caller_umask(void)
{
	dn_umask_set(fuse_get_context()->umask);
}

/* An open file of the mount: the backend's, and the share of the uid that opened it. */
struct compat_open {
	struct dn_file *file;
	struct dn_quota *quota;
};

static struct dn_file *file_of(const struct fuse_file_info *fi)
{
	const struct compat_open *o = fi ? (struct compat_open *)(uintptr_t)fi->fh : NULL;
	return o ? o->file : NULL;
}

#define BEGIN(access)                                                     \
	struct dn_cred cred_;                                             \
	int err_ = 0;                                                     \
	struct dn_svc *s = caller_begin((access), &cred_, &err_);         \
	if (!s)                                                           \
		return err_;                                              \
	const struct dn_cred *c = &cred_;                                 \
	(void)c

/* Whether the tree's top answers for a POSIX ACL (one, or none: ENODATA), as the pool itself. */
static bool backend_has_acls(struct dn_compat_tree *t)
{
	struct dn_svc *s = t->svc;
	struct dn_cred pool = {.uid = geteuid(), .gid = getegid(), .caps = dn_cred_pool_caps()};
	if (!s->ops->getxattr || dn_cred_apply(&pool) < 0)
		return false;
	ssize_t r = s->ops->getxattr(s, &pool, NULL, "/", true, "system.posix_acl_access", NULL, 0);
	return r != -EOPNOTSUPP && r != -ENOSYS;
}

static void *compat_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	/*
	 * Coherent with the preloaded programs, which reach the backend
	 * directly: nothing cached in the kernel (no attributes, names or
	 * pages), and the backend's inode numbers.
	 */
	cfg->entry_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->use_ino = 1;
	cfg->direct_io = 1;
	cfg->kernel_cache = 0;
	/* an open file is the backend's: unlinking it is the backend's to handle, no .fuse_hidden */
	cfg->hard_remove = 1;
	cfg->nullpath_ok = 1;
	conn->want |= conn->capable & FUSE_CAP_ATOMIC_O_TRUNC;
	/*
	 * The caller's umask reaches the backend unapplied: a parent's default
	 * ACL replaces it there, as on the kernel's own filesystems.
	 */
	conn->want |= conn->capable & FUSE_CAP_DONT_MASK;
	/*
	 * The kernel's checks (default_permissions) read POSIX ACLs too, as on
	 * its own filesystems -- where the backend has them: a CephFS client
	 * without ACLs answers EOPNOTSUPP, which the kernel would turn into
	 * every permission check's answer.
	 */
	if (backend_has_acls(fuse_get_context()->private_data))
		conn->want |= conn->capable & FUSE_CAP_POSIX_ACL;
	/*
	 * The backend's write, truncate and chown drop set-ID bits as the caller
	 * does there; without this the kernel adds a mode change to the request,
	 * which libfuse makes a chmod that only the owner may do. libfuse 3.14
	 * does not pass it on to the kernel (no FUSE_HANDLE_KILLPRIV in its INIT
	 * reply); later ones do.
	 */
	conn->want |= conn->capable & FUSE_CAP_HANDLE_KILLPRIV;
	conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
	return fuse_get_context()->private_data;
}

static int compat_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	BEGIN(false);
	if (fi)
		return CALL(s, fstat, file_of(fi), st);
	return CALL(s, stat, c, path, true, st);
}

static int compat_readlink(const char *path, char *buf, size_t size)
{
	BEGIN(false);
	if (size == 0)
		return -EINVAL;
	ssize_t n = CALL(s, readlink, c, path, buf, size - 1);
	if (n < 0)
		return (int)n;
	buf[n] = 0;
	return 0;
}

static int compat_mknod(const char *path, mode_t mode, dev_t rdev)
{
	BEGIN(false);
	caller_umask();
	return CALL(s, mknod, c, path, mode, rdev);
}

static int compat_mkdir(const char *path, mode_t mode)
{
	BEGIN(false);
	caller_umask();
	return CALL(s, mkdir, c, path, mode);
}

static int compat_unlink(const char *path)
{
	BEGIN(false);
	return CALL(s, unlink, c, path);
}

static int compat_rmdir(const char *path)
{
	BEGIN(false);
	return CALL(s, rmdir, c, path);
}

static int compat_symlink(const char *target, const char *path)
{
	BEGIN(false);
	return CALL(s, symlink, c, target, path);
}

static int compat_rename(const char *from, const char *to, unsigned int flags)
{
	BEGIN(false);
	return CALL(s, rename, c, from, to, flags);
}

static int compat_link(const char *from, const char *to)
{
	BEGIN(false);
	return CALL(s, link, c, from, to, false);
}

static int compat_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	BEGIN(false);
	if (fi)
		return CALL(s, fchmod, c, file_of(fi), mode);
	return CALL(s, chmod, c, path, mode);
}

static int compat_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	BEGIN(false);
	return CALL(s, chown, c, file_of(fi), fi ? NULL : path, true, uid, gid);
}

static int compat_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	BEGIN(false);
	if (fi)
		return CALL(s, ftruncate, file_of(fi), size);
	return CALL(s, truncate, c, path, size);
}

/* Counts against [limits] open_files_per_uid with the caller's preloaded files (EMFILE, ENFILE). */
static int open_take_quota(const struct dn_cred *c, struct compat_open **out)
{
	struct dn_compat_tree *t = fuse_get_context()->private_data;
	_cleanup_free_ struct compat_open *o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	int r = dn_quota_hold(t->quotas, c->uid, &o->quota);
	if (r < 0)
		return r;
	r = dn_quota_file_take(o->quota);
	if (r < 0) {
		dn_quota_release(o->quota);
		return r;
	}
	*out = TAKE_PTR(o);
	return 0;
}

static void open_put_quota(struct compat_open *o)
{
	dn_quota_file_put(o->quota);
	dn_quota_release(o->quota);
	free(o);
}

/* The file is open(2)ed by the backend as the caller; a FIFO or device never gets here. */
static int open_as_caller(struct dn_svc *s, const struct dn_cred *c, const char *path, int flags,
			  mode_t mode, struct fuse_file_info *fi)
{
	struct compat_open *o;
	int r = open_take_quota(c, &o);
	if (r < 0)
		return r;
	int handover = -1;
	r = CALL(s, open, c, path, (flags & COMPAT_OPEN_FLAGS) | O_NOFOLLOW, mode, &o->file,
		 &handover);
	if (r == DN_SVC_HANDOVER) {
		close(handover);
		r = -ENXIO; /* the kernel opens special files of a FUSE mount itself */
	}
	if (r < 0) {
		open_put_quota(o);
		return r;
	}
	fi->fh = (uint64_t)(uintptr_t)o;
	fi->direct_io = 1;
	return 0;
}

static int compat_open(const char *path, struct fuse_file_info *fi)
{
	BEGIN(false);
	return open_as_caller(s, c, path, fi->flags, 0, fi);
}

static int compat_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	BEGIN(false);
	caller_umask();
	return open_as_caller(s, c, path, fi->flags | O_CREAT, mode, fi);
}

static int compat_read(const char *path, char *buf, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	BEGIN(false);
	return (int)CALL(s, pread, file_of(fi), buf, size, off);
}

static int compat_write(const char *path, const char *buf, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	BEGIN(false);
	uint64_t end;
	/* appends land at the backend's end, which may have moved under the kernel's view */
	return (int)CALL(s, pwrite, file_of(fi), buf, size, (fi->flags & O_APPEND) ? -1 : off,
			 &end);
}

static int compat_statfs(const char *path, struct statvfs *st)
{
	BEGIN(false);
	uint64_t type;
	return CALL(s, statfs, c, NULL, path, st, &type);
}

static int compat_release(const char *path, struct fuse_file_info *fi)
{
	struct fuse_context *ctx = fuse_get_context();
	struct dn_compat_tree *t = ctx->private_data;
	t->svc->ops->close(t->svc, file_of(fi));
	open_put_quota((struct compat_open *)(uintptr_t)fi->fh);
	return 0;
}

static int compat_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	BEGIN(false);
	return CALL(s, fsync, file_of(fi), datasync != 0);
}

/* fsync(2) of a directory: its entries made durable (a create before a crash), as the file's */
static int compat_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
	return compat_fsync(path, datasync, fi);
}

static int compat_setxattr(const char *path, const char *name, const char *value, size_t size,
			   int flags)
{
	BEGIN(false);
	return CALL(s, setxattr, c, NULL, path, true, name, value, size, flags);
}

static int compat_getxattr(const char *path, const char *name, char *value, size_t size)
{
	BEGIN(false);
	return (int)CALL(s, getxattr, c, NULL, path, true, name, value, size);
}

static int compat_listxattr(const char *path, char *list, size_t size)
{
	BEGIN(false);
	return (int)CALL(s, listxattr, c, NULL, path, true, list, size);
}

static int compat_removexattr(const char *path, const char *name)
{
	BEGIN(false);
	return CALL(s, removexattr, c, NULL, path, true, name);
}

static int compat_opendir(const char *path, struct fuse_file_info *fi)
{
	BEGIN(false);
	return open_as_caller(s, c, path, O_RDONLY | O_DIRECTORY, 0, fi);
}

static int compat_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
			  struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	BEGIN(false);
	(void)flags;
	/* the backend's cookies are the offsets: a listing read in several calls resumes there */
	uint64_t cookie = (uint64_t)off;
	static _Thread_local char batch[16384];
	for (;;) {
		uint64_t next = cookie;
		ssize_t n = CALL(s, readdir, file_of(fi), cookie, batch, sizeof(batch), &next);
		if (n <= 0)
			return (int)n;
		for (ssize_t at = 0; at < n;) {
			const struct dirent64 *d = (const struct dirent64 *)(batch + at);
			struct stat st = {.st_ino = d->d_ino, .st_mode = (mode_t)d->d_type << 12};
			if (fill(buf, d->d_name, &st, (off_t)d->d_off, 0))
				return 0; /* the kernel's buffer is full: it asks again from here */
			at += d->d_reclen;
		}
		cookie = next;
	}
}

static int compat_releasedir(const char *path, struct fuse_file_info *fi)
{
	return compat_release(path, fi);
}

static int compat_access(const char *path, int mask)
{
	BEGIN(true);
	return CALL(s, access, c, path, mask, true);
}

/*
 * A lock that must wait holds a FUSE thread while it does (the backend never
 * blocks: it is asked again until granted or interrupted). So that waiters
 * never take the threads every other caller needs, at most half of them
 * wait at once, and one uid's at most an eighth: beyond, ENOLCK, as a
 * kernel whose lock table is full.
 */
#define LOCK_WAITS_MAX (DN_COMPAT_THREADS_MAX / 2)
#define LOCK_WAITS_PER_UID_MAX (DN_COMPAT_THREADS_MAX / 8)

static int lock_wait_begin(const struct dn_cred *c, struct dn_quota **out)
{
	struct dn_compat_tree *t = fuse_get_context()->private_data;
	struct dn_quota *q;
	int r = dn_quota_hold(t->quotas, c->uid, &q);
	if (r < 0)
		return r;
	if (atomic_fetch_add(&q->lock_waits, 1) >= LOCK_WAITS_PER_UID_MAX)
		r = -ENOLCK;
	if (atomic_fetch_add(&t->lock_waits, 1) >= LOCK_WAITS_MAX)
		r = -ENOLCK;
	*out = q;
	return r;
}

/* After lock_wait_begin, whatever it answered. */
static void lock_wait_end(struct dn_quota *q)
{
	struct dn_compat_tree *t = fuse_get_context()->private_data;
	atomic_fetch_sub(&t->lock_waits, 1);
	atomic_fetch_sub(&q->lock_waits, 1);
	dn_quota_release(q);
}

static int wait_a_little(void)
{
	if (fuse_interrupted())
		return -EINTR;
	nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
	return 0;
}

/* One lock attempt: 0, or -errno with *busy when it conflicts and the call would wait. */
typedef int lock_try_fn(struct dn_svc *s, struct fuse_file_info *fi, void *arg, bool *busy);

/*
 * Asks until granted, refused otherwise, or (a call that waits) interrupted
 * or out of waiting room (lock_wait_begin); the first wait takes its place
 * among the waiters.
 */
static int lock_until_done(struct dn_svc *s, const struct dn_cred *c, struct fuse_file_info *fi,
			   lock_try_fn *try, void *arg)
{
	struct dn_quota *waiting = NULL;
	bool busy = false;
	int r;
	while ((r = try(s, fi, arg, &busy)) < 0 && busy) {
		if ((!waiting && (r = lock_wait_begin(c, &waiting)) < 0) ||
		    (r = wait_a_little()) < 0)
			break;
	}
	if (waiting)
		lock_wait_end(waiting);
	return r;
}

struct record_lock {
	int cmd;
	const struct flock *fl;
	uint64_t owner;
};

static int try_record_lock(struct dn_svc *s, struct fuse_file_info *fi, void *arg, bool *busy)
{
	const struct record_lock *l = arg;
	struct flock want = *l->fl;
	int r = CALL(s, lock, file_of(fi), F_SETLK, &want, l->owner);
	*busy = l->cmd == F_SETLKW && (r == -EAGAIN || r == -EACCES);
	return r;
}

struct flock_call {
	int op;
	uint64_t owner;
};

static int try_flock(struct dn_svc *s, struct fuse_file_info *fi, void *arg, bool *busy)
{
	const struct flock_call *l = arg;
	int r = CALL(s, flock, file_of(fi), l->op | LOCK_NB, l->owner);
	*busy = !(l->op & LOCK_NB) && r == -EWOULDBLOCK;
	return r;
}

static int compat_lock(const char *path, struct fuse_file_info *fi, int cmd, struct flock *fl)
{
	BEGIN(false);
	uint64_t owner = fi->lock_owner & (OWNER_OFD - 1);
	if (cmd == F_GETLK)
		return CALL(s, lock, file_of(fi), F_GETLK, fl, owner);
	return lock_until_done(s, c, fi, try_record_lock,
			       &(struct record_lock){.cmd = cmd, .fl = fl, .owner = owner});
}

static int compat_flock(const char *path, struct fuse_file_info *fi, int op)
{
	BEGIN(false);
	uint64_t owner = OWNER_OFD | (fi->lock_owner & (OWNER_OFD - 1));
	return lock_until_done(s, c, fi, try_flock, &(struct flock_call){.op = op, .owner = owner});
}

static int compat_utimens(const char *path, const struct timespec tv[2],
			  struct fuse_file_info *fi)
{
	BEGIN(false);
	return CALL(s, utimens, c, file_of(fi), fi ? NULL : path, true, tv);
}

static int compat_fallocate(const char *path, int mode, off_t off, off_t len,
			    struct fuse_file_info *fi)
{
	BEGIN(false);
	return CALL(s, fallocate, file_of(fi), mode, off, len);
}

static off_t compat_lseek(const char *path, off_t off, int whence, struct fuse_file_info *fi)
{
	BEGIN(false);
	if (whence != SEEK_DATA && whence != SEEK_HOLE)
		return -EINVAL;
	return CALL(s, seek, file_of(fi), off, whence);
}

/*
 * Changes through the mount are the pool's too: the preloaded programs'
 * cached stats end as for their own (gens.h), before the kernel hears back.
 * Every open counts as one that may create or truncate, and a write as of
 * an unknown inode: both end every cached answer.
 */
#define COMPAT_GENS_OFLAGS ((uint32_t)O_RDWR)

/*
 * Each entry counted as a preloaded request is (compat-metrics.h): its op
 * as the preload library would send it, its answer, its time here.
 */
#define COUNTED(ret, name, op, params, args)                                          \
	static ret counted_##name params                                              \
	{                                                                             \
		uint64_t start_ = dn_now_ns();                                        \
		ret r_ = compat_##name args;                                          \
		dn_gens_after((op), COMPAT_GENS_OFLAGS, 0);                           \
		dn_compat_metrics_record((op), (int64_t)r_, dn_now_ns() - start_);    \
		return r_;                                                            \
	}

COUNTED(int, getattr, fi ? DN_OP_FSTAT : DN_OP_STAT,
	(const char *path, struct stat *st, struct fuse_file_info *fi),
	(path, st, fi))
COUNTED(int, readlink, DN_OP_READLINK,
	(const char *path, char *buf, size_t size),
	(path, buf, size))
COUNTED(int, mknod, DN_OP_MKNOD,
	(const char *path, mode_t mode, dev_t rdev),
	(path, mode, rdev))
COUNTED(int, mkdir, DN_OP_MKDIR,
	(const char *path, mode_t mode),
	(path, mode))
COUNTED(int, unlink, DN_OP_UNLINK,
	(const char *path),
	(path))
COUNTED(int, rmdir, DN_OP_RMDIR,
	(const char *path),
	(path))
COUNTED(int, symlink, DN_OP_SYMLINK,
	(const char *target, const char *path),
	(target, path))
COUNTED(int, rename, DN_OP_RENAME,
	(const char *from, const char *to, unsigned int flags),
	(from, to, flags))
COUNTED(int, link, DN_OP_LINK,
	(const char *from, const char *to),
	(from, to))
COUNTED(int, chmod, fi ? DN_OP_FCHMOD : DN_OP_CHMOD,
	(const char *path, mode_t mode, struct fuse_file_info *fi),
	(path, mode, fi))
COUNTED(int, chown, DN_OP_CHOWN,
	(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi),
	(path, uid, gid, fi))
COUNTED(int, truncate, fi ? DN_OP_FTRUNCATE : DN_OP_TRUNCATE,
	(const char *path, off_t size, struct fuse_file_info *fi),
	(path, size, fi))
COUNTED(int, open, DN_OP_OPEN,
	(const char *path, struct fuse_file_info *fi),
	(path, fi))
COUNTED(int, read, DN_OP_PREAD,
	(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi),
	(path, buf, size, off, fi))
COUNTED(int, write, DN_OP_PWRITE,
	(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi),
	(path, buf, size, off, fi))
COUNTED(int, statfs, DN_OP_STATFS,
	(const char *path, struct statvfs *st),
	(path, st))
COUNTED(int, release, DN_OP_CLOSE,
	(const char *path, struct fuse_file_info *fi),
	(path, fi))
COUNTED(int, fsync, DN_OP_FSYNC,
	(const char *path, int datasync, struct fuse_file_info *fi),
	(path, datasync, fi))
COUNTED(int, fsyncdir, DN_OP_FSYNC,
	(const char *path, int datasync, struct fuse_file_info *fi),
	(path, datasync, fi))
COUNTED(int, setxattr, DN_OP_SETXATTR,
	(const char *path, const char *name, const char *value, size_t size, int flags),
	(path, name, value, size, flags))
COUNTED(int, getxattr, DN_OP_GETXATTR,
	(const char *path, const char *name, char *value, size_t size),
	(path, name, value, size))
COUNTED(int, listxattr, DN_OP_LISTXATTR,
	(const char *path, char *list, size_t size),
	(path, list, size))
COUNTED(int, removexattr, DN_OP_REMOVEXATTR,
	(const char *path, const char *name),
	(path, name))
COUNTED(int, opendir, DN_OP_OPEN,
	(const char *path, struct fuse_file_info *fi),
	(path, fi))
COUNTED(int, readdir, DN_OP_READDIR,
	(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi, enum fuse_readdir_flags flags),
	(path, buf, fill, off, fi, flags))
COUNTED(int, releasedir, DN_OP_CLOSE,
	(const char *path, struct fuse_file_info *fi),
	(path, fi))
COUNTED(int, access, DN_OP_ACCESS,
	(const char *path, int mask),
	(path, mask))
COUNTED(int, create, DN_OP_OPEN,
	(const char *path, mode_t mode, struct fuse_file_info *fi),
	(path, mode, fi))
COUNTED(int, lock, DN_OP_LOCK,
	(const char *path, struct fuse_file_info *fi, int cmd, struct flock *fl),
	(path, fi, cmd, fl))
COUNTED(int, flock, DN_OP_FLOCK,
	(const char *path, struct fuse_file_info *fi, int op),
	(path, fi, op))
COUNTED(int, utimens, DN_OP_UTIMENS,
	(const char *path, const struct timespec tv[2], struct fuse_file_info *fi),
	(path, tv, fi))
COUNTED(int, fallocate, DN_OP_FALLOCATE,
	(const char *path, int mode, off_t off, off_t len, struct fuse_file_info *fi),
	(path, mode, off, len, fi))
COUNTED(off_t, lseek, DN_OP_SEEK,
	(const char *path, off_t off, int whence, struct fuse_file_info *fi),
	(path, off, whence, fi))

static const struct fuse_operations operations = {
	.init = compat_init,
	.getattr = counted_getattr,
	.readlink = counted_readlink,
	.mknod = counted_mknod,
	.mkdir = counted_mkdir,
	.unlink = counted_unlink,
	.rmdir = counted_rmdir,
	.symlink = counted_symlink,
	.rename = counted_rename,
	.link = counted_link,
	.chmod = counted_chmod,
	.chown = counted_chown,
	.truncate = counted_truncate,
	.open = counted_open,
	.read = counted_read,
	.write = counted_write,
	.statfs = counted_statfs,
	.release = counted_release,
	.fsync = counted_fsync,
	.fsyncdir = counted_fsyncdir,
	.setxattr = counted_setxattr,
	.getxattr = counted_getxattr,
	.listxattr = counted_listxattr,
	.removexattr = counted_removexattr,
	.opendir = counted_opendir,
	.readdir = counted_readdir,
	.releasedir = counted_releasedir,
	.access = counted_access,
	.create = counted_create,
	.lock = counted_lock,
	.flock = counted_flock,
	.utimens = counted_utimens,
	.fallocate = counted_fallocate,
	.lseek = counted_lseek,
};

const struct fuse_operations *dn_compat_operations(void)
{
	return &operations;
}
