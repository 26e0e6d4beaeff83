/* Union Names: making, removing and moving names in the merged tree, whiteouts and all */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cred.h"
#include "../vfs-perm.h"
#include "../xattr-ns.h"
#include "cleanup.h"
#include "union-ops.h"


/*
 * What makes a new name: the backend's call at real (the new name's path
 * in the writable layer, its directory there already) with b's rights.
 */
struct maker {
	int (*make)(struct union_svc *u, const struct un_walk *w, const struct dn_cred *b,
		    const char *real, const struct maker *m);
	mode_t mode;
	dev_t dev;
	const char *target;
	bool dir; /* makes a directory: "name/" may name it (filename_create) */
};

/*
 * A new name, as mkdir, mknod and symlink make it: walked (from directory
 * in, or the root), free, not "." or ".."; c may write its directory, which
 * is brought into the writable layer; made; and a whiteout it replaces goes.
 */
static int create_name(struct union_svc *u, const struct dn_cred *c, const char *in,
		       const char *path, const struct maker *m)
{
	CHANGES(u);
	_cleanup_walk_ struct un_walk *w = NULL;
	int r = union_walk_in(u, c, in, path, UN_NAME, &w);
	if (r < 0)
		return r;
	if (w->node.layer >= 0 || w->dots)
		return -EEXIST;
	if (w->slash && !m->dir)
		return -ENOENT;
	char real[UN_PATH_MAX];
	if ((r = union_may_create(u, c, w, real)) < 0)
		return r;
	struct dn_cred b = un_cred_below(c);
	if ((r = m->make(u, w, &b, real, m)) == 0)
		union_created(u, w);
	return r;
}

/*
 * A directory over a whiteout hides what the layers below have of that name:
 * it is made opaque under a hidden name, then renamed in place, so no one
 * ever sees it without its marker.
 */
static int make_dir(struct union_svc *u, const struct un_walk *w, const struct dn_cred *b,
		    const char *real, const struct maker *m)
{
	if (!w->node.whiteout_up)
		return OPS(u)->mkdir(BELOW(u), b, real, m->mode);
	char tmp[UN_PATH_MAX], tmpreal[UN_PATH_MAX], marker[UN_PATH_MAX];
	int r;
	if ((r = un_tmp_name(u, w->parent.path, tmp)) < 0 || (r = un_real(u, 0, tmp, tmpreal)) < 0)
		return r;
	if (snprintf(marker, sizeof(marker), "%s/" UN_OPAQUE, tmpreal) >= (int)sizeof(marker))
		return -ENAMETOOLONG;
	if ((r = OPS(u)->mkdir(BELOW(u), b, tmpreal, m->mode)) < 0)
		return r;
	r = un_marker(u, marker);
	if (r == 0)
		r = OPS(u)->rename(BELOW(u), &u->priv, tmpreal, real, RENAME_NOREPLACE);
	if (r < 0) {
		OPS(u)->unlink(BELOW(u), &u->priv, marker);
		OPS(u)->rmdir(BELOW(u), &u->priv, tmpreal);
	}
	return r;
}

static int make_node(struct union_svc *u, const struct un_walk *w, const struct dn_cred *b,
		     const char *real, const struct maker *m)
{
	(void)w;
	return OPS(u)->mknod(BELOW(u), b, real, m->mode, m->dev);
}

static int make_symlink(struct union_svc *u, const struct un_walk *w, const struct dn_cred *b,
			const char *real, const struct maker *m)
{
	(void)w;
	return OPS(u)->symlink(BELOW(u), b, m->target, real);
}

int union_mkdir(struct dn_svc *s, const struct dn_cred *c, const char *path, mode_t mode)
{
	struct maker m = {.make = make_dir, .mode = mode, .dir = true};
	return create_name(to_union(s), c, NULL, path, &m);
}

int union_mkdir_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
		   const char *name, mode_t mode)
{
	struct union_svc *u = to_union(s);
	struct maker m = {.make = make_dir, .mode = mode, .dir = true};
	char at[UN_PATH_MAX];
	int r = union_file_path(u, dir, at);
	return r < 0 ? r : create_name(u, c, at, name, &m);
}

int union_mknod(struct dn_svc *s, const struct dn_cred *c, const char *path, mode_t mode,
		dev_t dev)
{
	struct maker m = {.make = make_node, .mode = mode, .dev = dev};
	return create_name(to_union(s), c, NULL, path, &m);
}

