/* Client Operations: each POSIX call on a Danaus file as requests to the pool */
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attr-cache.h"
#include "client.h"
#include "fault.h"
#include "mmap.h"
#include "pos-lock.h"
#include "read-cache.h"
#include "real.h"
#include "reopen.h"
#include "rlimits.h"
#include "stdio-std.h"

/*
 * Flags that only mean something to our side of the fd: O_ASYNC and
 * O_LARGEFILE are the description's (open never calls a file's fasync;
 * every 64-bit open is large).
 */
#define CLIENT_ONLY_FLAGS (O_CLOEXEC | O_NOCTTY | O_ASYNC | KERNEL_O_LARGEFILE)

static _Thread_local char redirect_path[PATH_MAX];

bool dn_op_redirect_follow(const char **path, char next[PATH_MAX], int hops)
{
	if (hops >= DN_OP_REDIRECTS_MAX)
		return false;
	snprintf(next, PATH_MAX, "%s", redirect_path);
	*path = next;
	return true;
}

/* A reply that names the path to resolve instead (wire.h): kept, and -DN_OP_REDIRECTED. */
static int64_t redirect_take(struct dn_call *c, int64_t res, const struct dn_reply *rep)
{
	if (res < 0 || !(rep->flags & DN_REPLY_REDIRECT))
		return res;
	if (res == 0 || (size_t)res >= sizeof(redirect_path) || (size_t)res > dn_call_data_max())
		return -EIO;
	memcpy(redirect_path, dn_call_data(c), (size_t)res);
	redirect_path[res] = 0;
	return -DN_OP_REDIRECTED;
}

static int64_t simple(struct dn_req *req, const char *path, const char *path2,
		      struct dn_reply *rep)
{
	struct dn_call c;
	int r = dn_call_begin(&c);
	if (r < 0)
		return r;
	int64_t res = redirect_take(&c, dn_request(&c, req, path, path2, NULL, 0, rep), rep);
	dn_call_end(&c);
	return res;
}

/*
 * A FIFO or device: the pool handed over an O_PATH descriptor of it (or of
 * its stand-in), which this thread opens as the kernel would -- blocking
 * until a FIFO's other end comes, with this process's rights and device
 * cgroup. The result is a kernel descriptor, not a Danaus one.
 */
static int open_handed_over(const struct dn_reply *rep, int flags)
{
	uint64_t token[2] = {rep->handle, rep->aux};
	int path_fd = dn_chan_take(dn_client.socket_path, token);
	if (path_fd < 0)
		return path_fd == -ENOENT ? -EIO : path_fd;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", path_fd);
	/* the name was resolved already: the magic link itself must be followed */
	int fd = REAL(open)(proc, flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW | O_DIRECTORY), 0);
	int e = errno;
	REAL(close)(path_fd);
	return fd < 0 ? -e : fd;
}

struct placeholder_made {
	int fd;
	bool cloexec;
};

static void make_placeholder(void *arg)
{
	struct placeholder_made *m = arg;
	m->fd = dn_placeholder_new(m->cloexec);
}

int dn_op_open(const struct dn_target *t, int flags, mode_t mode)
{
	flags &= KERNEL_OPEN_FLAGS; /* build_open_how: open and openat ignore the rest */
	/* build_open_flags refuses it before any lookup (Linux >= 6.4), on every backend */
	if ((flags & O_CREAT) && (flags & O_DIRECTORY))
		return -EINVAL;
	int r0;
	struct dn_req req = {.op = DN_OP_OPEN, .handle = t->handle, .mount = (uint16_t)t->mount,
			     .oflags = (uint32_t)(flags & ~CLIENT_ONLY_FLAGS),
			     .flags = (t->redirect ? DN_REQ_REDIRECT : 0) |
				      (dn_client.restart_wait_ns ? DN_OPEN_IDENT : 0)};
	/* the pool applies the umask, as the kernel would: not under a default ACL */
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
		req.mode = mode & 07777;
		req.umask = atomic_load(&dn_client.umask) & 0777;
	}
	struct dn_reply rep;
	struct dn_call c;
	struct placeholder_made made = {.fd = -1, .cloexec = flags & O_CLOEXEC};
	struct dn_meanwhile mw = {make_placeholder, &made};
	int fd = -1;
again:
	if ((r0 = dn_call_begin(&c)) < 0)
		return r0;
	/* the read cache keys what it keeps by the inode (read-cache.h) */
	if (dn_read_cache_wanted())
		req.flags |= DN_OPEN_IDENT;
	/* the kernel's descriptor is made while the pool opens (dup of the placeholder) */
	if (fd < 0)
		c.meanwhile = &mw;
	int64_t r = dn_request(&c, &req, t->path, NULL, NULL, 0, &rep);
	if (fd < 0 && made.fd >= 0)
		fd = made.fd;
	made.fd = -1;
	r = redirect_take(&c, r, &rep);
	dn_call_end(&c);
	if (r < 0) {
		if (fd >= 0)
			REAL(close)(fd);
		return (int)r;
	}
	if ((rep.flags & DN_REPLY_HANDOVER) && fd >= 0)
		REAL(close)(fd);
	if (rep.flags & DN_REPLY_HANDOVER)
		return open_handed_over(&rep, flags);
	if (fd < 0)
		fd = dn_placeholder_new(flags & O_CLOEXEC);
	if (fd < 0) {
		dn_handle_close(rep.handle);
		return fd;
	}
	pthread_mutex_lock(&dn_client.lock);
	if (c.gen != atomic_load(&dn_client.session_gen)) {
		/* the session changed since (a pool restart): the handle is of the old one */
		pthread_mutex_unlock(&dn_client.lock);
		/* done again where that is harmless, with the directory's new handle */
		if (((flags & O_CREAT) && (flags & O_EXCL)) ||
		    (req.handle && !(req.handle = dn_reopen_successor(req.handle)))) {
			REAL(close)(fd);
			return -EIO;
		}
		goto again;
	}
	int32_t ofd = dn_ofd_alloc(dn_ofds(), dn_client.chan.l.nofds, rep.handle,
				   (uint32_t)(flags & ~O_CLOEXEC),
				   (flags & O_DIRECTORY) && (flags & O_TMPFILE) != O_TMPFILE);
	if (ofd >= 0) {
		dn_ofds()[ofd].mount = t->mount; /* where *at calls relative to it go */
		dn_fcntl_forget(ofd);		 /* a new description: no owner, signal, hint */
	}
	int e = ofd < 0 ? ofd : dn_fdmap_set(fd, ofd);
	if (e == 0) {
		dn_reopen_note_open(ofd, rep.handle, t, req.handle, flags, rep.aux, rep.aux2);
		dn_read_cache_opened(ofd, rep.handle, c.gen, (req.flags & DN_OPEN_IDENT) ? rep.aux : 0,
				     rep.aux2);
	}
	pthread_mutex_unlock(&dn_client.lock);
	if (e < 0) {
		if (ofd >= 0)
			dn_ofd_unref(dn_ofds(), dn_client.chan.l.nofds, ofd);
		REAL(close)(fd);
		dn_handle_close(rep.handle);
		return e;
	}
	dn_std_stream_update(fd);
	if (flags & O_TRUNC)
		dn_mmap_changed(ofd, 0, UINT64_MAX);
	return fd;
}

