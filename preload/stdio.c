/* Stdio: FILE streams over Danaus files (glibc's fopen opens with its internal open) */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "export.h"
#include "fault.h"
#include "fork-guard.h"
#include "ops.h"
#include "proc-files.h"
#include "real.h"
#include "route.h"
#include "stdio-std.h"

struct cookie {
	int fd;
	int owned;
	FILE *f;
	struct cookie *next; /* the registry fileno consults */
	/*
	 * 1 once a wide call (ours, made of byte calls) or fwide made it wide,
	 * -1 once a byte call or fwide made it byte; 0 not yet. (glibc's
	 * _mode of a cookie stream is always -1.)
	 */
	int orient;
};

/* Our streams, so fileno can name their fd (glibc answers -1 for cookie streams). */
static struct cookie *streams;
static _Atomic unsigned nstreams;
static pthread_mutex_t streams_lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((constructor)) static void streams_fork_setup(void)
{
	dn_fork_guard(&streams_lock);
}

int dn_stdio_fileno(FILE *f)
{
	int fd = -1;
	if (!atomic_load_explicit(&nstreams, memory_order_relaxed))
		return -1;
	pthread_mutex_lock(&streams_lock);
	for (struct cookie *c = streams; c; c = c->next)
		if (c->f == f) {
			fd = c->fd;
			break;
		}
	pthread_mutex_unlock(&streams_lock);
	return fd;
}

int dn_stdio_orient(FILE *f, int mode)
{
	int r = DN_STDIO_NOT_OURS;
	if (!atomic_load_explicit(&nstreams, memory_order_relaxed))
		return r;
	pthread_mutex_lock(&streams_lock);
	for (struct cookie *c = streams; c; c = c->next)
		if (c->f == f) {
			/*
			 * As glibc's fwide: the first orientation stays. glibc's
			 * byte calls do not tell us; the buffer they made does.
			 */
			if (!c->orient && f->_IO_buf_base)
				c->orient = -1;
			if (!c->orient && mode)
				c->orient = mode > 0 ? 1 : -1;
			r = c->orient;
			break;
		}
	pthread_mutex_unlock(&streams_lock);
	return r;
}

static ssize_t ck_read(void *c, char *buf, size_t n)
{
	ssize_t r = dn_op_read(((struct cookie *)c)->fd, buf, n, -1);
	return r < 0 ? (errno = (int)-r, -1) : r;
}

/*
 * Writes it all, as glibc's own stream writer loops over write(2): glibc
 * takes a short answer from a cookie writer as an error, where a short
 * write (RLIMIT_FSIZE, a full disk) is only the step before the one that
 * fails (and raises SIGXFSZ). 0 is glibc's error for a cookie writer.
 */
static ssize_t ck_write(void *c, const char *buf, size_t n)
{
	size_t done = 0;
	ssize_t r = 0;
	while (done < n && (r = dn_op_write(((struct cookie *)c)->fd, buf + done, n - done, -1)) > 0)
		done += (size_t)r;
	if (r < 0)
		errno = (int)-r;
	return (ssize_t)done;
}

static int ck_seek(void *c, off64_t *pos, int whence)
{
	off_t r = dn_op_lseek(((struct cookie *)c)->fd, *pos, whence);
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	*pos = r;
	return 0;
}

static int ck_close(void *c)
{
	struct cookie *ck = c;
	pthread_mutex_lock(&streams_lock);
	for (struct cookie **p = &streams; *p; p = &(*p)->next)
		if (*p == ck) {
			*p = ck->next;
			atomic_fetch_sub(&nstreams, 1);
			break;
		}
	pthread_mutex_unlock(&streams_lock);
	int r = ck->owned ? dn_op_close(ck->fd) : 0;
	free(ck);
	return r < 0 ? (errno = -r, -1) : 0;
}

FILE *dn_stdio_open_fd(int fd, const char *mode, int owned)
{
	struct cookie *ck = malloc(sizeof(*ck));
	if (!ck)
		return NULL;
	*ck = (struct cookie){fd, owned, NULL, NULL, 0};
	cookie_io_functions_t io = {ck_read, ck_write, ck_seek, ck_close};
	FILE *f = fopencookie(ck, mode, io);
	if (!f) {
		free(ck);
		return NULL;
	}
	ck->f = f;
	pthread_mutex_lock(&streams_lock);
	ck->next = streams;
	streams = ck;
	atomic_fetch_add(&nstreams, 1);
	pthread_mutex_unlock(&streams_lock);
	return f;
}

static int mode_parse(const char *mode);

/*
 * A caller's mode string, copied in (fopencookie reads it again): 0, or
 * -EFAULT where glibc would have gone on reading (a first letter that
 * makes it -EINVAL is all glibc reads of it).
 */
