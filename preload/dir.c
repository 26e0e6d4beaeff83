/* Directory Streams: opendir/readdir over Danaus directories */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "client.h"
#include "export.h"
#include "fork-guard.h"
#include "ops.h"
#include "real.h"
#include "route.h"

#define DIR_BUF 32768
#define DIR_SLOTS 2048

struct dn_dir {
	int fd;
	bool eof;
	uint64_t cookie; /* where the next fetch starts */
	uint64_t pos;    /* telldir: cookie of the next entry returned */
	size_t at, len;
	struct dn_dir *next_free;
	struct dirent ent;
	uint8_t buf[DIR_BUF];
};

/*
 * Our DIRs live in one reserved arena, so telling them from glibc's is a
 * range check, not a lookup under a lock.
 */
static struct dn_dir *arena;
static struct dn_dir *free_list;
static size_t arena_used;
static pthread_mutex_t dir_lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((constructor)) static void dirs_fork_setup(void)
{
	dn_fork_guard(&dir_lock);
}

static struct dn_dir *ours(DIR *d)
{
	struct dn_dir *p = (struct dn_dir *)d;
	return arena && p >= arena && p < arena + DIR_SLOTS ? p : NULL;
}

static struct dn_dir *dir_alloc(void)
{
	struct dn_dir *d = NULL;
	pthread_mutex_lock(&dir_lock);
	if (!arena) {
		void *m = mmap(NULL, sizeof(struct dn_dir) * DIR_SLOTS, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m != MAP_FAILED)
			arena = m;
	}
	if (free_list) {
		d = free_list;
		free_list = d->next_free;
	} else if (arena && arena_used < DIR_SLOTS) {
		d = &arena[arena_used++];
	}
	pthread_mutex_unlock(&dir_lock);
	return d;
}

static void dir_free(struct dn_dir *d)
{
	pthread_mutex_lock(&dir_lock);
	d->next_free = free_list;
	free_list = d;
	pthread_mutex_unlock(&dir_lock);
}

static DIR *dir_from_fd(int fd)
{
	struct dn_dir *d = dir_alloc();
	if (!d) {
		errno = EMFILE;
		return NULL;
	}
	d->fd = fd;
	d->eof = false;
	d->cookie = d->pos = 0;
	d->at = d->len = 0;
	return (DIR *)d;
}

DN_EXPORT DIR *opendir(const char *path)
{
	char next[PATH_MAX];
	int fd;
	for (int hops = 0;; hops++) {
		struct dn_target t;
		int r = dn_route(AT_FDCWD, path, &t);
		if (r == 0) {
			DIR *kd = REAL(opendir)(path);
			struct stat st;
			/* the kernel's, unless a host symlink led into a mount (its placeholder) */
			if (kd ? REAL(fstat)(REAL(dirfd)(kd), &st) < 0 ||
				     !dn_route_placeholder(AT_FDCWD, path, &st, &t)
			       : !dn_route_after(AT_FDCWD, path, &t))
				return kd;
			if (kd)
				REAL(closedir)(kd);
		}
		if (r < 0) {
			errno = -r;
			return NULL;
		}
		/* an absolute symlink met in the pool goes on from the process's root (ops.h) */
		t.redirect = true;
		fd = dn_op_open(&t, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
		if (fd != -DN_OP_REDIRECTED || !dn_op_redirect_follow(&path, next, hops))
			break;
	}
	if (fd < 0) {
		errno = fd == -DN_OP_REDIRECTED ? ELOOP : -fd;
		return NULL;
	}
	DIR *d = dir_from_fd(fd);
	if (!d)
		dn_op_close(fd);
	return d;
}

DN_EXPORT DIR *fdopendir(int fd)
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(fdopendir)(fd);
	struct stat st;
	int r = dn_op_fstat(fd, &st);
	if (r == 0 && !S_ISDIR(st.st_mode))
		r = -ENOTDIR;
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return dir_from_fd(fd);
}

