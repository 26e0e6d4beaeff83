/* Union Libservice: the pool's tree as read-only layers under one writable layer */
#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "../cred.h"
#include "../no-symlinks.h"
#include "../vfs-perm.h"
#include "../xattr-ns.h"
#include "union.h"

/* An open file of the union: the layer's own file, and where it is in the merged tree. */
struct dn_file {
	struct dn_file *below; /* the backend's file (a layer's); owned */
	char *path;            /* canonical union path; owned */
	int layer;
	pthread_mutex_t lock;
	struct un_dirents ents; /* a directory's merged listing, made by readdir from 0 */
	bool listed;
};

static struct union_svc *to_union(struct dn_svc *s)
{
	return (struct union_svc *)s;
}

#define BELOW(u) ((u)->below)
#define OPS(u) ((u)->below->ops)

/*
 * A change of the tree: the directory cache's generation moves before it and
 * after it (also when it fails half-way), so no lookup overlapping it is kept.
 */
struct change {
	struct union_svc *u;
	bool on;
};

static struct change change_begin(struct union_svc *u, bool on)
{
	if (on)
		un_changed(u);
	return (struct change){u, on};
}

static void change_end(struct change *c)
{
	if (c->on)
		un_changed(c->u);
}

#define CHANGES(u)                                                                                 \
	struct change chg __attribute__((cleanup(change_end))) = change_begin(u, true);            \
	(void)chg /* (used by its cleanup only) */

/* A walk is two nodes of UN_PATH_MAX each: on the heap, not the worker's stack. */
static void walk_freep(struct un_walk **w)
{
	free(*w);
}
#define _cleanup_walk_ __attribute__((cleanup(walk_freep)))

static int walk(struct union_svc *u, const struct dn_cred *c, const char *path, int flags,
		struct un_walk **out)
{
	struct un_walk *w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	int r = un_walk(u, c, path, flags, w);
	if (r < 0) {
		free(w);
		return r;
	}
	*out = w;
	return 0;
}

/* walk to an existing name */
static int walk_existing(struct union_svc *u, const struct dn_cred *c, const char *path,
			 int flags, struct un_walk **out)
{
	int r = walk(u, c, path, flags, out);
	if (r == 0 && (*out)->node.layer < 0) {
		free(*out);
		*out = NULL;
		return -ENOENT;
	}
	return r;
}

static int node_real(struct union_svc *u, const struct un_node *n, char *real)
{
	return un_real(u, (size_t)n->layer, n->path, real);
}

/* The directory of a name about to be made in the writable layer; its real path into real. */
static int prepare_create(struct union_svc *u, struct un_walk *w, char *real)
{
	int r = un_copy_up_dir(u, w->parent.path);
	if (r < 0)
		return r;
	return un_real(u, 0, w->node.path, real);
}

/* After a name was made over a whiteout: the whiteout goes (the name wins in its layer anyway). */
static void created(struct union_svc *u, struct un_walk *w)
{
	if (w->node.whiteout_up)
		un_unwhiteout(u, w->parent.path, w->name);
}

/* ------------------------------------------------------------------ reading */

static int union_stat(struct dn_svc *s, const struct dn_cred *c, const char *path,
		      bool nofollow, struct stat *st)
{
	struct union_svc *u = to_union(s);
	_cleanup_walk_ struct un_walk *w = NULL;
	int r = walk_existing(u, c, path, nofollow ? 0 : UN_FOLLOW, &w);
	if (r < 0)
		return r;
	*st = w->node.st;
	return 0;
}

static int union_access(struct dn_svc *s, const struct dn_cred *c, const char *path, int mode,
			bool nofollow)
{
	struct union_svc *u = to_union(s);
	_cleanup_walk_ struct un_walk *w = NULL;
	int r = walk_existing(u, c, path, nofollow ? 0 : UN_FOLLOW, &w);
	if (r < 0 || mode == F_OK)
		return r;
	struct dn_vfs_attr a = un_attr(&w->node);
	return dn_vfs_permission(c, &a, mode & (R_OK | W_OK | X_OK));
}

static ssize_t union_readlink(struct dn_svc *s, const struct dn_cred *c, const char *path,
			      char *buf, size_t len)
{
	struct union_svc *u = to_union(s);
	_cleanup_walk_ struct un_walk *w = NULL;
	int r = walk_existing(u, c, path, 0, &w);
	if (r < 0)
		return r;
	if (!S_ISLNK(w->node.st.st_mode))
		return -EINVAL;
	char real[UN_PATH_MAX];
	if ((r = node_real(u, &w->node, real)) < 0)
		return r;
	return OPS(u)->readlink(BELOW(u), &u->priv, real, buf, len);
}

static int union_statfs(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			const char *path, struct statvfs *st, uint64_t *type)
{
	struct union_svc *u = to_union(s);
	if (!path) {
		struct dn_cred b = un_cred_below(c);
		return OPS(u)->statfs(BELOW(u), &b, f->below, NULL, st, type);
	}
	_cleanup_walk_ struct un_walk *w = NULL;
	int r = walk_existing(u, c, path, UN_FOLLOW, &w);
	if (r < 0)
		return r;
	return OPS(u)->statfs(BELOW(u), &u->priv, NULL, u->layer[0], st, type);
}

