/* Union Walk: a path through the merged tree, one component at a time, as the kernel walks */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../redirect.h"
#include "../vfs-perm.h"
#include "union.h"

#define SYMLINKS_MAX 40

int un_real(const struct union_svc *u, size_t l, const char *p, char *buf)
{
	int n = snprintf(buf, UN_PATH_MAX, "%s%s", u->layer[l], strcmp(p, "/") == 0 ? "" : p);
	return n < 0 || n >= UN_PATH_MAX ? -ENAMETOOLONG : 0;
}

struct dn_vfs_attr un_attr(const struct un_node *n)
{
	return (struct dn_vfs_attr){.mode = n->st.st_mode, .uid = n->st.st_uid, .gid = n->st.st_gid,
				    .acl = n->acl_len ? n->acl : NULL, .acl_len = n->acl_len};
}

/* n's access ACL from its top layer: the kernel's permission checks read it */
static void read_acl(struct union_svc *u, struct un_node *n)
{
	n->acl_len = 0;
	if (n->layer < 0 || S_ISLNK(n->st.st_mode) || !u->below->ops->getxattr)
		return;
	char real[UN_PATH_MAX];
	if (un_real(u, (size_t)n->layer, n->path, real) < 0)
		return;
	ssize_t got = u->below->ops->getxattr(u->below, &u->priv, NULL, real, true,
					      "system.posix_acl_access", n->acl, sizeof(n->acl));
	if (got > 0)
		n->acl_len = (uint16_t)got;
	else if (got == -ERANGE)
		n->acl_len = 1; /* too long to keep: taken as unreadable, which refuses */
}

/* lstat of p/name in layer l: 0, -ENOENT, or another -errno */
static int layer_stat(struct union_svc *u, size_t l, const char *p, const char *name,
		      struct stat *st)
{
	char real[UN_PATH_MAX];
	int n = snprintf(real, sizeof(real), "%s%s/%s", u->layer[l],
			 strcmp(p, "/") == 0 ? "" : p, name);
	if (n < 0 || n >= (int)sizeof(real))
		return -ENAMETOOLONG;
	int r = u->below->ops->stat(u->below, &u->priv, real, true, st);
	return r == -ENOTDIR ? -ENOENT : r;
}

static int layer_has(struct union_svc *u, size_t l, const char *p, const char *name)
{
	struct stat st;
	int r = layer_stat(u, l, p, name, &st);
	return r == 0 ? 1 : r == -ENOENT ? 0 : r;
}

static int layer_has_whiteout(struct union_svc *u, size_t l, const char *p, const char *name)
{
	/* a name too long for ".wh." before it can have no whiteout (in OCI form) */
	if (strlen(name) + UN_WH_LEN > NAME_MAX)
		return 0;
	char wh[NAME_MAX + UN_WH_LEN + 1];
	snprintf(wh, sizeof(wh), UN_WH "%s", name);
	return layer_has(u, l, p, wh);
}

/* directory p/name of layer l holds the opaque marker */
static int layer_opaque(struct union_svc *u, size_t l, const char *p, const char *name)
{
	char sub[UN_PATH_MAX];
	int n = snprintf(sub, sizeof(sub), "%s/%s", strcmp(p, "/") == 0 ? "" : p, name);
	if (n < 0 || n >= (int)sizeof(sub))
		return -ENAMETOOLONG;
	return layer_has(u, l, sub, UN_OPAQUE);
}

/*
 * name in directory parent, layer by layer from the top: the first layer with
 * the name or its whiteout decides; a directory merges the directories
 * below it until an opaque one, a non-directory or a whiteout. With
 * UN_BELOW the look goes on past the top (and past an opaque directory) for
 * a copy in a lower layer, which a removal or rename must then white out.
 */
