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
	struct dn_req out;
	assert_false(dn_queue_pop(q, DEPTH, &tail, &out));
	for (uint32_t i = 0; i < DEPTH; i++) {
		struct dn_slot *s = dn_queue_reserve(q, DEPTH, &pos);
		assert_non_null(s);
		s->req.op = i;
		dn_queue_publish(s, pos);
	}
	/* full: every slot holds a request nobody took */
	assert_null(dn_queue_reserve(q, DEPTH, &pos));
	for (uint32_t i = 0; i < DEPTH; i++) {
		assert_true(dn_queue_pop(q, DEPTH, &tail, &out));
		assert_int_equal(out.op, i);
	}
	assert_false(dn_queue_pop(q, DEPTH, &tail, &out));
	free(q);
}

struct producer {
	struct dn_queue *q;
	uint32_t id;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	for (uint32_t i = 0; i < PER_PRODUCER; i++) {
		uint64_t pos;
		struct dn_slot *s;
		while (!(s = dn_queue_reserve(p->q, DEPTH, &pos)))
			sched_yield();
		s->req.buf = p->id;
		s->req.op = i;
		s->req.tag = ((uint64_t)p->id << 32) | i;
		dn_queue_publish(s, pos);
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
	struct dn_req out;
	for (uint32_t got = 0; got < PRODUCERS * PER_PRODUCER;) {
		if (!dn_queue_pop(q, DEPTH, &tail, &out)) {
			sched_yield();
			continue;
		}
		assert_true(out.buf < PRODUCERS);
		/* each producer's requests arrive whole and in its order */
		assert_int_equal(out.op, next[out.buf]);
		assert_int_equal(out.tag, ((uint64_t)out.buf << 32) | out.op);
		next[out.buf]++;
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
	struct dn_req out;
	/* a client scribbles a bogus sequence number into the next slot */
	atomic_store(&q->slots[0].seq, 12345);
	atomic_store(&q->head, 99);
	assert_false(dn_queue_pop(q, DEPTH, &tail, &out));
	assert_int_equal(tail, 0);
	/* one that looks ready is taken (and will be validated by dispatch) */
	atomic_store(&q->slots[0].seq, 1);
	assert_true(dn_queue_pop(q, DEPTH, &tail, &out));
	assert_int_equal(tail, 1);
	free(q);
}

static void push(struct dn_queue *q)
{
	uint64_t pos;
	struct dn_slot *s = dn_queue_reserve(q, DEPTH, &pos);
	assert_non_null(s);
	dn_queue_publish(s, pos);
}

/* Waiting requests are the published ones not yet taken: not a reserved slot, nor a taken one. */
static void test_waiting_counts_published_untaken(void **state)
{
	struct dn_queue *q = queue_new();
	uint64_t tail = 0, pos;
	struct dn_req out;
	assert_int_equal(dn_queue_waiting(q, DEPTH), 0);
	for (int i = 0; i < 3; i++)
		push(q);
	struct dn_slot *reserved = dn_queue_reserve(q, DEPTH, &pos);
	assert_int_equal(dn_queue_waiting(q, DEPTH), 3);
	assert_true(dn_queue_pop(q, DEPTH, &tail, &out));
	assert_int_equal(dn_queue_waiting(q, DEPTH), 2);
	dn_queue_publish(reserved, pos);
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
	struct dn_req out;
	assert_false(dn_queue_stalled(q, DEPTH, tail)); /* empty: nothing reserved */
	struct dn_slot *dead = dn_queue_reserve(q, DEPTH, &late);
	assert_true(dn_queue_stalled(q, DEPTH, tail));
	struct dn_slot *s = dn_queue_reserve(q, DEPTH, &pos);
	s->req.tag = 7;
	assert_true(dn_queue_publish(s, pos));
	/* in order: the request behind the unfilled slot is not taken */
	assert_false(dn_queue_pop(q, DEPTH, &tail, &out));
	assert_true(dn_queue_skip(q, DEPTH, &tail));
	assert_int_equal(tail, 1);
	assert_true(dn_queue_pop(q, DEPTH, &tail, &out));
	assert_int_equal(out.tag, 7);
	assert_false(dn_queue_stalled(q, DEPTH, tail));
	/* the producer was only slow: its publish fails, and the slot is the next lap's */
	assert_false(dn_queue_publish(dead, late));
	for (uint32_t i = 0; i < 2 * DEPTH; i++) {
		s = dn_queue_reserve(q, DEPTH, &pos);
		assert_non_null(s);
		s->req.tag = i;
		assert_true(dn_queue_publish(s, pos));
		assert_true(dn_queue_pop(q, DEPTH, &tail, &out));
		assert_int_equal(out.tag, i);
	}
	/* a slot published before the skip is taken, not skipped */
	s = dn_queue_reserve(q, DEPTH, &pos);
	assert_true(dn_queue_stalled(q, DEPTH, tail));
	s->req.tag = 9;
	assert_true(dn_queue_publish(s, pos));
	assert_false(dn_queue_stalled(q, DEPTH, tail));
	assert_false(dn_queue_skip(q, DEPTH, &tail));
	assert_true(dn_queue_pop(q, DEPTH, &tail, &out));
	assert_int_equal(out.tag, 9);
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
		cmocka_unit_test(test_stall_clock_restarts_when_the_tail_moves),
		cmocka_unit_test(test_many_producers),
		cmocka_unit_test(test_garbage_sequence_does_not_stall),
		cmocka_unit_test(test_waiting_counts_published_untaken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
