/* Worker Credentials: run a filesystem call with the client's identity and capabilities */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "svc.h"

/* Records the pool's own capability sets; call once, before any worker starts. */
int dn_cred_init(void);

/*
 * Removes capability cap from the effective, permitted and inheritable sets
 * for good. capset() acts on the calling thread only: call it before the
 * process starts any thread, so that none keeps cap; dn_cred_init() and
 * every worker then see the reduced set.
 */
int dn_cred_drop(int cap);

/*
 * Switches the calling thread's filesystem identity (fsuid, fsgid,
 * supplementary groups) to c and reduces its effective capabilities to
 * those c holds, so the kernel makes every decision it would make for the
 * client: permissions, privileged xattrs, set-id clearing, chown, mknod.
 * Per thread, cached: a no-op when c is the identity already in force.
 */
int dn_cred_apply(const struct dn_cred *c);

/*
 * The identity of the request this worker thread serves (the last applied):
 * for backends that decide as the kernel would on calls on an open file
 * (a write clears set-id bits unless its writer may keep them). Before any,
 * an identity with no uid, groups or capabilities.
 */
const struct dn_cred *dn_cred_current(void);

/* Gives the calling thread back the pool's own identity and capabilities. */
int dn_cred_reset(void);

/* Whether c holds capability cap (CAP_*), as the kernel's capable() would answer. */
static inline bool dn_cred_capable(const struct dn_cred *c, int cap)
{
	return cap >= 0 && cap < 64 && (c->caps >> cap) & 1;
}

/* The pool's own permitted capabilities: nothing a client holds beyond them counts. */
uint64_t dn_cred_pool_caps(void);

/* Whether this process may act as c at all (root, or c is our own identity). */
bool dn_cred_can_serve(const struct dn_cred *c);
