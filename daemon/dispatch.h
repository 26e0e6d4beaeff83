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
