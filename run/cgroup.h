/* Pool Cgroup Placement: moving danaus-run into its pool's slice */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Moves the calling process into the pool's slice, danaus.slice/
 * danaus-<pool>.slice, so a pool's programs share its service's reservation.
 * With a systemd manager: a transient scope in that slice (StartTransientUnit),
 * waited for. Without one: libcgroup, in every mounted hierarchy (creating the
 * cgroup when missing, if create). Returns 0, 1 when there is no manager and
 * no pool cgroup to join (and !create), or a negative errno with the reason in msg.
 */
int dn_run_cgroup_place(const char *pool, bool create, char *msg, size_t len);
