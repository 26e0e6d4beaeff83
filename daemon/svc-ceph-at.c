/* Ceph Libservice, calls relative to an open directory: names looked up in its inode */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include <cephfs/libcephfs.h>

#include "ceph-paths.h"
#include "cred.h"
#include "no-symlinks.h"
#include "svc-ceph.h"
#include "vfs-perm.h"

/*
 * Each call looks its plain name up in the open directory's inode, as the
 * kernel does for a call relative to a directory fd, whatever the
 * directory's path is now: renamed, it is still that directory; removed,
 * nothing is found or made in it (libcephfs and the MDS answer ENOENT, as
 * the kernel does for a dead directory). Each is checked as its path call
 * is, with the same helpers (svc-ceph.h), as the caller c. A symlink to
 * a plain name is followed in the directory; one leading elsewhere takes
 * the path's way (-EAGAIN), whose walk keeps its target inside the top.
 */

/*
 * The directory of a call on name in the open directory dir (borrowed:
 * never released here), as a parent of the path calls. ENOTDIR first, as
 * the kernel's walk, before any permission (libcephfs asks uid 0 for x on
 * a file).
 */
static int at_parent(struct parent *pa, struct ceph_svc *cs, const struct dn_cred *c,
		     struct dn_file *dir, const char *name)
{
	*pa = (struct parent){.cs = cs, .c = c, .p = perm_of(c), .dir = dir->in, .base = name,
			      .type = DN_LAST_NORM};
	if (!pa->p)
		return -ENOMEM;
	if (!dir->is_dir)
		return -ENOTDIR;
	if (strlen(name) > NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * Where symlink link in pa's directory leads, when that is a plain name
 * (the common "lib.so -> lib.so.1"): the kernel looks it up in the same
 * directory, wherever it is now, and so do we. Puts link. 0 and name, or
 * -EAGAIN: elsewhere (a slash, ".", ".."), for the path's walk.
 */
static int link_target(struct parent *pa, struct Inode *link, char name[NAME_MAX + 1])
{
	struct ceph_mount_info *cm = pa->cs->cm;
	char t[PATH_MAX];
	/* fs.protected_symlinks, as the walk asks it */
	int r = may_follow(pa->cs, pa->c, pa->p, pa->dir, link);
	if (r == 0)
		r = ceph_ll_readlink(cm, link, t, sizeof(t) - 1, pa->p);
	ceph_ll_put(cm, link);
	if (r == 0)
		return -ENOENT; /* as the kernel: an empty target names nothing */
	if (r < 0)
		return r;
	t[r] = 0;
	if (r > NAME_MAX || strchr(t, '/') || strcmp(t, ".") == 0 || strcmp(t, "..") == 0)
		return -EAGAIN;
	memcpy(name, t, (size_t)r + 1);
	return 0;
}

/*
 * pa's name, looked up as the caller, with a reference in *in and the
 * attributes want in *x. follow: symlinks to plain names are followed
 * in the directory (link_target); one leading elsewhere is -EAGAIN.
 */
static int at_lookup(struct parent *pa, bool follow, unsigned want, struct Inode **in,
		     struct ceph_statx *x)
{
	struct ceph_mount_info *cm = pa->cs->cm;
	int r;
	/* libcephfs lets uid 0 search anything: the kernel asks for capabilities */
	if (dn_vfs_root_without_caps(pa->c) && (r = may_search(pa->cs, pa->c, pa->dir)) < 0)
		return r;
	char name[NAME_MAX + 1];
	const char *at = pa->base;
	for (unsigned links = 0;; links++) {
		r = ceph_ll_lookup(cm, pa->dir, at, in, x, want, AT_SYMLINK_NOFOLLOW, pa->p);
		if (r < 0 || !follow || !S_ISLNK(x->stx_mode))
			return r;
		/* (where a libservice above walks symlinks itself, the path's way refuses them) */
		if (links == SYMLINKS_MAX || dn_walk_symlinks_refused()) {
			ceph_ll_put(cm, *in);
			*in = NULL;
			return links == SYMLINKS_MAX ? -ELOOP : -EAGAIN;
		}
		r = link_target(pa, *in, name);
		*in = NULL; /* (the caller's f->in: put once) */
		if (r < 0)
			return r;
		at = name;
	}
}

/* fstatat(dirfd, name); the caller's identity is the thread's (svc.h) */
int ceph_svc_stat_at(struct dn_svc *s, struct dn_file *dir, const char *name, bool nofollow,
		     struct stat *st)
{
	struct parent pa;
	int r = at_parent(&pa, to_ceph(s), dn_cred_current(), dir, name);
	if (r < 0)
		return r;
	struct Inode *in;
	struct ceph_statx x;
	if ((r = at_lookup(&pa, !nofollow, STATX_WANT, &in, &x)) < 0)
		return r;
	ceph_ll_put(pa.cs->cm, in);
	stat_from_statx(&x, st);
	return 0;
}

/* unlinkat(dirfd, name, flags), checked as unlink and rmdir */
int ceph_svc_unlink_at(struct dn_svc *s, struct dn_file *dir, const char *name, int flags)
{
	struct ceph_svc *cs = to_ceph(s);
	struct parent pa;
	int r = at_parent(&pa, cs, dn_cred_current(), dir, name);
	if (r < 0)
		return r;
	bool isdir = flags & AT_REMOVEDIR;
	if ((r = vfs_may_delete(&pa, isdir)) < 0)
		return r;
	r = remove_result(&pa, isdir ? ceph_ll_rmdir(cs->cm, dir->in, name, pa.p)
				     : ceph_ll_unlink(cs->cm, dir->in, name, pa.p));
	if (r == 0 && isdir) /* a directory of that name made later is another */
		dn_ceph_paths_forget_name(cs->paths, dir->in, name);
	return r;
}

/*
 * openat(dirfd, name): O_CREAT as open's (created exclusively, else the
 * name there opened), else the name looked up; then open's checks and
 * open (open_found). A symlink: ELOOP with O_NOFOLLOW (unless O_PATH, which
 * opens the link), else followed (at_lookup); one that O_CREAT finds takes
 * the path's way.
 */
int ceph_svc_open_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
		     const char *name, int oflags, mode_t mode, struct dn_file **out,
		     int *handover)
{
	struct ceph_svc *cs = to_ceph(s);
	if (oflags & ~OPEN_FLAGS_ALLOWED)
		return -EINVAL;
	if ((oflags & O_TMPFILE) == O_TMPFILE)
		return -EAGAIN; /* (open's answer, whatever dir is) */
	struct parent pa;
	int r = at_parent(&pa, cs, c, dir, name);
	if (r < 0)
		return r;
	struct dn_file *f = open_file_new(c, oflags);
	if (!f)
		return -ENOMEM;
	struct ceph_statx x;
	bool nofollow = oflags & O_NOFOLLOW;
	if (oflags & O_CREAT) {
		r = open_create(&pa, f, oflags, mode, &x);
		if (r == 0 && !f->fh && S_ISLNK(x.stx_mode)) {
			ceph_ll_put(cs->cm, f->in);
			f->in = NULL;
			r = nofollow ? -ELOOP : -EAGAIN;
		}
	} else {
		r = at_lookup(&pa, !nofollow, WANT_TYPE_ONLY, &f->in, &x);
	}
	/* (created: open already) */
	if (r == 0 && !f->fh)
		r = open_found(cs, c, f, &x, oflags, handover);
	if (r != 0) {
		file_free(cs, f);
		return r; /* (DN_SVC_HANDOVER too: the client opens it) */
	}
	*out = f;
	return 0;
}

/* mkdirat(dirfd, name) */
int ceph_svc_mkdir_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
		      const char *name, mode_t mode)
{
	struct parent pa;
	int r = at_parent(&pa, to_ceph(s), c, dir, name);
	return r < 0 ? r : mkdir_in(&pa, mode);
}

