/* Request Queue: a bounded ring, many client threads in, one service worker out */
#include "queue.h"

#include <string.h>

/*
 * Each slot's sequence number says whose turn it is: seq == pos means free
 * for the producer that claimed pos, seq == pos + 1 means filled for the
 * consumer at pos. The consumer hands the slot to lap pos + depth.
 */

void dn_queue_init(struct dn_queue *q, uint32_t depth)
{
	atomic_store_explicit(&q->head, 0, memory_order_relaxed);
	for (uint32_t i = 0; i < depth; i++)
		atomic_store_explicit(&q->slots[i].seq, i, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

struct dn_slot *dn_queue_reserve(struct dn_queue *q, uint32_t depth, uint64_t *pos)
{
	uint64_t p = atomic_load_explicit(&q->head, memory_order_relaxed);
	for (;;) {
		struct dn_slot *s = &q->slots[p & (depth - 1)];
		uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
		int64_t diff = (int64_t)(seq - p);
		if (diff == 0) {
			if (atomic_compare_exchange_weak_explicit(&q->head, &p, p + 1,
								  memory_order_relaxed,
								  memory_order_relaxed)) {
				*pos = p;
				return s;
			}
		} else if (diff < 0) {
			return NULL;
		} else {
			p = atomic_load_explicit(&q->head, memory_order_relaxed);
		}
	}
}

bool dn_queue_publish(struct dn_slot *slot, uint64_t pos)
{
	/* a swap, not a store: a skipped slot (seq moved on a lap) is not ours to fill */
	uint64_t expect = pos;
	return atomic_compare_exchange_strong_explicit(&slot->seq, &expect, pos + 1,
						       memory_order_release, memory_order_relaxed);
}

bool dn_queue_taken(const struct dn_slot *slot, uint64_t pos)
{
	return atomic_load_explicit((_Atomic uint64_t *)&slot->seq, memory_order_acquire) != pos + 1;
}

bool dn_queue_ready(const struct dn_queue *q, uint32_t depth, uint64_t tail)
{
	const struct dn_slot *s = &q->slots[tail & (depth - 1)];
	return atomic_load_explicit((_Atomic uint64_t *)&s->seq, memory_order_acquire) == tail + 1;
}

bool dn_queue_stalled(const struct dn_queue *q, uint32_t depth, uint64_t tail)
{
	const struct dn_slot *s = &q->slots[tail & (depth - 1)];
	if (atomic_load_explicit((_Atomic uint64_t *)&s->seq, memory_order_acquire) != tail)
		return false;
	/* the head is the clients' word: a scribbled one only skips that session's own slots */
	uint64_t head = atomic_load_explicit((_Atomic uint64_t *)&q->head, memory_order_relaxed);
	return head - tail - 1 < depth;
}

bool dn_queue_skip(struct dn_queue *q, uint32_t depth, uint64_t *tail)
{
	struct dn_slot *s = &q->slots[*tail & (depth - 1)];
	uint64_t expect = *tail;
	if (!atomic_compare_exchange_strong_explicit(&s->seq, &expect, *tail + depth,
						     memory_order_acq_rel, memory_order_acquire))
		return false;
	(*tail)++;
	return true;
}

bool dn_queue_stall_due(struct dn_queue_stall *st, uint64_t tail, uint64_t now,
			uint64_t after_ns)
{
	if (!st->since || st->tail != tail) {
		st->tail = tail;
		st->since = now ? now : 1;
		return false;
	}
	if (now < st->since || now - st->since < after_ns)
		return false;
	st->since = 0;
	return true;
}

bool dn_queue_pop(struct dn_queue *q, uint32_t depth, uint64_t *tail, struct dn_req *out)
{
	struct dn_slot *s = &q->slots[*tail & (depth - 1)];
	if (atomic_load_explicit(&s->seq, memory_order_acquire) != *tail + 1)
		return false;
	memcpy(out, &s->req, sizeof(*out));
	atomic_store_explicit(&s->seq, *tail + depth, memory_order_release);
	(*tail)++;
	return true;
}

uint32_t dn_queue_waiting(const struct dn_queue *q, uint32_t depth)
{
	if (depth < 2)
		return 0;
	uint32_t n = 0;
	/* slot i holds seq == pos + 1 when filled, pos or pos + depth when free (pos = i mod depth) */
	for (uint32_t i = 0; i < depth; i++) {
		uint64_t seq = atomic_load_explicit((_Atomic uint64_t *)&q->slots[i].seq,
						    memory_order_relaxed);
		n += ((seq - 1) & (depth - 1)) == i;
	}
	return n;
}
