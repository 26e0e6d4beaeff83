/* Union Copy-up: a lower file becomes the writable layer's, whole or not at all */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "union.h"

#define COPY_CHUNK (1 << 20)
#define XATTR_LIST_MAX_ 65536
#define XATTR_SIZE_MAX_ 65536

struct dn_cred un_cred_below(const struct dn_cred *c)
{
	struct dn_cred b = *c;
	b.caps |= UINT64_C(1) << CAP_DAC_READ_SEARCH;
	return b;
}

static const char *dir_prefix(const char *dir)
{
	return strcmp(dir, "/") == 0 ? "" : dir;
}

int un_tmp_name(struct union_svc *u, const char *dir, char *buf)
{
	unsigned long seq = atomic_fetch_add(&u->tmp_seq, 1);
	int n = snprintf(buf, UN_PATH_MAX, "%s/" UN_TMP "%ld.%lu", dir_prefix(dir), (long)getpid(),
			 seq);
	return n < 0 || n >= UN_PATH_MAX ? -ENAMETOOLONG : 0;
}

static int writable_path(struct union_svc *u, const char *dir, const char *name, char *real)
{
	char p[UN_PATH_MAX];
	int n = snprintf(p, sizeof(p), "%s/%s", dir_prefix(dir), name);
	if (n < 0 || n >= (int)sizeof(p))
		return -ENAMETOOLONG;
	return un_real(u, 0, p, real);
}

/* An empty file the pool owns: a whiteout or an opaque marker. */
static int marker_make(struct union_svc *u, const char *real, bool claim)
{
	const struct dn_svc_ops *ops = u->below->ops;
	struct dn_file *f;
	int handover = -1;
	int r = ops->open(u->below, &u->priv, real, O_WRONLY | O_CREAT | O_EXCL, 0, &f, &handover);
	if (r == -EEXIST && !claim)
		return 0;
	if (r < 0)
		return r;
	if (r == DN_SVC_HANDOVER) {
		close(handover);
		return -EIO;
	}
	ops->close(u->below, f);
	return 0;
}

int un_marker(struct union_svc *u, const char *real)
{
	return marker_make(u, real, false);
}

/*
 * The backend path of name's whiteout in writable-layer directory dir:
 * 0, or -ENAMETOOLONG when the name is too long to have one (OCI's
 * whiteouts cannot hide a name of over NAME_MAX - 4 bytes).
 */
static int whiteout_path(struct union_svc *u, const char *dir, const char *name, char *real)
{
	if (strlen(name) + UN_WH_LEN > NAME_MAX)
		return -ENAMETOOLONG;
	char wh[NAME_MAX + UN_WH_LEN + 1];
	snprintf(wh, sizeof(wh), UN_WH "%s", name);
	return writable_path(u, dir, wh, real);
}

int un_whiteout(struct union_svc *u, const char *dir, const char *name, bool claim)
{
	char real[UN_PATH_MAX];
	int r = whiteout_path(u, dir, name, real);
	return r < 0 ? r : marker_make(u, real, claim);
}

/* 1 when writable-layer directory dir holds name's whiteout, 0 when not, or -errno */
static int whiteout_exists(struct union_svc *u, const char *dir, const char *name)
{
	char real[UN_PATH_MAX];
	struct stat st;
	int r = whiteout_path(u, dir, name, real);
	if (r == -ENAMETOOLONG && strlen(name) + UN_WH_LEN > NAME_MAX)
		return 0; /* (it cannot have one) */
	if (r == 0)
		r = u->below->ops->stat(u->below, &u->priv, real, true, &st);
	return r == 0 ? 1 : r == -ENOENT ? 0 : r;
}

int un_unwhiteout(struct union_svc *u, const char *dir, const char *name)
{
	char real[UN_PATH_MAX];
	int r = whiteout_path(u, dir, name, real);
	if (r == -ENAMETOOLONG && strlen(name) + UN_WH_LEN > NAME_MAX)
		return 0; /* (it cannot have one) */
	if (r < 0)
		return r;
	r = u->below->ops->unlink(u->below, &u->priv, real);
	return r == -ENOENT ? 0 : r;
}

