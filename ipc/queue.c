/* Request Queue: a bounded ring, many client threads in, one service worker out */
#include "queue.h"

/*
 * Each slot's word says whose turn it is: free(pos) means free for the
 * producer that claimed pos, full(pos, buf) means filled for the consumer
 * at pos with the request in buffer buf. The consumer hands the slot to lap
 * pos + depth: free(pos + depth). Positions are compared in the shifted
 * word, where they wrap with it (2^51 positions, decades of requests).
 */
static inline uint64_t word_free(uint64_t pos)
{
	return pos << DN_SLOT_SEQ_SHIFT;
}

static inline uint64_t word_full(uint64_t pos, uint32_t buf)
{
	return word_free(pos) | DN_SLOT_FULL | (buf & DN_SLOT_BUF_MASK);
}

static inline uint64_t word_load(const struct dn_slot *s, memory_order mo)
{
	return atomic_load_explicit((_Atomic uint64_t *)&s->word, mo);
}

void dn_queue_init(struct dn_queue *q, uint32_t depth)
{
	atomic_store_explicit(&q->head, 0, memory_order_relaxed);
	for (uint32_t i = 0; i < depth; i++)
		atomic_store_explicit(&q->slots[i].word, word_free(i), memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

struct dn_slot *dn_queue_reserve(struct dn_queue *q, uint32_t depth, uint64_t *pos)
{
	uint64_t p = atomic_load_explicit(&q->head, memory_order_relaxed);
	for (;;) {
		struct dn_slot *s = &q->slots[p & (depth - 1)];
		/* < 0: last lap's, not yet taken (full); > 0: another producer took p */
		int64_t diff = (int64_t)(word_load(s, memory_order_acquire) - word_free(p));
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

bool dn_queue_publish(struct dn_slot *slot, uint64_t pos, uint32_t buf)
{
	/* a swap, not a store: a skipped slot (its word moved on a lap) is not ours to fill */
	uint64_t expect = word_free(pos);
	return atomic_compare_exchange_strong_explicit(&slot->word, &expect, word_full(pos, buf),
						       memory_order_release, memory_order_relaxed);
}

bool dn_queue_taken(const struct dn_slot *slot, uint64_t pos, uint32_t buf)
{
	return word_load(slot, memory_order_acquire) != word_full(pos, buf);
}

bool dn_queue_ready(const struct dn_queue *q, uint32_t depth, uint64_t tail)
{
	uint64_t w = word_load(&q->slots[tail & (depth - 1)], memory_order_acquire);
	return (w & ~DN_SLOT_BUF_MASK) == (word_free(tail) | DN_SLOT_FULL);
}

bool dn_queue_stalled(const struct dn_queue *q, uint32_t depth, uint64_t tail)
{
	if (word_load(&q->slots[tail & (depth - 1)], memory_order_acquire) != word_free(tail))
		return false;
	/* the head is the clients' word: a scribbled one only skips that session's own slots */
	uint64_t head = atomic_load_explicit((_Atomic uint64_t *)&q->head, memory_order_relaxed);
	return head - tail - 1 < depth;
}

bool dn_queue_skip(struct dn_queue *q, uint32_t depth, uint64_t *tail)
{
	struct dn_slot *s = &q->slots[*tail & (depth - 1)];
	uint64_t expect = word_free(*tail);
	if (!atomic_compare_exchange_strong_explicit(&s->word, &expect, word_free(*tail + depth),
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

bool dn_queue_pop(struct dn_queue *q, uint32_t depth, uint64_t *tail, uint32_t *buf)
{
	struct dn_slot *s = &q->slots[*tail & (depth - 1)];
	uint64_t w = word_load(s, memory_order_acquire);
	if ((w & ~DN_SLOT_BUF_MASK) != (word_free(*tail) | DN_SLOT_FULL))
		return false;
	*buf = (uint32_t)(w & DN_SLOT_BUF_MASK);
	/* the request is in the buffer, not here: the slot is free for the next lap at once */
	atomic_store_explicit(&s->word, word_free(*tail + depth), memory_order_release);
	(*tail)++;
	return true;
}

uint32_t dn_queue_waiting(const struct dn_queue *q, uint32_t depth)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < depth; i++)
		n += (word_load(&q->slots[i], memory_order_relaxed) & DN_SLOT_FULL) != 0;
	return n;
}
