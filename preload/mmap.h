/* Memory Maps: mmap of Danaus fds */
#pragma once

#include <stdint.h>

/* Writes back the MAP_SHARED maps of open file description ofd (its fd is being closed). */
void dn_mmap_flush_ofd(int32_t ofd);

/*
 * The process image ends (_exit, a successful exec): writes every MAP_SHARED
 * map back, drops the references the maps hold and forgets them. The maps
 * themselves stay; later stores to them reach nothing. Runs at exit by itself.
 */
void dn_mmap_release_all(void);

/*
 * A switch of the session (identity.c): each region's open file
 * description, and then each replaced by to(ofd) -- its index in the new
 * session's table, which already holds the reference the region had.
 */
void dn_mmap_each_ofd(void (*fn)(int32_t ofd, void *arg), void *arg);
void dn_mmap_rebase_ofds(int32_t (*to)(int32_t ofd, void *arg), void *arg);