#define MODE_MAX 64
static int mode_in(char copy[MODE_MAX], const char *mode)
{
	size_t i = 0;
	for (; i < MODE_MAX - 1; i++) {
		if (dn_fault_copy_in(&copy[i], mode + i, 1) < 0) {
			copy[i] = 0;
			return i > 0 && mode_parse(copy) == -EINVAL ? -EINVAL : -EFAULT;
		}
		if (!copy[i])
			return 0;
	}
	/* what we and fopencookie read of a longer one comes before a ',' */
	copy[i] = 0;
	copy[strcspn(copy, ",")] = 0;
	return 0;
}

int dn_stdio_mode_flags(const char *user_mode)
{
	char mode[MODE_MAX];
	int r = mode_in(mode, user_mode);
	return r < 0 ? r : mode_parse(mode);
}

static int mode_parse(const char *mode)
{
	int f;
	switch (mode[0]) {
	case 'r': f = O_RDONLY; break;
	case 'w': f = O_WRONLY | O_CREAT | O_TRUNC; break;
	case 'a': f = O_WRONLY | O_CREAT | O_APPEND; break;
	default: return -EINVAL;
	}
	for (const char *m = mode + 1; *m && *m != ','; m++) {
		if (*m == '+')
			f = (f & ~O_ACCMODE) | O_RDWR;
		else if (*m == 'e')
			f |= O_CLOEXEC;
		else if (*m == 'x')
			f |= O_EXCL;
	}
	return f;
}

static FILE *fopen_hops(const char *path, const char *mode, int hops);

/* A pool file as a stream; an absolute symlink met in the pool goes on from the process's root. */
static FILE *open_stream(const struct dn_target *t, const char *user_mode, int hops)
{
	char mode[MODE_MAX];
	int r = mode_in(mode, user_mode);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	int flags = dn_stdio_mode_flags(mode);
	if (flags < 0) {
		errno = EINVAL;
		return NULL;
	}
	int fd = dn_op_open(t, flags, 0666);
	char next[PATH_MAX];
	const char *to;
	if (fd == -DN_OP_REDIRECTED && dn_op_redirect_follow(&to, next, hops))
		return fopen_hops(to, user_mode, hops + 1);
	if (fd < 0) {
		errno = fd == -DN_OP_REDIRECTED ? ELOOP : -fd;
		return NULL;
	}
	FILE *f = dn_stdio_open_fd(fd, mode, 1);
	if (!f) {
		int e = errno;
		dn_op_close(fd);
		errno = e;
	}
	return f;
}

static FILE *fopen_hops(const char *path, const char *mode, int hops)
{
	struct dn_target t;
	int r = dn_route(AT_FDCWD, path, &t);
	FILE *kf;
	if (r == 0 && ((kf = dn_proc_fopened(REAL(fopen)(path, mode), path, mode)) ||
		       !dn_route_after(AT_FDCWD, path, &t)))
		return kf; /* the kernel's, unless a host symlink leads into a mount */
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	t.redirect = true;
	return open_stream(&t, mode, hops);
}

DN_EXPORT FILE *fopen(const char *path, const char *mode)
{
	return fopen_hops(path, mode, 0);
}
DN_ALIAS(fopen, fopen64);

DN_EXPORT FILE *fdopen(int fd, const char *mode)
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(fdopen)(fd, mode);
	char copy[MODE_MAX];
	int r = mode_in(copy, mode);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return dn_stdio_open_fd(fd, copy, 1);
}

static FILE *orig_std[3];
static FILE *ours_std[3];

static FILE **std_var(int fd)
{
	return fd == 0 ? &stdin : fd == 1 ? &stdout : &stderr;
}

void dn_std_stream_update(int fd)
{
	if (fd < 0 || fd > 2)
		return;
	bool danaus = dn_fdmap_get(fd) >= 0;
	FILE **var = std_var(fd);
	if (danaus && !ours_std[fd]) {
		FILE *f = dn_stdio_open_fd(fd, fd == 0 ? "r" : "w", 0);
		if (!f)
			return;
		if (fd == 2)
			setvbuf(f, NULL, _IONBF, 0);
		/*
		 * What the old stream holds unwritten belongs to whatever fd 1 is
		 * when it is flushed (the kernel's stdio would write it there): move
		 * it into the new stream rather than let it meet the placeholder.
		 */
		FILE *old = *var;
		size_t pending = __fpending(old);
		if (pending && old->_IO_write_base) {
			fwrite(old->_IO_write_base, 1, pending, f);
			old->_IO_write_ptr = old->_IO_write_base;
		}
		orig_std[fd] = old;
		ours_std[fd] = f;
		*var = f;
	} else if (!danaus && ours_std[fd]) {
		FILE *f = ours_std[fd];
		ours_std[fd] = NULL;
		*var = orig_std[fd];
		fclose(f); /* flushes what is left; the fd is not the stream's to close */
	}
}

void dn_std_stream_flush(int fd)
{
	if (fd >= 0 && fd <= 2 && ours_std[fd])
		fflush(ours_std[fd]);
}
