/* Path Routing: does a path name a file of one of this process's Danaus mounts */
#pragma once

#include <limits.h>
#include <stdint.h>

#include <stdbool.h>

#include "path.h"
struct stat;

struct dn_target {
	uint32_t mount;  /* the mount (its instance, mounts.h) an absolute path is in */
	uint64_t handle; /* nonzero: path is relative to this open directory */
	int32_t dir_ofd; /* with handle: that directory's open file description (reopen.h) */
	/* the caller follows an absolute symlink the pool meets (ops.h, DN_OP_REDIRECTED) */
	bool redirect;
	/* the working directory's pool path joined to a relative one: DN_PATH_MAX */
	char path[DN_PATH_MAX];
};

/*
 * 1 when (dirfd, path) names a Danaus file (t filled in), 0 when it is the
 * kernel's business (also when path cannot be read: the kernel answers
 * EFAULT; -EFAULT relative to a Danaus fd), or -errno. Costs one compare
 * for paths outside.
 */
/*
 * After the kernel answered ENOENT or EACCES for (dirfd, path), a host
 * path: 1 when a host symlink on the way leads into a mount (its empty,
 * search-only placeholder answered; t filled in for the rest of the way),
 * else 0, errno untouched. Costs paths without a symlink one openat2;
 * nothing for any path the kernel found.
 */
int dn_route_host_link(int dirfd, const char *path, struct dn_target *t);
/*
 * Before the kernel creates host path (dirfd, path): 1 when the directory
 * it would be made in is a mountpoint's placeholder reached by a symlink
 * (/tmp/l -> /danaus/p, then /tmp/l/new: t is the name in the pool). Only
 * a caller that can write there (CAP_DAC_OVERRIDE: it is 0111) pays: one
 * stat of the directory.
 */
int dn_route_create(int dirfd, const char *path, struct dn_target *t);
/* The same after any answer (errno) of the kernel: ENOENT and EACCES are looked at. */
int dn_route_after(int dirfd, const char *path, struct dn_target *t);
/*
 * When the kernel found st, host path (dirfd, path)'s, to be a mountpoint's
 * placeholder, not through a /proc magic link (a working directory in the
 * mount is one): 1, t its top.
 */
int dn_route_placeholder(int dirfd, const char *path, const struct stat *st,
			 struct dn_target *t);
/* Whether path (readable) is PATH_MAX bytes or longer: the kernel's ENAMETOOLONG. */
bool dn_path_too_long(const char *path);
/*
 * What readlink of /proc/self/fd/N (or /dev/fd/N...) says for a Danaus fd N:
 * the file's path as it was opened, into out; its length, 0 for any other
 * path, -ENAMETOOLONG.
 */
int dn_route_own_link(const char *path, char *out, size_t cap);
/*
 * A Danaus fd itself (a call's "" with AT_EMPTY_PATH) by its name, for what
 * the pool answers by name only (access) or takes by name from an O_PATH
 * description (chown, utimensat): t as /proc/self/fd/N routes, *nofollow
 * when the file is a symlink itself (O_PATH | O_NOFOLLOW); 0 or -errno.
 */
int dn_route_self(int fd, struct dn_target *t, bool *nofollow);
/* N when path is /proc/self/fd/N (or /dev/fd/N...) of a Danaus fd N, nothing after it; else -1. */
int dn_route_own_fd(const char *path);
int dn_route(int dirfd, const char *path, struct dn_target *t);
/* The same, but -EFAULT when path cannot be read (rather than 0: the kernel's to refuse). */
int dn_route_strict(int dirfd, const char *path, struct dn_target *t);
/*
 * An empty path with AT_EMPTY_PATH from AT_FDCWD names the working
 * directory: "." when that is in a mount (the kernel's own would be the
 * placeholder), else path unchanged.
 */
const char *dn_route_empty_cwd(int dirfd, const char *path, int flags);

/* Fills st (a struct stat) from the wire. */
struct dn_stat;
void dn_stat_from_wire(const struct dn_stat *w, struct stat *st);
/*
 * What the last answer converted on this thread told beyond struct stat
 * (DN_STAT_BTIME, DN_STAT_ATTRS), if it was st's file: statx shows it.
 */
bool dn_stat_more(const struct stat *st, struct dn_stat *more);
