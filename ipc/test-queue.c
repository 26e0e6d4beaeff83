/* Request Queue tests: several producer threads, one consumer, nothing lost */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "queue.h"

#define DEPTH 64u
#define PRODUCERS 4
#define PER_PRODUCER 20000

static struct dn_queue *queue_new(void)
{
	struct dn_queue *q = aligned_alloc(DN_CACHELINE,
					   sizeof(*q) + DEPTH * sizeof(struct dn_slot));
	assert_non_null(q);
	dn_queue_init(q, DEPTH);
	return q;
}

static void test_fifo_single_thread(void **state)
{
	struct dn_queue *q = queue_new();
	uint64_t tail = 0, pos;
	uint32_t out;
	assert_false(dn_queue_pop(q, DEPTH, &tail, &out));
	for (uint32_t i = 0; i < DEPTH; i++) {
		struct dn_slot *s = dn_queue_reserve(q, DEPTH, &pos);
		assert_non_null(s);
		assert_true(dn_queue_publish(s, pos, DN_BUFS_MAX - 1 - i));
	}
	/* full: every slot holds a request nobody took */
	assert_null(dn_queue_reserve(q, DEPTH, &pos));
	for (uint32_t i = 0; i < DEPTH; i++) {
		assert_true(dn_queue_pop(q, DEPTH, &tail, &out));
		assert_int_equal(out, DN_BUFS_MAX - 1 - i);
	}
	assert_false(dn_queue_pop(q, DEPTH, &tail, &out));
	free(q);
}

struct producer {
	struct dn_queue *q;
	uint32_t id;
};

/* Each producer posts buffer indexes that say who posted them and in which order. */
#define ORDER_BITS 10
static uint32_t posted(uint32_t id, uint32_t i)
{
	return id << ORDER_BITS | (i & ((1u << ORDER_BITS) - 1));
}

static void *produce(void *arg)
{
	struct producer *p = arg;
	for (uint32_t i = 0; i < PER_PRODUCER; i++) {
		uint64_t pos;
		struct dn_slot *s;
		while (!(s = dn_queue_reserve(p->q, DEPTH, &pos)))
			sched_yield();
		if (!dn_queue_publish(s, pos, posted(p->id, i)))
			abort(); /* nobody skips here */
	}
	return NULL;
}

static void test_many_producers(void **state)
{
	struct dn_queue *q = queue_new();
	pthread_t t[PRODUCERS];
	struct producer p[PRODUCERS];
	for (uint32_t i = 0; i < PRODUCERS; i++) {
		p[i] = (struct producer){q, i};
		assert_int_equal(pthread_create(&t[i], NULL, produce, &p[i]), 0);
	}
	uint32_t next[PRODUCERS] = {0};
	uint64_t tail = 0;
	uint32_t out;
	_Static_assert(PRODUCERS << ORDER_BITS <= DN_BUFS_MAX, "indexes fit a slot");
	for (uint32_t got = 0; got < PRODUCERS * PER_PRODUCER;) {
		if (!dn_queue_pop(q, DEPTH, &tail, &out)) {
			sched_yield();
			continue;
		}
		uint32_t id = out >> ORDER_BITS;
		assert_true(id < PRODUCERS);
		/* each producer's requests arrive whole and in its order */
		assert_int_equal(out, posted(id, next[id]));
		next[id]++;
		got++;
	}
	for (uint32_t i = 0; i < PRODUCERS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(next[i], PER_PRODUCER);
	}
	assert_false(dn_queue_pop(q, DEPTH, &tail, &out));
	free(q);
}

static void test_garbage_sequence_does_not_stall(void **state)
{
	struct dn_queue *q = queue_new();
	uint64_t tail = 0;
	uint32_t out;
	/* a client scribbles a bogus word into the next slot: another lap's, or none */
	atomic_store(&q->slots[0].word, 12345);
	atomic_store(&q->head, 99);
	assert_false(dn_queue_pop(q, DEPTH, &tail, &out));
	atomic_store(&q->slots[0].word, (uint64_t)DEPTH << DN_SLOT_SEQ_SHIFT | DN_SLOT_FULL);
	assert_false(dn_queue_pop(q, DEPTH, &tail, &out));
	assert_false(dn_queue_ready(q, DEPTH, tail));
	assert_int_equal(tail, 0);
	/* one that looks ready is taken: the index is the caller's to check (dispatch) */
	atomic_store(&q->slots[0].word, DN_SLOT_FULL | 4095);
	assert_true(dn_queue_ready(q, DEPTH, tail));
	assert_true(dn_queue_pop(q, DEPTH, &tail, &out));
	assert_int_equal(out, 4095);
	assert_int_equal(tail, 1);
	free(q);
}

