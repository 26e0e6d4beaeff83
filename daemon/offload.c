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
 * The same holds on any backend for calls that wait on a disk, a journal
 * or a directory's lock: fsync (~0.5-30 ms on ext4 under load), and with
 * many clients at work open, create, unlink, rename (p50 0.5 ms, p99
 * 8-67 ms in stress-ng's mix of 34 stressors). On a worker such a call
 * holds up every client whose queue it serves: there, queue waits reached
 * 134 ms, and lseek and flock, ~1 us calls, took ~10 ms. So any operation
 * whose recent calls were slow is handed off when others wait, and fsync
 * whoever waits (what arrives meanwhile must find the worker free); the
 * kernel gives each caller its own thread, and here the threads are few,
 * so cheap calls keep theirs.
 */
/*
 * A helper's state word: its kind in the low bits, and above them the
 * number of the call it holds (take counts it up when it claims the
 * thread), so the watchdog's compare-and-swap cannot hit a later call that
 * happens to be BUSY too (ABA). The count wraps after 2^29 calls, far more
 * than run between the watchdog's load and its swap.
 *
 * IDLE -> CLAIMED (take fills in s, req) -> BUSY -> the thread runs it, then
 *   BUSY -> REPLYING: it came back first, and answers; or
 *   BUSY -> TIMING: the watchdog answers ETIMEDOUT (the call ran too long)
 *   and logs from s and req; the thread, back from the call meanwhile,
 *   waits and leaves h and s alone (s->offloaded keeps s) until
 *   TIMING -> ABANDONED: it sends no answer of its own, and drops what
 *   the call left that the client will never name (an opened handle).
 * REPLYING, ABANDONED -> IDLE (the thread, done with h) -> STOP (free).
 */
enum { IDLE, CLAIMED, BUSY, STOP, ABANDONED, REPLYING, TIMING };
#define KIND_BITS 3u
#define KIND(st) ((st) & ((1u << KIND_BITS) - 1))
#define STATE(kind, st) (((st) & ~((1u << KIND_BITS) - 1)) | (kind))

struct helper {
	struct dn_offload *o;
	pthread_t thread;
	_Atomic uint32_t state;
	bool started;
	struct dn_session *s;
	struct dn_req req;
	struct dn_op_times *times; /* of the worker that handed it over */
	uint64_t handed_ns;
	_Atomic uint64_t began_ns; /* when the call began: the watchdog's to time */
	struct dn_worker_metrics metrics;
};

/*
 * Calls answered from a cache take a few microseconds, less than waking a
 * thread: hand an operation off only while its recent calls took longer
 * than this.
 */
#define SLOW_CALL_NS 50000u

struct dn_offload {
	unsigned n, per_session;
	struct helper h[];
};

void dn_op_times_note(struct dn_op_times *t, uint32_t op, uint64_t ns)
{
	if (op >= DN_OP_MAX)
		return;
	_Atomic uint64_t *a = &t->ns[op];
	uint64_t avg = atomic_load_explicit(a, memory_order_relaxed);
	uint64_t next = avg - avg / 8 + ns / 8;
	if (next != avg) /* fast calls settle: no store, the line stays shared */
		atomic_store_explicit(a, next, memory_order_relaxed);
}

bool dn_op_times_slow(const struct dn_op_times *t, const struct dn_req *req)
{
	switch (req->op) {
	case DN_OP_NOP:
	case DN_OP_HANDOFF:
	case DN_OP_MAPFD:
	case DN_OP_LOCK:  /* never blocks in the pool; its worker wakes lock waiters */
	case DN_OP_FLOCK:
		return false;
	case DN_OP_PREAD:
		if (req->flags & DN_READ_STREAM)
			return false; /* streamed reads stay with their worker's ring */
		break;
	default:
		if (req->op >= DN_OP_MAX)
			return false;
	}
	return atomic_load_explicit(&t->ns[req->op], memory_order_relaxed) >= SLOW_CALL_NS;
}

bool dn_offload_always(const struct dn_req *req)
{
	return req->op == DN_OP_FSYNC;
}

bool dn_offload_may_wait(const struct dn_req *req)
{
	switch (req->op) {
	case DN_OP_PREAD:
		return !(req->flags & DN_READ_STREAM);
	case DN_OP_PWRITE:
	case DN_OP_OPEN:
	case DN_OP_FSYNC:
	case DN_OP_FALLOCATE:
	case DN_OP_TRUNCATE:
	case DN_OP_FTRUNCATE:
	case DN_OP_UNLINK:
	case DN_OP_RENAME:
	case DN_OP_MKDIR:
	case DN_OP_RMDIR:
	case DN_OP_LINK:
	case DN_OP_SYMLINK:
	case DN_OP_MKNOD:
	case DN_OP_READDIR:
	case DN_OP_SETXATTR:
	case DN_OP_REMOVEXATTR:
		return true;
	default:
		return false;
	}
}

void dn_offload_drop_late(struct dn_session *s, const struct dn_req *req,
			  const struct dn_reply *rep)
{
	/* a redirect or a hand-over token names no handle (the token expires: handover.h) */
	if (req->op == DN_OP_OPEN && rep->result >= 0 &&
	    !(rep->flags & (DN_REPLY_REDIRECT | DN_REPLY_HANDOVER)))
		dn_session_handle_close(s, rep->handle);
}

static void *helper_main(void *arg)
{
	struct helper *h = arg;
	dn_umask_thread_init(); /* its own umask: each caller's, in turn */
	for (;;) {
		uint32_t st = atomic_load(&h->state);
		if (KIND(st) == STOP)
			return NULL;
		if (KIND(st) != BUSY) {
			dn_futex_wait(&h->state, st, 0);
			continue;
		}
		struct dn_session *s = h->s;
		uint64_t start = dn_now_ns();
		atomic_store(&h->began_ns, start);
		struct dn_reply rep = {.result = -EINVAL};
		bool answer = dn_dispatch_run(s, &h->req, &rep);
		uint32_t cur = st;
		while (!atomic_compare_exchange_strong(&h->state, &cur, STATE(REPLYING, st))) {
			if (KIND(cur) == ABANDONED)
				break;
			/* TIMING: the watchdog is answering from h and s; they are its till ABANDONED */
			dn_futex_wait(&h->state, cur, 0);
			cur = st;
		}
		if (KIND(cur) != ABANDONED) {
			if (answer)
				dn_dispatch_reply(s, h->req.buf, &rep);
		} else if (answer) {
			/* the client has its ETIMEDOUT from the watchdog: no late answer */
			dn_offload_drop_late(s, &h->req, &rep);
		}
		uint64_t end = dn_now_ns();
		/* the client's clock is untrusted: it only moves the wait */
		uint64_t sent =
		    h->req.sent_ns && h->req.sent_ns <= start ? h->req.sent_ns : h->handed_ns;
		dn_metrics_record(&h->metrics, h->req.op, rep.result, start - sent, end - start);
		dn_op_times_note(h->times, h->req.op, end - start);
		h->s = NULL;
		atomic_store(&h->state, STATE(IDLE, st));
		atomic_fetch_sub(&s->offloaded, 1); /* the last touch of s */
	}
}

unsigned dn_offload_watch(struct dn_offload *o, uint64_t now, uint64_t timeout_ns)
{
	unsigned busy = 0;
	for (unsigned i = 0; o && i < o->n; i++) {
		struct helper *h = &o->h[i];
		uint32_t st = atomic_load(&h->state);
		if (KIND(st) != BUSY && KIND(st) != ABANDONED)
			continue;
		busy++;
		/*
		 * began_ns is this call's (or 0) if the swap below succeeds: a
		 * later call would have changed the state, its number with it.
		 */
		uint64_t began = atomic_load(&h->began_ns);
		if (KIND(st) != BUSY || !began || now < began || now - began <= timeout_ns ||
		    !atomic_compare_exchange_strong(&h->state, &st, STATE(TIMING, st)))
			continue;
		/*
		 * TIMING: take cannot claim h and its thread waits before it
		 * touches h or lets s go, so h->s and h->req are this call's and
		 * s is allocated. A late write may still land in the buffer:
		 * the client retires it.
		 */
		struct dn_session *s = h->s;
		struct dn_reply rep = {.tag = h->req.tag, .result = -ETIMEDOUT,
				       .flags = DN_REPLY_RETIRE_BUFFER};
		dn_dispatch_reply(s, h->req.buf, &rep);
		char op[16];
		struct dn_log_client c = {.session = s->id, .uid = s->cred.uid, .pid = s->pid};
		dn_log_client(LOG_WARNING, &c,
			      "offload thread %u: a %s request has run for more than %llu s: "
			      "answered ETIMEDOUT",
			      i, dn_metrics_op_name(h->req.op, op),
			      (unsigned long long)(timeout_ns / 1000000000u));
		/* h and s are the thread's again from here */
		atomic_store(&h->state, STATE(ABANDONED, st));
		dn_futex_wake(&h->state, 1);
	}
	return busy;
}

bool dn_offload_take(struct dn_offload *o, struct dn_session *s, const struct dn_req *req,
		     struct dn_op_times *times)
{
	if (atomic_fetch_add(&s->offloaded, 1) >= o->per_session)
		goto none;
	for (unsigned i = 0; i < o->n; i++) {
		struct helper *h = &o->h[i];
		uint32_t idle = atomic_load_explicit(&h->state, memory_order_relaxed);
		/* the next call's number: the watchdog tells it from the one before */
		uint32_t claimed = STATE(CLAIMED, idle + (1u << KIND_BITS));
		if (KIND(idle) != IDLE ||
		    !atomic_compare_exchange_strong(&h->state, &idle, claimed))
			continue;
		h->s = s;
		h->req = *req;
		h->times = times;
		h->handed_ns = dn_now_ns();
		atomic_store(&h->began_ns, 0);
		atomic_store(&h->state, STATE(BUSY, claimed));
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
			uint32_t idle = atomic_load(&h->state);
			if (KIND(idle) == IDLE &&
			    atomic_compare_exchange_strong(&h->state, &idle, STATE(STOP, idle)))
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
