/* Ceph Walked Paths: directories the ceph libservice walked to, by path, for a while */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ceph-paths.h"
#include "path.h"

/*
 * Bounds: entries (each holds a libcephfs inode reference, which keeps the
 * inode in libcephfs's cache) and the bytes of their paths.
 */
#define ENTRIES_MAX 4096
#define KEY_BYTES_MAX (1u << 20)
#define BUCKETS 8192 /* a power of two */
#define LEVELS_MAX 128 /* directories deep a path is looked up in the cache */

struct dn_ceph_dir {
	struct dn_ceph_dir *hnext;          /* hash chain; the reap list once dead */
	struct dn_ceph_dir *older, *newer;  /* live entries by age */
	struct dn_ceph_dir *parent;         /* NULL: a directory of the top */
	struct Inode *in;                   /* one reference */
	uint64_t ino, parent_ino;
	uint64_t hash;
	int64_t born_ns;
	/* the cache's own (while live) + walks using it + entries below it */
	unsigned users;
	bool dead;
	size_t keylen;
	char key[]; /* "/a/b" */
};

struct dn_ceph_paths {
	struct ceph_mount_info *cm;
	struct Inode *root;
	uint64_t root_ino;
	int64_t timeout_ns;
	_Atomic uint64_t generation;
	pthread_mutex_t lock;
	bool closed;
	size_t count, bytes; /* allocated entries, dead ones not yet freed included */
	struct dn_ceph_dir *oldest, *newest;
	struct dn_ceph_dir *buckets[BUCKETS];
};

/* Coarse: a bound of a second or so wants no better than the tick. */
static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

#define FNV_OFFSET 14695981039346656037ull
#define FNV_PRIME 1099511628211ull

static uint64_t hash_more(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
	return h;
}