static void push(struct dn_queue *q)
{
	uint64_t pos;
	struct dn_slot *s = dn_queue_reserve(q, DEPTH, &pos);
	assert_non_null(s);
	assert_true(dn_queue_publish(s, pos, (uint32_t)pos % DN_BUFS_MAX));
}

/* Waiting requests are the published ones not yet taken: not a reserved slot, nor a taken one. */
static void test_waiting_counts_published_untaken(void **state)
{
	struct dn_queue *q = queue_new();
	uint64_t tail = 0, pos;
	uint32_t out;
	assert_int_equal(dn_queue_waiting(q, DEPTH), 0);
	for (int i = 0; i < 3; i++)
		push(q);
	struct dn_slot *reserved = dn_queue_reserve(q, DEPTH, &pos);
	assert_int_equal(dn_queue_waiting(q, DEPTH), 3);
	assert_true(dn_queue_pop(q, DEPTH, &tail, &out));
	assert_int_equal(dn_queue_waiting(q, DEPTH), 2);
	assert_true(dn_queue_publish(reserved, pos, 0));
	assert_int_equal(dn_queue_waiting(q, DEPTH), 3);
	/* around the ring: a lap later, every slot taken and refilled in turn */
	for (uint32_t i = 0; i < 2 * DEPTH; i++) {
		assert_true(dn_queue_pop(q, DEPTH, &tail, &out));
		push(q);
	}
	assert_int_equal(dn_queue_waiting(q, DEPTH), 3);
	while (dn_queue_pop(q, DEPTH, &tail, &out))
		;
	assert_int_equal(dn_queue_waiting(q, DEPTH), 0);
	for (uint32_t i = 0; i < DEPTH; i++)
		push(q);
	assert_int_equal(dn_queue_waiting(q, DEPTH), DEPTH);
	free(q);
	(void)state;
}

/*
 * A producer that reserved a slot and died before publishing: the slot is
 * stalled, the request behind it waits until the consumer skips it, and a
 * producer that publishes after the skip is told to post again.
 */
static void test_unfilled_slot_is_skipped(void **state)
{
	struct dn_queue *q = queue_new();
	uint64_t tail = 0, pos, late;
	uint32_t out;
	assert_false(dn_queue_stalled(q, DEPTH, tail)); /* empty: nothing reserved */
	struct dn_slot *dead = dn_queue_reserve(q, DEPTH, &late);
	assert_true(dn_queue_stalled(q, DEPTH, tail));
	struct dn_slot *s = dn_queue_reserve(q, DEPTH, &pos);
	assert_true(dn_queue_publish(s, pos, 7));
	/* in order: the request behind the unfilled slot is not taken */
	assert_false(dn_queue_pop(q, DEPTH, &tail, &out));
	assert_true(dn_queue_skip(q, DEPTH, &tail));
	assert_int_equal(tail, 1);
	assert_true(dn_queue_pop(q, DEPTH, &tail, &out));
	assert_int_equal(out, 7);
	assert_false(dn_queue_stalled(q, DEPTH, tail));
	/* the producer was only slow: its publish fails, and the slot is the next lap's */
	assert_false(dn_queue_publish(dead, late, 3));
	assert_int_equal(dn_queue_waiting(q, DEPTH), 0);
	for (uint32_t i = 0; i < 2 * DEPTH; i++) {
		s = dn_queue_reserve(q, DEPTH, &pos);
		assert_non_null(s);
		assert_true(dn_queue_publish(s, pos, i));
		assert_true(dn_queue_pop(q, DEPTH, &tail, &out));
		assert_int_equal(out, i);
	}
	/* a slot published before the skip is taken, not skipped */
	s = dn_queue_reserve(q, DEPTH, &pos);
	assert_true(dn_queue_stalled(q, DEPTH, tail));
	assert_true(dn_queue_publish(s, pos, 9));
	assert_false(dn_queue_stalled(q, DEPTH, tail));
	assert_false(dn_queue_skip(q, DEPTH, &tail));
	assert_true(dn_queue_pop(q, DEPTH, &tail, &out));
	assert_int_equal(out, 9);
	free(q);
	(void)state;
}

