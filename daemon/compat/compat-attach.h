/* Compat Attach: the pool's detached FUSE mount, handed to the unit that attaches it in the host */
#pragma once

/*
 * In systemd's sandbox the pool's mount namespace is its own: a mount made
 * there never reaches the host. The pool makes its mount detached and
 * records which of its descriptors holds it in RUNDIR/POOL.compat ("PID FD");
 * the unit's ExecStartPost=+ (dn_compat_attach_main, in the host's
 * namespace, with the privileges the pool has not) takes that descriptor
 * with pidfd_getfd() and attaches it. The record only says where to look:
 * the descriptor must be a FUSE mount of the unit's main process, and the
 * mountpoint comes from the unit's own command line, not from the pool.
 */

/* Writes the record for mnt_fd of this process. 0 or -errno. */
int dn_compat_record_write(const char *pool, int mnt_fd);

/* Removes the record of this process, if it is still ours. */
void dn_compat_record_remove(const char *pool);
