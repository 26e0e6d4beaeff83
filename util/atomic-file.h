/* Atomic File: directories made as needed, files replaced whole */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p of DIR, each new level 0755. 0 or negative errno. */
int dn_mkdirs(const char *dir);

/* LEN bytes of DATA into PATH, mode MODE, written under a temporary name
 * beside it, fsync'd and renamed: a reader sees the old file or the new,
 * never half. 0 or negative errno. */
int dn_file_replace(const char *path, const void *data, size_t len, mode_t mode);
