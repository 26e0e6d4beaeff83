/* Descriptor Calls: read, write, seek, stat, dup, fcntl... on Danaus fds */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "client.h"
#include "dn-errno.h"
#include "export.h"
#include "fault.h"
#include "ops.h"
#include "real.h"
#include "stdio-std.h"
#include "thread-buf.h"


/* The one test every fd call starts with: not ours, straight to libc. */
#define DANAUS_FD(fd) (dn_fdmap_get(fd) >= 0)

DN_EXPORT int close(int fd)
{
	if (!DANAUS_FD(fd)) {
		/* A program closing "all fds" must not cut us off from our pool. */
		if (dn_is_internal_fd(fd))
			return 0;
		return REAL(close)(fd);
	}
	dn_std_stream_flush(fd);
	DN_RETURN(dn_op_close(fd));
}

DN_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	if (!DANAUS_FD(fd))
		return REAL(read)(fd, buf, n);
	DN_RETURN(dn_op_read(fd, buf, n, -1));
}

DN_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return read(fd, buf, n);
}

DN_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	if (!DANAUS_FD(fd))
		return REAL(write)(fd, buf, n);
	DN_RETURN(dn_op_write(fd, buf, n, -1));
}

DN_EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	if (!DANAUS_FD(fd))
		return REAL(pread)(fd, buf, n, off);
	if (off < 0)
		DN_RETURN(-EINVAL);
	DN_RETURN(dn_op_read(fd, buf, n, off));
}
DN_ALIAS(pread, pread64);

DN_EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return pread(fd, buf, n, off);
}
DN_ALIAS(__pread_chk, __pread64_chk);

DN_EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (!DANAUS_FD(fd))
		return REAL(pwrite)(fd, buf, n, off);
	if (off < 0)
		DN_RETURN(-EINVAL);
	DN_RETURN(dn_op_write(fd, buf, n, off));
}
DN_ALIAS(pwrite, pwrite64);

DN_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	if (!DANAUS_FD(fd))
		return REAL(readv)(fd, iov, cnt);
	DN_RETURN(dn_op_readv(fd, iov, cnt, -1));
}

DN_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	if (!DANAUS_FD(fd))
		return REAL(writev)(fd, iov, cnt);
	DN_RETURN(dn_op_writev(fd, iov, cnt, -1));
}

DN_EXPORT ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
	if (!DANAUS_FD(fd))
		return REAL(preadv)(fd, iov, cnt, off);
	if (off < 0)
		DN_RETURN(-EINVAL);
	DN_RETURN(dn_op_readv(fd, iov, cnt, off));
}
DN_ALIAS(preadv, preadv64);

DN_EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	if (!DANAUS_FD(fd))
		return REAL(pwritev)(fd, iov, cnt, off);
	if (off < 0)
		DN_RETURN(-EINVAL);
	DN_RETURN(dn_op_writev(fd, iov, cnt, off));
}
DN_ALIAS(pwritev, pwritev64);

DN_EXPORT off_t lseek(int fd, off_t off, int whence)
{
	if (!DANAUS_FD(fd))
		return REAL(lseek)(fd, off, whence);
	DN_RETURN(dn_op_lseek(fd, off, whence));
}
DN_ALIAS(lseek, lseek64);

DN_EXPORT int fstat(int fd, struct stat *st)
{
	if (!DANAUS_FD(fd))
		return REAL(fstat)(fd, st);
	struct stat s;
	int r = dn_op_fstat(fd, &s);
	if (r == 0 && dn_fault_copy_out(st, &s, sizeof(s)) < 0)
		r = -EFAULT;
	DN_RETURN(r);
}
DN_EXPORT int fstat64(int fd, struct stat64 *st)
{
	return fstat(fd, (struct stat *)st);
}

/* Programs built against glibc < 2.33 call the versioned stat entry points. */
DN_EXPORT int __fxstat(int ver, int fd, struct stat *st)
{
	(void)ver;
	return fstat(fd, st);
}
DN_EXPORT int __fxstat64(int ver, int fd, struct stat64 *st)
{
	(void)ver;
	return fstat(fd, (struct stat *)st);
}

DN_EXPORT int fsync(int fd)
{
	if (!DANAUS_FD(fd))
		return REAL(fsync)(fd);
	DN_RETURN(dn_op_file(DN_OP_FSYNC, fd, 0, 0, 0));
}

DN_EXPORT int fdatasync(int fd)
{
	if (!DANAUS_FD(fd))
		return REAL(fdatasync)(fd);
	DN_RETURN(dn_op_file(DN_OP_FSYNC, fd, DN_FSYNC_DATA, 0, 0));
}

