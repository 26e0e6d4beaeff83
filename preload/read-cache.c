/* Read Cache: a Ceph pool's file data recently read, served in the process while it holds */
#include "read-cache.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "client.h"
#include "fault.h"

/*
 * A read of a Ceph pool copies its data twice (libcephfs's cache into the
 * request buffer, then out to the caller) where in-process libcephfs copies
 * once: a re-read of cached data cannot come near it through the pool.
 * Data read is kept here, used only while (as the attribute cache's
 * answers, attr-cache.c):
 *
 * - the process is in the session that read it (one identity);
 * - the pool's names generation and its inode's, read before the request,
 *   are unchanged: the pool bumps them after every change through it, by
 *   any process (daemon/gens.h); names also for every op it does not know
 *   to touch one inode's data only;
 * - the process has not opened the inode again nor taken a lock on it since
 *   (close-to-open and lock coherence, as NFS: programs that share a file
 *   with other hosts under locks read what those wrote);
 * - attr_timeout has not passed since the request was sent: what other
 *   clients of the cluster write is seen that late, as through ceph-fuse's
 *   page cache, whose data lives until its caps are revoked.
 *
 * Only fds the library opened itself in this session (it knows their
 * inode), open for reading, never O_DIRECT.
 *
 * Memory: the pool's [ceph] read_cache (64 MiB by default) in blocks of
 * BLOCK bytes, with their headers, reserved at the first read kept; pages
 * are touched only as data is kept, so a process's resident cost is at
 * most that, and only what it read. The area's size is fixed then (the
 * first session's); a later session that asks for less uses that many of
 * its slots, one that asks for more no more than it has. Reads larger than
 * a quarter of it bypass it: one read never empties the cache.
 *
 * A block's data is kept only from a second read of the same bytes on (its
 * header says what was read once): a page of the area costs ~2.5-3 us to
 * touch the first time on the VMs measured, more than a 4 KiB read from
 * libcephfs's cache, so a process that reads everything once (cat, cp, a
 * compiler) and random reads that seldom meet the same bytes again keep
 * nothing and pay a header's write; data read again is served from its
 * third read on, and a file larger than the cache read again and again
 * (each block's header gone before its next read) costs no copy either.
 *
 * The same holds for each whole page of a block apart (its head's page
 * masks): a page read twice is kept wherever it lies, so random 4 KiB
 * reads of a file that fits are served in the process too.
 *
 * A block's slot is at the file's hash plus the block's number, so a
 * file's consecutive blocks never evict each other. Each slot is a
 * seqlock: readers take no lock (a slot being written is a miss), a writer
 * that finds its slot taken keeps nothing, so threads and signal handlers
 * never wait on each other. A copy out of a slot is checked against its
 * sequence afterwards; a torn one is a miss, and the pool's answer
 * overwrites it.
 */
#define BLOCK DN_READ_CACHE_BLOCK
#define BLOCKS_MAX ((uint32_t)(DN_READ_CACHE_MAX / BLOCK))

/* A block's whole pages, for reads scattered over it (random 4 KiB preads) */
#define PAGE 4096u
#define PAGES (BLOCK / PAGE)
_Static_assert(PAGES <= 16, "a head's page masks are 16 bits");

struct head {
	uint32_t session; /* dn_client.session_gen + 1; 0: empty */
	uint32_t drop;
	uint32_t lo, hi; /* the bytes of the block kept */
	bool eof;	 /* the file ended at hi */
	bool data;	 /* false: only seen (read once), nothing kept */
	/*
	 * Whole pages read once since the file's last head (seen), and those
	 * read again whose data is kept, outside lo..hi too, under the head's
	 * generations (kept): a page's 4 KiB all lie before the file's end.
	 */
	uint16_t seen, kept;
	uint64_t ino, dev, blk, names, inode, expires_ns;
};

struct slot {
	_Atomic uint32_t seq; /* odd while written */
	struct head h;
};

/* The slots, then their blocks' data (page-aligned): mapped at the first read kept. */
struct area {
	uint32_t nslots;
	uint8_t *data; /* nslots * BLOCK bytes */
	struct slot slot[];
};
static struct area *_Atomic area;

/* The blocks the pool asks each process to keep (0: none), bounded as the pool bounds them. */
static uint32_t blocks_wanted(const struct dn_gens *g)
{
	uint32_t n = atomic_load_explicit(&g->read_cache_blocks, memory_order_relaxed);
	return n < BLOCKS_MAX ? n : BLOCKS_MAX;
}

