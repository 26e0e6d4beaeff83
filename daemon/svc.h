/* Libservice Operations: the one table every storage backend fills in */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"

#define DN_GROUPS_MAX 64

/*
 * Who a request runs as: taken from the peer of the session's socket at the
 * handshake (SO_PEERCRED, SO_PEERGROUPS, its capabilities), never from shm.
 */
struct dn_cred {
	uid_t uid;
	gid_t gid;
	uint32_t ngroups;
	gid_t groups[DN_GROUPS_MAX];
	uint64_t caps; /* effective capabilities, bit n = capability n */
};

struct dn_svc;
struct dn_file; /* an open file of a backend, opaque to the core */

/*
 * Paths are absolute within the pool ("/" is the pool's top) and as the
 * caller wrote them: ".", "..", repeated and trailing slashes intact. A
 * backend resolves them as the kernel would, one component at a time with
 * the caller's rights (search permission for "sub/..", a symlink before
 * "..", ENOTDIR for "file/"), and gives a last component of "." or ".." the
 * kernel's errno for each call; nothing outside the pool's top is
 * reachable: ".." at the top stays there, absolute symlinks start there.
 * Every op returns >= 0 or a negative errno that reaches the application
 * unchanged. An op a backend leaves NULL answers -ENOSYS.
 *
 * Creating ops (open with O_CREAT or O_TMPFILE, mkdir, mknod) get the mode
 * without the caller's umask: dn_umask_caller() holds it (umask.h), and a
 * backend applies it as the kernel would, not under a default ACL.
 */
/*
 * open's answer for a file whose open(2) may block, or acts on more than
 * the file (FIFOs, devices): the pool does not open it. *handover is an
 * O_PATH descriptor of the file, or of a stand-in the kernel opens with the
 * same semantics, which the client opens itself, in its own thread, with
 * its own rights (and device cgroup). No request ever waits in such an open.
 */
#define DN_SVC_HANDOVER 1