/*
 * The kernel's syncfs would see only our O_PATH placeholder (EBADF). The
 * pool flushes all of the backend the file lies on (DN_FSYNC_FS); an
 * O_PATH descriptor is EBADF as in the kernel.
 */
DN_EXPORT int syncfs(int fd)
{
	if (!DANAUS_FD(fd))
		return REAL(syncfs)(fd);
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	if (!o || (o->oflags & O_PATH))
		DN_RETURN(-EBADF);
	DN_RETURN(dn_op_file(DN_OP_FSYNC, fd, DN_FSYNC_FS, 0, 0));
}

DN_EXPORT int ftruncate(int fd, off_t len)
{
	if (!DANAUS_FD(fd))
		return REAL(ftruncate)(fd, len);
	if (len < 0)
		DN_RETURN(-EINVAL);
	DN_RETURN(dn_op_file(DN_OP_FTRUNCATE, fd, 0, (uint64_t)len, 0));
}
DN_ALIAS(ftruncate, ftruncate64);

DN_EXPORT int fchmod(int fd, mode_t mode)
{
	if (!DANAUS_FD(fd))
		return REAL(fchmod)(fd, mode);
	DN_RETURN(dn_op_file(DN_OP_FCHMOD, fd, 0, 0, mode));
}

DN_EXPORT int dup(int fd)
{
	if (!DANAUS_FD(fd))
		return REAL(dup)(fd);
	DN_RETURN(dn_op_dup(fd, -1, 0, false));
}

DN_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	if (flags & ~O_CLOEXEC || oldfd == newfd || newfd < 0)
		return REAL(dup3)(oldfd, newfd, flags); /* the kernel's EINVAL, or EBADF */
	dn_std_stream_flush(newfd);
	if (DANAUS_FD(oldfd))
		DN_RETURN(dn_op_dup(oldfd, newfd, 0, flags & O_CLOEXEC));
	if (dn_is_internal_fd(newfd))
		dn_internal_fd_evict(newfd);
	int r = REAL(dup3)(oldfd, newfd, flags);
	if (r >= 0 && DANAUS_FD(newfd)) {
		dn_op_replaced(newfd);
		dn_std_stream_update(newfd);
	}
	return r;
}

DN_EXPORT int dup2(int oldfd, int newfd)
{
	if (oldfd == newfd)
		return REAL(fcntl)(oldfd, F_GETFD) < 0 ? -1 : newfd;
	return dup3(oldfd, newfd, 0);
}

#define STATUS_FLAGS (O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_ASYNC)


/*
 * Waits for a lock the way F_SETLKW would, in steps the service never
 * blocks on: a try, then a sleep until the pool sees a lock released
 * (dn_unlocks_wait), bounded for one released where it cannot see.
 */
static int lock_wait(int (*attempt)(void *), void *arg)
{
	long ns = 1000000;
	for (;;) {
		uint32_t seen = dn_unlocks_seen();
		int r = attempt(arg);
		if (r != -EAGAIN && r != -EWOULDBLOCK)
			return r;
		r = dn_unlocks_wait(seen, (uint64_t)ns);
		if (r == -EINTR)
			return -EINTR; /* a signal interrupts the wait, as in the kernel */
		if (r == -ETIMEDOUT && ns < 50000000)
			ns *= 2;
	}
}

struct lock_try {
	int fd, cmd;
	struct flock *fl;
	uint64_t owner;
};

static int lock_attempt(void *arg)
{
	struct lock_try *t = arg;
	return dn_op_lock(t->fd, t->cmd, t->fl, t->owner);
}

/*
 * POSIX locks belong to the process, OFD locks to the open file description;
 * the owner tells the service which.
 */
