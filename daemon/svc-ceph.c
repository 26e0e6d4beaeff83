/* Ceph Libservice: a directory of a CephFS cluster through one shared libcephfs mount */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <cephfs/libcephfs.h>

#include "ceph-paths.h"
#include "cleanup.h"
#include "cred.h"
#include "fifos.h"
#include "log.h"
#include "map-owners.h"
#include "path.h"
#include "protect.h"
#include "no-symlinks.h"
#include "redirect.h"
#include "svc-ceph.h"
#include "svc.h"
#include "umask.h"
#include "vfs-perm.h"
#include "xattr-ns.h"

/*
 * Why the low-level (inode) API and not the path API:
 *
 * - Credentials. The path API runs every call with the mount's one default
 *   UserPerm, which ceph_mount_perms_set() may only change before mounting;
 *   the ll_* calls take a UserPerm per call, so each request is checked as
 *   the calling process (uid, gid, groups) on one shared mount and cache.
 * - Confinement. libcephfs resolves ".." at the mount root to the root's
 *   parent (Client::_lookup asks the MDS for LOOKUPPARENT), so a mount at
 *   [ceph] root does not by itself keep "..", or a symlink to "../..", inside
 *   the pool. We walk paths ourselves, one ceph_ll_lookup per component,
 *   clamping ".." at the root and restarting absolute symlink targets at it,
 *   as openat2(RESOLVE_IN_ROOT) does for the local backend.
 * - Cost, measured (scripts/bench-ceph prints the path-API stat and an
 *   ll_lookup walk of the same file side by side): in-process, with a named
 *   identity, a cached ceph_statx() one directory down takes ~0.6 us and
 *   the ll walk 0.7-0.9 us (a client-lock round per component instead of
 *   one per call). ceph_ll_walk takes one round but is not confined (above),
 *   so the walk stays ours; docs/performance.md says what that costs a stat. Create,
 *   unlink and data calls map one to one onto ll calls.
 */

#define WALK_DEPTH_MAX 256 /* directories deep a walk may go */

/*
 * The UserPerm of c. Workers serve one client after another, mostly the same
 * one, so each thread keeps the last one built (libcephfs keeps a pointer to
 * the group list: it lives beside it, as long as the UserPerm).
 */
const UserPerm *perm_of(const struct dn_cred *c)
{
	static _Thread_local struct {
		UserPerm *perm;
		struct dn_cred c;
	} cur;
	if (cur.perm && cur.c.uid == c->uid && cur.c.gid == c->gid &&
	    cur.c.ngroups == c->ngroups &&
	    memcmp(cur.c.groups, c->groups, c->ngroups * sizeof(gid_t)) == 0)
		return cur.perm;
	if (cur.perm)
		ceph_userperm_destroy(cur.perm);
	cur.c = *c;
	if (cur.c.ngroups > DN_GROUPS_MAX)
		cur.c.ngroups = DN_GROUPS_MAX;
	cur.perm = ceph_userperm_new(cur.c.uid, cur.c.gid, (int)cur.c.ngroups, cur.c.groups);
	return cur.perm;
}

/*
 * Device numbers as CephFS holds them: the Linux kernel's own encoding
 * (major << 20 | minor), which ceph.ko stores as is and ceph-fuse converts
 * to and from; glibc's dev_t is another.
 */
static uint64_t ceph_from_dev(dev_t dev)
{
	return (uint64_t)major(dev) << 20 | (minor(dev) & 0xfffff);
}

static dev_t dev_from_ceph(uint64_t rdev)
{
	return makedev((unsigned)(rdev >> 20), (unsigned)(rdev & 0xfffff));
}

/*
 * libcephfs's stx_dev is the snapshot id (CEPH_NOSNAP, -2, for the live
 * tree), not a device number: read signed, as CPython's os.stat reads it,
 * it is negative (test_posix's test_makedev). A device number of each
 * snapshot instead, under a major no device of this kernel has (its dev_t
 * holds 12 bits of major), as the union's instances have theirs.
 */
#define CEPH_DEV_MAJOR 0x1001u

static dev_t dev_of_snap(uint64_t snap)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (int i = 0; i < 8; i++)
		h = (h ^ ((snap >> (8 * i)) & 0xff)) * 1099511628211ull;
	/* a minor of 20 bits, as the kernel's: programs read it as an int (CPython's makedev) */
	return makedev(CEPH_DEV_MAJOR, (unsigned)(h ^ h >> 32) & 0xfffffu);
}

void stat_from_statx(const struct ceph_statx *x, struct stat *st)
{
	*st = (struct stat){
		.st_dev = dev_of_snap(x->stx_dev), .st_ino = x->stx_ino, .st_mode = x->stx_mode,
		.st_nlink = x->stx_nlink, .st_uid = x->stx_uid, .st_gid = x->stx_gid,
		.st_rdev = dev_from_ceph(x->stx_rdev), .st_size = (off_t)x->stx_size,
		.st_blksize = (blksize_t)x->stx_blksize, .st_blocks = (blkcnt_t)x->stx_blocks,
		.st_atim = x->stx_atime, .st_mtim = x->stx_mtime, .st_ctim = x->stx_ctime,
	};
}

static struct dn_vfs_attr vfs_attr(const struct ceph_statx *x)
{
	return (struct dn_vfs_attr){.mode = x->stx_mode, .uid = x->stx_uid, .gid = x->stx_gid};
}

/* The mode and owners of in, as the kernel's checks read them off its inode. */
static int vfs_attr_get(struct ceph_svc *cs, struct Inode *in, struct dn_vfs_attr *a)
{
	struct ceph_statx x;
	int r = ceph_ll_getattr(cs->cm, in, &x, CEPH_STATX_MODE | CEPH_STATX_UID | CEPH_STATX_GID,
				0, ceph_mount_perms(cs->cm));
	if (r == 0)
		*a = vfs_attr(&x);
	return r;
}

/*
 * May c search directory dir (look a name up in it)? libcephfs checks that
 * for the names it looks up, but not for "." and "..", which it answers
 * itself: the kernel asks it for every component, so "sub/.." needs search
 * permission on sub. As the kernel: the mode bits, or CAP_DAC_OVERRIDE or
 * CAP_DAC_READ_SEARCH.
 */
int may_search(struct ceph_svc *cs, const struct dn_cred *c, struct Inode *dir)
{
	if (dn_cred_capable(c, CAP_DAC_OVERRIDE) || dn_cred_capable(c, CAP_DAC_READ_SEARCH))
		return 0;
	struct dn_vfs_attr a;
	int r = vfs_attr_get(cs, dir, &a);
	return r < 0 ? r : dn_vfs_permission(c, &a, X_OK);
}

/*
 * fs.protected_symlinks, as the kernel's walk applies it (may_follow_link):
 * may c follow symlink link found in dir? Attributes asked for only when
 * a symlink is to be followed (dir's first: few directories are sticky).
 */
int may_follow(struct ceph_svc *cs, const struct dn_cred *c, const UserPerm *p,
		      struct Inode *dir, struct Inode *link)
{
	if (!cs->protect.symlinks)
		return 0;
	struct ceph_statx d, l;
	int r = ceph_ll_getattr(cs->cm, dir, &d, CEPH_STATX_MODE | CEPH_STATX_UID, 0, p);
	if (r < 0)
		return r;
	if ((d.stx_mode & (S_ISVTX | S_IWOTH)) != (S_ISVTX | S_IWOTH))
		return 0;
	if ((r = ceph_ll_getattr(cs->cm, link, &l, CEPH_STATX_UID, 0, p)) < 0)
		return r;
	return dn_protect_follow(&cs->protect, d.stx_mode, d.stx_uid, l.stx_uid, c->uid);
}

/*
 * A walk's directory stack: [0] is where it starts (not counted: the root,
 * or a directory of the path cache), the rest hold references; with a
 * canonical path asked for, end[i] is where the name of stack[i] ends in it.
 */
struct walk {
	struct ceph_svc *cs;
	struct Inode *stack[WALK_DEPTH_MAX];
	uint64_t ino[WALK_DEPTH_MAX];
	unsigned depth;
	char *canon; /* DN_PATH_MAX, or NULL */
	size_t end[WALK_DEPTH_MAX];
	/* started at a cached directory this many below the root: nothing above it is known */
	unsigned base_depth;
	bool cached_start;
	/* from the root: what it walks through goes to the path cache (canon is for that only) */
	bool to_cache, canon_for_cache;
	uint64_t generation;
};

/* A walk from a cached directory must go above it, or back to the root: walk from the root. */
#define WALK_AGAIN 1

static void walk_reset(struct walk *w)
{
	while (w->depth > 0)
		ceph_ll_put(w->cs->cm, w->stack[w->depth--]);
}

/* The walk's canonical path so far, into w->canon: the names of its stack. */
static int walk_push_name(struct walk *w, const char *name, size_t len)
{
	if (!w->canon)
		return 0;
	size_t at = w->end[w->depth - 1];
	if (at + 1 + len + 1 > DN_PATH_MAX) {
		if (!w->canon_for_cache)
			return -ENAMETOOLONG;
		w->canon = NULL; /* too long a key: not cached */
		w->to_cache = false;
		return 0;
	}
	w->canon[at] = '/';
	memcpy(w->canon + at + 1, name, len);
	w->end[w->depth] = at + 1 + len;
	return 0;
}

static void walk_canon_done(struct walk *w)
{
	if (!w->canon)
		return;
	size_t n = w->end[w->depth];
	if (n == 0)
		w->canon[n++] = '/';
	w->canon[n] = 0;
}

/*
 * Resolves path (absolute, "/" = the pool's top, as the caller wrote it) to
 * an inode with a reference in *out, its attributes in *stx, as the kernel
 * resolves a path: one component at a time, each looked up with c's
 * rights, "." and ".." too (search permission on the directory they are
 * in), ".." of a symlink's target after the symlink. follow: follow a
 * symlink in the last component; a trailing slash follows it and asks for
 * a directory (ENOTDIR). Nothing above the pool's top is reachable: ".."
 * stops there and absolute symlink targets start there. w->canon (DN_PATH_MAX,
 * or NULL) gets the path of what was found, ".", ".." and symlinks folded.
 * From a cached directory (w->cached_start, path then relative to it):
 * WALK_AGAIN where the walk would leave it upwards.
 */
static int walk_run(struct walk *w, const struct dn_cred *c, const char *path, bool follow,
		    struct Inode **out, struct ceph_statx *stx, unsigned want)
{
	struct ceph_svc *cs = w->cs;
	const UserPerm *p = perm_of(c);
	if (!p)
		return -ENOMEM;
	/* libcephfs lets uid 0 search anything: the kernel asks for capabilities */
	bool vfs = dn_vfs_root_without_caps(c);
	/* rest: what is left to resolve; symlink targets are spliced in front */
	char rest[DN_PATH_MAX + PATH_MAX], link[PATH_MAX];
	size_t n = strlen(path);
	if (n >= sizeof(rest))
		return -ENAMETOOLONG;
	memcpy(rest, path, n + 1);
	const char *at = rest;
	unsigned links = 0;
	bool have_stx = false;
	int r = 0;

