/* Client Operations: each POSIX call on a Danaus file as requests to the pool */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

/* O_LARGEFILE as the kernel has it (glibc's is 0 on 64-bit) */
#if defined(__x86_64__)
#define KERNEL_O_LARGEFILE 0100000
#elif defined(__aarch64__)
#define KERNEL_O_LARGEFILE 0400000
#else
#error "64-bit Linux only (x86_64, aarch64)"
#endif

/* The kernel's VALID_OPEN_FLAGS: open and openat drop any other bit, openat2 refuses it. */
#define KERNEL_OPEN_FLAGS                                                                          \
	(O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC |     \
	 O_ASYNC | O_DIRECT | KERNEL_O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME |           \
	 O_CLOEXEC | O_PATH | O_TMPFILE | O_SYNC)

#include "route.h"
#include "wire.h"

/* All return >= 0 or -errno. */
/*
 * -DN_OP_REDIRECTED from open, stat and access of a target with redirect
 * set: the pool's walk met an absolute symlink, which a kernel filesystem
 * resolves from the process's root; the caller resolves the path the pool
 * answered (absolute: the link's target and what followed it) instead, as
 * any path of its own (dn_op_redirect_follow). Never an errno.
 */
#define DN_OP_REDIRECTED 4000
#define DN_OP_REDIRECTS_MAX 40 /* as the kernel's symlinks per walk: then ELOOP */

/*
 * After -DN_OP_REDIRECTED on the hops-th try (from 0): *path becomes the
 * path the pool answered, copied into next (the caller's); false, and
 * *path unchanged, past DN_OP_REDIRECTS_MAX, where the kernel says ELOOP.
 */
bool dn_op_redirect_follow(const char **path, char next[PATH_MAX], int hops);

int dn_op_open(const struct dn_target *t, int flags, mode_t mode);
int dn_op_close(int fd);
/* off < 0: at (and advancing) the file offset */
ssize_t dn_op_read(int fd, void *buf, size_t n, off_t off);
ssize_t dn_op_write(int fd, const void *buf, size_t n, off_t off);
ssize_t dn_op_readv(int fd, const struct iovec *iov, int cnt, off_t off);
ssize_t dn_op_writev(int fd, const struct iovec *iov, int cnt, off_t off);
/* append: 1 or 0 for this write alone (pwritev2's RWF_APPEND, RWF_NOAPPEND), -1 as opened */
ssize_t dn_op_writev_append(int fd, const struct iovec *iov, int cnt, off_t off, int append);
off_t dn_op_lseek(int fd, off_t off, int whence);
int dn_op_fstat(int fd, struct stat *st);
int dn_op_stat(const struct dn_target *t, bool nofollow, struct stat *st);
/* The same from the pool now, never a kept answer (statx's AT_STATX_FORCE_SYNC). */
int dn_op_stat_fresh(const struct dn_target *t, bool nofollow, struct stat *st);
/* Path ops without reply data: MKDIR, RMDIR, UNLINK, ACCESS, TRUNCATE, CHMOD. */
int dn_op_path(uint32_t op, const struct dn_target *t, uint32_t mode, uint32_t flags,
	       uint64_t off);
ssize_t dn_op_readlink(const struct dn_target *t, char *buf, size_t size);
/* Timestamps/ownership of t's path, or (t NULL) of Danaus fd. */
int dn_op_utimens(const struct dn_target *t, int fd, const struct timespec times[2],
		  bool nofollow);
int dn_op_chown(const struct dn_target *t, int fd, uid_t uid, gid_t gid, bool nofollow);
/*
 * Ops on t's path or (t NULL) on Danaus fd: STATFS, the xattr ops. name goes
 * as the second path, in as data; up to outlen bytes of the reply's data
 * land in out. Returns the op's result.
 */
int64_t dn_op_pathfd(uint32_t op, const struct dn_target *t, int fd, bool nofollow,
		     const char *name, const void *in, size_t inlen, void *out, size_t outlen,
		     uint32_t oflags);
/* SYMLINK (path: the new link, path2: target) and LINK (path, path2: new name; flags). */
int dn_op_path2(uint32_t op, const struct dn_target *a, const struct dn_target *b,
		const char *raw2, uint32_t flags);
/* A new name to for Danaus fd fd's file itself (linkat's AT_EMPTY_PATH): 0, -errno; -ENOSYS: by name. */
int dn_op_link_file(int fd, const struct dn_target *to);
int dn_op_fallocate(int fd, int mode, off_t off, off_t len);
/* posix_fadvise's advice, checked as the kernel checks it, for the pool's cache. */
int dn_op_fadvise(int fd, off_t off, off_t len, int advice);
/* One non-blocking attempt; F_GETLK answers in *fl. */
int dn_op_lock(int fd, int cmd, struct flock *fl, uint64_t owner);
int dn_op_flock(int fd, int op, uint64_t owner);
/* Releases this process's POSIX locks on fd's file (if it ever took one). */
void dn_op_drop_posix_locks(int fd);
/* The pool path a Danaus fd was opened by. */
ssize_t dn_op_fpath(int fd, char *buf, size_t size);
int dn_op_rename(const struct dn_target *from, const struct dn_target *to, unsigned flags);
/* Fd ops without reply data: FSYNC, FTRUNCATE, FCHMOD. */
int dn_op_file(uint32_t op, int fd, uint32_t flags, uint64_t off, uint32_t mode);
/*
 * A kernel descriptor of fd's file to map shared, one page cache with the
 * pool's reads and writes and every other mapper (the caller closes it);
 * -ENODEV when the pool's backend has none: map a copy, which with
 * writable the pool may refuse (-EAGAIN: another open file has one).
 */
int dn_op_mapfd(int fd, bool writable);
ssize_t dn_op_readdir(int fd, uint64_t cookie, void *buf, size_t len, uint64_t *next);
/* dup, dup2/dup3 (newfd >= 0) and F_DUPFD (newfd < 0, from minfd). */
int dn_op_dup(int oldfd, int newfd, int minfd, bool cloexec);
/* Another fd (not Danaus) is about to replace Danaus fd newfd by dup2. */
void dn_op_replaced(int newfd);

/* Our own descriptors (session, template) must survive a program's dup2 and close. */
bool dn_is_internal_fd(int fd);
int dn_internal_fd_evict(int fd);

/* fcntl commands beyond flags, locks and dup on a Danaus fd (fcntl-more.c) */
int dn_fcntl_more(int fd, int cmd, void *arg);
/* A description's index is used anew: forget what fcntl set on its predecessor. */
void dn_fcntl_forget(int32_t ofd);
