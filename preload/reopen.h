/* Reopen Records: what a process keeps of each open file to reopen it after a pool restart */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "route.h"

/*
 * The pool's handles die with it; the open file descriptions (offsets,
 * flags) live in the session's memory, which the process keeps mapped.
 * What a new pool needs to open the same file again is kept here, per
 * process (copied by fork, not carried over exec), indexed as the session's
 * table: the pool path it was opened by (made absolute when the open was
 * relative to a directory fd), its open flags, which file it reached, and
 * whether the process holds locks through it (those cannot be carried over).
 *
 * Written under dn_client.lock (open, close) or by the call that owns the
 * description (locks); read by the recovery, which holds the lock with no
 * other call in flight.
 */

/* A handle whose file could not be opened again after a restart: every call on it is ESTALE. */
#define DN_HANDLE_STALE UINT64_MAX

/*
 * Records ofd as opened from t (relative to directory handle base when its
 * path is) with flags; ino/dev from the open's reply (0: not known).
 */
void dn_reopen_note_open(int32_t ofd, uint64_t handle, const struct dn_target *t, uint64_t base,
                         int flags, uint64_t ino, uint32_t dev);

/* The record is handed on to ofd neu (maybe ofd old itself) under handle (an identity switch). */
void dn_reopen_move(int32_t old, int32_t neu, uint64_t handle);

/* A lock request on ofd succeeded: type F_RDLCK/F_WRLCK/F_UNLCK over [start, start+len) (len 0: to
 * the end). */
void dn_reopen_note_lock(int32_t ofd, uint64_t handle, int type, uint64_t start, uint64_t len);
/* flock on ofd succeeded: LOCK_SH/LOCK_EX (held) or LOCK_UN. */
void dn_reopen_note_flock(int32_t ofd, uint64_t handle, int op);

/*
 * A write through ofd returned (noted only where the pool's cache dies with
 * it, DN_SESSION_CACHE_DIES); an fsync did. A description written since its
 * last fsync when the pool died has lost those writes: its next fsync
 * answers EIO once, as the kernel's does after a failed writeback.
 */
void dn_reopen_note_written(int32_t ofd);
/* fsync/fdatasync on ofd: -EIO once when a restart lost writes through it, else 0. */
int dn_reopen_synced(int32_t ofd);

/*
 * Across exec: the records of the descriptions a new image inherits travel
 * in the environment (DN_ENV_REOPEN). dn_reopen_env_size is the room ofd's
 * entry takes (0: none), dn_reopen_env_put writes it (stack only: it runs
 * between vfork and exec), dn_reopen_env_take reads them all in the new
 * image, once its descriptor table is in place.
 */
size_t dn_reopen_env_size(int32_t ofd);
size_t dn_reopen_env_put(int32_t ofd, char *dst, size_t room);
void dn_reopen_env_take(const char *s);

/* What a restart needs of ofd's record; false when there is none for this handle. */
struct dn_reopen_info {
	const char *path;
	uint32_t oflags;
	bool redirect;
	bool locked; /* holds (or may hold) a lock through it */
	uint64_t ino;
	uint32_t dev;
};
bool dn_reopen_get(int32_t ofd, uint64_t handle, struct dn_reopen_info *out);

/*
 * After a restart: ofd's file is now handle (DN_HANDLE_STALE: lost), was
 * prev; no locks held. lost_writes: the dead pool's cache held its writes.
 */
void dn_reopen_reset(int32_t ofd, uint64_t prev, uint64_t handle, bool lost_writes);

/* A restart begins: the handles of the pool before it are forgotten. */
void dn_reopen_restart_begin(void);
/* The handle that replaced prev in this restart: DN_HANDLE_STALE when lost, 0 when none. */
uint64_t dn_reopen_successor(uint64_t prev);
