/* CDI Publish: a pool's spec, with this host's library and placeholder, into a CDI directory */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Where CDI specs go unless told otherwise: /run/cdi, which engines read after /etc/cdi. */
#define DN_CDI_DIR "/run/cdi"

/*
 * Writes DIR's spec for pool NAME reached at SOCKET with its files at
 * MOUNTPOINT and its other instances at MORE (colon-separated, or ""); the library is the one danaus-run would preload
 * (dn_library_find) and the placeholder RUNDIR/not-served (made if missing;
 * RUNDIR is DN_RUNDIR but in tests). 0, or negative errno with WHY (of
 * WHY_LEN) saying what failed. With compat_mount the pool's own mount at
 * MOUNTPOINT is bound there instead of the placeholder.
 */
int dn_cdi_publish(const char *dir, const char *rundir, const char *name, const char *socket,
		   const char *mountpoint, const char *more, bool compat_mount, char *why,
		   size_t why_len);
