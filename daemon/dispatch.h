/* Request Dispatch: validate one request copied out of shared memory, run it, reply */
#pragma once

#include <stdbool.h>

#include "session.h"

struct dn_session_set;
/* Where the calling worker finds the sessions it serves (a handoff goes between two). */
void dn_dispatch_serving(struct dn_session_set *_Atomic const *set);
#include "svc.h"
#include "wire.h"

/*
 * Takes the request queued at the tail of s's queue q: the buffer index its
 * slot names, and a copy of the request in that buffer (req->buf: that
 * index, whatever the copy says). 1: a request in *req; 0: none queued;
 * -1: the slot named no buffer of s with a request in flight, and was
 * dropped (look again).
 */
int dn_dispatch_take(struct dn_session *s, unsigned q, struct dn_req *req);

/*
 * Runs req (the service's private copy) for session s, in the instance it names, and writes
 * the reply into the request buffer it names. A request naming no valid buffer
 * cannot be answered and is dropped; every other malformed request gets an
 * errno reply.
 */
void dn_dispatch(struct dn_session *s, const struct dn_req *req);

/* The two halves, for a caller that decides between them who answers. */
bool dn_dispatch_run(struct dn_session *s, const struct dn_req *req,
		     struct dn_reply *rep);
/* True when the client slept on the buffer and this woke it. */
bool dn_dispatch_reply(struct dn_session *s, uint32_t buf, const struct dn_reply *rep);
