/* Union Lookup Cache: what each name of the merged tree is, until the union next changes */
#include <stdlib.h>
#include <string.h>

#include "union.h"

#define SLOTS 16384          /* a power of two */
#define FILL_MAX (SLOTS / 2) /* past it, everything goes: no eviction to get wrong */

/*
 * Lower layers never change, and the writable layer changes only through
 * this union (one pool per writable layer): where a name is -- which layer,
 * which layers a directory merges, or that it is absent -- stays true until
 * the union changes something. Every change bumps the generation before and
 * after it, so a node looked up while one was under way is never taken for
 * a later one. A directory's attributes change only by such changes too; a
 * file's change by writes, so they are asked again (un_dcache_get's
 * UN_HIT_STAT).
 */
struct un_dcache_entry {
	char *path; /* owned; NULL: a free slot */
	uint64_t gen;
	int layer;
	bool below, below_known, whiteout_up;
	struct stat st;
	struct dn_stat_more more;
	struct un_mask dirs;
	uint8_t *acl; /* owned; NULL: none */
	uint16_t acl_len;
};

struct un_dcache {
	pthread_mutex_t lock;
	size_t used;
	struct un_dcache_entry slot[SLOTS];
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

struct un_dcache *un_dcache_new(void)
{
	struct un_dcache *c = calloc(1, sizeof(*c));
	if (c)
		pthread_mutex_init(&c->lock, NULL);
	return c;
}

static void clear_locked(struct un_dcache *c)
{
	for (size_t i = 0; i < SLOTS; i++) {
		free(c->slot[i].path);
		free(c->slot[i].acl);
		c->slot[i].path = NULL;
		c->slot[i].acl = NULL;
	}
	c->used = 0;
}

void un_dcache_free(struct un_dcache *c)
{
	if (!c)
		return;
	clear_locked(c);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void un_changed(struct union_svc *u)
{
	atomic_fetch_add(&u->gen, 1);
}

int un_dcache_get(struct union_svc *u, const char *path, int flags, struct un_node *out)
{
	struct un_dcache *c = u->dcache;
	if (!c)
		return UN_MISS;
	uint64_t gen = atomic_load(&u->gen);
	int hit = UN_MISS;
	pthread_mutex_lock(&c->lock);
	for (size_t i = hash(path) & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1)) {
		struct un_dcache_entry *e = &c->slot[i];
		if (!e->path)
			break;
		if (strcmp(e->path, path) == 0) {
			if (e->gen == gen && (e->below_known || !(flags & UN_BELOW))) {
				out->layer = e->layer;
				out->below = e->below;
				out->st = e->st;
				out->more = e->more;
				out->dirs = e->dirs;
				out->whiteout_up = e->whiteout_up;
				out->acl_len = e->acl_len;
				if (e->acl_len)
					memcpy(out->acl, e->acl, e->acl_len);
				hit = e->layer < 0 || S_ISDIR(e->st.st_mode) ? UN_HIT : UN_HIT_STAT;
			}
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void un_dcache_put(struct union_svc *u, const struct un_node *n, int flags, uint64_t gen)
{
	struct un_dcache *c = u->dcache;
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	if (c->used >= FILL_MAX)
		clear_locked(c);
	for (size_t i = hash(n->path) & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1)) {
		struct un_dcache_entry *e = &c->slot[i];
		if (e->path && strcmp(e->path, n->path) != 0)
			continue;
		if (!e->path) {
			if (!(e->path = strdup(n->path)))
				break;
			c->used++;
		}
		e->gen = gen;
		e->layer = n->layer;
		e->below = n->below;
		e->below_known = (flags & UN_BELOW) || n->layer < 0;
		e->whiteout_up = n->whiteout_up;
		free(e->acl);
		e->acl = NULL;
		e->acl_len = 0;
		if (n->acl_len && (e->acl = malloc(n->acl_len))) {
			memcpy(e->acl, n->acl, n->acl_len);
			e->acl_len = n->acl_len;
		} else if (n->acl_len) {
			e->gen = gen - 1; /* (no memory for it: not kept) */
		}
		e->st = n->st;
		e->more = n->more;
		e->dirs = n->dirs;
		break;
	}
	pthread_mutex_unlock(&c->lock);
}
