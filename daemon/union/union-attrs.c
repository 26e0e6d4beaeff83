/* Union Attributes: modes, owners, times, sizes and xattrs, a lower file copied up first */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cred.h"
#include "../vfs-perm.h"
#include "../xattr-ns.h"
#include "cleanup.h"
#include "union-ops.h"

/*
 * Changes of attributes find the name, check the caller's right on the
 * merged view, and only then copy it up: a refused change copies nothing.
 */
static int union_bring_up(struct union_svc *u, struct un_node *n, char *real)
{
	int r = un_copy_up(u, n);
	return r < 0 ? r : un_real(u, 0, n->path, real);
}

/* The node a call names: the open file's (by its path now), or path's. */
static int call_node(struct union_svc *u, const struct dn_cred *c, struct dn_file *f,
		     const char *path, bool nofollow, struct un_node *n)
{
	if (f) {
		char at[UN_PATH_MAX];
		if (union_file_path(u, f, at) < 0)
			return -ESTALE; /* (a directory removed since) */
		int r = un_lookup(u, at, 0, n);
		return r == 0 && n->layer < 0 ? -ESTALE : r;
	}
	struct un_walk *w = NULL;
	int r = union_walk_existing(u, c, path, nofollow ? 0 : UN_FOLLOW, &w);
	if (r == 0)
		*n = w->node;
	free(w);
	return r;
}

/*
 * fileattr_set_prepare's check, made on the merged file before a copy-up:
 * the append-only and immutable flags change only with CAP_LINUX_IMMUTABLE.
 */
static int may_set_flags(struct union_svc *u, const struct dn_cred *c, struct dn_file *f,
			 unsigned int req, const void *arg)
{
	int old = 0;
	if (OPS(u)->ioctl_get && OPS(u)->ioctl_get(BELOW(u), file_below(f), FS_IOC_GETFLAGS, &old) < 0)
		old = 0;
	int want;
	if (req == FS_IOC_SETFLAGS) {
		memcpy(&want, arg, sizeof(want));
	} else {
		struct fsxattr x;
		memcpy(&x, arg, sizeof(x));
		want = ((x.fsx_xflags & FS_XFLAG_APPEND) ? FS_APPEND_FL : 0) |
		       ((x.fsx_xflags & FS_XFLAG_IMMUTABLE) ? FS_IMMUTABLE_FL : 0);
	}
	if (((old ^ want) & (FS_APPEND_FL | FS_IMMUTABLE_FL)) &&
	    !dn_cred_capable(c, CAP_LINUX_IMMUTABLE))
		return -EPERM;
	return 0;
}

/*
 * chattr as overlayfs sets it (ovl_fileattr_set): a file of a lower layer
 * is copied up once the caller owns it (or has CAP_FOWNER) and may change
 * the flags it changes, a refusal copying nothing; then the writable
 * layer's filesystem decides the rest with the caller's rights.
 */
int union_ioctl_set(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
		    unsigned int req, const void *arg)
{
	struct union_svc *u = to_union(s);
	if (!OPS(u)->ioctl_set || !OPS(u)->open)
		return -ENOSYS;
	CHANGES(u);
	struct dn_cred b = un_cred_below(c);
	if (file_layer(f) == 0)
		return OPS(u)->ioctl_set(BELOW(u), &b, file_below(f), req, arg);
	_cleanup_free_ struct un_node *n = malloc(sizeof(*n));
	char real[UN_PATH_MAX];
	int r = n ? call_node(u, c, f, NULL, false, n) : -ENOMEM;
	if (r < 0)
		return r;
	if (!dn_vfs_owner_or_capable(c, n->st.st_uid))
		return -EPERM;
	if ((r = may_set_flags(u, c, f, req, arg)) < 0 || (r = union_bring_up(u, n, real)) < 0)
		return r;
	/* the copy as the pool opens it (the caller's fd has it open already) */
	struct dn_file *up = NULL;
	int handover = -1;
	r = OPS(u)->open(BELOW(u), &u->priv, real, O_RDONLY | O_NONBLOCK | O_NOFOLLOW, 0, &up,
			 &handover);
	if (r == DN_SVC_HANDOVER) {
		close(handover);
		return -ENOTTY; /* (a FIFO or device: its fd is never the pool's) */
	}
	if (r < 0)
		return r;
	r = OPS(u)->ioctl_set(BELOW(u), &b, up, req, arg);
	OPS(u)->close(BELOW(u), up);
	return r;
}

