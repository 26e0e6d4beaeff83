/* Compat Metrics: the compat mount's requests, counted by each FUSE thread in a slot of its own */
#include "compat-metrics.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct slot {
	struct slot *next;
	bool taken;
	struct dn_worker_metrics m;
};

/* Slots are never freed: a reader may sum them while threads come and go. */
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *slots;
static pthread_key_t slot_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static _Thread_local struct slot *mine;

/* A thread ends: its slot is the next thread's. */
static void slot_release(void *arg)
{
	struct slot *s = arg;
	pthread_mutex_lock(&slots_lock);
	s->taken = false;
	pthread_mutex_unlock(&slots_lock);
}

static void key_create(void)
{
	if (pthread_key_create(&slot_key, slot_release) != 0)
		slot_key = (pthread_key_t)-1;
}

static struct slot *slot_take(void)
{
	pthread_once(&key_once, key_create);
	if (slot_key == (pthread_key_t)-1)
		return NULL; /* could not learn when threads end: count nothing rather than leak */
	pthread_mutex_lock(&slots_lock);
	struct slot *s = slots;
	while (s && s->taken)
		s = s->next;
	if (!s && (s = calloc(1, sizeof(*s)))) {
		s->next = slots;
		slots = s;
	}
	if (s)
		s->taken = true;
	pthread_mutex_unlock(&slots_lock);
	if (s && pthread_setspecific(slot_key, s) != 0) {
		slot_release(s);
		s = NULL;
	}
	return s;
}

void dn_compat_metrics_record(uint32_t op, int64_t result, uint64_t time_ns)
{
	if (!mine && !(mine = slot_take()))
		return;
	dn_metrics_record(&mine->m, op, result, 0, time_ns);
}

void dn_compat_metrics_sum(struct dn_worker_metrics *sum)
{
	pthread_mutex_lock(&slots_lock);
	for (const struct slot *s = slots; s; s = s->next)
		dn_metrics_sum(sum, &s->m);
	pthread_mutex_unlock(&slots_lock);
}