int union_symlink(struct dn_svc *s, const struct dn_cred *c, const char *target,
		  const char *path)
{
	struct maker m = {.make = make_symlink, .target = target};
	return create_name(to_union(s), c, NULL, path, &m);
}

int union_link(struct dn_svc *s, const struct dn_cred *c, const char *from,
		      const char *to, bool follow)
{
	struct union_svc *u = to_union(s);
	CHANGES(u);
	_cleanup_walk_ struct un_walk *fw = NULL;
	int r = union_walk_existing(u, c, from, follow ? UN_FOLLOW : 0, &fw);
	if (r < 0)
		return r;
	_cleanup_walk_ struct un_walk *tw = NULL;
	if ((r = union_walk_to(u, c, to, UN_NAME, &tw)) < 0)
		return r;
	/* in the kernel's order: the new name, fs.protected_hardlinks, its directory, the type */
	if (tw->node.layer >= 0 || tw->dots)
		return -EEXIST;
	if (tw->slash)
		return -ENOENT; /* (a link is no directory) */
	if (tw->reserved)
		return -EPERM;
	struct dn_vfs_attr dir = un_attr(&tw->parent), a = un_attr(&fw->node);
	if ((r = dn_vfs_may_link(c, &a, u->protect.hardlinks)) < 0 ||
	    (r = dn_vfs_permission(c, &dir, W_OK | X_OK)) < 0)
		return r;
	if (S_ISDIR(fw->node.st.st_mode))
		return -EPERM;
	char freal[UN_PATH_MAX], treal[UN_PATH_MAX];
	if ((r = un_copy_up(u, &fw->node)) < 0 || (r = un_real(u, 0, fw->node.path, freal)) < 0 ||
	    (r = union_prepare_create(u, tw, treal)) < 0)
		return r;
	struct dn_cred b = un_cred_below(c);
	if ((r = OPS(u)->link(BELOW(u), &b, freal, treal, false)) == 0)
		union_created(u, tw);
	return r;
}

/*
 * A new name for open file f (an O_TMPFILE's): a file of the writable
 * layer only; one of a lower layer is linked by its name (-ENOSYS), so that
 * it is copied up first and the image keeps its own.
 */
int union_link_file(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f, const char *to)
{
	struct union_svc *u = to_union(s);
	if (!OPS(u)->link_file || !OPS(u)->fstat || file_layer(f) != 0)
		return -ENOSYS;
	CHANGES(u);
	_cleanup_walk_ struct un_walk *tw = NULL;
	int r = union_walk_to(u, c, to, UN_NAME, &tw);
	if (r < 0)
		return r;
	if (tw->node.layer >= 0 || tw->dots)
		return -EEXIST;
	if (tw->slash)
		return -ENOENT;
	if (tw->reserved)
		return -EPERM;
	struct stat st;
	struct dn_file *bf = file_below(f);
	if ((r = OPS(u)->fstat(BELOW(u), bf, &st)) < 0)
		return r;
	struct dn_vfs_attr dir = un_attr(&tw->parent);
	struct dn_vfs_attr a = {.mode = st.st_mode, .uid = st.st_uid, .gid = st.st_gid};
	if ((r = dn_vfs_may_link(c, &a, u->protect.hardlinks)) < 0 ||
	    (r = dn_vfs_permission(c, &dir, W_OK | X_OK)) < 0)
		return r;
	if (S_ISDIR(st.st_mode))
		return -EPERM;
	char treal[UN_PATH_MAX];
	if ((r = union_prepare_create(u, tw, treal)) < 0)
		return r;
	struct dn_cred b = un_cred_below(c);
	if ((r = OPS(u)->link_file(BELOW(u), &b, bf, treal)) == 0)
		union_created(u, tw);
	return r;
}

/* ------------------------------------------------------------------ removing */

/* may_delete on the merged view: write and search on the directory, then its sticky bit */
static int may_delete(const struct dn_cred *c, const struct un_walk *w)
{
	struct dn_vfs_attr dir = un_attr(&w->parent);
	return dn_vfs_may_delete(c, &dir, w->node.st.st_uid);
}

/*
 * A writable-layer directory whose merged view is empty holds at most
 * whiteouts and markers: they go, with the pool's rights, before the
 * directory does. Each round lists from the start again (removing moves
 * the others' cookies) until one removes nothing.
 */
