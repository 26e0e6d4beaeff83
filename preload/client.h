/* Preload Client: this process's pool, its session and the per-thread request buffer */
#pragma once

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "chan.h"
#include "fdtable.h"
#include "wire.h"

/* Who this process is, as far as a pool decides anything by it. */
struct dn_ident {
	uid_t euid;
	gid_t egid;
	int ngroups;
	gid_t groups[DN_IDENT_GROUPS_MAX];
	uint64_t caps; /* effective */
};

/* Per thread: its calls in flight, which a switch of the session waits out. */
struct dn_thread_calls {
	_Atomic int n;
	_Atomic int held; /* of n, those past the look at dn_client.switching */
	_Atomic int listed; /* 0: no, 1: being listed (a handler may interrupt that), 2: yes */
	struct dn_thread_calls *next;
};

/* One of this process's mounts: an instance of the pool (mounts.h). */
struct dn_client_mount {
	char path[DN_MOUNT_MAX]; /* normalized, no trailing slash */
	size_t len;
	bool served; /* the session has this instance at this index (checked at each attach) */
};

struct dn_client {
	bool configured; /* DANAUS_POOL names a pool */
	char pool[DN_NAME_MAX];
	char socket_path[108];
	/* the mounts: 0 the session's default tree, its index what a request names (dn_req.mount) */
	struct dn_client_mount mounts[DN_MOUNTS_MAX];
	uint32_t nmounts;
	uint64_t mount_first[4]; /* bit c: some mount starts "/c": a path that does not, is none */
	_Atomic int attached;
	struct dn_chan chan;
	int placeholder; /* template the Danaus fds are duplicated from */
	_Atomic mode_t umask;
	/* This process took a POSIX record lock: closing any fd of a file drops its locks. */
	_Atomic bool posix_locks;
	/* The session was asked for a lock (record, OFD or flock): a switch keeps it (identity.c). */
	_Atomic bool session_locks;
	pthread_mutex_t lock; /* attach, and every change to the descriptor table */
	/* Working directory, when it lies inside a mount: that mount, and its pool path. */
	_Atomic bool cwd_in_mount;
	uint32_t cwd_mount;
	char cwd[PATH_MAX];
	/* Otherwise the kernel's working directory, when the mount lies below it. */
	_Atomic bool cwd_above_mount;
	char host_cwd[PATH_MAX];
	/*
	 * The identity the session was attached as (identity.c): when the
	 * process's own changes, it attaches anew. switching (a count of the
	 * switches under way) holds new calls back meanwhile; session_gen
	 * counts the sessions, so a thread knows its request buffer belongs to
	 * an old one.
	 */
	struct dn_ident ident;
	_Atomic int switching;
	_Atomic int changing; /* set*id calls under way, calls held back (identity.c) */
	_Atomic uint32_t change_seq; /* set*id calls begun */
	_Atomic int relocating; /* switches past waiting out the calls (dn_switch_lock) */
	_Atomic uint32_t session_gen;
	struct dn_thread_calls *threads; /* under client.c's threads_lock */
	/* How long a lost pool is waited for (restart.c; DANAUS_RESTART_WAIT); 0: not. */
	uint64_t restart_wait_ns;
};

extern struct dn_client dn_client;

/* Records the kernel's working directory after it changed. */
void dn_host_cwd_changed(void);

/* Attaches on first use; 0, or -errno (-EACCES when the pool refuses us). */
int dn_attach(void);

/* A descriptor of ours, moved up and away from the numbers programs expect to get. */
int dn_fd_move_high(int fd);
/* The same as a dn_chan_each_fd callback. */
void dn_fd_keep_high(int *fd, void *arg);

/* A switch of the session: waits until no other thread has a call in flight. */
void dn_calls_wait_others(void);
/*
 * A switch of the session (identity.c, restart.c) begins: calls that begin
 * from now on wait (but those nested in a call in flight), the calls in
 * flight are waited out, and the maps' lock and dn_client.lock are taken.
 * dn_switch_end lets it all go. Switches may overlap: switching counts them.
 */
void dn_switch_begin(void);
void dn_switch_end(void);
/* dn_switch_begin in two: calls held back and waited out; then the locks taken. */
void dn_switch_hold(void);
void dn_switch_lock(void);
/* In a fork child: only the calling thread is left to wait for. */
void dn_calls_forget_others(void);

/* Reads the calling process's identity. */
void dn_ident_read(struct dn_ident *id);
bool dn_ident_same(const struct dn_ident *a, const struct dn_ident *b);

/*
 * The process's identity may have changed (set*id, setgroups, capset, an
 * exec): if it did, attach anew as the new identity and take the open
 * Danaus files along (identity.c). 0, or -errno when that failed (the old
 * session is left all the same: its files are gone from this process).
 */
int dn_identity_changed(void);

/* After a connect or an adopted session: template fd, thread keys. */
int dn_attach_finish(void);

