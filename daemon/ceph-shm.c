/* Ceph Shared Maps: one memfd per mapped Ceph file, the page cache its mappers share */
#include "ceph-shm.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cred.h"
#include "log.h"

#define CHUNK (256u << 10) /* fill and write-back move this much at a time */

struct dn_ceph_shm_ent {
	struct dn_ceph_shm_ent *next;
	struct Inode *in; /* the key: fh holds a reference on it */
	struct Fh *fh;    /* the pool's own: O_RDWR, or O_RDONLY where Ceph refuses writing (a snapshot) */
	bool writable;    /* fh may write: else nothing can be stored through a map */
	int fd, ro;       /* the memfd, and a read-only description of it to hand out */
	int shadow;       /* the bytes as Ceph last had them from us or gave them */
	uint64_t size;    /* the file's size as the pool knows it */
	uint64_t version; /* Ceph's change attribute when the memfd was last checked against Ceph */
	/* under the table's lock */
	unsigned files; /* open files that mapped it */
	unsigned users; /* calls that named it */
	bool dead;      /* out of the table: freed with its last user */
	pthread_mutex_t lock; /* its contents and size */
};

struct dn_ceph_shm {
	struct ceph_mount_info *cm;
	/* writers of file data hold it shared; a fill holds it alone, so no write slips past it */
	pthread_rwlock_t barrier;
	pthread_mutex_t lock;
	struct dn_ceph_shm_ent *list;
	atomic_uint n;
	uint64_t budget, used;
	pthread_t timer;
	pthread_cond_t wake;
	bool stop, timer_on;
};

static struct dn_ceph_shm_ent *find(struct dn_ceph_shm *s, struct Inode *in)
{
	for (struct dn_ceph_shm_ent *e = s->list; e; e = e->next)
		if (e->in == in)
			return e;
	return NULL;
}

