/* Pool Slice Names: the systemd unit names a pool's cgroup goes by */
#pragma once

#include <stddef.h>

/*
 * "danaus-<pool>.slice", the pool escaped as systemd-escape(1) does so that a
 * '-' in its name does not open a deeper slice: "a-b" -> "danaus-a\x2db.slice",
 * whose parent is danaus.slice. Truncates to len like snprintf.
 */
void dn_slice_name(const char *pool, char *out, size_t len);

/* The slice's cgroup path below the hierarchy root: "danaus.slice/<slice>". */
void dn_slice_cgroup(const char *pool, char *out, size_t len);
