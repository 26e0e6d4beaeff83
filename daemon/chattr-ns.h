/* Chattr from Another User Namespace: the kernel's project-quota rule the pool cannot inherit */
#pragma once

#include <sys/types.h>

#include "svc.h"

/*
 * FS_IOC_SETFLAGS or FS_IOC_FSSETXATTR (arg: the caller's value) on f by a
 * caller whose process (pid) lives in another user namespace than the
 * pool's: -EINVAL where the kernel's fileattr_set_prepare refuses it (the
 * project id, or the project-inherit flag, changed), after its own EPERMs,
 * which the backend answers. 0: the backend decides.
 */
int dn_chattr_ns_check(struct dn_svc *svc, const struct dn_cred *c, struct dn_file *f,
		       unsigned int req, const void *arg, pid_t pid);
