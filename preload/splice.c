/* Pipes and Flags: preadv2/pwritev2, splice and tee with a Danaus fd on one side */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "client.h"
#include "dn-errno.h"
#include "export.h"
#include "fault.h"
#include "ops.h"
#include "real.h"
#include "thread-buf.h"

#define DANAUS_FD(fd) (dn_fdmap_get(fd) >= 0)

/* RWF_* as in linux/fs.h (older headers lack the newer ones) */
#define DN_RWF_HIPRI 0x01
#define DN_RWF_DSYNC 0x02
#define DN_RWF_SYNC 0x04
#define DN_RWF_NOWAIT 0x08
#define DN_RWF_APPEND 0x10
#define DN_RWF_NOAPPEND 0x20

/*
 * The flags the pool can honour. RWF_NOWAIT is refused as FUSE refuses it
 * (EOPNOTSUPP): a pool request may always wait. Newer flags
 * (RWF_ATOMIC, RWF_DONTCACHE) are unknown here, and unknown is EOPNOTSUPP.
 */
static int rwf_check(int flags)
{
	if (flags & ~(DN_RWF_HIPRI | DN_RWF_DSYNC | DN_RWF_SYNC | DN_RWF_APPEND | DN_RWF_NOAPPEND))
		return -EOPNOTSUPP;
	return 0;
}

DN_EXPORT ssize_t preadv2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	if (!DANAUS_FD(fd))
		return REAL(preadv2)(fd, iov, cnt, off, flags);
	if (off < -1)
		DN_RETURN(-EINVAL);
	int e = rwf_check(flags);
	if (e < 0)
		DN_RETURN(e);
	/* -1: at the file offset, as readv */
	DN_RETURN(dn_op_readv(fd, iov, cnt, off));
}
DN_ALIAS(preadv2, preadv64v2);

DN_EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	if (!DANAUS_FD(fd))
		return REAL(pwritev2)(fd, iov, cnt, off, flags);
	if (off < -1)
		DN_RETURN(-EINVAL);
	int e = rwf_check(flags);
	if (e < 0)
		DN_RETURN(e);
	int append = flags & DN_RWF_APPEND ? 1 : flags & DN_RWF_NOAPPEND ? 0 : -1;
	ssize_t r = dn_op_writev_append(fd, iov, cnt, off, append);
	/* a synchronous write: the data (and for RWF_SYNC the metadata) are stored on return */
	if (r > 0 && (flags & (DN_RWF_DSYNC | DN_RWF_SYNC))) {
		int s = dn_op_file(DN_OP_FSYNC, fd, flags & DN_RWF_SYNC ? 0 : DN_FSYNC_DATA, 0, 0);
		if (s < 0)
			DN_RETURN(s);
	}
	DN_RETURN(r);
}
DN_ALIAS(pwritev2, pwritev64v2);

/* A kernel fd's access mode, or -EBADF. */
static int kernel_accmode(int fd)
{
	int fl = REAL(fcntl)(fd, F_GETFL);
	if (fl < 0 || (fl & O_PATH))
		return -EBADF;
	return fl & O_ACCMODE;
}

