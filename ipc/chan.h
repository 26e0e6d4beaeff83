/* Client Channel: a process's attachment to its pool and the request round trip */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm.h"
#include "wire.h"

struct dn_chan {
	int sock;   /* lifeline: the service closing it means the service is gone */
	int shm_fd;
	int state_fd;
	uint32_t nbells;
	int bells[DN_MAX_QUEUES]; /* eventfds: the session's doorbell for each worker */
	void *base;
	struct dn_layout l;
	const struct dn_worker_states *states;
	uint32_t nworkers;
	/* The session's identity and its handoff address, from the header the pool wrote. */
	uint32_t uid, gid, ngroups, session;
	uint32_t groups[DN_IDENT_GROUPS_MAX];
	uint64_t caps;
	uint64_t token[2];
	uint32_t flags; /* DN_SESSION_* */
	uint64_t spin_ns; /* completion polling before futex sleep */
	_Atomic int dead;
	/* the session's instances (dn_shm_header.mounts), its default first */
	uint32_t nmounts;
	char mounts[DN_MOUNTS_MAX][DN_MOUNT_MAX];
};

/*
 * Connects to the pool socket at path and maps the session it is given. On a
 * refusal returns the service's -errno and copies its reason into msg.
 */
/*
 * Every later attach of this process asks for container name (its own
 * union of image under the writable layer of that name; rm: removed when
 * its last process is gone); NULL or "": the pool's own tree. 0, or
 * -ENAMETOOLONG (the pool checks the rest).
 */
int dn_chan_set_container(const char *name, const char *image, bool rm);

int dn_chan_connect(struct dn_chan *c, const char *path, char *msg, size_t msglen);
/* The same, giving up with -ETIMEDOUT when no welcome came within timeout_ns (0: no limit). */
int dn_chan_connect_within(struct dn_chan *c, const char *path, char *msg, size_t msglen,
			   uint64_t timeout_ns);

/*
 * Takes the descriptor an open handed over (DN_REPLY_HANDOVER) on a
 * connection of its own to the pool at path: the descriptor, or -errno.
 */
int dn_chan_take(const char *path, const uint64_t token[2]);

/* Takes over descriptors inherited across exec (bells: nbells doorbells); maps the session again. */
int dn_chan_adopt(struct dn_chan *c, int sock, int shm_fd, int state_fd, const int *bells,
		  uint32_t nbells);

/* Calls fn for each descriptor c holds (to keep them high, or out of a program's way). */
void dn_chan_each_fd(struct dn_chan *c, void (*fn)(int *fd, void *arg), void *arg);

void dn_chan_close(struct dn_chan *c);

/*
 * Leaves a session this process may no longer use (its identity changed):
 * its memory, unless already replaced (base NULL), is replaced by zeroes at
 * the same address, so a thread still holding a pointer into it reads
 * nothing of it and faults on nothing, and its descriptors are closed. With
 * keep, but the socket, which keeps the session (and the locks it holds)
 * alive until the process exits or execs.
 */
void dn_chan_retire(struct dn_chan *c, bool keep);

/*
 * Lock waits (wire.h, dn_pool_state.unlocks): the pool's count of locks
 * released, read before an attempt; then a sleep until it moves or
 * timeout_ns passes. 0 (it moved), -ETIMEDOUT, -EINTR (a signal whose
 * handler is not SA_RESTART), or -EFAULT (the session went meanwhile).
 */
uint32_t dn_chan_unlocks(const struct dn_chan *c);
int dn_chan_unlock_wait(const struct dn_chan *c, uint32_t seen, uint64_t timeout_ns);

/* A request buffer for the calling thread: index, or -EAGAIN when all are taken. */
int dn_chan_buf_claim(struct dn_chan *c, int32_t owner);
void dn_chan_buf_release(struct dn_chan *c, uint32_t idx);

static inline struct dn_buf *dn_chan_buf(struct dn_chan *c, uint32_t idx)
{
	return dn_layout_buf(&c->l, c->base, idx);
}

static inline uint8_t *dn_chan_data(struct dn_chan *c, uint32_t idx)
{
	return dn_buf_data(&c->l, dn_chan_buf(c, idx));
}

/*
 * One round trip. req's payload must already sit inline or in the buffer's
 * data area (DN_REQ_PAYLOAD_IN_BUF). Copies the reply to *out and returns its
 * result; -ENOTCONN when the service is gone.
 */
int64_t dn_chan_call(struct dn_chan *c, uint32_t buf, struct dn_req *req, struct dn_reply *out);

/* Where a DN_READ_STREAM reply's data goes. */
struct dn_sink {
	uint8_t *dest;
	uint64_t len;    /* room in dest: what the request asked for */
	uint64_t copied; /* bytes already copied to dest */
	/* optional: also given each piece, at its offset in the reply, as it is copied */
	void (*also)(void *arg, uint64_t p, const uint8_t *src, size_t n);
	void *also_arg;
};

/*
 * dn_chan_call for a DN_READ_STREAM read: copies the reply's data to sink
 * (never more than sink->len), as the service publishes it and, once the
 * reply is in, the rest.
 */
int64_t dn_chan_call_into(struct dn_chan *c, uint32_t buf, struct dn_req *req,
			  struct dn_reply *out, struct dn_sink *sink);

/*
 * Work of the client's own that needs no answer from the service (a
 * descriptor to make or to close): run once the request is queued, while
 * the service works on it, rather than before or after. Not run when the
 * request never went out; the caller sees that in its own state.
 */
struct dn_meanwhile {
	void (*fn)(void *arg);
	void *arg;
};

int64_t dn_chan_call_meanwhile(struct dn_chan *c, uint32_t buf, struct dn_req *req,
			       struct dn_reply *out, const struct dn_meanwhile *mw);

/*
 * Puts path(s) and data into req (inline when they fit, else into the
 * buffer's data area). -ENAMETOOLONG / -EMSGSIZE when they do not fit at all.
 */
int dn_req_payload(struct dn_chan *c, uint32_t buf, struct dn_req *req, const char *path,
		   const char *path2, const void *data, size_t data_len);