/* ------------------------------------------------------------------ open files */

static int file_new(struct dn_file *below, const char *path, int layer, struct dn_file **out)
{
	struct dn_file *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->path = strdup(path);
	if (!f->path) {
		free(f);
		return -ENOMEM;
	}
	f->below = below;
	f->layer = layer;
	pthread_mutex_init(&f->lock, NULL);
	*out = f;
	return 0;
}

/* what open(2) asks of the file's mode bits */
static int open_mask(int oflags)
{
	if (oflags & O_PATH)
		return 0;
	int acc = oflags & O_ACCMODE;
	int mask = acc == O_RDONLY ? R_OK : acc == O_WRONLY ? W_OK : R_OK | W_OK;
	if (oflags & O_TRUNC)
		mask |= W_OK;
	return mask;
}

static bool open_writes(int oflags)
{
	return !(oflags & O_PATH) && ((oflags & O_ACCMODE) != O_RDONLY || (oflags & O_TRUNC));
}

static int union_open(struct dn_svc *s, const struct dn_cred *c, const char *path, int oflags,
		      mode_t mode, struct dn_file **out, int *handover)
{
	struct union_svc *u = to_union(s);
	bool creat = (oflags & O_CREAT) && !(oflags & O_PATH);
	bool excl = creat && (oflags & O_EXCL);
	bool tmpfile = (oflags & O_TMPFILE) == O_TMPFILE;
	int follow = (oflags & O_NOFOLLOW) || excl ? 0 : UN_FOLLOW;
	struct change chg __attribute__((cleanup(change_end))) =
		change_begin(u, creat || tmpfile || open_writes(oflags));
	(void)chg;
	_cleanup_walk_ struct un_walk *w = NULL;
	int r = walk(u, c, path, follow | (creat ? UN_NAME : 0), &w);
	if (r < 0)
		return r;
	/* O_CREAT with "name/": a directory cannot be created so (open_last_lookups) */
	if (creat && w->slash)
		return -EISDIR;
	struct un_node *n = &w->node;
	struct dn_cred b = un_cred_below(c);
	char real[UN_PATH_MAX];
	struct dn_file *bf = NULL;

	if (tmpfile) {
		if (n->layer < 0)
			return -ENOENT;
		if (!S_ISDIR(n->st.st_mode))
			return -ENOTDIR;
		struct dn_vfs_attr a = un_attr(n);
		if ((r = dn_vfs_permission(c, &a, W_OK | X_OK)) < 0)
			return r;
		if ((r = un_copy_up_dir(u, n->path)) < 0 || (r = un_real(u, 0, n->path, real)) < 0)
			return r;
		r = OPS(u)->open(BELOW(u), &b, real, oflags, mode, &bf, handover);
		if (r != 0)
			return r;
		if ((r = file_new(bf, n->path, 0, out)) < 0)
			OPS(u)->close(BELOW(u), bf);
		return r;
	}
	if (n->layer < 0) {
		if (!creat)
			return -ENOENT;
		if (w->dots || w->slash)
			return -EISDIR;
		if (w->reserved)
			return -EPERM;
		struct dn_vfs_attr a = un_attr(&w->parent);
		if ((r = dn_vfs_permission(c, &a, W_OK | X_OK)) < 0)
			return r;
		if ((r = prepare_create(u, w, real)) < 0)
			return r;
		r = OPS(u)->open(BELOW(u), &b, real, oflags | O_EXCL, mode, &bf, handover);
		if (r == 0)
			created(u, w);
		if (r != 0)
			return r;
		if ((r = file_new(bf, n->path, 0, out)) < 0)
			OPS(u)->close(BELOW(u), bf);
		return r;
	}
	if (excl)
		return -EEXIST;
	if (S_ISLNK(n->st.st_mode) && !(oflags & O_PATH))
		return -ELOOP; /* (O_NOFOLLOW on a symlink, as open(2)) */
	if (S_ISDIR(n->st.st_mode) && (open_writes(oflags) || creat))
		return -EISDIR;
	/* fs.protected_regular and _fifos, as open(O_CREAT) of an existing name */
	if (creat && !w->dots &&
	    (r = dn_protect_create(&u->protect, w->parent.st.st_mode, w->parent.st.st_uid,
				   n->st.st_mode, n->st.st_uid, c->uid)) < 0)
		return r;
	if ((oflags & O_DIRECTORY) && !S_ISDIR(n->st.st_mode))
		return -ENOTDIR;
	struct dn_vfs_attr a = un_attr(n);
	int mask = open_mask(oflags);
	if (mask && (r = dn_vfs_permission(c, &a, mask)) < 0)
		return r;
	if (open_writes(oflags) && S_ISREG(n->st.st_mode) && (r = un_copy_up(u, n)) < 0)
		return r;
	if ((r = node_real(u, n, real)) < 0)
		return r;
	/* a lower file is read with the pool's rights: the union checked the caller's */
	const struct dn_cred *as = n->layer == 0 ? &b : &u->priv;
	r = OPS(u)->open(BELOW(u), as, real, oflags & ~(O_CREAT | O_EXCL), 0, &bf, handover);
	if (r != 0)
		return r;
	if ((r = file_new(bf, n->path, n->layer, out)) < 0)
		OPS(u)->close(BELOW(u), bf);
	return r;
}

