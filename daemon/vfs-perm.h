/* VFS Permissions: the kernel's permission rules, for a backend whose library does not make them */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "svc.h"

/*
 * What the rules look at of a file: its mode (type and bits), owners, and
 * its access ACL when it has one (the system.posix_acl_access value, as
 * getxattr gives it; NULL: none -- a value that does not parse refuses).
 */
struct dn_vfs_attr {
	mode_t mode;
	uid_t uid;
	gid_t gid;
	const void *acl;
	size_t acl_len;
};

/*
 * Whether a library that treats uid 0 as all-powerful (libcephfs) would let
 * c past checks the kernel makes: uid 0 without CAP_DAC_OVERRIDE,
 * CAP_FOWNER, CAP_CHOWN or CAP_FSETID. Such callers get the checks below
 * from the backend itself; for others the library's own agree with them.
 */
bool dn_vfs_root_without_caps(const struct dn_cred *c);

/* c's fsgid or one of its supplementary groups is gid. */
bool dn_vfs_in_group(const struct dn_cred *c, gid_t gid);

/* generic_permission: may c do mask (R_OK | W_OK | X_OK) on a? 0 or -EACCES. */
int dn_vfs_permission(const struct dn_cred *c, const struct dn_vfs_attr *a, int mask);

/* inode_owner_or_capable: c owns a file of owner uid, or holds CAP_FOWNER. */
bool dn_vfs_owner_or_capable(const struct dn_cred *c, uid_t uid);

/*
 * may_delete on a directory dir and a name in it owned by victim_uid: write
 * and search on dir (-EACCES), then the sticky bit (-EPERM).
 */
int dn_vfs_may_delete(const struct dn_cred *c, const struct dn_vfs_attr *dir, uid_t victim_uid);

/* setattr_prepare for chown(uid, gid), -1 leaving one as it is: 0 or -EPERM. */
int dn_vfs_may_chown(const struct dn_cred *c, const struct dn_vfs_attr *a, uid_t uid, gid_t gid);

/* setattr_prepare for chmod: 0 or -EPERM; *mode loses set-group-ID where c may not set it. */
int dn_vfs_may_chmod(const struct dn_cred *c, const struct dn_vfs_attr *a, mode_t *mode);

/*
 * utimensat: explicit times (set) only for the owner or CAP_FOWNER
 * (-EPERM); both "now" (touch) also for who may write (-EACCES).
 */
int dn_vfs_may_utimes(const struct dn_cred *c, const struct dn_vfs_attr *a, bool touch);

/*
 * may_linkat with fs.protected_hardlinks set: a link to a file c neither
 * owns nor may read and write, or that is not a plain regular file, is
 * -EPERM.
 */
int dn_vfs_may_link(const struct dn_cred *c, const struct dn_vfs_attr *a, int protected_hardlinks);

/*
 * The mode a file created by c is given (mode_strip_sgid): without
 * set-group-ID when group-executable in a group c is not in, unless c
 * holds CAP_FSETID. gid: the group the new file gets.
 */
mode_t dn_vfs_create_mode(const struct dn_cred *c, mode_t mode, gid_t gid);

/*
 * xattr_permission for name on a (write: set or remove): user.* only on
 * regular files and directories (-EPERM, -ENODATA on a read) and, in a
 * sticky directory, changed only by its owner (-EPERM); then,
 * with check_bits, the mode bits for every name outside system.*,
 * security.* and trusted.* (-EACCES). A POSIX ACL is changed only by the
 * owner or CAP_FOWNER (-EPERM), which check_bits also asks for.
 */
int dn_vfs_xattr_permission(const struct dn_cred *c, const struct dn_vfs_attr *a,
			    const char *name, bool write, bool check_bits);