static int lookup_child(struct union_svc *u, const struct un_node *parent, const char *name,
			int flags, struct un_node *out)
{
	int n = snprintf(out->path, sizeof(out->path), "%s/%s",
			 strcmp(parent->path, "/") == 0 ? "" : parent->path, name);
	if (n < 0 || n >= (int)sizeof(out->path))
		return -ENAMETOOLONG;
	uint64_t gen = atomic_load(&u->gen);
	int hit = un_dcache_get(u, out->path, flags, out);
	if (hit == UN_HIT)
		return 0;
	if (hit == UN_HIT_STAT && (flags & UN_PERM) && out->layer > 0)
		return 0; /* (the one backend call an open of a lower file saves) */
	if (hit == UN_HIT_STAT) {
		/* where it is holds; what it is now, its layer says */
		struct stat st;
		int r = layer_stat(u, (size_t)out->layer, parent->path, name, &st);
		if (r == 0 && (st.st_mode & S_IFMT) == (out->st.st_mode & S_IFMT)) {
			/* (its number, as the merged view says it, holds too) */
			ino_t ino = out->st.st_ino;
			out->st = st;
			un_take_more(out);
			out->st.st_ino = ino;
			out->st.st_dev = u->dev;
			return 0;
		}
	}
	out->layer = -1;
	out->more.mask = 0;
	out->whiteout_up = false;
	out->below = false;
	memset(&out->dirs, 0, sizeof(out->dirs));
	bool merging = true; /* (until an opaque directory) */
	ino_t lower_ino = 0;  /* the top lower copy a directory merges */
	for (size_t l = 0; l < u->n; l++) {
		if (!un_mask_has(&parent->dirs, l))
			continue;
		struct stat st;
		int r = layer_stat(u, l, parent->path, name, &st);
		if (r < 0 && r != -ENOENT)
			return r;
		if (r == 0) {
			if (out->layer >= 0) {
				/* a copy below the top */
				out->below = true;
				if (!merging || !S_ISDIR(out->st.st_mode) || !S_ISDIR(st.st_mode))
					break;
				un_mask_set(&out->dirs, l);
				if (!lower_ino)
					lower_ino = st.st_ino;
			} else {
				out->layer = (int)l;
				out->st = st;
				un_take_more(out);
				if (S_ISDIR(st.st_mode))
					un_mask_set(&out->dirs, l);
				else if (!(flags & UN_BELOW))
					break;
			}
			if (merging && S_ISDIR(st.st_mode) &&
			    (r = layer_opaque(u, l, parent->path, name)) != 0) {
				if (r < 0)
					return r;
				merging = false;
				if (!(flags & UN_BELOW))
					break;
			}
		}
		/* a whiteout hides the layers below this one */
		if ((r = layer_has_whiteout(u, l, parent->path, name)) != 0) {
			if (r < 0)
				return r;
			if (out->layer < 0 && l == 0)
				out->whiteout_up = true;
			/*
			 * A writable copy beside its own whiteout: a removal of
			 * it is half done (or a crash left it so), and lower
			 * copies may be under the whiteout. A removal or rename
			 * of it takes the lower names' way (copy_lock), or two
			 * callers could both unlink it.
			 */
			if (out->layer == 0 && l == 0)
				out->below = true;
			break;
		}
	}
	/* a merged directory's link count means nothing: the kernel's overlayfs says 1 */
	if (out->layer >= 0 && S_ISDIR(out->st.st_mode) && un_merged(out))
		out->st.st_nlink = 1;
	un_ident(u, out, lower_ino);
	read_acl(u, out);
	un_dcache_put(u, out, flags, gen);
	return 0;
}

static void root_node(struct union_svc *u, struct un_node *out)
{
	/* (not all of it: its path and ACL are used only as long as they say) */
	strcpy(out->path, "/");
	out->layer = 0;
	memset(&out->st, 0, sizeof(out->st));
	memset(&out->dirs, 0, sizeof(out->dirs));
	out->whiteout_up = out->below = false;
	out->acl_len = 0;
	out->more.mask = 0;
	for (size_t l = 0; l < u->n; l++)
		un_mask_set(&out->dirs, l);
}