static void union_close(struct dn_svc *s, struct dn_file *f)
{
	struct union_svc *u = to_union(s);
	OPS(u)->close(BELOW(u), f->below);
	un_dirents_free(&f->ents);
	pthread_mutex_destroy(&f->lock);
	free(f->path);
	free(f);
}

static int union_fpath(struct dn_svc *s, struct dn_file *f, char *buf, size_t len)
{
	(void)s;
	size_t n = strlen(f->path);
	if (n + 1 > len)
		return -ENAMETOOLONG;
	memcpy(buf, f->path, n + 1);
	return (int)n;
}

static int union_mapfd(struct dn_svc *s, struct dn_file *f, bool writable)
{
	struct union_svc *u = to_union(s);
	return OPS(u)->mapfd ? OPS(u)->mapfd(BELOW(u), f->below, writable) : -ENODEV;
}

static ssize_t union_pread(struct dn_svc *s, struct dn_file *f, void *buf, size_t len, off_t off)
{
	struct union_svc *u = to_union(s);
	return OPS(u)->pread(BELOW(u), f->below, buf, len, off);
}

static ssize_t union_pwrite(struct dn_svc *s, struct dn_file *f, const void *buf, size_t len,
			    off_t off, uint64_t *end)
{
	struct union_svc *u = to_union(s);
	return OPS(u)->pwrite(BELOW(u), f->below, buf, len, off, end);
}

static int union_fstat(struct dn_svc *s, struct dn_file *f, struct stat *st)
{
	struct union_svc *u = to_union(s);
	int r = OPS(u)->fstat(BELOW(u), f->below, st);
	if (r == 0 && S_ISDIR(st->st_mode) && u->n > 1) {
		/* as union_stat says of a merged directory */
		struct un_node n;
		if (un_lookup(u, f->path, 0, &n) == 0 && n.layer >= 0 && un_merged(&n))
			st->st_nlink = 1;
	}
	return r;
}

static int emit(void *buf, size_t len, size_t *at, const struct un_dirent *e, uint64_t off)
{
	size_t nl = strlen(e->name);
	size_t reclen = (offsetof(struct dirent64, d_name) + nl + 1 + 7) & ~(size_t)7;
	if (*at + reclen > len)
		return -ENOSPC;
	struct dirent64 *d = (struct dirent64 *)((char *)buf + *at);
	d->d_ino = e->ino;
	d->d_off = (int64_t)off;
	d->d_reclen = (unsigned short)reclen;
	d->d_type = e->type;
	memset(d->d_name, 0, reclen - offsetof(struct dirent64, d_name));
	memcpy(d->d_name, e->name, nl);
	*at += reclen;
	return 0;
}

/*
 * The merged listing is made when a reader starts from 0 and kept for the
 * open file, as overlayfs keeps it: cookies are positions in it, stable
 * however the directory changes meanwhile; rewinddir sees the changes.
 */
static ssize_t union_readdir(struct dn_svc *s, struct dn_file *f, uint64_t cookie, void *buf,
			     size_t len, uint64_t *next)
{
	struct union_svc *u = to_union(s);
	pthread_mutex_lock(&f->lock);
	ssize_t ret = 0;
	if (cookie == 0 || !f->listed) {
		struct un_node *n = malloc(sizeof(*n));
		int r = n ? un_lookup(u, f->path, 0, n) : -ENOMEM;
		if (r == 0 && (n->layer < 0 || !S_ISDIR(n->st.st_mode)))
			r = -ENOENT; /* removed since: as an emptied directory, nothing */
		struct un_dirents d = {0};
		if (r == 0)
			r = un_dirents_read(u, n, &d);
		free(n);
		if (r < 0 && r != -ENOENT) {
			pthread_mutex_unlock(&f->lock);
			return r;
		}
		un_dirents_free(&f->ents);
		f->ents = d;
		f->listed = true;
	}
	size_t at = 0;
	*next = cookie;
	for (uint64_t i = cookie; i < f->ents.n; i++) {
		if (emit(buf, len, &at, &f->ents.e[i], i + 1) < 0) {
			if (at == 0)
				ret = -EINVAL;
			break;
		}
		*next = i + 1;
	}
	pthread_mutex_unlock(&f->lock);
	return ret < 0 ? ret : (ssize_t)at;
}

static int union_fsync(struct dn_svc *s, struct dn_file *f, bool datasync)
{
	struct union_svc *u = to_union(s);
	return OPS(u)->fsync ? OPS(u)->fsync(BELOW(u), f->below, datasync) : 0;
}

static int union_ftruncate(struct dn_svc *s, struct dn_file *f, off_t len)
{
	struct union_svc *u = to_union(s);
	return OPS(u)->ftruncate(BELOW(u), f->below, len);
}

static int union_fallocate(struct dn_svc *s, struct dn_file *f, int mode, off_t off, off_t len)
{
	struct union_svc *u = to_union(s);
	return OPS(u)->fallocate ? OPS(u)->fallocate(BELOW(u), f->below, mode, off, len)
				 : -EOPNOTSUPP;
}