/*
 * Drops by this process: per inode slot of the pool's generations, and of
 * everything (an open or lock whose inode is not known). An entry keeps
 * their sum as read before its request.
 */
static _Atomic uint32_t drops[DN_GEN_INODES];
static _Atomic uint32_t drop_all;

/* What the process knows of its open file descriptions: their inode, by ofd index. */
#define KNOWN 4096u
struct known {
	_Atomic uint32_t seq;
	uint32_t session; /* + 1 */
	uint64_t handle, ino, dev;
};
static struct known known[KNOWN];

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const struct dn_gens *gens(void)
{
	const struct dn_worker_states *w = dn_client.chan.states;
	return w ? &w->gens : NULL;
}

bool dn_read_cache_wanted(void)
{
	const struct dn_gens *g = gens();
	return g && (dn_client.chan.flags & DN_SESSION_CACHE_DIES) &&
	       atomic_load_explicit(&g->attr_timeout_ms, memory_order_relaxed) && blocks_wanted(g);
}

/* Starts a seqlock write: false when another holds it. */
static bool write_begin(_Atomic uint32_t *seq, uint32_t *was)
{
	*was = atomic_load_explicit(seq, memory_order_relaxed);
	if ((*was & 1) || !atomic_compare_exchange_strong_explicit(seq, was, *was + 1,
								   memory_order_relaxed,
								   memory_order_relaxed))
		return false;
	atomic_thread_fence(memory_order_release);
	return true;
}

static void write_end(_Atomic uint32_t *seq, uint32_t was)
{
	atomic_store_explicit(seq, was + 2, memory_order_release);
}

static uint32_t drop_of(uint64_t ino)
{
	return atomic_load_explicit(&drops[dn_gen_inode_slot(ino)], memory_order_acquire) +
	       atomic_load_explicit(&drop_all, memory_order_acquire);
}

static void drop_ino(uint64_t ino)
{
	if (ino)
		atomic_fetch_add_explicit(&drops[dn_gen_inode_slot(ino)], 1, memory_order_release);
	else
		atomic_fetch_add_explicit(&drop_all, 1, memory_order_release);
}

/* ofd's inode when this process opened it in session as handle; 0 when not known. */
static uint64_t known_ino(int32_t ofd, uint64_t handle, uint32_t session, uint64_t *dev)
{
	if (ofd < 0 || (uint32_t)ofd >= KNOWN)
		return 0;
	struct known *k = &known[ofd];
	uint32_t seq = atomic_load_explicit(&k->seq, memory_order_acquire);
	if (seq & 1)
		return 0;
	struct known c = {.session = k->session, .handle = k->handle, .ino = k->ino, .dev = k->dev};
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&k->seq, memory_order_relaxed) != seq || c.session != session + 1 ||
	    c.handle != handle)
		return 0;
	*dev = c.dev;
	return c.ino;
}

static void known_set(int32_t ofd, uint32_t session, uint64_t handle, uint64_t ino, uint64_t dev)
{
	if (ofd < 0 || (uint32_t)ofd >= KNOWN)
		return;
	struct known *k = &known[ofd];
	uint32_t was;
	/* another thread on the same index: one of the two opens goes uncached */
	if (!write_begin(&k->seq, &was))
		return;
	k->session = ino ? session + 1 : 0;
	k->handle = handle;
	k->ino = ino;
	k->dev = dev;
	write_end(&k->seq, was);
}

void dn_read_cache_opened(int32_t ofd, uint64_t handle, uint32_t session, uint64_t ino,
			  uint64_t dev)
{
	known_set(ofd, session, handle, ino, dev);
	drop_ino(ino);
}

void dn_read_cache_forget(int32_t ofd)
{
	known_set(ofd, 0, 0, 0, 0);
}

void dn_read_cache_drop(int32_t ofd, uint64_t handle)
{
	uint64_t dev;
	drop_ino(known_ino(ofd, handle, atomic_load(&dn_client.session_gen), &dev));
}

