/* Internal Calls: glibc functions that reach files through calls no interposer sees */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export.h"
#include "fdtable.h"
#include "real.h"

/*
 * glibc's remove() calls its own unlink and rmdir, which bypass every
 * preloaded library: on a pool path it answered ENOENT and left the file,
 * or removed the host file behind the mountpoint. The same steps here go
 * through the library's unlink and rmdir (and to the kernel's for any other
 * path, as before).
 */
DN_EXPORT int remove(const char *path)
{
	if (unlink(path) == 0)
		return 0;
	if (errno != EISDIR)
		return -1;
	return rmdir(path);
}

/*
 * _FORTIFY_SOURCE turns readlink into __readlink_chk (Debian builds its
 * packages so), which checks the size and calls glibc's own readlink.
 */
DN_EXPORT ssize_t __readlink_chk(const char *path, char *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		__chk_fail();
	return readlink(path, buf, len);
}

DN_EXPORT ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t len,
				   size_t buflen)
{
	if (len > buflen)
		__chk_fail();
	return readlinkat(dirfd, path, buf, len);
}

/* glibc's ftok stats the file with its own stat: the key comes from the pool's inode here. */
DN_EXPORT key_t ftok(const char *path, int proj_id)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -1;
	return (key_t)((st.st_ino & 0xffff) | ((st.st_dev & 0xff) << 16) |
		       ((unsigned)(proj_id & 0xff) << 24));
}

/*
 * glibc's lockf takes its record lock with its own fcntl: on a Danaus fd
 * that met the kernel's placeholder (EBADF). The same steps here go through
 * the library's fcntl; other fds stay glibc's.
 */
DN_EXPORT int lockf(int fd, int cmd, off_t len)
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(lockf)(fd, cmd, len);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_CUR, .l_start = 0, .l_len = len};
	switch (cmd) {
	case F_TEST: /* unlocked, or locked by this process: 0; another's: EACCES */
		fl.l_type = F_RDLCK;
		if (fcntl(fd, F_GETLK, &fl) < 0)
			return -1;
		if (fl.l_type == F_UNLCK || fl.l_pid == getpid())
			return 0;
		errno = EACCES;
		return -1;
	case F_ULOCK:
		fl.l_type = F_UNLCK;
		return fcntl(fd, F_SETLK, &fl);
	case F_LOCK:
		return fcntl(fd, F_SETLKW, &fl);
	case F_TLOCK:
		return fcntl(fd, F_SETLK, &fl);
	}
	errno = EINVAL;
	return -1;
}
DN_ALIAS(lockf, lockf64);

/*
 * Programs built against glibc < 2.33 call mknod and mknodat as these
 * versioned entry points (tar extracting a FIFO, mknod(1) in an older
 * image): glibc's own ends in its internal mknodat.
 */
DN_EXPORT int __xmknod(int ver, const char *path, mode_t mode, dev_t *dev)
{
	(void)ver;
	return mknodat(AT_FDCWD, path, mode, *dev);
}

DN_EXPORT int __xmknodat(int ver, int dirfd, const char *path, mode_t mode, dev_t *dev)
{
	(void)ver;
	return mknodat(dirfd, path, mode, *dev);
}
