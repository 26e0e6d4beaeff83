/* Compat Attach: the pool's detached FUSE mounts, handed to the unit that attaches them in the host */
#pragma once

#include <stddef.h>

/*
 * In systemd's sandbox the pool's mount namespace is its own: a mount made
 * there never reaches the host. The pool makes its mounts (one per
 * instance) detached and records which of its descriptors holds each in
 * RUNDIR/POOL.compat, a line "PID FD MOUNTPOINT" per mount; each of the
 * unit's ExecStartPost=+ lines (dn_compat_attach_main, in the host's
 * namespace, with the privileges the pool has not) takes the descriptor of
 * its mountpoint with pidfd_getfd() and attaches it. The record only says
 * where to look: the descriptor must be a FUSE mount of the unit's main
 * process, and the mountpoint comes from the unit's own command line, not
 * from the pool.
 */

/* Writes the record: this process's mnt_fds[i] holds the mount for mountpoints[i]. 0 or -errno. */
int dn_compat_record_write(const char *pool, const int *mnt_fds, const char *const *mountpoints,
			   size_t n);

/* Removes the record of this process, if it is still ours. */
void dn_compat_record_remove(const char *pool);
