/* Union Directories: the merged listing of a directory's layers, whiteouts applied */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "union.h"

#define GETDENTS_BUF 32768

/* One entry of one layer: a name, or (whiteout) the name it hides. */
struct layer_entry {
	char *name;
	size_t layer;
	bool whiteout;
	bool kept; /* its name moved into the listing */
	uint64_t ino;
	unsigned char type;
};

struct entries {
	struct layer_entry *e;
	size_t n, cap;
};

static int entries_add(struct entries *es, const char *name, size_t layer, bool whiteout,
		       uint64_t ino, unsigned char type)
{
	if (es->n == es->cap) {
		size_t cap = es->cap ? es->cap * 2 : 64;
		struct layer_entry *e = realloc(es->e, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		es->e = e;
		es->cap = cap;
	}
	char *copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	es->e[es->n++] = (struct layer_entry){copy, layer, whiteout, false, ino, type};
	return 0;
}

static void entries_free(struct entries *es)
{
	for (size_t i = 0; i < es->n; i++)
		if (!es->e[i].kept)
			free(es->e[i].name);
	free(es->e);
}

/* name order; within a name the upper layer first, and its own entry before its whiteout */
static int entry_cmp(const void *a, const void *b)
{
	const struct layer_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	if (x->layer != y->layer)
		return x->layer < y->layer ? -1 : 1;
	return (int)x->whiteout - (int)y->whiteout;
}

static int read_layer(struct union_svc *u, const struct un_node *n, size_t l, bool want_dots,
		      struct entries *es)
{
	const struct dn_svc_ops *ops = u->below->ops;
	char real[UN_PATH_MAX];
	int r = un_real(u, l, n->path, real);
	if (r < 0)
		return r;
	struct dn_file *f;
	int handover = -1;
	r = ops->open(u->below, &u->priv, real, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, &f,
		      &handover);
	if (r != 0)
		return r < 0 ? r : -EIO;
	_cleanup_free_ char *buf = malloc(GETDENTS_BUF);
	uint64_t cookie = 0;
	r = buf ? 0 : -ENOMEM;
	while (r == 0) {
		uint64_t next;
		ssize_t got = ops->readdir(u->below, f, cookie, buf, GETDENTS_BUF, &next);
		if (got <= 0) {
			r = (int)got;
			break;
		}
		for (ssize_t at = 0; at < got && r == 0;) {
			struct dirent64 *d = (struct dirent64 *)(buf + at);
			at += d->d_reclen;
			const char *name = d->d_name;
			bool dots = strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
			if (dots && !want_dots)
				continue;
			if (strncmp(name, UN_WH UN_WH, 2 * UN_WH_LEN) == 0)
				continue; /* the opaque marker, a copy being made */
			bool wh = strncmp(name, UN_WH, UN_WH_LEN) == 0;
			r = entries_add(es, wh ? name + UN_WH_LEN : name, l, wh, d->d_ino, d->d_type);
		}
		cookie = next;
	}
	ops->close(u->below, f);
	return r;
}

int un_dirents_read(struct union_svc *u, const struct un_node *n, struct un_dirents *out)
{
	struct entries es = {0};
	int r = 0;
	bool first = true;
	for (size_t l = 0; l < u->n && r == 0; l++) {
		if (!un_mask_has(&n->dirs, l))
			continue;
		r = read_layer(u, n, l, first, &es);
		first = false;
	}
	/*
	 * A listing moves its directories' atimes (the backend's kernel, as
	 * relatime says): the directory attributes the lookup cache keeps end.
	 */
	un_changed(u);
	if (r < 0) {
		entries_free(&es);
		return r;
	}
	qsort(es.e, es.n, sizeof(*es.e), entry_cmp);
	out->n = 0;
	out->e = calloc(es.n ? es.n : 1, sizeof(*out->e));
	if (!out->e) {
		entries_free(&es);
		return -ENOMEM;
	}
	/* "." and ".." first, as a kernel directory lists them */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < es.n; i++) {
			struct layer_entry *e = &es.e[i];
			bool dots = strcmp(e->name, ".") == 0 || strcmp(e->name, "..") == 0;
			if (dots != (pass == 0))
				continue;
			/* the first entry of a name decides: the name, or a whiteout hiding it */
			bool decides = i == 0 || strcmp(es.e[i - 1].name, e->name) != 0;
			if (!decides || e->whiteout)
				continue;
			out->e[out->n++] = (struct un_dirent){e->ino, e->type, e->layer == 0, e->name};
			e->kept = true;
		}
	}
	entries_free(&es);
	return 0;
}

void un_dirents_free(struct un_dirents *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->e[i].name);
	free(d->e);
	d->e = NULL;
	d->n = 0;
}

int un_dir_has_entries(struct union_svc *u, const struct un_node *n)
{
	struct un_dirents d;
	int r = un_dirents_read(u, n, &d);
	if (r < 0)
		return r;
	bool any = false;
	for (size_t i = 0; i < d.n && !any; i++)
		any = strcmp(d.e[i].name, ".") != 0 && strcmp(d.e[i].name, "..") != 0;
	un_dirents_free(&d);
	return any;
}

/* the st_ino of union path p as stat says it, or 0 */
static uint64_t merged_ino(struct union_svc *u, const char *p, struct un_node *scratch)
{
	return un_lookup(u, p, 0, scratch) == 0 && scratch->layer >= 0 ? scratch->st.st_ino : 0;
}

/* the st_ino of entry e of directory n, a name of the writable layer; 0 when it is gone */
static uint64_t upper_ino(struct union_svc *u, const struct un_node *n, const struct un_dirent *e,
			  struct un_node *scratch)
{
	char p[UN_PATH_MAX];
	int len = snprintf(p, sizeof(p), "%s/%s", strcmp(n->path, "/") == 0 ? "" : n->path,
			   e->name);
	if (len < 0 || len >= (int)sizeof(p))
		return 0;
	if (e->type == DT_DIR || e->type == DT_UNKNOWN)
		return merged_ino(u, p, scratch); /* (whether it merges lower copies) */
	/* a non-directory: its origin, the one backend call a name costs */
	char real[UN_PATH_MAX];
	if (un_real(u, 0, p, real) < 0)
		return 0;
	mode_t m = e->type == DT_REG ? S_IFREG : S_IFLNK; /* (any other: a trusted.* one) */
	return un_origin_get(u, real, m, e->ino); /* (the writable layer's own d_ino) */
}

void un_dirents_inos(struct union_svc *u, const struct un_node *n, struct un_dirents *d)
{
	struct un_node *scratch = malloc(sizeof(*scratch));
	if (!scratch)
		return; /* (the layers' own numbers: a listing is still a listing) */
	for (size_t i = 0; i < d->n; i++) {
		struct un_dirent *e = &d->e[i];
		uint64_t ino = 0;
		if (strcmp(e->name, ".") == 0) {
			ino = n->st.st_ino;
		} else if (strcmp(e->name, "..") == 0) {
			/* the top's is outside the union: overlayfs says its upper's, as here */
			if (strcmp(n->path, "/") != 0) {
				char parent[UN_PATH_MAX];
				snprintf(parent, sizeof(parent), "%s", n->path);
				char *slash = strrchr(parent, '/');
				slash[slash == parent] = '\0';
				ino = merged_ino(u, parent, scratch);
			}
		} else if (e->upper) {
			ino = upper_ino(u, n, e, scratch);
		}
		if (ino)
			e->ino = ino;
	}
	free(scratch);
}
