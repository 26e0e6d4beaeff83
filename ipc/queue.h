/* Request Queue: a bounded ring, many client threads in, one service worker out */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

/* Service side, at creation: empty ring of depth slots (depth a power of two). */
void dn_queue_init(struct dn_queue *q, uint32_t depth);

/*
 * Client side: claims the next slot; NULL when the ring is full. With the
 * request written in buffer buf (dn_buf.req), dn_queue_publish(slot, pos,
 * buf) posts it, in one swap of the slot's word: false when the service
 * skipped the slot meanwhile (dn_queue_skip), and the buffer must be posted
 * again (reserved anew). buf < DN_BUFS_MAX.
 */
struct dn_slot *dn_queue_reserve(struct dn_queue *q, uint32_t depth, uint64_t *pos);
bool dn_queue_publish(struct dn_slot *slot, uint64_t pos, uint32_t buf);

/*
 * Client side: whether buffer buf, posted at pos, has left the ring (a
 * worker took it). The slot may carry another request since: that is taken.
 */
bool dn_queue_taken(const struct dn_slot *slot, uint64_t pos, uint32_t buf);

/*
 * Service side: the buffer index posted at *tail, and frees its slot. The
 * index is as untrusted as the rest: the caller checks it names one of the
 * session's buffers with a request in flight, and copies the request out of
 * that buffer before it looks at it. The consumer position is the
 * service's own (never read back from shared memory), so a client
 * scribbling on the ring cannot stall a worker.
 */
bool dn_queue_pop(struct dn_queue *q, uint32_t depth, uint64_t *tail, uint32_t *buf);

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
 * takes it). A producer that publishes later learns it was skipped (its
 * swap finds the next lap's word) and posts again; its request waited in
 * its own buffer, so nothing it does can reach the next lap's request in
 * that slot. Still, a skip costs a producer that was only slow a second
 * post: the worker waits a second (worker.c) before it skips.
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
 * taken), read from the slots' words alone (their DN_SLOT_FULL bit), so the
 * consumer keeps its position to itself; for the metrics. A snapshot:
 * producers and the consumer move on meanwhile.
 */
uint32_t dn_queue_waiting(const struct dn_queue *q, uint32_t depth);