static int empty_of_marks(struct union_svc *u, const char *real)
{
	struct dn_file *f;
	int handover = -1;
	int r = OPS(u)->open(BELOW(u), &u->priv, real, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0,
			     &f, &handover);
	if (r != 0)
		return r < 0 ? r : -EIO;
	_cleanup_free_ char *buf = malloc(32768);
	uint64_t cookie = 0;
	r = buf ? 0 : -ENOMEM;
	for (bool removed = false; r == 0;) {
		uint64_t next;
		ssize_t got = OPS(u)->readdir(BELOW(u), f, cookie, buf, 32768, &next);
		if (got < 0)
			r = (int)got;
		if (got == 0 && removed) {
			cookie = 0; /* again, from the start */
			removed = false;
			continue;
		}
		if (got <= 0)
			break;
		for (ssize_t at = 0; at < got && r == 0;) {
			struct dirent64 *d = (struct dirent64 *)(buf + at);
			at += d->d_reclen;
			if (strncmp(d->d_name, UN_WH, UN_WH_LEN) != 0)
				continue;
			char p[UN_PATH_MAX];
			if (snprintf(p, sizeof(p), "%s/%s", real, d->d_name) >= (int)sizeof(p))
				continue;
			r = OPS(u)->unlink(BELOW(u), &u->priv, p);
			if (r == 0)
				removed = true;
			else if (r == -EISDIR)
				r = 0; /* a copy in the making of another request: rmdir says so */
		}
		cookie = next;
	}
	OPS(u)->close(BELOW(u), f);
	return r;
}

/* Removes the writable-layer directory real, which the merged view shows empty. */
static int remove_dir_copy(struct union_svc *u, const struct dn_cred *b, const char *real)
{
	/* it may hold whiteouts and a marker */
	int r = OPS(u)->rmdir(BELOW(u), b, real);
	if (r != -ENOTEMPTY && r != -EEXIST)
		return r;
	if ((r = empty_of_marks(u, real)) < 0)
		return r;
	return OPS(u)->rmdir(BELOW(u), b, real);
}

/*
 * A name that lower layers have, with copy_lock held (no copy-up of it runs
 * meanwhile: one that had started would bring it back): whited out first,
 * then a writable copy goes, also one made since the walk (a writer's, or
 * a directory's by a chmod or a create in it); a crash in between leaves
 * the copy, which wins in its layer. Of two callers removing a name only
 * lower layers have, the one whose whiteout is there first wins and the
 * other finds it gone (ENOENT), as the kernel's unlink and rmdir.
 */
static int remove_lower_name(struct union_svc *u, const struct dn_cred *c, struct un_walk *w,
			     bool dir)
{
	int r = un_whiteout(u, w->parent.path, w->name, w->node.layer > 0);
	if (r < 0)
		return r == -EEXIST ? -ENOENT : r;
	char real[UN_PATH_MAX];
	if ((r = un_real(u, 0, w->node.path, real)) < 0)
		return r;
	struct dn_cred b = un_cred_below(c);
	r = dir ? remove_dir_copy(u, &b, real) : OPS(u)->unlink(BELOW(u), &b, real);
	if (r == -ENOENT && w->node.layer > 0)
		return 0;
	/* a name made in the directory's copy since the walk: the rmdir loses, as the kernel's */
	if (r == -ENOTEMPTY && w->node.layer > 0)
		un_unwhiteout(u, w->parent.path, w->name);
	return r;
}

static int remove_name(struct union_svc *u, const struct dn_cred *c, struct un_walk *w, bool dir)
{
	int r;
	if (w->node.below || w->node.layer > 0) {
		if ((r = un_copy_up_dir(u, w->parent.path)) < 0)
			return r;
		pthread_mutex_lock(&u->copy_lock);
		r = remove_lower_name(u, c, w, dir);
		pthread_mutex_unlock(&u->copy_lock);
		return r;
	}
	char real[UN_PATH_MAX];
	if ((r = un_real(u, 0, w->node.path, real)) < 0)
		return r;
	struct dn_cred b = un_cred_below(c);
	return dir ? remove_dir_copy(u, &b, real) : OPS(u)->unlink(BELOW(u), &b, real);
}

static int unlink_in(struct union_svc *u, const struct dn_cred *c, const char *in,
		     const char *path)
{
	CHANGES(u);
	_cleanup_walk_ struct un_walk *w = NULL;
	int r = union_walk_in(u, c, in, path, UN_BELOW | UN_NAME, &w);
	if (r < 0)
		return r;
	if (w->dots)
		return w->node.layer < 0 ? -ENOENT : -EISDIR;
	if (w->node.layer < 0)
		return -ENOENT;
	/* "name/": a directory is meant (do_unlinkat's slashes) */
	if (w->slash)
		return S_ISDIR(w->node.st.st_mode) ? -EISDIR : -ENOTDIR;
	/* (may_delete's order: the directory's rights, then the type) */
	if ((r = may_delete(c, w)) < 0)
		return r;
	if (S_ISDIR(w->node.st.st_mode))
		return -EISDIR;
	return remove_name(u, c, w, false);
}

