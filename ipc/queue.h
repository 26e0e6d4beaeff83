/* Request Queue: a bounded ring, many client threads in, one service worker out */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

/* Service side, at creation: empty ring of depth slots (depth a power of two). */
void dn_queue_init(struct dn_queue *q, uint32_t depth);

/*
 * Client side: claims the next slot; NULL when the ring is full. Fill
 * slot->req, then dn_queue_publish(slot, pos).
 */
struct dn_slot *dn_queue_reserve(struct dn_queue *q, uint32_t depth, uint64_t *pos);
void dn_queue_publish(struct dn_slot *slot, uint64_t pos);

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
 * Any thread: how many requests wait in the ring now (published, not yet
 * taken), read from the slots' sequence numbers alone, so the consumer
 * keeps its position to itself; for the metrics. A snapshot: producers
 * and the consumer move on meanwhile. depth >= 2 (in a ring of one a
 * filled slot looks like a free one); 0 otherwise.
 */
uint32_t dn_queue_waiting(const struct dn_queue *q, uint32_t depth);
