/* Read Offload: threads that take a worker's reads that may wait on the network */
#include "offload.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dispatch.h"
#include "futex.h"
#include "log.h"
#include "metrics.h"
#include "session.h"
#include "umask.h"

/*
 * libcephfs 16 has no non-blocking read, and a read that misses its cache
 * holds the calling thread until the OSD answers (~0.3-3 ms here): with one
 * worker per CPU, a pool had at most `workers` such reads in flight, where
 * ceph-fuse keeps one per FUSE thread. A worker that finds other requests
 * waiting behind a read hands the read to one of these threads and serves
 * on; a read with nothing behind it stays on the worker (no hand-off on the
 * single-client path). per_session keeps one session from taking them all.
 */
enum { IDLE, CLAIMED, BUSY, STOP };

struct helper {
	struct dn_offload *o;
	pthread_t thread;
	_Atomic uint32_t state;
	bool started;
	struct dn_session *s;
	struct dn_req req;
	uint64_t handed_ns;
	struct dn_worker_metrics metrics;
};

/*
 * Reads answered from the cache take a few microseconds, less than waking a
 * thread: hand reads off only while recent ones took longer than this (an
 * average of the last ~8, wherever they ran).
 */
#define SLOW_READ_NS 50000u

struct dn_offload {
	unsigned n, per_session;
	_Atomic uint64_t read_ns; /* recent reads' average; racy updates are fine */
	struct helper h[];
};

void dn_offload_note(struct dn_offload *o, uint64_t ns)
{
	uint64_t avg = atomic_load_explicit(&o->read_ns, memory_order_relaxed);
	atomic_store_explicit(&o->read_ns, avg - avg / 8 + ns / 8, memory_order_relaxed);
}

static void *helper_main(void *arg)
{
	struct helper *h = arg;
	dn_umask_thread_init(); /* its own umask: each caller's, in turn */
	for (;;) {
		uint32_t st = atomic_load(&h->state);
		if (st == STOP)
			return NULL;
		if (st != BUSY) {
			dn_futex_wait(&h->state, st, 0);
			continue;
		}
		struct dn_session *s = h->s;
		uint64_t start = dn_now_ns();
		struct dn_reply rep = {.result = -EINVAL};
		if (dn_dispatch_run(s, &h->req, &rep))
			dn_dispatch_reply(s, h->req.buf, &rep);
		uint64_t end = dn_now_ns();
		/* the client's clock is untrusted: it only moves the wait */
		uint64_t sent =
		    h->req.sent_ns && h->req.sent_ns <= start ? h->req.sent_ns : h->handed_ns;
		dn_metrics_record(&h->metrics, h->req.op, rep.result, start - sent, end - start);
		dn_offload_note(h->o, end - start);
		h->s = NULL;
		atomic_store(&h->state, IDLE);
		atomic_fetch_sub(&s->offloaded, 1); /* the last touch of s */
	}
}

bool dn_offload_reads_slow(const struct dn_offload *o)
{
	return atomic_load_explicit(&o->read_ns, memory_order_relaxed) >= SLOW_READ_NS;
}

bool dn_offload_take(struct dn_offload *o, struct dn_session *s, const struct dn_req *req)
{
	if (atomic_fetch_add(&s->offloaded, 1) >= o->per_session)
		goto none;
	for (unsigned i = 0; i < o->n; i++) {
		struct helper *h = &o->h[i];
		uint32_t idle = IDLE;
		if (atomic_load_explicit(&h->state, memory_order_relaxed) != IDLE ||
		    !atomic_compare_exchange_strong(&h->state, &idle, CLAIMED))
			continue;
		h->s = s;
		h->req = *req;
		h->handed_ns = dn_now_ns();
		atomic_store(&h->state, BUSY);
		dn_futex_wake(&h->state, 1);
		return true;
	}
none:
	atomic_fetch_sub(&s->offloaded, 1);
	return false;
}

void dn_offload_metrics(const struct dn_offload *o, struct dn_worker_metrics *sum)
{
	for (unsigned i = 0; o && i < o->n; i++)
		dn_metrics_sum(sum, &o->h[i].metrics);
}

int dn_offload_new(unsigned n, unsigned per_session, struct dn_offload **out)
{
	struct dn_offload *o = calloc(1, sizeof(*o) + n * sizeof(struct helper));
	if (!o)
		return -ENOMEM;
	o->n = n;
	o->per_session = per_session ? per_session : 1;
	for (unsigned i = 0; i < n; i++) {
		o->h[i].o = o;
		int r = pthread_create(&o->h[i].thread, NULL, helper_main, &o->h[i]);
		if (r) {
			dn_log_error("cannot start read offload thread %u: %s", i, strerror(r));
			o->n = i;
			dn_offload_free(o);
			return -r;
		}
		o->h[i].started = true;
	}
	*out = o;
	return 0;
}

bool dn_offload_free(struct dn_offload *o)
{
	if (!o)
		return true;
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 5;
	bool all = true;
	for (unsigned i = 0; i < o->n; i++) {
		struct helper *h = &o->h[i];
		/* a thread in a call stops once it is back (IDLE) */
		for (;;) {
			uint32_t idle = IDLE;
			if (atomic_compare_exchange_strong(&h->state, &idle, STOP))
				break;
			struct timespec now;
			clock_gettime(CLOCK_REALTIME, &now);
			if (now.tv_sec > deadline.tv_sec)
				break;
			struct timespec ts = {0, 1000000};
			nanosleep(&ts, NULL);
		}
		dn_futex_wake(&h->state, 1);
		if (h->started && pthread_timedjoin_np(h->thread, NULL, &deadline) != 0)
			all = false;
	}
	if (!all) {
		dn_log_warning(
		    "a read offload thread is stuck in a backend call; exiting without it");
		return false;
	}
	free(o);
	return true;
}
