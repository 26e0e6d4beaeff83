/* Union Libservice internals: layers, the merged walk, copy-up and whiteouts */
#pragma once

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "../protect.h"
#include "../svc.h"
#include "path.h"

/*
 * Layers are directories of the pool's backend in OCI image-layer form, as a
 * layer tar unpacks: a whiteout is an empty file ".wh.NAME" that hides NAME in
 * the layers below; a directory holding ".wh..wh..opq" hides all it has below.
 * The writable layer is written in the same form, so it is a layer itself.
 * Layer 0 is the writable one, then the read-only ones, top first.
 */
#define UN_LAYERS_MAX 128
/* an access ACL of up to 64 entries; a longer one is kept as unreadable (refuses) */
#define UN_ACL_MAX (4 + 8 * 64)
/* union and backend paths: as long as a pool takes (a relative path from a deep directory) */
#define UN_PATH_MAX DN_PATH_MAX
#define UN_WH ".wh."
#define UN_WH_LEN 4
#define UN_OPAQUE ".wh..wh..opq"
/* copy-up and mkdir build under a hidden name, then rename: never half-made */
#define UN_TMP ".wh..wh.tmp."
/*
 * The inode number a copied-up file had in its lower layer (decimal), kept
 * on the upper file as overlayfs keeps trusted.overlay.origin: stat then
 * says the same st_ino before and after the copy-up. A regular file's is a
 * user xattr (an unprivileged pool can write it); a symlink or special file
 * takes no user xattr, so its is trusted.* where the pool may write that.
 * Both are the union's own: never shown, set or removed through it.
 */
#define UN_ORIGIN "user.danaus.origin"
#define UN_ORIGIN_TRUSTED "trusted.danaus.origin"

struct un_mask {
	uint64_t w[UN_LAYERS_MAX / 64];
};

static inline bool un_mask_has(const struct un_mask *m, size_t l)
{
	return m->w[l / 64] >> (l % 64) & 1;
}

static inline void un_mask_set(struct un_mask *m, size_t l)
{
	m->w[l / 64] |= UINT64_C(1) << (l % 64);
}

struct union_svc {
	struct dn_svc base;
	struct dn_svc_ops ops; /* the union's, with the backend's cache_dies */
	struct dn_svc *below; /* the backend all layers are in */
	bool owns_below;      /* the pool's own union: destroys it too */
	size_t n;
	char **layer; /* backend paths, "/a/b" (never "/"); owned */
	/* the pool's own rights: layers' bookkeeping, reads the union allowed */
	struct dn_cred priv;
	struct dn_protect protect;
	pthread_mutex_t copy_lock; /* one copy-up at a time, so a file is copied once */
	atomic_ulong tmp_seq;
	struct un_dcache *dcache; /* merged directories (union-cache.c); NULL: none */
	_Atomic uint64_t gen;     /* bumped around every change */
	/* open lower regular files, which follow their copy-up (union-follow.c) */
	pthread_mutex_t files_lock;
	struct dn_file *lower_files; /* (a list through dn_file.next) */
	_Atomic uint64_t copies;     /* copy-ups of regular files so far (changed under files_lock) */
	struct dn_file *open_dirs;   /* open directories, their paths kept current (union-dirs.c) */
	_Atomic uint64_t moves;      /* renames and removals of directories so far (files_lock) */
	dev_t dev;                /* the instance's st_dev (union-ident.c) */
};

/* What a name is in the merged view. */
/* (a field added here goes into un_node_copy below too) */
struct un_node {
	char path[UN_PATH_MAX]; /* canonical union path: "/" or "/a/b", no symlinks */
	int layer;           /* the topmost layer that has it, -1: absent */
	struct stat st;      /* its lstat there */
	struct un_mask dirs; /* a directory: every layer whose copy it merges */
	bool whiteout_up;    /* absent by a whiteout in the writable layer (what replaces it there must hide what is below: opaque) */
	uint16_t acl_len;    /* its access ACL (system.posix_acl_access), 0: none */
	uint8_t acl[UN_ACL_MAX];
	bool below;          /* a lower layer has a copy (not hidden by a whiteout): always
			      * known for a merged directory, with UN_BELOW for the rest */
	struct dn_stat_more more; /* what its layer's stat told beyond st (birth time,
				   * attributes), as overlayfs answers them; mask 0: none */
};