	for (;;) {
		/* "name/": a directory is asked for, and a symlink followed to it */
		char name[NAME_MAX + 1];
		bool last, must_dir;
		if ((r = dn_path_next(&at, name, &last, &must_dir)) < 0)
			goto fail;
		if (r == 0)
			break;
		size_t len = strlen(name);
		bool dot = strcmp(name, ".") == 0, dotdot = strcmp(name, "..") == 0;
		if (dot || dotdot) {
			if ((r = may_search(cs, c, w->stack[w->depth])) < 0)
				goto fail;
			if (dotdot && w->depth > 0) {
				ceph_ll_put(cs->cm, w->stack[w->depth--]);
			} else if (dotdot && w->cached_start) {
				r = WALK_AGAIN;
				goto fail;
			}
			have_stx = false;
			continue;
		}
		struct Inode *child;
		struct ceph_statx x;
		if (vfs && (r = may_search(cs, c, w->stack[w->depth])) < 0)
			goto fail;
		r = ceph_ll_lookup(cs->cm, w->stack[w->depth], name, &child, &x,
				   last ? want : WANT_TYPE_ONLY, AT_SYMLINK_NOFOLLOW, p);
		if (r < 0)
			goto fail;
		if (S_ISLNK(x.stx_mode) && (must_dir || follow)) {
			if (++links > SYMLINKS_MAX || dn_walk_symlinks_refused()) {
				ceph_ll_put(cs->cm, child);
				r = -ELOOP;
				goto fail;
			}
			if ((r = may_follow(cs, c, p, w->stack[w->depth], child)) < 0) {
				ceph_ll_put(cs->cm, child);
				goto fail;
			}
			r = ceph_ll_readlink(cs->cm, child, link, sizeof(link) - 1, p);
			ceph_ll_put(cs->cm, child);
			if (r == 0)
				r = -ENOENT; /* as the kernel: an empty target names nothing */
			if (r < 0)
				goto fail;
			link[r] = 0;
			if (link[0] == '/' && dn_redirect_allowed()) {
				r = dn_redirect_to(link, at); /* the client follows it (redirect.h) */
				goto fail;
			}
			/* at is "" or "/...": the target takes the link's place, slashes and all */
			if ((r = dn_path_splice(rest, sizeof(rest), link, at)) < 0)
				goto fail;
			at = rest;
			if (link[0] == '/' && w->cached_start) {
				r = WALK_AGAIN;
				goto fail;
			}
			if (link[0] == '/')
				walk_reset(w);
			have_stx = false;
			continue;
		}
		if (must_dir && !S_ISDIR(x.stx_mode)) {
			ceph_ll_put(cs->cm, child);
			r = -ENOTDIR;
			goto fail;
		}
		if (w->base_depth + w->depth + 1 >= WALK_DEPTH_MAX) {
			ceph_ll_put(cs->cm, child);
			r = -ENAMETOOLONG;
			goto fail;
		}
		w->stack[++w->depth] = child;
		w->ino[w->depth] = x.stx_ino;
		if ((r = walk_push_name(w, name, len)) < 0)
			goto fail;
		if (last) {
			*stx = x;
			have_stx = true;
		}
	}
	walk_canon_done(w);
	struct Inode *in;
	if (w->depth == 0 && w->cached_start) {
		r = WALK_AGAIN; /* back where it started: a symlink to "." */
		goto fail;
	}
	if (w->depth == 0) {
		r = ceph_ll_lookup_root(cs->cm, &in);
		if (r < 0)
			return r;
		/* ceph_ll_lookup_root answers the mount's root: ours, [ceph] root */
		if (want == WANT_TYPE_ONLY && !have_stx) {
			/* a directory, known without asking the MDS for its attributes */
			stx->stx_mode = S_IFDIR;
			have_stx = true;
		}
	} else {
		in = w->stack[w->depth--];
	}
	if (w->to_cache && w->canon && w->depth > 0) {
		/* the directories it went through, references and all */
		dn_ceph_paths_add_walk(cs->paths, w->generation, w->canon, &w->end[1], &w->stack[1],
				       &w->ino[1], w->depth);
		w->depth = 0;
	}
	walk_reset(w);
	if (!have_stx) {
		r = ceph_ll_getattr(cs->cm, in, stx, want, 0, p);
		if (r < 0) {
			ceph_ll_put(cs->cm, in);
			return r;
		}
	}
	*out = in;
	return 0;
fail:
	walk_reset(w);
	return r;
}

/*
 * Would c's walk from the root get through dir, as libcephfs's lookups
 * check it (or may_search, for uid 0 without capabilities)? Asked of the
 * inode's attributes now, which libcephfs keeps coherent with its caps.
 */
static bool searchable(struct ceph_svc *cs, const struct dn_cred *c, bool vfs, struct Inode *dir)
{
	if (vfs)
		return may_search(cs, c, dir) == 0;
	struct dn_vfs_attr a;
	if (vfs_attr_get(cs, dir, &a) < 0)
		return false;
	/* libcephfs's Inode::check_mode: the mode bits, capabilities aside */
	mode_t bit = a.uid == c->uid ? S_IXUSR : dn_vfs_in_group(c, a.gid) ? S_IXGRP : S_IXOTH;
	return (a.mode & bit) != 0;
}

/* c may search every directory above cached d, from the root down to d's parent. */
static bool above_searchable(struct ceph_svc *cs, const struct dn_cred *c,
			     const struct dn_ceph_dir *d)
{
	bool vfs = dn_vfs_root_without_caps(c);
	if (c->uid == 0 && !vfs)
		return true; /* libcephfs lets uid 0 search anything */
	if (!searchable(cs, c, vfs, cs->root))
		return false;
	for (const struct dn_ceph_dir *q = dn_ceph_dir_parent(d); q; q = dn_ceph_dir_parent(q))
		if (!searchable(cs, c, vfs, dn_ceph_dir_inode(q)))
			return false;
	return true;
}

/*
 * walk_run from the deepest directory of path the cache holds, once the
 * caller may search all above it; else (and when that walk must leave it
 * upwards) from the root, whose directories then go to the cache. Either
 * way each component left is looked up as the caller. Any error of the
 * cached walk is the one the walk from the root meets at the same step.
 */
static int walk_path_want(struct ceph_svc *cs, const struct dn_cred *c, const char *path,
			  bool follow, struct Inode **out, struct ceph_statx *stx, unsigned want,
			  char *canon)
{
	struct walk w = {.cs = cs, .stack = {cs->root}, .canon = canon};
	if (!cs->paths)
		return walk_run(&w, c, path, follow, out, stx, want);
	const char *rest;
	unsigned depth;
	struct dn_ceph_dir *d = canon ? NULL : dn_ceph_paths_find(cs->paths, path, &rest, &depth);
	if (d) {
		int r = WALK_AGAIN;
		if (above_searchable(cs, c, d)) {
			struct walk wc = {.cs = cs, .stack = {dn_ceph_dir_inode(d)},
					  .base_depth = depth, .cached_start = true};
			r = walk_run(&wc, c, rest, follow, out, stx, want);
		}
		dn_ceph_paths_release(cs->paths, d);
		if (r != WALK_AGAIN)
			return r;
	}
	char key[DN_PATH_MAX];
	w.to_cache = true;
	w.generation = dn_ceph_paths_generation(cs->paths);
	if (!canon) {
		w.canon = key;
		w.canon_for_cache = true;
	}
	return walk_run(&w, c, path, follow, out, stx, want);
}

static int walk_path(struct ceph_svc *cs, const struct dn_cred *c, const char *path, bool follow,
		     struct Inode **out, struct ceph_statx *stx)
{
	return walk_path_want(cs, c, path, follow, out, stx, STATX_WANT, NULL);
}

static void parent_release(struct parent *pa)
{
	if (pa->dir)
		ceph_ll_put(pa->cs->cm, pa->dir);
	pa->dir = NULL;
}

#define _cleanup_parent_ _cleanup_(parent_release)

/*
 * Resolves, as c, the directory holding path's last component. For a last
 * component of "." or "..", which the kernel looks up in that directory
 * before it refuses to add or remove it, c must may search it; for none
 * at all (the pool's top), pa->type is DN_LAST_ROOT and pa->dir the top.
 */