static off_t union_seek(struct dn_svc *s, struct dn_file *f, off_t off, int whence)
{
	struct union_svc *u = to_union(s);
	return OPS(u)->seek ? OPS(u)->seek(BELOW(u), f->below, off, whence) : -ENOSYS;
}

static int union_fadvise(struct dn_svc *s, struct dn_file *f, off_t off, off_t len, int advice)
{
	struct union_svc *u = to_union(s);
	return OPS(u)->fadvise ? OPS(u)->fadvise(BELOW(u), f->below, off, len, advice) : 0;
}

static int union_lock(struct dn_svc *s, struct dn_file *f, int cmd, struct flock *fl,
		      uint64_t owner)
{
	struct union_svc *u = to_union(s);
	return OPS(u)->lock ? OPS(u)->lock(BELOW(u), f->below, cmd, fl, owner) : -ENOSYS;
}

static int union_flock(struct dn_svc *s, struct dn_file *f, int op, uint64_t owner)
{
	struct union_svc *u = to_union(s);
	return OPS(u)->flock ? OPS(u)->flock(BELOW(u), f->below, op, owner) : -ENOSYS;
}

static void union_forget_owners(struct dn_svc *s, uint64_t session_bits)
{
	struct union_svc *u = to_union(s);
	if (OPS(u)->forget_owners)
		OPS(u)->forget_owners(BELOW(u), session_bits);
}

/* ------------------------------------------------------------------ creating */

/* a new name: walked, free, not "." or "..", then its directory in the writable layer */
static int create_prepare(struct union_svc *u, const struct dn_cred *c, const char *path,
			  bool dir, struct un_walk **out, char *real)
{
	_cleanup_walk_ struct un_walk *w = NULL;
	int r = walk(u, c, path, UN_NAME, &w);
	if (r < 0)
		return r;
	if (w->node.layer >= 0 || w->dots)
		return -EEXIST;
	/* "name/" names a directory: only mkdir makes one (filename_create) */
	if (w->slash && !dir)
		return -ENOENT;
	if (w->reserved)
		return -EPERM;
	struct dn_vfs_attr a = un_attr(&w->parent);
	if ((r = dn_vfs_permission(c, &a, W_OK | X_OK)) < 0)
		return r;
	if ((r = prepare_create(u, w, real)) < 0)
		return r;
	*out = w;
	w = NULL;
	return 0;
}

/*
 * A directory over a whiteout hides what the layers below have of that name:
 * it is made opaque under a hidden name, then renamed in place, so no one
 * ever sees it without its marker.
 */
static int union_mkdir(struct dn_svc *s, const struct dn_cred *c, const char *path, mode_t mode)
{
	struct union_svc *u = to_union(s);
	CHANGES(u);
	_cleanup_walk_ struct un_walk *w = NULL;
	char real[UN_PATH_MAX];
	int r = create_prepare(u, c, path, true, &w, real);
	if (r < 0)
		return r;
	struct dn_cred b = un_cred_below(c);
	if (!w->node.whiteout_up)
		return OPS(u)->mkdir(BELOW(u), &b, real, mode);
	char tmp[UN_PATH_MAX], tmpreal[UN_PATH_MAX], marker[UN_PATH_MAX];
	if ((r = un_tmp_name(u, w->parent.path, tmp)) < 0 || (r = un_real(u, 0, tmp, tmpreal)) < 0)
		return r;
	if (snprintf(marker, sizeof(marker), "%s/" UN_OPAQUE, tmpreal) >= (int)sizeof(marker))
		return -ENAMETOOLONG;
	if ((r = OPS(u)->mkdir(BELOW(u), &b, tmpreal, mode)) < 0)
		return r;
	r = un_marker(u, marker);
	if (r == 0)
		r = OPS(u)->rename(BELOW(u), &u->priv, tmpreal, real, RENAME_NOREPLACE);
	if (r < 0) {
		OPS(u)->unlink(BELOW(u), &u->priv, marker);
		OPS(u)->rmdir(BELOW(u), &u->priv, tmpreal);
		return r;
	}
	created(u, w);
	return 0;
}

static int union_mknod(struct dn_svc *s, const struct dn_cred *c, const char *path, mode_t mode,
		       dev_t dev)
{
	struct union_svc *u = to_union(s);
	CHANGES(u);
	_cleanup_walk_ struct un_walk *w = NULL;
	char real[UN_PATH_MAX];
	int r = create_prepare(u, c, path, false, &w, real);
	if (r < 0)
		return r;
	struct dn_cred b = un_cred_below(c);
	if ((r = OPS(u)->mknod(BELOW(u), &b, real, mode, dev)) == 0)
		created(u, w);
	return r;
}

static int union_symlink(struct dn_svc *s, const struct dn_cred *c, const char *target,
			 const char *path)
{
	struct union_svc *u = to_union(s);
	CHANGES(u);
	_cleanup_walk_ struct un_walk *w = NULL;
	char real[UN_PATH_MAX];
	int r = create_prepare(u, c, path, false, &w, real);
	if (r < 0)
		return r;
	struct dn_cred b = un_cred_below(c);
	if ((r = OPS(u)->symlink(BELOW(u), &b, target, real)) == 0)
		created(u, w);
	return r;
}

