/* Lock Wake: tells the clients waiting for a lock that one was released */
#pragma once

#include <stdbool.h>

#include "wire.h"

/* Whether req, which succeeded, released a lock (an unlock; a close is not counted). */
bool dn_lock_wake_due(const struct dn_req *req);

/* Counts a release in the pool state and wakes its sleepers. */
void dn_lock_wake(struct dn_pool_state *pool);
