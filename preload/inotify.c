/* Watches: inotify_add_watch(2) on a path in a mount */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/inotify.h>

#include "dn-errno.h"
#include "export.h"
#include "ops.h"
#include "real.h"
#include "route.h"

/*
 * The kernel watches inodes, and a path in a mount names none it can see.
 * Where the backend has a kernel file (local), the pool hands over an
 * O_PATH descriptor of the file, resolved with the caller's rights, and the
 * watch goes on that inode through /proc/self/fd/N: the pool's own writes
 * are kernel writes to it, so every event arrives, as on a kernel
 * filesystem. A Ceph pool has no such inode: EOPNOTSUPP, which tools that
 * watch (tail -f) meet by polling.
 */
DN_EXPORT int inotify_add_watch(int ifd, const char *path, uint32_t mask)
{
	char next[PATH_MAX];
	int fd = -1;
	for (int hops = 0;; hops++) {
		struct dn_target t;
		int r = dn_route(AT_FDCWD, path, &t);
		if (r == 0)
			return REAL(inotify_add_watch)(ifd, path, mask);
		if (r < 0)
			DN_RETURN(r);
		t.redirect = true; /* an absolute symlink goes on from the process's root */
		fd = dn_op_open(&t, O_PATH | O_CLOEXEC | ((mask & IN_DONT_FOLLOW) ? O_NOFOLLOW : 0) |
					    ((mask & IN_ONLYDIR) ? O_DIRECTORY : 0),
				0);
		if (fd != -DN_OP_REDIRECTED)
			break;
		if (!dn_op_redirect_follow(&path, next, hops))
			DN_RETURN(-ELOOP);
	}
	if (fd < 0)
		DN_RETURN(fd);
	int k = dn_op_mapfd(fd, false);
	dn_op_close(fd);
	if (k < 0)
		DN_RETURN(k == -ENODEV ? -EOPNOTSUPP : k);
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", k);
	int wd = REAL(inotify_add_watch)(ifd, proc, mask & ~(uint32_t)IN_DONT_FOLLOW);
	int e = errno;
	REAL(close)(k);
	errno = e;
	return wd;
}