static int union_link(struct dn_svc *s, const struct dn_cred *c, const char *from,
		      const char *to, bool follow)
{
	struct union_svc *u = to_union(s);
	CHANGES(u);
	_cleanup_walk_ struct un_walk *fw = NULL;
	int r = walk_existing(u, c, from, follow ? UN_FOLLOW : 0, &fw);
	if (r < 0)
		return r;
	_cleanup_walk_ struct un_walk *tw = NULL;
	if ((r = walk(u, c, to, UN_NAME, &tw)) < 0)
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
	    (r = prepare_create(u, tw, treal)) < 0)
		return r;
	struct dn_cred b = un_cred_below(c);
	if ((r = OPS(u)->link(BELOW(u), &b, freal, treal, false)) == 0)
		created(u, tw);
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

/*
 * A name that lower layers have too is whited out first, then its writable
 * copy goes: a crash in between leaves the copy, which wins in its layer.
 */
static int remove_name(struct union_svc *u, const struct dn_cred *c, struct un_walk *w, bool dir)
{
	int r;
	if (w->node.below || w->node.layer > 0) {
		if ((r = un_copy_up_dir(u, w->parent.path)) < 0)
			return r;
		if ((r = un_whiteout(u, w->parent.path, w->name)) < 0)
			return r;
	}
	if (w->node.layer != 0)
		return 0;
	char real[UN_PATH_MAX];
	if ((r = un_real(u, 0, w->node.path, real)) < 0)
		return r;
	struct dn_cred b = un_cred_below(c);
	if (!dir)
		return OPS(u)->unlink(BELOW(u), &b, real);
	/* the writable copy may hold whiteouts and a marker (the merged view was empty) */
	r = OPS(u)->rmdir(BELOW(u), &b, real);
	if (r != -ENOTEMPTY && r != -EEXIST)
		return r;
	if ((r = empty_of_marks(u, real)) < 0)
		return r;
	return OPS(u)->rmdir(BELOW(u), &b, real);
}

static int union_unlink(struct dn_svc *s, const struct dn_cred *c, const char *path)
{
	struct union_svc *u = to_union(s);
	CHANGES(u);
	_cleanup_walk_ struct un_walk *w = NULL;
	int r = walk(u, c, path, UN_BELOW | UN_NAME, &w);
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

static int union_rmdir(struct dn_svc *s, const struct dn_cred *c, const char *path)
{
	struct union_svc *u = to_union(s);
	CHANGES(u);
	_cleanup_walk_ struct un_walk *w = NULL;
	int r = walk(u, c, path, UN_BELOW | UN_NAME, &w);
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
	return remove_name(u, c, w, true);
}

/*
 * rename: files move within the writable layer (a lower one copied up
 * first) and leave a whiteout where lower layers have the old name; a
 * directory with lower parts answers EXDEV, as overlayfs without
 * redirect_dir does, so mv copies it.
 */
static int union_rename(struct dn_svc *s, const struct dn_cred *c, const char *from,
			const char *to, unsigned flags)
{
	struct union_svc *u = to_union(s);
	CHANGES(u);
	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))
		return -EINVAL;
	_cleanup_walk_ struct un_walk *fw = NULL, *tw = NULL;
	int r = walk(u, c, from, UN_BELOW | UN_NAME, &fw);
	if (r < 0)
		return r;
	if ((r = walk(u, c, to, UN_BELOW | UN_NAME, &tw)) < 0)
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
	if (!exchange && white && (r = un_whiteout(u, fw->parent.path, fw->name)) < 0)
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
		created(u, tw);
	return r;
}

/* ------------------------------------------------------------------ attributes */

/*
 * Changes of attributes walk to the name, check the caller's right on the
 * merged view, and only then copy it up: a refused change copies nothing.
 */
static int attr_prepare(struct union_svc *u, const struct dn_cred *c, const char *path,
			bool nofollow, struct un_walk **out)
{
	_cleanup_walk_ struct un_walk *w = NULL;
	int r = walk_existing(u, c, path, nofollow ? 0 : UN_FOLLOW, &w);
	if (r < 0)
		return r;
	*out = w;
	w = NULL;
	return 0;
}

static int bring_up(struct union_svc *u, struct un_node *n, char *real)
{
	int r = un_copy_up(u, n);
	return r < 0 ? r : un_real(u, 0, n->path, real);
}

/* An open file's node, for changes made through it. */
static int file_node(struct union_svc *u, struct dn_file *f, struct un_node *n)
{
	int r = un_lookup(u, f->path, 0, n);
	if (r == 0 && n->layer < 0)
		r = -ESTALE;
	return r;
}