static int root_lookup(struct union_svc *u, struct un_node *out)
{
	root_node(u, out);
	uint64_t gen = atomic_load(&u->gen);
	if (un_dcache_get(u, "/", 0, out) == UN_HIT)
		return 0;
	int r = u->below->ops->stat(u->below, &u->priv, u->layer[0], true, &out->st);
	if (r == 0)
		un_take_more(out);
	if (r == 0 && u->n > 1)
		out->st.st_nlink = 1;
	if (r == 0)
		un_ident(u, out, 0);
	if (r == 0) {
		read_acl(u, out);
		un_dcache_put(u, out, 0, gen);
	}
	return r;
}

int un_lookup(struct union_svc *u, const char *p, int flags, struct un_node *out)
{
	int r = root_lookup(u, out);
	if (r < 0)
		return r;
	const char *s = p;
	while (*s) {
		s += strspn(s, "/");
		size_t len = strcspn(s, "/");
		if (len == 0)
			break;
		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		char name[NAME_MAX + 1];
		memcpy(name, s, len);
		name[len] = '\0';
		s += len;
		if (out->layer < 0)
			return 0; /* (only the last may be absent) */
		if (!S_ISDIR(out->st.st_mode))
			return -ENOTDIR;
		struct un_node parent = *out;
		if ((r = lookup_child(u, &parent, name, *s ? 0 : flags, out)) < 0)
			return r;
	}
	return 0;
}