static int record_lock(int fd, int cmd, struct flock *fl)
{
	int32_t ofd = -1;
	dn_fd_ofd(fd, &ofd);
	bool ofd_lock = cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
	uint64_t owner = ofd_lock ? (1ull << 63) | (uint64_t)ofd : (uint64_t)getpid();
	bool get = cmd == F_GETLK || cmd == F_OFD_GETLK;
	bool wait = cmd == F_SETLKW || cmd == F_OFD_SETLKW;
	struct lock_try t = {fd, get ? F_GETLK : F_SETLK, fl, owner};
	uint32_t mode = dn_ofds()[ofd].oflags & O_ACCMODE;
	if (cmd == F_OFD_GETLK && fl->l_pid != 0)
		return -EINVAL; /* fcntl_getlk: an OFD lock names no process, before all else */
	/* the kernel checks the range first (flock_to_posix_lock), with SEEK_SET */
	if (fl->l_whence == SEEK_SET && (fl->l_start < 0 || (fl->l_len < 0 && fl->l_start + fl->l_len < 0)))
		return -EINVAL;
	if (!get && ((fl->l_type == F_WRLCK && mode == O_RDONLY) ||
		     (fl->l_type == F_RDLCK && mode == O_WRONLY)))
		return -EBADF; /* as fcntl(2): a lock needs the matching access */
	if (ofd_lock && !get && fl->l_pid != 0)
		return -EINVAL; /* fcntl_setlk, after the range and the access */
	if (!ofd_lock && !get && fl->l_type != F_UNLCK)
		atomic_store(&dn_client.posix_locks, true);
	int r = wait ? lock_wait(lock_attempt, &t) : lock_attempt(&t);
	/* POSIX: a held conflicting lock is EAGAIN or EACCES; Linux says EAGAIN */
	return r;
}

static int danaus_fcntl(int fd, int cmd, void *arg)
{
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		return dn_op_dup(fd, -1, (int)(intptr_t)arg, cmd == F_DUPFD_CLOEXEC);
	case F_GETFD:
	case F_SETFD: {
		/* close-on-exec lives on the kernel's placeholder fd */
		int r = REAL(fcntl)(fd, cmd, arg);
		return r < 0 ? -errno : r;
	}
	case F_GETFL:
		/*
		 * The kernel's f_flags: its open adds O_LARGEFILE on 64-bit and
		 * keeps O_DIRECTORY and O_NOFOLLOW; O_PATH keeps only those two.
		 */
		if (o->oflags & O_PATH)
			return (int)(o->oflags & (O_PATH | O_DIRECTORY | O_NOFOLLOW));
		return (int)(o->oflags & (O_ACCMODE | STATUS_FLAGS | O_SYNC | O_DSYNC | O_DIRECTORY |
					  O_NOFOLLOW)) |
		       KERNEL_O_LARGEFILE;
	case F_SETFL: {
		uint32_t want = (uint32_t)(intptr_t)arg & STATUS_FLAGS;
		/* as setfl(): O_NOATIME is the owner's, or CAP_FOWNER's (fsuid: the euid here) */
		if ((want & O_NOATIME) && !(o->oflags & O_NOATIME)) {
			struct stat st;
			int r = dn_op_fstat(fd, &st);
			if (r < 0)
				return r;
			struct dn_ident id;
			dn_ident_read(&id);
			if (st.st_uid != id.euid && !(id.caps & (1ull << 3 /* CAP_FOWNER */)))
				return -EPERM;
		}
		/* held: a switch of the session copies the flags once this is done (identity.c) */
		bool held = dn_session_hold() == 0;
		o->oflags = (o->oflags & ~(uint32_t)STATUS_FLAGS) | want;
		if (held)
			dn_session_release();
		return 0;
	}
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW: {
		/* the caller's struct flock: read whole first, written back for a GETLK */
		struct flock fl;
		if (dn_fault_copy_in(&fl, arg, sizeof(fl)) < 0)
			return -EFAULT;
		int r = record_lock(fd, cmd, &fl);
		if (r == 0 && (cmd == F_GETLK || cmd == F_OFD_GETLK) &&
		    dn_fault_copy_out(arg, &fl, sizeof(fl)) < 0)
			return -EFAULT;
		return r;
	}
	default:
		return dn_fcntl_more(fd, cmd, arg);
	}
}

DN_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	/* Like glibc: the optional argument is read as a pointer-sized word. */
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if (!DANAUS_FD(fd))
		return REAL(fcntl)(fd, cmd, arg);
	DN_RETURN(danaus_fcntl(fd, cmd, arg));
}
DN_ALIAS(fcntl, fcntl64);

DN_EXPORT int posix_fadvise(int fd, off_t off, off_t len, int advice)
{
	if (!DANAUS_FD(fd))
		return REAL(posix_fadvise)(fd, off, len, advice);
	return -dn_op_fadvise(fd, off, len, advice); /* an error number, not -1 and errno */
}
DN_ALIAS(posix_fadvise, posix_fadvise64);

/*
 * Copies through the thread's bounce buffer when either end is a Danaus
 * fd: reads at *off or the file offset, writes likewise, as the kernel's
 * version does.
 */
