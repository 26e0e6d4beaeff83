/* Heap Trimmer: malloc_trim() when the pool's anonymous memory has grown */
#include "heap-trim.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define MOVED (1u << 20) /* growth or shrinking below this is "nothing moved" */

void dn_trim_policy_init(struct dn_trim_policy *t, uint64_t slack, uint64_t min_ns,
			 uint64_t max_ns)
{
	t->slack = slack;
	t->min_ns = min_ns;
	t->max_ns = max_ns > min_ns ? max_ns : min_ns;
	t->low = UINT64_MAX;
	t->last = 0;
	t->period_ns = min_ns;
}

bool dn_trim_policy_due(struct dn_trim_policy *t, uint64_t anon)
{
	uint64_t moved = anon > t->last ? anon - t->last : t->last - anon;
	t->last = anon;
	if (moved >= MOVED)
		t->period_ns = t->min_ns;
	else if (t->period_ns < t->max_ns / 2)
		t->period_ns *= 2;
	else
		t->period_ns = t->max_ns;
	if (anon < t->low)
		t->low = anon;
	return anon - t->low >= t->slack;
}

void dn_trim_policy_trimmed(struct dn_trim_policy *t, uint64_t anon)
{
	t->low = anon;
	t->last = anon;
	t->period_ns = t->min_ns;
}

struct dn_trimmer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	unsigned trims; /* malloc_trim calls made */
	int statm; /* /proc/self/statm */
	struct dn_trim_policy policy;
};

/* Anonymous resident bytes (resident less file-backed and shared), or 0. */
static uint64_t anon_bytes(int fd)
{
	char buf[128];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	unsigned long long size, resident, shared;
	if (sscanf(buf, "%llu %llu %llu", &size, &resident, &shared) != 3 || shared > resident)
		return 0;
	return (uint64_t)(resident - shared) * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void *trimmer_main(void *arg)
{
	struct dn_trimmer *t = arg;
	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		uint64_t ns = (uint64_t)until.tv_nsec + t->policy.period_ns;
		until.tv_sec += (time_t)(ns / 1000000000u);
		until.tv_nsec = (long)(ns % 1000000000u);
		while (!t->stop && pthread_cond_timedwait(&t->cond, &t->lock, &until) != ETIMEDOUT)
			;
		if (t->stop)
			break;
		uint64_t anon = anon_bytes(t->statm);
		if (!anon || !dn_trim_policy_due(&t->policy, anon))
			continue;
		pthread_mutex_unlock(&t->lock);
		malloc_trim(0);
		uint64_t after = anon_bytes(t->statm);
		pthread_mutex_lock(&t->lock);
		t->trims++;
		dn_trim_policy_trimmed(&t->policy, after ? after : anon);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

struct dn_trimmer *dn_trimmer_start(uint64_t slack)
{
	struct dn_trimmer *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->statm = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (t->statm < 0) {
		dn_log_warning("heap trimmer: /proc/self/statm: %s", strerror(errno));
		free(t);
		return NULL;
	}
	/* a look a second while memory moves; every 16 s at most when it does not */
	dn_trim_policy_init(&t->policy, slack, 1000000000u, 16000000000u);
	uint64_t anon = anon_bytes(t->statm);
	if (anon)
		dn_trim_policy_trimmed(&t->policy, anon); /* growth counts from now */
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cond, &ca);
	pthread_condattr_destroy(&ca);
	int r = pthread_create(&t->thread, NULL, trimmer_main, t);
	if (r) {
		dn_log_warning("heap trimmer: cannot start: %s", strerror(r));
		close(t->statm);
		pthread_cond_destroy(&t->cond);
		pthread_mutex_destroy(&t->lock);
		free(t);
		return NULL;
	}
	pthread_setname_np(t->thread, "dn-heap-trim");
	return t;
}

unsigned dn_trimmer_trims(struct dn_trimmer *t)
{
	pthread_mutex_lock(&t->lock);
	unsigned n = t->trims;
	pthread_mutex_unlock(&t->lock);
	return n;
}

struct dn_trimmer *dn_trimmer_stop(struct dn_trimmer *t)
{
	if (!t)
		return NULL;
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	close(t->statm);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
	return NULL;
}
