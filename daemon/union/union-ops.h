/* Union Ops: what the union's calls share -- its open files, walks and change scopes */
#pragma once

#include <stdbool.h>
#include <stdlib.h>

#include "union.h"

/*
 * An open file of the union: the layer's own file, and where it is in the
 * merged tree. A regular file opened in a lower layer follows its copy-up
 * (union-follow.c): below and layer change once, under files_lock, while
 * other threads may be reading through the old below, which stays open
 * (first) until the file closes.
 */
struct dn_file {
	struct dn_file *first;         /* the backend's file it was opened on; owned */
	struct dn_file *_Atomic below; /* the one it reads: first, or its copy-up's; owned */
	char *path;                    /* canonical union path; owned */
	_Atomic int layer;
	int oflags;  /* as opened (a follow opens the copy so) */
	ino_t ino;   /* st_ino as the merged view says it; 0: below's own */
	bool follows;                /* a lower regular file: follows its copy-up */
	struct dn_file *next, *prev; /* in union_svc.lower_files (files_lock) */
	bool listed_lower;           /* (files_lock) */
	pthread_mutex_t lock;
	struct un_dirents ents; /* a directory's merged listing, made by readdir from 0 */
	bool listed;
	/* a directory: in union_svc.open_dirs, its path kept current (files_lock) */
	struct dn_file *dnext, *dprev;
	bool dir_listed;
	bool gone; /* removed since it was opened */
};

/* union-dirs.c: open directories follow renames and removals */
/* f, a directory just opened; moves: union_svc.moves before its walk */
void union_dirs_add(struct union_svc *u, struct dn_file *f, uint64_t moves);
void union_dirs_remove(struct union_svc *u, struct dn_file *f);
/* f's path now, into buf: 0, or -ENOENT when f was a directory removed since */
int union_file_path(struct union_svc *u, struct dn_file *f, char buf[UN_PATH_MAX]);
/* after from was renamed to (or exchanged with) to: the open directories there moved */
void union_dirs_moved(struct union_svc *u, const char *from, const char *to, bool exchange);
/* after directory path was removed: its open files are in no directory */
void union_dirs_removed(struct union_svc *u, const char *path);

/*
 * f, a regular file just opened in a lower layer (copies: union_svc.copies
 * before its walk), joins the files that follow a copy-up; or follows one
 * at once, if its file was copied up since the walk.
 */
void union_files_add(struct union_svc *u, struct dn_file *f, uint64_t copies);
/* f leaves them (when it closes) */
void union_files_remove(struct union_svc *u, struct dn_file *f);

/* f's backend file now */
static inline struct dn_file *file_below(struct dn_file *f)
{
	return atomic_load_explicit(&f->below, memory_order_acquire);
}

/* the layer of f's backend file now */
static inline int file_layer(struct dn_file *f)
{
	return atomic_load_explicit(&f->layer, memory_order_acquire);
}

static inline struct union_svc *to_union(struct dn_svc *s)
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

static inline struct change change_begin(struct union_svc *u, bool on)
{
	if (on)
		un_changed(u);
	return (struct change){u, on};
}

static inline void change_end(struct change *c)
{
	if (c->on)
		un_changed(c->u);
}

#define CHANGES(u)                                                                                 \
	struct change chg __attribute__((cleanup(change_end))) = change_begin(u, true);            \
	(void)chg /* (used by its cleanup only) */

/* A walk is two nodes of UN_PATH_MAX each: on the heap, not the worker's stack. */
static inline void walk_freep(struct un_walk **w)
{
	free(*w);
}
#define _cleanup_walk_ __attribute__((cleanup(walk_freep)))

/* walks (heap-allocated *out, the caller's with _cleanup_walk_): 0 or -errno */
int union_walk_to(struct union_svc *u, const struct dn_cred *c, const char *path, int flags,
		  struct un_walk **out);
/* ... a relative path from directory dir (a canonical path; NULL: path is from the root) */
int union_walk_in(struct union_svc *u, const struct dn_cred *c, const char *dir,
		  const char *path, int flags, struct un_walk **out);
/* ... to a name that exists (-ENOENT else) */
int union_walk_existing(struct union_svc *u, const struct dn_cred *c, const char *path,
			int flags, struct un_walk **out);
/* n's backend path in its layer */
int union_node_real(struct union_svc *u, const struct un_node *n, char *real);
/* w's directory in the writable layer; the new name's backend path into real */
int union_prepare_create(struct union_svc *u, struct un_walk *w, char *real);
/*
 * A new name w may be made by c: not a layer's own (EPERM), write and search
 * on its merged directory, which is then brought into the writable layer.
 */
int union_may_create(struct union_svc *u, const struct dn_cred *c, struct un_walk *w, char *real);
/* after a name was made where the writable layer whited it out: the whiteout goes */
void union_created(struct union_svc *u, struct un_walk *w);

/* union-names.c: calls that make, remove and move names */
int union_mkdir(struct dn_svc *s, const struct dn_cred *c, const char *path, mode_t mode);
int union_mknod(struct dn_svc *s, const struct dn_cred *c, const char *path, mode_t mode,
		dev_t dev);
int union_symlink(struct dn_svc *s, const struct dn_cred *c, const char *target,
		  const char *path);
int union_link(struct dn_svc *s, const struct dn_cred *c, const char *from, const char *to,
	       bool follow);
int union_link_file(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f, const char *to);
int union_unlink(struct dn_svc *s, const struct dn_cred *c, const char *path);
int union_rmdir(struct dn_svc *s, const struct dn_cred *c, const char *path);
int union_rename(struct dn_svc *s, const struct dn_cred *c, const char *from, const char *to,
		 unsigned flags);
/* the same of plain names in open directories (svc.h: stat_at...) */
int union_mkdir_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
		   const char *name, mode_t mode);
int union_unlink_at(struct dn_svc *s, struct dn_file *dir, const char *name, int flags);
int union_rename_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *from_dir,
		    const char *from, struct dn_file *to_dir, const char *to, unsigned flags);

/* union-attrs.c: calls that change or read attributes */
int union_truncate(struct dn_svc *s, const struct dn_cred *c, const char *path, off_t len);
int union_chmod(struct dn_svc *s, const struct dn_cred *c, const char *path, mode_t mode);
int union_fchmod(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f, mode_t mode);
int union_ioctl_set(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
		    unsigned int req, const void *arg);
int union_utimens(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f, const char *path,
		  bool nofollow, const struct timespec times[2]);
int union_chown(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f, const char *path,
		bool nofollow, uid_t uid, gid_t gid);
ssize_t union_getxattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
		       const char *path, bool nofollow, const char *name, void *buf, size_t len);
ssize_t union_listxattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			const char *path, bool nofollow, char *buf, size_t len);
int union_setxattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f, const char *path,
		   bool nofollow, const char *name, const void *value, size_t len, int flags);
int union_removexattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
		      const char *path, bool nofollow, const char *name);
