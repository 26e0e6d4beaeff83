/* Offload: threads that take a worker's calls that may block (reads on the network, fsync) */
#pragma once

#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>

#include "wire.h"

struct dn_offload;
struct dn_session;
struct dn_req;
struct dn_worker_metrics;

/* n threads; at most per_session of one session's requests among them at once. */
int dn_offload_new(unsigned n, unsigned per_session, struct dn_offload **out);

/*
 * Stops the threads, waiting a while for those in a backend call; false
 * when one was left in its call (o stays allocated: it still uses it).
 */
bool dn_offload_free(struct dn_offload *o);

/*
 * How long each operation took lately, on one worker and the threads it
 * handed calls to: an average of the last ~8. Written without locks by
 * them all; a lost update only moves the average a little less.
 */
struct dn_op_times {
	_Atomic uint64_t ns[DN_OP_MAX];
};

void dn_op_times_note(struct dn_op_times *t, uint32_t op, uint64_t ns);

/*
 * Whether recent calls of req's operation were slow enough to hand off:
 * cache hits cost less than a thread's wake-up. False for what never
 * leaves its worker (streamed reads, handle hand-offs).
 */
bool dn_op_times_slow(const struct dn_op_times *t, const struct dn_req *req);

/* Whether a slow req goes to a thread even with nothing waiting behind it. */
bool dn_offload_always(const struct dn_req *req);

/*
 * Whether req may wait on a disk, a journal or a directory's lock, however
 * fast its operation was lately: in a crowded pool each one of a few
 * milliseconds holds up every client of the worker (stress-ng's mix had
 * workers in folio_wait_bit under pread and pwrite of ~16 us median).
 */
bool dn_offload_may_wait(const struct dn_req *req);

/*
 * Hands s's request to an idle thread, which runs and answers it; s stays
 * allocated while s->offloaded is not 0. False (the caller serves it) when
 * none is idle or s has its share in flight.
 */
bool dn_offload_take(struct dn_offload *o, struct dn_session *s, const struct dn_req *req,
		     struct dn_op_times *times);

/*
 * The pool's watchdog, at each tick: a call that has run for more than
 * timeout_ns is answered ETIMEDOUT (its thread stays in it until it
 * returns, and takes no other meanwhile). Returns the threads in a call.
 */
unsigned dn_offload_watch(struct dn_offload *o, uint64_t now, uint64_t timeout_ns);

/*
 * Drops what req's call left in s when the watchdog answered it ETIMEDOUT
 * and rep, its own answer, is sent nowhere: the handle of a late open,
 * which the client never learns, so its descriptor and open-file quota come
 * back now rather than when the session ends. For a call on a thread of
 * these or on a worker; s must still be the caller's to touch.
 */
void dn_offload_drop_late(struct dn_session *s, const struct dn_req *req,
			  const struct dn_reply *rep);

/* Adds the threads' counters into sum, as dn_workers_metrics does the workers'. */
void dn_offload_metrics(const struct dn_offload *o, struct dn_worker_metrics *sum);
