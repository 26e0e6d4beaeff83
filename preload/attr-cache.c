/* Attribute Cache: a Ceph pool's (or local union's) recent stat answers, served in the process while they hold */
#include "attr-cache.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "client.h"

/*
 * A stat of a Ceph pool costs a round trip (~0.6 us), as long as
 * in-process libcephfs takes for the whole call. Answers are kept here,
 * each used only while:
 *
 * - the process is still in the session that got it (dn_client.session_gen:
 *   one identity; a set*id, an exec as another or a pool restart starts
 *   another), so no caller sees what another identity was allowed to see;
 * - the pool's generations read before its request are unchanged: the pool
 *   bumps them after every change through it, by any process (daemon/gens.h),
 *   in memory clients map read-only;
 * - its attr_timeout has not passed since the request was sent: what other
 *   clients of the cluster change is seen that late, as through ceph-fuse's
 *   kernel caches.
 *
 * An answer is kept on a stat's second miss: the first only learns which
 * inode the path names, whose generation must be read before a request
 * for the answer to be kept. Only successful answers for absolute pool
 * paths are kept (errors, placeholders and redirects go to the pool).
 *
 * A fixed table of direct-mapped slots, each a seqlock: readers take no
 * lock and retry nothing (a slot being written is a miss), a writer that
 * finds its slot taken keeps nothing, so threads and signal handlers never
 * wait on each other. Copies of a slot are checked against its sequence,
 * as every seqlock does; a torn copy is never used.
 */
#define SLOTS 512u
#define KEY_MAX 200u

#define F_NOFOLLOW 0x1u
#define F_REDIRECT 0x2u

struct entry {
	uint32_t session; /* dn_client.session_gen + 1; 0: empty */
	uint16_t mount, len;
	uint8_t flags;
	bool valid; /* false: only the inode is known (the first miss) */
	uint64_t names, inode, expires_ns;
	struct dn_stat st; /* its ino: the inode whose generation is kept */
	char path[KEY_MAX];
};

struct slot {
	_Atomic uint32_t seq; /* odd while written */
	struct entry e;
};

static struct slot slots[SLOTS];

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t key_slot(const char *path, size_t len, uint32_t mount, uint8_t flags)
{
	uint64_t h = 1469598103934665603ull ^ ((uint64_t)mount << 8 | flags);
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)path[i]) * 1099511628211ull;
	return (uint32_t)(h ^ h >> 32) % SLOTS;
}

/* A consistent copy of s's entry, or false while a writer holds it. */
static bool slot_read(struct slot *s, struct entry *e)
{
	uint32_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
	if (seq & 1)
		return false;
	memcpy(e, &s->e, sizeof(*e));
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&s->seq, memory_order_relaxed) == seq;
}

static const struct dn_gens *gens(void)
{
	const struct dn_worker_states *w = dn_client.chan.states;
	return w ? &w->gens : NULL;
}

bool dn_attr_cache_get(struct dn_attr_probe *p, uint32_t session, const struct dn_target *t,
		       bool nofollow, struct dn_stat *out)
{
	p->keep = false;
	const struct dn_gens *g = gens();
	uint32_t ms = g ? atomic_load_explicit(&g->attr_timeout_ms, memory_order_relaxed) : 0;
	/* a path relative to an open directory: its handle may name another one later */
	if (!ms || t->handle)
		return false;
	size_t len = strnlen(t->path, KEY_MAX);
	if (len >= KEY_MAX)
		return false;
	p->flags = (uint8_t)((nofollow ? F_NOFOLLOW : 0) | (t->redirect ? F_REDIRECT : 0));
	p->mount = (uint16_t)t->mount;
	p->len = (uint16_t)len;
	p->path = t->path;
	p->session = session;
	p->slot = key_slot(t->path, len, t->mount, p->flags);
	p->names = atomic_load_explicit(&g->names, memory_order_acquire);
	uint64_t now = now_ns();
	struct entry e;
	p->hinted = slot_read(&slots[p->slot], &e) && e.session == session + 1 &&
		    e.mount == p->mount && e.flags == p->flags && e.len == len &&
		    memcmp(e.path, t->path, len) == 0;
	if (p->hinted) {
		p->ino = e.st.ino;
		p->inode = atomic_load_explicit(&g->inode[dn_gen_inode_slot(e.st.ino)],
						memory_order_acquire);
		if (e.valid && now < e.expires_ns && e.names == p->names && e.inode == p->inode) {
			*out = e.st;
			return true;
		}
	}
	p->expires_ns = now + (uint64_t)ms * 1000000u;
	p->keep = true;
	return false;
}

void dn_attr_cache_put(const struct dn_attr_probe *p, const struct dn_stat *st)
{
	/* a restart during the request: another session, other generations */
	if (!p->keep || atomic_load(&dn_client.session_gen) != p->session)
		return;
	struct slot *s = &slots[p->slot];
	uint32_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
	if ((seq & 1) || !atomic_compare_exchange_strong_explicit(&s->seq, &seq, seq + 1,
								  memory_order_relaxed,
								  memory_order_relaxed))
		return;
	atomic_thread_fence(memory_order_release);
	struct entry *e = &s->e;
	e->session = p->session + 1;
	e->mount = p->mount;
	e->flags = p->flags;
	e->len = p->len;
	memcpy(e->path, p->path, p->len);
	e->st = *st;
	/*
	 * the generation read before the request was this inode's, one the
	 * kernel changes only through the pool (DN_GEN_UNCACHED); a FIFO's or
	 * device's times move at reads and writes through the client's own
	 * descriptor (DN_REPLY_HANDOVER), with no request
	 */
	e->valid = p->hinted && p->ino == st->ino && !(p->inode & DN_GEN_UNCACHED) &&
		   (S_ISREG(st->mode) || S_ISDIR(st->mode) || S_ISLNK(st->mode));
	e->names = p->names;
	e->inode = p->inode;
	e->expires_ns = p->expires_ns;
	atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}
