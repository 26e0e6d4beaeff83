/* Request Dispatch: validate one request copied out of shared memory, run it, reply */
#include "dispatch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chattr-ns.h"
#include "cred.h"
#include "futex.h"
#include "gens.h"
#include "handover.h"
#include "log.h"
#include "path.h"
#include "queue.h"
#include "no-symlinks.h"
#include "redirect.h"
#include "stream.h"
#include "umask.h"
#include "worker.h"

struct args {
	struct dn_svc *svc;     /* the instance the paths are in; NULL: no path */
	char path[DN_PATH_MAX]; /* absolute pool paths, as written (pool_path) */
	char path2[DN_PATH_MAX];
	const uint8_t *data;  /* write payload: private copy, or the client's buffer */
	size_t data_len;
	char at_name[NAME_MAX + 1]; /* path as written when one plain name relative to the handle */
	char at_name2[NAME_MAX + 1]; /* the same of path2 */
};

/* The inode the request on this thread changes, for its bump (gens.h); 0: not known. */
static _Thread_local uint64_t changed_ino, changed_other_ino;

/* o's inode number as a stat answers it, looked up once, when a change first needs it. */
static uint64_t open_ino(struct dn_open *o)
{
	uint64_t ino = atomic_load_explicit(&o->ino, memory_order_relaxed);
	struct stat st;
	if (!ino && o->svc->ops->fstat && o->svc->ops->fstat(o->svc, o->file, &st) == 0) {
		ino = (uint64_t)st.st_ino;
		atomic_store_explicit(&o->ino, ino, memory_order_relaxed);
	}
	return ino;
}

/* open_ino's other number (gens.h dn_gens_mixed), once: 0 when none. */
static uint64_t open_other_ino(struct dn_open *o)
{
	uint64_t ino = atomic_load_explicit(&o->other_ino, memory_order_relaxed);
	if (!ino) {
		ino = dn_union_other_ino(o->svc, o->file);
		ino = ino ? ino : UINT64_MAX;
		atomic_store_explicit(&o->other_ino, ino, memory_order_relaxed);
	}
	return ino == UINT64_MAX ? 0 : ino;
}

/*
 * The client maps fd, the backend's own file: its faults move the file's
 * times later, with no request. Every number a stat may answer for it
 * keeps nothing from now on (gens.h): the instance's, the backend's, and
 * the origin a union's copy-up recorded (another union's number for it).
 */
static void uncache_mapped(struct dn_svc *svc, struct dn_open *o, int fd)
{
	if (!dn_gens_on())
		return;
	struct stat st;
	uint64_t origin = 0;
	if (fstat(fd, &st) < 0 || dn_union_fd_origin(fd, &origin) < 0) {
		dn_gens_off(); /* not known which: nothing */
		return;
	}
	dn_gens_uncache((uint64_t)st.st_ino);
	if (origin)
		dn_gens_uncache(origin);
	if (dn_svc_is_union(svc)) {
		uint64_t ino = open_ino(o);
		if (ino)
			dn_gens_uncache(ino);
		else
			dn_gens_off();
	}
}

/* Answers st in the reply's stat area. */
static void reply_stat(struct dn_reply *rep, const struct stat *st)
{
	rep->flags |= DN_REPLY_STAT;
	rep->st = (struct dn_stat){
		.dev = st->st_dev, .ino = st->st_ino, .nlink = st->st_nlink,
		.size = (uint64_t)st->st_size, .blocks = (uint64_t)st->st_blocks,
		.mode = st->st_mode, .uid = st->st_uid, .gid = st->st_gid,
		.blksize = (uint32_t)st->st_blksize, .rdev = st->st_rdev,
		.atime_sec = st->st_atim.tv_sec, .atime_nsec = (uint32_t)st->st_atim.tv_nsec,
		.mtime_sec = st->st_mtim.tv_sec, .mtime_nsec = (uint32_t)st->st_mtim.tv_nsec,
		.ctime_sec = st->st_ctim.tv_sec, .ctime_nsec = (uint32_t)st->st_ctim.tv_nsec,
	};
	struct dn_stat_more m;
	if (dn_stat_more_get(st, &m)) {
		rep->st.more = m.mask;
		rep->st.btime_sec = m.btime.tv_sec;
		rep->st.btime_nsec = (uint32_t)m.btime.tv_nsec;
		rep->st.attributes = m.attributes;
		rep->st.attributes_mask = m.attributes_mask;
	}
}

