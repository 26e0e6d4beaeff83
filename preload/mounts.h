/* Mount Table: this process's Danaus mountpoints, each an instance of its pool */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "client.h"

/*
 * The table comes from the environment, before any attach (a path outside
 * every mount must never attach): mount 0 at DANAUS_MOUNTPOINT (the
 * session's default tree: the pool's top or its container's), then one per
 * DANAUS_MOUNTS entry (':'-separated), at the index the pool's table gives
 * that instance (danaus-run and the CDI spec copy it from the pool). The
 * pool decides what a session may use: at each attach the table is checked
 * against the session's, and a mount it lacks answers ENOENT.
 */

/* Fills dn_client's table; the number of mounts (0: none, the library serves nothing). */
unsigned dn_mounts_init(const char *mountpoint, const char *more);

/* One more mount at PATH (cdi-guard.c); false when it is not absolute, "/", or the table is full. */
bool dn_mounts_add(const char *path);

/* After the session changed (attach, identity switch, restart): which mounts it serves. */
void dn_mounts_bind(void);

/* The mount holding abs (absolute, normalized), or -1. */
int dn_mount_at(const char *abs, size_t len);

/* Whether a mount lies strictly below dir (absolute, normalized; "/" holds them all). */
bool dn_mount_below(const char *dir, size_t len);

/* Whether a path beginning "/c" may be in a mount: the no-mount fast path's one test. */
static inline bool dn_mount_may_start(unsigned char c)
{
	return dn_client.mount_first[c / 64] >> (c % 64) & 1;
}