int union_unlink(struct dn_svc *s, const struct dn_cred *c, const char *path)
{
	return unlink_in(to_union(s), c, NULL, path);
}

static int rmdir_in(struct union_svc *u, const struct dn_cred *c, const char *in,
		    const char *path)
{
	CHANGES(u);
	_cleanup_walk_ struct un_walk *w = NULL;
	int r = union_walk_in(u, c, in, path, UN_BELOW | UN_NAME, &w);
	if (r < 0)
		return r;
	if (w->node.layer < 0)
		return -ENOENT;
	if (w->dots == 1)
		return strcmp(w->node.path, "/") == 0 ? -EBUSY : -EINVAL;
	if (w->dots == 2)
		return -ENOTEMPTY;
	if ((r = may_delete(c, w)) < 0)
		return r;
	if (!S_ISDIR(w->node.st.st_mode))
		return -ENOTDIR;
	if ((r = un_dir_has_entries(u, &w->node)) != 0)
		return r < 0 ? r : -ENOTEMPTY;
	if ((r = remove_name(u, c, w, true)) == 0)
		union_dirs_removed(u, w->node.path);
	return r;
}

int union_rmdir(struct dn_svc *s, const struct dn_cred *c, const char *path)
{
	return rmdir_in(to_union(s), c, NULL, path);
}

/* unlink or rmdir (AT_REMOVEDIR) of a name in open directory dir, as the thread's identity */
int union_unlink_at(struct dn_svc *s, struct dn_file *dir, const char *name, int flags)
{
	struct union_svc *u = to_union(s);
	struct dn_cred c = *dn_cred_current(); /* (a copy: the calls below run as the pool) */
	char at[UN_PATH_MAX];
	int r = union_file_path(u, dir, at);
	if (r < 0)
		return r;
	return (flags & AT_REMOVEDIR) ? rmdir_in(u, &c, at, name) : unlink_in(u, &c, at, name);
}

/*
 * rename: files move within the writable layer (a lower one copied up
 * first) and leave a whiteout where lower layers have the old name; a
 * directory with lower parts answers EXDEV, as overlayfs without
 * redirect_dir does, so mv copies it.
 */