struct dn_svc_ops {
	const char *name;
	/* stacked on a backend it hands paths without symlinks: no-symlinks.h */
	bool real_paths;
	/* written data waits in a cache of the pool's own, lost if it dies (DN_SESSION_CACHE_DIES) */
	bool cache_dies;
	/* 0 and *out; DN_SVC_HANDOVER and *handover; or -errno */
	int (*open)(struct dn_svc *s, const struct dn_cred *c, const char *path, int oflags,
		    mode_t mode, struct dn_file **out, int *handover);
	void (*close)(struct dn_svc *s, struct dn_file *f);
	/*
	 * Optional: the path of f with "." and ".." folded as its open resolved
	 * them (the path it was opened by had some), into buf; >= 0, or -errno
	 * when not known (the core then folds them lexically).
	 */
	int (*fpath)(struct dn_svc *s, struct dn_file *f, char *buf, size_t len);
	/*
	 * Optional: a kernel descriptor of f (the caller's) whose MAP_SHARED
	 * maps share one page cache with this backend's reads and writes of
	 * the file, for the client to map itself: maps of every process then
	 * see each other's stores, as on a kernel filesystem. -ENODEV: the
	 * client maps a copy (preload/mmap.c); writable says it may write that
	 * copy back, which the backend may refuse (map-owners.h). Without the
	 * op, copies.
	 */
	int (*mapfd)(struct dn_svc *s, struct dn_file *f, bool writable);
	ssize_t (*pread)(struct dn_svc *s, struct dn_file *f, void *buf, size_t len, off_t off);
	/* off < 0: append; *end gets the file offset after the write */
	ssize_t (*pwrite)(struct dn_svc *s, struct dn_file *f, const void *buf, size_t len,
			  off_t off, uint64_t *end);
	/*
	 * Optional: O_DIRECT on or off for f's reads and writes from now on,
	 * as the client's F_SETFL asks (its open's flags had it already).
	 * lens: a readv/writev's segment lengths ORed (0: one buffer), each of
	 * which must meet the file's direct I/O alignment: -EINVAL if not.
	 */
	int (*set_direct)(struct dn_svc *s, struct dn_file *f, bool on, uint32_t lens);
	int (*fstat)(struct dn_svc *s, struct dn_file *f, struct stat *st);
	int (*stat)(struct dn_svc *s, const struct dn_cred *c, const char *path, bool nofollow,
		    struct stat *st);
	int (*access)(struct dn_svc *s, const struct dn_cred *c, const char *path, int mode,
		      bool nofollow);
	int (*mkdir)(struct dn_svc *s, const struct dn_cred *c, const char *path, mode_t mode);
	/* A FIFO, socket or regular file; devices only for root (the core checks). */
	int (*mknod)(struct dn_svc *s, const struct dn_cred *c, const char *path, mode_t mode,
		     dev_t dev);
	int (*rmdir)(struct dn_svc *s, const struct dn_cred *c, const char *path);
	int (*unlink)(struct dn_svc *s, const struct dn_cred *c, const char *path);
	/*
	 * Optional: stat, and unlink or rmdir (AT_REMOVEDIR in flags), of one
	 * plain name (no '/', not "." or "..") in the open directory dir, as
	 * fstatat(2) and unlinkat(2) relative to a directory fd look it up: in
	 * that directory, whatever its path is now. The caller's identity is
	 * the thread's already. -EAGAIN: not this way (a symlink to follow, say);
	 * the core then hands the call its path.
	 */
	int (*stat_at)(struct dn_svc *s, struct dn_file *dir, const char *name, bool nofollow,
		       struct stat *st);
	int (*unlink_at)(struct dn_svc *s, struct dn_file *dir, const char *name, int flags);
	/*
	 * Optional, the same way: open (O_CREAT too), mkdir and rename of plain
	 * names in open directories (rename's two may be one), each as its path
	 * call would do it with c's rights, but in those directories whatever
	 * their paths are now. -EAGAIN: the core hands the call its paths.
	 */
	int (*open_at)(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
		       const char *name, int oflags, mode_t mode, struct dn_file **out,
		       int *handover);
	int (*mkdir_at)(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
			const char *name, mode_t mode);
	int (*rename_at)(struct dn_svc *s, const struct dn_cred *c, struct dn_file *from_dir,
			 const char *from, struct dn_file *to_dir, const char *to, unsigned flags);
	/* chmod (following), utimensat, fchownat of a plain name in dir: as their path calls */
	int (*chmod_at)(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
			const char *name, mode_t mode);
	int (*utimens_at)(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
			  const char *name, bool nofollow, const struct timespec times[2]);
	int (*chown_at)(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
			const char *name, bool nofollow, uid_t uid, gid_t gid);
	int (*rename)(struct dn_svc *s, const struct dn_cred *c, const char *from, const char *to,
		      unsigned flags);
	/* Fills buf with linux_dirent64 records from cookie on; *next = cookie after the last. */
	ssize_t (*readdir)(struct dn_svc *s, struct dn_file *f, uint64_t cookie, void *buf,
			   size_t len, uint64_t *next);
	int (*fsync)(struct dn_svc *s, struct dn_file *f, bool datasync);
	/* Optional: flushes all of the backend f lies on (syncfs(2)); without it, f alone. */
	int (*syncfs)(struct dn_svc *s, struct dn_file *f);
	int (*truncate)(struct dn_svc *s, const struct dn_cred *c, const char *path, off_t len);
	int (*ftruncate)(struct dn_svc *s, struct dn_file *f, off_t len);
	int (*chmod)(struct dn_svc *s, const struct dn_cred *c, const char *path, mode_t mode);
	int (*fchmod)(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f, mode_t mode);
	/* Answers the link's target (not NUL-terminated), at most len bytes. */
	ssize_t (*readlink)(struct dn_svc *s, const struct dn_cred *c, const char *path, char *buf,
			    size_t len);
	/* times[0] atime, times[1] mtime; f != NULL: the open file, else path */
	int (*utimens)(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
		       const char *path, bool nofollow, const struct timespec times[2]);
	int (*chown)(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
		     const char *path, bool nofollow, uid_t uid, gid_t gid);
	int (*symlink)(struct dn_svc *s, const struct dn_cred *c, const char *target,
		       const char *path);
	/* follow: a symlink as the old name's last component is followed (AT_SYMLINK_FOLLOW) */
	int (*link)(struct dn_svc *s, const struct dn_cred *c, const char *from, const char *to,
		    bool follow);
	/* Optional: a new name for open file f (linkat's AT_EMPTY_PATH); -ENOSYS: by its name */
	int (*link_file)(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			 const char *to);
	/* f != NULL: the open file's filesystem, else path's; *type: statfs(2)'s f_type, or 0 */
	int (*statfs)(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
		      const char *path, struct statvfs *st, uint64_t *type);
	int (*fallocate)(struct dn_svc *s, struct dn_file *f, int mode, off_t off, off_t len);
	/*
	 * lseek's SEEK_DATA/SEEK_HOLE from off: the offset, or -ENXIO past the
	 * end; SEEK_END of a directory
	 */
	off_t (*seek)(struct dn_svc *s, struct dn_file *f, off_t off, int whence);
	/*
	 * Optional: one of DN_OP_IOCTL's read-only inode ioctls on f, arg as
	 * the kernel's (FIEMAP: the request, with room for its extents)
	 */
	int (*ioctl_get)(struct dn_svc *s, struct dn_file *f, unsigned int req, void *arg);
	/*
	 * Optional: chattr's FS_IOC_SETFLAGS (arg an int) or FS_IOC_FSSETXATTR
	 * on f, decided with c's rights as the kernel decides them (the owner
	 * or CAP_FOWNER; CAP_LINUX_IMMUTABLE for the append and immutable flags)
	 */
	int (*ioctl_set)(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			 unsigned int req, const void *arg);
	/* posix_fadvise: advice for the backend's cache; a backend without it ignores it */
	int (*fadvise)(struct dn_svc *s, struct dn_file *f, off_t off, off_t len, int advice);
	/*
	 * Extended attributes of the open file f, or of path (nofollow: of a
	 * symlink itself). get/list answer the size; with len 0 only the size.
	 */
	ssize_t (*getxattr)(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			    const char *path, bool nofollow, const char *name, void *buf,
			    size_t len);
	int (*setxattr)(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			const char *path, bool nofollow, const char *name, const void *value,
			size_t len, int flags);
	ssize_t (*listxattr)(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			     const char *path, bool nofollow, char *buf, size_t len);
	int (*removexattr)(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			   const char *path, bool nofollow, const char *name);
	/*
	 * Advisory record locks of the open file, never blocking (the client
	 * retries F_SETLKW): cmd F_GETLK or F_SETLK semantics, with owner the
	 * client's lock owner (process or open file description). For F_GETLK
	 * *fl is updated; l_pid of a conflicting lock may be 0.
	 */
	int (*lock)(struct dn_svc *s, struct dn_file *f, int cmd, struct flock *fl,
		    uint64_t owner);
	/* flock(2) on the open file; LOCK_NB is always set (the client retries). */
	int (*flock)(struct dn_svc *s, struct dn_file *f, int op, uint64_t owner);
	/*
	 * A session ended: drop every lock its owners still hold. Owners are
	 * (session id << 32) | the client's owner (pid, or bit 31 + its open
	 * file description), so owners of different sessions never mix.
	 */
	void (*forget_owners)(struct dn_svc *s, uint64_t session_bits);
	void (*destroy)(struct dn_svc *s);
};

