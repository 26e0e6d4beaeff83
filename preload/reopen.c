/* Reopen Records: what a process keeps of each open file to reopen it after a pool restart */
#include "reopen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>

#include "client.h"
#include "path.h"

#define INLINE_PATH 192
#define RANGES 6 /* locked byte ranges kept exactly; more: "may hold a lock" */

struct range {
	uint64_t start, end; /* end exclusive; UINT64_MAX: to the end of the file */
};

struct rec {
	uint64_t handle; /* whose record this is: 0, or the description's handle */
	uint64_t prev;   /* the handle it had before the restart that reset it */
	uint32_t restart;
	uint32_t dev;
	uint64_t ino;
	uint32_t oflags;
	uint8_t redirect, flock, lock_unknown, nranges;
	uint8_t dirty, wb_error;
	struct range r[RANGES];
	char *long_path; /* its own map when the path does not fit inline */
	char path[INLINE_PATH];
};

/*
 * mmap, never malloc: open is async-signal-safe and may run in a handler
 * that interrupted malloc. Reserved for the session's whole table, touched
 * only where descriptions are in use.
 */
static struct rec *table;
static uint32_t table_n;
static uint32_t restarts;

static struct rec *rec_at(int32_t ofd, bool make)
{
	if (!table && make) {
		uint32_t n = dn_client.chan.l.nofds;
		void *m = mmap(NULL, (size_t)n * sizeof(struct rec), PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		table = m;
		table_n = n;
	}
	if (!table || ofd < 0 || (uint32_t)ofd >= table_n)
		return NULL;
	return &table[ofd];
}

static const char *rec_path(const struct rec *r) { return r->long_path ? r->long_path : r->path; }

static void rec_clear(struct rec *r)
{
	if (r->long_path)
		munmap(r->long_path, DN_PATH_MAX);
	memset(r, 0, sizeof(*r));
}

static bool rec_set_path(struct rec *r, const char *path)
{
	size_t n = strlen(path);
	if (n < sizeof(r->path)) {
		memcpy(r->path, path, n + 1);
		return true;
	}
	if (n >= DN_PATH_MAX)
		return false;
	void *m =
	    mmap(NULL, DN_PATH_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return false;
	r->long_path = m;
	memcpy(r->long_path, path, n + 1);
	return true;
}

void dn_reopen_note_open(int32_t ofd, uint64_t handle, const struct dn_target *t, uint64_t base,
                         int flags, uint64_t ino, uint32_t dev)
{
	struct rec *r = rec_at(ofd, true);
	if (!r)
		return;
	rec_clear(r);
	/* an anonymous file has no name to find it by again */
	if ((flags & O_TMPFILE) == O_TMPFILE)
		return;
	char joined[DN_PATH_MAX];
	const char *path = t->path;
	if (base && t->path[0] != '/') {
		/* relative to a directory fd: from that directory's own record */
		struct rec *d = rec_at(t->dir_ofd, false);
		if (!d || d->handle != base ||
		    dn_path_concat(rec_path(d), t->path, joined, sizeof(joined)) < 0)
			return;
		path = joined;
	}
	if (!rec_set_path(r, path))
		return;
	r->handle = handle;
	/* opened again, never created or emptied again */
	r->oflags = (uint32_t)(flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC));
	r->redirect = t->redirect;
	r->ino = ino;
	r->dev = dev;
}

void dn_reopen_move(int32_t old, int32_t neu, uint64_t handle)
{
	struct rec *a = rec_at(old, false), *b = rec_at(neu, true);
	if (b && a == b && b->handle)
		b->handle = handle; /* moved in place */
	if (!b || a == b)
		return;
	rec_clear(b);
	if (!a || !a->handle)
		return;
	*b = *a;
	b->handle = handle;
	a->long_path = NULL; /* b owns it now */
	rec_clear(a);
}

/* Takes [s, e) out of r's ranges (F_UNLCK); adds it when lock. */
static void ranges_apply(struct rec *r, uint64_t s, uint64_t e, bool lock)
{
	struct range out[2 * RANGES + 1];
	uint32_t n = 0;
	for (uint32_t i = 0; i < r->nranges; i++) {
		struct range x = r->r[i];
		if (x.end <= s || x.start >= e) {
			out[n++] = x;
			continue;
		}
		if (x.start < s)
			out[n++] = (struct range){x.start, s};
		if (x.end > e)
			out[n++] = (struct range){e, x.end};
	}
	if (lock)
		out[n++] = (struct range){s, e};
	if (n > RANGES) {
		r->lock_unknown = 1;
		n = RANGES;
	}
	memcpy(r->r, out, n * sizeof(out[0]));
	r->nranges = (uint8_t)n;
}

void dn_reopen_note_lock(int32_t ofd, uint64_t handle, int type, uint64_t start, uint64_t len)
{
	struct rec *r = rec_at(ofd, false);
	if (!r || r->handle != handle)
		return;
	uint64_t end = len == 0 || start + len < start ? UINT64_MAX : start + len;
	if (type == F_UNLCK && start == 0 && end == UINT64_MAX) {
		r->nranges = 0;
		r->lock_unknown = 0; /* nothing of the file is locked any more */
		return;
	}
	ranges_apply(r, start, end, type != F_UNLCK);
}

void dn_reopen_note_flock(int32_t ofd, uint64_t handle, int op)
{
	struct rec *r = rec_at(ofd, false);
	if (r && r->handle == handle)
		r->flock = (op & ~LOCK_NB) != LOCK_UN;
}

bool dn_reopen_get(int32_t ofd, uint64_t handle, struct dn_reopen_info *out)
{
	struct rec *r = rec_at(ofd, false);
	if (!r || !r->handle || r->handle != handle)
		return false;
	*out = (struct dn_reopen_info){
	    .path = rec_path(r),
	    .oflags = r->oflags,
	    .redirect = r->redirect,
	    .locked = r->flock || r->lock_unknown || r->nranges,
	    .ino = r->ino,
	    .dev = r->dev,
	};
	return true;
}

/* An entry: "ofd,ino,dev,oflags,bits,len:" and len bytes of path. */
#define ENV_HEAD 96
#define BIT_REDIRECT 1u
#define BIT_LOCKED 2u

static struct rec *rec_current(int32_t ofd)
{
	struct rec *r = rec_at(ofd, false);
	if (!r || !r->handle || r->handle == DN_HANDLE_STALE ||
	    (uint32_t)ofd >= dn_client.chan.l.nofds || dn_ofds()[ofd].handle != r->handle)
		return NULL;
	return r;
}

size_t dn_reopen_env_size(int32_t ofd)
{
	struct rec *r = rec_current(ofd);
	return r ? ENV_HEAD + strlen(rec_path(r)) : 0;
}

size_t dn_reopen_env_put(int32_t ofd, char *dst, size_t room)
{
	struct rec *r = rec_current(ofd);
	if (!r)
		return 0;
	const char *path = rec_path(r);
	size_t n = strlen(path);
	unsigned bits = (r->redirect ? BIT_REDIRECT : 0) |
	                (r->flock || r->lock_unknown || r->nranges ? BIT_LOCKED : 0);
	int w = snprintf(dst, room, "%d,%llu,%u,%u,%u,%zu:", ofd, (unsigned long long)r->ino,
	                 r->dev, r->oflags, bits, n);
	if (w <= 0 || (size_t)w + n >= room)
		return 0;
	memcpy(dst + w, path, n + 1);
	return (size_t)w + n;
}

void dn_reopen_env_take(const char *s)
{
	while (s && *s) {
		int ofd, used = 0;
		unsigned long long ino;
		unsigned dev, oflags, bits;
		size_t n;
		if (sscanf(s, "%d,%llu,%u,%u,%u,%zu:%n", &ofd, &ino, &dev, &oflags, &bits, &n,
		           &used) != 6 ||
		    used == 0 || strnlen(s + used, n) != n)
			return;
		const char *path = s + used;
		s = path + n;
		struct rec *r = rec_at(ofd, true);
		if (!r || (uint32_t)ofd >= dn_client.chan.l.nofds || n >= DN_PATH_MAX ||
		    path[0] != '/')
			continue;
		char p[DN_PATH_MAX];
		memcpy(p, path, n);
		p[n] = 0;
		rec_clear(r);
		if (!rec_set_path(r, p))
			continue;
		r->handle = dn_ofds()[ofd].handle;
		r->ino = ino;
		r->dev = dev;
		r->oflags = oflags;
		r->redirect = !!(bits & BIT_REDIRECT);
		r->lock_unknown = !!(bits & BIT_LOCKED); /* record locks outlive exec */
	}
}

void dn_reopen_restart_begin(void) { restarts++; }

void dn_reopen_note_written(int32_t ofd)
{
	struct rec *r = rec_at(ofd, true);
	if (r)
		r->dirty = 1;
}

int dn_reopen_synced(int32_t ofd)
{
	struct rec *r = rec_at(ofd, false);
	if (!r)
		return 0;
	int e = r->wb_error ? -EIO : 0;
	r->dirty = r->wb_error = 0;
	return e;
}

void dn_reopen_reset(int32_t ofd, uint64_t prev, uint64_t handle, bool lost_writes)
{
	struct rec *r = rec_at(ofd, true);
	if (!r)
		return;
	if (lost_writes && r->dirty)
		r->wb_error = 1;
	r->dirty = 0;
	r->handle = handle;
	r->prev = prev;
	r->restart = restarts;
	r->flock = r->lock_unknown = r->nranges = 0;
}

uint64_t dn_reopen_successor(uint64_t prev)
{
	for (uint32_t i = 0; table && prev && i < table_n; i++)
		if (table[i].restart == restarts && table[i].prev == prev && table[i].handle)
			return table[i].handle;
	return 0;
}
