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
