/* Worker Credentials: run a filesystem call as the client's uid, gid and groups */
#pragma once

#include <stdbool.h>

#include "svc.h"

/*
 * Switches the calling thread's filesystem identity (fsuid, fsgid and
 * supplementary groups) to c, so the kernel's permission checks apply to the
 * client. Per thread, cached: a no-op when c is the identity already in force.
 */
int dn_cred_apply(const struct dn_cred *c);

/* Whether this process may act as c at all (root, or c is our own identity). */
bool dn_cred_can_serve(const struct dn_cred *c);