/*
 * The case a copy into the slot left open: a producer reserves, stops, is
 * skipped; the ring goes round and the next lap's producer uses the same
 * slot. Whenever the late producer wakes -- slot free for the next lap,
 * reserved by it, or filled -- its publish fails and leaves the next lap's
 * request (its buffer index) as it was.
 */
static void test_late_publish_leaves_the_next_lap_alone(void **state)
{
	struct dn_queue *q = queue_new();
	uint64_t tail = 0, pos, late;
	uint32_t out;
	struct dn_slot *dead = dn_queue_reserve(q, DEPTH, &late);
	assert_true(dn_queue_skip(q, DEPTH, &tail));
	/* round the ring up to the slot's next lap */
	for (uint32_t i = 1; i < DEPTH; i++) {
		struct dn_slot *s = dn_queue_reserve(q, DEPTH, &pos);
		assert_true(dn_queue_publish(s, pos, i));
		assert_true(dn_queue_pop(q, DEPTH, &tail, &out));
	}
	/* free for the next lap, not yet reserved */
	assert_false(dn_queue_publish(dead, late, 1000));
	struct dn_slot *s = dn_queue_reserve(q, DEPTH, &pos);
	assert_ptr_equal(s, dead);
	assert_int_equal(pos, late + DEPTH);
	/* reserved by the next lap, not yet published */
	assert_false(dn_queue_publish(dead, late, 1000));
	assert_false(dn_queue_ready(q, DEPTH, tail));
	assert_true(dn_queue_publish(s, pos, 42));
	/* published by the next lap */
	assert_false(dn_queue_publish(dead, late, 1000));
	assert_false(dn_queue_taken(s, pos, 42));
	assert_int_equal(dn_queue_waiting(q, DEPTH), 1);
	assert_true(dn_queue_pop(q, DEPTH, &tail, &out));
	assert_int_equal(out, 42);
	assert_true(dn_queue_taken(s, pos, 42));
	/* and once taken: the late one still cannot post into the lap after */
	assert_false(dn_queue_publish(dead, late, 1000));
	assert_false(dn_queue_pop(q, DEPTH, &tail, &out));
	assert_int_equal(dn_queue_waiting(q, DEPTH), 0);
	/* posting again, as chan.c does, goes through */
	s = dn_queue_reserve(q, DEPTH, &late);
	assert_true(dn_queue_publish(s, late, 1000));
	assert_true(dn_queue_pop(q, DEPTH, &tail, &out));
	assert_int_equal(out, 1000);
	free(q);
	(void)state;
}

/*
 * The stall clock times one position: a slot that stalled 90 ms, then was
 * published and taken, does not leave the slot reserved behind it "due"
 * at once (its producer would be skipped mid-publish for another's wait).
 */
static void test_stall_clock_restarts_when_the_tail_moves(void **state)
{
	struct dn_queue_stall st = {0};
	const uint64_t ms = 1000000;
	assert_false(dn_queue_stall_due(&st, 5, 1000 * ms, 100 * ms));
	assert_false(dn_queue_stall_due(&st, 5, 1090 * ms, 100 * ms));
	/* the tail moved: a new slot, a new clock */
	assert_false(dn_queue_stall_due(&st, 6, 1110 * ms, 100 * ms));
	assert_false(dn_queue_stall_due(&st, 6, 1200 * ms, 100 * ms));
	assert_true(dn_queue_stall_due(&st, 6, 1210 * ms, 100 * ms));
	/* once due, the clock stops: the next stall is timed afresh */
	assert_false(dn_queue_stall_due(&st, 7, 1215 * ms, 100 * ms));
	assert_true(dn_queue_stall_due(&st, 7, 1315 * ms, 100 * ms));
	/* a clock going back is no reason to skip */
	assert_false(dn_queue_stall_due(&st, 8, 2000 * ms, 100 * ms));
	assert_false(dn_queue_stall_due(&st, 8, 1000 * ms, 100 * ms));
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_single_thread),
		cmocka_unit_test(test_unfilled_slot_is_skipped),
		cmocka_unit_test(test_late_publish_leaves_the_next_lap_alone),
		cmocka_unit_test(test_stall_clock_restarts_when_the_tail_moves),
		cmocka_unit_test(test_many_producers),
		cmocka_unit_test(test_garbage_sequence_does_not_stall),
		cmocka_unit_test(test_waiting_counts_published_untaken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