/* The parent of canonical path p ("/" for "/" itself), looked up again. */
static int lookup_parent(struct union_svc *u, const char *p, struct un_node *out)
{
	char dir[UN_PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", p);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	return un_lookup(u, dir, 0, out);
}

static int may_search(const struct dn_cred *c, const struct un_node *dir)
{
	struct dn_vfs_attr a = un_attr(dir);
	return dn_vfs_permission(c, &a, X_OK);
}

/* buf = target + rest (rest is "" or starts with its "/") */
static int splice_link(char *buf, const char *rest, const char *target, size_t tlen)
{
	size_t rlen = strlen(rest);
	if (tlen + rlen + 1 > UN_PATH_MAX)
		return -ENAMETOOLONG;
	memmove(buf + tlen, rest, rlen + 1);
	memcpy(buf, target, tlen);
	return 0;
}

static int read_link(struct union_svc *u, const struct un_node *n, char *buf, size_t *len)
{
	char real[UN_PATH_MAX];
	int r = un_real(u, (size_t)n->layer, n->path, real);
	if (r < 0)
		return r;
	ssize_t got = u->below->ops->readlink(u->below, &u->priv, real, buf, UN_PATH_MAX - 1);
	if (got < 0)
		return (int)got;
	if (got == 0)
		return -ENOENT;
	*len = (size_t)got;
	return 0;
}

int un_walk(struct union_svc *u, const struct dn_cred *c, const char *path, int flags,
	    struct un_walk *w)
{
	return un_walk_in(u, c, NULL, path, flags, w);
}

int un_walk_in(struct union_svc *u, const struct dn_cred *c, const char *dir, const char *path,
	       int flags, struct un_walk *w)
{
	if (!*path)
		return -ENOENT;
	size_t plen = strlen(path);
	if (plen >= UN_PATH_MAX)
		return -ENAMETOOLONG;
	char buf[UN_PATH_MAX];
	memcpy(buf, path, plen + 1);
	int links = 0, r;
	struct un_node *cur = &w->parent;
	if ((r = dir ? un_lookup(u, dir, 0, cur) : root_lookup(u, cur)) < 0)
		return r;
	if (cur->layer < 0)
		return -ENOENT; /* removed meanwhile */
	un_node_copy(&w->node, cur);
	w->name = w->node.path;
	w->dots = 1; /* "/" alone is the root, as "." */
	w->slash = false;
	w->reserved = false;
	const char *s = buf;
	for (;;) {
		s += strspn(s, "/");
		size_t len = strcspn(s, "/");
		if (len == 0)
			break; /* (w->node is what the walk reached) */
		/* (a name too long is refused after the search permission, as the kernel does) */
		bool too_long = len > NAME_MAX;
		char name[NAME_MAX + 1];
		memcpy(name, s, too_long ? 0 : len);
		name[too_long ? 0 : len] = '\0';
		s += len;
		bool last = s[strspn(s, "/")] == '\0';
		w->slash = last && *s == '/';
		/* w->node is the directory we are in */
		if (w->node.layer < 0)
			return -ENOENT;
		if (!S_ISDIR(w->node.st.st_mode))
			return -ENOTDIR;
		un_node_copy(cur, &w->node);
		if ((r = may_search(c, cur)) < 0)
			return r;
		if (too_long)
			return -ENAMETOOLONG;
		if (strcmp(name, ".") == 0) {
			w->dots = 1;
			continue;
		}
		if (strcmp(name, "..") == 0) {
			w->dots = 2;
			if ((r = lookup_parent(u, cur->path, &w->node)) < 0)
				return r;
			if (last && (r = lookup_parent(u, w->node.path, cur)) < 0)
				return r;
			continue;
		}
		w->dots = 0;
		/* a name the layers' own entries use does not exist, nor can it be made */
		if (strncmp(name, UN_WH, UN_WH_LEN) == 0) {
			if (!last)
				return -ENOENT;
			snprintf(w->node.path, sizeof(w->node.path), "%s/%s",
				 strcmp(cur->path, "/") == 0 ? "" : cur->path, name);
			w->node.layer = -1;
			w->node.whiteout_up = w->node.below = false;
			w->node.acl_len = 0;
			w->reserved = true;
			continue;
		}
		if ((r = lookup_child(u, cur, name, last ? flags : 0, &w->node)) < 0)
			return r;
		if (w->node.layer >= 0 && S_ISLNK(w->node.st.st_mode) &&
		    (!last || (w->slash && !(flags & UN_NAME)) || (flags & UN_FOLLOW))) {
			if (++links > SYMLINKS_MAX)
				return -ELOOP;
			if (u->protect.symlinks && (r = dn_protect_follow(&u->protect, cur->st.st_mode,
									   cur->st.st_uid,
									   w->node.st.st_uid,
									   c->uid)) < 0)
				return r;
			char target[UN_PATH_MAX];
			size_t tlen = 0;
			if ((r = read_link(u, &w->node, target, &tlen)) < 0)
				return r;
			/* as the backends: the client resolves an absolute link from its own root */
			if (target[0] == '/' && dn_redirect_allowed()) {
				target[tlen] = '\0';
				return dn_redirect_to(target, s);
			}
			char rest[UN_PATH_MAX];
			snprintf(rest, sizeof(rest), "%s", s);
			if ((r = splice_link(buf, rest, target, tlen)) < 0)
				return r;
			s = buf;
			if (target[0] == '/') {
				if ((r = root_lookup(u, &w->node)) < 0)
					return r;
			} else {
				un_node_copy(&w->node, cur);
			}
			/* a link to "/" or "." ends at that directory */
			w->dots = 1;
			continue;
		}
	}
	/* the last component: its name, and its parent when it was reached by a name */
	w->name = strrchr(w->node.path, '/') + 1;
	if (w->dots == 1 && w->node.layer >= 0) {
		/* "." (or the root): the parent is the directory itself, for stat and open */
		un_node_copy(cur, &w->node);
	}
	if (w->slash && w->node.layer >= 0 && !S_ISDIR(w->node.st.st_mode) && !(flags & UN_NAME))
		return -ENOTDIR;
	return 0;
}
