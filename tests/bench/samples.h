/* Samples: the benchmarks' clock and order statistics, one copy for all of them */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Sorts the n (> 0) samples in place; their median and 99th percentile. */
static inline void bench_order(uint64_t *s, size_t n, uint64_t *median, uint64_t *p99)
{
	qsort(s, n, sizeof(*s), bench_cmp_u64);
	size_t k = n * 99 / 100;
	*median = s[n / 2];
	*p99 = s[k < n ? k : n - 1];
}