/* Every extended attribute of from onto to, as far as the backend keeps them. */
static int copy_xattrs(struct union_svc *u, const char *from, const char *to)
{
	const struct dn_svc_ops *ops = u->below->ops;
	if (!ops->listxattr || !ops->getxattr || !ops->setxattr)
		return 0;
	_cleanup_free_ char *names = malloc(XATTR_LIST_MAX_);
	_cleanup_free_ char *value = malloc(XATTR_SIZE_MAX_);
	if (!names || !value)
		return -ENOMEM;
	ssize_t len = ops->listxattr(u->below, &u->priv, NULL, from, true, names, XATTR_LIST_MAX_);
	if (len == -ENOTSUP || len == -ENOSYS)
		return 0;
	if (len < 0)
		return (int)len;
	for (ssize_t at = 0; at < len; at += (ssize_t)strlen(names + at) + 1) {
		const char *name = names + at;
		if (un_origin_xattr(name))
			continue; /* (a layer made of a writable one: the copy's own is set after) */
		ssize_t vl = ops->getxattr(u->below, &u->priv, NULL, from, true, name, value,
					   XATTR_SIZE_MAX_);
		if (vl == -ENODATA)
			continue; /* gone meanwhile */
		if (vl < 0)
			return (int)vl;
		int r = ops->setxattr(u->below, &u->priv, NULL, to, true, name, value, (size_t)vl, 0);
		/* names the backend refuses to anyone (trusted.*, say) stay behind, as they would on a copy */
		if (r < 0 && r != -EPERM && r != -ENOTSUP && r != -EOPNOTSUPP)
			return r;
	}
	return 0;
}

/* Owner, mode (after the owner: chown clears set-ID bits), times and xattrs of st onto real. */
static int copy_attrs(struct union_svc *u, const char *from, const char *real,
		      const struct stat *st)
{
	const struct dn_svc_ops *ops = u->below->ops;
	int r = copy_xattrs(u, from, real);
	if (r < 0)
		return r;
	if ((r = ops->chown(u->below, &u->priv, NULL, real, true, st->st_uid, st->st_gid)) < 0)
		return r;
	if (!S_ISLNK(st->st_mode) &&
	    (r = ops->chmod(u->below, &u->priv, real, st->st_mode & 07777)) < 0)
		return r;
	struct timespec times[2] = {st->st_atim, st->st_mtim};
	return ops->utimens(u->below, &u->priv, NULL, real, true, times);
}

/* The data of from into to, holes kept where the backend can find them. */
static int copy_data(struct union_svc *u, const char *from, const char *to, off_t size)
{
	const struct dn_svc_ops *ops = u->below->ops;
	struct dn_file *in = NULL, *out = NULL;
	int handover = -1;
	int r = ops->open(u->below, &u->priv, from, O_RDONLY | O_NOFOLLOW, 0, &in, &handover);
	if (r != 0)
		return r < 0 ? r : -EIO;
	r = ops->open(u->below, &u->priv, to, O_WRONLY | O_NOFOLLOW, 0, &out, &handover);
	if (r != 0) {
		ops->close(u->below, in);
		return r < 0 ? r : -EIO;
	}
	_cleanup_free_ char *buf = malloc(COPY_CHUNK);
	if (!buf)
		r = -ENOMEM;
	off_t at = 0;
	while (r == 0 && at < size) {
		if (ops->seek) {
			off_t data = ops->seek(u->below, in, at, SEEK_DATA);
			if (data == -ENXIO)
				break; /* a hole to the end */
			if (data > at)
				at = data;
		}
		ssize_t got = ops->pread(u->below, in, buf, COPY_CHUNK, at);
		if (got < 0) {
			r = (int)got;
			break;
		}
		if (got == 0)
			break;
		for (ssize_t done = 0; done < got;) {
			uint64_t end;
			ssize_t put = ops->pwrite(u->below, out, buf + done, (size_t)(got - done),
						  at + done, &end);
			if (put <= 0) {
				r = put < 0 ? (int)put : -EIO;
				break;
			}
			done += put;
		}
		at += got;
	}
	if (r == 0)
		r = ops->ftruncate(u->below, out, size);
	if (r == 0 && ops->fsync)
		r = ops->fsync(u->below, out, false);
	ops->close(u->below, in);
	ops->close(u->below, out);
	return r;
}

/* A copy of node n (in a lower layer) at tmp in the writable layer. */
static int make_copy(struct union_svc *u, const struct un_node *n, const char *from,
		     const char *tmp)
{
	const struct dn_svc_ops *ops = u->below->ops;
	mode_t type = n->st.st_mode & S_IFMT;
	int r;
	if (S_ISREG(type)) {
		if ((r = un_marker(u, tmp)) < 0)
			return r;
		r = copy_data(u, from, tmp, n->st.st_size);
	} else if (S_ISDIR(type)) {
		r = ops->mkdir(u->below, &u->priv, tmp, 0700);
	} else if (S_ISLNK(type)) {
		char target[UN_PATH_MAX];
		ssize_t len = ops->readlink(u->below, &u->priv, from, target, sizeof(target) - 1);
		if (len < 0)
			return (int)len;
		target[len] = '\0';
		r = ops->symlink(u->below, &u->priv, target, tmp);
	} else {
		r = ops->mknod(u->below, &u->priv, tmp, type | 0600, n->st.st_rdev);
	}
	if (r == 0)
		r = copy_attrs(u, from, tmp, &n->st);
	if (r == 0)
		un_origin_set(u, tmp, &n->st);
	return r;
}

