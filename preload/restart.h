/* Pool Restart: a lost pool is waited for, attached to again, and this process's files reopened */
#pragma once

#include <stdint.h>

#include "client.h"

/* Reads DANAUS_RESTART_WAIT (seconds a lost pool is waited for; 0: not at all). */
void dn_restart_configure(void);

/*
 * req (on call c) met a lost pool (-ENOTCONN). Waits for the pool to come
 * back, attaches again and reopens this process's files (once for all the
 * threads that met it), then sends req again where doing so twice is
 * harmless, with the handle that replaced its own. Returns its result, or
 * -EIO where it cannot be repeated (an append, a create with O_EXCL, a
 * rename...: the dead pool may have done it), -ESTALE for a file that could
 * not be reopened as it was, -ENOTCONN when the pool did not come back.
 */
int64_t dn_restart_retry(struct dn_call *c, struct dn_req *req, struct dn_reply *rep,
                         struct dn_sink *sink);