/* n's more from the layer's stat that just filled n->st (before un_ident renumbers it) */
static inline void un_take_more(struct un_node *n)
{
	if (!dn_stat_more_get(&n->st, &n->more))
		n->more.mask = 0;
}

/*
 * *dst = *src, but only the path and ACL bytes in use: a node is ~5 KiB, a
 * walk copies one per component, and a short path is the rule.
 */
static inline void un_node_copy(struct un_node *dst, const struct un_node *src)
{
	if (dst == src)
		return;
	memcpy(dst->path, src->path, strlen(src->path) + 1);
	dst->layer = src->layer;
	dst->st = src->st;
	dst->dirs = src->dirs;
	dst->whiteout_up = src->whiteout_up;
	dst->acl_len = src->acl_len;
	memcpy(dst->acl, src->acl, src->acl_len);
	dst->below = src->below;
	dst->more = src->more;
}

/* a directory that merges lower layers' copies (not only its top one) */
static inline bool un_merged(const struct un_node *n)
{
	for (size_t i = 0; i < UN_LAYERS_MAX / 64; i++)
		if (n->dirs.w[i] & ~(i == (size_t)n->layer / 64 ? UINT64_C(1) << (n->layer % 64) : 0))
			return true;
	return false;
}

#define UN_FOLLOW 1 /* follow a symlink as the last component */
#define UN_BELOW 2  /* fill node.below (unlink, rmdir, rename need it) */
/*
 * The call acts on the name itself (unlink, rmdir, rename, link's new name,
 * the creates): a trailing slash does not follow a last symlink, and the
 * call, not the walk, says what a slash after a non-directory means.
 */
#define UN_NAME 4
/*
 * The caller reads of the last component only what a lower layer's file
 * never changes -- type, mode, owner, ACL, number (a change copies it up) --
 * and not its times or size: a cached lower file is not asked again (open
 * for reading, access).
 */
#define UN_PERM 8

struct un_walk {
	struct un_node parent; /* the directory holding the last component */
	struct un_node node;   /* the last component */
	const char *name;      /* its name within parent.path (points into node.path) */
	int dots;              /* the last component was "." (1) or ".." (2) */
	bool slash;            /* the path ended in "/" */
	bool reserved;         /* the name is a layer's own (".wh."): absent, never created */
};

/* The lookup cache: valid while the generation stays (a change bumps it before and after). */
struct un_dcache *un_dcache_new(void);
void un_dcache_free(struct un_dcache *c);
void un_changed(struct union_svc *u);
#define UN_MISS 0
#define UN_HIT 1      /* n is whole: a directory, or absent */
#define UN_HIT_STAT 2 /* n's layer is known; a file's st is to be asked again */
/* n (but its path) as path was last looked up with flags in this generation */
int un_dcache_get(struct union_svc *u, const char *path, int flags, struct un_node *n);
/* keeps n as looked up with flags in generation gen (read before the lookup began) */
void un_dcache_put(struct union_svc *u, const struct un_node *n, int flags, uint64_t gen);

/* layer l's backend path of union path p, into buf (UN_PATH_MAX): 0 or -ENAMETOOLONG */
int un_real(const struct union_svc *u, size_t l, const char *p, char *buf);

/*
 * Resolves path as the kernel would in the merged tree, with c's search
 * permission on each merged directory, symlinks read from the layer that has
 * them (40 at most: ELOOP). A missing last component is not an error: node
 * says absent (layer -1). 0 or -errno.
 */
int un_walk(struct union_svc *u, const struct dn_cred *c, const char *path, int flags,
	    struct un_walk *w);
/*
 * The same from directory dir (a canonical path; NULL: the root), as a call
 * relative to an open directory walks: no search permission is asked of
 * dir's ancestors, which the kernel does not look at either.
 */
int un_walk_in(struct union_svc *u, const struct dn_cred *c, const char *dir, const char *path,
	       int flags, struct un_walk *w);

/* The node of canonical path p (no permission checks). 0 (maybe absent) or -errno. */
int un_lookup(struct union_svc *u, const char *p, int flags, struct un_node *out);

/* The attributes the kernel's permission rules look at, as the merged view has them. */
struct dn_vfs_attr un_attr(const struct un_node *n);

/*
 * Identity (union-ident.c). st_dev is the instance's own for every name; a
 * directory merging lower copies has its top lower copy's st_ino, a file
 * copied up its lower one's (UN_ORIGIN), the rest their layer's own. n->st
 * as its layer has it onto the merged view's; lower_ino: the top lower
 * directory's inode number when n is a directory over lower ones.
 */