static int parent_walk(struct parent *pa, const struct dn_cred *c, const char *path)
{
	pa->c = c;
	pa->p = perm_of(c);
	struct dn_path_last l;
	dn_path_last(path, &l);
	pa->type = l.type;
	pa->slash = l.slash;
	if (l.name_len > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(pa->name, l.name, l.name_len);
	pa->name[l.name_len] = 0;
	pa->base = pa->name;
	char d[DN_PATH_MAX];
	if (l.dir_len + 2 > sizeof(d))
		return -ENAMETOOLONG;
	memcpy(d, path, l.dir_len);
	if (l.dir_len == 0)
		d[l.dir_len++] = '/';
	d[l.dir_len] = 0;
	struct ceph_statx x;
	/* only the type: attributes of a directory being changed cost an MDS round trip */
	int r = walk_path_want(pa->cs, c, d, true, &pa->dir, &x, WANT_TYPE_ONLY, pa->canon);
	if (r == -DN_EREDIRECT) {
		/* the directory's walk met an absolute link: the name goes after it */
		int e = dn_redirect_append("/");
		if (e == 0)
			e = dn_redirect_append(l.name);
		return e < 0 ? e : r;
	}
	if (r < 0)
		return r;
	if (!S_ISDIR(x.stx_mode)) {
		parent_release(pa);
		return -ENOTDIR;
	}
	if ((pa->type == DN_LAST_DOT || pa->type == DN_LAST_DOTDOT) &&
	    (r = may_search(pa->cs, c, pa->dir)) < 0)
		return r;
	return 0;
}

/* The type and inode number of name in dir (not followed), or -errno. */
static int lookup_type_ino(struct ceph_svc *cs, struct Inode *dir, const char *name,
			   const UserPerm *p, mode_t *type, uint64_t *ino)
{
	struct Inode *in;
	struct ceph_statx x;
	int r = ceph_ll_lookup(cs->cm, dir, name, &in, &x, WANT_TYPE_ONLY | CEPH_STATX_INO,
			       AT_SYMLINK_NOFOLLOW, p);
	if (r < 0)
		return r;
	ceph_ll_put(cs->cm, in);
	*type = x.stx_mode & S_IFMT;
	*ino = x.stx_ino;
	return 0;
}

/* The type of name in dir (not followed), or -errno. */
static int lookup_type(struct ceph_svc *cs, struct Inode *dir, const char *name,
		       const UserPerm *p, mode_t *type)
{
	uint64_t ino;
	return lookup_type_ino(cs, dir, name, p, type, &ino);
}

/*
 * A name that a create with a trailing slash asks for ("new/": only mkdir
 * may): EEXIST when it exists, else ENOENT, as the kernel's filename_create.
 */
static int create_slash(struct parent *pa)
{
	mode_t type;
	int r = lookup_type(pa->cs, pa->dir, pa->base, pa->p, &type);
	return r == 0 ? -EEXIST : r;
}

/*
 * Whether the kernel would stop at pa's directory before it looks the
 * name up (no search permission), where libcephfs lets uid 0 go on.
 */
static bool search_denied(struct parent *pa)
{
	return dn_vfs_root_without_caps(pa->c) && may_search(pa->cs, pa->c, pa->dir) < 0;
}

/*
 * A create's answer r, in the kernel's order: libcephfs checks write
 * permission on the directory (and, for link, the source) before it looks
 * the name up, the kernel after, so an existing name is EEXIST however the
 * directory may be written; for open(O_CREAT) without O_EXCL, a file to
 * open.
 */
static int create_result(struct parent *pa, int r)
{
	if (r != -EACCES && r != -EPERM)
		return r;
	if (search_denied(pa))
		return -EACCES;
	mode_t type;
	return lookup_type(pa->cs, pa->dir, pa->base, pa->p, &type) == 0 ? -EEXIST : r;
}

/*
 * A removal's answer r, in the kernel's order: libcephfs checks write
 * permission on the directory before it looks the name up, the kernel
 * after, so a name that is not there is ENOENT however the directory may
 * be written.
 */
int remove_result(struct parent *pa, int r)
{
	if (r != -EACCES && r != -EPERM)
		return r;
	if (search_denied(pa))
		return -EACCES;
	mode_t type;
	return lookup_type(pa->cs, pa->dir, pa->base, pa->p, &type) == -ENOENT ? -ENOENT : r;
}

/*
 * The kernel's answer to creating pa's name where it is ".", ".." or the
 * top (EEXIST), or has a trailing slash (see create_slash, unless slash_ok:
 * mkdir); 0: go on.
 */
static int create_check(struct parent *pa, bool slash_ok)
{
	if (pa->type != DN_LAST_NORM)
		return -EEXIST;
	if (pa->slash && !slash_ok)
		return create_slash(pa);
	return 0;
}

/*
 * may_create, for a caller libcephfs does not check (uid 0 without
 * capabilities; others it checks itself): write and search on the
 * directory. mode, when given, loses set-group-ID as the kernel's
 * mode_strip_sgid takes it (libcephfs keeps it for uid 0).
 */
static int vfs_may_create(struct parent *pa, mode_t *mode)
{
	if (!dn_vfs_root_without_caps(pa->c))
		return 0;
	struct dn_vfs_attr d;
	int r = vfs_attr_get(pa->cs, pa->dir, &d);
	if (r < 0 || (r = dn_vfs_permission(pa->c, &d, W_OK | X_OK)) < 0)
		return r;
	if (mode)
		*mode = dn_vfs_create_mode(pa->c, *mode, (d.mode & S_ISGID) ? d.gid : pa->c->gid);
	return 0;
}

/*
 * may_delete, for a caller libcephfs does not check: the name is there
 * (ENOENT), the directory may be written and searched (EACCES), its sticky
 * bit (EPERM), then the name's type against what the call removes (isdir).
 */
int vfs_may_delete(struct parent *pa, bool isdir)
{
	if (!dn_vfs_root_without_caps(pa->c))
		return 0;
	struct Inode *in;
	struct ceph_statx x;
	int r = ceph_ll_lookup(pa->cs->cm, pa->dir, pa->base, &in, &x,
			       CEPH_STATX_MODE | CEPH_STATX_UID, AT_SYMLINK_NOFOLLOW, pa->p);
	if (r < 0)
		return r;
	ceph_ll_put(pa->cs->cm, in);
	struct dn_vfs_attr d;
	if ((r = vfs_attr_get(pa->cs, pa->dir, &d)) < 0 ||
	    (r = dn_vfs_may_delete(pa->c, &d, x.stx_uid)) < 0)
		return r;
	if (isdir && !S_ISDIR(x.stx_mode))
		return -ENOTDIR;
	if (!isdir && S_ISDIR(x.stx_mode))
		return -EISDIR;
	return 0;
}

/*
 * The set-id bits the kernel clears when c changes a file's data or owner
 * (setattr_should_drop_suidgid): set-user-ID always, set-group-ID when
 * group-executable or c is not in the file's group; for data changes, never
 * for a caller with CAP_FSETID. libcephfs clears neither, so the pool does.
 */
static mode_t set_id_to_clear(const struct dn_cred *c, mode_t mode, gid_t gid, bool owner_change)
{
	if (!S_ISREG(mode) && !(owner_change && !S_ISDIR(mode)))
		return 0;
	bool fsetid = dn_cred_capable(c, CAP_FSETID);
	if (!owner_change && fsetid)
		return 0;
	mode_t clear = mode & S_ISUID;
	if ((mode & S_ISGID) && ((mode & S_IXGRP) || (!dn_vfs_in_group(c, gid) && !fsetid)))
		clear |= S_ISGID;
	return clear;
}

/*
 * The kernel's killpriv: a file's capabilities (security.capability) go
 * when its data or owner changes, whoever changes it, so that what they
 * were granted to is never what runs with them. libcephfs keeps them.
 */
static int kill_priv(struct ceph_svc *cs, struct Inode *in)
{
	const UserPerm *pool = ceph_mount_perms(cs->cm);
	int r = ceph_ll_getxattr(cs->cm, in, "security.capability", NULL, 0, pool);
	if (r == -ENODATA)
		return 0;
	if (r < 0)
		return r;
	r = ceph_ll_removexattr(cs->cm, in, "security.capability", pool);
	return r == -ENODATA ? 0 : r;
}

/*
 * Before a write, truncate or fallocate by c: the file's capabilities go
 * (kill_priv), and what set_id_to_clear says, as the kernel would.
 */
static int clear_set_id_for_write(struct ceph_svc *cs, struct Inode *in, const struct dn_cred *c)
{
	int k = kill_priv(cs, in);
	if (k < 0)
		return k;
	if (dn_cred_capable(c, CAP_FSETID))
		return 0;
	/* The cached attributes, as the kernel's own check uses its inode's. */
	struct ceph_statx x;
	int r = ceph_ll_getattr(cs->cm, in, &x, CEPH_STATX_MODE | CEPH_STATX_GID, AT_STATX_DONT_SYNC,
				ceph_mount_perms(cs->cm));
	if (r < 0)
		return r;
	mode_t clear = set_id_to_clear(c, x.stx_mode, x.stx_gid, false);
	if (!clear)
		return 0;
	struct ceph_statx want = {.stx_mode = (uint16_t)(x.stx_mode & 07777 & ~clear)};
	/* as the kernel's ATTR_FORCE: the writer need not own the file */
	return ceph_ll_setattr(cs->cm, in, &want, CEPH_SETATTR_MODE, ceph_mount_perms(cs->cm));
}

/* fs.protected_regular and _fifos, as open(2) applies them to an existing name with O_CREAT */
static int may_open_in_sticky(struct ceph_svc *cs, const struct dn_cred *c, const UserPerm *p,
			      struct Inode *dir, struct Inode *in, mode_t mode)
{
	struct ceph_statx d, x;
	int r = ceph_ll_getattr(cs->cm, dir, &d, CEPH_STATX_MODE | CEPH_STATX_UID, 0, p);
	if (r < 0 || !(d.stx_mode & S_ISVTX))
		return r < 0 ? r : 0;
	if ((r = ceph_ll_getattr(cs->cm, in, &x, CEPH_STATX_UID, 0, p)) < 0)
		return r;
	return dn_protect_create(&cs->protect, d.stx_mode, d.stx_uid, mode, x.stx_uid, c->uid);
}

/* canon (a directory's canonical path, DN_PATH_MAX) + "/" + name */
static int canon_join(char *canon, const char *name)
{
	int r = dn_path_concat(canon, name, canon, DN_PATH_MAX);
	return r < 0 ? r : 0;
}

/*
 * The mode to create with: libcephfs applies no umask of its own, so the
 * caller's goes here (umask.h); with POSIX ACLs on, libcephfs asks for it
 * (umask_of) only where no default ACL applies, as the kernel does.
 */
static mode_t create_mode(struct ceph_svc *cs, mode_t mode)
{
	return cs->acl_umask ? mode : mode & ~dn_umask_caller();
}

void file_free(struct ceph_svc *cs, struct dn_file *f)
{
	if (!f)
		return;
	if (f->map_ino)
		dn_map_owners_release(cs->map_owners, f->map_ino, f);
	if (f->fh)
		ceph_ll_close(cs->cm, f->fh);
	if (f->dir)
		ceph_ll_releasedir(cs->cm, f->dir);
	if (f->in)
		ceph_ll_put(cs->cm, f->in);
	if (f->perm)
		ceph_userperm_destroy(f->perm);
	free(f->path);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/*
 * Opening a FIFO, device or socket, as a kernel mount of CephFS would
 * answer it without blocking a worker: a FIFO's stand-in for the client to
 * open (fifos.h); a socket ENXIO; a device EACCES, as on a nodev mount --
 * a tenant's device node in the cluster never opens a device of the host.
 */
static int open_special(struct ceph_svc *cs, const UserPerm *p, struct Inode *in, mode_t type,
			int *handover)
{
	if (S_ISSOCK(type))
		return -ENXIO;
	if (!S_ISFIFO(type))
		return -EACCES;
	struct ceph_statx x;
	int r = ceph_ll_getattr(cs->cm, in, &x, CEPH_STATX_MODE | CEPH_STATX_UID | CEPH_STATX_GID |
				CEPH_STATX_INO, 0, p);
	if (r < 0)
		return r;
	r = dn_fifos_get(cs->fifos, x.stx_ino, x.stx_uid, x.stx_gid, x.stx_mode);
	if (r < 0)
		return r;
	*handover = r;
	return DN_SVC_HANDOVER;
}

/*
 * may_open on an existing file, where libcephfs differs: the access asked
 * for (uid 0 without capabilities), and O_NOATIME only for the file's
 * owner or CAP_FOWNER (libcephfs ignores the flag).
 */
static int vfs_may_open(struct ceph_svc *cs, const struct dn_cred *c, struct Inode *in,
			int oflags)
{
	bool vfs = dn_vfs_root_without_caps(c);
	if (!vfs && !(oflags & O_NOATIME))
		return 0;
	struct dn_vfs_attr a;
	int r = vfs_attr_get(cs, in, &a);
	if (r < 0)
		return r;
	int acc = (oflags & O_ACCMODE) == O_RDONLY ? R_OK
		  : (oflags & O_ACCMODE) == O_WRONLY ? W_OK : R_OK | W_OK;
	if ((oflags & O_TRUNC) && S_ISREG(a.mode))
		acc |= W_OK;
	if (vfs && (r = dn_vfs_permission(c, &a, acc)) < 0)
		return r;
	return (oflags & O_NOATIME) && !dn_vfs_owner_or_capable(c, a.uid) ? -EPERM : 0;
}

struct dn_file *open_file_new(const struct dn_cred *c, int oflags)
{
	struct dn_file *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	pthread_mutex_init(&f->lock, NULL);
	f->oflags = oflags;
	f->flock_held = F_UNLCK;
	uint32_t ng = c->ngroups > DN_GROUPS_MAX ? DN_GROUPS_MAX : c->ngroups;
	memcpy(f->groups, c->groups, ng * sizeof(gid_t));
	f->perm = ceph_userperm_new(c->uid, c->gid, (int)ng, f->groups);
	if (!f->perm) {
		pthread_mutex_destroy(&f->lock);
		free(f);
		return NULL;
	}
	return f;
}

/* The flags libcephfs opens with: appending is asked per write (F_SETFL may change it). */
static int ll_flags(int oflags)
{
	return oflags & ~(O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_DIRECTORY | O_PATH |
			  O_NONBLOCK | O_NOATIME | O_LARGEFILE | O_DIRECT);
}

int open_create(struct parent *pa, struct dn_file *f, int oflags, mode_t mode,
		struct ceph_statx *x)
{
	struct ceph_svc *cs = pa->cs;
	int r;
	/*
	 * Create first, exclusively: ceph_ll_create looks the name up
	 * itself, so an existence check of ours before it would only
	 * add a lookup to every create. A name that exists (EEXIST
	 * without O_EXCL) is then looked up, from the cache just
	 * filled, and opened as open(2) would: a symlink followed, a
	 * directory refused, the mode ignored. Removed in between:
	 * create again.
	 */
	for (int tries = 0;; tries++) {
		mode_t m = S_IFREG | (create_mode(cs, mode) & 07777);
		r = vfs_may_create(pa, &m);
		if (r == 0)
			r = ceph_ll_create(cs->cm, pa->dir, pa->base, m & 07777,
					   ll_flags(oflags) | O_CREAT | O_EXCL, &f->in, &f->fh, x,
					   STATX_WANT, 0, pa->p);
		r = create_result(pa, r);
		if (r != -EEXIST || (oflags & O_EXCL))
			break;
		r = ceph_ll_lookup(cs->cm, pa->dir, pa->base, &f->in, x, WANT_TYPE_ONLY,
				   AT_SYMLINK_NOFOLLOW, pa->p);
		if (r != -ENOENT || tries == 3)
			break;
	}
	/* as open(2) of an existing name with O_CREAT: fs.protected_regular, _fifos */
	if (r == 0 && !f->fh && !S_ISLNK(x->stx_mode) && !S_ISDIR(x->stx_mode))
		r = may_open_in_sticky(cs, pa->c, pa->p, pa->dir, f->in, x->stx_mode);
	return r;
}

int open_found(struct ceph_svc *cs, const struct dn_cred *c, struct dn_file *f,
	       const struct ceph_statx *x, int oflags, int *handover)
{
	const UserPerm *p = perm_of(c);
	if (!p)
		return -ENOMEM;
	int r;
	f->is_dir = S_ISDIR(x->stx_mode);
	if (oflags & O_PATH)
		return (oflags & O_DIRECTORY) && !S_ISDIR(x->stx_mode) ? -ENOTDIR : 0;
	if (S_ISLNK(x->stx_mode))
		return -ELOOP;
	if (S_ISDIR(x->stx_mode)) {
		if ((oflags & O_ACCMODE) != O_RDONLY || (oflags & O_CREAT))
			return -EISDIR;
		if ((r = vfs_may_open(cs, c, f->in, oflags)) < 0)
			return r;
		return ceph_ll_opendir(cs->cm, f->in, &f->dir, p);
	}
	if (oflags & O_DIRECTORY)
		return -ENOTDIR;
	if ((r = vfs_may_open(cs, c, f->in, oflags)) < 0)
		return r;
	if (!S_ISREG(x->stx_mode))
		return open_special(cs, p, f->in, x->stx_mode & S_IFMT, handover);
	return ceph_ll_open(cs->cm, f->in, ll_flags(oflags), &f->fh, p);
}

/*
 * open(2) with O_CREAT found symlink f->in as pa's name, which it follows as
 * the kernel's walk does (fs.protected_symlinks, ELOOP where a libservice
 * above refuses symlinks): the path of the name it leads to, into next
 * (DN_PATH_MAX; it may be path). A relative target goes on in the link's
 * directory as path named it (its ".." leave it as the walk's do); an
 * absolute one from the top, or from the client's root where it follows it
 * (-DN_EREDIRECT). Puts f->in.
 */
static int create_follow(struct parent *pa, struct dn_file *f, const char *path, char *next)
{
	struct ceph_svc *cs = pa->cs;
	char t[PATH_MAX];
	int r = dn_walk_symlinks_refused() ? -ELOOP : may_follow(cs, pa->c, pa->p, pa->dir, f->in);
	if (r == 0)
		r = ceph_ll_readlink(cs->cm, f->in, t, sizeof(t) - 1, pa->p);
	ceph_ll_put(cs->cm, f->in);
	f->in = NULL;
	if (r == 0)
		return -ENOENT; /* as the kernel: an empty target names nothing */
	if (r < 0)
		return r;
	t[r] = 0;
	if (t[0] == '/' && dn_redirect_allowed())
		return dn_redirect_to(t, "");
	struct dn_path_last l;
	dn_path_last(path, &l);
	size_t at = t[0] == '/' ? 0 : l.dir_len; /* path[0, dir_len) ends with its '/' */
	if (at + (size_t)r + 1 > DN_PATH_MAX)
		return -ENAMETOOLONG;
	if (next != path)
		memcpy(next, path, at);
	memcpy(next + at, t, (size_t)r + 1);
	return 0;
}

static int ceph_svc_open(struct dn_svc *s, const struct dn_cred *c, const char *path, int oflags,
			 mode_t mode, struct dn_file **out, int *handover)
{
	struct ceph_svc *cs = to_ceph(s);
	if (oflags & ~OPEN_FLAGS_ALLOWED)
		return -EINVAL;
	if ((oflags & O_TMPFILE) == O_TMPFILE)
		return -EOPNOTSUPP;
	struct dn_file *f = open_file_new(c, oflags);
	if (!f)
		return -ENOMEM;
	struct ceph_statx x;
	int r;

	/* a path with "." or ".." is known afterwards by what it resolved to (fpath) */
	char canon_buf[DN_PATH_MAX];
	char *canon = dn_path_oddities(path) & (DN_PATH_DOT | DN_PATH_DOTDOT) ? canon_buf : NULL;

	/* a symlink that O_CREAT finds leads to the name to create: next holds it */
	char next[DN_PATH_MAX];
	for (unsigned links = 0; oflags & O_CREAT; links++) {
		_cleanup_parent_ struct parent pa = {.cs = cs, .canon = canon};
		r = parent_walk(&pa, c, path);
		if (r < 0)
			goto fail;
		/* as open(2): ".", ".." and the top are there (EEXIST) and directories */
		if (pa.type != DN_LAST_NORM) {
			r = (oflags & O_EXCL) ? -EEXIST : -EISDIR;
			goto fail;
		}
		/* "name/": never a file to create, once the directory may be searched */
		if (pa.slash) {
			r = may_search(cs, c, pa.dir);
			r = r < 0 ? r : -EISDIR;
			goto fail;
		}
		if (canon && (r = canon_join(canon, pa.base)) < 0)
			goto fail;
		r = open_create(&pa, f, oflags, mode, &x);
		if (r < 0)
			goto fail;
		if (f->fh) /* created */
			goto done;
		if (!S_ISLNK(x.stx_mode))
			goto opened;
		/* an existing symlink (not with O_EXCL: EEXIST): what it names is opened or created */
		if (oflags & O_NOFOLLOW || links == SYMLINKS_MAX) {
			r = -ELOOP; /* as Linux */
			goto fail;
		}
		if ((r = create_follow(&pa, f, path, next)) < 0)
			goto fail;
		path = next;
	}
	/* the type is all open needs: see WANT_TYPE_ONLY */
	r = walk_path_want(cs, c, path, !(oflags & O_NOFOLLOW), &f->in, &x, WANT_TYPE_ONLY, canon);
	if (r < 0)
		goto fail;
opened:
	r = open_found(cs, c, f, &x, oflags, handover);
	if (r != 0) {
		file_free(cs, f);
		return r; /* (DN_SVC_HANDOVER too: the client opens it) */
	}
done:
	if (canon && !(f->path = strdup(canon))) {
		r = -ENOMEM;
		goto fail;
	}
	*out = f;
	return 0;
fail:
	file_free(cs, f);
	return r;
}

static void ceph_svc_close(struct dn_svc *s, struct dn_file *f)
{
	file_free(to_ceph(s), f);
}

static int ceph_svc_fpath(struct dn_svc *s, struct dn_file *f, char *buf, size_t len)
{
	if (!f->path)
		return -ENOENT;
	size_t n = strlen(f->path);
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(buf, f->path, n + 1);
	return 0;
}

/*
 * No kernel file to map: the client maps a copy (-ENODEV). A writable one
 * only through one open file of a file at a time (map-owners.h): SQLite's
 * second WAL process gets an error instead of silently lost rows.
 */
static int ceph_svc_mapfd(struct dn_svc *s, struct dn_file *f, bool writable)
{
	struct ceph_svc *cs = to_ceph(s);
	if (!writable || f->map_ino)
		return -ENODEV;
	struct ceph_statx x;
	int r = ceph_ll_getattr(cs->cm, f->in, &x, CEPH_STATX_INO, 0, ceph_mount_perms(cs->cm));
	if (r < 0)
		return r;
	if ((r = dn_map_owners_claim(cs->map_owners, x.stx_ino, f)) < 0)
		return r;
	f->map_ino = x.stx_ino;
	return -ENODEV;
}

static ssize_t ceph_svc_pread(struct dn_svc *s, struct dn_file *f, void *buf, size_t len,
			      off_t off)
{
	if (f->dir)
		return -EISDIR;
	if (!f->fh)
		return -EBADF;
	if (len > INT_MAX)
		len = INT_MAX & ~4095;
	return ceph_ll_read(to_ceph(s)->cm, f->fh, off, len, buf);
}

static ssize_t ceph_svc_pwrite(struct dn_svc *s, struct dn_file *f, const void *buf, size_t len,
			       off_t off, uint64_t *end)
{
	struct ceph_svc *cs = to_ceph(s);
	if (!f->fh || (f->oflags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if (len > INT_MAX)
		len = INT_MAX & ~4095;
	/* as write(2) of nothing: nothing (libcephfs asserts on an empty write) */
	if (len == 0) {
		*end = off < 0 ? 0 : (uint64_t)off;
		return 0;
	}
	int n = clear_set_id_for_write(cs, f->in, dn_cred_current());
	if (n < 0)
		return n;
	if (off < 0) {
		/* SEEK_END asks the MDS for the size unless our caps make it current. */
		pthread_mutex_lock(&cs->append_lock);
		off_t pos = ceph_ll_lseek(cs->cm, f->fh, 0, SEEK_END);
		n = pos < 0 ? (int)pos : ceph_ll_write(cs->cm, f->fh, pos, len, buf);
		pthread_mutex_unlock(&cs->append_lock);
		if (n < 0)
			return n;
		off = pos;
	} else {
		n = ceph_ll_write(cs->cm, f->fh, off, len, buf);
		if (n < 0)
			return n;
	}
	*end = (uint64_t)off + (uint64_t)n;
	return n;
}

static int ceph_svc_fstat(struct dn_svc *s, struct dn_file *f, struct stat *st)
{
	struct ceph_statx x;
	int r = ceph_ll_getattr(to_ceph(s)->cm, f->in, &x, STATX_WANT, 0, f->perm);
	if (r == 0)
		stat_from_statx(&x, st);
	return r;
}

static int ceph_svc_stat(struct dn_svc *s, const struct dn_cred *c, const char *path,
			 bool nofollow, struct stat *st)
{
	struct ceph_svc *cs = to_ceph(s);
	struct Inode *in;
	struct ceph_statx x;
	int r = walk_path(cs, c, path, !nofollow, &in, &x);
	if (r < 0)
		return r;
	ceph_ll_put(cs->cm, in);
	stat_from_statx(&x, st);
	return 0;
}

/*
 * access(2), from the mode bits and capabilities as the kernel's
 * generic_permission (CephFS POSIX ACLs are off by default); c is the
 * identity the call asks about (real or effective, dispatch.c).
 */
static int check_access(const struct dn_cred *c, const struct ceph_statx *x, int mode)
{
	struct dn_vfs_attr a = vfs_attr(x);
	return mode == F_OK ? 0 : dn_vfs_permission(c, &a, mode);
}

static int ceph_svc_access(struct dn_svc *s, const struct dn_cred *c, const char *path, int mode,
			   bool nofollow)
{
	struct ceph_svc *cs = to_ceph(s);
	struct Inode *in;
	struct ceph_statx x;
	int r = walk_path(cs, c, path, !nofollow, &in, &x);
	if (r < 0)
		return r;
	ceph_ll_put(cs->cm, in);
	return check_access(c, &x, mode);
}

/* mkdir of pa's name, a plain one, in its directory */
int mkdir_in(struct parent *pa, mode_t mode)
{
	struct Inode *in;
	struct ceph_statx x;
	/* as vfs_mkdir: no set-id bits asked for (set-group-ID comes from the parent) */
	int r = vfs_may_create(pa, NULL);
	if (r == 0)
		r = ceph_ll_mkdir(pa->cs->cm, pa->dir, pa->base,
				  create_mode(pa->cs, mode) & (ACCESSPERMS | S_ISVTX), &in, &x, 0, 0,
				  pa->p);
	r = create_result(pa, r);
	if (r == 0)
		ceph_ll_put(pa->cs->cm, in);
	return r;
}

static int ceph_svc_mkdir(struct dn_svc *s, const struct dn_cred *c, const char *path,
			  mode_t mode)
{
	_cleanup_parent_ struct parent pa = {.cs = to_ceph(s)};
	int r = parent_walk(&pa, c, path);
	if (r < 0 || (r = create_check(&pa, true)) < 0)
		return r;
	return mkdir_in(&pa, mode);
}

static int ceph_svc_mknod(struct dn_svc *s, const struct dn_cred *c, const char *path,
			  mode_t mode, dev_t dev)
{
	_cleanup_parent_ struct parent pa = {.cs = to_ceph(s)};
	int r = parent_walk(&pa, c, path);
	if (r < 0 || (r = create_check(&pa, false)) < 0)
		return r;
	struct Inode *in;
	struct ceph_statx x;
	if ((S_ISCHR(mode) || S_ISBLK(mode)) && !dn_cred_capable(c, CAP_MKNOD)) {
		/* as mknod(2): a free name, write permission on the directory, then CAP_MKNOD */
		mode_t type;
		r = lookup_type(pa.cs, pa.dir, pa.base, pa.p, &type);
		if (r == 0)
			return -EEXIST;
		if (r != -ENOENT)
			return r;
		struct dn_vfs_attr d;
		if ((r = vfs_attr_get(pa.cs, pa.dir, &d)) < 0 ||
		    (r = dn_vfs_permission(c, &d, W_OK | X_OK)) < 0)
			return r;
		return -EPERM;
	}
	mode = (mode & S_IFMT) | (create_mode(pa.cs, mode & 07777) & 07777);
	r = vfs_may_create(&pa, &mode);
	if (r == 0)
		r = ceph_ll_mknod(pa.cs->cm, pa.dir, pa.base, mode, (dev_t)ceph_from_dev(dev), &in,
				  &x, 0, 0, pa.p);
	r = create_result(&pa, r);
	if (r == 0)
		ceph_ll_put(pa.cs->cm, in);
	return r;
}

static int ceph_svc_rmdir(struct dn_svc *s, const struct dn_cred *c, const char *path)
{
	_cleanup_parent_ struct parent pa = {.cs = to_ceph(s)};
	int r = parent_walk(&pa, c, path);
	if (r < 0)
		return r;
	/* as rmdir(2): "x/." is EINVAL, "x/.." not empty, the top busy */
	switch (pa.type) {
	case DN_LAST_DOT: return -EINVAL;
	case DN_LAST_DOTDOT: return -ENOTEMPTY;
	case DN_LAST_ROOT: return -EBUSY;
	case DN_LAST_NORM: break;
	}
	if ((r = vfs_may_delete(&pa, true)) < 0)
		return r;
	r = remove_result(&pa, ceph_ll_rmdir(pa.cs->cm, pa.dir, pa.base, pa.p));
	if (r == 0) /* a directory of that name made later is another */
		dn_ceph_paths_forget_name(pa.cs->paths, pa.dir, pa.base);
	return r;
}

static int ceph_svc_unlink(struct dn_svc *s, const struct dn_cred *c, const char *path)
{
	_cleanup_parent_ struct parent pa = {.cs = to_ceph(s)};
	int r = parent_walk(&pa, c, path);
	if (r < 0)
		return r;
	if (pa.type != DN_LAST_NORM)
		return -EISDIR;
	if (pa.slash) {
		/* as unlink(2) of "name/": never removed; what it is says why */
		struct Inode *in;
		struct ceph_statx x;
		r = ceph_ll_lookup(pa.cs->cm, pa.dir, pa.base, &in, &x, WANT_TYPE_ONLY,
				   AT_SYMLINK_NOFOLLOW, pa.p);
		if (r < 0)
			return r;
		ceph_ll_put(pa.cs->cm, in);
		return S_ISDIR(x.stx_mode) ? -EISDIR : -ENOTDIR;
	}
	if ((r = vfs_may_delete(&pa, false)) < 0)
		return r;
	return remove_result(&pa, ceph_ll_unlink(pa.cs->cm, pa.dir, pa.base, pa.p));
}

/* A directory moved to another parent: its ".." changes, so the kernel asks to write it. */
static int may_write_moved_dir(struct parent *fp)
{
	struct Inode *in;
	struct ceph_statx x;
	int r = ceph_ll_lookup(fp->cs->cm, fp->dir, fp->base, &in, &x,
			       CEPH_STATX_MODE | CEPH_STATX_UID | CEPH_STATX_GID,
			       AT_SYMLINK_NOFOLLOW, fp->p);
	if (r < 0)
		return r;
	ceph_ll_put(fp->cs->cm, in);
	struct dn_vfs_attr a = vfs_attr(&x);
	return dn_vfs_permission(fp->c, &a, W_OK);
}

/*
 * As renameat2(2): the kernel looks both names up before it asks the
 * filesystem, and so do we, which libcephfs needs. Its _rename (16.2.15,
 * "client: wait rename to finish") marks the target's dentry as being
 * renamed onto before it looks the source up itself, and a rename that
 * fails there (a source that does not exist) returns without clearing the
 * mark: every later lookup of the target's name in this client then waits
 * for a rename that never comes (a worker stuck in ceph_ll_lookup for
 * good, the client's caps on the file never released). With the source
 * looked up here first, that happens only when another client removes it
 * in between; libcephfs' EXDEV (renames across quota realms) leaves the
 * mark too, which only a fixed libcephfs avoids.
 */
int rename_flags_check(unsigned flags)
{
	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return -EINVAL;
	if ((flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) && (flags & RENAME_EXCHANGE))
		return -EINVAL;
	return 0;
}

int rename_names(struct parent *fp, struct parent *tp, unsigned flags)
{
	struct ceph_svc *cs = fp->cs;
	bool noreplace = flags & RENAME_NOREPLACE, exchange = flags & RENAME_EXCHANGE;
	mode_t from_type, to_type = 0;
	uint64_t from_ino, to_ino = 0;
	int r;
	if ((r = lookup_type_ino(cs, fp->dir, fp->base, fp->p, &from_type, &from_ino)) < 0)
		return r;
	r = lookup_type_ino(cs, tp->dir, tp->base, tp->p, &to_type, &to_ino);
	if (r < 0 && (r != -ENOENT || exchange))
		return r;
	/* Not atomic: CephFS has no such rename; good within one pool's client. */
	if (r == 0 && noreplace)
		return -EEXIST;
	/* "file/" names a directory, which a file is not */
	if (!S_ISDIR(from_type) && (fp->slash || tp->slash))
		return -ENOTDIR;
	/*
	 * Both names one file (itself, or two hard links): nothing is done, as
	 * vfs_rename does before any permission. libcephfs would run it, and a
	 * directory renamed onto itself then looked missing to its next lookups.
	 */
	if (r == 0 && from_ino == to_ino)
		return 0;
	/* (for a flag CephFS refuses, libcephfs' own checks would not come first) */
	if (dn_vfs_root_without_caps(fp->c) || (flags & ~(unsigned)RENAME_NOREPLACE)) {
		/* vfs_rename's checks: the old name goes, the new one comes or goes */
		bool isdir = S_ISDIR(from_type);
		if ((r = vfs_may_delete(fp, isdir)) < 0)
			return r;
		r = to_type ? vfs_may_delete(tp, isdir) : vfs_may_create(tp, NULL);
		if (r < 0)
			return r;
		if (isdir && fp->dir != tp->dir && (r = may_write_moved_dir(fp)) < 0)
			return r;
	}
	/* RENAME_EXCHANGE, RENAME_WHITEOUT: the filesystem's EINVAL, CephFS has neither */
	if (flags & ~(unsigned)RENAME_NOREPLACE)
		return -EINVAL;
	r = ceph_ll_rename(cs->cm, fp->dir, fp->base, tp->dir, tp->base, fp->p);
	/* the path cache holds directories only: a moved or replaced one leaves it at once */
	if (r == 0 && (S_ISDIR(from_type) || S_ISDIR(to_type))) {
		dn_ceph_paths_forget_name(cs->paths, fp->dir, fp->base);
		dn_ceph_paths_forget_name(cs->paths, tp->dir, tp->base);
	}
	return r;
}

static int ceph_svc_rename(struct dn_svc *s, const struct dn_cred *c, const char *from,
			   const char *to, unsigned flags)
{
	/* do_renameat2's own checks come first */
	int r = rename_flags_check(flags);
	if (r < 0)
		return r;
	struct ceph_svc *cs = to_ceph(s);
	_cleanup_parent_ struct parent fp = {.cs = cs}, tp = {.cs = cs};
	if ((r = parent_walk(&fp, c, from)) < 0)
		return r;
	r = parent_walk(&tp, c, to);
	if (r < 0) {
		/* the kernel searches the old name's directory before it looks at the new name */
		if (fp.type != DN_LAST_ROOT && may_search(cs, c, fp.dir) == -EACCES)
			return -EACCES;
		return r;
	}
	/* ".", ".." and the top are never renamed nor replaced */
	if (fp.type != DN_LAST_NORM)
		return -EBUSY;
	if (tp.type != DN_LAST_NORM)
		return (flags & RENAME_NOREPLACE) ? -EEXIST : -EBUSY;
	return rename_names(&fp, &tp, flags);
}

/*
 * linux_dirent64 records from the directory stream. The cookie is libcephfs'
 * own position (ceph_telldir after each entry), so the client can hand it back
 * after any number of calls, and seekdir/telldir stay meaningful.
 */
static ssize_t ceph_svc_readdir(struct dn_svc *s, struct dn_file *f, uint64_t cookie, void *buf,
				size_t len, uint64_t *next)
{
	struct ceph_svc *cs = to_ceph(s);
	if (!f->dir)
		return -ENOTDIR;
	if (cookie > INT64_MAX)
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	if (ceph_telldir(cs->cm, f->dir) != (int64_t)cookie)
		ceph_seekdir(cs->cm, f->dir, (int64_t)cookie);
	size_t at = 0;
	ssize_t ret = 0;
	*next = cookie;
	for (;;) {
		int64_t before = ceph_telldir(cs->cm, f->dir);
		struct dirent de;
		int r = ceph_readdir_r(cs->cm, f->dir, &de);
		if (r <= 0) {
			ret = r < 0 && at == 0 ? r : 0;
			break;
		}
		size_t nl = strlen(de.d_name);
		size_t reclen = (offsetof(struct dirent64, d_name) + nl + 1 + 7) & ~(size_t)7;
		if (at + reclen > len) {
			/* no room: put it back for the next call */
			ceph_seekdir(cs->cm, f->dir, before);
			ret = at == 0 ? -EINVAL : 0;
			break;
		}
		int64_t pos = ceph_telldir(cs->cm, f->dir);
		struct dirent64 *d = (struct dirent64 *)((char *)buf + at);
		d->d_ino = de.d_ino;
		d->d_off = pos;
		d->d_reclen = (unsigned short)reclen;
		d->d_type = de.d_type;
		memset(d->d_name, 0, reclen - offsetof(struct dirent64, d_name));
		memcpy(d->d_name, de.d_name, nl);
		at += reclen;
		*next = (uint64_t)pos;
	}
	pthread_mutex_unlock(&f->lock);
	return ret < 0 ? ret : (ssize_t)at;
}

static int ceph_svc_fsync(struct dn_svc *s, struct dn_file *f, bool datasync)
{
	struct ceph_svc *cs = to_ceph(s);
	if (f->fh)
		return ceph_ll_fsync(cs->cm, f->fh, datasync);
	return ceph_ll_sync_inode(cs->cm, f->in, datasync);
}

/* the pool's one mount: every instance's dirty data and metadata, to the OSDs and MDS */
static int ceph_svc_syncfs(struct dn_svc *s, struct dn_file *f)
{
	(void)f;
	return ceph_sync_fs(to_ceph(s)->cm);
}

/*
 * setattr_prepare's checks, for a caller libcephfs does not check (uid 0
 * without capabilities: the callers ask) on a file with attributes a:
 * truncate (write permission), chmod (owner; set-group-ID only in the
 * file's group) and times (owner, or for "now" also who may write).
 */
static int vfs_may_setattr(const struct dn_cred *c, const struct dn_vfs_attr *a,
			   struct ceph_statx *want, int mask)
{
	int r;
	if ((mask & CEPH_SETATTR_SIZE) && (r = dn_vfs_permission(c, a, W_OK)) < 0)
		return r;
	if (mask & CEPH_SETATTR_MODE) {
		mode_t m = want->stx_mode;
		if ((r = dn_vfs_may_chmod(c, a, &m)) < 0)
			return r;
		want->stx_mode = (uint16_t)m;
	}
	/* (a truncate's times come with the size: write permission, checked above) */
	if ((mask & (CEPH_SETATTR_ATIME | CEPH_SETATTR_MTIME)) && !(mask & CEPH_SETATTR_SIZE)) {
		const int now = CEPH_SETATTR_ATIME_NOW | CEPH_SETATTR_MTIME_NOW;
		if ((r = dn_vfs_may_utimes(c, a, (mask & now) == now)) < 0)
			return r;
	}
	return 0;
}

/* vfs_may_setattr on an open file, whose attributes are asked for only when it applies */
static int vfs_may_setattr_file(struct ceph_svc *cs, const struct dn_cred *c, struct Inode *in,
				struct ceph_statx *want, int mask)
{
	if (!dn_vfs_root_without_caps(c))
		return 0;
	struct dn_vfs_attr a;
	int r = vfs_attr_get(cs, in, &a);
	return r < 0 ? r : vfs_may_setattr(c, &a, want, mask);
}

int setattr_inode(struct ceph_svc *cs, const struct dn_cred *c, struct Inode *in,
		  const struct ceph_statx *x, struct ceph_statx *want, int mask)
{
	const UserPerm *p = perm_of(c);
	if (!p)
		return -ENOMEM;
	struct dn_vfs_attr a = vfs_attr(x);
	int r = 0;
	if ((mask & CEPH_SETATTR_SIZE) && S_ISDIR(x->stx_mode))
		r = -EISDIR;
	else if ((mask & CEPH_SETATTR_SIZE) && !S_ISREG(x->stx_mode))
		r = -EINVAL;
	else if (dn_vfs_root_without_caps(c))
		r = vfs_may_setattr(c, &a, want, mask);
	if (r == 0)
		r = ceph_ll_setattr(cs->cm, in, want, mask, p);
	if (r == 0 && (mask & CEPH_SETATTR_SIZE))
		r = clear_set_id_for_write(cs, in, c); /* once truncate was allowed */
	return r;
}

static int setattr_path(struct ceph_svc *cs, const struct dn_cred *c, const char *path,
			bool follow, struct ceph_statx *want, int mask)
{
	struct Inode *in;
	struct ceph_statx x;
	int r = walk_path(cs, c, path, follow, &in, &x);
	if (r < 0)
		return r;
	r = setattr_inode(cs, c, in, &x, want, mask);
	ceph_ll_put(cs->cm, in);
	return r;
}

/* fchown/futimens and chown/utimensat: checked as the caller, on the open file or by path. */
static int setattr_as_caller(struct ceph_svc *cs, const struct dn_cred *c, struct dn_file *f,
			     const char *path, bool follow, struct ceph_statx *want, int mask)
{
	if (!f)
		return setattr_path(cs, c, path, follow, want, mask);
	const UserPerm *p = perm_of(c);
	if (!p)
		return -ENOMEM;
	int r = vfs_may_setattr_file(cs, c, f->in, want, mask);
	return r < 0 ? r : ceph_ll_setattr(cs->cm, f->in, want, mask, p);
}

/*
 * truncate(2) sets the size and the times (the kernel passes ATTR_MTIME and
 * ATTR_CTIME along); libcephfs changes no time for a size alone. "Now", so
 * that a writer who does not own the file may, as for touch.
 */
static int truncate_mask(struct ceph_statx *x)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	x->stx_mtime = now;
	return CEPH_SETATTR_SIZE | CEPH_SETATTR_MTIME | CEPH_SETATTR_MTIME_NOW;
}

static int ceph_svc_truncate(struct dn_svc *s, const struct dn_cred *c, const char *path,
			     off_t len)
{
	if (len < 0)
		return -EINVAL;
	struct ceph_statx x = {.stx_size = (uint64_t)len};
	return setattr_path(to_ceph(s), c, path, true, &x, truncate_mask(&x));
}

static int ceph_svc_ftruncate(struct dn_svc *s, struct dn_file *f, off_t len)
{
	if (len < 0)
		return -EINVAL;
	if (f->dir)
		return -EISDIR;
	if (!f->fh || (f->oflags & O_ACCMODE) == O_RDONLY)
		return -EINVAL; /* as Linux: not open for writing */
	int r = clear_set_id_for_write(to_ceph(s), f->in, dn_cred_current());
	if (r < 0)
		return r;
	struct ceph_statx x = {.stx_size = (uint64_t)len};
	return ceph_ll_setattr(to_ceph(s)->cm, f->in, &x, truncate_mask(&x), f->perm);
}

static int ceph_svc_chmod(struct dn_svc *s, const struct dn_cred *c, const char *path,
			  mode_t mode)
{
	struct ceph_statx x = {.stx_mode = (uint16_t)(mode & 07777)};
	return setattr_path(to_ceph(s), c, path, true, &x, CEPH_SETATTR_MODE);
}

static int ceph_svc_fchmod(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			   mode_t mode)
{
	struct ceph_statx x = {.stx_mode = (uint16_t)(mode & 07777)};
	const UserPerm *p = perm_of(c);
	if (!p)
		return -ENOMEM;
	int r = vfs_may_setattr_file(to_ceph(s), c, f->in, &x, CEPH_SETATTR_MODE);
	return r < 0 ? r : ceph_ll_setattr(to_ceph(s)->cm, f->in, &x, CEPH_SETATTR_MODE, p);
}

static ssize_t ceph_svc_readlink(struct dn_svc *s, const struct dn_cred *c, const char *path,
				 char *buf, size_t len)
{
	struct ceph_svc *cs = to_ceph(s);
	const UserPerm *p = perm_of(c);
	struct Inode *in;
	struct ceph_statx x;
	int r = walk_path(cs, c, path, false, &in, &x);
	if (r < 0)
		return r;
	if (!S_ISLNK(x.stx_mode))
		r = -EINVAL;
	else
		r = ceph_ll_readlink(cs->cm, in, buf, len > INT_MAX ? INT_MAX : len, p);
	ceph_ll_put(cs->cm, in);
	return r;
}

int utimens_mask(const struct timespec times[2], struct ceph_statx *x)
{
	int mask = 0;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	if (times[0].tv_nsec != UTIME_OMIT) {
		mask |= CEPH_SETATTR_ATIME;
		if (times[0].tv_nsec == UTIME_NOW)
			mask |= CEPH_SETATTR_ATIME_NOW, x->stx_atime = now;
		else
			x->stx_atime = times[0];
	}
	if (times[1].tv_nsec != UTIME_OMIT) {
		mask |= CEPH_SETATTR_MTIME;
		if (times[1].tv_nsec == UTIME_NOW)
			mask |= CEPH_SETATTR_MTIME_NOW, x->stx_mtime = now;
		else
			x->stx_mtime = times[1];
	}
	return mask;
}

static int ceph_svc_utimens(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			    const char *path, bool nofollow, const struct timespec times[2])
{
	struct ceph_statx x = {0};
	int mask = utimens_mask(times, &x);
	/* as utimensat(2): nothing to do, not even a lookup */
	if (!mask)
		return 0;
	return setattr_as_caller(to_ceph(s), c, f, path, !nofollow, &x, mask);
}

/*
 * As chown(2): the owner change and the set-id bits it clears
 * (set_id_to_clear) in one setattr, checked as the caller; with neither
 * owner nor group given, only those bits (the kernel clears them then too).
 */
int chown_inode(struct ceph_svc *cs, const struct dn_cred *c, struct Inode *in,
		const struct ceph_statx *x, uid_t uid, gid_t gid)
{
	const UserPerm *p = perm_of(c);
	if (!p)
		return -ENOMEM;
	struct dn_vfs_attr a = vfs_attr(x);
	int r;
	if (dn_vfs_root_without_caps(c) && (r = dn_vfs_may_chown(c, &a, uid, gid)) < 0)
		return r;
	struct ceph_statx want = {.stx_uid = uid, .stx_gid = gid};
	int mask = (uid != (uid_t)-1 ? CEPH_SETATTR_UID : 0) |
		   (gid != (gid_t)-1 ? CEPH_SETATTR_GID : 0);
	mode_t clear = set_id_to_clear(c, x->stx_mode, x->stx_gid, true);
	if (clear) {
		want.stx_mode = (uint16_t)(x->stx_mode & 07777 & ~clear);
		mask |= CEPH_SETATTR_MODE;
	}
	r = mask ? ceph_ll_setattr(cs->cm, in, &want, mask, p) : 0;
	if (r == 0 && !S_ISDIR(x->stx_mode))
		r = kill_priv(cs, in); /* as chown(2): the file's capabilities go */
	return r;
}

/* chown of the open file, or of path */
static int ceph_svc_chown(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			  const char *path, bool nofollow, uid_t uid, gid_t gid)
{
	struct ceph_svc *cs = to_ceph(s);
	const UserPerm *p = perm_of(c);
	if (!p)
		return -ENOMEM;
	struct Inode *in = f ? f->in : NULL;
	struct ceph_statx x;
	int r = f ? ceph_ll_getattr(cs->cm, in, &x, CEPH_STATX_MODE | CEPH_STATX_UID | CEPH_STATX_GID,
				    0, p)
		  : walk_path(cs, c, path, !nofollow, &in, &x);
	if (r < 0)
		return r;
	r = chown_inode(cs, c, in, &x, uid, gid);
	if (!f)
		ceph_ll_put(cs->cm, in);
	return r;
}

static int ceph_svc_symlink(struct dn_svc *s, const struct dn_cred *c, const char *target,
			    const char *path)
{
	_cleanup_parent_ struct parent pa = {.cs = to_ceph(s)};
	int r = parent_walk(&pa, c, path);
	if (r < 0 || (r = create_check(&pa, false)) < 0)
		return r;
	/* The target is stored as given; our walk keeps resolving it inside the pool. */
	struct Inode *in;
	struct ceph_statx x;
	r = vfs_may_create(&pa, NULL);
	if (r == 0)
		r = ceph_ll_symlink(pa.cs->cm, pa.dir, pa.base, target, &in, &x, 0, 0, pa.p);
	r = create_result(&pa, r);
	if (r == 0)
		ceph_ll_put(pa.cs->cm, in);
	return r;
}

/*
 * As linkat(2) without AT_SYMLINK_FOLLOW: the old name first, then the new
 * one's, then fs.protected_hardlinks (EPERM), then the directory's write
 * permission (EACCES).
 */
static int ceph_svc_link(struct dn_svc *s, const struct dn_cred *c, const char *from,
			 const char *to, bool follow)
{
	struct ceph_svc *cs = to_ceph(s);
	struct Inode *in;
	struct ceph_statx x;
	int r = walk_path(cs, c, from, follow, &in, &x);
	if (r < 0)
		return r;
	_cleanup_parent_ struct parent pa = {.cs = cs};
	r = parent_walk(&pa, c, to);
	if (r == 0)
		r = create_check(&pa, false);
	if (r == 0 && S_ISDIR(x.stx_mode)) {
		/* no hard links to directories: EPERM, once the new name is free */
		mode_t type;
		r = lookup_type(cs, pa.dir, pa.base, pa.p, &type);
		r = r == 0 ? -EEXIST : r == -ENOENT ? -EPERM : r;
	}
	struct dn_vfs_attr a = vfs_attr(&x);
	/* the kernel finds the new name free (search permission) before may_linkat */
	if (r == 0)
		r = may_search(cs, c, pa.dir);
	if (r == 0 && (r = dn_vfs_may_link(c, &a, cs->protect.hardlinks)) < 0)
		r = create_result(&pa, r);
	if (r == 0) {
		r = vfs_may_create(&pa, NULL);
		if (r == 0)
			r = ceph_ll_link(cs->cm, in, pa.dir, pa.base, pa.p);
		r = create_result(&pa, r);
	}
	ceph_ll_put(cs->cm, in);
	return r;
}

#define CEPH_SUPER_MAGIC 0x00c36400 /* what ceph.ko answers: df -T says "ceph" */

static int ceph_svc_statfs(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			   const char *path, struct statvfs *st, uint64_t *type)
{
	struct ceph_svc *cs = to_ceph(s);
	*type = CEPH_SUPER_MAGIC;
	if (f)
		return ceph_ll_statfs(cs->cm, f->in, st);
	struct Inode *in;
	struct ceph_statx x;
	int r = walk_path(cs, c, path, true, &in, &x);
	if (r < 0)
		return r;
	r = ceph_ll_statfs(cs->cm, in, st);
	ceph_ll_put(cs->cm, in);
	return r;
}

static int ceph_svc_fallocate(struct dn_svc *s, struct dn_file *f, int mode, off_t off,
			      off_t len)
{
	if (!f->fh || (f->oflags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	int r = clear_set_id_for_write(to_ceph(s), f->in, dn_cred_current());
	if (r < 0)
		return r;
	/* CephFS knows PUNCH_HOLE|KEEP_SIZE only; glibc's posix_fallocate then writes zeros. */
	return ceph_ll_fallocate(to_ceph(s)->cm, f->fh, mode, off, len);
}

/* The inode an xattr call is about, with a reference: the open file's or path's. */
static int xattr_inode(struct ceph_svc *cs, const struct dn_cred *c, const UserPerm *p,
		       struct dn_file *f, const char *path, bool nofollow, struct Inode **in)
{
	if (!p)
		return -ENOMEM;
	if (f) {
		*in = f->in;
		return 0;
	}
	struct ceph_statx x;
	return walk_path(cs, c, path, !nofollow, in, &x);
}

/*
 * xattr_permission where libcephfs differs (vfs-perm.h): user.* on files
 * other than regular ones and directories for everyone, and every check
 * for uid 0 without capabilities.
 */
static int vfs_may_xattr(struct ceph_svc *cs, const struct dn_cred *c, struct Inode *in,
			 const char *name, bool write)
{
	bool vfs = dn_vfs_root_without_caps(c);
	if (!vfs && strncmp(name, "user.", 5) != 0)
		return 0;
	struct dn_vfs_attr a;
	int r = vfs_attr_get(cs, in, &a);
	return r < 0 ? r : dn_vfs_xattr_permission(c, &a, name, write, vfs);
}

static void xattr_done(struct ceph_svc *cs, struct dn_file *f, struct Inode *in)
{
	if (!f)
		ceph_ll_put(cs->cm, in);
}

static ssize_t ceph_svc_getxattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
				 const char *path, bool nofollow, const char *name, void *buf,
				 size_t len)
{
	struct ceph_svc *cs = to_ceph(s);
	const UserPerm *p = perm_of(c);
	struct Inode *in;
	int r = xattr_inode(cs, c, p, f, path, nofollow, &in);
	if (r < 0)
		return r;
	r = dn_xattr_may_get(c, name);
	if (r == 0)
		r = vfs_may_xattr(cs, c, in, name, false);
	if (r == 0)
		r = ceph_ll_getxattr(cs->cm, in, name, buf, len, p);
	xattr_done(cs, f, in);
	return r;
}

static int ceph_svc_setxattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			     const char *path, bool nofollow, const char *name, const void *value,
			     size_t len, int flags)
{
	struct ceph_svc *cs = to_ceph(s);
	const UserPerm *p = perm_of(c);
	struct Inode *in;
	int r = xattr_inode(cs, c, p, f, path, nofollow, &in);
	if (r < 0)
		return r;
	/* the VFS has no handler for another system.* name: EOPNOTSUPP, whoever asks */
	if (strncmp(name, "system.", 7) == 0 && strcmp(name, "system.posix_acl_access") != 0 &&
	    strcmp(name, "system.posix_acl_default") != 0)
		r = -EOPNOTSUPP;
	/* set_posix_acl: a default ACL on anything but a directory, before whose it is */
	if (r == 0 && len && strcmp(name, "system.posix_acl_default") == 0) {
		struct dn_vfs_attr a;
		r = vfs_attr_get(cs, in, &a);
		if (r == 0 && !S_ISDIR(a.mode))
			r = -EACCES;
	}
	if (r == 0)
		r = dn_xattr_may_change(c, name);
	if (r == 0)
		r = vfs_may_xattr(cs, c, in, name, true);
	if (r == 0)
		r = ceph_ll_setxattr(cs->cm, in, name, value, len, flags, p);
	xattr_done(cs, f, in);
	return r;
}

/* Whether in has an attribute name, as the pool sees its list (getxattr refuses unknown system.*). */
static bool has_xattr(struct ceph_svc *cs, struct Inode *in, const char *name)
{
	const UserPerm *pool = ceph_mount_perms(cs->cm);
	size_t size = 0;
	if (ceph_ll_listxattr(cs->cm, in, NULL, 0, &size, pool) < 0)
		return true; /* not known: keep libcephfs' answer */
	_cleanup_free_ char *all = malloc(size + 1);
	size_t got = 0;
	if (!all || ceph_ll_listxattr(cs->cm, in, all, size, &got, pool) < 0)
		return true;
	all[got] = 0;
	for (size_t at = 0; at < got; at += strlen(all + at) + 1)
		if (strcmp(all + at, name) == 0)
			return true;
	return false;
}

static ssize_t ceph_svc_listxattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
				  const char *path, bool nofollow, char *buf, size_t len)
{
	struct ceph_svc *cs = to_ceph(s);
	const UserPerm *p = perm_of(c);
	struct Inode *in;
	int r = xattr_inode(cs, c, p, f, path, nofollow, &in);
	if (r < 0)
		return r;
	/*
	 * Every name, trusted.* too: both kernel clients of CephFS (ceph.ko,
	 * ceph-fuse) list what the MDS holds; only reading trusted.* values
	 * needs CAP_SYS_ADMIN (dn_xattr_may_get).
	 */
	size_t size = 0;
	r = ceph_ll_listxattr(cs->cm, in, buf, len, &size, p);
	xattr_done(cs, f, in);
	return r < 0 ? r : (ssize_t)size;
}

static int ceph_svc_removexattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
				const char *path, bool nofollow, const char *name)
{
	struct ceph_svc *cs = to_ceph(s);
	const UserPerm *p = perm_of(c);
	struct Inode *in;
	int r = xattr_inode(cs, c, p, f, path, nofollow, &in);
	if (r < 0)
		return r;
	r = dn_xattr_may_change(c, name);
	if (r == 0)
		r = vfs_may_xattr(cs, c, in, name, true);
	if (r == 0)
		r = ceph_ll_removexattr(cs->cm, in, name, p);
	/*
	 * libcephfs lets only the owner change system.* names; the kernel asks
	 * nothing before the filesystem says such a name is not there.
	 */
	if (r == -EPERM && strncmp(name, "system.", 7) == 0 &&
	    strncmp(name, "system.posix_acl_", 17) != 0 && !has_xattr(cs, in, name))
		r = -ENODATA;
	xattr_done(cs, f, in);
	return r;
}

/* Record locks go to the MDS, so they also arbitrate with other CephFS clients. */
static int ceph_svc_lock(struct dn_svc *s, struct dn_file *f, int cmd, struct flock *fl,
			 uint64_t owner)
{
	struct ceph_svc *cs = to_ceph(s);
	if (!f->fh)
		return -EBADF;
	int r;
	if (cmd == F_GETLK) {
		r = ceph_ll_getlk(cs->cm, f->fh, fl, owner);
		if (r == 0 && fl->l_type != F_UNLCK)
			fl->l_pid = 0;
	} else {
		r = ceph_ll_setlk(cs->cm, f->fh, fl, owner, 0);
	}
	return r == -EACCES || r == -EWOULDBLOCK ? -EAGAIN : r;
}

/*
 * libcephfs 16 exports no flock for ll handles (ceph_flock wants a path-API
 * fd), so flock is a whole-file record lock with an owner of its own. It
 * excludes other flock holders, in the pool and on other CephFS clients;
 * unlike Linux it also conflicts with fcntl locks on the same file.
 */
static int ceph_svc_flock(struct dn_svc *s, struct dn_file *f, int op, uint64_t owner)
{
	if (!f->fh)
		return -EBADF;
	/*
	 * libcephfs (16) exports flock only for its own descriptors, not for an
	 * Fh: a flock is a record lock on the file's last possible byte, taken
	 * by the open file, so that it excludes the flocks of this and other
	 * pools and not the record locks programs take (a 0-length one, to the
	 * end and beyond, excepted: README Limits).
	 */
	struct flock fl = {.l_whence = SEEK_SET, .l_start = INT64_MAX - 1, .l_len = 1};
	switch (op & ~LOCK_NB) {
	case LOCK_SH: fl.l_type = F_RDLCK; break;
	case LOCK_EX: fl.l_type = F_WRLCK; break;
	case LOCK_UN: fl.l_type = F_UNLCK; break;
	default: return -EINVAL;
	}
	/* flock belongs to the open file: the handle itself is the owner */
	uint64_t owner_id = (uint64_t)(uintptr_t)f | (1ULL << 63);
	struct ceph_mount_info *cm = to_ceph(s)->cm;
	pthread_mutex_lock(&f->lock);
	/*
	 * A conversion removes the lock held, then takes the new one, as
	 * flock(2) documents (and fails with the old one gone): libcephfs'
	 * in-place downgrade of a whole-file write lock left one behind.
	 */
	int r = 0;
	if (fl.l_type != F_UNLCK && f->flock_held != F_UNLCK && f->flock_held != fl.l_type) {
		struct flock un = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = fl.l_start,
				   .l_len = fl.l_len};
		r = ceph_ll_setlk(cm, f->fh, &un, owner_id, 0);
		if (r == 0)
			f->flock_held = F_UNLCK;
	}
	if (r == 0)
		r = ceph_ll_setlk(cm, f->fh, &fl, owner_id, 0);
	if (r == 0)
		f->flock_held = fl.l_type;
	pthread_mutex_unlock(&f->lock);
	return r == -EACCES ? -EWOULDBLOCK : r;
}