static int rename_in(struct union_svc *u, const struct dn_cred *c, const char *from_in,
		     const char *from, const char *to_in, const char *to, unsigned flags)
{
	CHANGES(u);
	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))
		return -EINVAL;
	_cleanup_walk_ struct un_walk *fw = NULL, *tw = NULL;
	int r = union_walk_in(u, c, from_in, from, UN_BELOW | UN_NAME, &fw);
	if (r < 0)
		return r;
	if ((r = union_walk_in(u, c, to_in, to, UN_BELOW | UN_NAME, &tw)) < 0)
		return r;
	/* in the kernel's order (do_renameat2, then vfs_rename) */
	if (fw->dots)
		return -EBUSY;
	if (tw->dots)
		return (flags & RENAME_NOREPLACE) ? -EEXIST : -EBUSY;
	if (fw->node.layer < 0)
		return -ENOENT;
	bool exchange = flags & RENAME_EXCHANGE;
	bool fdir = S_ISDIR(fw->node.st.st_mode);
	bool texists = tw->node.layer >= 0;
	if (!fdir && (fw->slash || (!exchange && tw->slash)))
		return -ENOTDIR;
	if (texists && (flags & RENAME_NOREPLACE))
		return -EEXIST;
	if (exchange && !texists)
		return -ENOENT;
	if (exchange && !S_ISDIR(tw->node.st.st_mode) && tw->slash)
		return -ENOTDIR;
	if (tw->reserved)
		return -EPERM;
	/* a directory into itself; a name onto its own ancestor */
	size_t fl = strlen(fw->node.path), tl = strlen(tw->node.path);
	if (fdir && strncmp(tw->node.path, fw->node.path, fl) == 0 && tw->node.path[fl] == '/')
		return -EINVAL;
	if (texists && S_ISDIR(tw->node.st.st_mode) &&
	    strncmp(fw->node.path, tw->node.path, tl) == 0 && fw->node.path[tl] == '/')
		return exchange ? -EINVAL : -ENOTEMPTY;
	/* the same file under both names: nothing to do */
	if (texists && strcmp(fw->node.path, tw->node.path) == 0)
		return 0;
	if ((r = may_delete(c, fw)) < 0)
		return r;
	if (texists) {
		if ((r = may_delete(c, tw)) < 0)
			return r;
		bool tdir = S_ISDIR(tw->node.st.st_mode);
		if (!exchange && fdir && !tdir)
			return -ENOTDIR;
		if (!exchange && !fdir && tdir)
			return -EISDIR;
	} else {
		struct dn_vfs_attr dir = un_attr(&tw->parent);
		if ((r = dn_vfs_permission(c, &dir, W_OK | X_OK)) < 0)
			return r;
	}
	if (fdir && strcmp(fw->parent.path, tw->parent.path) != 0) {
		/* its ".." changes: write permission on the directory moved */
		struct dn_vfs_attr a = un_attr(&fw->node);
		if ((r = dn_vfs_permission(c, &a, W_OK)) < 0)
			return r;
	}
	/*
	 * A directory with lower parts does not move (overlayfs without
	 * redirect_dir: EXDEV, and mv copies); one may replace an empty
	 * directory, lower or merged (it becomes opaque below).
	 */
	if (fdir && (fw->node.layer != 0 || un_merged(&fw->node)))
		return -EXDEV;
	if (exchange && (fw->node.below || tw->node.below || fw->node.layer != 0 ||
			 tw->node.layer != 0))
		return -EXDEV;
	if (texists && S_ISDIR(tw->node.st.st_mode) && !exchange &&
	    (r = un_dir_has_entries(u, &tw->node)) != 0)
		return r < 0 ? r : -ENOTEMPTY;
	/* lower layers have the old name: it is whited out after the move */
	bool white = fw->node.below || fw->node.layer > 0;
	bool lower_target = texists && (tw->node.layer > 0 || tw->node.below);
	char freal[UN_PATH_MAX], treal[UN_PATH_MAX];
	if ((r = un_copy_up(u, &fw->node)) < 0 || (r = un_copy_up_dir(u, tw->parent.path)) < 0 ||
	    (r = un_real(u, 0, fw->node.path, freal)) < 0 ||
	    (r = un_real(u, 0, tw->node.path, treal)) < 0)
		return r;
	/* the old name's lower copies stay hidden: its whiteout first */
	if (!exchange && white && (r = un_whiteout(u, fw->parent.path, fw->name, false)) < 0)
		return r;
	/* a directory replaced: its whiteouts and marker go with it (the view was empty) */
	if (!exchange && texists && tw->node.layer == 0 && S_ISDIR(tw->node.st.st_mode) &&
	    (r = empty_of_marks(u, treal)) < 0)
		return r;
	/* a directory moved where lower layers have the name hides what they have */
	if (fdir && !exchange && (tw->node.whiteout_up || lower_target)) {
		char marker[UN_PATH_MAX];
		if (snprintf(marker, sizeof(marker), "%s/" UN_OPAQUE, freal) >= (int)sizeof(marker))
			return -ENAMETOOLONG;
		if ((r = un_marker(u, marker)) < 0)
			return r;
	}
	struct dn_cred b = un_cred_below(c);
	r = OPS(u)->rename(BELOW(u), &b, freal, treal, flags);
	if (r == 0 && !exchange)
		union_created(u, tw);
	/* open directories follow: the replaced one is gone, the moved ones moved */
	if (r == 0 && texists && !exchange && S_ISDIR(tw->node.st.st_mode))
		union_dirs_removed(u, tw->node.path);
	if (r == 0 && (fdir || (exchange && S_ISDIR(tw->node.st.st_mode))))
		union_dirs_moved(u, fw->node.path, tw->node.path, exchange);
	return r;
}

int union_rename(struct dn_svc *s, const struct dn_cred *c, const char *from, const char *to,
		 unsigned flags)
{
	return rename_in(to_union(s), c, NULL, from, NULL, to, flags);
}

int union_rename_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *from_dir,
		    const char *from, struct dn_file *to_dir, const char *to, unsigned flags)
{
	struct union_svc *u = to_union(s);
	char fat[UN_PATH_MAX], tat[UN_PATH_MAX];
	int r = union_file_path(u, from_dir, fat);
	if (r == 0)
		r = union_file_path(u, to_dir, tat);
	return r < 0 ? r : rename_in(u, c, fat, from, tat, to, flags);
}

