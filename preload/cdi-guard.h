/* CDI Guard: a container given several pools is served by none of them, and says so */
#pragma once

#include <stdbool.h>

/*
 * At start: whether the environment holds the marks of two or more pools
 * (util/cdi-mark.h: `podman run --device danaus.io/pool=a --device
 * danaus.io/pool=b`). The engine merged their variables, so DANAUS_POOL
 * names one pool and DANAUS_MOUNTS may be the other's: serving that would
 * put one pool's files at the other's mountpoint. Then the mount table
 * holds every mountpoint the marks name, and each of them answers ENOTCONN
 * with dn_cdi_guard_refusal() said once on stderr, rather than showing the
 * kernel's placeholder. A process is served by one pool only: the library
 * keeps one session (client.h).
 */
bool dn_cdi_guard_check(void);

/* The refusal to say, or NULL when the process may attach. */
const char *dn_cdi_guard_refusal(void);
