/* File Handles: name_to_handle_at(2) and open_by_handle_at(2) on a mount */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "client.h"
#include "dn-errno.h"
#include "export.h"
#include "fault.h"
#include "fdtable.h"
#include "real.h"
#include "route.h"

/*
 * A handle names an inode to the kernel's export operations, and the
 * kernel has no inode for a pool's file: it would have encoded the host
 * placeholder behind the mountpoint (or the placeholder behind a Danaus
 * fd), a handle that opens something else. A pool answers as a filesystem
 * without export support does: the lookup's own errors first, then
 * EOPNOTSUPP; a handle presented with a Danaus fd as its mount is stale.
 */

static bool names_danaus_file(int dirfd, const char *path, int flags)
{
	char c;
	if ((flags & AT_EMPTY_PATH) && dn_fdmap_get(dirfd) >= 0 &&
	    dn_fault_copy_in(&c, path, 1) == 0 && c == 0)
		return true;
	struct dn_target t;
	return dn_route(dirfd, path, &t) != 0;
}

DN_EXPORT int name_to_handle_at(int dirfd, const char *path, struct file_handle *handle,
				int *mount_id, int flags)
{
	if (!names_danaus_file(dirfd, path, flags))
		return REAL(name_to_handle_at)(dirfd, path, handle, mount_id, flags);
	/* The kernel refuses unknown flags before it looks: ask it with nothing to look up. */
	if (REAL(name_to_handle_at)(-1, "", handle, mount_id, flags | AT_EMPTY_PATH) < 0 &&
	    errno == EINVAL)
		return -1;
	struct stat st;
	int nofollow = (flags & AT_SYMLINK_FOLLOW) ? 0 : AT_SYMLINK_NOFOLLOW;
	if (fstatat(dirfd, path, &st, nofollow | (flags & AT_EMPTY_PATH)) < 0)
		return -1;
	DN_RETURN(-EOPNOTSUPP);
}

DN_EXPORT int open_by_handle_at(int mount_fd, struct file_handle *handle, int flags)
{
	bool ours = dn_fdmap_get(mount_fd) >= 0 ||
		    (mount_fd == AT_FDCWD && atomic_load(&dn_client.cwd_in_mount));
	if (!ours)
		return REAL(open_by_handle_at)(mount_fd, handle, flags);
	/*
	 * /proc has no export operations either: the kernel's answer there
	 * (EPERM without the right to open by handle, EFAULT, EINVAL for a
	 * bad handle, else ESTALE) is the pool's, and opens nothing.
	 */
	int proc = REAL(open)("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (proc < 0)
		DN_RETURN(-ESTALE);
	int fd = REAL(open_by_handle_at)(proc, handle, flags);
	int e = errno;
	if (fd >= 0)
		REAL(close)(fd);
	REAL(close)(proc);
	DN_RETURN(fd >= 0 ? -ESTALE : -e);
}
