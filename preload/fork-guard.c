/* Fork Guard: the library's locks held across fork, so no child inherits one locked */
#include "fork-guard.h"

#include <stddef.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

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
	/*
	 * A lock left unguarded would hang a forked child once in a while, far
	 * from here; running out of room is the library's own bug, and every
	 * program that loads it would say so at once.
	 */
	if (nguarded == GUARDED_MAX) {
		static const char msg[] = "libdanaus: fork guard: raise GUARDED_MAX\n";
		syscall(SYS_write, STDERR_FILENO, msg, sizeof(msg) - 1); /* not our own write() */
		abort();
	}
	if (nguarded == 0)
		pthread_atfork(guard_prepare, guard_release, guard_release);
	guarded[nguarded++] = m;
}

void dn_fork_guard_holding(pthread_mutex_t *m, bool holding)
{
	held_on_purpose = holding ? m : NULL;
}
