/* Union Libservice: the pool's tree as read-only layers under one writable layer */
#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
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
#include "union-ops.h"

int union_walk_to(struct union_svc *u, const struct dn_cred *c, const char *path, int flags,
		  struct un_walk **out)
{
	return union_walk_in(u, c, NULL, path, flags, out);
}

int union_walk_in(struct union_svc *u, const struct dn_cred *c, const char *dir,
		  const char *path, int flags, struct un_walk **out)
{
	struct un_walk *w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	int r = un_walk_in(u, c, dir, path, flags, w);
	if (r < 0) {
		free(w);
		return r;
	}
	*out = w;
	return 0;
}

/* walk to an existing name */
int union_walk_existing(struct union_svc *u, const struct dn_cred *c, const char *path,
			int flags, struct un_walk **out)
{
	int r = union_walk_to(u, c, path, flags, out);
	if (r == 0 && (*out)->node.layer < 0) {
		free(*out);
		*out = NULL;
		return -ENOENT;
	}
	return r;
}

int union_node_real(struct union_svc *u, const struct un_node *n, char *real)
{
	return un_real(u, (size_t)n->layer, n->path, real);
}

/* The directory of a name about to be made in the writable layer; its real path into real. */
int union_prepare_create(struct union_svc *u, struct un_walk *w, char *real)
{
	int r = un_copy_up_dir(u, w->parent.path);
	if (r < 0)
		return r;
	return un_real(u, 0, w->node.path, real);
}

int union_may_create(struct union_svc *u, const struct dn_cred *c, struct un_walk *w, char *real)
{
	if (w->reserved)
		return -EPERM;
	struct dn_vfs_attr a = un_attr(&w->parent);
	int r = dn_vfs_permission(c, &a, W_OK | X_OK);
	return r < 0 ? r : union_prepare_create(u, w, real);
}

/* After a name was made over a whiteout: the whiteout goes (the name wins in its layer anyway). */
void union_created(struct union_svc *u, struct un_walk *w)
{
	if (w->node.whiteout_up)
		un_unwhiteout(u, w->parent.path, w->name);
}

/* ------------------------------------------------------------------ reading */

static int stat_in(struct union_svc *u, const struct dn_cred *c, const char *dir,
		   const char *path, bool nofollow, struct stat *st)
{
	_cleanup_walk_ struct un_walk *w = NULL;
	int r = union_walk_in(u, c, dir, path, nofollow ? 0 : UN_FOLLOW, &w);
	if (r < 0)
		return r;
	if (w->node.layer < 0)
		return -ENOENT;
	*st = w->node.st;
	/* its layer's birth time and attributes, under the number the union gives it */
	struct dn_stat_more m = w->node.more;
	m.dev = st->st_dev;
	m.ino = st->st_ino;
	if (m.mask)
		dn_stat_more_set(&m);
	else
		dn_stat_more_clear();
	return 0;
}

static int union_stat(struct dn_svc *s, const struct dn_cred *c, const char *path,
		      bool nofollow, struct stat *st)
{
	return stat_in(to_union(s), c, NULL, path, nofollow, st);
}

/* A plain name in open directory dir, with the identity the thread has (svc.h) */
static int union_stat_at(struct dn_svc *s, struct dn_file *dir, const char *name, bool nofollow,
			 struct stat *st)
{
	struct union_svc *u = to_union(s);
	struct dn_cred c = *dn_cred_current(); /* (a copy: the walk asks below as the pool) */
	char at[UN_PATH_MAX];
	int r = union_file_path(u, dir, at);
	return r < 0 ? r : stat_in(u, &c, at, name, nofollow, st);
}

static int union_access(struct dn_svc *s, const struct dn_cred *c, const char *path, int mode,
			bool nofollow)
{
	struct union_svc *u = to_union(s);
	_cleanup_walk_ struct un_walk *w = NULL;
	int r = union_walk_existing(u, c, path, (nofollow ? 0 : UN_FOLLOW) | UN_PERM, &w);
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
	int r = union_walk_existing(u, c, path, 0, &w);
	if (r < 0)
		return r;
	if (!S_ISLNK(w->node.st.st_mode))
		return -EINVAL;
	char real[UN_PATH_MAX];
	if ((r = union_node_real(u, &w->node, real)) < 0)
		return r;
	return OPS(u)->readlink(BELOW(u), &u->priv, real, buf, len);
}

