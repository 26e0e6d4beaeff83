/* CDI Mark: the variable each pool's CDI spec sets, so a container given two pools can tell */
#pragma once

#include <stddef.h>

/*
 * A container engine merges the env of several CDI devices by name, the
 * last device winning: two danaus.io/pool devices would leave a process
 * DANAUS_POOL of one and, say, DANAUS_MOUNTS of the other. So each spec
 * also sets a variable of its own pool's name, which survives the merge:
 *
 *   DANAUS_CDI_POOL_<pool name, encoded>=<pool name>:<mountpoint>[:<more>...]
 *
 * and the library, finding two of them, serves neither pool (cdi-guard.c).
 * The name is encoded so that shells pass the variable on (dash drops names
 * with '.' or '-'): letters and digits as they are, every other byte _XX.
 */
#define DN_CDI_MARK_PREFIX "DANAUS_CDI_POOL_"

/* The variable's name for POOL into OUT; negative errno when it does not fit. */
int dn_cdi_mark_key(const char *pool, char *out, size_t len);