/*
 * renameat2(from_dir, from, to_dir, to): the flags first, then both
 * directories, as do_renameat2; then rename's checks (rename_names), which
 * forget a moved or replaced directory in the path cache.
 */
int ceph_svc_rename_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *from_dir,
		       const char *from, struct dn_file *to_dir, const char *to, unsigned flags)
{
	struct ceph_svc *cs = to_ceph(s);
	struct parent fp, tp;
	int r = rename_flags_check(flags);
	if (r < 0 || (r = at_parent(&fp, cs, c, from_dir, from)) < 0 ||
	    (r = at_parent(&tp, cs, c, to_dir, to)) < 0)
		return r;
	return rename_names(&fp, &tp, flags);
}

/* fchmodat(dirfd, name): followed, as chmod(2) */
int ceph_svc_chmod_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
		      const char *name, mode_t mode)
{
	struct ceph_svc *cs = to_ceph(s);
	struct parent pa;
	struct Inode *in;
	struct ceph_statx x;
	int r = at_parent(&pa, cs, c, dir, name);
	if (r < 0 || (r = at_lookup(&pa, true, WANT_OWNER, &in, &x)) < 0)
		return r;
	struct ceph_statx want = {.stx_mode = (uint16_t)(mode & 07777)};
	r = setattr_inode(cs, c, in, &x, &want, CEPH_SETATTR_MODE);
	ceph_ll_put(cs->cm, in);
	return r;
}

/* utimensat(dirfd, name) */
int ceph_svc_utimens_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
			const char *name, bool nofollow, const struct timespec times[2])
{
	struct ceph_svc *cs = to_ceph(s);
	struct ceph_statx want = {0};
	int mask = utimens_mask(times, &want);
	/* as utimensat(2): nothing to do, not even a lookup */
	if (!mask)
		return 0;
	struct parent pa;
	struct Inode *in;
	struct ceph_statx x;
	int r = at_parent(&pa, cs, c, dir, name);
	if (r < 0 || (r = at_lookup(&pa, !nofollow, WANT_OWNER, &in, &x)) < 0)
		return r;
	r = setattr_inode(cs, c, in, &x, &want, mask);
	ceph_ll_put(cs->cm, in);
	return r;
}

/* fchownat(dirfd, name) */
int ceph_svc_chown_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
		      const char *name, bool nofollow, uid_t uid, gid_t gid)
{
	struct ceph_svc *cs = to_ceph(s);
	struct parent pa;
	struct Inode *in;
	struct ceph_statx x;
	int r = at_parent(&pa, cs, c, dir, name);
	if (r < 0 || (r = at_lookup(&pa, !nofollow, WANT_OWNER, &in, &x)) < 0)
		return r;
	r = chown_inode(cs, c, in, &x, uid, gid);
	ceph_ll_put(cs->cm, in);
	return r;
}
