/* Pool Libraries: shared objects stored in a mount, handed to the dynamic loader */
#include "pool-libs.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdtable.h"
#include "memfd.h"
#include "real.h"
#include "route.h"

/*
 * The loader opens, reads and maps a library with calls no preload sees,
 * so a pool's library reaches it as a sealed memfd copy, opened by the
 * loader as /proc/self/fd/N (as exec serves programs stored in a pool).
 * The copy is kept open for the life of the process: glibc knows a loaded
 * object by the name it was opened by, so that name must never come to
 * mean another file, and opening the same pool file again (by any path,
 * as glibc's dev/ino check does) goes to the same copy, hence the same
 * handle, RTLD_NOLOAD included. A changed file gets a new copy.
 */

struct pool_lib {
	dev_t dev; /* the pool file's identity and version */
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	int fd; /* the copy, and its identity: the program may close or reuse fd */
	dev_t copy_dev;
	ino_t copy_ino;
	char *path; /* the caller's path of the first load: what dlerror shows */
};

static pthread_mutex_t libs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pool_lib **libs;
static size_t nlibs;

/* glibc's error for a failed open of a name, made to stand for our own (see pool_lib_fail). */
#define MARKER_PATH "/proc/self/fd/-1"
static _Thread_local char own_error[PATH_MAX + 128];
static _Thread_local bool own_error_set;
static _Thread_local char shown_error[2 * PATH_MAX + 256];

bool dn_pool_lib_wanted(const char *file)
{
	struct dn_target t;
	/* glibc expands $ORIGIN and friends itself: such a name stays glibc's */
	return file && strchr(file, '/') && !strchr(file, '$') && dn_route(AT_FDCWD, file, &t) != 0;
}

/*
 * NULL with message as dlerror's text. glibc keeps one error per thread,
 * cleared by every later dl call: it is made to hold one (a failed open of
 * a name nothing has) that dlerror shows as ours, so that a later call
 * clears ours with it.
 */
static void *pool_lib_fail(const char *message)
{
	REAL(dlopen)(MARKER_PATH, RTLD_LAZY | RTLD_NOLOAD);
	snprintf(own_error, sizeof(own_error), "%s", message);
	own_error_set = true;
	return NULL;
}

static void *pool_lib_errno(const char *file, const char *what, int e)
{
	char m[sizeof(own_error)];
	snprintf(m, sizeof(m), "%s: %s: %s", file, what, strerror(e));
	return pool_lib_fail(m);
}

static bool same_version(const struct pool_lib *l, const struct stat *st)
{
	return l->size == st->st_size && l->mtime.tv_sec == st->st_mtim.tv_sec &&
	       l->mtime.tv_nsec == st->st_mtim.tv_nsec && l->ctime.tv_sec == st->st_ctim.tv_sec &&
	       l->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

static bool copy_intact(const struct pool_lib *l)
{
	struct stat st;
	return REAL(fstat)(l->fd, &st) == 0 && st.st_dev == l->copy_dev && st.st_ino == l->copy_ino;
}

/* The fd number no kept copy was ever known by (its /proc name is new to glibc). Lock held. */
static int fresh_number(int fd)
{
	for (size_t i = 0; i < nlibs; i++) {
		if (libs[i]->fd != fd)
			continue;
		int nfd = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, fd + 1);
		REAL(close)(fd);
		return nfd < 0 ? -errno : fresh_number(nfd);
	}
	return fd;
}

