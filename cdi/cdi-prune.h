/* CDI Prune: the generator's specs of pools that are no longer configured go */
#pragma once

#include <stdbool.h>

/*
 * Removes from DIR each spec that the units' shape marks as the
 * generator's (danaus-pool-NAME.json, kind danaus.io/pool, device NAME,
 * binding RUNDIR/NAME.sock: written by the generator, or rewritten by the
 * pool under systemd on that socket) and whose pool STALE says is gone.
 * Other vendors' specs, and those of pools started by hand on a socket of
 * their own (they remove theirs at exit), are left alone. The number of
 * specs removed, or negative errno when DIR cannot be read (0 when it does
 * not exist).
 */
int dn_cdi_prune(const char *dir, const char *rundir, bool (*stale)(const char *pool, void *arg),
		 void *arg);