bool dn_read_cache_begin(struct dn_rc_read *r, uint32_t session, int32_t ofd, uint64_t handle,
			 uint32_t oflags, uint64_t pos, size_t len)
{
	r->on = false;
	const struct dn_gens *g = gens();
	if (!g || !(dn_client.chan.flags & DN_SESSION_CACHE_DIES) || (oflags & O_DIRECT) ||
	    len == 0 || pos > INT64_MAX - len)
		return false;
	uint32_t blocks = blocks_wanted(g);
	const struct area *a = atomic_load_explicit(&area, memory_order_acquire);
	if (a && a->nslots < blocks)
		blocks = a->nslots;
	if (len > (size_t)blocks * BLOCK / 4)
		return false;
	uint32_t ms = atomic_load_explicit(&g->attr_timeout_ms, memory_order_relaxed);
	if (!ms || !(r->ino = known_ino(ofd, handle, session, &r->dev)))
		return false;
	r->session = session;
	r->blocks = blocks;
	r->names = atomic_load_explicit(&g->names, memory_order_acquire);
	r->inode = atomic_load_explicit(&g->inode[dn_gen_inode_slot(r->ino)], memory_order_acquire);
	r->drop = drop_of(r->ino);
	r->now_ns = now_ns();
	r->expires_ns = r->now_ns + (uint64_t)ms * 1000000u;
	r->on = true;
	return true;
}

/*
 * r's block blk's slot in a (of the first r->blocks: its session's share;
 * a slot's header says which block it holds, so any share is safe).
 */
static struct slot *slot_of(struct area *a, const struct dn_rc_read *r, uint64_t blk)
{
	uint64_t h = (r->ino ^ r->dev * 0x9e3779b97f4a7c15ull) * 0xff51afd7ed558ccdull;
	uint32_t n = r->blocks < a->nslots ? r->blocks : a->nslots;
	return &a->slot[(uint32_t)((h >> 32) + blk) % n];
}

static uint8_t *block_of(const struct area *a, const struct slot *sl)
{
	return a->data + (size_t)(sl - a->slot) * BLOCK;
}

static bool same_file(const struct head *h, const struct dn_rc_read *r, uint64_t blk)
{
	return h->session == r->session + 1 && h->ino == r->ino && h->dev == r->dev &&
	       h->blk == blk;
}

/* Whether h is of r's block blk, read under the generations r was. */
static bool same_gens(const struct head *h, const struct dn_rc_read *r, uint64_t blk)
{
	return same_file(h, r, blk) && h->names == r->names && h->inode == r->inode &&
	       h->drop == r->drop && r->now_ns < h->expires_ns;
}

/* The pages of a block [s, e) touches (e > s) */
static uint16_t pages_touched(uint32_t s, uint32_t e)
{
	uint32_t first = s / PAGE, last = (e - 1) / PAGE;
	return (uint16_t)(((1u << (last + 1)) - 1) & ~((1u << first) - 1));
}

/* The pages of a block [s, e) covers whole */
static uint16_t pages_whole(uint32_t s, uint32_t e)
{
	uint32_t first = (s + PAGE - 1) / PAGE, end = e / PAGE;
	return end > first ? (uint16_t)(((1u << end) - 1) & ~((1u << first) - 1)) : 0;
}

ssize_t dn_read_cache_get(const struct dn_rc_read *r, uint64_t pos, uint8_t *dest, size_t len)
{
	if (!r->on)
		return -1;
	struct area *a = atomic_load_explicit(&area, memory_order_acquire);
	if (!a)
		return -1;
	size_t done = 0;
	while (done < len) {
		uint64_t at = pos + done, blk = at / BLOCK;
		uint32_t s = (uint32_t)(at % BLOCK);
		size_t want = len - done < BLOCK - s ? len - done : BLOCK - s;
		struct slot *sl = slot_of(a, r, blk);
		uint32_t seq = atomic_load_explicit(&sl->seq, memory_order_acquire);
		if (seq & 1)
			return -1;
		struct head h = sl->h;
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&sl->seq, memory_order_relaxed) != seq ||
		    !same_gens(&h, r, blk))
			return -1;
		size_t n;
		if (h.data && h.lo <= s && (s + want <= h.hi || h.eof))
			n = s + want <= h.hi ? want : (h.hi > s ? h.hi - s : 0);
		else if (!(pages_touched(s, s + (uint32_t)want) & ~h.kept))
			n = want; /* (kept pages are whole: the file goes on past them) */
		else
			return -1;
		const uint8_t *src = block_of(a, sl) + s;
		if (n && dn_fault_copy_out(dest + done, src, n) < 0)
			return -1; /* the pool's way tells EFAULT from a short read */
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&sl->seq, memory_order_relaxed) != seq)
			return -1;
		done += n;
		if (n < want)
			break; /* the end of the file */
	}
	return (ssize_t)done;
}

/*
 * The area, mapped at the first read kept with r's session's share
 * (lazily: a process that reads nothing pays nothing, and one that reads
 * once only the headers' pages).
 */
