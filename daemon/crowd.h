/* Crowd: how many clients the pool served lately, against the CPUs it may use */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

/*
 * A client that spins for its reply holds a CPU; that pays while the worker
 * that answers it runs on another. With more client threads at work than
 * the pool's CPUs can run beside its workers, the spinners hold off the
 * workers (and each other): measured on 2 CPUs, 16 stress-ng --seek
 * processes made ~5x fewer calls with a 20 us spin than with a 1 us one.
 * The workers count the distinct client threads they served in each
 * window of CROWD_WINDOW_NS and publish the verdict in the pool state that
 * every client reads (dn_pool_state.crowded), once two windows in a row
 * were over; a crowded pool's clients sleep at once and its workers do not
 * yield to them.
 */
#define CROWD_WINDOW_NS 2000000u
#define CROWD_SLOTS 64

struct dn_crowd {
	unsigned cpus, workers;
	bool enabled; /* DANAUS_CROWD=1: see dn_crowd_init */
	bool over; /* the last window was over the CPUs (written by the one closing it) */
	struct dn_pool_state *pub; /* in the worker-states page */
	_Atomic uint64_t window_end;
	_Atomic uint64_t keys[CROWD_SLOTS]; /* client threads seen this window (0: empty) */
};

void dn_crowd_init(struct dn_crowd *c, struct dn_pool_state *pub, unsigned cpus,
		   unsigned workers);

/* A worker served client thread key (not 0) at now; closes the window when it is over. */
void dn_crowd_note(struct dn_crowd *c, uint64_t key, uint64_t now);

/* Whether the last window was crowded: for the workers' own choices. */
static inline bool dn_crowd_crowded(const struct dn_crowd *c)
{
	return atomic_load_explicit(&c->pub->crowded, memory_order_relaxed) != 0;
}

/* The verdict for n client threads at work (exposed for the unit test). */
bool dn_crowd_verdict(unsigned n, unsigned cpus, unsigned workers);
