/* Compat Mount: the pool's tree as a kernel mount too, for the programs the library cannot reach */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "svc.h"

/*
 * Statically linked programs, io_uring and raw system calls never meet the
 * preload library: with [pool] compat_mount the pool also mounts its tree
 * at its mountpoint through FUSE, served by the same libservice (one cache,
 * one set of checks), while preloaded programs keep their shared-memory
 * path. Nothing is cached in the kernel, so both views see each other's
 * changes at once.
 */
struct dn_compat;

/*
 * Mounts svc's tree at cfg's mountpoint (FUSE, allow_other,
 * default_permissions: the kernel checks, then the libservice as the
 * caller, and only callers [access] admits get anything) and serves it on
 * threads of its own; cfg must outlive it. 0, or -errno with the reason in
 * err.
 */
int dn_compat_start(struct dn_svc *svc, const struct dn_config *cfg, struct dn_compat **out,
		    char *err, size_t errlen);

/*
 * Unmounts (lazily: programs still inside keep it until they leave or the
 * pool exits) and stops serving. Answers false when its threads did not end
 * within a few seconds (an operation stuck in the backend): the backend
 * must then be left alone. NULL is fine.
 */
bool dn_compat_stop(struct dn_compat *c);

/*
 * A compat mount a dead pool left at mountpoint answers ENOTCONN to every
 * call, the library's placeholder checks included: detached, so that the
 * pool can start again. Mounts that answer are left alone.
 */
void dn_compat_clear_stale(const char *mountpoint);