static struct area *area_get(const struct dn_rc_read *r)
{
	struct area *a = atomic_load_explicit(&area, memory_order_acquire);
	if (a)
		return a;
	size_t page = 4096, heads = sizeof(struct area) + (size_t)r->blocks * sizeof(struct slot);
	size_t data_off = (heads + page - 1) / page * page;
	size_t size = data_off + (size_t)r->blocks * BLOCK;
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	a = m;
	a->nslots = r->blocks;
	a->data = (uint8_t *)m + data_off;
	struct area *none = NULL;
	if (!atomic_compare_exchange_strong(&area, &none, a)) {
		munmap(m, size); /* another thread's won */
		return none;
	}
	return a;
}

/* Whether r's answer may still be kept: the same session (no restart, no new identity). */
static bool keepable(const struct dn_rc_read *r)
{
	return r->on && atomic_load(&dn_client.session_gen) == r->session;
}

void dn_read_cache_put(const struct dn_rc_read *r, uint64_t pos, const uint8_t *src, size_t n)
{
	struct area *a;
	if (!keepable(r) || !n || !(a = area_get(r)))
		return;
	size_t done = 0;
	while (done < n) {
		uint64_t at = pos + done, blk = at / BLOCK;
		uint32_t s = (uint32_t)(at % BLOCK);
		uint32_t e = (uint32_t)(n - done < BLOCK - s ? s + (n - done) : BLOCK);
		struct slot *sl = slot_of(a, r, blk);
		uint32_t was;
		if (write_begin(&sl->seq, &was)) {
			struct head *h = &sl->h;
			/* the whole pages read: kept from their second read, beside the piece */
			uint16_t whole = pages_whole(s, e);
			uint16_t seen = same_file(h, r, blk) ? h->seen : 0;
			uint16_t kept = same_gens(h, r, blk) ? h->kept : 0;
			uint16_t again = whole & seen & ~kept;
			uint64_t kept_expires = h->expires_ns;
			/* read with the same generations: one piece of the file, older end first */
			bool adjoins = same_gens(h, r, blk) && s <= h->hi && e >= h->lo;
			/* data from the second read of the same bytes on, then what adjoins it */
			bool keep = same_file(h, r, blk) &&
				    ((h->lo <= s && s < h->hi) || (h->data && adjoins));
			bool extend = adjoins && h->data == keep;
			if (extend) {
				h->lo = s < h->lo ? s : h->lo;
				if (e > h->hi) {
					h->hi = e;
					h->eof = false;
				}
				if (r->expires_ns < h->expires_ns)
					h->expires_ns = r->expires_ns;
			} else {
				*h = (struct head){.session = r->session + 1, .drop = r->drop,
						   .data = keep, .lo = s, .hi = e, .ino = r->ino,
						   .dev = r->dev,
						   .blk = blk, .names = r->names, .inode = r->inode,
						   .expires_ns = r->expires_ns};
			}
			if (keep)
				memcpy(block_of(a, sl) + s, src + done, e - s);
			h->seen = seen | whole;
			h->kept = kept | again;
			/* pages kept before this read live no longer than they would have */
			if (kept && kept_expires < h->expires_ns)
				h->expires_ns = kept_expires;
			for (uint32_t p = 0; !keep && p < PAGES; p++)
				if (again & (1u << p))
					memcpy(block_of(a, sl) + p * PAGE, src + done + (p * PAGE - s),
					       PAGE);
			write_end(&sl->seq, was);
		}
		done += e - s;
	}
}

void dn_read_cache_eof(const struct dn_rc_read *r, uint64_t end)
{
	struct area *a;
	if (!keepable(r) || !(a = area_get(r)))
		return;
	uint64_t blk = end / BLOCK;
	uint32_t s = (uint32_t)(end % BLOCK);
	struct slot *sl = slot_of(a, r, blk);
	uint32_t was;
	if (!write_begin(&sl->seq, &was))
		return;
	struct head *h = &sl->h;
	if (same_gens(h, r, blk) && h->hi == s) {
		h->eof = true;
	} else if (s == 0) {
		/* the file ends where a block starts: an empty block says so (kept once seen twice) */
		*h = (struct head){.session = r->session + 1, .drop = r->drop, .eof = true,
				   .data = same_file(h, r, blk) && h->eof,
				   .ino = r->ino, .dev = r->dev, .blk = blk, .names = r->names,
				   .inode = r->inode, .expires_ns = r->expires_ns};
	}
	write_end(&sl->seq, was);
}