struct dn_ceph_paths *dn_ceph_paths_new(struct ceph_mount_info *cm, struct Inode *root,
					uint64_t root_ino, double timeout_s)
{
	if (!(timeout_s > 0))
		return NULL;
	struct dn_ceph_paths *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->cm = cm;
	p->root = root;
	p->root_ino = root_ino;
	p->timeout_ns = (int64_t)(timeout_s * 1e9);
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

struct Inode *dn_ceph_dir_inode(const struct dn_ceph_dir *d)
{
	return d->in;
}

struct dn_ceph_dir *dn_ceph_dir_parent(const struct dn_ceph_dir *d)
{
	return d->parent;
}

uint64_t dn_ceph_paths_generation(struct dn_ceph_paths *p)
{
	return atomic_load(&p->generation);
}

/* One user fewer; a dead entry without users goes to *reap (and lets go of its parent). */
static void dir_unref(struct dn_ceph_paths *p, struct dn_ceph_dir *d, struct dn_ceph_dir **reap)
{
	while (d && --d->users == 0) {
		struct dn_ceph_dir *up = d->parent;
		p->count--;
		p->bytes -= d->keylen;
		d->hnext = *reap;
		*reap = d;
		d = up;
	}
}

/* Out of the table and the age list; the cache's own use ends. */
static void dir_kill(struct dn_ceph_paths *p, struct dn_ceph_dir *d, struct dn_ceph_dir **reap)
{
	if (d->dead)
		return;
	struct dn_ceph_dir **pp = &p->buckets[d->hash & (BUCKETS - 1)];
	while (*pp != d)
		pp = &(*pp)->hnext;
	*pp = d->hnext;
	if (d->older)
		d->older->newer = d->newer;
	else
		p->oldest = d->newer;
	if (d->newer)
		d->newer->older = d->older;
	else
		p->newest = d->older;
	d->dead = true;
	dir_unref(p, d, reap);
}

/* The references go back outside the lock: libcephfs takes its own for them. */
static void reap_all(struct dn_ceph_paths *p, struct dn_ceph_dir *reap)
{
	while (reap) {
		struct dn_ceph_dir *next = reap->hnext;
		ceph_ll_put(p->cm, reap->in);
		free(reap);
		reap = next;
	}
}

static bool dir_expired(const struct dn_ceph_paths *p, const struct dn_ceph_dir *d, int64_t now)
{
	return now - d->born_ns >= p->timeout_ns;
}

/* Live, young enough, and so is every entry above it. */
static bool dir_usable(const struct dn_ceph_paths *p, const struct dn_ceph_dir *d, int64_t now)
{
	for (; d; d = d->parent)
		if (d->dead || dir_expired(p, d, now))
			return false;
	return true;
}

static struct dn_ceph_dir *table_get(struct dn_ceph_paths *p, uint64_t hash, const char *key,
				     size_t keylen)
{
	for (struct dn_ceph_dir *d = p->buckets[hash & (BUCKETS - 1)]; d; d = d->hnext)
		if (d->hash == hash && d->keylen == keylen && memcmp(d->key, key, keylen) == 0)
			return d;
	return NULL;
}

struct dn_ceph_dir *dn_ceph_paths_find(struct dn_ceph_paths *p, const char *path,
				       const char **rest, unsigned *depth)
{
	/* the key of each leading plain component that another one follows */
	char key[DN_PATH_MAX];
	size_t keylen = 0;
	struct {
		size_t keylen;
		uint64_t hash;
		const char *rest;
	} level[LEVELS_MAX];
	unsigned n = 0;
	uint64_t h = FNV_OFFSET;
	const char *at = path;
	while (n < LEVELS_MAX) {
		while (*at == '/')
			at++;
		const char *name = at;
		while (*at && *at != '/')
			at++;
		size_t len = (size_t)(at - name);
		if (len == 0 || (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.'))) ||
		    keylen + 1 + len > sizeof(key))
			break;
		const char *next = at;
		while (*next == '/')
			next++;
		if (!*next)
			break; /* the last component: a walk looks that up itself */
		key[keylen] = '/';
		memcpy(key + keylen + 1, name, len);
		h = hash_more(h, key + keylen, len + 1);
		keylen += 1 + len;
		level[n].keylen = keylen;
		level[n].hash = h;
		level[n].rest = at;
		n++;
	}
	if (n == 0)
		return NULL;
	int64_t now = now_ns();
	struct dn_ceph_dir *reap = NULL, *found = NULL;
	pthread_mutex_lock(&p->lock);
	while (n-- > 0) {
		struct dn_ceph_dir *d = table_get(p, level[n].hash, key, level[n].keylen);
		if (!d)
			continue;
		if (!dir_usable(p, d, now)) {
			dir_kill(p, d, &reap);
			continue;
		}
		d->users++;
		found = d;
		*rest = level[n].rest;
		*depth = n + 1;
		break;
	}
	pthread_mutex_unlock(&p->lock);
	reap_all(p, reap);
	return found;
}

void dn_ceph_paths_release(struct dn_ceph_paths *p, struct dn_ceph_dir *d)
{
	struct dn_ceph_dir *reap = NULL;
	pthread_mutex_lock(&p->lock);
	dir_unref(p, d, &reap);
	pthread_mutex_unlock(&p->lock);
	reap_all(p, reap);
}

/* Room for one more entry of keylen bytes: the expired go first, then the oldest. */
static bool make_room(struct dn_ceph_paths *p, size_t keylen, int64_t now,
		      struct dn_ceph_dir **reap)
{
	while (p->oldest && dir_expired(p, p->oldest, now))
		dir_kill(p, p->oldest, reap);
	while (p->count >= ENTRIES_MAX || p->bytes + keylen > KEY_BYTES_MAX) {
		if (!p->oldest)
			return false; /* only dead entries that walks still use */
		dir_kill(p, p->oldest, reap);
	}
	return true;
}

void dn_ceph_paths_add_walk(struct dn_ceph_paths *p, uint64_t generation, const char *canon,
			    const size_t *ends, struct Inode **ins, const uint64_t *inos,
			    unsigned n)
{
	struct dn_ceph_dir *reap = NULL, *parent = NULL;
	int64_t now = now_ns();
	unsigned i = 0;
	pthread_mutex_lock(&p->lock);
	/* a removal or rename since the walk began may have made what it found stale */
	if (p->closed || atomic_load(&p->generation) != generation)
		goto out;
	for (; i < n; i++) {
		size_t keylen = ends[i];
		uint64_t h = hash_more(FNV_OFFSET, canon, keylen);
		struct dn_ceph_dir *d = table_get(p, h, canon, keylen);
		if (d && d->in == ins[i] && dir_usable(p, d, now) && d->parent == parent) {
			parent = d; /* there already: ours goes back */
			continue;
		}
		if (d)
			dir_kill(p, d, &reap);
		if (!make_room(p, keylen, now, &reap) ||
		    (parent && parent->dead)) /* evicted to make room: nothing to hang on */
			break;
		d = malloc(sizeof(*d) + keylen + 1);
		if (!d)
			break;
		*d = (struct dn_ceph_dir){
			.parent = parent, .in = ins[i], .ino = inos[i],
			.parent_ino = parent ? parent->ino : p->root_ino, .hash = h,
			.born_ns = now, .users = 1, .keylen = keylen,
		};
		memcpy(d->key, canon, keylen);
		d->key[keylen] = 0;
		if (parent)
			parent->users++;
		struct dn_ceph_dir **b = &p->buckets[h & (BUCKETS - 1)];
		d->hnext = *b;
		*b = d;
		d->older = p->newest;
		if (p->newest)
			p->newest->newer = d;
		else
			p->oldest = d;
		p->newest = d;
		p->count++;
		p->bytes += keylen;
		parent = d;
		ins[i] = NULL; /* taken */
	}
out:
	pthread_mutex_unlock(&p->lock);
	reap_all(p, reap);
	for (i = 0; i < n; i++)
		if (ins[i])
			ceph_ll_put(p->cm, ins[i]);
}

/* The name an entry has in the directory above it. */
static bool dir_named(const struct dn_ceph_dir *d, const char *name, size_t len)
{
	return d->keylen > len && d->key[d->keylen - len - 1] == '/' &&
	       memcmp(d->key + d->keylen - len, name, len) == 0;
}

enum forget_by { BY_ALL, BY_NAME_IN, BY_DENTRY, BY_INO };

struct forget {
	enum forget_by by;
	struct Inode *dir;
	uint64_t dirino, ino;
	const char *name;
	size_t len;
};

static bool forget_matches(const struct dn_ceph_paths *p, const struct dn_ceph_dir *d,
			   const struct forget *f)
{
	switch (f->by) {
	case BY_ALL:
		return true;
	case BY_NAME_IN:
		return (d->parent ? d->parent->in : p->root) == f->dir &&
		       dir_named(d, f->name, f->len);
	case BY_DENTRY:
		return (f->ino && d->ino == f->ino) ||
		       (d->parent_ino == f->dirino && dir_named(d, f->name, f->len));
	case BY_INO:
		return d->ino == f->ino;
	}
	return false;
}

/*
 * Entries below a forgotten one stay in the table, unusable (dir_usable
 * looks up the chain): forgetting costs one pass over the live entries.
 */
static void forget(struct dn_ceph_paths *p, const struct forget *f)
{
	struct dn_ceph_dir *reap = NULL;
	pthread_mutex_lock(&p->lock);
	atomic_fetch_add(&p->generation, 1);
	for (struct dn_ceph_dir *d = p->oldest, *next; d; d = next) {
		next = d->newer;
		if (forget_matches(p, d, f))
			dir_kill(p, d, &reap);
	}
	pthread_mutex_unlock(&p->lock);
	reap_all(p, reap);
}

void dn_ceph_paths_forget_name(struct dn_ceph_paths *p, struct Inode *dir, const char *name)
{
	if (p)
		forget(p, &(struct forget){.by = BY_NAME_IN, .dir = dir, .name = name,
					   .len = strlen(name)});
}

void dn_ceph_paths_forget_dentry(struct dn_ceph_paths *p, uint64_t dirino, uint64_t ino,
				 const char *name, size_t len)
{
	if (p)
		forget(p, &(struct forget){.by = BY_DENTRY, .dirino = dirino, .ino = ino,
					   .name = name, .len = len});
}

void dn_ceph_paths_forget_ino(struct dn_ceph_paths *p, uint64_t ino)
{
	if (p)
		forget(p, &(struct forget){.by = BY_INO, .ino = ino});
}

void dn_ceph_paths_close(struct dn_ceph_paths *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->closed = true;
	pthread_mutex_unlock(&p->lock);
	forget(p, &(struct forget){.by = BY_ALL});
}

struct dn_ceph_paths *dn_ceph_paths_free(struct dn_ceph_paths *p)
{
	if (!p)
		return NULL;
	pthread_mutex_destroy(&p->lock);
	free(p);
	return NULL;
}