/* overlayfs's statfs: the writable layer's numbers, its own type (ovl_statfs) */
#define UN_OVERLAYFS_MAGIC 0x794c7630

static int union_statfs(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			const char *path, struct statvfs *st, uint64_t *type)
{
	struct union_svc *u = to_union(s);
	int r;
	if (!path) {
		struct dn_cred b = un_cred_below(c);
		r = OPS(u)->statfs(BELOW(u), &b, file_below(f), NULL, st, type);
	} else {
		_cleanup_walk_ struct un_walk *w = NULL;
		r = union_walk_existing(u, c, path, UN_FOLLOW, &w);
		if (r == 0)
			r = OPS(u)->statfs(BELOW(u), &u->priv, NULL, u->layer[0], st, type);
	}
	if (r == 0)
		*type = UN_OVERLAYFS_MAGIC;
	return r;
}

/* ------------------------------------------------------------------ open files */

/* below opened with oflags at node n (layer, path, as stat'ed: n->st) */
static int file_new(struct union_svc *u, struct dn_file *below, const struct un_node *n,
		    int oflags, uint64_t copies, uint64_t moves, struct dn_file **out)
{
	struct dn_file *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->path = strdup(n->path);
	if (!f->path) {
		free(f);
		return -ENOMEM;
	}
	f->first = below;
	atomic_init(&f->below, below);
	atomic_init(&f->layer, n->layer);
	f->oflags = oflags & ~(O_CREAT | O_EXCL | O_TRUNC);
	f->ino = n->layer >= 0 ? n->st.st_ino : 0;
	pthread_mutex_init(&f->lock, NULL);
	f->follows = n->layer > 0 && S_ISREG(n->st.st_mode);
	if (f->follows)
		union_files_add(u, f, copies);
	if (n->layer >= 0 && S_ISDIR(n->st.st_mode) && (oflags & O_TMPFILE) != O_TMPFILE)
		union_dirs_add(u, f, moves);
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

/*
 * *again: the name changed between the walk and the open, where the kernel
 * (which holds the directory's lock across both) would have opened or
 * created it: O_CREAT without O_EXCL found it missing and another caller
 * made it (EEXIST), or found it and another removed it (ENOENT).
 */
static int open_once(struct union_svc *u, const struct dn_cred *c, const char *dir,
		     const char *path, int oflags, mode_t mode, struct dn_file **out, int *handover,
		     bool *again)
{
	bool creat = (oflags & O_CREAT) && !(oflags & O_PATH);
	bool excl = creat && (oflags & O_EXCL);
	bool tmpfile = (oflags & O_TMPFILE) == O_TMPFILE;
	int follow = (oflags & O_NOFOLLOW) || excl ? 0 : UN_FOLLOW;
	/* (before the walk: a copy-up after it makes the new file look again) */
	uint64_t copies = atomic_load_explicit(&u->copies, memory_order_acquire);
	uint64_t moves = atomic_load_explicit(&u->moves, memory_order_acquire);
	struct change chg __attribute__((cleanup(change_end))) =
		change_begin(u, creat || tmpfile || open_writes(oflags));
	(void)chg;
	_cleanup_walk_ struct un_walk *w = NULL;
	/* a read's permission checks: a lower file's cached attributes do (a write copies up from fresh ones) */
	int perm = creat || tmpfile || open_writes(oflags) ? 0 : UN_PERM;
	int r = union_walk_in(u, c, dir, path, follow | (creat ? UN_NAME : 0) | perm, &w);
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
		n->layer = 0; /* (a file of no name in directory n: its own number) */
		n->st.st_ino = 0;
		if ((r = file_new(u, bf, n, oflags, copies, moves, out)) < 0)
			OPS(u)->close(BELOW(u), bf);
		return r;
	}
	if (n->layer < 0) {
		if (!creat)
			return -ENOENT;
		if (w->dots || w->slash)
			return -EISDIR;
		if ((r = union_may_create(u, c, w, real)) < 0)
			return r;
		r = OPS(u)->open(BELOW(u), &b, real, oflags | O_EXCL, mode, &bf, handover);
		if (r == 0)
			union_created(u, w);
		*again = r == -EEXIST && !excl;
		if (r != 0)
			return r;
		n->layer = 0; /* (new: its own number) */
		n->st.st_ino = 0;
		if ((r = file_new(u, bf, n, oflags, copies, moves, out)) < 0)
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
	if (open_writes(oflags) && S_ISREG(n->st.st_mode) && (r = un_copy_up(u, n)) < 0) {
		*again = r == -ENOENT && creat;
		return r;
	}
	if ((r = union_node_real(u, n, real)) < 0)
		return r;
	/* a lower file is read with the pool's rights: the union checked the caller's */
	const struct dn_cred *as = n->layer == 0 ? &b : &u->priv;
	r = OPS(u)->open(BELOW(u), as, real, oflags & ~(O_CREAT | O_EXCL), 0, &bf, handover);
	*again = r == -ENOENT && creat;
	if (r != 0)
		return r;
	if ((r = file_new(u, bf, n, oflags, copies, moves, out)) < 0)
		OPS(u)->close(BELOW(u), bf);
	return r;
}

/*
 * The union's walk and its create or open are not one step: a name another
 * caller made or removed in between is walked again (open_once's again), up
 * to 8 times, so that O_CREAT without O_EXCL opens or creates it as the
 * kernel's does (two SQLite connections opening a new -wal or -shm at once
 * got EEXIST; an open racing an unlink, ENOENT).
 */
static int open_in(struct union_svc *u, const struct dn_cred *c, const char *dir,
		   const char *path, int oflags, mode_t mode, struct dn_file **out, int *handover)
{
	for (int walks = 1;; walks++) {
		bool again = false;
		int r = open_once(u, c, dir, path, oflags, mode, out, handover, &again);
		if (!again || walks == 8)
			return r;
	}
}

static int union_open(struct dn_svc *s, const struct dn_cred *c, const char *path, int oflags,
		      mode_t mode, struct dn_file **out, int *handover)
{
	return open_in(to_union(s), c, NULL, path, oflags, mode, out, handover);
}

static int union_open_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
			 const char *name, int oflags, mode_t mode, struct dn_file **out,
			 int *handover)
{
	struct union_svc *u = to_union(s);
	char at[UN_PATH_MAX];
	int r = union_file_path(u, dir, at);
	return r < 0 ? r : open_in(u, c, at, name, oflags, mode, out, handover);
}

