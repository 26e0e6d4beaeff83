/* Caller's Umask: files a worker creates get its caller's umask, as from the kernel */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/*
 * At a worker thread's start: gives it a filesystem context of its own
 * (unshare(CLONE_FS)), so that its umask is its own to set. Without one
 * (-errno), every thread shares the pool's umask, which stays 0.
 */
int dn_umask_thread_init(void);

/*
 * Before a request creates a file: mask is the caller's umask. On a
 * thread of its own the kernel applies it (the thread's umask is set to
 * it, only when it changes): a directory with a default ACL then ignores
 * it, as for the caller. Answers whether the kernel applies it; when not,
 * a backend that creates through the kernel masks the mode itself.
 */
bool dn_umask_set(mode_t mask);

/* The umask of the caller of the request this thread runs (dn_umask_set's). */
mode_t dn_umask_caller(void);
/* Whether the kernel applies the caller's umask on this thread. */
bool dn_umask_by_kernel(void);
