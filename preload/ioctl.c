/* ioctl on Danaus fds: the requests the kernel's VFS answers itself, for any filesystem */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "dn-errno.h"
#include "export.h"
#include "fault.h"
#include "ops.h"
#include "real.h"

#define CAP_BIT(n) (1ull << (n))
#define DN_CAP_SYS_RAWIO 17
#define DN_CAP_SYS_ADMIN 21

static bool has_cap(int cap)
{
	struct dn_ident id;
	dn_ident_read(&id);
	return (id.caps & CAP_BIT(cap)) != 0;
}

static int put_int(void *arg, int v)
{
	return dn_fault_copy_out(arg, &v, sizeof(v)) < 0 ? -EFAULT : 0;
}

/* struct space_resv of FS_IOC_RESVSP and kin (the xfs ioctls every filesystem has) */
struct dn_space_resv {
	int16_t l_type, l_whence;
	int64_t l_start, l_len;
	int32_t l_sysid, l_pid, l_pad[4];
};

#ifndef FS_IOC_RESVSP
#define FS_IOC_RESVSP _IOW('X', 40, struct dn_space_resv)
#endif
#ifndef FS_IOC_UNRESVSP
#define FS_IOC_UNRESVSP _IOW('X', 41, struct dn_space_resv)
#endif
#ifndef FS_IOC_RESVSP64
#define FS_IOC_RESVSP64 _IOW('X', 42, struct dn_space_resv)
#endif
#ifndef FS_IOC_UNRESVSP64
#define FS_IOC_UNRESVSP64 _IOW('X', 43, struct dn_space_resv)
#endif
#ifndef FS_IOC_ZERO_RANGE
#define FS_IOC_ZERO_RANGE _IOW('X', 57, struct dn_space_resv)
#endif

/* ioctl_preallocate: the range from l_whence, then fallocate's own checks. */
static int preallocate(int fd, int mode, void *arg, const struct stat *st)
{
	struct dn_space_resv sr;
	if (dn_fault_copy_in(&sr, arg, sizeof(sr)) < 0)
		return -EFAULT;
	switch (sr.l_whence) {
	case SEEK_SET:
		break;
	case SEEK_CUR:
		sr.l_start += dn_op_lseek(fd, 0, SEEK_CUR);
		break;
	case SEEK_END:
		sr.l_start += st->st_size;
		break;
	default:
		return -EINVAL;
	}
	return dn_op_fallocate(fd, mode, sr.l_start, sr.l_len);
}

/*
 * A read-only inode ioctl the backend answers (DN_OP_IOCTL) into out
 * (size bytes; FIEMAP's request in first); -ENOSYS from a backend
 * without them (Ceph's clients answer ENOTTY, FIEMAP EOPNOTSUPP).
 */
static int ask_pool(int fd, unsigned long req, const struct fiemap *in, void *out, size_t size)
{
	int64_t r = dn_op_pathfd(DN_OP_IOCTL, NULL, fd, false, NULL, in, in ? sizeof(*in) : 0, out,
				 size, (uint32_t)req);
	return r < 0 ? (int)r : (size_t)r == size ? 0 : -EIO;
}

/* GETFLAGS, GETVERSION (an int) and FSGETXATTR: the answer to the caller's memory */
static int ioctl_get(int fd, unsigned long req, void *arg)
{
	union {
		int i;
		struct fsxattr x;
	} v;
	size_t size = req == FS_IOC_FSGETXATTR ? sizeof(v.x) : sizeof(v.i);
	int r = ask_pool(fd, req, NULL, &v, size);
	if (r == -ENOSYS)
		return -ENOTTY;
	return r < 0 ? r : dn_fault_copy_out(arg, &v, size) < 0 ? -EFAULT : 0;
}

/*
 * chattr's SETFLAGS (an int) and FSSETXATTR: the caller's value to the
 * pool, whose backend decides with the caller's rights (ENOTTY without)
 */