/* Copies one NUL-terminated path out of the payload; rejects embedded NULs. */
static int take_path(const uint8_t *pl, size_t avail, uint16_t len, char *out)
{
	if ((size_t)len + 1 > avail || len >= DN_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(out, pl, len);
	out[len] = 0;
	if (strlen(out) != len)
		return -EINVAL;
	return 0;
}

/* The libservice has the op of a plain name relative to a handle (at_dir). */
static bool at_op_known(const struct dn_svc_ops *ops, uint32_t op)
{
	switch (op) {
	case DN_OP_STAT: return ops->stat_at;
	case DN_OP_UNLINK: case DN_OP_RMDIR: return ops->unlink_at;
	case DN_OP_OPEN: return ops->open_at;
	case DN_OP_MKDIR: return ops->mkdir_at;
	case DN_OP_RENAME: return ops->rename_at;
	case DN_OP_CHMOD: return ops->chmod_at;
	case DN_OP_UTIMENS: return ops->utimens_at;
	case DN_OP_CHOWN: return ops->chown_at;
	}
	return false;
}

/*
 * Makes raw, as the client wrote it below the mount, absolute: relative to
 * the handle's path when not. Nothing is folded: "." and "..", repeated and
 * trailing slashes reach the backend, which resolves them component by
 * component with the caller's rights, as the kernel would. *svc: the
 * instance it is in, the handle's or the one the request names; a second
 * path in another is EXDEV, as between kernel mounts.
 */
static int pool_path(struct dn_session *s, const struct dn_req *req, uint64_t handle, char *raw,
		     bool plain, struct dn_svc **svc)
{
	struct dn_svc *in;
	int r = 0;
	if (raw[0] == 0)
		return -ENOENT;
	if (raw[0] == '/') {
		if (req->mount >= s->nmounts)
			return -EINVAL;
		in = s->mounts[req->mount];
		if (!in)
			return -EACCES; /* (its [mount] access lists leave the caller out) */
	} else {
		if (handle == 0)
			return -EINVAL;
		struct dn_open *o = dn_session_handle_get(s, handle);
		if (!o)
			return -EBADF;
		in = o->svc;
		/*
		 * The directory's path now, as the libservice knows it (it was
		 * renamed since, say), unless at_dir will hand it the directory
		 * itself; else the path it was opened by.
		 */
		const char *dir = o->path;
		char now[DN_PATH_MAX];
		if (!(plain && at_op_known(in->ops, req->op)) && in->ops->fpath &&
		    in->ops->fpath(in, o->file, now, sizeof(now)) >= 0)
			dir = now;
		r = dn_path_concat(dir, raw, raw, DN_PATH_MAX);
		dn_open_put(o);
	}
	if (*svc && *svc != in)
		return -EXDEV;
	*svc = in;
	return r < 0 ? r : 0;
}

/*
 * The path an open file is known by afterwards (FPATH, calls relative to
 * it, fchdir): path without ".", "..", repeated or trailing slashes.
 * Slashes fold lexically once the open has resolved the path; "." and ".."
 * are the backend's to fold (after a symlink they lead elsewhere), and
 * lexically only when it cannot.
 */
static const char *open_path(struct dn_svc *svc, struct dn_file *f, const char *path, char *buf)
{
	size_t n = strlen(path);
	unsigned odd = dn_path_oddities(path);
	if (!odd && (n < 2 || path[n - 1] != '/'))
		return path;
	if ((odd & (DN_PATH_DOT | DN_PATH_DOTDOT)) && svc->ops->fpath &&
	    svc->ops->fpath(svc, f, buf, DN_PATH_MAX) >= 0)
		return buf;
	return dn_path_normalize(path, buf, DN_PATH_MAX) < 0 ? path : buf;
}

/* Keeps p, as written, in at when it is one plain name relative to the handle (at_dir). */
static void note_plain_name(const char *p, char at[NAME_MAX + 1])
{
	size_t n = strlen(p);
	bool plain = n && n <= NAME_MAX && !strchr(p, '/') && strcmp(p, ".") != 0 &&
		     strcmp(p, "..") != 0;
	if (plain)
		memcpy(at, p, n + 1);
	else
		at[0] = 0;
}

/* the handle rename's and link's second path is relative to (wire.h: off) */
static uint64_t second_handle(const struct dn_req *req)
{
	return req->off ? req->off : req->handle;
}

static int unpack(struct dn_session *s, const struct dn_req *req, uint8_t *bufdata,
		  size_t bufsize, struct args *a)
{
	a->svc = NULL;
	a->at_name[0] = a->at_name2[0] = 0;
	const uint8_t *pl;
	size_t max;
	if (req->where == DN_REQ_PAYLOAD_IN_BUF) {
		pl = bufdata;
		max = bufsize;
	} else if (req->where == 0) {
		pl = req->inl;
		max = DN_INLINE_MAX;
	} else {
		return -EINVAL;
	}
	if (req->payload_len > max)
		return -EINVAL;
	size_t at = 0;
	int r;
	if (req->path_len) {
		if ((r = take_path(pl, req->payload_len, req->path_len, a->path)) < 0)
			return r;
		at += (size_t)req->path_len + 1;
		note_plain_name(a->path, a->at_name);
	}
	/* a second path names a file for rename and link; a symlink's
	 * target and an xattr name are taken as they are */
	bool named2 = req->op == DN_OP_RENAME || req->op == DN_OP_LINK;
	if (req->path2_len) {
		if ((r = take_path(pl + at, req->payload_len - at, req->path2_len, a->path2)) < 0)
			return r;
		at += (size_t)req->path2_len + 1;
		if (named2)
			note_plain_name(a->path2, a->at_name2);
	}
	bool plain = a->at_name[0] && (req->op != DN_OP_RENAME || a->at_name2[0]);
	if (req->path_len && (r = pool_path(s, req, req->handle, a->path, plain, &a->svc)) < 0)
		return r;
	if (req->path2_len && named2 &&
	    (r = pool_path(s, req, second_handle(req), a->path2, plain, &a->svc)) < 0)
		return r;
	a->data = pl + at;
	a->data_len = req->payload_len - at;
	return 0;
}

enum target { BY_HANDLE, BY_PATH, BY_PATH_OR_HANDLE, BY_PATH_NONE /* session-wide */ };

static enum target target_of(uint32_t op)
{
	switch (op) {
	case DN_OP_OPEN: case DN_OP_STAT: case DN_OP_ACCESS: case DN_OP_MKDIR:
	case DN_OP_RMDIR: case DN_OP_UNLINK: case DN_OP_RENAME: case DN_OP_TRUNCATE:
	case DN_OP_CHMOD: case DN_OP_READLINK: case DN_OP_SYMLINK: case DN_OP_LINK:
	case DN_OP_MKNOD:
		return BY_PATH;
	case DN_OP_HANDOFF:
		return BY_PATH_NONE;
	case DN_OP_UTIMENS: case DN_OP_CHOWN: case DN_OP_STATFS: case DN_OP_GETXATTR:
	case DN_OP_SETXATTR: case DN_OP_LISTXATTR: case DN_OP_REMOVEXATTR:
		return BY_PATH_OR_HANDLE;
	default:
		return BY_HANDLE;
	}
}

/*
 * The client names the owner (its pid for POSIX locks, bit 63 + its open
 * file description otherwise); the session's id makes it the pool's.
 */
static uint64_t lock_owner(const struct dn_session *s, uint64_t client_owner)
{
	uint64_t ofd_bit = client_owner >> 63;
	return (uint64_t)s->id << 32 | ofd_bit << 31 | (client_owner & 0x7fffffffu);
}

static int64_t lock_op(struct dn_svc *svc, struct dn_session *s, struct dn_file *f,
		       const struct dn_req *req, const struct args *a, struct dn_reply *rep)
{
	struct dn_flock w;
	if (a->data_len != sizeof(w) || (req->oflags != F_GETLK && req->oflags != F_SETLK))
		return -EINVAL;
	memcpy(&w, a->data, sizeof(w));
	if (w.type != F_RDLCK && w.type != F_WRLCK && w.type != F_UNLCK)
		return -EINVAL;
	if (w.whence != SEEK_SET || w.start < 0)
		return -EINVAL; /* the client makes every lock absolute */
	struct flock fl = {.l_type = (short)w.type, .l_whence = SEEK_SET,
			   .l_start = (off_t)w.start, .l_len = (off_t)w.len};
	int r = svc->ops->lock(svc, f, (int)req->oflags, &fl, lock_owner(s, req->off));
	if (r == 0 && req->oflags == F_GETLK) {
		/* the reply's stat area is free: the answer travels there */
		rep->aux = (uint64_t)(uint16_t)fl.l_type;
		rep->flags |= DN_REPLY_STAT;
		rep->st.size = (uint64_t)fl.l_start;
		rep->st.blocks = (uint64_t)fl.l_len;
		rep->st.uid = (uint32_t)fl.l_pid;
	}
	return r;
}

/*
 * As the kernel's generic_write_check_limits: a write starting at or past
 * the caller's RLIMIT_FSIZE fails (EFBIG, and the client raises SIGXFSZ);
 * one reaching past it is cut short there. An append starts at the size.
 */
static int fsize_fit(struct dn_svc *svc, struct dn_file *f, const struct dn_req *req, size_t *len,
		     struct dn_reply *rep)
{
	if (req->fsize == 0 || *len == 0)
		return 0;
	uint64_t limit = req->fsize - 1, pos = req->off;
	if (req->flags & DN_WRITE_APPEND) {
		struct stat st;
		int r = svc->ops->fstat ? svc->ops->fstat(svc, f, &st) : -ENOSYS;
		if (r < 0)
			return r;
		pos = (uint64_t)st.st_size;
	}
	if (pos >= limit) {
		rep->flags |= DN_REPLY_SIGXFSZ;
		return -EFBIG;
	}
	if (*len > limit - pos)
		*len = (size_t)(limit - pos);
	return 0;
}

/* A descriptor the client opens or maps itself waits for its claim (handover.h). */
static int64_t hand_over(struct dn_session *s, int fd, struct dn_reply *rep)
{
	if (!s->handovers) {
		close(fd);
		return -EOPNOTSUPP;
	}
	uint64_t token[2];
	int r = dn_handover_put(s->handovers, fd, s->cred.uid, token);
	if (r < 0)
		return r;
	rep->flags |= DN_REPLY_HANDOVER;
	rep->handle = token[0];
	rep->aux = token[1];
	return 0;
}

/*
 * SEEK_DATA/SEEK_HOLE where the backend keeps no holes (CephFS's clients),
 * as the kernel's generic_file_llseek_size answers them: data from 0 to
 * the end, ENXIO at or past it and before 0. A file ends at its size; a
 * directory where ext4's (hash-ordered) ones end, at INT64_MAX, its size
 * being no offset of its entries. SEEK_END (directories): the size.
 */
static int64_t seek_without_holes(struct dn_svc *svc, struct dn_file *f, int64_t off, int whence)
{
	struct stat st;
	int r = svc->ops->fstat ? svc->ops->fstat(svc, f, &st) : -ENOSYS;
	if (r < 0)
		return r;
	if (whence == SEEK_END) /* generic_file_llseek's, as a FUSE directory answers it */
		return (off > 0 && st.st_size > INT64_MAX - off) || st.st_size + off < 0
			       ? -EINVAL
			       : st.st_size + off;
	int64_t end = S_ISDIR(st.st_mode) ? INT64_MAX : st.st_size;
	if (off < 0 || off >= end)
		return -ENXIO;
	return whence == SEEK_HOLE ? end : off;
}

/*
 * DN_OP_IOCTL: the read-only inode ioctls a filesystem answers (lsattr,
 * filefrag, cp and xfs_io ask them), the argument built in the data area;
 * no other request but the setters (ioctl_set) reaches the backend. Its
 * size, or -errno.
 */
static int64_t ioctl_get(struct dn_svc *svc, struct dn_file *f, const struct dn_req *req,
			 const struct args *a, uint8_t *bufdata, size_t bufsize)
{
	struct fiemap fm = {0};
	size_t size;
	switch (req->oflags) {
	case FS_IOC_GETFLAGS:
	case FS_IOC_GETVERSION:
		size = sizeof(int); /* (the kernel's answer is an int, whatever _IOR says) */
		break;
	case FS_IOC_FSGETXATTR:
		size = sizeof(struct fsxattr);
		break;
	case FS_IOC_FIEMAP:
		if (a->data_len != sizeof(fm))
			return -EINVAL;
		memcpy(&fm, a->data, sizeof(fm));
		if (bufsize < sizeof(fm) ||
		    fm.fm_extent_count > (bufsize - sizeof(fm)) / sizeof(struct fiemap_extent))
			return -EINVAL; /* (the client asks for no more than fits) */
		size = sizeof(fm) + fm.fm_extent_count * sizeof(struct fiemap_extent);
		break;
	default:
		return -ENOTTY;
	}
	if (req->len < size || size > bufsize)
		return -EINVAL;
	if (!svc->ops->ioctl_get)
		return -ENOSYS;
	/*
	 * The kernel fills a private copy: in shared memory the client could
	 * raise FIEMAP's count between our check and the kernel's read of it,
	 * and have the kernel write past the buffer.
	 */
	uint8_t *arg = calloc(1, size);
	if (!arg)
		return -ENOMEM;
	if (req->oflags == FS_IOC_FIEMAP)
		memcpy(arg, &fm, sizeof(fm));
	int r = svc->ops->ioctl_get(svc, f, req->oflags, arg);
	if (r == 0)
		memcpy(bufdata, arg, size);
	else if (r == -EBADR && req->oflags == FS_IOC_FIEMAP)
		memcpy(bufdata, arg, sizeof(fm)); /* fm_flags: those refused (fiemap_prep), as ioctl_fiemap copies back */
	free(arg);
	return r < 0 ? r : (int64_t)size;
}

/*
 * DN_RW_DIRECT (wire.h): the backend's file follows the caller's O_DIRECT
 * (F_SETFL may have changed it). *at: where in the data area the data goes,
 * the caller's place in a page, so that the kernel judges its alignment as
 * it would the caller's buffer; 0 on backends without O_DIRECT of their own.
 */
static int direct_mode(struct dn_svc *svc, struct dn_file *f, const struct dn_req *req,
		       size_t bufsize, size_t *at)
{
	bool on = req->flags & DN_RW_DIRECT;
	*at = 0;
	if (on && req->op == DN_OP_PREAD && (req->flags & DN_READ_STREAM))
		return -EINVAL;
	if (!svc->ops->set_direct)
		return 0;
	int r = svc->ops->set_direct(svc, f, on, on ? req->mode >> DN_DIRECT_LENS_SHIFT : 0);
	if (r < 0 || !on)
		return r;
	*at = req->mode % DN_DIRECT_PAGE;
	return *at >= bufsize || req->len > bufsize - *at ? -EINVAL : 0;
}

/*
 * DN_OP_IOCTL's setters (chattr): the value from the request, copied out of
 * shared memory first, to the backend, which decides with the caller's rights.
 */
static int64_t ioctl_set(struct dn_svc *svc, const struct dn_cred *c, pid_t pid,
			 struct dn_file *f, const struct dn_req *req, const struct args *a)
{
	union {
		int flags;
		struct fsxattr x;
	} v;
	size_t size = req->oflags == FS_IOC_FSSETXATTR ? sizeof(v.x) : sizeof(v.flags);
	if (a->data_len != size)
		return -EINVAL;
	memcpy(&v, a->data, size);
	if (!svc->ops->ioctl_set)
		return -ENOSYS;
	int r = dn_chattr_ns_check(svc, c, f, req->oflags, &v, pid);
	return r < 0 ? r : svc->ops->ioctl_set(svc, c, f, req->oflags, &v);
}

/* Ops on an open file: the handle names it. */
static int64_t run_file_op(struct dn_session *s, const struct dn_req *req, const struct args *a,
			   struct dn_buf *b, uint8_t *bufdata, size_t bufsize, struct dn_reply *rep)
{
	if (req->op == DN_OP_CLOSE)
		return dn_session_handle_close(s, req->handle);
	/*
	 * off and len are file offsets, except for the locks (off: lock owner);
	 * fadvise takes a negative offset, as the kernel does.
	 */
	if (req->op != DN_OP_LOCK && req->op != DN_OP_FLOCK &&
	    ((req->off > INT64_MAX && req->op != DN_OP_FADVISE && req->op != DN_OP_SEEK) ||
	     req->len > INT64_MAX))
		return -EINVAL;
	/* a range past the largest offset, as the kernel answers it: the backends add len to off */
	bool at_off = req->op == DN_OP_PREAD ||
		      (req->op == DN_OP_PWRITE && !(req->flags & DN_WRITE_APPEND));
	if ((at_off || req->op == DN_OP_FALLOCATE) && req->len > INT64_MAX - req->off)
		return at_off ? -EINVAL : -EFBIG;
	struct dn_open *o = dn_session_handle_get(s, req->handle);
	if (!o)
		return -EBADF;
	struct dn_svc *svc = o->svc;
	const struct dn_svc_ops *ops = svc->ops;
	struct stat st;
	size_t at; /* DN_RW_DIRECT: the caller's place in a page */
	int64_t r = -ENOSYS;
	if (dn_gens_bumps_inode(req->op, req->oflags, dn_svc_is_union(svc))) {
		changed_ino = open_ino(o);
		if (dn_gens_mixed())
			changed_other_ino = open_other_ino(o);
	}
	switch (req->op) {
	case DN_OP_PREAD:
		if (req->len > bufsize)
			r = -EINVAL;
		else if ((r = direct_mode(svc, o->file, req, bufsize, &at)) < 0)
			break;
		else if (!ops->pread)
			r = -ENOSYS;
		else if (req->flags & DN_READ_STREAM)
			r = dn_stream_pread(svc, o->file, b, bufdata, req->len, (off_t)req->off,
					    &rep->aux);
		else if ((r = ops->pread(svc, o->file, bufdata + at, req->len, (off_t)req->off)) > 0 &&
			 at)
			memmove(bufdata, bufdata + at, (size_t)r);
		break;
	case DN_OP_PWRITE: {
		size_t len = a->data_len;
		const uint8_t *from = a->data;
		if (req->len != a->data_len) {
			r = -EINVAL;
			break;
		}
		if ((r = direct_mode(svc, o->file, req, bufsize, &at)) < 0)
			break;
		if (at) {
			memmove(bufdata + at, a->data, len);
			from = bufdata + at;
		}
		r = -ENOSYS;
		if (ops->pwrite && (r = fsize_fit(svc, o->file, req, &len, rep)) == 0)
			r = ops->pwrite(svc, o->file, from, len,
					(req->flags & DN_WRITE_APPEND) ? -1 : (off_t)req->off,
					&rep->aux);
		break;
	}
	case DN_OP_FSTAT:
		if (ops->fstat && (r = ops->fstat(svc, o->file, &st)) == 0)
			reply_stat(rep, &st);
		break;
	case DN_OP_READDIR:
		if (req->len > bufsize)
			r = -EINVAL;
		else if (ops->readdir)
			r = ops->readdir(svc, o->file, req->off, bufdata, req->len, &rep->aux);
		break;
	case DN_OP_FSYNC:
		if ((req->flags & DN_FSYNC_FS) && ops->syncfs)
			r = ops->syncfs(svc, o->file);
		else if (ops->fsync)
			r = ops->fsync(svc, o->file, req->flags & DN_FSYNC_DATA);
		break;
	case DN_OP_FTRUNCATE:
		if (ops->ftruncate)
			r = ops->ftruncate(svc, o->file, (off_t)req->off);
		break;
	case DN_OP_FCHMOD:
		if (ops->fchmod)
			r = ops->fchmod(svc, &s->cred, o->file, req->mode);
		break;
	case DN_OP_FALLOCATE:
		if (ops->fallocate)
			r = ops->fallocate(svc, o->file, (int)req->mode, (off_t)req->off,
					   (off_t)req->len);
		break;
	case DN_OP_SEEK:
		if (req->mode != SEEK_DATA && req->mode != SEEK_HOLE && req->mode != SEEK_END) {
			r = -EINVAL; /* (a return here kept the handle's reference: its file never closed) */
			break;
		}
		r = ops->seek ? ops->seek(svc, o->file, (off_t)req->off, (int)req->mode) : -ENOSYS;
		if (r == -ENOSYS)
			r = seek_without_holes(svc, o->file, (int64_t)req->off, (int)req->mode);
		break;
	case DN_OP_IOCTL:
		if (req->oflags == FS_IOC_SETFLAGS || req->oflags == FS_IOC_FSSETXATTR)
			r = ioctl_set(svc, &s->cred, s->pid, o->file, req, a);
		else
			r = ioctl_get(svc, o->file, req, a, bufdata, bufsize);
		break;
	case DN_OP_FADVISE:
		r = ops->fadvise ? ops->fadvise(svc, o->file, (off_t)req->off, (off_t)req->len,
						(int)req->mode)
				 : 0;
		break;
	case DN_OP_LOCK:
		if (ops->lock)
			r = lock_op(svc, s, o->file, req, a, rep);
		break;
	case DN_OP_FLOCK:
		if (ops->flock)
			r = ops->flock(svc, o->file, (int)req->mode, lock_owner(s, req->off));
		break;
	case DN_OP_MAPFD:
		if (!ops->mapfd) {
			r = -ENODEV; /* the client maps a copy */
		} else {
			int fd = ops->mapfd(svc, o->file, req->flags & DN_MAP_WRITE);
			if (fd >= 0)
				uncache_mapped(svc, o, fd);
			r = fd < 0 ? fd : hand_over(s, fd, rep);
		}
		break;
	case DN_OP_FPATH: {
		/* where it is now, as the libservice knows it; else the path it was opened by */
		const char *p = o->path;
		char now[DN_PATH_MAX];
		if (ops->fpath && ops->fpath(svc, o->file, now, sizeof(now)) >= 0)
			p = now;
		size_t n = strlen(p);
		r = n + 1 > bufsize ? -ENAMETOOLONG : (int64_t)n;
		if (r >= 0)
			memcpy(bufdata, p, n + 1);
		break;
	}
	}
	dn_open_put(o);
	return r;
}

static int at_dir(struct dn_session *s, const struct dn_req *req, struct args *a,
		  struct stat *st, const struct timespec *times);

static int64_t utimens(struct dn_svc *svc, struct dn_session *s, const struct dn_req *req,
		       struct dn_file *f, struct args *a, bool nofollow)
{
	struct dn_timespec w[2];
	struct timespec ts[2];
	if (a->data_len != sizeof(w))
		return -EINVAL;
	memcpy(w, a->data, sizeof(w));
	/* as utimensat(2): nothing to do, and the path is not even looked at */
	if (w[0].nsec == UTIME_OMIT && w[1].nsec == UTIME_OMIT)
		return 0;
	for (int i = 0; i < 2; i++) {
		if (w[i].nsec != UTIME_NOW && w[i].nsec != UTIME_OMIT &&
		    (w[i].nsec < 0 || w[i].nsec > 999999999)) {
			/* once the path resolved: ENOENT, ENOTDIR ("file/") come first */
			struct stat st;
			int r = f || !svc->ops->stat ? 0
					: svc->ops->stat(svc, &s->cred, a->path, nofollow, &st);
			return r < 0 ? r : -EINVAL;
		}
		ts[i] = (struct timespec){.tv_sec = (time_t)w[i].sec, .tv_nsec = (long)w[i].nsec};
	}
	int r = f ? -EAGAIN : at_dir(s, req, a, NULL, ts);
	return r != -EAGAIN ? r : svc->ops->utimens(svc, &s->cred, f, a->path, nofollow, ts);
}

static int64_t statfs_op(struct dn_svc *svc, struct dn_session *s, struct dn_file *f,
			 const struct args *a, uint8_t *bufdata, size_t bufsize)
{
	struct statvfs v;
	uint64_t type = 0;
	if (bufsize < sizeof(struct dn_statfs))
		return -EINVAL;
	int r = svc->ops->statfs(svc, &s->cred, f, a->path, &v, &type);
	if (r < 0)
		return r;
	struct dn_statfs w = {
		.bsize = v.f_bsize, .frsize = v.f_frsize, .blocks = v.f_blocks, .bfree = v.f_bfree,
		.bavail = v.f_bavail, .files = v.f_files, .ffree = v.f_ffree,
		.favail = v.f_favail, .fsid = v.f_fsid, .flag = v.f_flag, .namemax = v.f_namemax,
		.type = type,
	};
	memcpy(bufdata, &w, sizeof(w));
	return 0;
}

/*
 * An *_at op that answered -EAGAIN leaves the call to its path, which was
 * joined to the directory's path as opened (pool_path): joined again to
 * where the directory is now, when the libservice knows.
 */
static void rebase(struct dn_open *o, const char *name, char *path)
{
	char now[DN_PATH_MAX];
	if (o->svc->ops->fpath && o->svc->ops->fpath(o->svc, o->file, now, sizeof(now)) >= 0)
		dn_path_concat(now, name, path, DN_PATH_MAX); /* (too long: left as it was) */
}

/*
 * Calls on plain names relative to an open directory (fstatat(dirfd,
 * "name"), unlinkat, openat, mkdirat, renameat, fchmodat..., as fts,
 * rm -rf and tar make them): the names are looked up in that directory, as the kernel
 * looks them up, not by the directory's path walked from the top again
 * (which names another directory once it was renamed; on the local
 * backend it is also one system call instead of three). -EAGAIN: the
 * path's way.
 */
static int at_dir(struct dn_session *s, const struct dn_req *req, struct args *a,
		  struct stat *st, const struct timespec *times)
{
	const struct dn_svc_ops *ops = a->svc->ops;
	if (!a->at_name[0] || !at_op_known(ops, req->op) ||
	    (req->op == DN_OP_RENAME && !a->at_name2[0]))
		return -EAGAIN;
	struct dn_open *o = dn_session_handle_get(s, req->handle);
	if (!o)
		return -EBADF;
	struct dn_open *o2 = NULL;
	if (req->op == DN_OP_RENAME && second_handle(req) != req->handle &&
	    !(o2 = dn_session_handle_get(s, second_handle(req)))) {
		dn_open_put(o);
		return -EBADF;
	}
	int r = -EAGAIN;
	if (o->svc != a->svc || (o2 && o2->svc != a->svc))
		r = -EAGAIN; /* (a path of another instance: EXDEV is the core's to say) */
	else if (req->op == DN_OP_STAT)
		r = ops->stat_at(a->svc, o->file, a->at_name, req->flags & DN_AT_NOFOLLOW, st);
	else if (req->op == DN_OP_MKDIR)
		r = ops->mkdir_at(a->svc, &s->cred, o->file, a->at_name, req->mode);
	else if (req->op == DN_OP_CHMOD)
		r = ops->chmod_at(a->svc, &s->cred, o->file, a->at_name, req->mode);
	else if (req->op == DN_OP_UTIMENS)
		r = ops->utimens_at(a->svc, &s->cred, o->file, a->at_name,
				    req->flags & DN_AT_NOFOLLOW, times);
	else if (req->op == DN_OP_CHOWN)
		r = ops->chown_at(a->svc, &s->cred, o->file, a->at_name,
				  req->flags & DN_AT_NOFOLLOW, (uid_t)req->mode, (gid_t)req->oflags);
	else if (req->op == DN_OP_RENAME)
		r = ops->rename_at(a->svc, &s->cred, o->file, a->at_name, o2 ? o2->file : o->file,
				   a->at_name2, req->flags & ~DN_REQ_REDIRECT);
	else
		r = ops->unlink_at(a->svc, o->file, a->at_name,
				   req->op == DN_OP_RMDIR ? AT_REMOVEDIR : 0);
	if (r == -EAGAIN) {
		rebase(o, a->at_name, a->path);
		if (req->op == DN_OP_RENAME)
			rebase(o2 ? o2 : o, a->at_name2, a->path2);
	}
	if (o2)
		dn_open_put(o2);
	dn_open_put(o);
	return r;
}

/* open's: *f the file opened, by the directory's handle; -EAGAIN: the path's way */
static int at_dir_open(struct dn_session *s, const struct dn_req *req, struct args *a,
		       struct dn_file **f, int *handover)
{
	if (!a->at_name[0] || !at_op_known(a->svc->ops, req->op))
		return -EAGAIN;
	struct dn_open *o = dn_session_handle_get(s, req->handle);
	if (!o)
		return -EBADF;
	int r = o->svc != a->svc ? -EAGAIN
				 : a->svc->ops->open_at(a->svc, &s->cred, o->file, a->at_name,
							(int)req->oflags, req->mode, f, handover);
	if (r == -EAGAIN)
		rebase(o, a->at_name, a->path);
	dn_open_put(o);
	return r;
}

/* Ops on a path, or (no path given) on the open file the handle names. */
static int64_t run_attr_op(struct dn_session *s, const struct dn_req *req, struct args *a,
			   uint8_t *bufdata, size_t bufsize)
{
	const struct dn_cred *c = &s->cred;
	bool nofollow = req->flags & DN_AT_NOFOLLOW;
	bool named = req->op == DN_OP_GETXATTR || req->op == DN_OP_SETXATTR ||
		     req->op == DN_OP_REMOVEXATTR;
	if (named && req->path2_len == 0)
		return -EINVAL;
	if (req->len > bufsize)
		return -EINVAL;
	struct dn_open *o = NULL;
	if (req->path_len == 0 && !(o = dn_session_handle_get(s, req->handle)))
		return -EBADF;
	struct dn_file *f = o ? o->file : NULL;
	struct dn_svc *svc = o ? o->svc : a->svc;
	const struct dn_svc_ops *ops = svc->ops;
	int64_t r = -ENOSYS;
	switch (req->op) {
	case DN_OP_UTIMENS:
		if (ops->utimens)
			r = utimens(svc, s, req, f, a, nofollow);
		break;
	case DN_OP_CHOWN:
		if (ops->chown && (f || (r = at_dir(s, req, a, NULL, NULL)) == -EAGAIN))
			r = ops->chown(svc, c, f, a->path, nofollow, (uid_t)req->mode,
				       (gid_t)req->oflags);
		break;
	case DN_OP_STATFS:
		if (ops->statfs)
			r = statfs_op(svc, s, f, a, bufdata, bufsize);
		break;
	case DN_OP_GETXATTR:
		if (ops->getxattr)
			r = ops->getxattr(svc, c, f, a->path, nofollow, a->path2, bufdata, req->len);
		break;
	case DN_OP_SETXATTR:
		if (ops->setxattr)
			r = ops->setxattr(svc, c, f, a->path, nofollow, a->path2, a->data,
					  a->data_len, (int)req->oflags);
		break;
	case DN_OP_LISTXATTR:
		if (ops->listxattr)
			r = ops->listxattr(svc, c, f, a->path, nofollow, (char *)bufdata, req->len);
		break;
	case DN_OP_REMOVEXATTR:
		if (ops->removexattr)
			r = ops->removexattr(svc, c, f, a->path, nofollow, a->path2);
		break;
	}
	if (o)
		dn_open_put(o);
	return r;
}

/*
 * The sessions the calling worker serves from: a handoff names another one.
 * Read as the set is now, not as the worker's scan loaded it: a process
 * hands its files to a session it attached a moment ago. Any set published
 * since the worker's epoch last moved is safe to read until it moves again
 * (worker.c), and the worker is in this request meanwhile.
 */
static _Thread_local struct dn_session_set *_Atomic const *serving;

void dn_dispatch_serving(struct dn_session_set *_Atomic const *set)
{
	serving = set;
}

static struct dn_session *session_by_id(uint32_t id)
{
	const struct dn_session_set *set =
		serving ? atomic_load_explicit(serving, memory_order_acquire) : NULL;
	for (uint32_t i = 0; set && i < set->n; i++)
		if (set->s[i]->id == id)
			return set->s[i];
	return NULL;
}

/*
 * DN_OP_HANDOFF (wire.h): the caller's open files join the session it
 * attached to as its new identity. A file keeps the rights it was opened
 * with, as a kernel fd does across setuid; what the old session could do
 * beyond its open files stays with the old session.
 */
static int64_t handoff(struct dn_session *s, const struct args *a, uint8_t *bufdata,
		       size_t bufsize)
{
	struct dn_handoff h;
	if (a->data_len < sizeof(h))
		return -EINVAL;
	memcpy(&h, a->data, sizeof(h));
	if (h.n > (a->data_len - sizeof(h)) / sizeof(uint64_t) || h.n > bufsize / sizeof(uint64_t))
		return -EINVAL;
	struct dn_session *to = session_by_id(h.session);
	if (!to || to == s || to->state != DN_SESSION_ACTIVE ||
	    memcmp(to->token, h.token, sizeof(h.token)) != 0)
		return -ESRCH;
	/*
	 * a file belongs to the instance it was opened in, and the client names
	 * instances by their place in its session's table: the same in both
	 */
	if (to->nmounts != s->nmounts ||
	    memcmp(to->mounts, s->mounts, s->nmounts * sizeof(s->mounts[0])) != 0)
		return -EXDEV;
	/* Replies land where the handles were read from, behind the reading: in order. */
	const uint8_t *in = a->data + sizeof(h);
	int64_t r = h.n;
	for (uint32_t i = 0; i < h.n; i++) {
		uint64_t handle, moved = 0;
		memcpy(&handle, in + (size_t)i * sizeof(handle), sizeof(handle));
		struct dn_open *o = dn_session_handle_get(s, handle);
		if (o) {
			int e = dn_session_handle_adopt(to, o, handle, &moved);
			if (e < 0) {
				dn_open_put(o);
				moved = 0;
				if (r >= 0)
					r = e;
			}
		}
		memcpy(bufdata + (size_t)i * sizeof(moved), &moved, sizeof(moved));
	}
	if (r < 0) /* all or nothing: what moved goes back */
		for (uint32_t i = 0; i < h.n; i++) {
			uint64_t moved;
			memcpy(&moved, bufdata + (size_t)i * sizeof(moved), sizeof(moved));
			if (moved)
				dn_session_handle_close(to, moved);
		}
	return r;
}

/* truncate(2) past the caller's RLIMIT_FSIZE: EFBIG, after the errors a truncate checks first. */
static int64_t truncate_op(struct dn_svc *svc, const struct dn_cred *c, const struct dn_req *req,
			   const char *path, struct dn_reply *rep)
{
	if (!svc->ops->truncate)
		return -ENOSYS;
	if (req->fsize && req->off > req->fsize - 1) {
		int r = svc->ops->access ? svc->ops->access(svc, c, path, W_OK, false) : 0;
		if (r < 0)
			return r;
		rep->flags |= DN_REPLY_SIGXFSZ;
		return -EFBIG;
	}
	return svc->ops->truncate(svc, c, path, (off_t)req->off);
}

/* A new name for an open file: in its own instance only, as the kernel's EXDEV between mounts. */
static int link_handle(struct dn_session *s, const struct dn_req *req, struct args *a)
{
	struct dn_open *o = req->path_len ? NULL : dn_session_handle_get(s, req->handle);
	if (!o)
		return req->path_len ? -EINVAL : -EBADF;
	int r = -EXDEV;
	if (o->svc == a->svc)
		r = a->svc->ops->link_file ? a->svc->ops->link_file(a->svc, &s->cred, o->file, a->path2)
					   : -ENOSYS;
	dn_open_put(o); /* the reference dn_session_handle_get took */
	return r;
}

static int64_t run(struct dn_session *s, const struct dn_req *req, struct dn_buf *b,
		   struct dn_reply *rep)
{
	uint8_t *bufdata = dn_buf_data(&s->l, b);
	size_t bufsize = dn_buf_data_size(&s->l);
	static _Thread_local struct args a;
	const struct dn_cred *c = &s->cred;
	if (req->op == DN_OP_NOP)
		return 0;
	if (req->op < DN_OP_NOP || req->op >= DN_OP_MAX)
		return -ENOSYS;
	enum target target = target_of(req->op);
	if (target == BY_PATH && req->path_len == 0 &&
	    !(req->op == DN_OP_LINK && (req->flags & DN_LINK_HANDLE)))
		return -EINVAL;
	int r = unpack(s, req, bufdata, bufsize, &a);
	if (r < 0)
		return r;
	/* a libservice that walks paths itself gives its backend no symlinks (no-symlinks.h) */
	if (a.svc)
		dn_walk_refuse_symlinks(a.svc->ops->real_paths);
	/*
	 * A local direct instance lets the kernel follow symlinks, moving
	 * their atimes unseen, maybe in a union's layer: names, whatever the op.
	 */
	if (a.svc && dn_gens_local() && !dn_svc_is_union(a.svc))
		dn_gens_touch();
	if (target == BY_PATH_OR_HANDLE)
		return run_attr_op(s, req, &a, bufdata, bufsize);
	if (target == BY_HANDLE)
		return run_file_op(s, req, &a, b, bufdata, bufsize, rep);
	if (req->op == DN_OP_HANDOFF)
		return handoff(s, &a, bufdata, bufsize);

	struct dn_svc *svc = a.svc;
	/* a request naming no path at all (a link by handle without its new name) */
	if (!svc)
		return -EINVAL;
	const struct dn_svc_ops *ops = svc->ops;
	struct stat st;
	switch (req->op) {
	case DN_OP_OPEN: {
		if (!ops->open)
			return -ENOSYS;
		struct dn_file *f = NULL;
		int handover = -1;
		if ((req->oflags & O_CREAT) || (req->oflags & O_TMPFILE) == O_TMPFILE)
			dn_umask_set(req->umask);
		if ((r = at_dir_open(s, req, &a, &f, &handover)) == -EAGAIN)
			r = ops->open(svc, c, a.path, (int)req->oflags, req->mode, &f, &handover);
		if (r == DN_SVC_HANDOVER)
			return hand_over(s, handover, rep);
		if (r < 0)
			return r;
		char known[DN_PATH_MAX];
		r = dn_session_handle_add(s, svc, f, open_path(svc, f, a.path, known),
					  (req->flags & DN_OPEN_HANDLE) ? req->len : 0, &rep->handle);
		if (r < 0) {
			ops->close(svc, f);
			return r;
		}
		/* which file this is, for the client to recognize it after a restart */
		if ((req->flags & DN_OPEN_IDENT) && ops->fstat && ops->fstat(svc, f, &st) == 0) {
			rep->aux = st.st_ino;
			rep->aux2 = (uint32_t)st.st_dev;
		}
		return 0;
	}
	case DN_OP_STAT:
		if (!ops->stat)
			return -ENOSYS;
		if ((r = at_dir(s, req, &a, &st, NULL)) == -EAGAIN)
			r = ops->stat(svc, c, a.path, req->flags & DN_AT_NOFOLLOW, &st);
		if (r == 0)
			reply_stat(rep, &st);
		if (r == 0 && dn_gens_keep(dn_svc_is_union(svc)))
			rep->flags |= DN_REPLY_KEEP;
		return r;
	case DN_OP_ACCESS:
		if (req->mode & ~7u)
			return -EINVAL;
		/* access(2) asks for the real ids, faccessat(AT_EACCESS) for the effective */
		return ops->access ? ops->access(svc, (req->flags & DN_AT_EACCESS) ? c : &s->real,
						  a.path, (int)req->mode,
						  req->flags & DN_AT_NOFOLLOW)
				   : -ENOSYS;
	case DN_OP_MKDIR:
		dn_umask_set(req->umask);
		if ((r = at_dir(s, req, &a, NULL, NULL)) != -EAGAIN)
			return r;
		return ops->mkdir ? ops->mkdir(svc, c, a.path, req->mode) : -ENOSYS;
	case DN_OP_MKNOD: {
		mode_t mode = req->mode;
		switch (mode & S_IFMT) {
		case 0: /* as may_mknod: no type is a regular file */
			mode |= S_IFREG;
			break;
		case S_IFDIR:
			return -EPERM;
		case S_IFIFO: case S_IFSOCK: case S_IFREG:
			break;
		case S_IFCHR: case S_IFBLK:
			/*
			 * Devices need CAP_MKNOD: the backend says so where mknod(2)
			 * does, after the name's checks (EEXIST, ENOENT, EACCES);
			 * the local one by the worker's own capabilities, the
			 * caller's.
			 */
			break;
		default:
			return -EINVAL;
		}
		dn_umask_set(req->umask);
		return ops->mknod ? ops->mknod(svc, c, a.path, mode, (dev_t)req->off) : -ENOSYS;
	}
	case DN_OP_RMDIR:
		if ((r = at_dir(s, req, &a, NULL, NULL)) != -EAGAIN)
			return r;
		return ops->rmdir ? ops->rmdir(svc, c, a.path) : -ENOSYS;
	case DN_OP_UNLINK:
		if ((r = at_dir(s, req, &a, NULL, NULL)) != -EAGAIN)
			return r;
		return ops->unlink ? ops->unlink(svc, c, a.path) : -ENOSYS;
	case DN_OP_RENAME:
		if (req->path2_len == 0)
			return -EINVAL;
		if ((r = at_dir(s, req, &a, NULL, NULL)) != -EAGAIN)
			return r;
		return ops->rename ? ops->rename(svc, c, a.path, a.path2,
						 req->flags & ~DN_REQ_REDIRECT)
				   : -ENOSYS;
	case DN_OP_TRUNCATE:
		if (req->off > INT64_MAX)
			return -EINVAL;
		return truncate_op(svc, c, req, a.path, rep);
	case DN_OP_CHMOD:
		if ((r = at_dir(s, req, &a, NULL, NULL)) != -EAGAIN)
			return r;
		return ops->chmod ? ops->chmod(svc, c, a.path, req->mode) : -ENOSYS;
	case DN_OP_SYMLINK:
		if (req->path2_len == 0)
			return -EINVAL;
		return ops->symlink ? ops->symlink(svc, c, a.path2, a.path) : -ENOSYS;
	case DN_OP_LINK:
		if (req->path2_len == 0)
			return -EINVAL;
		if (req->flags & DN_LINK_HANDLE)
			return link_handle(s, req, &a);
		return ops->link ? ops->link(svc, c, a.path, a.path2, req->flags & DN_LINK_FOLLOW)
				 : -ENOSYS;
	case DN_OP_READLINK:
		if (req->len > bufsize)
			return -EINVAL;
		return ops->readlink ? ops->readlink(svc, c, a.path, (char *)bufdata, req->len)
				     : -ENOSYS;
	}
	return -ENOSYS;
}

int dn_dispatch_take(struct dn_session *s, unsigned q, struct dn_req *req)
{
	uint32_t buf;
	if (!dn_queue_pop(dn_layout_queue(&s->l, s->base, q), s->l.qdepth, &s->tails[q], &buf))
		return 0;
	uint32_t state = DN_BUF_FREE;
	if (buf < s->l.nbufs) {
		struct dn_buf *b = dn_layout_buf(&s->l, s->base, buf);
		/* after the slot's acquire: the state its producer set before publishing */
		state = atomic_load_explicit(&b->state, memory_order_relaxed);
		/* the client may scribble on its buffer at any time: one copy, checked after */
		memcpy(req, &b->req, sizeof(*req));
		req->buf = buf;
	}
	if (state == DN_BUF_SUBMITTED || state == DN_BUF_SLEEPING)
		return 1;
	if (atomic_fetch_add(&s->bad_requests, 1) < 3)
		dn_log_warning("client pid %d: queue %u names buffer %u of %u (state %u), which "
			       "has no request in flight; dropped",
			       (int)s->pid, q, buf, s->l.nbufs, state);
	return -1;
}

bool dn_dispatch_run(struct dn_session *s, const struct dn_req *req, struct dn_reply *rep)
{
	if (req->buf >= s->l.nbufs) {
		if (atomic_fetch_add(&s->bad_requests, 1) < 3)
			dn_log_warning("client pid %d: request names buffer %u of %u; dropped",
				       (int)s->pid, req->buf, s->l.nbufs);
		return false;
	}
	struct dn_buf *b = dn_layout_buf(&s->l, s->base, req->buf);
	*rep = (struct dn_reply){.tag = req->tag};
	/*
	 * Every request as its session's identity, also those on an open file:
	 * a write keeps set-id bits only when its writer may (CAP_FSETID), not
	 * because the previous request on this worker came from root.
	 */
	int r = dn_cred_apply(&s->cred);
	/*
	 * The client follows absolute symlinks itself where it says so
	 * (redirect.h); for rename and link it then locates both names.
	 */
	dn_redirect_allow((req->flags & DN_REQ_REDIRECT) && req->path_len &&
			  req->op != DN_OP_HANDOFF);
	changed_ino = changed_other_ino = 0;
	dn_stat_more_clear();
	rep->result = r < 0 ? r : run(s, req, b, rep);
	/* failed or not, before the reply: a client that sees it sees the bump */
	dn_gens_after(req->op, req->oflags, changed_ino);
	if (changed_ino)
		dn_gens_bump_inode(changed_other_ino);
	dn_walk_refuse_symlinks(false);
	if (rep->result == -DN_EREDIRECT) {
		size_t n;
		const char *to = dn_redirect_path(&n);
		if (n > dn_buf_data_size(&s->l)) {
			rep->result = -ENAMETOOLONG;
		} else {
			memcpy(dn_buf_data(&s->l, b), to, n);
			rep->flags |= DN_REPLY_REDIRECT;
			rep->result = (int64_t)n;
		}
	}
	dn_redirect_allow(false);
	return true;
}

bool dn_dispatch_reply(struct dn_session *s, uint32_t buf, const struct dn_reply *rep)
{
	if (buf >= s->l.nbufs)
		return false;
	struct dn_buf *b = dn_layout_buf(&s->l, s->base, buf);
	/* the head last, just before state: the client polls that line */
	if (rep->flags & DN_REPLY_STAT)
		memcpy(&b->st, &rep->st, sizeof(rep->st));
	memcpy(b->reply, rep, DN_REPLY_HEAD);
	if (atomic_exchange_explicit(&b->state, DN_BUF_DONE, memory_order_acq_rel) !=
	    DN_BUF_SLEEPING)
		return false;
	dn_futex_wake(&b->state, 1);
	return true;
}

void dn_dispatch(struct dn_session *s, const struct dn_req *req)
{
	struct dn_reply rep;
	if (dn_dispatch_run(s, req, &rep))
		dn_dispatch_reply(s, req->buf, &rep);
}
