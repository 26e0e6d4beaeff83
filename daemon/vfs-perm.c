/* VFS Permissions: the kernel's permission rules, for a backend whose library does not make them */
#include "vfs-perm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cred.h"

bool dn_vfs_root_without_caps(const struct dn_cred *c)
{
	return c->uid == 0 &&
	       !(dn_cred_capable(c, CAP_DAC_OVERRIDE) && dn_cred_capable(c, CAP_FOWNER) &&
		 dn_cred_capable(c, CAP_CHOWN) && dn_cred_capable(c, CAP_FSETID));
}

bool dn_vfs_in_group(const struct dn_cred *c, gid_t gid)
{
	if (c->gid == gid)
		return true;
	for (uint32_t i = 0; i < c->ngroups && i < DN_GROUPS_MAX; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

/* ACL entries as the xattr holds them (little endian), after a u32 version (2) */
#define ACL_XATTR_VERSION 2
#define ACL_USER_OBJ 0x01
#define ACL_USER 0x02
#define ACL_GROUP_OBJ 0x04
#define ACL_GROUP 0x08
#define ACL_MASK 0x10
#define ACL_OTHER 0x20

static unsigned le16(const uint8_t *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * posix_acl_permission, for a caller who is not the owner: the named user
 * entry, else the owning and named groups (any that grants wins, a match
 * that does not refuses), each under the mask; else the other entry.
 */
static bool acl_grants(const struct dn_cred *c, const struct dn_vfs_attr *a, unsigned want)
{
	const uint8_t *p = a->acl;
	if (a->acl_len < 4 || (a->acl_len - 4) % 8 || le32(p) != ACL_XATTR_VERSION)
		return false; /* (the kernel's -EIO: nobody gets in) */
	size_t n = (a->acl_len - 4) / 8;
	const uint8_t *e = p + 4;
	unsigned mask = 7;
	for (size_t i = 0; i < n; i++)
		if (le16(e + 8 * i) == ACL_MASK)
			mask = le16(e + 8 * i + 2);
	bool found = false;
	for (size_t i = 0; i < n; i++) {
		unsigned tag = le16(e + 8 * i), perm = le16(e + 8 * i + 2);
		uint32_t id = le32(e + 8 * i + 4);
		switch (tag) {
		case ACL_USER:
			if (id == c->uid)
				return (perm & mask & want) == want;
			break;
		case ACL_GROUP_OBJ:
		case ACL_GROUP:
			if (dn_vfs_in_group(c, tag == ACL_GROUP ? id : a->gid)) {
				found = true;
				if ((perm & mask & want) == want)
					return true;
			}
			break;
		case ACL_OTHER:
			return !found && (perm & want) == want;
		}
	}
	return false;
}

int dn_vfs_permission(const struct dn_cred *c, const struct dn_vfs_attr *a, int mask)
{
	mask &= R_OK | W_OK | X_OK;
	unsigned bits;
	if (c->uid == a->uid)
		bits = (a->mode >> 6) & 7;
	else if (a->acl)
		bits = acl_grants(c, a, (unsigned)mask) ? 7 : 0;
	else if (dn_vfs_in_group(c, a->gid))
		bits = (a->mode >> 3) & 7;
	else
		bits = a->mode & 7;
	if (((unsigned)mask & bits) == (unsigned)mask)
		return 0;
	bool dir = S_ISDIR(a->mode);
	/* CAP_DAC_OVERRIDE: anything but executing what nobody may execute */
	if (dn_cred_capable(c, CAP_DAC_OVERRIDE) && (dir || !(mask & X_OK) || (a->mode & 0111)))
		return 0;
	/* CAP_DAC_READ_SEARCH: reading anything, searching directories */
	if (dn_cred_capable(c, CAP_DAC_READ_SEARCH) && !(mask & W_OK) &&
	    (dir || !(mask & X_OK)))
		return 0;
	return -EACCES;
}

bool dn_vfs_owner_or_capable(const struct dn_cred *c, uid_t uid)
{
	return c->uid == uid || dn_cred_capable(c, CAP_FOWNER);
}

int dn_vfs_may_delete(const struct dn_cred *c, const struct dn_vfs_attr *dir, uid_t victim_uid)
{
	int r = dn_vfs_permission(c, dir, W_OK | X_OK);
	if (r < 0)
		return r;
	if ((dir->mode & S_ISVTX) && c->uid != victim_uid && c->uid != dir->uid &&
	    !dn_cred_capable(c, CAP_FOWNER))
		return -EPERM;
	return 0;
}

int dn_vfs_may_chown(const struct dn_cred *c, const struct dn_vfs_attr *a, uid_t uid, gid_t gid)
{
	bool chown_cap = dn_cred_capable(c, CAP_CHOWN);
	if (uid != (uid_t)-1 && !(c->uid == a->uid && uid == a->uid) && !chown_cap)
		return -EPERM;
	if (gid != (gid_t)-1 && !chown_cap &&
	    !(c->uid == a->uid && (gid == a->gid || dn_vfs_in_group(c, gid))))
		return -EPERM;
	return 0;
}

int dn_vfs_may_chmod(const struct dn_cred *c, const struct dn_vfs_attr *a, mode_t *mode)
{
	if (!dn_vfs_owner_or_capable(c, a->uid))
		return -EPERM;
	if (!dn_vfs_in_group(c, a->gid) && !dn_cred_capable(c, CAP_FSETID))
		*mode &= ~(mode_t)S_ISGID;
	return 0;
}

int dn_vfs_may_utimes(const struct dn_cred *c, const struct dn_vfs_attr *a, bool touch)
{
	if (dn_vfs_owner_or_capable(c, a->uid))
		return 0;
	return touch ? dn_vfs_permission(c, a, W_OK) : -EPERM;
}

int dn_vfs_may_link(const struct dn_cred *c, const struct dn_vfs_attr *a, int protected_hardlinks)
{
	if (!protected_hardlinks || dn_vfs_owner_or_capable(c, a->uid))
		return 0;
	/* safe_hardlink_source: what c could copy anyway */
	if (S_ISREG(a->mode) && !(a->mode & S_ISUID) &&
	    (a->mode & (S_ISGID | S_IXGRP)) != (S_ISGID | S_IXGRP) &&
	    dn_vfs_permission(c, a, R_OK | W_OK) == 0)
		return 0;
	return -EPERM;
}

mode_t dn_vfs_create_mode(const struct dn_cred *c, mode_t mode, gid_t gid)
{
	if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) && !S_ISDIR(mode) &&
	    !dn_vfs_in_group(c, gid) && !dn_cred_capable(c, CAP_FSETID))
		mode &= ~(mode_t)S_ISGID;
	return mode;
}

int dn_vfs_xattr_permission(const struct dn_cred *c, const struct dn_vfs_attr *a,
			    const char *name, bool write, bool check_bits)
{
	if (strncmp(name, "system.posix_acl_", 17) == 0)
		return write && check_bits && !dn_vfs_owner_or_capable(c, a->uid) ? -EPERM : 0;
	/* system.*, security.*: left to the filesystem; trusted.*: by capability (xattr-ns.h) */
	if (strncmp(name, "system.", 7) == 0 || strncmp(name, "security.", 9) == 0 ||
	    strncmp(name, "trusted.", 8) == 0)
		return 0;
	if (strncmp(name, "user.", 5) == 0) {
		if (!S_ISREG(a->mode) && !S_ISDIR(a->mode))
			return write ? -EPERM : -ENODATA;
		if (write && S_ISDIR(a->mode) && (a->mode & S_ISVTX) &&
		    !dn_vfs_owner_or_capable(c, a->uid))
			return -EPERM;
	}
	return check_bits ? dn_vfs_permission(c, a, write ? W_OK : R_OK) : 0;
}
