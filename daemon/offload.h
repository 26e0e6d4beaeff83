/* Offload: threads that take a worker's calls that may block (reads on the network, fsync) */
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

/* The kinds of calls that may block, each timed on its own. */
enum {
	DN_OFFLOAD_READ,  /* pread: the network, on Ceph */
	DN_OFFLOAD_SYNC,  /* fsync, fdatasync */
	DN_OFFLOAD_SPACE, /* fallocate, truncate */
	DN_OFFLOAD_WRITE, /* a large pwrite */
	DN_OFFLOAD_KINDS,
};

/* req's kind, or -1: a call that never waits long (it stays on its worker). */
int dn_offload_kind(const struct dn_req *req);

/* A call of kind took ns (wherever it ran): whether its kind is slow decides hand-offs. */
void dn_offload_note(struct dn_offload *o, int kind, uint64_t ns);

/*
 * Whether recent calls of kind were slow enough to hand off: cache hits
 * cost less than a thread's wake-up. The cheap test, before any other.
 */
bool dn_offload_slow(const struct dn_offload *o, int kind);

/*
 * Hands s's request to an idle thread, which runs and answers it; s stays
 * allocated while s->offloaded is not 0. False (the caller serves it) when
 * none is idle or s has its share in flight.
 */
bool dn_offload_take(struct dn_offload *o, struct dn_session *s, const struct dn_req *req);

/* Adds the threads' counters into sum, as dn_workers_metrics does the workers'. */
void dn_offload_metrics(const struct dn_offload *o, struct dn_worker_metrics *sum);
