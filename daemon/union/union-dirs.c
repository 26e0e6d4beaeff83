/* Union Open Directories: an open directory follows its renames and its removal, as a dentry does */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "union-ops.h"

/*
 * Calls relative to an open directory (openat, fstatat, unlinkat...) look
 * names up in that directory, wherever it is now, as the kernel's do. The
 * union finds names by their paths, so each open directory keeps its path
 * current: a rename moves the paths of the open directories in what moved,
 * a removal leaves them with none (their names are looked up nowhere:
 * ENOENT, as in a removed directory). Only a directory of the writable
 * layer alone can move (union_rename), so every move is seen here.
 */

/*
 * f's path still names f's directory (files_lock held): a rename between
 * f's walk and its listing would have left it behind, and a path that
 * names another directory must not be used for f's names.
 */
static bool still_there_locked(struct union_svc *u, struct dn_file *f)
{
	struct stat opened, named;
	char real[UN_PATH_MAX];
	return u->below->ops->fstat(u->below, f->first, &opened) == 0 &&
	       un_real(u, (size_t)file_layer(f), f->path, real) == 0 &&
	       u->below->ops->stat(u->below, &u->priv, real, true, &named) == 0 &&
	       opened.st_ino == named.st_ino && opened.st_dev == named.st_dev;
}

void union_dirs_add(struct union_svc *u, struct dn_file *f, uint64_t moves)
{
	pthread_mutex_lock(&u->files_lock);
	/* moved or removed since its walk, where to is not known: in no directory (ENOENT) */
	if (atomic_load(&u->moves) != moves && !still_there_locked(u, f))
		f->gone = true;
	f->dprev = NULL;
	f->dnext = u->open_dirs;
	if (f->dnext)
		f->dnext->dprev = f;
	u->open_dirs = f;
	f->dir_listed = true;
	pthread_mutex_unlock(&u->files_lock);
}

void union_dirs_remove(struct union_svc *u, struct dn_file *f)
{
	pthread_mutex_lock(&u->files_lock);
	if (f->dir_listed) {
		if (f->dprev)
			f->dprev->dnext = f->dnext;
		else
			u->open_dirs = f->dnext;
		if (f->dnext)
			f->dnext->dprev = f->dprev;
		f->dir_listed = false;
	}
	pthread_mutex_unlock(&u->files_lock);
}

int union_file_path(struct union_svc *u, struct dn_file *f, char buf[UN_PATH_MAX])
{
	pthread_mutex_lock(&u->files_lock);
	int r = f->gone ? -ENOENT : 0;
	if (r == 0)
		snprintf(buf, UN_PATH_MAX, "%s", f->path);
	pthread_mutex_unlock(&u->files_lock);
	return r;
}

/* the rest of p after prefix at a component boundary, or NULL: "" for p itself */
static const char *below_prefix(const char *p, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncmp(p, prefix, n) != 0 || (p[n] && p[n] != '/'))
		return NULL;
	return p + n;
}

/* f's path = to + rest (files_lock held); on no memory it keeps the old one */
static void repath_locked(struct dn_file *f, const char *to, const char *rest)
{
	size_t tn = strlen(to), rn = strlen(rest);
	char *p = malloc(tn + rn + 1);
	if (!p)
		return;
	memcpy(p, to, tn);
	memcpy(p + tn, rest, rn + 1);
	free(f->path);
	f->path = p;
}

void union_dirs_moved(struct union_svc *u, const char *from, const char *to, bool exchange)
{
	pthread_mutex_lock(&u->files_lock);
	atomic_fetch_add(&u->moves, 1);
	for (struct dn_file *f = u->open_dirs; f; f = f->dnext) {
		if (f->gone)
			continue;
		const char *rest = below_prefix(f->path, from);
		if (rest)
			repath_locked(f, to, rest);
		else if (exchange && (rest = below_prefix(f->path, to)))
			repath_locked(f, from, rest);
	}
	pthread_mutex_unlock(&u->files_lock);
}

void union_dirs_removed(struct union_svc *u, const char *path)
{
	pthread_mutex_lock(&u->files_lock);
	atomic_fetch_add(&u->moves, 1);
	for (struct dn_file *f = u->open_dirs; f; f = f->dnext)
		if (!f->gone && strcmp(f->path, path) == 0)
			f->gone = true;
	pthread_mutex_unlock(&u->files_lock);
}