/* libcephfs' umask callback: the umask of the caller of the request this thread runs */
static mode_t umask_of(void *handle)
{
	return dn_umask_caller();
}

/*
 * libcephfs's callbacks, from its own threads (never under its client
 * lock): a dentry it was told is gone or changed, an inode whose
 * references it wants back to trim its cache.
 */
static void dentry_gone(void *handle, vinodeno_t dirino, vinodeno_t ino, const char *name,
			size_t len)
{
	dn_ceph_paths_forget_dentry(to_ceph(handle)->paths, dirino.ino.val, ino.ino.val, name, len);
}

static void ino_release(void *handle, vinodeno_t ino)
{
	dn_ceph_paths_forget_ino(to_ceph(handle)->paths, ino.ino.val);
}

static void ceph_svc_destroy(struct dn_svc *s)
{
	struct ceph_svc *cs = to_ceph(s);
	dn_ceph_paths_close(cs->paths); /* its references go before the unmount */
	if (cs->root)
		ceph_ll_put(cs->cm, cs->root);
	if (cs->cm) {
		ceph_unmount(cs->cm);
		ceph_release(cs->cm);
	}
	cs->paths = dn_ceph_paths_free(cs->paths);
	pthread_mutex_destroy(&cs->append_lock);
	dn_fifos_free(cs->fifos);
	dn_map_owners_free(cs->map_owners);
	free(cs);
}