/* Unmaps fd; the handle is closed when this was its last reference. Lock held. */
static bool unmap_locked(int fd, int32_t ofd, uint64_t *handle)
{
	struct dn_ofd *t = dn_ofds();
	*handle = t[ofd].handle;
	dn_fdmap_set(fd, -1);
	dn_read_cache_forget(ofd);
	return dn_ofd_unref(t, dn_client.chan.l.nofds, ofd);
}

void dn_op_drop_posix_locks(int fd)
{
	if (!atomic_load(&dn_client.posix_locks))
		return;
	/* POSIX: closing any fd of a file releases the process's locks on it */
	struct flock all = {.l_type = F_UNLCK, .l_whence = SEEK_SET};
	dn_op_lock(fd, F_SETLK, &all, (uint64_t)getpid());
}

int dn_op_close(int fd)
{
	uint64_t handle = 0;
	bool last = false;
	int32_t ofd = dn_fdmap_get(fd);
	if (ofd >= 0) {
		dn_mmap_flush_ofd(ofd);
		dn_op_drop_posix_locks(fd);
	}
	pthread_mutex_lock(&dn_client.lock);
	ofd = dn_fdmap_get(fd);
	if (ofd >= 0)
		last = unmap_locked(fd, ofd, &handle);
	pthread_mutex_unlock(&dn_client.lock);
	if (last)
		dn_handle_close_with(handle, fd); /* the kernel's close while the pool's runs */
	else
		REAL(close)(fd);
	dn_std_stream_update(fd);
	return 0;
}

void dn_op_replaced(int newfd)
{
	uint64_t handle = 0;
	bool last = false;
	pthread_mutex_lock(&dn_client.lock);
	int32_t ofd = dn_fdmap_get(newfd);
	if (ofd >= 0)
		last = unmap_locked(newfd, ofd, &handle);
	pthread_mutex_unlock(&dn_client.lock);
	if (last)
		dn_handle_close(handle);
}

int dn_op_dup(int oldfd, int newfd, int minfd, bool cloexec)
{
	pthread_mutex_lock(&dn_client.lock);
	int32_t ofd = dn_fdmap_get(oldfd);
	int fd, r = 0;
	uint64_t handle = 0;
	bool last = false;
	if (ofd < 0) {
		r = -EBADF;
		goto out;
	}
	if (newfd < 0) {
		fd = REAL(fcntl)(oldfd, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, minfd);
	} else {
		if (dn_is_internal_fd(newfd))
			dn_internal_fd_evict(newfd);
		int32_t prev = dn_fdmap_get(newfd);
		fd = REAL(dup3)(oldfd, newfd, cloexec ? O_CLOEXEC : 0);
		if (fd >= 0 && prev >= 0)
			last = unmap_locked(newfd, prev, &handle);
	}
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	dn_ofd_ref(dn_ofds(), dn_client.chan.l.nofds, ofd);
	dn_fdmap_set(fd, ofd);
	r = fd;
out:
	pthread_mutex_unlock(&dn_client.lock);
	if (last)
		dn_handle_close(handle);
	if (r >= 0)
		dn_std_stream_update(r);
	return r;
}

/* A streamed read's piece, from the request buffer, for the read cache. */
static void keep_piece(void *arg, uint64_t p, const uint8_t *src, size_t n)
{
	const struct dn_rc_read *rc = arg;
	dn_read_cache_put(rc, rc->base + p, src, n);
}

/*
 * One PREAD round trip: up to len bytes at pos into the caller's dest,
 * streamed when large. A dest that stops taking writes part way gets what
 * fits before that, as from the kernel; none of it, -EFAULT, but only once
 * there is something to read (a read at the end of the file answers 0).
 */
