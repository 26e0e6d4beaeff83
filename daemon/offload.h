/* Read Offload: threads that take a worker's reads that may wait on the network */
#pragma once

#include <stdbool.h>
#include <stdint.h>

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

/* A read served on its worker took ns: whether reads are slow decides hand-offs. */
void dn_offload_note(struct dn_offload *o, uint64_t ns);

/*
 * Whether recent reads were slow enough to hand off: cache hits cost less
 * than a thread's wake-up. The cheap test, before any other.
 */
bool dn_offload_reads_slow(const struct dn_offload *o);

/*
 * Hands s's request to an idle thread, which runs and answers it; s stays
 * allocated while s->offloaded is not 0. False (the caller serves it) when
 * none is idle or s has its share in flight.
 */
bool dn_offload_take(struct dn_offload *o, struct dn_session *s, const struct dn_req *req);

/* Adds the threads' counters into sum, as dn_workers_metrics does the workers'. */
void dn_offload_metrics(const struct dn_offload *o, struct dn_worker_metrics *sum);
