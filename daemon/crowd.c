/* Crowd: how many clients the pool served lately, against the CPUs it may use */
#include "crowd.h"

#include <stdlib.h>
#include <string.h>

void dn_crowd_init(struct dn_crowd *c, struct dn_pool_state *pub, unsigned cpus,
		   unsigned workers)
{
	/*
	 * Off unless DANAUS_CROWD=1 in the pool's environment: on a quiet
	 * host 2-32 clients made ~35 % fewer calls with it (a sleeping client
	 * costs a futex wake per call), on one loaded by other work 10-60 %
	 * more; the verdict does not yet see the CPUs' other load.
	 */
	const char *on = getenv("DANAUS_CROWD");
	c->enabled = on && strcmp(on, "1") == 0;
	c->cpus = cpus ? cpus : 1;
	c->workers = workers ? workers : 1;
	c->pub = pub;
	atomic_store(&c->window_end, 0);
	for (unsigned i = 0; i < CROWD_SLOTS; i++)
		atomic_store(&c->keys[i], 0);
	atomic_store(&pub->crowded, 0);
	atomic_store(&pub->clients, 0);
}

/*
 * Each client thread needs a CPU while it spins, and each one served needs
 * a worker running: up to one per worker. Spinning pays while both fit.
 */
bool dn_crowd_verdict(unsigned n, unsigned cpus, unsigned workers)
{
	unsigned busy = n < workers ? n : workers;
	return n + busy > cpus && n > 1;
}

static unsigned slot_of(uint64_t key)
{
	/* murmur3's finalizer: session (high half) and buffer bits both reach the slot */
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	return (unsigned)(key % CROWD_SLOTS);
}

static void close_window(struct dn_crowd *c, uint64_t now)
{
	uint64_t end = atomic_load_explicit(&c->window_end, memory_order_relaxed);
	/* one worker closes it; the others go on noting into the next */
	if (now < end ||
	    !atomic_compare_exchange_strong(&c->window_end, &end, now + CROWD_WINDOW_NS))
		return;
	unsigned n = 0;
	for (unsigned i = 0; i < CROWD_SLOTS; i++)
		if (atomic_exchange_explicit(&c->keys[i], 0, memory_order_relaxed))
			n++;
	/*
	 * Two windows in a row: one process handing over to the next (a shell
	 * starting du, then find) shows two clients in one window, and a
	 * crowd's sleep would cost each of them a futex wake per call.
	 */
	bool over = c->enabled && dn_crowd_verdict(n, c->cpus, c->workers);
	uint32_t crowded = over && c->over;
	c->over = over;
	if (atomic_load_explicit(&c->pub->crowded, memory_order_relaxed) != crowded)
		atomic_store_explicit(&c->pub->crowded, crowded, memory_order_relaxed);
	if (atomic_load_explicit(&c->pub->clients, memory_order_relaxed) != n)
		atomic_store_explicit(&c->pub->clients, n, memory_order_relaxed);
}

void dn_crowd_note(struct dn_crowd *c, uint64_t key, uint64_t now)
{
	/* Colliding keys count once: the count errs low, towards spinning as before. */
	_Atomic uint64_t *k = &c->keys[slot_of(key)];
	if (atomic_load_explicit(k, memory_order_relaxed) != key)
		atomic_store_explicit(k, key, memory_order_relaxed);
	close_window(c, now);
}