static int64_t read_chunk(struct dn_call *c, uint64_t handle, uint64_t pos, uint8_t *dest,
			  size_t len, struct dn_rc_read *rc, uint32_t direct, uint32_t vec)
{
	bool stream = len > DN_READ_STREAM_CHUNK && !direct;
	if (stream) {
		/*
		 * The channel streams into dest itself, where no guard can stand:
		 * only the part that takes writes. With none, one byte through the
		 * request buffer tells EOF (0) from EFAULT.
		 */
		size_t ok = dn_fault_prefix(dest, len, true);
		len = ok ? ok : 1;
		stream = len > DN_READ_STREAM_CHUNK;
	}
	struct dn_req req = {.op = DN_OP_PREAD, .handle = handle, .off = pos, .len = len,
			     .flags = stream ? DN_READ_STREAM : direct ? DN_RW_DIRECT : 0,
			     .mode = vec ? vec : (uint32_t)((uintptr_t)dest % DN_DIRECT_PAGE)};
	struct dn_reply rep;
	struct dn_sink sink = {.dest = dest, .len = len};
	rc->base = pos;
	if (rc->on) {
		sink.also = keep_piece;
		sink.also_arg = rc;
	}
	int64_t res = dn_request_into(c, &req, stream ? &sink : NULL, &rep);
	if (res == 0 && rc->on)
		dn_read_cache_eof(rc, pos);
	if (res <= 0)
		return res;
	/* never more than asked for into the caller's buffer */
	if ((size_t)res > len || sink.copied > (uint64_t)res)
		return -EIO;
	if (rc->on) {
		if (!stream)
			dn_read_cache_put(rc, pos, dn_call_data(c), (size_t)res);
		if ((size_t)res < len)
			dn_read_cache_eof(rc, pos + (uint64_t)res);
	}
	if (!stream)
		res = dn_fault_copy_out_prefix(dest, dn_call_data(c), (size_t)res);
	return res;
}

/*
 * One PWRITE round trip of len bytes from src at pos; *end: the offset the
 * pool says follows it. src is the caller's (its readable leading part is
 * written, -EFAULT when none is) or already in c's request buffer.
 */
static int64_t write_chunk(struct dn_call *c, uint64_t handle, bool append, uint64_t pos,
			   const uint8_t *src, size_t len, uint64_t *end, uint32_t direct, uint32_t vec)
{
	uint8_t *d = dn_call_data(c);
	if (src != d) {
		ssize_t ok = dn_fault_copy_in_prefix(d, src, len);
		if (ok < 0)
			return ok;
		len = (size_t)ok;
	}
	struct dn_req req = {.op = DN_OP_PWRITE, .handle = handle, .off = pos, .len = len,
			     .flags = (append ? DN_WRITE_APPEND : 0) | direct,
			     .mode = vec ? vec : (uint32_t)((uintptr_t)src % DN_DIRECT_PAGE),
			     .fsize = dn_limits_fsize_wire()};
	struct dn_reply rep;
	int64_t res = dn_request(c, &req, NULL, NULL, d, len, &rep);
	if (res > 0)
		*end = rep.aux;
	else if (res == -EFBIG && (rep.flags & DN_REPLY_SIGXFSZ))
		res = dn_limits_fsize_exceeded();
	return res;
}

/* o's position lock (pos-lock.h) when the call is at the file offset: what to give back */
static int pos_lock(struct dn_ofd *o, bool at_offset)
{
	return at_offset ? dn_pos_lock((int32_t)(o - dn_ofds()), atomic_load(&o->refs)) : 0;
}

static void pos_unlock(struct dn_ofd *o, int locked)
{
	dn_pos_unlock((int32_t)(o - dn_ofds()), locked);
}

/*
 * Reads (op DN_OP_PREAD) or writes (DN_OP_PWRITE) n bytes at off, or at and
 * advancing the file offset when off < 0, one request buffer at a time. A
 * short or failed round trip ends it; its error counts only when nothing
 * moved. buf, the caller's (a writev may have gathered it into c's request
 * buffer), is read from only when writing. vec: an O_DIRECT vector's
 * alignment (direct_vec), sent with the first piece.
 */
static ssize_t transfer(struct dn_ofd *o, struct dn_call *c, uint32_t op, void *buf, size_t n,
			off_t off, int append_mode, uint64_t *moved_at, uint32_t vec)
{
	bool append = op == DN_OP_PWRITE &&
		      (append_mode < 0 ? (o->oflags & O_APPEND) != 0 : append_mode != 0);
	bool at_offset = off < 0;
	int locked = pos_lock(o, at_offset);
	uint64_t pos = at_offset ? (uint64_t)atomic_load(&o->offset) : (uint64_t)off;
	uint64_t end = pos; /* where an append leaves the offset: the file's end */
	size_t done = 0, max = dn_call_data_max();
	int64_t res = 0;
	/*
	 * O_DIRECT: the pool reads and writes at the buffer's place in a page
	 * (DN_RW_DIRECT), in pieces that leave it room and are never streamed
	 */
	uint32_t direct = (o->oflags & O_DIRECT) ? DN_RW_DIRECT : 0;
	if (direct)
		max = (max < DN_READ_STREAM_CHUNK + DN_DIRECT_PAGE ? max
								   : DN_READ_STREAM_CHUNK + DN_DIRECT_PAGE) -
		      DN_DIRECT_PAGE;
	/* before it is sent: a restart may come between its reply and our next look */
	if (op == DN_OP_PWRITE && (dn_client.chan.flags & DN_SESSION_CACHE_DIES))
		dn_reopen_note_written((int32_t)(o - dn_ofds()));
	struct dn_rc_read rc = {.on = false};
	if (op == DN_OP_PREAD && buf &&
	    dn_read_cache_begin(&rc, c->gen, (int32_t)(o - dn_ofds()), o->handle, o->oflags, pos,
				n)) {
		ssize_t hit = dn_read_cache_get(&rc, pos, buf, n);
		if (hit >= 0) {
			done = (size_t)hit;
			n = 0; /* served: no round trip */
		}
	}
	while (done < n) {
		size_t chunk = n - done < max ? n - done : max;
		/* no arithmetic on a NULL buf: it gets EFAULT on its first chunk */
		uint8_t *at = buf ? (uint8_t *)buf + done : NULL;
		if (op == DN_OP_PREAD)
			res = read_chunk(c, o->handle, pos + done, at, chunk, &rc, direct,
					 done ? 0 : vec);
		else
			res = write_chunk(c, o->handle, append, pos + done, at, chunk, &end, direct,
					  done ? 0 : vec);
		if (res <= 0)
			break;
		done += (size_t)res;
		if ((size_t)res < chunk)
			break;
	}
	/* pwrite on an O_APPEND fd appends but, as in Linux, leaves the offset alone */
	if (at_offset && !(done == 0 && res < 0))
		atomic_store(&o->offset, (int64_t)(append ? end : pos + done));
	pos_unlock(o, locked);
	*moved_at = append ? end - done : pos;
	return done == 0 && res < 0 ? res : (ssize_t)done;
}