static void union_close(struct dn_svc *s, struct dn_file *f)
{
	struct union_svc *u = to_union(s);
	if (f->follows)
		union_files_remove(u, f);
	if (f->dir_listed)
		union_dirs_remove(u, f);
	struct dn_file *below = atomic_load(&f->below);
	if (below != f->first)
		OPS(u)->close(BELOW(u), below);
	OPS(u)->close(BELOW(u), f->first);
	un_dirents_free(&f->ents);
	pthread_mutex_destroy(&f->lock);
	free(f->path);
	free(f);
}

static int union_fpath(struct dn_svc *s, struct dn_file *f, char *buf, size_t len)
{
	char at[UN_PATH_MAX];
	int r = union_file_path(to_union(s), f, at);
	if (r < 0)
		return r;
	size_t n = strlen(at);
	if (n + 1 > len)
		return -ENAMETOOLONG;
	memcpy(buf, at, n + 1);
	return (int)n;
}

static int union_mapfd(struct dn_svc *s, struct dn_file *f, bool writable)
{
	struct union_svc *u = to_union(s);
	return OPS(u)->mapfd ? OPS(u)->mapfd(BELOW(u), file_below(f), writable) : -ENODEV;
}

/* overlayfs passes O_DIRECT (and F_SETFL's) to the real file (ovl_change_flags) */
static int union_set_direct(struct dn_svc *s, struct dn_file *f, bool on, uint32_t lens)
{
	struct union_svc *u = to_union(s);
	return OPS(u)->set_direct ? OPS(u)->set_direct(BELOW(u), file_below(f), on, lens) : 0;
}

static ssize_t union_pread(struct dn_svc *s, struct dn_file *f, void *buf, size_t len, off_t off)
{
	struct union_svc *u = to_union(s);
	return OPS(u)->pread(BELOW(u), file_below(f), buf, len, off);
}

static ssize_t union_pwrite(struct dn_svc *s, struct dn_file *f, const void *buf, size_t len,
			    off_t off, uint64_t *end)
{
	struct union_svc *u = to_union(s);
	return OPS(u)->pwrite(BELOW(u), file_below(f), buf, len, off, end);
}

