/* Request Queue: a bounded ring, many client threads in, one service worker out */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

/* Service side, at creation: empty ring of depth slots (depth a power of two). */
void dn_queue_init(struct dn_queue *q, uint32_t depth);

/*
 * Client side: claims the next slot; NULL when the ring is full. Fill
 * slot->req, then dn_queue_publish(slot, pos): false when the service
 * skipped the slot meanwhile (dn_queue_skip), and the request must be
 * reserved and filled again.
 */
struct dn_slot *dn_queue_reserve(struct dn_queue *q, uint32_t depth, uint64_t *pos);
bool dn_queue_publish(struct dn_slot *slot, uint64_t pos);

/*
 * Client side: whether the request published at pos has left the ring (a
 * worker took it). The slot may carry another request since: that is taken.
 */
bool dn_queue_taken(const struct dn_slot *slot, uint64_t pos);

/*
 * Service side: copies the request at *tail out of shared memory and frees
 * its slot. The consumer position is the service's own (never read back from
 * shared memory), so a client scribbling on the ring cannot stall a worker.
 */
bool dn_queue_pop(struct dn_queue *q, uint32_t depth, uint64_t *tail, struct dn_req *out);

/* Service side: whether a request waits at *tail (no copy). */
bool dn_queue_ready(const struct dn_queue *q, uint32_t depth, uint64_t tail);

/*
 * Service side: whether the slot at tail is reserved (a producer moved the
 * head past it) and not yet published. A producer killed between its
 * reserve and its publish leaves it so for good, and the consumer, which
 * takes slots in order, would wait there with every request behind it.
 */
bool dn_queue_stalled(const struct dn_queue *q, uint32_t depth, uint64_t tail);

/*
 * Service side: gives up the reserved slot at *tail, for the next lap, and
 * moves past it (true); false when its producer published it first (pop
 * takes it). A producer that publishes later learns it was skipped; its
 * late copy may land in the slot while the next lap's producer fills it,
 * but both are the same session's, whose memory any of its processes may
 * write anyway: the pool validates whatever it pops. That next request is
 * then lost and its thread waits for ever: why the worker waits a second
 * (worker.c) before it skips.
 */
bool dn_queue_skip(struct dn_queue *q, uint32_t depth, uint64_t *tail);

/*
 * Service side: the clock of a stalled slot (dn_queue_stalled), per queue.
 * It times one position: the tail moved on (the slot was published and
 * taken, another reserved behind it) starts it again, so a slot reserved
 * an instant ago is never given up for the time its predecessor stalled.
 */
struct dn_queue_stall {
	uint64_t tail, since; /* since: 0 when no stall is timed */
};

/*
 * The slot at tail is stalled at now: whether it has been so since at
 * least after_ns (true, and the clock stops), or starts or goes on timing.
 */
bool dn_queue_stall_due(struct dn_queue_stall *st, uint64_t tail, uint64_t now,
			uint64_t after_ns);

/*
 * Any thread: how many requests wait in the ring now (published, not yet
 * taken), read from the slots' sequence numbers alone, so the consumer
 * keeps its position to itself; for the metrics. A snapshot: producers
 * and the consumer move on meanwhile. depth >= 2 (in a ring of one a
 * filled slot looks like a free one); 0 otherwise.
 */
uint32_t dn_queue_waiting(const struct dn_queue *q, uint32_t depth);