/* A sealed memfd with the bytes of Danaus fd src; -errno, -EISDIR as read says. */
static int copy_of(int src, const char *file)
{
	const char *base = strrchr(file, '/');
	char name[64];
	snprintf(name, sizeof(name), "danaus-lib:%s", base ? base + 1 : file);
	int fd = dn_memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	/* 64 KiB at a time, mapped: a thread's stack may be small (musl's, or one made so) */
	const size_t cap = 64u << 10;
	char *buf = REAL(mmap)(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		REAL(close)(fd);
		return -ENOMEM;
	}
	ssize_t n;
	off_t at = 0;
	while ((n = pread(src, buf, cap, at)) > 0) {
		if (write(fd, buf, (size_t)n) != n) {
			n = -1;
			errno = EIO;
			break;
		}
		at += n;
	}
	int e = errno;
	REAL(munmap)(buf, cap);
	if (n < 0) {
		REAL(close)(fd);
		return -e;
	}
	REAL(fcntl)(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	return fd;
}

/* The kept copy of the pool file open as src (st its stat): its fd, or -errno. */
static int kept_copy(int src, const struct stat *st, const char *file)
{
	pthread_mutex_lock(&libs_lock);
	for (size_t i = nlibs; i-- > 0;) {
		struct pool_lib *l = libs[i];
		if (l->dev == st->st_dev && l->ino == st->st_ino && same_version(l, st) &&
		    copy_intact(l)) {
			pthread_mutex_unlock(&libs_lock);
			return l->fd;
		}
	}
	int fd = copy_of(src, file);
	struct pool_lib *l = NULL, **more = NULL;
	if (fd >= 0)
		fd = fresh_number(fd);
	if (fd >= 0 && (!(l = calloc(1, sizeof(*l))) || !(l->path = strdup(file)) ||
			!(more = realloc(libs, (nlibs + 1) * sizeof(*libs))))) {
		if (l)
			free(l->path);
		free(l);
		REAL(close)(fd);
		fd = -ENOMEM;
	}
	struct stat cst;
	if (fd >= 0) {
		REAL(fstat)(fd, &cst);
		*l = (struct pool_lib){st->st_dev, st->st_ino, st->st_size, st->st_mtim, st->st_ctim,
				       fd, cst.st_dev, cst.st_ino, l->path};
		libs = more;
		libs[nlibs++] = l;
	}
	pthread_mutex_unlock(&libs_lock);
	return fd;
}

/* message with "/proc/self/fd/N" put back as file (a NULL file: each copy's first path). */
static char *shown(const char *message, int only_fd, const char *file)
{
	static const char proc[] = "/proc/self/fd/";
	size_t out = 0;
	const char *p = message;
	shown_error[0] = 0;
	pthread_mutex_lock(&libs_lock);
	while (*p && out < sizeof(shown_error) - 1) {
		const char *hit = strstr(p, proc);
		const char *path = NULL;
		char *end = NULL;
		long n = hit ? strtol(hit + sizeof(proc) - 1, &end, 10) : -1;
		if (hit && end != hit + sizeof(proc) - 1) {
			if (only_fd >= 0 && n == only_fd)
				path = file;
			for (size_t i = 0; !path && only_fd < 0 && i < nlibs; i++)
				if (libs[i]->fd == n)
					path = libs[i]->path;
		}
		size_t keep = hit ? (size_t)(hit - p) : strlen(p);
		if (path)
			out += (size_t)snprintf(shown_error + out, sizeof(shown_error) - out, "%.*s%s",
						(int)keep, p, path);
		else if (hit)
			out += (size_t)snprintf(shown_error + out, sizeof(shown_error) - out, "%.*s",
						(int)(keep + sizeof(proc) - 1), p);
		else
			out += (size_t)snprintf(shown_error + out, sizeof(shown_error) - out, "%s", p);
		p = path ? end : hit ? hit + sizeof(proc) - 1 : p + keep;
	}
	pthread_mutex_unlock(&libs_lock);
	return shown_error;
}

void *dn_pool_lib_open(const char *file, int mode, bool namespaced, long lmid)
{
	/* as the loader: the caller's right to read it, whichever way the path goes */
	int src = open(file, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return pool_lib_errno(file, "cannot open shared object file", errno);
	if (dn_fdmap_get(src) < 0) {
		/* the pool led to a host file (an absolute symlink): the loader's own business */
		char proc[64], host[PATH_MAX];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", src);
		ssize_t n = readlink(proc, host, sizeof(host) - 1);
		REAL(close)(src);
		if (n < 0)
			return pool_lib_errno(file, "cannot open shared object file", errno);
		host[n] = 0;
		return namespaced ? REAL(dlmopen)(lmid, host, mode) : REAL(dlopen)(host, mode);
	}
	struct stat st;
	int fd = fstat(src, &st) < 0 ? -errno : kept_copy(src, &st, file);
	close(src);
	if (fd < 0)
		return pool_lib_errno(file, fd == -EISDIR || fd == -EIO ? "cannot read file data"
									 : "cannot open shared object file",
				      -fd);
	char name[64];
	snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
	void *h = namespaced ? REAL(dlmopen)(lmid, name, mode) : REAL(dlopen)(name, mode);
	if (h)
		return h;
	char *e = REAL(dlerror)();
	if (!e)
		return NULL; /* RTLD_NOLOAD of a library not loaded: no error */
	char m[sizeof(own_error)];
	snprintf(m, sizeof(m), "%s", shown(e, fd, file));
	return pool_lib_fail(m);
}

char *dn_pool_lib_error(char *message)
{
	bool ours = own_error_set;
	own_error_set = false;
	if (!message)
		return NULL;
	if (ours && strncmp(message, MARKER_PATH ":", sizeof(MARKER_PATH)) == 0) {
		snprintf(shown_error, sizeof(shown_error), "%s", own_error);
		return shown_error;
	}
	return strstr(message, "/proc/self/fd/") ? shown(message, -1, NULL) : message;
}
