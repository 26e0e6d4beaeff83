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
enum dn_cgroup_via {
	DN_CGROUP_VIA_AUTO,      /* systemd when a manager runs, else libcgroup */
	DN_CGROUP_VIA_SYSTEMD,
	DN_CGROUP_VIA_LIBCGROUP, /* even under systemd: hosts whose cgroups another tool manages */
};

int dn_run_cgroup_place(const char *pool, bool create, enum dn_cgroup_via via, char *msg,
			size_t len);
