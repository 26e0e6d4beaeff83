/* Fork Guard: the library's locks held across fork, so no child inherits one locked */
#pragma once

#include <pthread.h>
#include <stdbool.h>

/*
 * From now on m is taken before every fork and released after it, in the
 * parent and in the child: a fork while another thread holds m cannot leave
 * the child's copy locked. Call from a constructor.
 */
void dn_fork_guard(pthread_mutex_t *m);

/* The calling thread forks while holding m on purpose: the guard leaves m alone. */
void dn_fork_guard_holding(pthread_mutex_t *m, bool holding);
