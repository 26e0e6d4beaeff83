/* Offload: threads that take a worker's calls that may block (reads on the network, fsync) */
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
#include "wire.h"
#include "umask.h"

/*
 * libcephfs 16 has no non-blocking read, and a read that misses its cache
 * holds the calling thread until the OSD answers (~0.3-3 ms here): with one
 * worker per CPU, a pool had at most `workers` such reads in flight, where
 * ceph-fuse keeps one per FUSE thread. A worker that finds other requests
 * waiting behind a read hands the read to one of these threads and serves
 * on; a read with nothing behind it stays on the worker (no hand-off on the
 * single-client path). per_session keeps one session from taking them all.
 *
 * The same holds on any backend for calls that wait on a disk or a
 * journal: fsync (~0.5-30 ms on ext4 under load), fallocate and truncate,
 * and large writes that the kernel may throttle for write-back. On a
 * worker, such a call holds up every client whose queue that worker
 * serves; stress-ng with 34 stressors at once saw ~1000x the kernel's
 * times for flock and lseek partly so. Those are handed off whenever
 * their kind has been slow lately, whoever waits: what arrives meanwhile
 * must find the worker free.
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
 * Calls answered from a cache take a few microseconds, less than waking a
 * thread: hand a kind off only while its recent calls took longer than
 * this (an average of the last ~8, wherever they ran).
 */
#define SLOW_CALL_NS 50000u
/* a write this large may wait for write-back (the kernel throttles dirtiers) */
#define LARGE_WRITE 65536u

struct dn_offload {
	unsigned n, per_session;
	_Atomic uint64_t avg_ns[DN_OFFLOAD_KINDS]; /* recent calls' average; racy updates are fine */
	struct helper h[];
};

int dn_offload_kind(const struct dn_req *req)
{
	switch (req->op) {
	case DN_OP_PREAD:
		/* streamed reads stay with their worker's ring */
		return req->flags & DN_READ_STREAM ? -1 : DN_OFFLOAD_READ;
	case DN_OP_FSYNC:
		return DN_OFFLOAD_SYNC;
	case DN_OP_FALLOCATE:
	case DN_OP_TRUNCATE:
	case DN_OP_FTRUNCATE:
		return DN_OFFLOAD_SPACE;
	case DN_OP_PWRITE:
		return req->len >= LARGE_WRITE ? DN_OFFLOAD_WRITE : -1;
	default:
		return -1;
	}
}

void dn_offload_note(struct dn_offload *o, int kind, uint64_t ns)
{
	if (kind < 0 || kind >= DN_OFFLOAD_KINDS)
		return;
	_Atomic uint64_t *a = &o->avg_ns[kind];
	uint64_t avg = atomic_load_explicit(a, memory_order_relaxed);
	atomic_store_explicit(a, avg - avg / 8 + ns / 8, memory_order_relaxed);
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
		dn_offload_note(h->o, dn_offload_kind(&h->req), end - start);
		h->s = NULL;
		atomic_store(&h->state, IDLE);
		atomic_fetch_sub(&s->offloaded, 1); /* the last touch of s */
	}
}

bool dn_offload_slow(const struct dn_offload *o, int kind)
{
	return kind >= 0 && kind < DN_OFFLOAD_KINDS &&
	       atomic_load_explicit(&o->avg_ns[kind], memory_order_relaxed) >= SLOW_CALL_NS;
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
