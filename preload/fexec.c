/* Executing by Descriptor: fexecve(3) and execveat(2) of files in a mount */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "client.h"
#include "dn-errno.h"
#include "export.h"
#include "fdtable.h"
#include "ops.h"
#include "real.h"

/*
 * glibc runs these through its own execveat: the kernel would execute a
 * Danaus fd's placeholder (EACCES) or look a path up behind the
 * mountpoint. A Danaus descriptor is executed by the path it was opened by
 * (as *at calls resolve relative to one), through execve, which serves
 * programs stored in a pool.
 */

/* The mount path of Danaus fd, then "/" and rel when rel is not empty. */
static int fd_path(int fd, const char *rel, char out[PATH_MAX])
{
	char pool[PATH_MAX];
	ssize_t n = dn_op_fpath(fd, pool, sizeof(pool));
	if (n < 0)
		return (int)n;
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	if (!o || o->mount >= dn_client.nmounts)
		return -EBADF;
	int w = snprintf(out, PATH_MAX, "%s%s%s%s", dn_client.mounts[o->mount].path, pool,
			 *rel ? "/" : "", rel);
	return w < 0 || w >= PATH_MAX ? -ENAMETOOLONG : 0;
}

DN_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(fexecve)(fd, argv, envp);
	char path[PATH_MAX];
	int r = fd_path(fd, "", path);
	if (r < 0)
		DN_RETURN(r);
	return execve(path, argv, envp);
}

DN_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
		       int flags)
{
	if (dn_fdmap_get(dirfd) < 0) {
		struct dn_target t;
		if (dirfd != AT_FDCWD && path[0] != '/')
			return REAL(execveat)(dirfd, path, argv, envp, flags);
		if (dn_route(AT_FDCWD, path, &t) == 0)
			return REAL(execveat)(dirfd, path, argv, envp, flags);
		return execve(path, argv, envp); /* a pool path, absolute or from a working directory in one */
	}
	if (path[0] == '/')
		return execve(path, argv, envp);
	if (!path[0] && !(flags & AT_EMPTY_PATH))
		DN_RETURN(-ENOENT);
	char full[PATH_MAX];
	int r = fd_path(dirfd, path, full);
	if (r < 0)
		DN_RETURN(r);
	return execve(full, argv, envp);
}