static void ent_free(struct dn_ceph_shm *s, struct dn_ceph_shm_ent *e)
{
	if (e->fh)
		ceph_ll_close(s->cm, e->fh);
	for (int *fd = &e->fd; fd <= &e->shadow; fd++)
		if (*fd >= 0)
			close(*fd);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

static void put(struct dn_ceph_shm *s, struct dn_ceph_shm_ent *e)
{
	pthread_mutex_lock(&s->lock);
	bool last = --e->users == 0 && e->dead;
	pthread_mutex_unlock(&s->lock);
	if (last)
		ent_free(s, e);
}

/* Out of the table (lock held): no call finds it again. */
static void unlink_ent(struct dn_ceph_shm *s, struct dn_ceph_shm_ent *e)
{
	for (struct dn_ceph_shm_ent **p = &s->list; *p; p = &(*p)->next)
		if (*p == e) {
			*p = e->next;
			break;
		}
	e->dead = true;
	s->used -= 2 * e->size < s->used ? 2 * e->size : s->used;
	atomic_fetch_sub(&s->n, 1);
}

/* Ranges of a that differ from b, byte exact (a store never rewrites a byte it did not change). */
static int diff_write(struct dn_ceph_shm *s, struct dn_ceph_shm_ent *e, const uint8_t *a,
		      const uint8_t *b, size_t k, uint64_t off)
{
	int err = 0;
	for (size_t i = 0; i < k;) {
		if (i + 64 <= k && memcmp(a + i, b + i, 64) == 0) {
			i += 64;
			continue;
		}
		if (a[i] == b[i]) {
			i++;
			continue;
		}
		size_t j = i + 1;
		while (j < k && a[j] != b[j])
			j++;
		int w = ceph_ll_write(s->cm, e->fh, (int64_t)(off + i), j - i, (const char *)a + i);
		if (w < 0) {
			err = err ? err : w; /* the shadow keeps the old bytes: tried again later */
		} else if (pwrite(e->shadow, a + i, (size_t)w, (off_t)(off + i)) != w) {
			err = err ? err : -EIO;
		}
		i = j;
	}
	return err;
}

int dn_ceph_shm_writeback(struct dn_ceph_shm *s, struct dn_ceph_shm_ent *e)
{
	if (!e->writable)
		return 0;
	uint8_t *a = malloc(2 * CHUNK);
	if (!a)
		return -ENOMEM;
	uint8_t *b = a + CHUNK;
	int err = 0;
	for (uint64_t off = 0; off < e->size; off += CHUNK) {
		size_t n = e->size - off < CHUNK ? (size_t)(e->size - off) : CHUNK;
		ssize_t x = pread(e->fd, a, n, (off_t)off), y = pread(e->shadow, b, n, (off_t)off);
		if (x < 0 || y < 0) {
			err = -EIO;
			break;
		}
		/* a client that shrank the memfd (its own descriptor) stored nothing past it */
		int r = diff_write(s, e, a, b, (size_t)(x < y ? x : y), off);
		err = err ? err : r;
	}
	free(a);
	return err;
}

/*
 * Runs of bytes Ceph has (c) that differ from the shadow (another client
 * changed them) go into the memfd where the maps did not change them too
 * (a store there, made at the same time as the other client's, keeps the
 * map's and goes back); the shadow takes Ceph's bytes.
 */
static void take_theirs(struct dn_ceph_shm_ent *e, const uint8_t *c, const uint8_t *m,
			const uint8_t *sh, size_t k, uint64_t off)
{
	for (size_t i = 0; i < k;) {
		if (i + 64 <= k && memcmp(c + i, sh + i, 64) == 0) {
			i += 64;
			continue;
		}
		if (c[i] == sh[i]) {
			i++;
			continue;
		}
		size_t j = i + 1;
		while (j < k && c[j] != sh[j])
			j++;
		(void)!pwrite(e->shadow, c + i, j - i, (off_t)(off + i));
		for (size_t x = i; x < j;) {
			if (m[x] != sh[x]) {
				x++;
				continue;
			}
			size_t y = x + 1;
			while (y < j && m[y] == sh[y])
				y++;
			(void)!pwrite(e->fd, c + x, y - x, (off_t)(off + x));
			x = y;
		}
		i = j;
	}
}

/*
 * Another Ceph client changed the file (its change attribute moved since
 * the last look): the memfd takes what changed, as ceph-fuse's page cache
 * is invalidated. Its own write-backs move the attribute too; the compare
 * then finds nothing. Entry locked, written back first.
 */
static void refresh(struct dn_ceph_shm *s, struct dn_ceph_shm_ent *e)
{
	struct ceph_statx x;
	if (ceph_ll_getattr(s->cm, e->in, &x, CEPH_STATX_VERSION | CEPH_STATX_SIZE, 0,
			    ceph_mount_perms(s->cm)) < 0 ||
	    x.stx_version == e->version)
		return;
	uint8_t *c = malloc(3 * CHUNK);
	if (!c)
		return;
	uint8_t *m = c + CHUNK, *sh = c + 2 * CHUNK;
	if (x.stx_size != e->size)
		dn_ceph_shm_resize(s, e, x.stx_size);
	bool ok = true;
	for (uint64_t off = 0; off < e->size && ok; off += CHUNK) {
		size_t n = e->size - off < CHUNK ? (size_t)(e->size - off) : CHUNK;
		int got = ceph_ll_read(s->cm, e->fh, (int64_t)off, n, (char *)c);
		ssize_t gm = pread(e->fd, m, n, (off_t)off), gs = pread(e->shadow, sh, n, (off_t)off);
		ok = got >= 0 && gm >= 0 && gs >= 0;
		if (!ok)
			break;
		size_t k = (size_t)got;
		k = (size_t)gm < k ? (size_t)gm : k;
		k = (size_t)gs < k ? (size_t)gs : k;
		take_theirs(e, c, m, sh, k, off);
	}
	free(c);
	if (ok)
		e->version = x.stx_version;
}

/* Each entry written back; those nobody holds dropped once no writable map of them is left. */
static void sweep(struct dn_ceph_shm *s, bool all)
{
	pthread_mutex_lock(&s->lock);
	size_t n = atomic_load(&s->n), k = 0;
	struct dn_ceph_shm_ent **v = n ? calloc(n, sizeof(*v)) : NULL;
	for (struct dn_ceph_shm_ent *e = s->list; e && k < n && v; e = e->next) {
		e->users++;
		v[k++] = e;
	}
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; i < k; i++) {
		struct dn_ceph_shm_ent *e = v[i];
		pthread_mutex_lock(&e->lock);
		int r = dn_ceph_shm_writeback(s, e);
		if (r < 0)
			dn_log_warning("ceph: write-back of a shared map: %s", strerror(-r));
		else if (!all && !e->dead)
			refresh(s, e);
		pthread_mutex_lock(&s->lock);
		/*
		 * F_SEAL_WRITE is refused while a writable shared map of it is
		 * left (a forked child's): it stays, and is written back later.
		 */
		if (!e->dead && e->files == 0 &&
		    (all || fcntl(e->fd, F_ADD_SEALS, F_SEAL_WRITE) == 0))
			unlink_ent(s, e);
		pthread_mutex_unlock(&s->lock);
		pthread_mutex_unlock(&e->lock);
		put(s, e);
	}
	free(v);
}

