/* Pool Workers: poll the sessions' request queues, then sleep on their doorbells */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>

#include "session.h"
#include "svc.h"
#include "wire.h"

/* What workers see of the attached sessions: replaced whole, never edited. */
struct dn_session_set {
	uint32_t n;
	struct dn_session *s[];
};

struct dn_workers;

/*
 * offload_threads: threads that take reads which may wait on the network
 * (offload.h), 0 for none; poll_ns..poll_max_ns: how long an idle worker
 * polls before it sleeps (see idle.h); timeout_ns: how long a backend call may take before its client
 * is answered ETIMEDOUT.
 */
struct dn_workers *dn_workers_start(struct dn_svc *svc, struct dn_worker_states *states,
				    unsigned n, unsigned nqueues, unsigned offload_threads,
				    uint64_t poll_ns, uint64_t poll_max_ns, uint64_t timeout_ns);
/* Before a session is published: each worker sleeps on its doorbell too. */
int dn_workers_watch(struct dn_workers *ws, struct dn_session *s);
/* A session leaves: its doorbells wake no one any more. */
void dn_workers_unwatch(struct dn_workers *ws, struct dn_session *s);

/*
 * Any thread: every worker's counters added into sum (which the caller
 * zeroed), and each one's busy time into busy[i] for i < n.
 */
struct dn_worker_metrics;
void dn_workers_metrics(const struct dn_workers *ws, struct dn_worker_metrics *sum, uint64_t *busy,
			unsigned n);

/*
 * Any thread, while the published sets are kept from being freed (the
 * pool's lock): the requests waiting in queue q of every session added
 * into waiting[q] for q < nqueues. Read from the rings alone: nothing the
 * workers write on their hot path.
 */
void dn_workers_queued(struct dn_workers *ws, uint64_t *waiting, unsigned nqueues);

/* false when a worker stuck in a backend call was left behind (free nothing it uses). */
bool dn_workers_stop(struct dn_workers *ws);

/* Publishes a new set; the old one may still be read until dn_workers_quiesced(). */
struct dn_session_set *dn_workers_publish(struct dn_workers *ws, struct dn_session_set *set);

/* Epoch snapshot taken after a publish; quiesced once every worker has moved past it. */
void dn_workers_snapshot(struct dn_workers *ws, uint64_t *epochs);
int dn_workers_quiesced(struct dn_workers *ws, const uint64_t *epochs);