static void remove_tmp(struct union_svc *u, const char *tmp, bool dir)
{
	if (dir)
		u->below->ops->rmdir(u->below, &u->priv, tmp);
	else
		u->below->ops->unlink(u->below, &u->priv, tmp);
}

/* With copy_lock held: n into the writable layer, where its parent already is. */
static int copy_one_locked(struct union_svc *u, struct un_node *n)
{
	char real[UN_PATH_MAX], from[UN_PATH_MAX], tmp[UN_PATH_MAX], tmpreal[UN_PATH_MAX], dir[UN_PATH_MAX];
	struct stat st;
	int r = un_real(u, 0, n->path, real);
	if (r < 0)
		return r;
	/* someone else's copy got there first */
	if ((r = u->below->ops->stat(u->below, &u->priv, real, true, &st)) == 0) {
		ino_t lower_ino = n->layer > 0 ? n->st.st_ino : 0;
		n->layer = 0;
		n->st = st;
		un_take_more(n);
		un_mask_set(&n->dirs, 0);
		un_ident(u, n, S_ISDIR(st.st_mode) ? lower_ino : 0);
		return 0;
	}
	if (r != -ENOENT)
		return r;
	if (n->layer <= 0)
		return -ENOENT;
	snprintf(dir, sizeof(dir), "%s", n->path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	/*
	 * Removed (or renamed away) since the caller's walk: its whiteout is
	 * there, and a copy would bring the name back.
	 */
	if ((r = whiteout_exists(u, dir, slash + 1)) != 0)
		return r < 0 ? r : -ENOENT;
	char dirreal[UN_PATH_MAX];
	struct stat dirst;
	if ((r = un_real(u, (size_t)n->layer, n->path, from)) < 0 ||
	    (r = un_tmp_name(u, dir, tmp)) < 0 || (r = un_real(u, 0, tmp, tmpreal)) < 0 ||
	    (r = un_real(u, 0, dir, dirreal)) < 0 ||
	    (r = u->below->ops->stat(u->below, &u->priv, dirreal, true, &dirst)) < 0)
		return r;
	r = make_copy(u, n, from, tmpreal);
	if (r == 0)
		r = u->below->ops->rename(u->below, &u->priv, tmpreal, real, RENAME_NOREPLACE);
	if (r < 0)
		remove_tmp(u, tmpreal, S_ISDIR(n->st.st_mode));
	/* a copy-up changes nobody's directory: its times stay (as overlayfs keeps them) */
	struct timespec times[2] = {dirst.st_atim, dirst.st_mtim};
	u->below->ops->utimens(u->below, &u->priv, NULL, dirreal, true, times);
	if (r < 0)
		return r;
	if ((r = u->below->ops->stat(u->below, &u->priv, real, true, &st)) < 0)
		return r;
	/* the merged view's attributes stay; the lower copies stay merged under it */
	ino_t lower_ino = n->st.st_ino;
	n->layer = 0;
	if (!dn_stat_more_get(&st, &n->more)) /* (the copy's birth, as overlayfs tells it) */
		n->more.mask = 0;
	n->st.st_ino = st.st_ino;
	n->st.st_ctim = st.st_ctim;
	un_mask_set(&n->dirs, 0);
	un_ident(u, n, S_ISDIR(st.st_mode) ? lower_ino : 0);
	if (S_ISREG(st.st_mode))
		union_files_copied(u, n->path, lower_ino, real);
	return 0;
}

/*
 * n and every directory above it, top down (a loop, not a recursion: a
 * path may be thousands of components deep).
 */
int un_copy_up(struct union_svc *u, struct un_node *n)
{
	if (n->layer == 0)
		return 0;
	if (n->layer < 0)
		return -ENOENT;
	pthread_mutex_lock(&u->copy_lock);
	int r = 0;
	for (const char *s = n->path + 1; r == 0; s++) {
		s += strcspn(s, "/");
		if (!*s) {
			r = copy_one_locked(u, n);
			break;
		}
		char p[UN_PATH_MAX];
		snprintf(p, sizeof(p), "%.*s", (int)(s - n->path), n->path);
		struct un_node *dir = malloc(sizeof(*dir));
		if (!dir) {
			r = -ENOMEM;
			break;
		}
		r = un_lookup(u, p, 0, dir);
		if (r == 0 && dir->layer < 0)
			r = -ENOENT;
		if (r == 0 && !un_mask_has(&dir->dirs, 0))
			r = copy_one_locked(u, dir);
		free(dir);
	}
	pthread_mutex_unlock(&u->copy_lock);
	return r;
}

int un_copy_up_dir(struct union_svc *u, const char *p)
{
	struct un_node n;
	int r = un_lookup(u, p, 0, &n);
	if (r < 0)
		return r;
	if (n.layer < 0)
		return -ENOENT;
	if (!S_ISDIR(n.st.st_mode))
		return -ENOTDIR;
	if (un_mask_has(&n.dirs, 0))
		return 0;
	return un_copy_up(u, &n);
}
