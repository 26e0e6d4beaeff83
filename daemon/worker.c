/* Pool Workers: poll the sessions' request queues, then sleep on the doorbell */
#include "worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "futex.h"
#include "log.h"
#include "queue.h"

#define BATCH 32 /* requests taken from one queue before looking at the next */
#define SLEEP_MAX_NS 1000000000ull

struct worker {
	struct dn_workers *ws;
	unsigned id;
	pthread_t thread;
	_Atomic uint64_t epoch;
	_Atomic int parked; /* sleeping on the doorbell, holding no session */
};

struct dn_workers {
	struct dn_svc *svc;
	struct dn_doorbells *bells;
	struct dn_worker_states *states;
	unsigned n, nqueues;
	uint64_t poll_ns;
	_Atomic(struct dn_session_set *) set;
	_Atomic int stopping;
	struct worker w[];
};

static unsigned scan(struct worker *w)
{
	struct dn_workers *ws = w->ws;
	struct dn_session_set *set = atomic_load_explicit(&ws->set, memory_order_acquire);
	static _Thread_local struct dn_req req;
	unsigned done = 0;
	for (uint32_t i = 0; set && i < set->n; i++) {
		struct dn_session *s = set->s[i];
		for (unsigned q = w->id; q < s->l.nqueues; q += ws->n) {
			struct dn_queue *queue = dn_layout_queue(&s->l, s->base, q);
			for (unsigned k = 0; k < BATCH; k++) {
				if (!dn_queue_pop(queue, s->l.qdepth, &s->tails[q], &req))
					break;
				dn_dispatch(ws->svc, s, &req);
				done++;
			}
		}
	}
	return done;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct dn_workers *ws = w->ws;
	struct dn_doorbell *bell = &ws->bells->q[w->id];
	_Atomic uint32_t *sleeping = &ws->states->w[w->id].sleeping;
	uint64_t idle_since = 0;
	while (!atomic_load_explicit(&ws->stopping, memory_order_relaxed)) {
		atomic_fetch_add(&w->epoch, 1);
		if (scan(w)) {
			idle_since = 0;
			continue;
		}
		uint64_t now = dn_now_ns();
		if (!idle_since)
			idle_since = now;
		if (now - idle_since < ws->poll_ns) {
			dn_cpu_relax();
			continue;
		}
		/* Announce the sleep, then look once more: a client that rang before
		 * seeing `sleeping` left its request where this scan finds it. */
		uint32_t seq = atomic_load(&bell->seq);
		atomic_store(sleeping, 1);
		atomic_thread_fence(memory_order_seq_cst);
		atomic_fetch_add(&w->epoch, 1);
		if (scan(w) || atomic_load(&ws->stopping)) {
			atomic_store(sleeping, 0);
			idle_since = 0;
			continue;
		}
		atomic_store(&w->parked, 1);
		/* Bounded, as a last resort: the doorbell page is the pool's clients'
		 * to write, and no client may put the workers to sleep for good. */
		dn_futex_wait(&bell->seq, seq, SLEEP_MAX_NS);
		atomic_store(&w->parked, 0);
		atomic_store(sleeping, 0);
		idle_since = 0;
	}
	return NULL;
}

struct dn_workers *dn_workers_start(struct dn_svc *svc, struct dn_doorbells *bells,
				    struct dn_worker_states *states, unsigned n, unsigned nqueues,
				    uint64_t poll_ns)
{
	struct dn_workers *ws = calloc(1, sizeof(*ws) + n * sizeof(struct worker));
	if (!ws)
		return NULL;
	ws->svc = svc;
	ws->bells = bells;
	ws->states = states;
	ws->n = n;
	ws->nqueues = nqueues;
	ws->poll_ns = poll_ns;
	for (unsigned i = 0; i < n; i++) {
		ws->w[i].ws = ws;
		ws->w[i].id = i;
		int r = pthread_create(&ws->w[i].thread, NULL, worker_main, &ws->w[i]);
		if (r) {
			dn_log_error("cannot start worker %u: %s", i, strerror(r));
			ws->n = i;
			dn_workers_stop(ws);
			return NULL;
		}
	}
	return ws;
}

void dn_workers_stop(struct dn_workers *ws)
{
	if (!ws)
		return;
	atomic_store(&ws->stopping, 1);
	for (unsigned i = 0; i < ws->n; i++) {
		atomic_fetch_add(&ws->bells->q[i].seq, 1);
		dn_futex_wake(&ws->bells->q[i].seq, 1);
	}
	for (unsigned i = 0; i < ws->n; i++)
		pthread_join(ws->w[i].thread, NULL);
	free(atomic_load(&ws->set));
	free(ws);
}

struct dn_session_set *dn_workers_publish(struct dn_workers *ws, struct dn_session_set *set)
{
	return atomic_exchange_explicit(&ws->set, set, memory_order_acq_rel);
}

void dn_workers_snapshot(struct dn_workers *ws, uint64_t *epochs)
{
	for (unsigned i = 0; i < ws->n; i++)
		epochs[i] = atomic_load(&ws->w[i].epoch);
}

int dn_workers_quiesced(struct dn_workers *ws, const uint64_t *epochs)
{
	for (unsigned i = 0; i < ws->n; i++)
		if (atomic_load(&ws->w[i].epoch) == epochs[i] && !atomic_load(&ws->w[i].parked))
			return 0;
	return 1;
}