static int union_fstat(struct dn_svc *s, struct dn_file *f, struct stat *st)
{
	struct union_svc *u = to_union(s);
	int r = OPS(u)->fstat(BELOW(u), file_below(f), st);
	if (r == 0) {
		struct dn_stat_more m;
		bool more = dn_stat_more_get(st, &m);
		/* its number as stat says it (a copy-up's origin, a merged directory's) */
		if (f->ino)
			st->st_ino = f->ino;
		st->st_dev = u->dev;
		if (more) { /* (and what its backend told beyond it, under that number) */
			m.dev = st->st_dev;
			m.ino = st->st_ino;
			dn_stat_more_set(&m);
		}
	}
	if (r == 0 && S_ISDIR(st->st_mode) && u->n > 1) {
		/* as union_stat says of a merged directory */
		struct un_node n;
		char at[UN_PATH_MAX];
		if (union_file_path(u, f, at) == 0 && un_lookup(u, at, 0, &n) == 0 &&
		    n.layer >= 0 && un_merged(&n))
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
		char at[UN_PATH_MAX];
		int r = n ? union_file_path(u, f, at) : -ENOMEM;
		if (r == 0)
			r = un_lookup(u, at, 0, n);
		if (r == 0 && (n->layer < 0 || !S_ISDIR(n->st.st_mode)))
			r = -ENOENT; /* removed since: as an emptied directory, nothing */
		struct un_dirents d = {0};
		if (r == 0)
			r = un_dirents_read(u, n, &d);
		if (r == 0)
			un_dirents_inos(u, n, &d);
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
	return OPS(u)->fsync ? OPS(u)->fsync(BELOW(u), file_below(f), datasync) : 0;
}

static int union_syncfs(struct dn_svc *s, struct dn_file *f)
{
	struct union_svc *u = to_union(s);
	if (OPS(u)->syncfs)
		return OPS(u)->syncfs(BELOW(u), file_below(f));
	return OPS(u)->fsync ? OPS(u)->fsync(BELOW(u), file_below(f), false) : 0;
}

static int union_ftruncate(struct dn_svc *s, struct dn_file *f, off_t len)
{
	struct union_svc *u = to_union(s);
	return OPS(u)->ftruncate(BELOW(u), file_below(f), len);
}

static int union_fallocate(struct dn_svc *s, struct dn_file *f, int mode, off_t off, off_t len)
{
	struct union_svc *u = to_union(s);
	return OPS(u)->fallocate ? OPS(u)->fallocate(BELOW(u), file_below(f), mode, off, len)
				 : -EOPNOTSUPP;
}

/* Whether directory f merges copies of more than one layer. 0/1, or -errno. */
static int merged_dir(struct union_svc *u, struct dn_file *f)
{
	struct un_node *n = malloc(sizeof(*n));
	char at[UN_PATH_MAX];
	int r = n ? union_file_path(u, f, at) : -ENOMEM;
	if (r == 0)
		r = un_lookup(u, at, 0, n);
	int layers = 0;
	for (size_t l = 0; r == 0 && l < u->n; l++)
		layers += un_mask_has(&n->dirs, l);
	free(n);
	return r < 0 ? r : layers > 1;
}

/*
 * A merged directory's offsets are positions in its merged listing:
 * overlayfs's ovl_dir_llseek takes only SEEK_SET and SEEK_CUR for one
 * (EINVAL); another is its layer's own directory.
 */
static off_t union_seek(struct dn_svc *s, struct dn_file *f, off_t off, int whence)
{
	struct union_svc *u = to_union(s);
	struct stat st;
	if (OPS(u)->fstat && OPS(u)->fstat(BELOW(u), file_below(f), &st) == 0 &&
	    S_ISDIR(st.st_mode)) {
		int m = merged_dir(u, f);
		if (m < 0 && m != -ENOENT) /* (removed since: its layer's, as a lone directory) */
			return m;
		if (m > 0)
			return -EINVAL;
	}
	return OPS(u)->seek ? OPS(u)->seek(BELOW(u), file_below(f), off, whence) : -ENOSYS;
}

/*
 * As overlayfs answers them: flags and FSGETXATTR are the real file's
 * (ovl_fileattr_get), FIEMAP too but only for a regular file (its other
 * inodes have no fiemap: EOPNOTSUPP), and it has no FS_IOC_GETVERSION.
 */
static int union_ioctl_get(struct dn_svc *s, struct dn_file *f, unsigned int req, void *arg)
{
	struct union_svc *u = to_union(s);
	if (!OPS(u)->ioctl_get)
		return -ENOSYS;
	if (req == FS_IOC_GETVERSION)
		return -ENOTTY;
	struct stat st;
	if (req == FS_IOC_FIEMAP) {
		int r = OPS(u)->fstat ? OPS(u)->fstat(BELOW(u), file_below(f), &st) : -ENOSYS;
		if (r < 0)
			return r;
		if (!S_ISREG(st.st_mode))
			return -EOPNOTSUPP;
	}
	return OPS(u)->ioctl_get(BELOW(u), file_below(f), req, arg);
}

static int union_fadvise(struct dn_svc *s, struct dn_file *f, off_t off, off_t len, int advice)
{
	struct union_svc *u = to_union(s);
	return OPS(u)->fadvise ? OPS(u)->fadvise(BELOW(u), file_below(f), off, len, advice) : 0;
}

/* locks on the file as opened, also after it follows a copy-up: released where taken */
static int union_lock(struct dn_svc *s, struct dn_file *f, int cmd, struct flock *fl,
		      uint64_t owner)
{
	struct union_svc *u = to_union(s);
	return OPS(u)->lock ? OPS(u)->lock(BELOW(u), f->first, cmd, fl, owner) : -ENOSYS;
}

static int union_flock(struct dn_svc *s, struct dn_file *f, int op, uint64_t owner)
{
	struct union_svc *u = to_union(s);
	return OPS(u)->flock ? OPS(u)->flock(BELOW(u), f->first, op, owner) : -ENOSYS;
}

static void union_forget_owners(struct dn_svc *s, uint64_t session_bits)
{
	struct union_svc *u = to_union(s);
	if (OPS(u)->forget_owners)
		OPS(u)->forget_owners(BELOW(u), session_bits);
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
	pthread_mutex_destroy(&u->files_lock);
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
	.set_direct = union_set_direct,
	.pread = union_pread,
	.pwrite = union_pwrite,
	.fstat = union_fstat,
	.stat = union_stat,
	.access = union_access,
	.mkdir = union_mkdir,
	.mknod = union_mknod,
	.rmdir = union_rmdir,
	.unlink = union_unlink,
	.stat_at = union_stat_at,
	.unlink_at = union_unlink_at,
	.open_at = union_open_at,
	.mkdir_at = union_mkdir_at,
	.rename_at = union_rename_at,
	.rename = union_rename,
	.readdir = union_readdir,
	.fsync = union_fsync,
	.syncfs = union_syncfs,
	.truncate = union_truncate,
	.ftruncate = union_ftruncate,
	.chmod = union_chmod,
	.fchmod = union_fchmod,
	.readlink = union_readlink,
	.utimens = union_utimens,
	.chown = union_chown,
	.symlink = union_symlink,
	.link = union_link,
	.link_file = union_link_file,
	.statfs = union_statfs,
	.fallocate = union_fallocate,
	.seek = union_seek,
	.ioctl_get = union_ioctl_get,
	.ioctl_set = union_ioctl_set,
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
	pthread_mutex_init(&u->files_lock, NULL);
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
	if ((r = make_dirs(u, u->layer[0], &made)) < 0 || (made && (r = adopt_root(u)) < 0) ||
	    (r = un_ident_init(u)) < 0) {
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

bool dn_svc_is_union(const struct dn_svc *s)
{
	return s->ops->destroy == union_destroy; /* (a subtree has real_paths too) */
}

uint64_t dn_union_other_ino(struct dn_svc *s, struct dn_file *f)
{
	if (!dn_svc_is_union(s))
		return dn_union_file_origin(s, f);
	struct union_svc *u = to_union(s);
	struct stat st;
	if (!f->ino || OPS(u)->fstat(BELOW(u), file_below(f), &st) < 0)
		return 0; /* (f->ino: a copy-up's origin, which the union answers instead) */
	return (uint64_t)st.st_ino != f->ino ? (uint64_t)st.st_ino : 0;
}

struct dn_svc *dn_svc_union_below(struct dn_svc *s)
{
	return dn_svc_is_union(s) ? to_union(s)->below : s;
}