DN_EXPORT struct dirent *readdir(DIR *dir)
{
	struct dn_dir *d = ours(dir);
	if (!d)
		return REAL(readdir)(dir);
	if (d->at >= d->len) {
		if (d->eof)
			return NULL;
		uint64_t next = d->cookie;
		ssize_t n = dn_op_readdir(d->fd, d->cookie, d->buf, sizeof(d->buf), &next);
		if (n < 0) {
			errno = (int)-n;
			return NULL;
		}
		if (n == 0) {
			d->eof = true;
			return NULL;
		}
		d->at = 0;
		d->len = (size_t)n;
		d->cookie = next;
	}
	struct dirent64 *e = (struct dirent64 *)(d->buf + d->at);
	if (e->d_reclen < offsetof(struct dirent64, d_name) + 1 || d->at + e->d_reclen > d->len) {
		errno = EIO;
		return NULL;
	}
	d->at += e->d_reclen;
	d->ent.d_ino = e->d_ino;
	d->ent.d_off = e->d_off;
	d->ent.d_type = e->d_type;
	size_t nl = strnlen(e->d_name, e->d_reclen - offsetof(struct dirent64, d_name));
	if (nl >= sizeof(d->ent.d_name))
		nl = sizeof(d->ent.d_name) - 1;
	memcpy(d->ent.d_name, e->d_name, nl);
	d->ent.d_name[nl] = 0;
	d->ent.d_reclen = sizeof(d->ent);
	d->pos = (uint64_t)e->d_off;
	return &d->ent;
}
DN_EXPORT struct dirent64 *readdir64(DIR *dir)
{
	return (struct dirent64 *)readdir(dir);
}

/*
 * glibc's readdir_r reads its own DIR layout, which ours is not: the entry
 * comes from readdir above. (Deprecated, but old code still calls it.)
 */
static int read_entry(DIR *dir, void *entry, void **result)
{
	int saved = errno;
	errno = 0;
	struct dirent *e = readdir(dir);
	int err = errno;
	errno = saved;
	*result = NULL;
	if (!e)
		return err;
	memcpy(entry, e, offsetof(struct dirent, d_name) + strlen(e->d_name) + 1);
	*result = entry;
	return 0;
}

DN_EXPORT int readdir_r(DIR *dir, struct dirent *entry, struct dirent **result)
{
	if (!ours(dir))
		return REAL(readdir_r)(dir, entry, result);
	return read_entry(dir, entry, (void **)result);
}

DN_EXPORT int readdir64_r(DIR *dir, struct dirent64 *entry, struct dirent64 **result)
{
	if (!ours(dir))
		return REAL(readdir64_r)(dir, entry, result);
	return read_entry(dir, entry, (void **)result);
}

DN_EXPORT int closedir(DIR *dir)
{
	struct dn_dir *d = ours(dir);
	if (!d)
		return REAL(closedir)(dir);
	int fd = d->fd;
	dir_free(d);
	dn_op_close(fd);
	return 0;
}

DN_EXPORT void rewinddir(DIR *dir)
{
	struct dn_dir *d = ours(dir);
	if (!d) {
		REAL(rewinddir)(dir);
		return;
	}
	d->cookie = d->pos = 0;
	d->at = d->len = 0;
	d->eof = false;
}

DN_EXPORT void seekdir(DIR *dir, long pos)
{
	struct dn_dir *d = ours(dir);
	if (!d) {
		REAL(seekdir)(dir, pos);
		return;
	}
	d->cookie = d->pos = (uint64_t)pos;
	d->at = d->len = 0;
	d->eof = false;
}

DN_EXPORT long telldir(DIR *dir)
{
	struct dn_dir *d = ours(dir);
	return d ? (long)d->pos : REAL(telldir)(dir);
}

DN_EXPORT int dirfd(DIR *dir)
{
	struct dn_dir *d = ours(dir);
	return d ? d->fd : REAL(dirfd)(dir);
}