static int ioctl_set(int fd, unsigned long req, const void *arg)
{
	union {
		int i;
		struct fsxattr x;
	} v;
	size_t size = req == FS_IOC_FSSETXATTR ? sizeof(v.x) : sizeof(v.i);
	if (dn_fault_copy_in(&v, arg, size) < 0)
		return -EFAULT;
	int64_t r = dn_op_pathfd(DN_OP_IOCTL, NULL, fd, false, NULL, &v, size, NULL, 0,
				 (uint32_t)req);
	return r == -ENOSYS ? -ENOTTY : r < 0 ? (int)r : 0;
}

/*
 * FIEMAP: as many extents as the caller has room for (and the pool's
 * buffer); what the kernel writes (the header's counts and the extents
 * mapped) reaches the caller.
 */
static int fiemap(int fd, void *arg)
{
	struct fiemap fm;
	if (dn_fault_copy_in(&fm, arg, sizeof(fm)) < 0)
		return -EFAULT;
	if (fm.fm_extent_count > UINT_MAX / sizeof(struct fiemap_extent))
		return -EINVAL; /* ioctl_fiemap's FIEMAP_MAX_EXTENTS */
	size_t room = (dn_call_data_max() - sizeof(fm)) / sizeof(struct fiemap_extent);
	struct fiemap ask = fm;
	if (ask.fm_extent_count > room)
		ask.fm_extent_count = (uint32_t)room;
	size_t size = sizeof(fm) + ask.fm_extent_count * sizeof(struct fiemap_extent);
	struct fiemap *out = malloc(size);
	if (!out)
		return -ENOMEM;
	int r = ask_pool(fd, FS_IOC_FIEMAP, &ask, out, size);
	if (r == -EBADR) {
		/* the flags the filesystem refuses, in the caller's header (ioctl_fiemap) */
		fm.fm_flags = out->fm_flags;
		if (dn_fault_copy_out(arg, &fm, sizeof(fm)) < 0)
			r = -EFAULT;
	} else if (r == 0) {
		uint32_t n = out->fm_mapped_extents;
		if (ask.fm_extent_count && n > ask.fm_extent_count)
			n = ask.fm_extent_count;
		fm.fm_flags = out->fm_flags;
		fm.fm_mapped_extents = out->fm_mapped_extents;
		if (dn_fault_copy_out(arg, &fm, sizeof(fm)) < 0 ||
		    (ask.fm_extent_count &&
		     dn_fault_copy_out((char *)arg + sizeof(fm), out->fm_extents,
				       n * sizeof(struct fiemap_extent)) < 0))
			r = -EFAULT;
	}
	free(out);
	return r == -ENOSYS ? -EOPNOTSUPP : r;
}

/*
 * do_vfs_ioctl and file_ioctl as Linux has them; the rest goes to a
 * filesystem's own ioctl, which a pool has none of: ENOTTY, as for a FUSE
 * filesystem without ioctl support. Extent maps, cloning and freezing are
 * the filesystem's too (EOPNOTSUPP after the kernel's own checks).
 */
