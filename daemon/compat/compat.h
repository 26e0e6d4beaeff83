/* Compat Mount: the pool's tree as a kernel mount too, for the programs the library cannot reach */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "mounts.h"
#include "quota.h"

/*
 * Statically linked programs, io_uring and raw system calls never meet the
 * preload library: with [pool] compat_mount the pool also mounts each of
 * its instances (its top and every [mount] section) at its mountpoint
 * through FUSE, served by the instance's libservice (one cache, one set of
 * checks), while preloaded programs keep their shared-memory path. Nothing
 * is cached in the kernel, so both views see each other's changes at once.
 */
struct dn_compat;

/*
 * Step one, before the process starts any thread: a FUSE mount for each of
 * the n mountpoints (the instances' of dn_mounts, in its order), made
 * detached (compat-kmount.h). With handover the pool runs in a mount
 * namespace of its own (systemd's sandbox) and the unit's privileged
 * ExecStartPost= lines attach the mounts in the host's
 * (dn_compat_attach_main); the pool then drops CAP_SYS_ADMIN at once,
 * needed for nothing else, so no tenant ever acts with it. Otherwise the
 * pool attaches each mount at its mountpoint itself when it starts
 * serving. 0, or -errno with the reason in err.
 */
int dn_compat_prepare(const char *pool, const char *const *mountpoints, size_t n, bool handover,
		      struct dn_compat **out, char *err, size_t errlen);

/*
 * Serves each mount with its instance's tree (mounts, in the order of the
 * mountpoints prepared) on threads of its own (the kernel checks,
 * default_permissions, then the libservice as the caller; only callers
 * cfg's [access] admits get anything; its open files count in quotas as
 * the preloaded ones; mounts, cfg and quotas must outlive c), then
 * attaches them, or publishes them for the unit (handover). 0, or -errno
 * with the reason in err; c is then still to be stopped.
 */
int dn_compat_start(struct dn_compat *c, const struct dn_mounts *mounts,
		    const struct dn_config *cfg, struct dn_quotas *quotas, char *err, size_t errlen);

/*
 * Unmounts what the pool attached itself (lazily: programs still inside
 * keep them until they leave or the pool exits) and stops serving; mounts
 * the unit attached answer ENOTCONN until its ExecStopPost= detaches them.
 * Answers false when its threads did not end within a few seconds (an
 * operation stuck in the backend): the backend must then be left alone.
 * NULL is fine.
 */
bool dn_compat_stop(struct dn_compat *c);

/*
 * A compat mount a dead pool left at mountpoint answers ENOTCONN to every
 * call, the library's placeholder checks included: detached, so that the
 * pool can start again. Mounts that answer are left alone.
 */
void dn_compat_clear_stale(const char *mountpoint);

/*
 * danaus-pool --pool POOL --attach-compat MOUNTPOINT, the unit's
 * ExecStartPost=+: takes the detached mount from the unit's main process
 * ($MAINPID) and attaches it at MOUNTPOINT, in this (the host's) mount
 * namespace. 0, or -errno (logged).
 */
int dn_compat_attach_main(const char *pool, const char *mountpoint);

/*
 * danaus-pool --pool POOL --detach-compat MOUNTPOINT, the unit's
 * ExecStopPost=+: detaches the fuse.danaus mounts at MOUNTPOINT (nothing
 * else). 0, or -errno (logged).
 */
int dn_compat_detach_main(const char *pool, const char *mountpoint);
