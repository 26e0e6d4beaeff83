/* Memory Maps: mmap of Danaus fds */
#pragma once

#include <stdint.h>

/* Writes back the MAP_SHARED maps of open file description ofd (its fd is being closed). */
void dn_mmap_flush_ofd(int32_t ofd);
