/* Heap Trimmer: gives back to the kernel the heap pages freed memory leaves behind */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * glibc's free() returns an arena's memory only from its top: pages freed
 * below a chunk still in use stay resident until malloc_trim(). libcephfs's
 * object cache frees its buffers in whatever order it evicts them, so a
 * pool's resident memory would stay at its peak, not at its cache's size.
 *
 * The policy, apart from its thread so that it can be tested: trim when the
 * anonymous resident memory has grown by slack over its lowest since the
 * last trim; look again after period_ns, twice as long (up to max_ns) each
 * time nothing moved, so an idle pool is woken rarely.
 */
struct dn_trim_policy {
	uint64_t slack;             /* bytes of growth that call for a trim */
	uint64_t min_ns, max_ns;    /* look again after between these */
	uint64_t low;               /* the lowest seen since the last trim */
	uint64_t last;              /* at the last look */
	uint64_t period_ns;         /* until the next look */
};

void dn_trim_policy_init(struct dn_trim_policy *t, uint64_t slack, uint64_t min_ns,
			 uint64_t max_ns);

/* At a look: whether to trim now, with `anon` bytes resident. */
bool dn_trim_policy_due(struct dn_trim_policy *t, uint64_t anon);

/* After a trim, `anon` bytes resident: the new floor. */
void dn_trim_policy_trimmed(struct dn_trim_policy *t, uint64_t anon);

struct dn_trimmer;

/* A thread that applies the policy to this process; NULL when it cannot start. */
struct dn_trimmer *dn_trimmer_start(uint64_t slack);

/* How many trims it made so far. */
unsigned dn_trimmer_trims(struct dn_trimmer *t);

/* Stops and joins it; accepts NULL, returns NULL. */
struct dn_trimmer *dn_trimmer_stop(struct dn_trimmer *t);
