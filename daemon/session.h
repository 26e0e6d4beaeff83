/* Client Session: one attached client (its processes), its memory and open files */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "queue.h"
#include "quota.h"
#include "shm.h"
#include "svc.h"

/* An open file as the service tracks it: shared by the workers using it. */
struct dn_open {
	struct dn_svc *svc; /* the instance it was opened in: its file is that one's */
	struct dn_file *file;
	char *path; /* pool path it was opened by, for *at calls relative to it */
	_Atomic int refs;
	/* its inode number as a stat answers it, once a change needed it (gens.h); 0: not yet */
	_Atomic uint64_t ino;
	/* the other number a stat may answer for it (dn_union_other_ino); 0: not yet, ~0: none */
	_Atomic uint64_t other_ino;
};

struct dn_handle_slot {
	struct dn_open *open;
	uint32_t gen;
};

enum dn_session_state { DN_SESSION_PENDING, DN_SESSION_ACTIVE };

/* A session's rings of one worker's doorbell, counted by that worker alone. */
struct dn_rings {
	uint32_t empty; /* rings with nothing queued, since `since` */
	uint64_t since, muted_until;
	uint64_t served, heard; /* requests the worker took; `served` at its last wake-up */
};

struct dn_session {
	uint32_t id; /* unique in this service's life: lock owners carry it */
	int sock;
	enum dn_session_state state;
	struct dn_cred cred;
	struct dn_cred real; /* what access(2) checks: real ids (peer.h) */
	/*
	 * The instances its requests may name (dn_req.mount), as the pool
	 * decided at attach: the pool's, or its container's union alone.
	 */
	struct dn_svc *mounts[DN_MOUNTS_MAX];
	uint32_t nmounts;
	pid_t pid;
	struct dn_quota *quota;   /* its uid's share (NULL: none counted) */
	struct dn_handovers *handovers; /* the pool's: opens a client does itself */
	uint64_t accepted_ns;     /* a session that never says hello is dropped */
	uint64_t token[2];        /* in its header: what a handoff to it must name */
	/* Doorbells: an eventfd per worker (wire.h); each worker keeps its own ring count. */
	uint32_t nbells;
	int bells[DN_MAX_QUEUES];
	struct dn_rings rings[DN_MAX_QUEUES];
	/* Everything below is only valid once ACTIVE. */
	int shm_fd;
	void *base;
	struct dn_layout l;                /* the service's own copy */
	uint64_t tails[DN_MAX_QUEUES];    /* consumer positions, one worker each */
	/* a slot reserved and not filled at tails[q], timed by its worker (worker.c) */
	struct dn_queue_stall stall[DN_MAX_QUEUES];
	uint32_t skipped; /* such slots given up, for the log */
	pthread_mutex_t lock;              /* handle table */
	struct dn_handle_slot *handles;
	uint32_t nhandles, cap;
	_Atomic uint32_t bad_requests;
	_Atomic uint32_t offloaded; /* its requests in offload threads (offload.h): kept till 0 */
	struct dn_session *retired_next;
	uint64_t retired_epochs[DN_MAX_QUEUES];
};

struct dn_session *dn_session_new(int sock);
/* Releases its locks and closes every handle still open; no worker may be serving s. */
void dn_session_drop_files(struct dn_session *s);
/* dn_session_drop_files, then the memory, the socket and its uid's session. */
struct dn_session *dn_session_free(struct dn_session *s);

/*
 * mountpoints: of s's instances (s->nmounts), for its header; flags:
 * DN_SESSION_*, what the backend tells every session.
 */
int dn_session_map(struct dn_session *s, const struct dn_layout *l, uint32_t nworkers,
		   const char *pool, const char *const *mountpoints, uint32_t flags);

/*
 * Handle table: handles carry a generation so a stale or forged one is
 * EBADF. Each handle counts as an open file of the session's uid (quota.h:
 * -EMFILE, -ENFILE beyond its limits).
 */
int dn_session_handle_add(struct dn_session *s, struct dn_svc *svc, struct dn_file *f,
			  const char *path, uint64_t want, uint64_t *handle);
struct dn_open *dn_session_handle_get(struct dn_session *s, uint64_t handle);
/*
 * Adds an open file (its reference the caller's, taken on success) under a
 * new handle: want itself when its slot is free (a handoff keeps the numbers
 * the client's threads may still hold), else any (want 0: any).
 */
int dn_session_handle_adopt(struct dn_session *s, struct dn_open *o, uint64_t want,
			    uint64_t *handle);
void dn_open_put(struct dn_open *o);
int dn_session_handle_close(struct dn_session *s, uint64_t handle);