/* After a write of n bytes at `at` through o, outside the call: this process's copied maps see it. */
static void written(struct dn_ofd *o, uint64_t at, ssize_t n)
{
	if (n > 0 && dn_mmap_copies())
		dn_mmap_changed((int32_t)(o - dn_ofds()), at, (uint64_t)n);
}

/* transfer in a call of its own, once read or write has checked the fd. */
static ssize_t transfer_call(struct dn_ofd *o, uint32_t op, void *buf, size_t n, off_t off,
			     uint32_t vec)
{
	if (n == 0)
		return 0;
	struct dn_call c;
	int r = dn_call_begin(&c);
	if (r < 0)
		return r;
	uint64_t at;
	ssize_t res = transfer(o, &c, op, buf, n, off, -1, &at, vec);
	dn_call_end(&c);
	if (op == DN_OP_PWRITE)
		written(o, at, res);
	return res;
}

static ssize_t read_vec(int fd, void *buf, size_t n, off_t off, uint32_t vec)
{
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	if (!o || (o->oflags & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	if (o->is_dir)
		return -EISDIR;
	return transfer_call(o, DN_OP_PREAD, buf, n, off, vec);
}

ssize_t dn_op_read(int fd, void *buf, size_t n, off_t off)
{
	return read_vec(fd, buf, n, off, 0);
}

ssize_t dn_op_write(int fd, const void *buf, size_t n, off_t off)
{
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	if (!o || (o->oflags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	return transfer_call(o, DN_OP_PWRITE, (void *)buf, n, off, 0);
}

/*
 * The caller's iovec array, read under the guard a few entries at a time
 * (IOV_MAX of them would not fit a small thread's or signal stack).
 */
#define IOV_BATCH 16
struct iov_in {
	const struct iovec *user;
	int cnt, first, n; /* v holds user[first, first + n) */
	uint32_t vec;      /* for O_DIRECT: iov_begin */
	struct iovec v[IOV_BATCH];
};

/* Entry i, or NULL when the array cannot be read there. */
static const struct iovec *iov_at(struct iov_in *in, int i)
{
	if (i < in->first || i >= in->first + in->n) {
		int n = in->cnt - i < IOV_BATCH ? in->cnt - i : IOV_BATCH;
		if (dn_fault_copy_in(in->v, in->user + i, (size_t)n * sizeof(in->v[0])) < 0)
			return NULL;
		in->first = i;
		in->n = n;
	}
	return &in->v[i - in->first];
}

/*
 * Reads the whole array before any I/O, as readv(2) does: -EFAULT when it
 * cannot, -EINVAL for a length negative as an ssize_t; else the total
 * length (SIZE_MAX when the sum would not fit).
 */
static int iov_begin(struct iov_in *in, const struct iovec *iov, int cnt, size_t *total)
{
	if (cnt < 0 || cnt > IOV_MAX)
		return -EINVAL;
	*in = (struct iov_in){.user = iov, .cnt = cnt};
	*total = 0;
	uintptr_t bases = 0, lens = 0;
	for (int i = 0; i < cnt; i++) {
		const struct iovec *v = iov_at(in, i);
		if (!v)
			return -EFAULT;
		if ((ssize_t)v->iov_len < 0)
			return -EINVAL;
		*total = v->iov_len > SIZE_MAX - *total ? SIZE_MAX : *total + v->iov_len;
		if (v->iov_len) {
			bases |= (uintptr_t)v->iov_base;
			lens |= v->iov_len;
		}
	}
	/*
	 * An O_DIRECT vector's alignment, which the kernel checks whole before
	 * any I/O (DN_RW_DIRECT): its bases' worst place in a page, and its
	 * lengths' low bits. (Every base and length is a multiple of a power
	 * of two exactly when their OR is.)
	 */
	in->vec = (uint32_t)(bases % DN_DIRECT_PAGE) |
		  (uint32_t)(lens % DN_DIRECT_PAGE) << DN_DIRECT_LENS_SHIFT;
	return 0;
}

ssize_t dn_op_readv(int fd, const struct iovec *iov, int cnt, off_t off)
{
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	if (!o || (o->oflags & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	struct iov_in in;
	size_t all;
	int e = iov_begin(&in, iov, cnt, &all);
	if (e < 0)
		return e;
	/* one position lock for the whole array, as the kernel's (each read's own is nested: none) */
	int locked = pos_lock(o, off < 0);
	ssize_t total = 0;
	for (int i = 0; i < cnt; i++) {
		const struct iovec *v = iov_at(&in, i);
		if (!v) { /* unmapped meanwhile by another thread */
			total = total ? total : -EFAULT;
			break;
		}
		if (!v->iov_len)
			continue;
		ssize_t r = read_vec(fd, v->iov_base, v->iov_len, off < 0 ? -1 : off + total,
				     total ? 0 : in.vec);
		if (r < 0) {
			total = total ? total : r;
			break;
		}
		total += r;
		if ((size_t)r < v->iov_len)
			break;
	}
	pos_unlock(o, locked);
	return total;
}

ssize_t dn_op_writev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return dn_op_writev_append(fd, iov, cnt, off, -1);
}

ssize_t dn_op_writev_append(int fd, const struct iovec *iov, int cnt, off_t off, int append)
{
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	if (!o || (o->oflags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	struct iov_in in;
	size_t total;
	int e = iov_begin(&in, iov, cnt, &total);
	if (e < 0)
		return e;
	if (total == 0)
		return 0;
	struct dn_call c;
	int r = dn_call_begin(&c);
	if (r < 0)
		return r;
	ssize_t res = 0;
	uint64_t first = 0; /* where the bytes went */
	if (total <= dn_call_data_max() && !(o->oflags & O_DIRECT)) {
		/*
		 * Gathered into the request buffer: one write, as atomic as the
		 * kernel's; of a base that stops being readable, what comes before.
		 * (Not for O_DIRECT: the kernel judges each base's alignment.)
		 */
		uint8_t *d = dn_call_data(&c);
		size_t at = 0;
		for (int i = 0; i < cnt && at < total; i++) {
			const struct iovec *v = iov_at(&in, i);
			if (!v)
				break;
			/* the array read again may have changed: never past what was counted */
			size_t len = v->iov_len < total - at ? v->iov_len : total - at;
			ssize_t got = dn_fault_copy_in_prefix(d + at, v->iov_base, len);
			if (got < 0)
				break;
			at += (size_t)got;
			if ((size_t)got < len)
				break;
		}
		res = at ? transfer(o, &c, DN_OP_PWRITE, d, at, off, append, &first, 0) : -EFAULT;
	} else {
		/* one position lock for the whole array (each transfer's own is nested: none) */
		int locked = pos_lock(o, off < 0);
		for (int i = 0; i < cnt; i++) {
			const struct iovec *v = iov_at(&in, i);
			uint64_t w_at;
			ssize_t w = v ? transfer(o, &c, DN_OP_PWRITE, v->iov_base, v->iov_len,
						 off < 0 ? -1 : off + res, append, &w_at,
						 res ? 0 : in.vec)
				      : -EFAULT;
			if (w < 0) {
				res = res ? res : w;
				break;
			}
			if (res == 0)
				first = w_at;
			res += w;
			if ((size_t)w < v->iov_len)
				break;
		}
		pos_unlock(o, locked);
	}
	dn_call_end(&c);
	written(o, first, res);
	return res;
}

int dn_op_fstat(int fd, struct stat *st)
{
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	if (!o)
		return -EBADF;
	struct dn_req req = {.op = DN_OP_FSTAT, .handle = o->handle};
	struct dn_reply rep;
	int64_t r = simple(&req, NULL, NULL, &rep);
	if (r < 0)
		return (int)r;
	dn_stat_from_wire(&rep.st, st);
	return 0;
}

/*
 * SEEK_DATA/SEEK_HOLE in one round trip: the pool answers the offset or the
 * kernel's errno, for directories and backends without holes too.
 */
static int64_t seek_hole(const struct dn_ofd *o, off_t off, int whence)
{
	struct dn_req req = {.op = DN_OP_SEEK, .handle = o->handle, .off = (uint64_t)off,
			     .mode = (uint32_t)whence};
	struct dn_reply rep;
	return simple(&req, NULL, NULL, &rep);
}

static off_t lseek_locked(struct dn_ofd *o, int fd, off_t off, int whence)
{
	int64_t base;
	struct stat st;
	int r;
	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = atomic_load(&o->offset);
		break;
	case SEEK_END:
		if ((r = dn_op_fstat(fd, &st)) < 0)
			return r;
		if (S_ISDIR(st.st_mode)) {
			/* the backend's own end (ext4: hash order's, tmpfs: EINVAL) */
			int64_t at = seek_hole(o, off, whence);
			if (at >= 0)
				atomic_store(&o->offset, at);
			return (off_t)at;
		}
		base = st.st_size;
		break;
	case SEEK_DATA:
	case SEEK_HOLE: {
		int64_t at = seek_hole(o, off, whence);
		if (at >= 0)
			atomic_store(&o->offset, at);
		return (off_t)at;
	}
	default:
		return -EINVAL;
	}
	if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
		return -EINVAL;
	atomic_store(&o->offset, base + off);
	return base + off;
}

/* As the kernel's: under the description's position lock, as read and write (transfer) */
off_t dn_op_lseek(int fd, off_t off, int whence)
{
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	if (!o || (o->oflags & O_PATH))
		return -EBADF;
	/* held: a switch of the session copies the offset once this is done (identity.c) */
	bool held = dn_session_hold() == 0;
	int locked = pos_lock(o, true);
	off_t r = lseek_locked(o, fd, off, whence);
	pos_unlock(o, locked);
	if (held)
		dn_session_release();
	return r;
}

/* fresh: never an answer the attribute cache kept (statx's AT_STATX_FORCE_SYNC) */
static int stat_op(const struct dn_target *t, bool nofollow, bool fresh, struct stat *st)
{
	struct dn_req req = {.op = DN_OP_STAT, .handle = t->handle, .mount = (uint16_t)t->mount,
			     .flags = (nofollow ? DN_AT_NOFOLLOW : 0) |
				      (t->redirect ? DN_REQ_REDIRECT : 0)};
	struct dn_reply rep;
	struct dn_call c;
	int64_t r = dn_call_begin(&c);
	if (r == 0) {
		struct dn_attr_probe p = {.keep = false};
		if (!fresh && dn_attr_cache_get(&p, c.gen, t, nofollow, &rep.st)) {
			dn_call_end(&c);
			dn_stat_from_wire(&rep.st, st);
			return 0;
		}
		r = redirect_take(&c, dn_request(&c, &req, t->path, NULL, NULL, 0, &rep), &rep);
		if (r == 0 && (rep.flags & DN_REPLY_STAT) && (rep.flags & DN_REPLY_KEEP))
			dn_attr_cache_put(&p, &rep.st);
		dn_call_end(&c);
	}
	/*
	 * The top of an instance the pool refuses the caller ([mount] access
	 * lists) is as a mount the caller cannot enter: its mountpoint still
	 * has attributes, so ls -l of the parent shows it. They are the host's
	 * placeholder directory there (search-only), nothing of the instance.
	 */
	if (r == -EACCES && !t->handle && strcmp(t->path, "/") == 0 &&
	    t->mount < dn_client.nmounts && dn_client.mounts[t->mount].len)
		return REAL(fstatat)(AT_FDCWD, dn_client.mounts[t->mount].path, st,
				     nofollow ? AT_SYMLINK_NOFOLLOW : 0) < 0 ? -errno : 0;
	if (r < 0)
		return (int)r;
	dn_stat_from_wire(&rep.st, st);
	return 0;
}

int dn_op_stat(const struct dn_target *t, bool nofollow, struct stat *st)
{
	return stat_op(t, nofollow, false, st);
}

int dn_op_stat_fresh(const struct dn_target *t, bool nofollow, struct stat *st)
{
	return stat_op(t, nofollow, true, st);
}

int dn_op_path(uint32_t op, const struct dn_target *t, uint32_t mode, uint32_t flags,
	       uint64_t off)
{
	struct dn_req req = {.op = op, .handle = t->handle, .mount = (uint16_t)t->mount, .mode = mode,
			     .flags = flags | (t->redirect ? DN_REQ_REDIRECT : 0), .off = off};
	if (op == DN_OP_MKDIR || op == DN_OP_MKNOD)
		req.umask = atomic_load(&dn_client.umask) & 0777; /* as for open */
	if (op == DN_OP_TRUNCATE)
		req.fsize = dn_limits_fsize_wire();
	struct dn_reply rep;
	int r = (int)simple(&req, t->path, NULL, &rep);
	if (r == -EFBIG && (rep.flags & DN_REPLY_SIGXFSZ))
		r = dn_limits_fsize_exceeded();
	struct stat st;
	if (op == DN_OP_TRUNCATE && r == 0 && dn_mmap_copies() && stat_op(t, false, true, &st) == 0)
		dn_mmap_changed_file((uint64_t)st.st_dev, (uint64_t)st.st_ino, off, UINT64_MAX);
	return r;
}

ssize_t dn_op_readlink(const struct dn_target *t, char *buf, size_t size)
{
	struct dn_call c;
	int r = dn_call_begin(&c);
	if (r < 0)
		return r;
	if (size > dn_call_data_max())
		size = dn_call_data_max();
	struct dn_req req = {.op = DN_OP_READLINK, .handle = t->handle, .mount = (uint16_t)t->mount,
			     .len = size,
			     .flags = t->redirect ? DN_REQ_REDIRECT : 0};
	struct dn_reply rep;
	int64_t res = redirect_take(&c, dn_request(&c, &req, t->path, NULL, NULL, 0, &rep), &rep);
	if (res > (int64_t)size)
		res = -EIO;
	if (res > 0)
		memcpy(buf, dn_call_data(&c), (size_t)res);
	dn_call_end(&c);
	return res;
}

/* A path op when t is given, else an op on fd's open file. */
static int attr_req(struct dn_req *req, const struct dn_target *t, int fd, bool nofollow)
{
	if (t) {
		req->handle = t->handle;
		req->mount = (uint16_t)t->mount;
	} else {
		struct dn_ofd *o = dn_fd_ofd(fd, NULL);
		if (!o)
			return -EBADF;
		req->handle = o->handle;
	}
	req->flags = (nofollow ? DN_AT_NOFOLLOW : 0) | (t && t->redirect ? DN_REQ_REDIRECT : 0);
	return 0;
}

int dn_op_utimens(const struct dn_target *t, int fd, const struct timespec times[2],
		  bool nofollow)
{
	struct dn_req req = {.op = DN_OP_UTIMENS};
	int r = attr_req(&req, t, fd, nofollow);
	if (r < 0)
		return r;
	struct dn_timespec w[2];
	for (int i = 0; i < 2; i++)
		w[i] = times ? (struct dn_timespec){times[i].tv_sec, times[i].tv_nsec}
			     : (struct dn_timespec){0, UTIME_NOW};
	struct dn_call c;
	if ((r = dn_call_begin(&c)) < 0)
		return r;
	struct dn_reply rep;
	int64_t res = redirect_take(&c, dn_request(&c, &req, t ? t->path : NULL, NULL, w, sizeof(w),
						   &rep), &rep);
	dn_call_end(&c);
	return (int)res;
}

int dn_op_chown(const struct dn_target *t, int fd, uid_t uid, gid_t gid, bool nofollow)
{
	struct dn_req req = {.op = DN_OP_CHOWN, .mode = uid, .oflags = gid};
	int r = attr_req(&req, t, fd, nofollow);
	if (r < 0)
		return r;
	struct dn_reply rep;
	return (int)simple(&req, t ? t->path : NULL, NULL, &rep);
}

int64_t dn_op_pathfd(uint32_t op, const struct dn_target *t, int fd, bool nofollow,
		     const char *name, const void *in, size_t inlen, void *out, size_t outlen,
		     uint32_t oflags)
{
	struct dn_req req = {.op = op, .oflags = oflags};
	int r = attr_req(&req, t, fd, nofollow);
	if (r < 0)
		return r;
	struct dn_call c;
	if ((r = dn_call_begin(&c)) < 0)
		return r;
	req.len = outlen < dn_call_data_max() ? outlen : dn_call_data_max();
	struct dn_reply rep;
	int64_t res = redirect_take(&c, dn_request(&c, &req, t ? t->path : NULL, name, in, inlen,
						   &rep), &rep);
	if (res >= 0 && out && outlen) {
		/* xattr ops answer a size; statfs answers 0 with its struct in the data */
		size_t n = op == DN_OP_STATFS ? outlen : (size_t)res;
		if (n > req.len)
			res = -EIO;
		else
			memcpy(out, dn_call_data(&c), n);
	} else if (res == -EBADR && op == DN_OP_IOCTL && out) {
		memcpy(out, dn_call_data(&c), req.len); /* FIEMAP's refusal: its header says why */
	}
	dn_call_end(&c);
	return res;
}

/* rename's and link's second name: relative to its own directory when not the first's (wire.h) */
static void second_base(struct dn_req *req, const struct dn_target *a, const struct dn_target *b)
{
	req->handle = a->handle ? a->handle : b->handle;
	req->off = b->handle && b->handle != req->handle ? b->handle : 0;
}

int dn_op_path2(uint32_t op, const struct dn_target *a, const struct dn_target *b,
		const char *raw2, uint32_t flags)
{
	/* The request is in one instance: two are two mounts, EXDEV as the kernel's. */
	if (b && b->mount != a->mount)
		return -EXDEV;
	struct dn_req req = {.op = op, .handle = a->handle, .mount = (uint16_t)a->mount,
			     .flags = flags | (a->redirect ? DN_REQ_REDIRECT : 0)};
	if (b)
		second_base(&req, a, b);
	struct dn_reply rep;
	return (int)simple(&req, a->path, b ? b->path : raw2, &rep);
}

int dn_op_link_file(int fd, const struct dn_target *to)
{
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	if (!o)
		return -EBADF;
	if (to->mount != o->mount)
		return -EXDEV;
	/* no first path: the pool takes the new name's from off (a directory) or the mount */
	struct dn_req req = {.op = DN_OP_LINK, .handle = o->handle, .off = to->handle,
			     .mount = (uint16_t)to->mount, .flags = DN_LINK_HANDLE};
	struct dn_reply rep;
	return (int)simple(&req, NULL, to->path, &rep);
}

int dn_op_fallocate(int fd, int mode, off_t off, off_t len)
{
	if (off < 0 || len <= 0)
		return -EINVAL;
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	if (!o)
		return -EBADF;
	/* as the kernel: growing the file past RLIMIT_FSIZE is EFBIG (and SIGXFSZ) */
	if (!(mode & FALLOC_FL_KEEP_SIZE) && off >= 0 && len > 0 && (o->oflags & O_ACCMODE) != O_RDONLY &&
	    dn_limits_fsize_check((uint64_t)off + (uint64_t)len) < 0)
		return -EFBIG;
	struct dn_req req = {.op = DN_OP_FALLOCATE, .handle = o->handle, .mode = (uint32_t)mode,
			     .off = (uint64_t)off, .len = (uint64_t)len};
	struct dn_reply rep;
	int r = (int)simple(&req, NULL, NULL, &rep);
	/* holes punched or zeroed change the bytes; collapse and insert move all that follows */
	if (r == 0 && (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE |
			       FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)))
		dn_mmap_changed((int32_t)(o - dn_ofds()), (uint64_t)off,
				mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)
					? UINT64_MAX : (uint64_t)len);
	return r;
}

int dn_op_fadvise(int fd, off_t off, off_t len, int advice)
{
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	if (!o || (o->oflags & O_PATH))
		return -EBADF;
	/* as generic_fadvise: a negative length or an unknown advice is EINVAL */
	if (len < 0 || advice < POSIX_FADV_NORMAL || advice > POSIX_FADV_NOREUSE)
		return -EINVAL;
	struct dn_req req = {.op = DN_OP_FADVISE, .handle = o->handle, .mode = (uint32_t)advice,
			     .off = (uint64_t)off, .len = (uint64_t)len};
	struct dn_reply rep;
	return (int)simple(&req, NULL, NULL, &rep);
}

int dn_op_lock(int fd, int cmd, struct flock *fl, uint64_t owner)
{
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	if (!o)
		return -EBADF;
	int64_t base = 0;
	struct stat st;
	int r;
	switch (fl->l_whence) {
	case SEEK_SET: break;
	case SEEK_CUR: base = atomic_load(&o->offset); break;
	case SEEK_END:
		if ((r = dn_op_fstat(fd, &st)) < 0)
			return r;
		base = st.st_size;
		break;
	default: return -EINVAL;
	}
	struct dn_flock w = {.type = fl->l_type, .whence = SEEK_SET, .start = base + fl->l_start,
			     .len = fl->l_len};
	if (w.len < 0) { /* a negative length reaches backwards */
		w.start += w.len;
		w.len = -w.len;
	}
	if (w.start < 0)
		return -EINVAL;
	struct dn_req req = {.op = DN_OP_LOCK, .handle = o->handle, .oflags = (uint32_t)cmd,
			     .off = owner};
	struct dn_call c;
	if ((r = dn_call_begin(&c)) < 0)
		return r;
	if (cmd != F_GETLK && w.type != F_UNLCK)
		atomic_store(&dn_client.session_locks, true); /* in the call: of this session */
	struct dn_reply rep;
	int64_t res = dn_request(&c, &req, NULL, NULL, &w, sizeof(w), &rep);
	/* before the call ends: a restart then sees every lock the dead pool granted */
	if (res == 0 && cmd != F_GETLK)
		dn_reopen_note_lock(dn_fdmap_get(fd), req.handle, w.type, (uint64_t)w.start,
				    (uint64_t)w.len);
	/* lock coherence: what the lock's holder reads next is the file's now */
	if (res == 0 && cmd != F_GETLK && w.type != F_UNLCK)
		dn_read_cache_drop(dn_fdmap_get(fd), req.handle);
	dn_call_end(&c);
	if (res == 0 && cmd == F_GETLK) {
		fl->l_type = (short)rep.aux;
		fl->l_whence = SEEK_SET;
		fl->l_start = (off_t)rep.st.size;
		fl->l_len = (off_t)rep.st.blocks;
		fl->l_pid = (pid_t)rep.st.uid;
	}
	return (int)res;
}

int dn_op_flock(int fd, int op, uint64_t owner)
{
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	if (!o)
		return -EBADF;
	struct dn_req req = {.op = DN_OP_FLOCK, .handle = o->handle,
			     .mode = (uint32_t)(op & ~LOCK_NB), .off = owner};
	struct dn_reply rep;
	struct dn_call c;
	int r = dn_call_begin(&c);
	if (r < 0)
		return r;
	if ((op & ~LOCK_NB) != LOCK_UN)
		atomic_store(&dn_client.session_locks, true); /* in the call: of this session */
	int64_t res = dn_request(&c, &req, NULL, NULL, NULL, 0, &rep);
	if (res == 0)
		dn_reopen_note_flock(dn_fdmap_get(fd), req.handle, op);
	if (res == 0 && (op & ~LOCK_NB) != LOCK_UN)
		dn_read_cache_drop(dn_fdmap_get(fd), req.handle);
	dn_call_end(&c);
	return (int)res;
}

ssize_t dn_op_fpath(int fd, char *buf, size_t size)
{
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	if (!o)
		return -EBADF;
	struct dn_call c;
	int r = dn_call_begin(&c);
	if (r < 0)
		return r;
	struct dn_req req = {.op = DN_OP_FPATH, .handle = o->handle};
	struct dn_reply rep;
	int64_t res = dn_request(&c, &req, NULL, NULL, NULL, 0, &rep);
	if (res >= 0 && (size_t)res + 1 > size)
		res = -ENAMETOOLONG;
	if (res >= 0)
		memcpy(buf, dn_call_data(&c), (size_t)res + 1);
	dn_call_end(&c);
	return res;
}

int dn_op_rename(const struct dn_target *from, const struct dn_target *to, unsigned flags)
{
	/* in one instance: two are two mounts, EXDEV as the kernel's */
	if (to->mount != from->mount)
		return -EXDEV;
	if (flags & DN_REQ_REDIRECT)
		return -EINVAL; /* not a renameat2 flag: the kernel's EINVAL */
	struct dn_req req = {.op = DN_OP_RENAME, .mount = (uint16_t)from->mount,
			     .flags = flags | (from->redirect ? DN_REQ_REDIRECT : 0)};
	second_base(&req, from, to);
	struct dn_reply rep;
	return (int)simple(&req, from->path, to->path, &rep);
}

int dn_op_file(uint32_t op, int fd, uint32_t flags, uint64_t off, uint32_t mode)
{
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	if (!o)
		return -EBADF;
	/* as the kernel: a writable file truncated past RLIMIT_FSIZE is EFBIG (and SIGXFSZ) */
	if (op == DN_OP_FTRUNCATE && (o->oflags & O_ACCMODE) != O_RDONLY && !o->is_dir &&
	    dn_limits_fsize_check(off) < 0)
		return -EFBIG;
	struct dn_req req = {.op = op, .handle = o->handle, .flags = flags, .off = off,
			     .mode = mode};
	struct dn_reply rep;
	int r = (int)simple(&req, NULL, NULL, &rep);
	if (op == DN_OP_FTRUNCATE && r == 0)
		dn_mmap_changed((int32_t)(o - dn_ofds()), off, UINT64_MAX);
	/* writes a restart lost are this fsync's error, once (reopen.h) */
	if (op == DN_OP_FSYNC && (r == 0 || r == -EIO)) {
		int e = dn_reopen_synced((int32_t)(o - dn_ofds()));
		r = r ? r : e;
	}
	return r;
}

int dn_op_mapfd(int fd, bool writable)
{
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	if (!o)
		return -EBADF;
	struct dn_req req = {.op = DN_OP_MAPFD, .handle = o->handle,
			     .flags = writable ? DN_MAP_WRITE : 0};
	struct dn_reply rep;
	int64_t r = simple(&req, NULL, NULL, &rep);
	if (r < 0)
		return (int)r;
	if (!(rep.flags & DN_REPLY_HANDOVER))
		return -EPROTO;
	uint64_t token[2] = {rep.handle, rep.aux};
	int k = dn_chan_take(dn_client.socket_path, token);
	return k == -ENOENT ? -EIO : k;
}

ssize_t dn_op_readdir(int fd, uint64_t cookie, void *buf, size_t len, uint64_t *next)
{
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	if (!o)
		return -EBADF;
	struct dn_call c;
	int r = dn_call_begin(&c);
	if (r < 0)
		return r;
	if (len > dn_call_data_max())
		len = dn_call_data_max();
	struct dn_req req = {.op = DN_OP_READDIR, .handle = o->handle, .off = cookie, .len = len};
	struct dn_reply rep;
	int64_t res = dn_request(&c, &req, NULL, NULL, NULL, 0, &rep);
	if (res > 0) {
		if ((size_t)res > len)
			res = -EIO;
		else
			memcpy(buf, dn_call_data(&c), (size_t)res);
	}
	if (res >= 0)
		*next = rep.aux;
	dn_call_end(&c);
	return res;
}

struct fd_match {
	int fd, nfd;
	bool found;
};

static void match_fd(int *fd, void *arg)
{
	struct fd_match *m = arg;
	if (*fd != m->fd)
		return;
	m->found = true;
	if (m->nfd >= 0)
		*fd = m->nfd;
}

bool dn_is_internal_fd(int fd)
{
	if (fd < 0 || !atomic_load(&dn_client.attached))
		return false;
	struct fd_match m = {fd, -1, fd == dn_client.placeholder};
	dn_chan_each_fd(&dn_client.chan, match_fd, &m);
	return m.found;
}

int dn_internal_fd_evict(int fd)
{
	int nfd = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, fd + 1);
	if (nfd < 0)
		return -errno;
	struct fd_match m = {fd, nfd, false};
	dn_chan_each_fd(&dn_client.chan, match_fd, &m);
	if (dn_client.placeholder == fd)
		dn_client.placeholder = nfd;
	return 0;
}