static const struct dn_svc_ops ceph_ops = {
	.name = "ceph",
	.cache_dies = true,
	.open = ceph_svc_open,
	.close = ceph_svc_close,
	.fpath = ceph_svc_fpath,
	.mapfd = ceph_svc_mapfd,
	.pread = ceph_svc_pread,
	.pwrite = ceph_svc_pwrite,
	.fstat = ceph_svc_fstat,
	.stat = ceph_svc_stat,
	.access = ceph_svc_access,
	.mkdir = ceph_svc_mkdir,
	.mknod = ceph_svc_mknod,
	.rmdir = ceph_svc_rmdir,
	.unlink = ceph_svc_unlink,
	.stat_at = ceph_svc_stat_at,
	.unlink_at = ceph_svc_unlink_at,
	.open_at = ceph_svc_open_at,
	.mkdir_at = ceph_svc_mkdir_at,
	.rename_at = ceph_svc_rename_at,
	.chmod_at = ceph_svc_chmod_at,
	.utimens_at = ceph_svc_utimens_at,
	.chown_at = ceph_svc_chown_at,
	.rename = ceph_svc_rename,
	.readdir = ceph_svc_readdir,
	.fsync = ceph_svc_fsync,
	.syncfs = ceph_svc_syncfs,
	.truncate = ceph_svc_truncate,
	.ftruncate = ceph_svc_ftruncate,
	.chmod = ceph_svc_chmod,
	.fchmod = ceph_svc_fchmod,
	.readlink = ceph_svc_readlink,
	.utimens = ceph_svc_utimens,
	.chown = ceph_svc_chown,
	.symlink = ceph_svc_symlink,
	.link = ceph_svc_link,
	.statfs = ceph_svc_statfs,
	.fallocate = ceph_svc_fallocate,
	.getxattr = ceph_svc_getxattr,
	.setxattr = ceph_svc_setxattr,
	.listxattr = ceph_svc_listxattr,
	.removexattr = ceph_svc_removexattr,
	.lock = ceph_svc_lock,
	.flock = ceph_svc_flock,
	.destroy = ceph_svc_destroy,
};

