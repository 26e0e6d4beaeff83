/* Pool Metrics: what each worker served, counted by that worker alone */
#pragma once

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "wire.h"

/*
 * Latency histograms in log2 buckets of nanoseconds: bucket i holds
 * [2^i, 2^(i+1)) ns (bucket 0 also 0), the last everything from 2^35 ns
 * (~34 s) up.
 */
#define DN_METRICS_BUCKETS 36

struct dn_op_metrics {
	_Atomic uint64_t count, errors, bytes;
	_Atomic uint64_t time_ns, wait_ns; /* sums */
	_Atomic uint64_t time_hist[DN_METRICS_BUCKETS]; /* in the worker (backend call) */
	_Atomic uint64_t wait_hist[DN_METRICS_BUCKETS]; /* queued, until a worker took it */
};

/*
 * One worker's counters. Its worker is the only writer: a relaxed load and
 * store, no locked add and no cache line shared with another worker on the
 * hot path; readers (the metrics socket) sum the workers' when asked.
 */
struct dn_worker_metrics {
	struct dn_op_metrics op[DN_OP_MAX];
	_Atomic uint64_t busy_ns;
};

/* Counts one request: its op, its answer (bytes for reads and writes), its two times. */
void dn_metrics_record(struct dn_worker_metrics *m, uint32_t op, int64_t result, uint64_t wait_ns,
		       uint64_t time_ns);

/* "stat", "pread"...: the name an op has in the metrics ("op17" for one without). */
const char *dn_metrics_op_name(uint32_t op, char buf[16]);

/* Adds a worker's counters to sum (a plain copy, read while the worker writes). */
void dn_metrics_sum(struct dn_worker_metrics *sum, const struct dn_worker_metrics *w);

/* What the pool knows beyond its workers' counters. */
struct dn_metrics_pool {
	const char *pool, *backend, *mountpoint;
	unsigned workers;
	uint64_t sessions, files; /* attached sessions, open files */
	uint64_t uptime_ns;
	const uint64_t *busy_ns; /* per worker */
	long cache_size;         /* the backend's cache in bytes (-1: not known) */
	unsigned queues;
	const uint64_t *queued; /* requests waiting now in queue q, all sessions' */
	const struct dn_worker_metrics *compat; /* the compat mount's requests; NULL: none */
};

/*
 * The Prometheus text exposition (version 0.0.4) of sum and p into f: per
 * op counters and histograms (the compat mount's apart, danaus_compat_*),
 * sessions, open files, queue depths, workers' busy time,
 * the process's memory and CPU time, and its cgroup's where cgroup v2 has
 * them. 0 or -errno.
 */
int dn_metrics_write(FILE *f, const struct dn_metrics_pool *p, const struct dn_worker_metrics *sum);