static bool is_pipe(int fd)
{
	struct stat st;
	return REAL(fstat)(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

/* Whether a Danaus fd may be read (want O_RDONLY) or written (O_WRONLY). */
static bool danaus_may(int fd, int want)
{
	const struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	if (!o)
		return false; /* closed by another thread meanwhile */
	uint32_t fl = o->oflags, mode = fl & O_ACCMODE;
	if (fl & O_PATH)
		return false;
	return mode == O_RDWR || mode == (uint32_t)want;
}

/*
 * The room a pipe has for a write, waiting for some unless nonblock
 * (-EAGAIN then). The count is in bytes where the pipe keeps pages, so a
 * pipe whose partly read pages cannot take more may hold a little less:
 * the write then waits for the reader, as a full pipe makes it.
 */
static ssize_t pipe_room(int fd, bool nonblock)
{
	for (;;) {
		int queued = 0, size = REAL(fcntl)(fd, F_GETPIPE_SZ);
		if (size <= 0 || REAL(ioctl)(fd, FIONREAD, &queued) < 0)
			return 65536; /* not measurable: the write says */
		if (queued < size)
			return size - queued;
		if (nonblock)
			return -EAGAIN;
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		if (REAL(poll)(&p, 1, -1) < 0)
			return -errno; /* EINTR: the kernel's splice is interrupted too */
		if (p.revents & POLLERR)
			return 65536; /* no reader: the write says EPIPE (and SIGPIPE) */
	}
}

/* The bytes a pipe holds now, or 0 for its end (no writer), or -EAGAIN. */
static ssize_t pipe_queued(int fd)
{
	int queued = 0;
	if (REAL(ioctl)(fd, FIONREAD, &queued) < 0)
		return -errno;
	if (queued > 0)
		return queued;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (REAL(poll)(&p, 1, 0) == 1 && (p.revents & POLLHUP) && !(p.revents & POLLIN))
		return 0;
	return -EAGAIN;
}

/*
 * Up to want bytes of a pipe, waiting for some unless nonblock (0 at its
 * end), but left in it (*peeked): tee()d into a private pipe and read
 * from there, so that the caller takes out only what the file then took,
 * as the kernel's splice leaves in the pipe what the file refused. With
 * no private pipe to be had (no fd left) the bytes are read as they are.
 */
static ssize_t pipe_peek(int fd, void *buf, size_t want, bool nonblock, bool *peeked)
{
	int p[2];
	*peeked = pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0;
	if (!*peeked) {
		ssize_t r = REAL(read)(fd, buf, want);
		return r < 0 ? -errno : r;
	}
	ssize_t n;
	for (;;) {
		n = REAL(tee)(fd, p[1], want, SPLICE_F_NONBLOCK); /* 0: empty, no writer */
		if (n >= 0 || errno != EAGAIN || nonblock)
			break;
		struct pollfd q = {.fd = fd, .events = POLLIN};
		if (REAL(poll)(&q, 1, -1) < 0)
			break;
	}
	if (n < 0)
		n = -errno;
	else if (n > 0 && (n = REAL(read)(p[0], buf, (size_t)n)) < 0)
		n = -errno;
	REAL(close)(p[0]);
	REAL(close)(p[1]);
	return n;
}

#define DN_SPLICE_ALL (SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT)

/*
 * Between a Danaus file and a pipe, as do_splice: one side must be a pipe
 * (else EINVAL), a pipe takes no offset (ESPIPE), an O_APPEND output is
 * EINVAL. The data goes through a buffer of ours; of a file read ahead of
 * what the pipe took, the file offset is moved back; of a pipe, only
 * what the file took is taken (pipe_peek).
 */
static ssize_t danaus_splice(int in, off_t *in_off, int out, off_t *out_off, size_t len,
			     unsigned flags)
{
	if (flags & ~(unsigned)DN_SPLICE_ALL)
		return -EINVAL;
	bool in_dn = DANAUS_FD(in), out_dn = DANAUS_FD(out);
	if (!in_dn && kernel_accmode(in) < 0)
		return -EBADF;
	if (!out_dn && kernel_accmode(out) < 0)
		return -EBADF;
	if ((in_dn ? !danaus_may(in, O_RDONLY) : kernel_accmode(in) == O_WRONLY) ||
	    (out_dn ? !danaus_may(out, O_WRONLY) : kernel_accmode(out) == O_RDONLY))
		return -EBADF;
	int pipe_fd = in_dn ? out : in;
	if (in_dn == out_dn || !is_pipe(pipe_fd))
		return -EINVAL; /* two files: neither is a pipe */
	if ((in_dn ? out_off : in_off) != NULL)
		return -ESPIPE;
	const struct dn_ofd *oo = out_dn ? dn_fd_ofd(out, NULL) : NULL;
	if (out_dn && !oo)
		return -EBADF; /* closed by another thread meanwhile */
	if (oo && (oo->oflags & O_APPEND))
		return -EINVAL;
	off_t *file_off = in_dn ? in_off : out_off;
	off_t pos = 0;
	if (file_off && dn_fault_copy_in(&pos, file_off, sizeof(pos)) < 0)
		return -EFAULT;
	if (file_off && pos < 0)
		return -EINVAL;
	if (len == 0)
		return 0;
	char *buf = dn_thread_buf();
	if (!buf)
		return -ENOMEM; /* as the kernel's splice when it cannot get pages */
	size_t want = len < DN_THREAD_BUF ? len : DN_THREAD_BUF;
	if (in_dn) {
		/* into the pipe: no more than it has room for, as the kernel's partial count */
		/* the pipe's own O_NONBLOCK counts as SPLICE_F_NONBLOCK (do_splice) */
		bool nonblock = (flags & SPLICE_F_NONBLOCK) || (REAL(fcntl)(pipe_fd, F_GETFL) & O_NONBLOCK);
		ssize_t room = pipe_room(pipe_fd, nonblock);
		if (room < 0)
			return room;
		want = want < (size_t)room ? want : (size_t)room;
	} else if (flags & SPLICE_F_NONBLOCK) {
		/* out of the pipe: what it holds; empty is EOF once no writer is left */
		ssize_t queued = pipe_queued(pipe_fd);
		if (queued < 0)
			return queued;
		want = want < (size_t)queued ? want : (size_t)queued;
	}
	ssize_t r, w;
	if (in_dn) {
		r = dn_op_read(in, buf, want, file_off ? pos : -1);
		if (r <= 0)
			return r;
		w = REAL(write)(out, buf, (size_t)r);
		if (w < 0)
			w = -errno;
		if (!file_off && w < r) /* what the pipe did not take is read again next time */
			dn_op_lseek(in, (off_t)(w < 0 ? 0 : w) - r, SEEK_CUR);
	} else {
		bool nonblock = (flags & SPLICE_F_NONBLOCK) || (REAL(fcntl)(in, F_GETFL) & O_NONBLOCK);
		bool peeked;
		r = pipe_peek(in, buf, want, nonblock, &peeked);
		if (r <= 0)
			return r;
		w = dn_op_write(out, buf, (size_t)r, file_off ? pos : -1);
		if (peeked && w > 0 && REAL(read)(in, buf, (size_t)w) < 0) /* now take what the file took */
			return -errno;
	}
	if (w <= 0)
		return w;
	if (file_off) {
		pos += w;
		if (dn_fault_copy_out(file_off, &pos, sizeof(pos)) < 0)
			return -EFAULT;
	}
	return w;
}

DN_EXPORT ssize_t splice(int in, off_t *in_off, int out, off_t *out_off, size_t len,
			 unsigned flags)
{
	if (!DANAUS_FD(in) && !DANAUS_FD(out))
		return REAL(splice)(in, in_off, out, out_off, len, flags);
	DN_RETURN(danaus_splice(in, in_off, out, out_off, len, flags));
}

/* tee needs two pipes: a Danaus fd is a file, so EINVAL once both fds pass do_tee's checks. */
DN_EXPORT ssize_t tee(int in, int out, size_t len, unsigned flags)
{
	if (!DANAUS_FD(in) && !DANAUS_FD(out))
		return REAL(tee)(in, out, len, flags);
	if (flags & ~(unsigned)DN_SPLICE_ALL)
		DN_RETURN(-EINVAL);
	if (len == 0)
		return 0;
	if ((!DANAUS_FD(in) && kernel_accmode(in) < 0) || (!DANAUS_FD(out) && kernel_accmode(out) < 0))
		DN_RETURN(-EBADF);
	if ((DANAUS_FD(in) ? !danaus_may(in, O_RDONLY) : kernel_accmode(in) == O_WRONLY) ||
	    (DANAUS_FD(out) ? !danaus_may(out, O_WRONLY) : kernel_accmode(out) == O_RDONLY))
		DN_RETURN(-EBADF);
	DN_RETURN(-EINVAL);
}
