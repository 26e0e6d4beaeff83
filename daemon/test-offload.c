/* Unit tests of the offload threads: the watchdog's answer against the call coming back */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "dispatch.h"
#include "futex.h"
#include "log.h"
#include "metrics.h"
#include "offload.h"
#include "session.h"
#include "umask.h"

/*
 * offload.c alone, with the calls it makes stubbed: the backend call waits
 * until the test lets it return, and the replies and closed handles are
 * counted.
 */
static sem_t in_call, let_return;
static _Atomic unsigned replies, timeouts, closes;
static _Atomic uint64_t closed_handle;
static struct dn_session *watched; /* the watchdog's reply: lets the call return meanwhile */
static uint32_t offloaded_after_return;
static unsigned closes_after_return;

bool dn_dispatch_run(struct dn_session *s, const struct dn_req *req, struct dn_reply *rep)
{
	(void)s;
	sem_post(&in_call);
	sem_wait(&let_return);
	*rep = (struct dn_reply){.tag = req->tag, .result = 0, .handle = 42};
	return true;
}

bool dn_dispatch_reply(struct dn_session *s, uint32_t buf, const struct dn_reply *rep)
{
	(void)buf;
	atomic_fetch_add(&replies, 1);
	if (rep->result != -ETIMEDOUT)
		return true;
	atomic_fetch_add(&timeouts, 1);
	assert_ptr_equal(s, watched);
	assert_int_equal(rep->tag, 7);
	/* the call comes back while the watchdog answers: its thread must leave h and s be */
	sem_post(&let_return);
	struct timespec ts = {0, 50000000};
	nanosleep(&ts, NULL);
	offloaded_after_return = atomic_load(&s->offloaded);
	closes_after_return = atomic_load(&closes);
	return true;
}

int dn_session_handle_close(struct dn_session *s, uint64_t handle)
{
	(void)s;
	atomic_store(&closed_handle, handle);
	atomic_fetch_add(&closes, 1);
	return 0;
}

void dn_log(int priority, const char *fmt, ...)
{
	(void)priority;
	(void)fmt;
}

void dn_log_client(int priority, const struct dn_log_client *c, const char *fmt, ...)
{
	(void)priority;
	(void)c;
	(void)fmt;
}

void dn_metrics_record(struct dn_worker_metrics *m, uint32_t op, int64_t result, uint64_t wait_ns,
		       uint64_t run_ns)
{
	(void)m;
	(void)op;
	(void)result;
	(void)wait_ns;
	(void)run_ns;
}

const char *dn_metrics_op_name(uint32_t op, char buf[16])
{
	(void)op;
	buf[0] = '\0';
	return buf;
}

void dn_metrics_sum(struct dn_worker_metrics *sum, const struct dn_worker_metrics *w)
{
	(void)sum;
	(void)w;
}

int dn_umask_thread_init(void)
{
	return 0;
}

static void wait_offloaded_zero(struct dn_session *s)
{
	for (int i = 0; i < 5000 && atomic_load(&s->offloaded); i++) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	assert_int_equal(atomic_load(&s->offloaded), 0);
}

static int setup(void **state)
{
	(void)state;
	sem_init(&in_call, 0, 0);
	sem_init(&let_return, 0, 0);
	replies = timeouts = closes = 0;
	closed_handle = 0;
	return 0;
}

/* An open answered ETIMEDOUT that then succeeds: one answer, and its handle closed. */
static void test_timeout_then_return(void **state)
{
	(void)state;
	struct dn_offload *o = NULL;
	struct dn_op_times times = {0};
	struct dn_session *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	watched = s;
	assert_int_equal(dn_offload_new(1, 1, &o), 0);
	struct dn_req req = {.op = DN_OP_OPEN, .tag = 7, .buf = 3};
	assert_true(dn_offload_take(o, s, &req, &times));
	sem_wait(&in_call);
	/* in the call, its start stored: the watchdog finds it overdue */
	assert_int_equal(dn_offload_watch(o, dn_now_ns() + 10000000000ull, 1000000000ull), 1);
	assert_int_equal(atomic_load(&timeouts), 1);
	/* while the watchdog answered, the returned call kept s and dropped nothing */
	assert_int_equal(offloaded_after_return, 1);
	assert_int_equal(closes_after_return, 0);
	wait_offloaded_zero(s);
	assert_int_equal(atomic_load(&replies), 1); /* no late answer */
	assert_int_equal(atomic_load(&closes), 1);
	assert_int_equal(atomic_load(&closed_handle), 42);
	assert_true(dn_offload_free(o));
	free(s);
}

/* A call that came back in time: answered once, never timed out, even once claimed again. */
static void test_return_then_watch(void **state)
{
	(void)state;
	struct dn_offload *o = NULL;
	struct dn_op_times times = {0};
	struct dn_session *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	watched = s;
	assert_int_equal(dn_offload_new(1, 1, &o), 0);
	struct dn_req req = {.op = DN_OP_OPEN, .tag = 7, .buf = 3};
	assert_true(dn_offload_take(o, s, &req, &times));
	sem_wait(&in_call);
	sem_post(&let_return);
	wait_offloaded_zero(s);
	assert_int_equal(dn_offload_watch(o, dn_now_ns() + 10000000000ull, 1000000000ull), 0);
	/* the thread again, on a new call: not timed out by what the last one left */
	assert_true(dn_offload_take(o, s, &req, &times));
	sem_wait(&in_call);
	assert_int_equal(dn_offload_watch(o, dn_now_ns(), 1000000000ull), 1);
	sem_post(&let_return);
	wait_offloaded_zero(s);
	assert_int_equal(atomic_load(&timeouts), 0);
	assert_int_equal(atomic_load(&replies), 2);
	assert_int_equal(atomic_load(&closes), 0);
	assert_true(dn_offload_free(o));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_timeout_then_return, setup),
		cmocka_unit_test_setup(test_return_then_watch, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
