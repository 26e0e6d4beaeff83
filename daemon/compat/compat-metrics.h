/* Compat Metrics: the compat mount's requests, counted by each FUSE thread in a slot of its own */
#pragma once

#include "metrics.h"

/*
 * The FUSE threads are not the pool's workers, and libfuse starts and
 * ends them as load comes and goes: each takes a slot of its own at its
 * first request and gives it back when it ends, for the next thread to
 * count on. A slot has one writer at a time (handed over under a lock,
 * only when a thread starts or ends), so counting stays a plain relaxed
 * store as in the workers (metrics.h).
 */

/* Counts one request of this thread (metrics.h's record, no wait in a queue). */
void dn_compat_metrics_record(uint32_t op, int64_t result, uint64_t time_ns);

/* Any thread: every slot's counters added into sum (which the caller zeroed). */
void dn_compat_metrics_sum(struct dn_worker_metrics *sum);
