/* Fork Guard: the library's locks held across fork, so no child inherits one locked */
#include "fork-guard.h"

#include <stddef.h>

#define GUARDED_MAX 8

static pthread_mutex_t *guarded[GUARDED_MAX];
static size_t nguarded; /* written by constructors only, before any thread */
static _Thread_local pthread_mutex_t *held_on_purpose;

static void guard_prepare(void)
{
	for (size_t i = nguarded; i-- > 0;)
		if (guarded[i] != held_on_purpose)
			pthread_mutex_lock(guarded[i]);
}

static void guard_release(void)
{
	for (size_t i = 0; i < nguarded; i++)
		if (guarded[i] != held_on_purpose)
			pthread_mutex_unlock(guarded[i]);
}

void dn_fork_guard(pthread_mutex_t *m)
{
	if (nguarded == 0)
		pthread_atfork(guard_prepare, guard_release, guard_release);
	if (nguarded < GUARDED_MAX)
		guarded[nguarded++] = m;
}

void dn_fork_guard_holding(pthread_mutex_t *m, bool holding)
{
	held_on_purpose = holding ? m : NULL;
}