static ssize_t copy_through(int in, off_t *in_off, int out, off_t *out_off, size_t count)
{
	char *buf = dn_thread_buf();
	if (!buf) {
		errno = ENOMEM; /* as the kernel's copy when it cannot get pages */
		return -1;
	}
	size_t done = 0;
	while (done < count) {
		size_t want = count - done < DN_THREAD_BUF ? count - done : DN_THREAD_BUF;
		ssize_t r = in_off ? pread(in, buf, want, *in_off + (off_t)done) : read(in, buf, want);
		if (r <= 0) {
			if (r < 0 && done == 0)
				return -1;
			break;
		}
		ssize_t w = out_off ? pwrite(out, buf, (size_t)r, *out_off + (off_t)done)
				    : write(out, buf, (size_t)r);
		if (w < r) {
			/* what was read but not written must be read again next time */
			if (!in_off) {
				int e = errno;
				lseek(in, (off_t)(w < 0 ? 0 : w) - r, SEEK_CUR);
				errno = e;
			}
			if (w < 0 && done == 0)
				return -1;
			if (w > 0)
				done += (size_t)w;
			break;
		}
		done += (size_t)w;
	}
	if (in_off)
		*in_off += (off_t)done;
	if (out_off)
		*out_off += (off_t)done;
	return (ssize_t)done;
}

/* An fd's type, device, inode and f_flags, whichever side it is on; -EBADF. */
static int file_of(int fd, struct stat *st, int *fl)
{
	int r = DANAUS_FD(fd) ? dn_op_fstat(fd, st) : (REAL(fstat)(fd, st) < 0 ? -errno : 0);
	if (r < 0)
		return r;
	*fl = fcntl(fd, F_GETFL);
	return *fl < 0 || (*fl & O_PATH) ? -EBADF : 0;
}

#define COPY_EXDEV 1

/*
 * The checks of vfs_copy_file_range, in its order: flags, directories
 * (EISDIR), anything but regular files (EINVAL), access modes and an
 * O_APPEND output (EBADF), two filesystems, offsets that wrap as unsigned
 * (EOVERFLOW: a negative one too), then the length shortened to the
 * input's end, an overlap within one file of what is left (EINVAL), and
 * last rw_verify_area's negative offsets (EINVAL). A copy between a pool
 * and another filesystem is EXDEV (COPY_EXDEV, once len is not 0), as the
 * kernel answers since 5.19 for two filesystems; callers then copy
 * themselves. at_in, at_out: the file offset, not pos (whatever its value).
 */
static int copy_range_check(int in, bool at_in, off_t pos_in, int out, bool at_out,
			    off_t pos_out, size_t *len, unsigned flags)
{
	if (flags)
		return -EINVAL;
	struct stat si, so;
	int fi, fo;
	int r = file_of(in, &si, &fi);
	if (r == 0)
		r = file_of(out, &so, &fo);
	if (r < 0)
		return r;
	if (S_ISDIR(si.st_mode) || S_ISDIR(so.st_mode))
		return -EISDIR;
	if (!S_ISREG(si.st_mode) || !S_ISREG(so.st_mode))
		return -EINVAL;
	if ((fi & O_ACCMODE) == O_WRONLY || (fo & O_ACCMODE) == O_RDONLY || (fo & O_APPEND))
		return -EBADF;
	if (*len > 0 && (DANAUS_FD(in) != DANAUS_FD(out) || si.st_dev != so.st_dev))
		return COPY_EXDEV;
	if (at_in)
		pos_in = lseek(in, 0, SEEK_CUR);
	if (at_out)
		pos_out = lseek(out, 0, SEEK_CUR);
	if ((uint64_t)pos_in + *len < (uint64_t)pos_in || (uint64_t)pos_out + *len < (uint64_t)pos_out)
		return -EOVERFLOW;
	/* what lies past the input's end now is not copied, even if the copy extends it */
	if (pos_in >= si.st_size)
		*len = 0;
	else if (*len > (uint64_t)si.st_size - (uint64_t)pos_in)
		*len = (size_t)((uint64_t)si.st_size - (uint64_t)pos_in);
	if (pos_in < 0 || pos_out < 0)
		return -EINVAL; /* an overlap's or rw_verify_area's, even for nothing to copy */
	if (si.st_dev == so.st_dev && si.st_ino == so.st_ino && *len > 0 &&
	    (uint64_t)pos_out < (uint64_t)pos_in + *len &&
	    (uint64_t)pos_in < (uint64_t)pos_out + *len)
		return -EINVAL;
	return 0;
}