/* The calling thread gives its request buffer back (it ends, or its process does). */
void dn_thread_release_buffer(void);

/* In a fork child: the parent's thread keeps its buffer, the child claims anew. */
void dn_thread_forget_buffer(void);

/* Can one session's memory stand in for the other's (restart.c, identity.c)? */
static inline bool dn_layout_same(const struct dn_layout *a, const struct dn_layout *b)
{
	return a->nqueues == b->nqueues && a->qdepth == b->qdepth && a->nbufs == b->nbufs &&
	       a->buf_size == b->buf_size && a->buf_data == b->buf_data && a->nofds == b->nofds &&
	       a->queues_off == b->queues_off && a->queue_stride == b->queue_stride &&
	       a->bufs_off == b->bufs_off && a->ofds_off == b->ofds_off &&
	       a->total_size == b->total_size;
}

static inline struct dn_ofd *dn_ofds(void)
{
	return dn_layout_ofds(&dn_client.chan.l, dn_client.chan.base);
}

/* The open file description of a Danaus fd, or NULL for any other fd. */
static inline struct dn_ofd *dn_fd_ofd(int fd, int32_t *idx)
{
	int32_t i = dn_fdmap_get(fd);
	if (i < 0)
		return NULL;
	if (idx)
		*idx = i;
	return &dn_ofds()[i];
}

/*
 * One request of the calling thread. Fill req (op and arguments) and let
 * dn_request put the paths/data in and do the round trip.
 */
struct dn_call {
	uint32_t buf;
	bool temporary; /* nested call (a signal handler): a buffer of its own */
	uint32_t gen;   /* the session (dn_client.session_gen) buf belongs to */
	/* run while the next dn_request's request is served (chan.h); NULL after it */
	const struct dn_meanwhile *meanwhile;
};

int dn_call_begin(struct dn_call *c);
/*
 * The session stays as it is until dn_session_release (calls inside go on):
 * for what changes an open file description outside a call (lseek's
 * offset, F_SETFL), which a switch copying the table would otherwise miss.
 * 0, or -ENOTCONN (not attached; then nothing is held).
 */
int dn_session_hold(void);
void dn_session_release(void);
void dn_call_end(struct dn_call *c);
/*
 * For a restart (restart.c): the calling thread stops counting as in a
 * call while it waits for the others (returns what to restore), counts in
 * again once the switch is over, and takes a buffer of the new session.
 */
int dn_call_park(void);
void dn_call_unpark(int n);
bool dn_call_nested(const struct dn_call *c);
int dn_call_rebuf(struct dn_call *c);
uint8_t *dn_call_data(const struct dn_call *c);
size_t dn_call_data_max(void);
int64_t dn_request(struct dn_call *c, struct dn_req *req, const char *path, const char *path2,
		   const void *data, size_t len, struct dn_reply *rep);
/* A streamed read (DN_READ_STREAM; req carries no paths or data): see dn_chan_call_into. */
int64_t dn_request_into(struct dn_call *c, struct dn_req *req, struct dn_sink *sink,
			struct dn_reply *rep);

/* A new kernel fd for a Danaus file: the lowest free number, like open(2) gives. */
/*
 * Waiting for a lock: the pool's count of released locks, read before an
 * attempt, then a sleep until it moves (another client unlocked) or
 * timeout_ns passes. dn_chan_unlock_wait's answers.
 */
uint32_t dn_unlocks_seen(void);
int dn_unlocks_wait(uint32_t seen, uint64_t timeout_ns);

int dn_placeholder_new(bool cloexec);
/*
 * The placeholder new ones are dups of, opened again with the credentials
 * the process has now (after fork, an identity change): each Danaus fd's
 * placeholder then carries its opener's, as the kernel's file would
 * (linkat's AT_EMPTY_PATH rule is asked on it).
 */
void dn_placeholder_refresh(void);

/* Sends CLOSE for a handle whose last reference went away. */
void dn_handle_close(uint64_t handle);
/* The same, closing the kernel descriptor fd (its placeholder) while the pool closes handle. */
void dn_handle_close_with(uint64_t handle, int fd);

/* Drops fd's reference to its open file description (closing it if last). */
void dn_fd_forget(int fd, int32_t ofd);

/* The process loses all its pool files (fds and maps) without closing them:
 * their session is gone (a failed identity switch, a restart that cannot
 * carry them). */
void dn_forget_all_files(void);

/*
 * execve (search: execvpe) that keeps this process's session and Danaus fds
 * in the new image. Stack only: safe in a vfork-like child.
 */
int dn_exec(const char *file, char *const argv[], char *const envp[], bool search);

/* Session descriptors kept across exec, and the fd map passed in the environment. */
#define DN_ENV_SESSION "DANAUS_SESSION"
#define DN_ENV_FDS "DANAUS_FDS"
#define DN_ENV_DROP "DANAUS_DROP"
#define DN_ENV_CWD "DANAUS_CWD"
#define DN_ENV_REOPEN "DANAUS_REOPEN"