static int union_truncate(struct dn_svc *s, const struct dn_cred *c, const char *path, off_t len)
{
	struct union_svc *u = to_union(s);
	CHANGES(u);
	_cleanup_walk_ struct un_walk *w = NULL;
	char real[UN_PATH_MAX];
	int r = attr_prepare(u, c, path, false, &w);
	if (r < 0)
		return r;
	if (S_ISDIR(w->node.st.st_mode))
		return -EISDIR;
	if (!S_ISREG(w->node.st.st_mode))
		return -EINVAL;
	struct dn_vfs_attr a = un_attr(&w->node);
	if ((r = dn_vfs_permission(c, &a, W_OK)) < 0 || (r = bring_up(u, &w->node, real)) < 0)
		return r;
	struct dn_cred b = un_cred_below(c);
	return OPS(u)->truncate(BELOW(u), &b, real, len);
}

static int union_chmod(struct dn_svc *s, const struct dn_cred *c, const char *path, mode_t mode)
{
	struct union_svc *u = to_union(s);
	CHANGES(u);
	_cleanup_walk_ struct un_walk *w = NULL;
	char real[UN_PATH_MAX];
	int r = attr_prepare(u, c, path, false, &w);
	if (r < 0)
		return r;
	struct dn_vfs_attr a = un_attr(&w->node);
	mode_t m = mode;
	if ((r = dn_vfs_may_chmod(c, &a, &m)) < 0 || (r = bring_up(u, &w->node, real)) < 0)
		return r;
	struct dn_cred b = un_cred_below(c);
	return OPS(u)->chmod(BELOW(u), &b, real, mode);
}

static int union_fchmod(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			mode_t mode)
{
	struct union_svc *u = to_union(s);
	CHANGES(u);
	struct dn_cred b = un_cred_below(c);
	if (f->layer == 0)
		return OPS(u)->fchmod(BELOW(u), &b, f->below, mode);
	_cleanup_free_ struct un_node *n = malloc(sizeof(*n));
	char real[UN_PATH_MAX];
	int r = n ? file_node(u, f, n) : -ENOMEM;
	if (r < 0)
		return r;
	struct dn_vfs_attr a = un_attr(n);
	mode_t m = mode;
	if ((r = dn_vfs_may_chmod(c, &a, &m)) < 0 || (r = bring_up(u, n, real)) < 0)
		return r;
	return OPS(u)->chmod(BELOW(u), &b, real, mode);
}

static int union_utimens(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			 const char *path, bool nofollow, const struct timespec times[2])
{
	struct union_svc *u = to_union(s);
	CHANGES(u);
	struct dn_cred b = un_cred_below(c);
	if (f && f->layer == 0)
		return OPS(u)->utimens(BELOW(u), &b, f->below, NULL, nofollow, times);
	_cleanup_free_ struct un_node *n = malloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	int r;
	if (f) {
		r = file_node(u, f, n);
	} else {
		struct un_walk *w = NULL;
		r = walk_existing(u, c, path, nofollow ? 0 : UN_FOLLOW, &w);
		if (r == 0)
			*n = w->node;
		free(w);
	}
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
	if ((r = bring_up(u, n, real)) < 0)
		return r;
	return OPS(u)->utimens(BELOW(u), &b, NULL, real, true, times);
}

static int union_chown(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
		       const char *path, bool nofollow, uid_t uid, gid_t gid)
{
	struct union_svc *u = to_union(s);
	CHANGES(u);
	struct dn_cred b = un_cred_below(c);
	if (f && f->layer == 0)
		return OPS(u)->chown(BELOW(u), &b, f->below, NULL, nofollow, uid, gid);
	_cleanup_free_ struct un_node *n = malloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	int r;
	if (f) {
		r = file_node(u, f, n);
	} else {
		struct un_walk *w = NULL;
		r = walk_existing(u, c, path, nofollow ? 0 : UN_FOLLOW, &w);
		if (r == 0)
			*n = w->node;
		free(w);
	}
	if (r < 0)
		return r;
	struct dn_vfs_attr a = un_attr(n);
	char real[UN_PATH_MAX];
	if ((r = dn_vfs_may_chown(c, &a, uid, gid)) < 0 || (r = bring_up(u, n, real)) < 0)
		return r;
	return OPS(u)->chown(BELOW(u), &b, NULL, real, true, uid, gid);
}

/* the node of an xattr call: the open file's, or path's */
static int xattr_node(struct union_svc *u, const struct dn_cred *c, struct dn_file *f,
		      const char *path, bool nofollow, struct un_node *n)
{
	if (f)
		return file_node(u, f, n);
	struct un_walk *w = NULL;
	int r = walk_existing(u, c, path, nofollow ? 0 : UN_FOLLOW, &w);
	if (r == 0)
		*n = w->node;
	free(w);
	return r;
}

static ssize_t union_getxattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			      const char *path, bool nofollow, const char *name, void *buf,
			      size_t len)
{
	struct union_svc *u = to_union(s);
	_cleanup_free_ struct un_node *n = malloc(sizeof(*n));
	int r = n ? xattr_node(u, c, f, path, nofollow, n) : -ENOMEM;
	if (r < 0)
		return r;
	struct dn_vfs_attr a = un_attr(n);
	if ((r = dn_xattr_may_get(c, name)) < 0 ||
	    (r = dn_vfs_xattr_permission(c, &a, name, false, true)) < 0)
		return r;
	char real[UN_PATH_MAX];
	if ((r = node_real(u, n, real)) < 0)
		return r;
	return OPS(u)->getxattr(BELOW(u), &u->priv, NULL, real, true, name, buf, len);
}

