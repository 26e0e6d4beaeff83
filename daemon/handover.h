/* Descriptor Handover: kernel descriptors a client takes over a connection of its own */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/*
 * A worker that answers an open with a descriptor (DN_SVC_HANDOVER) leaves
 * it here under a random token; the client connects to the pool's socket,
 * names the token, and the acceptor sends it the descriptor if the
 * connection's uid is the one the worker served. Unclaimed descriptors are
 * closed after DN_HANDOVER_TTL_NS.
 */
#define DN_HANDOVER_TTL_NS 10000000000ull
#define DN_HANDOVER_MAX 4096       /* waiting in the whole pool */
#define DN_HANDOVER_PER_UID_MAX 64 /* waiting for one uid: ENFILE beyond */

struct dn_handovers;

struct dn_handovers *dn_handovers_new(void);
struct dn_handovers *dn_handovers_free(struct dn_handovers *h);

/* Any thread: keeps fd (taking it) for uid; token gets the claim's name. */
int dn_handover_put(struct dn_handovers *h, int fd, uid_t uid, uint64_t token[2]);

/* The descriptor waiting under token for uid, now the caller's; -ENOENT if none. */
int dn_handover_take(struct dn_handovers *h, const uint64_t token[2], uid_t uid);

/* Closes the descriptors older than the TTL; how many still wait. */
unsigned dn_handover_expire(struct dn_handovers *h, uint64_t now_ns);