int union_truncate(struct dn_svc *s, const struct dn_cred *c, const char *path, off_t len)
{
	struct union_svc *u = to_union(s);
	CHANGES(u);
	_cleanup_walk_ struct un_walk *w = NULL;
	char real[UN_PATH_MAX];
	int r = union_walk_existing(u, c, path, UN_FOLLOW, &w);
	if (r < 0)
		return r;
	if (S_ISDIR(w->node.st.st_mode))
		return -EISDIR;
	if (!S_ISREG(w->node.st.st_mode))
		return -EINVAL;
	struct dn_vfs_attr a = un_attr(&w->node);
	if ((r = dn_vfs_permission(c, &a, W_OK)) < 0 || (r = union_bring_up(u, &w->node, real)) < 0)
		return r;
	struct dn_cred b = un_cred_below(c);
	return OPS(u)->truncate(BELOW(u), &b, real, len);
}

int union_chmod(struct dn_svc *s, const struct dn_cred *c, const char *path, mode_t mode)
{
	struct union_svc *u = to_union(s);
	CHANGES(u);
	_cleanup_walk_ struct un_walk *w = NULL;
	char real[UN_PATH_MAX];
	int r = union_walk_existing(u, c, path, UN_FOLLOW, &w);
	if (r < 0)
		return r;
	struct dn_vfs_attr a = un_attr(&w->node);
	mode_t m = mode;
	if ((r = dn_vfs_may_chmod(c, &a, &m)) < 0 || (r = union_bring_up(u, &w->node, real)) < 0)
		return r;
	struct dn_cred b = un_cred_below(c);
	return OPS(u)->chmod(BELOW(u), &b, real, mode);
}

int union_fchmod(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			mode_t mode)
{
	struct union_svc *u = to_union(s);
	CHANGES(u);
	struct dn_cred b = un_cred_below(c);
	if (file_layer(f) == 0)
		return OPS(u)->fchmod(BELOW(u), &b, file_below(f), mode);
	_cleanup_free_ struct un_node *n = malloc(sizeof(*n));
	char real[UN_PATH_MAX];
	int r = n ? call_node(u, c, f, NULL, false, n) : -ENOMEM;
	if (r < 0)
		return r;
	struct dn_vfs_attr a = un_attr(n);
	mode_t m = mode;
	if ((r = dn_vfs_may_chmod(c, &a, &m)) < 0 || (r = union_bring_up(u, n, real)) < 0)
		return r;
	return OPS(u)->chmod(BELOW(u), &b, real, mode);
}

int union_utimens(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			 const char *path, bool nofollow, const struct timespec times[2])
{
	struct union_svc *u = to_union(s);
	CHANGES(u);
	struct dn_cred b = un_cred_below(c);
	if (f && file_layer(f) == 0)
		return OPS(u)->utimens(BELOW(u), &b, file_below(f), NULL, nofollow, times);
	_cleanup_free_ struct un_node *n = malloc(sizeof(*n));
	int r = n ? call_node(u, c, f, path, nofollow, n) : -ENOMEM;
	if (r < 0)
		return r;
	bool touch = true;
	for (int i = 0; i < 2; i++)
		if (times && times[i].tv_nsec != UTIME_NOW)
			touch = false;
	struct dn_vfs_attr a = un_attr(n);
	char real[UN_PATH_MAX];
	bool omit = times && times[0].tv_nsec == UTIME_OMIT && times[1].tv_nsec == UTIME_OMIT;
	if (!omit && (r = dn_vfs_may_utimes(c, &a, touch)) < 0)
		return r;
	if ((r = union_bring_up(u, n, real)) < 0)
		return r;
	return OPS(u)->utimens(BELOW(u), &b, NULL, real, true, times);
}

int union_chown(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
		       const char *path, bool nofollow, uid_t uid, gid_t gid)
{
	struct union_svc *u = to_union(s);
	CHANGES(u);
	struct dn_cred b = un_cred_below(c);
	if (f && file_layer(f) == 0)
		return OPS(u)->chown(BELOW(u), &b, file_below(f), NULL, nofollow, uid, gid);
	_cleanup_free_ struct un_node *n = malloc(sizeof(*n));
	int r = n ? call_node(u, c, f, path, nofollow, n) : -ENOMEM;
	if (r < 0)
		return r;
	struct dn_vfs_attr a = un_attr(n);
	char real[UN_PATH_MAX];
	if ((r = dn_vfs_may_chown(c, &a, uid, gid)) < 0 || (r = union_bring_up(u, n, real)) < 0)
		return r;
	return OPS(u)->chown(BELOW(u), &b, NULL, real, true, uid, gid);
}

