/* Compat Kernel Mount: the FUSE mount made detached with the new mount API, and where it goes */
#include "compat-kmount.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "cleanup.h"

static int fs_set(int fs, const char *key, const char *value, char *err, size_t errlen)
{
	if (fsconfig(fs, value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, key, value, 0) == 0)
		return 0;
	int e = errno;
	snprintf(err, errlen, "compat_mount: fsconfig(%s): %s", key, strerror(e));
	return -e;
}

int dn_kmount_new(const char *pool, int *fuse_fd, int *mnt_fd, char *err, size_t errlen)
{
	*fuse_fd = *mnt_fd = -1;
	_cleanup_close_ int dev = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		int e = errno;
		snprintf(err, errlen, "compat_mount: cannot open /dev/fuse: %s", strerror(e));
		return -e;
	}
	_cleanup_close_ int fs = fsopen("fuse", FSOPEN_CLOEXEC);
	if (fs < 0) {
		int e = errno;
		snprintf(err, errlen, "compat_mount: fsopen(fuse): %s (needs CAP_SYS_ADMIN and "
			 "the mount system calls)", strerror(e));
		return -e;
	}
	char fd_str[16], source[128];
	snprintf(fd_str, sizeof(fd_str), "%d", dev);
	snprintf(source, sizeof(source), "danaus-%s", pool);
	/*
	 * As libfuse's own mount, owned by root; allow_other: every user of the
	 * host. default_permissions: the kernel also makes its own checks, with
	 * the caller's own credentials and fresh attributes, where FUSE would
	 * ask nothing (a FIFO's open, '..' after a name, sticky directories);
	 * the libservice still checks every request as the caller: both grant.
	 */
	int r;
	if ((r = fs_set(fs, "fd", fd_str, err, errlen)) < 0 ||
	    (r = fs_set(fs, "rootmode", "40000", err, errlen)) < 0 ||
	    (r = fs_set(fs, "user_id", "0", err, errlen)) < 0 ||
	    (r = fs_set(fs, "group_id", "0", err, errlen)) < 0 ||
	    (r = fs_set(fs, "allow_other", NULL, err, errlen)) < 0 ||
	    (r = fs_set(fs, "default_permissions", NULL, err, errlen)) < 0 ||
	    (r = fs_set(fs, "subtype", "danaus", err, errlen)) < 0 ||
	    (r = fs_set(fs, "source", source, err, errlen)) < 0)
		return r;
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		int e = errno;
		snprintf(err, errlen, "compat_mount: cannot create the FUSE superblock: %s",
			 strerror(e));
		return -e;
	}
	int m = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (m < 0) {
		int e = errno;
		snprintf(err, errlen, "compat_mount: fsmount: %s", strerror(e));
		return -e;
	}
	*mnt_fd = m;
	*fuse_fd = TAKE_FD(dev);
	return 0;
}

int dn_kmount_attach(int mnt_fd, const char *mountpoint)
{
	/* No MOVE_MOUNT_T_SYMLINKS: a symlink put at the mountpoint is not followed. */
	return move_mount(mnt_fd, "", AT_FDCWD, mountpoint, MOVE_MOUNT_F_EMPTY_PATH) < 0 ? -errno
											   : 0;
}

/* /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') << 6 | (r[2] - '0') << 3 | (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
}

bool dn_kmount_is_compat(const char *mountpoint)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	char *line = NULL;
	size_t cap = 0;
	bool top_is_ours = false;
	/* Mounts stacked at one place are listed bottom first: the last one counts. */
	while (getline(&line, &cap, f) > 0) {
		char mp[4096], fstype[64];
		const char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1 ||
		    sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		unescape(mp);
		if (strcmp(mp, mountpoint) == 0)
			top_is_ours = strcmp(fstype, "fuse.danaus") == 0;
	}
	free(line);
	fclose(f);
	return top_is_ours;
}

int dn_kmount_detach(const char *mountpoint)
{
	int n = 0;
	while (dn_kmount_is_compat(mountpoint)) {
		if (umount2(mountpoint, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
			return -errno;
		n++;
	}
	return n;
}