int un_ident_init(struct union_svc *u);
void un_ident(struct union_svc *u, struct un_node *n, ino_t lower_ino);
/* the origin xattr's name for a file of mode m, or NULL */
const char *un_origin_name(mode_t m);
/* name is an origin xattr (the union's own) */
bool un_origin_xattr(const char *name);
/*
 * the origin recorded on backend path real, a file of mode m of the writable
 * layer whose own number is self (the record names it too): 0 when none
 */
ino_t un_origin_get(struct union_svc *u, const char *real, mode_t m, uint64_t self);
/* records on backend path real (a fresh copy of lower st) where it came from */
void un_origin_set(struct union_svc *u, const char *real, const struct stat *lower);

/*
 * Regular file p (lower inode lower_ino) was copied up to backend path real:
 * its open lower files read the copy from now on. (union-follow.c)
 */
void union_files_copied(struct union_svc *u, const char *p, ino_t lower_ino, const char *real);

/* Makes n (a present node) exist in the writable layer, with its parents. 0 or -errno. */
int un_copy_up(struct union_svc *u, struct un_node *n);

/* Makes directory p exist in the writable layer (a copy of the merged one). */
int un_copy_up_dir(struct union_svc *u, const char *p);

/* An empty file of the pool's at backend path real (a marker): 0 also when it exists. */
int un_marker(struct union_svc *u, const char *real);

/*
 * Writes the whiteout of name in writable-layer directory dir (a union
 * path). With claim, one that exists already answers -EEXIST: another
 * caller removed the name first.
 */
int un_whiteout(struct union_svc *u, const char *dir, const char *name, bool claim);

/* Removes the whiteout of name in writable-layer directory dir, if there is one. */
int un_unwhiteout(struct union_svc *u, const char *dir, const char *name);

/* A fresh hidden name in union directory dir: dir/.wh..wh.tmp.N, into buf. */
int un_tmp_name(struct union_svc *u, const char *dir, char *buf);

/* c plus CAP_DAC_READ_SEARCH: the union made the read and search checks itself. */
struct dn_cred un_cred_below(const struct dn_cred *c);

/*
 * The layers of image ref (NAME:TAG) in the pool's image store, read through
 * below: backend paths, top first, into *layers (n of them, owned by the
 * caller). 0, or -errno with a message in err.
 */
int un_image_layers(struct dn_svc *below, const struct dn_cred *priv, const char *ref,
		    char ***layers, size_t *n, char *err, size_t errlen);

/*
 * The store's record that writable layer upper stacks on image ref (users/
 * in image-ref.h): danaus-image rm then refuses the image. 0 or -errno.
 */
int un_image_use(struct dn_svc *below, const struct dn_cred *priv, const char *ref,
		 const char *upper);
/* The record goes with the writable layer. */
void un_image_unuse(struct dn_svc *below, const struct dn_cred *priv, const char *upper);

/* A small file of the backend, whole: at most len - 1 bytes, NUL-terminated; or written anew. */
int un_small_read(struct dn_svc *b, const struct dn_cred *c, const char *path, char *buf,
		  size_t len);
int un_small_write(struct dn_svc *b, const struct dn_cred *c, const char *path, const char *text);

/* The merged entries of a directory, hidden names and whiteouts left out. */
struct un_dirents {
	size_t n;
	struct un_dirent {
		uint64_t ino;
		unsigned char type;
		bool upper; /* listed by the writable layer */
		char *name;
	} *e;
};

/* Reads every layer of directory n into a merged, sorted listing ("." and ".." first). */
int un_dirents_read(struct union_svc *u, const struct un_node *n, struct un_dirents *out);
void un_dirents_free(struct un_dirents *d);
/*
 * Each entry's d_ino made the st_ino that stat gives it, as overlayfs does
 * with all layers on one filesystem: ".", "..", and the writable layer's
 * names (a copy-up's origin, a merged directory's lower number). The lower
 * layers' own entries already say theirs.
 */
void un_dirents_inos(struct union_svc *u, const struct un_node *n, struct un_dirents *d);
/* Whether the merged directory has entries besides "." and "..": 0 empty, 1, or -errno. */
int un_dir_has_entries(struct union_svc *u, const struct un_node *n);