static int danaus_ioctl(int fd, unsigned long req, void *arg)
{
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	struct stat st;
	int r;
	if (!o || (o->oflags & O_PATH)) /* (!o: closed by another thread meanwhile) */
		return -EBADF;
	switch (req) {
	case FIOCLEX:
	case FIONCLEX:
		/* close-on-exec lives on the kernel's placeholder fd */
		return REAL(fcntl)(fd, F_SETFD, req == FIOCLEX ? FD_CLOEXEC : 0) < 0 ? -errno : 0;
	case FIONBIO: {
		int on;
		if (dn_fault_copy_in(&on, arg, sizeof(on)) < 0)
			return -EFAULT;
		bool held = dn_session_hold() == 0; /* as fcntl's F_SETFL */
		o->oflags = on ? o->oflags | O_NONBLOCK : o->oflags & ~(uint32_t)O_NONBLOCK;
		if (held)
			dn_session_release();
		return 0;
	}
	case FIOASYNC: {
		int on;
		if (dn_fault_copy_in(&on, arg, sizeof(on)) < 0)
			return -EFAULT;
		/* a change needs the file's fasync, which regular files lack */
		return !on == !(o->oflags & O_ASYNC) ? 0 : -ENOTTY;
	}
	case FIOQSIZE:
		r = dn_op_fstat(fd, &st);
		if (r < 0)
			return r;
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
			return -ENOTTY;
		{
			int64_t bytes = (int64_t)st.st_blocks * 512; /* inode_get_bytes */
			return dn_fault_copy_out(arg, &bytes, sizeof(bytes)) < 0 ? -EFAULT : 0;
		}
	case FIFREEZE:
	case FITHAW:
		return has_cap(DN_CAP_SYS_ADMIN) ? -EOPNOTSUPP : -EPERM;
	case FS_IOC_FIEMAP:
		return fiemap(fd, arg);
	case FS_IOC_GETFLAGS:
	case FS_IOC_GETVERSION:
	case FS_IOC_FSGETXATTR:
		return ioctl_get(fd, req, arg);
	case FS_IOC_SETFLAGS:
	case FS_IOC_FSSETXATTR:
		return ioctl_set(fd, req, arg);
	case FIGETBSZ:
		r = dn_op_fstat(fd, &st);
		return r < 0 ? r : put_int(arg, (int)st.st_blksize);
	case FICLONE:
	case FICLONERANGE:
	case FIDEDUPERANGE:
		return -EOPNOTSUPP;
	}
	r = dn_op_fstat(fd, &st);
	if (r < 0)
		return r;
	if (!S_ISREG(st.st_mode))
		return -ENOTTY;
	switch (req) { /* file_ioctl: regular files only */
	case FIBMAP:
		return has_cap(DN_CAP_SYS_RAWIO) ? -EINVAL : -EPERM; /* no block map: EINVAL */
	case FIONREAD: {
		off_t pos = dn_op_lseek(fd, 0, SEEK_CUR);
		if (pos < 0)
			return (int)pos;
		return put_int(arg, (int)(st.st_size - pos));
	}
	case FS_IOC_RESVSP:
	case FS_IOC_RESVSP64:
		return preallocate(fd, FALLOC_FL_KEEP_SIZE, arg, &st);
	case FS_IOC_UNRESVSP:
	case FS_IOC_UNRESVSP64:
		return preallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, arg, &st);
	case FS_IOC_ZERO_RANGE:
		return preallocate(fd, FALLOC_FL_ZERO_RANGE, arg, &st);
	}
	return -ENOTTY;
}

DN_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *); /* one pointer-sized word, as glibc reads it */
	va_end(ap);
	if (dn_fdmap_get(fd) < 0)
		return REAL(ioctl)(fd, req, arg);
	/*
	 * The system call's request is an unsigned int: a caller's int one
	 * with its top bit set (_IOR's, as xfs_io passes them) arrives here
	 * sign-extended, and the kernel would drop the upper half.
	 */
	DN_RETURN(danaus_ioctl(fd, (unsigned int)req, arg));
}

/*
 * glibc's isatty, tcgetattr... ask with its internal ioctl, which on a
 * Danaus fd meets our placeholder (EBADF): a pool file is no terminal,
 * ENOTTY as the kernel answers for a regular file (an O_PATH one: EBADF).
 */
static int not_tty(int fd)
{
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	return !o || (o->oflags & O_PATH) ? EBADF : ENOTTY;
}

DN_EXPORT int isatty(int fd)
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(isatty)(fd);
	errno = not_tty(fd);
	return 0;
}

DN_EXPORT int tcgetattr(int fd, struct termios *t)
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(tcgetattr)(fd, t);
	errno = not_tty(fd);
	return -1;
}

DN_EXPORT int tcsetattr(int fd, int action, const struct termios *t)
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(tcsetattr)(fd, action, t);
	errno = not_tty(fd);
	return -1;
}

DN_EXPORT char *ttyname(int fd)
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(ttyname)(fd);
	errno = not_tty(fd);
	return NULL;
}

DN_EXPORT int ttyname_r(int fd, char *buf, size_t len)
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(ttyname_r)(fd, buf, len);
	return not_tty(fd); /* an error number, not errno */
}