struct dn_svc {
	const struct dn_svc_ops *ops;
};

/* Backends, chosen by [pool] backend. */
int dn_svc_local_new(const struct dn_config *cfg, struct dn_svc **out, char *err, size_t errlen);
/* Built when libcephfs is found (HAVE_CEPHFS). */
int dn_svc_ceph_new(const struct dn_config *cfg, struct dn_svc **out, char *err, size_t errlen);

/* A union's layers: backend paths (lower top first), or image's from the store. */
struct dn_union_spec {
	const char *image;  /* NAME:TAG in DN_IMAGE_STORE, or NULL for lower */
	char *const *lower;
	size_t nlower;
	const char *upper;
};

/*
 * Stacks a union on below, which holds its layers; with owns_below it takes
 * below (destroyed with the union, or on error). The writable layer is made
 * when missing. 0, or -errno with a message in err.
 */
int dn_svc_union_new(const struct dn_union_spec *spec, struct dn_svc *below, bool owns_below,
		     struct dn_svc **out, char *err, size_t errlen);

/*
 * The origin inode a union's copy-up recorded on fd, a backend file (the
 * number the union answers for it): *ino, 0 when none; -errno when not known.
 */
int dn_union_fd_origin(int fd, uint64_t *ino);

/*
 * The number a union answers for f, a regular file of the backend open
 * through another instance of it: the origin a copy-up recorded; 0: none.
 */
uint64_t dn_union_file_origin(struct dn_svc *s, struct dn_file *f);

/*
 * The number a stat through another instance answers for f, a regular file
 * open through s, besides s's own (a change bumps both: gens.h): through a
 * union, the backend's; elsewhere, the union's (dn_union_file_origin). 0: none.
 */
uint64_t dn_union_other_ino(struct dn_svc *s, struct dn_file *f);

/*
 * What a backend's stat told beyond struct stat (statx's birth time and
 * attributes; mask: DN_STAT_*), for the reply to the stat it answered:
 * kept per thread with the file's device and inode, so that a stat of
 * another file since (a union's of its layers, whose answers carry the
 * union's device) never lends it its own.
 */
struct dn_stat_more {
	uint32_t mask;
	dev_t dev;
	ino_t ino;
	struct timespec btime;
	uint32_t attributes, attributes_mask;
};
void dn_stat_more_set(const struct dn_stat_more *m);
void dn_stat_more_clear(void);
/* *m for the file st describes, if its backend told more about it */
bool dn_stat_more_get(const struct stat *st, struct dn_stat_more *m);

/* Whether s is a union instance. */
bool dn_svc_is_union(const struct dn_svc *s);

/* The backend under s when s is a union, else s. */
struct dn_svc *dn_svc_union_below(struct dn_svc *s);

/* Picks the backend named in cfg, under its union when [union] says so. */
int dn_svc_new(const struct dn_config *cfg, struct dn_svc **out, char *err, size_t errlen);

/*
 * Directory path of below (absolute, normalized, no symlinks: "/" for all of
 * it) as a tree of its own: nothing outside it is reachable, as nothing is
 * outside the pool's top. below stays the caller's. 0, or -errno with a
 * message in err.
 */
int dn_svc_subtree_new(struct dn_svc *below, const char *path, struct dn_svc **out, char *err,
		       size_t errlen);