static void *timer_main(void *arg)
{
	struct dn_ceph_shm *s = arg;
	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_sec += DN_CEPH_SHM_PERIOD_MS / 1000;
		t.tv_nsec += (DN_CEPH_SHM_PERIOD_MS % 1000) * 1000000L;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->wake, &s->lock, &t);
		if (s->stop || !atomic_load(&s->n))
			continue;
		pthread_mutex_unlock(&s->lock);
		sweep(s, false);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

struct dn_ceph_shm *dn_ceph_shm_new(struct ceph_mount_info *cm, uint64_t budget)
{
	struct dn_ceph_shm *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cm = cm;
	s->budget = budget;
	pthread_rwlock_init(&s->barrier, NULL);
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	s->timer_on = pthread_create(&s->timer, NULL, timer_main, s) == 0;
	if (!s->timer_on)
		return dn_ceph_shm_free(s);
	return s;
}

struct dn_ceph_shm *dn_ceph_shm_free(struct dn_ceph_shm *s)
{
	if (!s)
		return NULL;
	if (s->timer_on) {
		pthread_mutex_lock(&s->lock);
		s->stop = true;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->timer, NULL);
	}
	/* the pool stops: what maps stored goes to Ceph now (open files are closed by then) */
	sweep(s, true);
	while (s->list) {
		struct dn_ceph_shm_ent *e = s->list;
		unlink_ent(s, e);
		ent_free(s, e);
	}
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	pthread_rwlock_destroy(&s->barrier);
	free(s);
	return NULL;
}

/* The file's bytes into both memfd and shadow (both size long already). */
static int fill(struct dn_ceph_shm *s, struct dn_ceph_shm_ent *e)
{
	char *buf = malloc(CHUNK);
	if (!buf)
		return -ENOMEM;
	int r = 0;
	for (uint64_t off = 0; off < e->size;) {
		size_t n = e->size - off < CHUNK ? (size_t)(e->size - off) : CHUNK;
		int got = ceph_ll_read(s->cm, e->fh, (int64_t)off, n, buf);
		if (got <= 0) {
			r = got; /* 0: shorter than its size said; the rest reads zeros */
			break;
		}
		if (pwrite(e->fd, buf, (size_t)got, (off_t)off) != got ||
		    pwrite(e->shadow, buf, (size_t)got, (off_t)off) != got) {
			r = -ENOMEM;
			break;
		}
		off += (uint64_t)got;
	}
	free(buf);
	return r;
}

/* A descriptor of fd open read-only: a client given it cannot write the memfd, nor reopen it so. */
static int reopen_ro(int fd)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	int ro = open(p, O_RDONLY | O_CLOEXEC);
	if (ro < 0)
		return -errno;
	/* no mode bits: only CAP_DAC_OVERRIDE (the pool's, no client's through /proc) opens it again */
	if (fchmod(fd, 0) < 0) {
		int e = -errno;
		close(ro);
		return e;
	}
	return ro;
}

