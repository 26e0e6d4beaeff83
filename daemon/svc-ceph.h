/* Ceph Libservice Internals: what svc-ceph.c shares with svc-ceph-at.c, nothing else */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include <cephfs/libcephfs.h>

#include "ceph-paths.h"
#include "cred.h"
#include "path.h"
#include "protect.h"
#include "svc.h"

#define SYMLINKS_MAX 40 /* as Linux: ELOOP after 40 links in one walk */
#define STATX_WANT CEPH_STATX_BASIC_STATS
/*
 * Only the file type, which libcephfs always fills in from its cache, where
 * asking for any attribute (even CEPH_STATX_MODE: the "As" cap) costs an MDS
 * round trip whenever another client's change took that cap away. Walks
 * through directories and opens need no more than the type.
 */
#define WANT_TYPE_ONLY 0u
/* what the kernel's permission and ownership checks read off an inode */
#define WANT_OWNER (CEPH_STATX_MODE | CEPH_STATX_UID | CEPH_STATX_GID)

struct ceph_svc {
	struct dn_svc base;
	struct ceph_mount_info *cm;
	struct Inode *root; /* the pool's top: [ceph] root, one reference held */
	/* Appends place data at the size as this client sees it; one at a time. */
	pthread_mutex_t append_lock;
	struct dn_fifos *fifos;
	struct dn_map_owners *map_owners; /* clients map copies: one writable one per file */
	bool acl_umask; /* libcephfs applies the caller's umask (POSIX ACLs on) */
	struct dn_protect protect; /* the host's fs.protected_*, as its kernel applies them */
	struct dn_ceph_paths *paths; /* directories walked to, by path ([ceph] entry_timeout); NULL: off */
};

struct dn_file {
	struct Inode *in; /* one reference */
	struct Fh *fh;    /* NULL for directories and O_PATH */
	struct ceph_dir_result *dir;
	int oflags;
	pthread_mutex_t lock; /* readdir moves the shared directory position */
	/* the opener's identity, for calls on the open file that want one */
	UserPerm *perm;
	gid_t groups[DN_GROUPS_MAX];
	char *path; /* opened by a path with "." or "..": what it resolved to (fpath) */
	uint64_t map_ino; /* non-zero: claimed in map_owners for a writable shared copy */
	bool is_dir;      /* names can be looked up in it (the *_at calls, svc-ceph-at.c) */
	short flock_held; /* F_RDLCK or F_WRLCK taken by flock on this open file, else F_UNLCK */
};

#define OPEN_FLAGS_ALLOWED                                                                         \
	(O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_DIRECTORY | O_NOFOLLOW |            \
	 O_NONBLOCK | O_DSYNC | O_SYNC | O_NOATIME | O_LARGEFILE | O_DIRECT | O_PATH | O_TMPFILE)

static inline struct ceph_svc *to_ceph(struct dn_svc *s)
{
	return (struct ceph_svc *)s;
}

/*
 * The directory a call adds a name to or removes one from, walked as the
 * caller (or an open directory, borrowed), and that name: path's last
 * component as written, split off without folding anything (dn_path_last),
 * which each call answers as the kernel does when it is "." or ".." (type)
 * or has a trailing slash.
 */
struct parent {
	struct ceph_svc *cs;
	const struct dn_cred *c;
	const UserPerm *p;
	struct Inode *dir; /* one reference once walked, else NULL */
	const char *base;  /* the last component, without its trailing slashes */
	char name[NAME_MAX + 1];
	enum dn_path_last_type type;
	bool slash;        /* trailing slashes followed it */
	char *canon;       /* DN_PATH_MAX or NULL: gets the directory's canonical path */
};

/* svc-ceph.c: the checks and steps the path calls and the *_at calls share */
const UserPerm *perm_of(const struct dn_cred *c);
void stat_from_statx(const struct ceph_statx *x, struct stat *st);
int may_search(struct ceph_svc *cs, const struct dn_cred *c, struct Inode *dir);
int may_follow(struct ceph_svc *cs, const struct dn_cred *c, const UserPerm *p,
	       struct Inode *dir, struct Inode *link);
int vfs_may_delete(struct parent *pa, bool isdir);
int remove_result(struct parent *pa, int r);
int mkdir_in(struct parent *pa, mode_t mode);
/* a new open file of c's, of no inode yet; NULL: no memory */
struct dn_file *open_file_new(const struct dn_cred *c, int oflags);
void file_free(struct ceph_svc *cs, struct dn_file *f);
/*
 * open(2) with O_CREAT of pa's name: created (f->in, f->fh), or the name
 * that is there found (f->in, not followed); *x has its type.
 */
int open_create(struct parent *pa, struct dn_file *f, int oflags, mode_t mode,
		struct ceph_statx *x);
/* open(2) of f->in, found with type x: 0, DN_SVC_HANDOVER (f to free) or -errno */
int open_found(struct ceph_svc *cs, const struct dn_cred *c, struct dn_file *f,
	       const struct ceph_statx *x, int oflags, int *handover);
/* renameat2(2)'s checks of flags alone, which come before any lookup */
int rename_flags_check(unsigned flags);
/* rename of fp's name (plain, not ".", "..") to tp's, checked as the kernel does */
int rename_names(struct parent *fp, struct parent *tp, unsigned flags);
/* setattr of in (attributes x, WANT_OWNER at least) as c, with the kernel's checks */
int setattr_inode(struct ceph_svc *cs, const struct dn_cred *c, struct Inode *in,
		  const struct ceph_statx *x, struct ceph_statx *want, int mask);
/* utimensat's times as a setattr into *want: its mask, 0 when both are omitted */
int utimens_mask(const struct timespec times[2], struct ceph_statx *want);
/* chown(2) of in (attributes x, WANT_OWNER at least) as c */
int chown_inode(struct ceph_svc *cs, const struct dn_cred *c, struct Inode *in,
		const struct ceph_statx *x, uid_t uid, gid_t gid);

/* svc-ceph-at.c: the ops relative to an open directory */
int ceph_svc_stat_at(struct dn_svc *s, struct dn_file *dir, const char *name, bool nofollow,
		     struct stat *st);
int ceph_svc_unlink_at(struct dn_svc *s, struct dn_file *dir, const char *name, int flags);
int ceph_svc_open_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
		     const char *name, int oflags, mode_t mode, struct dn_file **out,
		     int *handover);
int ceph_svc_mkdir_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
		      const char *name, mode_t mode);
int ceph_svc_rename_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *from_dir,
		       const char *from, struct dn_file *to_dir, const char *to, unsigned flags);
int ceph_svc_chmod_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
		      const char *name, mode_t mode);
int ceph_svc_utimens_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
			const char *name, bool nofollow, const struct timespec times[2]);
int ceph_svc_chown_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
		      const char *name, bool nofollow, uid_t uid, gid_t gid);