ssize_t union_getxattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			      const char *path, bool nofollow, const char *name, void *buf,
			      size_t len)
{
	struct union_svc *u = to_union(s);
	_cleanup_free_ struct un_node *n = malloc(sizeof(*n));
	int r = n ? call_node(u, c, f, path, nofollow, n) : -ENOMEM;
	if (r < 0)
		return r;
	struct dn_vfs_attr a = un_attr(n);
	if (un_origin_xattr(name))
		return -ENODATA; /* (the union's own, in the writable layer only) */
	if ((r = dn_xattr_may_get(c, name)) < 0 ||
	    (r = dn_vfs_xattr_permission(c, &a, name, false, true)) < 0)
		return r;
	char real[UN_PATH_MAX];
	if ((r = union_node_real(u, n, real)) < 0)
		return r;
	return OPS(u)->getxattr(BELOW(u), &u->priv, NULL, real, true, name, buf, len);
}

ssize_t union_listxattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			       const char *path, bool nofollow, char *buf, size_t len)
{
	struct union_svc *u = to_union(s);
	_cleanup_free_ struct un_node *n = malloc(sizeof(*n));
	int r = n ? call_node(u, c, f, path, nofollow, n) : -ENOMEM;
	if (r < 0)
		return r;
	char real[UN_PATH_MAX];
	if ((r = union_node_real(u, n, real)) < 0)
		return r;
	/* the names the caller could read; trusted.* only for CAP_SYS_ADMIN */
	_cleanup_free_ char *all = malloc(65536);
	if (!all)
		return -ENOMEM;
	ssize_t got = OPS(u)->listxattr(BELOW(u), &u->priv, NULL, real, true, all, 65536);
	if (got < 0)
		return got;
	size_t out = 0;
	for (ssize_t at = 0; at < got; at += (ssize_t)strlen(all + at) + 1) {
		const char *name = all + at;
		if (dn_xattr_may_get(c, name) < 0 || un_origin_xattr(name))
			continue;
		size_t nl = strlen(name) + 1;
		if (len && out + nl > len)
			return -ERANGE;
		if (len)
			memcpy(buf + out, name, nl);
		out += nl;
	}
	return (ssize_t)out;
}

/*
 * The node a setxattr or removexattr of name changes, into n. The union's
 * own checks only keep a refused change from copying up: a file already in
 * the writable layer gets the backend's, which are the kernel's in the
 * kernel's order (a bad value's EINVAL first, ACLs...).
 */
static int xattr_change_node(struct union_svc *u, const struct dn_cred *c, struct dn_file *f,
			     const char *path, bool nofollow, const char *name, struct un_node *n)
{
	int r = call_node(u, c, f, path, nofollow, n);
	if (r < 0 || n->layer == 0)
		return r;
	struct dn_vfs_attr a = un_attr(n);
	if ((r = dn_xattr_may_change(c, name)) < 0)
		return r;
	return dn_vfs_xattr_permission(c, &a, name, true, true);
}

int union_setxattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			  const char *path, bool nofollow, const char *name, const void *value,
			  size_t len, int flags)
{
	struct union_svc *u = to_union(s);
	if (un_origin_xattr(name))
		return -EPERM; /* the union's own, as a layer's ".wh." names */
	CHANGES(u);
	struct dn_cred b = un_cred_below(c);
	if (f && file_layer(f) == 0)
		return OPS(u)->setxattr(BELOW(u), &b, file_below(f), NULL, nofollow, name, value, len,
					flags);
	_cleanup_free_ struct un_node *n = malloc(sizeof(*n));
	int r = n ? xattr_change_node(u, c, f, path, nofollow, name, n) : -ENOMEM;
	if (r < 0)
		return r;
	char real[UN_PATH_MAX];
	if ((r = union_bring_up(u, n, real)) < 0)
		return r;
	return OPS(u)->setxattr(BELOW(u), &b, NULL, real, true, name, value, len, flags);
}

int union_removexattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			     const char *path, bool nofollow, const char *name)
{
	struct union_svc *u = to_union(s);
	if (un_origin_xattr(name))
		return -EPERM;
	CHANGES(u);
	struct dn_cred b = un_cred_below(c);
	if (f && file_layer(f) == 0)
		return OPS(u)->removexattr(BELOW(u), &b, file_below(f), NULL, nofollow, name);
	_cleanup_free_ struct un_node *n = malloc(sizeof(*n));
	int r = n ? xattr_change_node(u, c, f, path, nofollow, name, n) : -ENOMEM;
	if (r < 0)
		return r;
	char real[UN_PATH_MAX];
	/* absent in a lower file: ENODATA, with nothing copied (as overlayfs) */
	if (n->layer != 0) {
		if ((r = union_node_real(u, n, real)) < 0)
			return r;
		ssize_t got = OPS(u)->getxattr(BELOW(u), &u->priv, NULL, real, true, name, NULL, 0);
		if (got < 0)
			return (int)got;
	}
	if ((r = union_bring_up(u, n, real)) < 0)
		return r;
	return OPS(u)->removexattr(BELOW(u), &b, NULL, real, true, name);
}