/*
 * A new entry for in, size bytes, filled. As the pool: the memfd must be
 * the pool's (a client owning it could make its read-only descriptor
 * writable through /proc), and Ceph's own handle may write back any
 * mapper's stores, each of whose open files was checked.
 */
static int ent_new(struct dn_ceph_shm *s, struct Inode *in, uint64_t size,
		   struct dn_ceph_shm_ent **out)
{
	struct dn_ceph_shm_ent *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->fd = e->ro = e->shadow = -1;
	pthread_mutex_init(&e->lock, NULL);
	e->size = size;
	const struct dn_cred was = *dn_cred_current();
	int r = dn_cred_reset();
	if (r == 0) {
		e->fd = memfd_create("danaus-map", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		e->shadow = memfd_create("danaus-map-shadow", MFD_CLOEXEC);
		if (e->fd < 0 || e->shadow < 0)
			r = -errno;
		else if ((e->ro = reopen_ro(e->fd)) < 0)
			r = e->ro;
	}
	int back = dn_cred_apply(&was);
	r = r ? r : back;
	if (r == 0 && (ftruncate(e->fd, (off_t)size) < 0 || ftruncate(e->shadow, (off_t)size) < 0))
		r = -errno;
	if (r == 0) {
		const UserPerm *root = ceph_mount_perms(s->cm);
		e->writable = true;
		r = ceph_ll_open(s->cm, in, O_RDWR, &e->fh, root);
		if (r == -EROFS || r == -EACCES || r == -EPERM) {
			e->writable = false;
			r = ceph_ll_open(s->cm, in, O_RDONLY, &e->fh, root);
		}
	}
	if (r == 0) {
		e->in = in;
		r = fill(s, e);
	}
	if (r < 0) {
		ent_free(s, e);
		return r;
	}
	*out = e;
	return 0;
}

int dn_ceph_shm_attach(struct dn_ceph_shm *s, struct Inode *in, struct dn_ceph_shm_ent **out)
{
	pthread_rwlock_wrlock(&s->barrier);
	pthread_mutex_lock(&s->lock);
	struct dn_ceph_shm_ent *e = find(s, in);
	if (e)
		e->files++;
	pthread_mutex_unlock(&s->lock);
	int r = 0;
	if (!e) {
		struct ceph_statx x;
		r = ceph_ll_getattr(s->cm, in, &x, CEPH_STATX_SIZE | CEPH_STATX_VERSION, 0,
				    ceph_mount_perms(s->cm));
		if (r == 0) {
			pthread_mutex_lock(&s->lock);
			bool fits = x.stx_size <= s->budget / 2 && s->used <= s->budget - 2 * x.stx_size;
			if (fits)
				s->used += 2 * x.stx_size; /* kept for it while it fills */
			pthread_mutex_unlock(&s->lock);
			r = fits ? ent_new(s, in, x.stx_size, &e) : -ENOSPC;
			pthread_mutex_lock(&s->lock);
			if (r == 0) {
				e->version = x.stx_version;
				e->files = 1;
				e->next = s->list;
				s->list = e;
				atomic_fetch_add(&s->n, 1);
			} else if (fits) {
				s->used -= 2 * x.stx_size;
			}
			pthread_mutex_unlock(&s->lock);
		}
	}
	pthread_rwlock_unlock(&s->barrier);
	if (r == 0)
		*out = e;
	return r;
}

int dn_ceph_shm_fd(struct dn_ceph_shm_ent *e, bool rw)
{
	int fd = fcntl(rw ? e->fd : e->ro, F_DUPFD_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

void dn_ceph_shm_detach(struct dn_ceph_shm *s, struct dn_ceph_shm_ent *e)
{
	pthread_mutex_lock(&s->lock);
	e->users++;
	bool last = --e->files == 0;
	pthread_mutex_unlock(&s->lock);
	if (last) {
		pthread_mutex_lock(&e->lock);
		int r = dn_ceph_shm_writeback(s, e);
		if (r < 0)
			dn_log_warning("ceph: write-back of a shared map: %s", strerror(-r));
		pthread_mutex_lock(&s->lock);
		if (!e->dead && e->files == 0 && fcntl(e->fd, F_ADD_SEALS, F_SEAL_WRITE) == 0)
			unlink_ent(s, e);
		pthread_mutex_unlock(&s->lock);
		pthread_mutex_unlock(&e->lock);
	}
	put(s, e);
}

void dn_ceph_shm_begin(struct dn_ceph_shm *s, struct Inode *in, struct dn_ceph_shm_io *io)
{
	io->ent = NULL;
	pthread_rwlock_rdlock(&s->barrier);
	if (!atomic_load_explicit(&s->n, memory_order_relaxed))
		return;
	pthread_mutex_lock(&s->lock);
	struct dn_ceph_shm_ent *e = find(s, in);
	if (e)
		e->users++;
	pthread_mutex_unlock(&s->lock);
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	if (e->dead) { /* dropped while we waited: the file is not mapped now */
		pthread_mutex_unlock(&e->lock);
		put(s, e);
		return;
	}
	io->ent = e;
}

void dn_ceph_shm_end(struct dn_ceph_shm *s, struct dn_ceph_shm_io *io)
{
	if (io->ent) {
		pthread_mutex_unlock(&io->ent->lock);
		put(s, io->ent);
		io->ent = NULL;
	}
	pthread_rwlock_unlock(&s->barrier);
}

ssize_t dn_ceph_shm_pread(struct dn_ceph_shm_ent *e, void *buf, size_t len, off_t off)
{
	if (off < 0)
		return -EINVAL;
	if ((uint64_t)off >= e->size)
		return 0;
	if (len > e->size - (uint64_t)off)
		len = (size_t)(e->size - (uint64_t)off);
	ssize_t got = pread(e->fd, buf, len, off);
	if (got < 0)
		return -errno;
	/* a client shrank the memfd through its descriptor: the file is still size long */
	memset((char *)buf + got, 0, len - (size_t)got);
	return (ssize_t)len;
}

static void grow_to(struct dn_ceph_shm *s, struct dn_ceph_shm_ent *e, uint64_t size)
{
	pthread_mutex_lock(&s->lock);
	s->used += 2 * size - 2 * e->size; /* modulo 2^64: a shrink subtracts */
	pthread_mutex_unlock(&s->lock);
	e->size = size;
}

void dn_ceph_shm_wrote(struct dn_ceph_shm *s, struct dn_ceph_shm_ent *e, const void *buf, size_t n,
		       uint64_t off)
{
	/* both, or the next write-back would send the bytes again (harmless, the same ones) */
	if (pwrite(e->fd, buf, n, (off_t)off) != (ssize_t)n ||
	    pwrite(e->shadow, buf, n, (off_t)off) != (ssize_t)n)
		dn_log_warning("ceph: a write did not reach a shared map: %s", strerror(errno));
	if (off + n > e->size)
		grow_to(s, e, off + n);
}

void dn_ceph_shm_resize(struct dn_ceph_shm *s, struct dn_ceph_shm_ent *e, uint64_t size)
{
	if (size == e->size)
		return;
	if (ftruncate(e->fd, (off_t)size) < 0 || ftruncate(e->shadow, (off_t)size) < 0)
		dn_log_warning("ceph: a size change did not reach a shared map: %s", strerror(errno));
	grow_to(s, e, size);
}

void dn_ceph_shm_punch(struct dn_ceph_shm_ent *e, uint64_t off, uint64_t len)
{
	int m = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	if (fallocate(e->fd, m, (off_t)off, (off_t)len) < 0 ||
	    fallocate(e->shadow, m, (off_t)off, (off_t)len) < 0)
		dn_log_warning("ceph: a hole did not reach a shared map: %s", strerror(errno));
}
