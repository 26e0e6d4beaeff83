/* Futex: process-shared sleep and wake on a word in shared memory */
#pragma once

#include <errno.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/*
 * Sleeps while *word == val, at most timeout_ns (0: no limit). Returns 0 or
 * -errno, and leaves errno as it was: the preload library sleeps here inside
 * calls such as readdir(3), whose callers read errno even on success.
 */
static inline int dn_futex_wait(_Atomic uint32_t *word, uint32_t val, uint64_t timeout_ns)
{
	int saved = errno;
	struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000u),
			      .tv_nsec = (long)(timeout_ns % 1000000000u)};
	/* Not FUTEX_PRIVATE_FLAG: the word is shared between processes. */
	long r = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, val, timeout_ns ? &ts : NULL,
			 NULL, 0);
	int e = r < 0 ? errno : 0;
	errno = saved;
	return -e;
}

static inline void dn_futex_wake(_Atomic uint32_t *word, int n)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, n, NULL, NULL, 0);
}

static inline void dn_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	_mm_pause();
#endif
}

/*
 * One turn of a spin that waits for the other side (a client for its reply,
 * a worker for requests), spent_ns into the spin. Past DN_SPIN_YIELD_NS it
 * yields instead of pausing: with few CPUs, the side it waits for may be
 * queued on this very CPU (a wake-up puts the woken beside its waker), and
 * pausing would hold it off until the spin gives up — measured on 2 CPUs,
 * 4 KiB reads went from ~2 us to ~30 us in runs where that happened. With
 * nothing else to run, sched_yield returns at once.
 */
#define DN_SPIN_YIELD_NS 2000u

static inline void dn_spin_turn(uint64_t spent_ns)
{
	if (spent_ns > DN_SPIN_YIELD_NS)
		sched_yield();
	else
		dn_cpu_relax();
}

static inline uint64_t dn_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