DN_EXPORT ssize_t copy_file_range(int in, off_t *in_off, int out, off_t *out_off, size_t len,
				  unsigned flags)
{
	if (!DANAUS_FD(in) && !DANAUS_FD(out))
		return REAL(copy_file_range)(in, in_off, out, out_off, len, flags);
	/* as the kernel: the offsets read first, written back after a copy */
	off_t pos_in, pos_out;
	if ((in_off && dn_fault_copy_in(&pos_in, in_off, sizeof(pos_in)) < 0) ||
	    (out_off && dn_fault_copy_in(&pos_out, out_off, sizeof(pos_out)) < 0))
		DN_RETURN(-EFAULT);
	int c = copy_range_check(in, !in_off, in_off ? pos_in : 0, out, !out_off,
				 out_off ? pos_out : 0, &len, flags);
	if (c < 0)
		DN_RETURN(c);
	if (c == COPY_EXDEV)
		DN_RETURN(-EXDEV);
	ssize_t r = copy_through(in, in_off ? &pos_in : NULL, out, out_off ? &pos_out : NULL, len);
	if (r > 0) {
		int e = in_off ? dn_fault_copy_out(in_off, &pos_in, sizeof(pos_in)) : 0;
		if (out_off && dn_fault_copy_out(out_off, &pos_out, sizeof(pos_out)) < 0)
			e = -EFAULT;
		if (e < 0)
			DN_RETURN(e);
	}
	return r;
}

DN_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	if (!DANAUS_FD(in) && !DANAUS_FD(out))
		return REAL(sendfile)(out, in, off, count);
	if (!off)
		return copy_through(in, NULL, out, NULL, count);
	/* as the kernel: the offset read first, written back whatever the copy did */
	off_t pos;
	if (dn_fault_copy_in(&pos, off, sizeof(pos)) < 0)
		DN_RETURN(-EFAULT);
	ssize_t r = copy_through(in, &pos, out, NULL, count);
	int e = errno;
	if (dn_fault_copy_out(off, &pos, sizeof(pos)) < 0)
		DN_RETURN(-EFAULT);
	errno = e;
	return r;
}
DN_ALIAS(sendfile, sendfile64);

DN_EXPORT int fallocate(int fd, int mode, off_t off, off_t len)
{
	if (!DANAUS_FD(fd))
		return REAL(fallocate)(fd, mode, off, len);
	DN_RETURN(dn_op_fallocate(fd, mode, off, len));
}
DN_ALIAS(fallocate, fallocate64);

DN_EXPORT int posix_fallocate(int fd, off_t off, off_t len)
{
	if (!DANAUS_FD(fd))
		return REAL(posix_fallocate)(fd, off, len);
	int r = dn_op_fallocate(fd, 0, off, len);
	return r < 0 ? -r : 0; /* posix_fallocate answers the error number itself */
}
DN_ALIAS(posix_fallocate, posix_fallocate64);

struct flock_try {
	int fd, op;
	uint64_t owner;
};

static int flock_attempt(void *arg)
{
	struct flock_try *t = arg;
	return dn_op_flock(t->fd, t->op, t->owner);
}

DN_EXPORT int flock(int fd, int op)
{
	if (!DANAUS_FD(fd))
		return REAL(flock)(fd, op);
	int32_t ofd = -1;
	dn_fd_ofd(fd, &ofd);
	/* flock locks belong to the open file description */
	struct flock_try t = {fd, op, (1ull << 63) | (uint64_t)ofd};
	DN_RETURN((op & LOCK_NB) || (op & LOCK_UN) ? flock_attempt(&t)
						    : lock_wait(flock_attempt, &t));
}

/* Starts or waits for write-back of a range: the pool's fsync covers any range. */
DN_EXPORT int sync_file_range(int fd, off_t off, off_t len, unsigned flags)
{
	if (!DANAUS_FD(fd))
		return REAL(sync_file_range)(fd, off, len, flags);
	if (off < 0 || len < 0 ||
	    (flags & ~(unsigned)(SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
				 SYNC_FILE_RANGE_WAIT_AFTER)))
		DN_RETURN(-EINVAL);
	if (!(flags & SYNC_FILE_RANGE_WAIT_AFTER))
		return 0; /* only a hint to start writing: the pool decides when */
	DN_RETURN(dn_op_file(DN_OP_FSYNC, fd, DN_FSYNC_DATA, 0, 0));
}

DN_EXPORT ssize_t readahead(int fd, off64_t off, size_t count)
{
	if (!DANAUS_FD(fd))
		return REAL(readahead)(fd, off, count);
	return 0; /* a hint: the pool's cache makes its own decisions */
}