/* The mount runs on its own thread so that a cluster that never answers cannot hang us. */
struct mount_job {
	struct ceph_mount_info *cm;
	const char *root;
	char uuid[128];
	int result;
	bool done;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

/*
 * A pool killed before it could close its session leaves it in the MDS,
 * with its capabilities and locks, until the MDS times it out (a minute
 * and more): the pool started in its place would wait that long for the
 * caps of every file its clients reopen, and the locks would stay taken.
 * As NFS-Ganesha does for its restarts, each pool's session carries a
 * name stable across restarts on this host, and a new pool first has the
 * MDS drop the session of that name (CEPH_RECLAIM_RESET): whatever it
 * held is released at once. ENOENT: there was none (a clean stop).
 */
static int reclaim_reset(struct mount_job *j)
{
	int r = ceph_start_reclaim(j->cm, j->uuid, CEPH_RECLAIM_RESET);
	if (r < 0 && r != -ENOENT && r != -EOPNOTSUPP)
		return r;
	ceph_finish_reclaim(j->cm);
	ceph_set_uuid(j->cm, j->uuid);
	return 0;
}

static void *mount_thread(void *arg)
{
	struct mount_job *j = arg;
	/* the client reclaim needs, before the mount: a cluster out of reach fails it as a mount */
	int r = ceph_init(j->cm);
	if (r == 0) {
		int e = reclaim_reset(j);
		if (e < 0)
			dn_log_warning("[ceph]: could not take over the session of a previous "
				       "instance of this pool (%s): its locks and caps stay until "
				       "the MDS drops it",
				       strerror(-e));
		r = ceph_mount(j->cm, j->root);
	}
	pthread_mutex_lock(&j->lock);
	j->result = r;
	j->done = true;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

static int conf_set(struct ceph_mount_info *cm, const char *key, const char *value, char *err,
		    size_t errlen)
{
	int r = ceph_conf_set(cm, key, value);
	if (r < 0)
		snprintf(err, errlen, "[ceph]: cannot set libcephfs option %s=%s: %s", key, value,
			 strerror(-r));
	return r;
}

/*
 * libcephfs gathers debug entries above the log level into an in-memory ring
 * that it dumps on a crash: "0/5" for the client by default, so every
 * metadata call formats entries and wakes the log thread. Measured here: a
 * cached stat through the pool took 3.5 us median with it and 1.0-2.0 us
 * without. Unless [ceph] memory_log = yes, gather no more than is logged;
 * what the conf file asks to log is still logged.
 */
static const char *const gathering_subsystems[] = {
	"client", "objectcacher", "objecter", "ms", "monc", "auth", "finisher",
};

static int limit_memory_log(struct ceph_mount_info *cm, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(gathering_subsystems) / sizeof(*gathering_subsystems); i++) {
		char key[32], val[32];
		snprintf(key, sizeof(key), "debug_%s", gathering_subsystems[i]);
		int log_level, gather_level;
		if (ceph_conf_get(cm, key, val, sizeof(val)) < 0 ||
		    sscanf(val, "%d/%d", &log_level, &gather_level) != 2 ||
		    gather_level <= log_level)
			continue;
		snprintf(val, sizeof(val), "%d/%d", log_level, log_level);
		int r = conf_set(cm, key, val, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * The object cache's budget is `cache` bytes (0: the conf's client_oc_size,
 * libcephfs's 200 MiB by default) for clean and dirty data together.
 * libcephfs trims only clean data to client_oc_size and lets dirty data grow
 * to client_oc_max_dirty beside it: with its defaults a pool held 235 MiB of
 * cached data after a 512 MiB write (200 + 100 MiB possible). So a quarter
 * of the budget may be dirty and the rest clean.
 */
static int limit_object_cache(struct ceph_mount_info *cm, uint64_t cache, char *err,
			      size_t errlen)
{
	char sz[32];
	unsigned long long conf = 0;
	if (!cache && ceph_conf_get(cm, "client_oc_size", sz, sizeof(sz)) == 0 &&
	    sscanf(sz, "%llu", &conf) == 1)
		cache = conf;
	if (cache < 8 * 4096)
		return 0; /* too small to split: libcephfs's limits as they are */
	static const struct {
		const char *key;
		unsigned num, den;
	} split[] = {
		{"client_oc_size", 3, 4},
		{"client_oc_max_dirty", 1, 4},
		{"client_oc_target_dirty", 1, 8},
	};
	for (size_t i = 0; i < sizeof(split) / sizeof(*split); i++) {
		snprintf(sz, sizeof(sz), "%llu",
			 (unsigned long long)(cache / split[i].den * split[i].num));
		int r = conf_set(cm, split[i].key, sz, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

static int ceph_svc_create(const struct dn_config *cfg, struct dn_svc **out, char *err,
			   size_t errlen)
{
	struct ceph_mount_info *cm = NULL;
	int r = ceph_create(&cm, cfg->ceph_id);
	if (r < 0) {
		snprintf(err, errlen, "[ceph] id: %s: cannot create a libcephfs handle: %s",
			 cfg->ceph_id, strerror(-r));
		return r;
	}
	r = ceph_conf_read_file(cm, cfg->ceph_conf);
	if (r < 0) {
		snprintf(err, errlen, "[ceph] conf: %s: %s", cfg->ceph_conf, strerror(-r));
		goto fail;
	}
	/*
	 * A directory's size is its number of entries, as ceph.ko's default
	 * (norbytes), not the bytes below it (libcephfs's default): those
	 * change as the MDS propagates them, so a directory seemed to grow
	 * while tar read it ("file changed as we read it"). The recursive
	 * figure stays readable as the ceph.dir.rbytes attribute.
	 */
	if ((r = conf_set(cm, "client_dirsize_rbytes", "false", err, errlen)) < 0)
		goto fail;
	char t[32];
	snprintf(t, sizeof(t), "%u", cfg->ceph_mount_timeout);
	/*
	 * Bounded waits: the mount gives up after mount_timeout; later, monitor
	 * and OSD requests of a lost cluster fail with ETIMEDOUT after as long.
	 */
	if ((r = conf_set(cm, "client_mount_timeout", t, err, errlen)) < 0 ||
	    (r = conf_set(cm, "rados_mon_op_timeout", t, err, errlen)) < 0 ||
	    (r = conf_set(cm, "rados_osd_op_timeout", t, err, errlen)) < 0)
		goto fail;
	if (cfg->ceph_keyring &&
	    (r = conf_set(cm, "keyring", cfg->ceph_keyring, err, errlen)) < 0)
		goto fail;
	if (!cfg->ceph_memory_log && (r = limit_memory_log(cm, err, errlen)) < 0)
		goto fail;
	if ((r = limit_object_cache(cm, dn_config_ceph_cache_size(cfg), err, errlen)) < 0)
		goto fail;

	struct mount_job j = {.cm = cm, .root = cfg->ceph_root};
	char host[64] = "";
	gethostname(host, sizeof(host) - 1);
	snprintf(j.uuid, sizeof(j.uuid), "danaus:%s:%s", host, cfg->pool);
	pthread_mutex_init(&j.lock, NULL);
	pthread_cond_init(&j.cond, NULL);
	pthread_t th;
	if ((r = -pthread_create(&th, NULL, mount_thread, &j)) < 0) {
		snprintf(err, errlen, "[ceph]: cannot start the mount: %s", strerror(-r));
		goto fail;
	}
	/* libcephfs honours client_mount_timeout; the watchdog covers what it does not. */
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += (time_t)cfg->ceph_mount_timeout + 5;
	pthread_mutex_lock(&j.lock);
	while (!j.done)
		if (pthread_cond_timedwait(&j.cond, &j.lock, &deadline) == ETIMEDOUT)
			break;
	bool done = j.done;
	pthread_mutex_unlock(&j.lock);
	if (!done) {
		/*
		 * The mount thread is stuck inside libcephfs and cannot be
		 * cancelled, nor can the handle be released under it: leave now.
		 */
		dn_log_error("[ceph]: cannot mount %s as client.%s (conf %s): no answer from the "
			     "cluster within mount_timeout (%u s)",
			     cfg->ceph_root, cfg->ceph_id, cfg->ceph_conf, cfg->ceph_mount_timeout);
		_exit(1);
	}
	pthread_join(th, NULL);
	pthread_mutex_destroy(&j.lock);
	pthread_cond_destroy(&j.cond);
	if ((r = j.result) < 0) {
		const char *why = r == -ETIMEDOUT ? "no answer from the cluster within mount_timeout"
			: r == -ENOENT ? "no such directory in CephFS"
			: r == -EACCES || r == -EPERM ? "refused (cephx key or caps)"
			: strerror(-r);
		snprintf(err, errlen, "[ceph]: cannot mount %s as client.%s (conf %s): %s (%s)",
			 cfg->ceph_root, cfg->ceph_id, cfg->ceph_conf, why, strerror(-r));
		goto fail;
	}

	struct ceph_svc *cs = calloc(1, sizeof(*cs));
	if (!cs || !(cs->fifos = dn_fifos_new()) || !(cs->map_owners = dn_map_owners_new())) {
		if (cs)
			dn_fifos_free(cs->fifos);
		free(cs);
		r = -ENOMEM;
		goto fail_mounted;
	}
	cs->base.ops = &ceph_ops;
	cs->cm = cm;
	dn_protect_read(&cs->protect);
	pthread_mutex_init(&cs->append_lock, NULL);
	r = ceph_ll_lookup_root(cm, &cs->root);
	if (r < 0) {
		snprintf(err, errlen, "[ceph] root: %s: %s", cfg->ceph_root, strerror(-r));
		cs->cm = NULL;
		ceph_svc_destroy(&cs->base);
		goto fail_mounted;
	}
	/*
	 * With POSIX ACLs on (client_acl_type = posix_acl), libcephfs gives a
	 * new file its directory's default ACL, and then, as the kernel, no
	 * umask; else it asks for the creator's umask: the request's caller's.
	 */
	char acl[32];
	struct ceph_client_callback_args cb = {.handle = cs};
	if (ceph_conf_get(cm, "client_acl_type", acl, sizeof(acl)) == 0 &&
	    strcmp(acl, "posix_acl") == 0) {
		cb.umask_cb = umask_of;
		cs->acl_umask = true;
	}
	/*
	 * The path cache checks search permission by the mode bits, as
	 * libcephfs does without ACLs; with them on, every walk is libcephfs's.
	 */
	struct ceph_statx rx;
	if (!cs->acl_umask && cfg->ceph_entry_timeout > 0 &&
	    ceph_ll_getattr(cm, cs->root, &rx, CEPH_STATX_INO, 0, ceph_mount_perms(cm)) == 0 &&
	    (cs->paths = dn_ceph_paths_new(cm, cs->root, rx.stx_ino, cfg->ceph_entry_timeout))) {
		cb.dentry_cb = dentry_gone;
		cb.ino_release_cb = ino_release;
	}
	if (cb.umask_cb || cb.dentry_cb)
		ceph_ll_register_callbacks(cm, &cb);
	*out = &cs->base;
	return 0;
fail_mounted:
	ceph_unmount(cm);
fail:
	ceph_release(cm);
	return r;
}

int dn_svc_ceph_new(const struct dn_config *cfg, struct dn_svc **out, char *err, size_t errlen)
{
	/*
	 * libcephfs starts its threads (messenger, timers, log) in ceph_create
	 * and ceph_mount, before main blocks SIGTERM for its signalfd; they
	 * inherit our mask, so block the signals the pool handles itself while
	 * they are born. Else SIGTERM lands on one of them and kills the pool
	 * without unmounting, and the MDS makes every other client wait a
	 * session timeout (60 s) for the caps it held.
	 */
	sigset_t handled, old;
	sigemptyset(&handled);
	sigaddset(&handled, SIGTERM);
	sigaddset(&handled, SIGINT);
	pthread_sigmask(SIG_BLOCK, &handled, &old);
	int r = ceph_svc_create(cfg, out, err, errlen);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}
