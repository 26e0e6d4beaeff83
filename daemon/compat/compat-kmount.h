/* Compat Kernel Mount: the FUSE mount made detached with the new mount API, and where it goes */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * The mount is made without a place in any tree (fsopen/fsmount), so that
 * whoever may attach it -- the pool itself when started by hand, or the
 * unit's privileged ExecStartPost= in the host's mount namespace when the
 * pool runs in systemd's sandbox -- puts it at the mountpoint with
 * move_mount(). The FUSE connection's /dev/fuse descriptor goes to libfuse.
 */

/*
 * Opens /dev/fuse and makes a fuse.danaus mount (source danaus-POOL,
 * allow_other, nosuid, nodev) served through it. 0 with both descriptors
 * (close-on-exec), or -errno with what failed in err.
 */
int dn_kmount_new(const char *pool, int *fuse_fd, int *mnt_fd, char *err, size_t errlen);

/* Attaches the detached mount mnt_fd at mountpoint (this mount namespace). 0 or -errno. */
int dn_kmount_attach(int mnt_fd, const char *mountpoint);

/* Whether the topmost mount at mountpoint is a fuse.danaus one (this namespace). */
bool dn_kmount_is_compat(const char *mountpoint);

/*
 * Detaches (MNT_DETACH) the fuse.danaus mounts stacked at mountpoint, and
 * nothing else. The number detached, or -errno.
 */
int dn_kmount_detach(const char *mountpoint);
