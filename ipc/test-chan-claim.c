/* Unit test of request buffer claims: one buffer, one claimer, also for a dead thread's buffer */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "chan.h"

#define ROUNDS 2000

static struct dn_chan chan;
static pthread_barrier_t start;
static int won[2];
static int32_t tid[2];
static _Atomic int ready;

/* A thread id no task has now: a reaped child's. */
static int32_t dead_tid(void)
{
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0)
		_exit(0);
	assert_int_equal(waitpid(p, NULL, 0), p);
	return (int32_t)p;
}

/* chan: one request buffer, FREE, in memory of its own */
static struct dn_buf *one_buffer(void)
{
	chan.l.nbufs = 1;
	chan.l.bufs_off = 0;
	chan.l.buf_size = sizeof(struct dn_buf);
	chan.base = calloc(1, sizeof(struct dn_buf));
	assert_non_null(chan.base);
	return dn_chan_buf(&chan, 0);
}

static void *claimer(void *arg)
{
	int me = (int)(intptr_t)arg;
	tid[me] = (int32_t)syscall(SYS_gettid); /* a live owner: nobody may take its buffer */
	for (int i = 0; i < ROUNDS; i++) {
		pthread_barrier_wait(&start);
		/* both spin to the same instant: a barrier wakes them microseconds apart */
		atomic_fetch_add(&ready, 1);
		while (atomic_load(&ready) < 2 * (i + 1))
			;
		won[me] = dn_chan_buf_claim(&chan, tid[me]) == 0;
		pthread_barrier_wait(&start);
		pthread_barrier_wait(&start); /* the main thread checks and resets */
	}
	return NULL;
}

/*
 * The one buffer is IDLE and its owner dead (a process that shared the
 * session ended): of two threads claiming it at once, exactly one gets it.
 * Both did (IDLE to IDLE is no exclusion), and then sent their requests in
 * one buffer: each read the other's reply (EPROTO) or a state it did not
 * expect (EIO).
 */
static void test_orphan_claimed_once(void **state)
{
	(void)state;
	struct dn_buf *b = one_buffer();
	int32_t dead = dead_tid();
	pthread_barrier_init(&start, NULL, 3);
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, claimer, (void *)(intptr_t)i);
	int both = 0, none = 0;
	for (int i = 0; i < ROUNDS; i++) {
		atomic_store(&b->state, i % 2 ? DN_BUF_IDLE : DN_BUF_DONE);
		atomic_store(&b->owner, dead);
		pthread_barrier_wait(&start);
		pthread_barrier_wait(&start);
		both += won[0] && won[1];
		none += !won[0] && !won[1];
		if (won[0] != won[1]) {
			assert_int_equal(atomic_load(&b->state), DN_BUF_IDLE);
			assert_int_equal(atomic_load(&b->owner), won[0] ? tid[0] : tid[1]);
		}
		pthread_barrier_wait(&start);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(both, 0);
	assert_int_equal(none, 0);
	free(chan.base);
}

/* A live owner's buffer is not taken, nor a FREE one twice. */
static void test_live_owner_kept(void **state)
{
	(void)state;
	struct dn_buf *b = one_buffer();
	assert_int_equal(dn_chan_buf_claim(&chan, getpid()), 0);
	assert_int_equal(dn_chan_buf_claim(&chan, 1), -EAGAIN);
	dn_chan_buf_release(&chan, 0);
	assert_int_equal(atomic_load(&b->state), DN_BUF_FREE);
	assert_int_equal(dn_chan_buf_claim(&chan, 1), 0);
	free(chan.base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_orphan_claimed_once),
		cmocka_unit_test(test_live_owner_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
