/* Lock Wake: tells the clients waiting for a lock that one was released */
#include "lock-wake.h"

#include <fcntl.h>
#include <string.h>
#include <sys/file.h>

#include "futex.h"

/*
 * A client waits for a lock in steps the pool never blocks on (a try, a
 * sleep, a try): with fixed sleeps of 1-50 ms, a contended flock took
 * ~15 ms where the kernel's took ~13 us. It sleeps on the pool's unlock
 * count instead, its sleep still bounded for locks released where the pool
 * cannot see (a close, another pool, the host).
 */
bool dn_lock_wake_due(const struct dn_req *req)
{
	if (req->op == DN_OP_FLOCK)
		return req->mode == LOCK_UN;
	if (req->op != DN_OP_LOCK || req->oflags != F_SETLK)
		return false;
	/* the request's own copy, out of shared memory; dn_flock always travels inline */
	struct dn_flock fl;
	if (req->where || req->payload_len != sizeof(fl))
		return false;
	memcpy(&fl, req->inl, sizeof(fl));
	return fl.type == F_UNLCK;
}

void dn_lock_wake(struct dn_pool_state *pool)
{
	atomic_fetch_add_explicit(&pool->unlocks, 1, memory_order_release);
	dn_futex_wake(&pool->unlocks, INT32_MAX);
}