static ssize_t union_listxattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			       const char *path, bool nofollow, char *buf, size_t len)
{
	struct union_svc *u = to_union(s);
	_cleanup_free_ struct un_node *n = malloc(sizeof(*n));
	int r = n ? xattr_node(u, c, f, path, nofollow, n) : -ENOMEM;
	if (r < 0)
		return r;
	char real[UN_PATH_MAX];
	if ((r = node_real(u, n, real)) < 0)
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
		if (dn_xattr_may_get(c, name) < 0)
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

static int union_setxattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			  const char *path, bool nofollow, const char *name, const void *value,
			  size_t len, int flags)
{
	struct union_svc *u = to_union(s);
	CHANGES(u);
	struct dn_cred b = un_cred_below(c);
	if (f && f->layer == 0)
		return OPS(u)->setxattr(BELOW(u), &b, f->below, NULL, nofollow, name, value, len,
					flags);
	_cleanup_free_ struct un_node *n = malloc(sizeof(*n));
	int r = n ? xattr_node(u, c, f, path, nofollow, n) : -ENOMEM;
	if (r < 0)
		return r;
	struct dn_vfs_attr a = un_attr(n);
	char real[UN_PATH_MAX];
	/*
	 * The union's own checks only keep a refused change from copying up: a
	 * file already in the writable layer gets the backend's, which are the
	 * kernel's in the kernel's order (a bad value's EINVAL first, ACLs...).
	 */
	if (n->layer != 0 && ((r = dn_xattr_may_change(c, name)) < 0 ||
			      (r = dn_vfs_xattr_permission(c, &a, name, true, true)) < 0))
		return r;
	if ((r = bring_up(u, n, real)) < 0)
		return r;
	return OPS(u)->setxattr(BELOW(u), &b, NULL, real, true, name, value, len, flags);
}

static int union_removexattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			     const char *path, bool nofollow, const char *name)
{
	struct union_svc *u = to_union(s);
	CHANGES(u);
	struct dn_cred b = un_cred_below(c);
	if (f && f->layer == 0)
		return OPS(u)->removexattr(BELOW(u), &b, f->below, NULL, nofollow, name);
	_cleanup_free_ struct un_node *n = malloc(sizeof(*n));
	int r = n ? xattr_node(u, c, f, path, nofollow, n) : -ENOMEM;
	if (r < 0)
		return r;
	struct dn_vfs_attr a = un_attr(n);
	char real[UN_PATH_MAX];
	if (n->layer != 0 && ((r = dn_xattr_may_change(c, name)) < 0 ||
			      (r = dn_vfs_xattr_permission(c, &a, name, true, true)) < 0))
		return r; /* (in the writable layer: the backend's checks, as setxattr) */
	/* absent in a lower file: ENODATA, with nothing copied (as overlayfs) */
	if (n->layer != 0) {
		if ((r = node_real(u, n, real)) < 0)
			return r;
		ssize_t got = OPS(u)->getxattr(BELOW(u), &u->priv, NULL, real, true, name, NULL, 0);
		if (got < 0)
			return (int)got;
	}
	if ((r = bring_up(u, n, real)) < 0)
		return r;
	return OPS(u)->removexattr(BELOW(u), &b, NULL, real, true, name);
}

static void union_destroy(struct dn_svc *s)
{
	struct union_svc *u = to_union(s);
	if (u->owns_below)
		u->below->ops->destroy(u->below);
	for (size_t l = 0; l < u->n; l++)
		free(u->layer[l]);
	free(u->layer);
	pthread_mutex_destroy(&u->copy_lock);
	un_dcache_free(u->dcache);
	free(u);
}

static const struct dn_svc_ops union_ops_template = {
	.name = "union",
	.real_paths = true,
	.open = union_open,
	.close = union_close,
	.fpath = union_fpath,
	.mapfd = union_mapfd,
	.pread = union_pread,
	.pwrite = union_pwrite,
	.fstat = union_fstat,
	.stat = union_stat,
	.access = union_access,
	.mkdir = union_mkdir,
	.mknod = union_mknod,
	.rmdir = union_rmdir,
	.unlink = union_unlink,
	.rename = union_rename,
	.readdir = union_readdir,
	.fsync = union_fsync,
	.truncate = union_truncate,
	.ftruncate = union_ftruncate,
	.chmod = union_chmod,
	.fchmod = union_fchmod,
	.readlink = union_readlink,
	.utimens = union_utimens,
	.chown = union_chown,
	.symlink = union_symlink,
	.link = union_link,
	.statfs = union_statfs,
	.fallocate = union_fallocate,
	.seek = union_seek,
	.fadvise = union_fadvise,
	.getxattr = union_getxattr,
	.setxattr = union_setxattr,
	.listxattr = union_listxattr,
	.removexattr = union_removexattr,
	.lock = union_lock,
	.flock = union_flock,
	.forget_owners = union_forget_owners,
	.destroy = union_destroy,
};

