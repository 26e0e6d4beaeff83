/* Internal Calls: glibc functions that reach files through calls no interposer sees */
#include <errno.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export.h"

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
