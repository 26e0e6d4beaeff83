/* Preload Keeping: a pool's program keeps the library across an exec whose environment names other preloads */
#pragma once

#include <stddef.h>

/* What LD_PRELOAD the exec's caller gave ("+VALUE", or "-": none), for the new image */
#define DN_ENV_PRELOAD "DANAUS_PRELOAD_GIVEN"

/* At start-up: learns the library's own name, and gives the environment back its LD_PRELOAD */
void dn_preload_keep_init(void);

/*
 * Bytes dn_preload_keep_put needs for an exec with envp: 0 when envp names
 * the library already, or leaves the pool (no DANAUS_POOL: env -i).
 */
size_t dn_preload_keep_size(char *const envp[]);

/* Whether var (an envp entry) is one that dn_preload_keep_put replaces */
int dn_preload_keep_replaces(const char *var);

/*
 * Writes into area (dn_preload_keep_size bytes) LD_PRELOAD with the caller's
 * preloads, then the library, and DN_ENV_PRELOAD: out[0], out[1]. No malloc:
 * a vfork child may be calling.
 */
void dn_preload_keep_put(char *const envp[], char *area, char *out[2]);