/* Directory p of the backend and its parents, with the pool's rights. */
static int make_dirs(struct union_svc *u, const char *p, bool *made)
{
	char sub[UN_PATH_MAX];
	*made = false;
	for (const char *s = p + 1;; s++) {
		s += strcspn(s, "/");
		snprintf(sub, sizeof(sub), "%.*s", (int)(s - p), p);
		int r = OPS(u)->mkdir(BELOW(u), &u->priv, sub, 0755);
		if (r < 0 && r != -EEXIST)
			return r;
		if (!*s) {
			*made = r == 0;
			return 0;
		}
	}
}

/* A new writable layer's top looks like the top lower layer's: owner, mode, times. */
static int adopt_root(struct union_svc *u)
{
	struct stat st;
	int r = OPS(u)->stat(BELOW(u), &u->priv, u->layer[1], true, &st);
	if (r < 0)
		return r;
	if ((r = OPS(u)->chown(BELOW(u), &u->priv, NULL, u->layer[0], true, st.st_uid,
			       st.st_gid)) < 0 ||
	    (r = OPS(u)->chmod(BELOW(u), &u->priv, u->layer[0], st.st_mode & 07777)) < 0)
		return r;
	struct timespec times[2] = {st.st_atim, st.st_mtim};
	return OPS(u)->utimens(BELOW(u), &u->priv, NULL, u->layer[0], true, times);
}

/* The union itself; its layers are checked (and upper made) by union_start. */
static int union_build(const struct dn_union_spec *spec, struct dn_svc *below, bool owns_below,
		       struct union_svc **out, char *err, size_t errlen)
{
	struct union_svc *u = calloc(1, sizeof(*u));
	if (!u) {
		if (owns_below)
			below->ops->destroy(below);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	u->ops = union_ops_template;
	u->ops.cache_dies = below->ops->cache_dies;
	u->base.ops = &u->ops;
	u->below = below;
	u->owns_below = owns_below;
	pthread_mutex_init(&u->copy_lock, NULL);
	u->priv = (struct dn_cred){.uid = 0, .gid = 0, .caps = dn_cred_pool_caps()};
	dn_protect_read(&u->protect);
	u->dcache = un_dcache_new(); /* (without it, every walk asks the backend) */
	*out = u;
	char **image = NULL;
	size_t nimage = 0;
	int r = 0;
	if (spec->image &&
	    (r = un_image_layers(below, &u->priv, spec->image, &image, &nimage, err, errlen)) < 0)
		return r;
	size_t nlower = image ? nimage : spec->nlower;
	u->layer = calloc(nlower + 1, sizeof(char *));
	if (!u->layer)
		r = -ENOMEM;
	for (size_t l = 0; r == 0 && l <= nlower; l++) {
		if (l > 0 && image) {
			u->layer[l] = image[l - 1]; /* taken */
			image[l - 1] = NULL;
		} else {
			u->layer[l] = strdup(l == 0 ? spec->upper : spec->lower[l - 1]);
		}
		if (!u->layer[l])
			r = -ENOMEM;
		else
			u->n++;
	}
	for (size_t i = 0; i < nimage; i++)
		free(image[i]);
	free(image);
	if (r < 0)
		snprintf(err, errlen, "out of memory");
	return r;
}

static int union_start(struct union_svc *u, const struct dn_union_spec *spec, char *err,
		       size_t errlen)
{
	int r;
	for (size_t l = 1; l < u->n; l++) {
		struct stat st;
		r = OPS(u)->stat(BELOW(u), &u->priv, u->layer[l], true, &st);
		if (r == 0 && !S_ISDIR(st.st_mode))
			r = -ENOTDIR;
		if (r < 0) {
			snprintf(err, errlen, "[union] %s: layer %s: %s",
				 spec->image ? "image" : "lower", u->layer[l], strerror(-r));
			return r;
		}
	}
	bool made;
	if ((r = make_dirs(u, u->layer[0], &made)) < 0 || (made && (r = adopt_root(u)) < 0)) {
		snprintf(err, errlen, "[union] upper: cannot make %s: %s", u->layer[0],
			 strerror(-r));
		return r;
	}
	return 0;
}

int dn_svc_union_new(const struct dn_union_spec *spec, struct dn_svc *below, bool owns_below,
		     struct dn_svc **out, char *err, size_t errlen)
{
	struct union_svc *u = NULL;
	/* (its walks, on this thread, as a request's: no-symlinks.h) */
	dn_walk_refuse_symlinks(true);
	int r = union_build(spec, below, owns_below, &u, err, errlen);
	if (r == 0)
		r = union_start(u, spec, err, errlen);
	if (r == 0 && spec->image && (r = un_image_use(below, &u->priv, spec->image, u->layer[0])) < 0)
		snprintf(err, errlen, "[union] image: cannot record %s's use of %s in %s: %s",
			 u->layer[0], spec->image, DN_IMAGE_STORE, strerror(-r));
	dn_walk_refuse_symlinks(false);
	if (r < 0) {
		if (u)
			union_destroy(&u->base);
		return r;
	}
	*out = &u->base;
	return 0;
}

struct dn_svc *dn_svc_union_below(struct dn_svc *s)
{
	return s->ops->real_paths ? to_union(s)->below : s;
}
