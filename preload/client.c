/* Preload Client: this process's pool, its session and the per-thread request buffer */
#include "client.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cdi-guard.h"
#include "dn-paths.h"
#include "mmap.h"
#include "mounts.h"
#include "path.h"
#include "real.h"
#include "read-cache.h"
#include "reopen.h"
#include "restart.h"

struct dn_client dn_client = {
	.placeholder = -1,
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

/* initial-exec: no allocation and no lock on first touch, so signal handlers may use it */
static __thread struct {
	int buf; /* request buffer index + 1; 0 = none yet */
	int depth;
	uint32_t gen; /* the session (dn_client.session_gen) buf belongs to */
} tls __attribute__((tls_model("initial-exec")));

static __thread struct dn_thread_calls calls __attribute__((tls_model("initial-exec")));
/* This thread is making a switch (dn_switch_begin): what it calls meanwhile goes on. */
static __thread int switcher __attribute__((tls_model("initial-exec")));

static pthread_key_t buf_key;
static bool buf_key_made;

/* dn_client.threads: taken alone, never with another lock taken after it */
static pthread_mutex_t threads_lock = PTHREAD_MUTEX_INITIALIZER;

static void warn_once(int err, const char *msg)
{
	static _Atomic int said;
	if (atomic_exchange(&said, 1) == 0)
		fprintf(stderr, "libdanaus: pool '%s': %s\n", dn_client.pool, msg);
	(void)err;
}

void dn_fd_keep_high(int *fd, void *arg)
{
	(void)arg;
	*fd = dn_fd_move_high(*fd);
}

int dn_fd_move_high(int fd)
{
	struct rlimit rl;
	int floor = 900;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1024)
		floor = rl.rlim_cur > 64 ? (int)rl.rlim_cur - 32 : 3;
	int nfd = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, floor);
	if (nfd < 0)
		return fd;
	REAL(close)(fd);
	return nfd;
}

/* The calling thread ends: its buffer goes back, and a switch no longer waits for it. */
static void buf_release(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&dn_client.lock);
	if (tls.buf > 0 && atomic_load(&dn_client.attached) &&
	    tls.gen == atomic_load(&dn_client.session_gen))
		dn_chan_buf_release(&dn_client.chan, (uint32_t)(tls.buf - 1));
	tls.buf = 0;
	if (atomic_load(&calls.listed) == 2) {
		pthread_mutex_lock(&threads_lock);
		for (struct dn_thread_calls **it = &dn_client.threads; *it; it = &(*it)->next)
			if (*it == &calls) {
				*it = calls.next;
				break;
			}
		pthread_mutex_unlock(&threads_lock);
		atomic_store(&calls.listed, 0);
	}
	pthread_mutex_unlock(&dn_client.lock);
}

/*
 * A set*id of another thread is under way (dn_client.changing) while this
 * call waits for the switch that follows it. The kernel serves a system
 * call with the credentials its thread has as it enters: a thread the
 * change has not reached yet is served by the old session at once, which
 * is exactly its rights (the switch waits for the call before it moves
 * anything: dn_switch_lock). One the change has reached waits for the new
 * session: that is short, but for a call made by a signal handler nested
 * in glibc's SIGSETXID handler, which the set*id waits for. Such a call
 * (stuck two seconds in one set*id, its own, not another's) answers
 * -ENOTCONN: never the old session's rights, never a hang.
 */
#define CHANGE_STUCK_NS 2000000000ull /* far longer than a set*id takes, even under load */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * 0: counted in, served by the old session; -EAGAIN: wait on; -ENOTCONN:
 * stuck. *change and *since: the set*id this call found itself waiting
 * for, and since when (a call may wait through several).
 */
static int enter_while_changing(uint32_t *change, uint64_t *since)
{
	/* counted in first: a switch that begins now waits for us (dn_switch_lock) */
	atomic_fetch_add(&calls.n, 1); /* seq_cst against relocating */
	if (!atomic_load(&dn_client.changing) || atomic_load(&dn_client.relocating)) {
		atomic_fetch_sub(&calls.n, 1);
		return -EAGAIN; /* no change, or a switch is moving the session: wait */
	}
	/* dn_client.ident stays as it is while nothing relocates */
	struct dn_ident me;
	dn_ident_read(&me);
	if (dn_ident_same(&me, &dn_client.ident)) {
		atomic_fetch_add_explicit(&calls.held, 1, memory_order_relaxed);
		return 0;
	}
	atomic_fetch_sub(&calls.n, 1);
	uint32_t seq = atomic_load(&dn_client.change_seq);
	uint64_t now = now_ns();
	if (seq != *change || !*since) {
		*change = seq;
		*since = now;
	}
	return now - *since > CHANGE_STUCK_NS ? -ENOTCONN : -EAGAIN;
}

/* Lists this thread, signals blocked: a handler's call never finds it half listed. */
static void calls_list(void)
{
	sigset_t all, was;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &was);
	atomic_store(&calls.listed, 1);
	pthread_mutex_lock(&threads_lock);
	calls.next = dn_client.threads;
	dn_client.threads = &calls;
	pthread_mutex_unlock(&threads_lock);
	atomic_store(&calls.listed, 2);
	pthread_sigmask(SIG_SETMASK, &was, NULL);
	/* listed: off the list again when the thread ends (buf_release), whatever it called */
	if (buf_key_made)
		pthread_setspecific(buf_key, (void *)1);
}

/*
 * Counts this thread's call in; waits out a switch of the session in
 * progress. A call of a thread already counted in (a signal handler's, or
 * one inside a dn_session_hold) goes on at once: the switch is waiting for
 * this thread, so it has not begun, and waiting here would wait for
 * ourselves. -ENOTCONN in the one case that can neither wait nor go on: a
 * handler that interrupted this thread between counting in and looking.
 */
static int calls_enter(void)
{
	if (atomic_load(&calls.listed) != 2) {
		/* (1 only in glibc's own handlers, which make no call of ours) */
		if (atomic_load(&calls.listed) == 1)
			return -ENOTCONN;
		calls_list();
	}
	/*
	 * (The switch's own thread: what it calls through the library, say a
	 * munmap of the old session's memory, must not wait for the switch.)
	 */
	if (atomic_load_explicit(&calls.held, memory_order_relaxed) > 0 || switcher) {
		atomic_fetch_add(&calls.n, 1);
		atomic_fetch_add_explicit(&calls.held, 1, memory_order_relaxed);
		return 0;
	}
	for (;;) {
		atomic_fetch_add(&calls.n, 1); /* seq_cst: seen by the switcher, or it seen by us */
		if (!atomic_load(&dn_client.switching)) {
			atomic_fetch_add_explicit(&calls.held, 1, memory_order_relaxed);
			return 0;
		}
		if (atomic_fetch_sub(&calls.n, 1) > 1)
			return -ENOTCONN; /* the interrupted entry still counts: the switch waits for it */
		/* a restart may wait seconds for its pool: sleep rather than spin then */
		uint32_t change = 0; /* the set*id this call cannot enter under, since when */
		uint64_t since = 0;
		for (unsigned spins = 0; atomic_load(&dn_client.switching); spins++) {
			if (spins < 1000)
				sched_yield();
			else
				nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
			if (!atomic_load(&dn_client.changing))
				continue;
			int r = enter_while_changing(&change, &since);
			if (r != -EAGAIN)
				return r;
		}
	}
}

static void calls_leave(void)
{
	atomic_fetch_sub_explicit(&calls.held, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&calls.n, 1, memory_order_release);
}

int dn_session_hold(void)
{
	if (!atomic_load_explicit(&dn_client.attached, memory_order_acquire))
		return -ENOTCONN;
	return calls_enter();
}

void dn_session_release(void)
{
	calls_leave();
}

int dn_call_park(void)
{
	atomic_store_explicit(&calls.held, 0, memory_order_relaxed);
	return atomic_exchange(&calls.n, 0);
}

void dn_call_unpark(int n)
{
	while (calls_enter() < 0) /* (not nested: a nested call does not park) */
		sched_yield();
	atomic_fetch_add(&calls.n, n - 1);
	atomic_fetch_add_explicit(&calls.held, n - 1, memory_order_relaxed);
}

bool dn_call_nested(const struct dn_call *c)
{
	return c->temporary || tls.depth > 1;
}

int dn_call_rebuf(struct dn_call *c)
{
	uint32_t gen = atomic_load(&dn_client.session_gen);
	int b = dn_chan_buf_claim(&dn_client.chan, (int32_t)syscall(SYS_gettid));
	if (b < 0)
		return -EAGAIN;
	c->buf = (uint32_t)b;
	c->gen = gen;
	if (!c->temporary) {
		tls.buf = b + 1;
		tls.gen = gen;
		pthread_setspecific(buf_key, (void *)1);
	}
	return 0;
}

void dn_calls_wait_others(void)
{
	pthread_mutex_lock(&threads_lock);
	for (struct dn_thread_calls *t = dn_client.threads; t; t = t->next)
		while (t != &calls && atomic_load(&t->n) > 0)
			sched_yield();
	pthread_mutex_unlock(&threads_lock);
}

void dn_switch_hold(void)
{
	switcher++;
	atomic_fetch_add(&dn_client.switching, 1);
	dn_calls_wait_others();
}

void dn_switch_lock(void)
{
	/*
	 * The calls in flight are waited out before any lock is taken: one
	 * may be a signal handler's munmap of a copied map, which takes the
	 * maps' lock; a fork takes that and then dn_client.lock. Whoever
	 * holds the maps' lock to make calls holds the session too (mmap.c),
	 * so it is free once they are out; none comes in again meanwhile
	 * (but those let in while a set*id was under way: waited out here).
	 */
	atomic_fetch_add(&dn_client.relocating, 1); /* seq_cst: enter_while_changing */
	dn_calls_wait_others();
	dn_mmap_lock();
	pthread_mutex_lock(&dn_client.lock);
}

void dn_switch_begin(void)
{
	dn_switch_hold();
	dn_switch_lock();
}

void dn_switch_end(void)
{
	pthread_mutex_unlock(&dn_client.lock);
	atomic_fetch_sub(&dn_client.relocating, 1);
	atomic_fetch_sub(&dn_client.switching, 1);
	dn_mmap_unlock();
	switcher--;
}

void dn_calls_forget_others(void)
{
	/* A fork child: the parent's other threads do not exist here. */
	threads_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	dn_client.threads = atomic_load(&calls.listed) == 2 ? &calls : NULL;
	calls.next = NULL;
}

static int placeholder_open(void)
{
	int fd = REAL(open)("/dev/null", O_PATH | O_CLOEXEC);
	return fd < 0 ? -errno : dn_fd_move_high(fd);
}

int dn_attach_finish(void)
{
	if (dn_client.placeholder < 0) {
		dn_client.placeholder = placeholder_open();
		if (dn_client.placeholder < 0)
			return dn_client.placeholder;
	}
	if (!buf_key_made && pthread_key_create(&buf_key, buf_release) == 0)
		buf_key_made = true;
	const char *spin = getenv("DANAUS_SPIN_US");
	if (spin)
		dn_client.chan.spin_ns = strtoull(spin, NULL, 10) * 1000u;
	dn_restart_configure();
	dn_mounts_bind();
	atomic_store(&dn_client.attached, 1);
	return 0;
}

int dn_attach(void)
{
	if (atomic_load_explicit(&dn_client.attached, memory_order_acquire))
		return 0;
	if (!dn_client.configured)
		return -ENOENT;
	const char *refusal = dn_cdi_guard_refusal();
	if (refusal) {
		static _Atomic int said;
		if (atomic_exchange(&said, 1) == 0)
			fprintf(stderr, "libdanaus: %s\n", refusal);
		return -ENOTCONN;
	}
	pthread_mutex_lock(&dn_client.lock);
	int r = 0;
	if (!atomic_load(&dn_client.attached)) {
		char msg[DN_MSG_MAX + 128];
		/* The session acts as who connects: remember who that was. */
		dn_ident_read(&dn_client.ident);
		r = dn_chan_connect(&dn_client.chan, dn_client.socket_path, msg, sizeof(msg));
		if (r == 0) {
			dn_chan_each_fd(&dn_client.chan, dn_fd_keep_high, NULL);
			r = dn_attach_finish();
		} else {
			warn_once(r, msg);
			/* An unreachable pool reads as a storage fault, not as a missing file;
			 * a refusal (access, or the uid's sessions all taken) as itself. */
			if (r != -EACCES && r != -EPERM && r != -EMFILE)
				r = -ENOTCONN;
		}
	}
	pthread_mutex_unlock(&dn_client.lock);
	return r;
}

size_t dn_call_data_max(void)
{
	return dn_buf_data_size(&dn_client.chan.l);
}

uint8_t *dn_call_data(const struct dn_call *c)
{
	return dn_chan_data(&dn_client.chan, c->buf);
}

int dn_call_begin(struct dn_call *c)
{
	c->meanwhile = NULL;
	int r = dn_attach();
	if (r < 0)
		return r;
	if ((r = calls_enter()) < 0)
		return r;
	uint32_t gen = atomic_load_explicit(&dn_client.session_gen, memory_order_acquire);
	if (tls.gen != gen) {
		/* the process moved to a new session: the old one's buffer is gone */
		tls.buf = 0;
		tls.gen = gen;
	}
	c->gen = gen;
	if (!atomic_load(&dn_client.attached)) {
		calls_leave(); /* detached by a failed switch meanwhile */
		return -ENOTCONN;
	}
	if (tls.depth++ == 0) {
		if (tls.buf <= 0) {
			int b = dn_chan_buf_claim(&dn_client.chan, (int32_t)syscall(SYS_gettid));
			if (b < 0) {
				tls.depth--;
				calls_leave();
				return -EAGAIN;
			}
			tls.buf = b + 1;
			pthread_setspecific(buf_key, (void *)1);
		}
		c->buf = (uint32_t)(tls.buf - 1);
		c->temporary = false;
		return 0;
	}
	int b = dn_chan_buf_claim(&dn_client.chan, (int32_t)syscall(SYS_gettid));
	if (b < 0) {
		tls.depth--;
		calls_leave();
		return -EAGAIN;
	}
	c->buf = (uint32_t)b;
	c->temporary = true;
	return 0;
}

void dn_call_end(struct dn_call *c)
{
	/* A retired buffer is left as it is; the thread takes another next time. */
	bool retired = atomic_load(&dn_chan_buf(&dn_client.chan, c->buf)->state) == DN_BUF_RETIRED;
	if (c->temporary && !retired)
		dn_chan_buf_release(&dn_client.chan, c->buf);
	else if (!c->temporary && retired)
		tls.buf = 0;
	tls.depth--;
	calls_leave();
}

int64_t dn_request(struct dn_call *c, struct dn_req *req, const char *path, const char *path2,
		   const void *data, size_t len, struct dn_reply *rep)
{
	if (req->handle == DN_HANDLE_STALE)
		return -ESTALE; /* its file was not there as it was after a pool restart */
	if (path && path[0] == '/' && (req->mount >= dn_client.nmounts ||
				       !dn_client.mounts[req->mount].served))
		return -ENOENT; /* an instance the pool does not give this session */
	int r = dn_req_payload(&dn_client.chan, c->buf, req, path, path2, data, len);
	if (r < 0)
		return r;
	int64_t res = dn_chan_call_meanwhile(&dn_client.chan, c->buf, req, rep, c->meanwhile);
	c->meanwhile = NULL;
	return res == -ENOTCONN ? dn_restart_retry(c, req, rep, NULL) : res;
}

int64_t dn_request_into(struct dn_call *c, struct dn_req *req, struct dn_sink *sink,
			struct dn_reply *rep)
{
	if (req->handle == DN_HANDLE_STALE)
		return -ESTALE;
	int64_t res = dn_chan_call_into(&dn_client.chan, c->buf, req, rep, sink);
	return res == -ENOTCONN ? dn_restart_retry(c, req, rep, sink) : res;
}

uint32_t dn_unlocks_seen(void)
{
	if (!atomic_load_explicit(&dn_client.attached, memory_order_acquire))
		return 0;
	if (calls_enter() < 0) /* the session's maps stay while this thread is counted in */
		return 0;
	uint32_t seen = dn_chan_unlocks(&dn_client.chan);
	calls_leave();
	return seen;
}

int dn_unlocks_wait(uint32_t seen, uint64_t timeout_ns)
{
	/*
	 * Not counted in: a switch of the session must not wait out a lock
	 * wait. A page unmapped meanwhile fails the futex with EFAULT, and
	 * the caller tries again at once.
	 */
	return dn_chan_unlock_wait(&dn_client.chan, seen, timeout_ns);
}

void dn_placeholder_refresh(void)
{
	if (dn_client.placeholder < 0)
		return;
	int saved = errno;
	int fd = REAL(open)("/dev/null", O_PATH | O_CLOEXEC);
	if (fd >= 0) {
		REAL(dup3)(fd, dn_client.placeholder, O_CLOEXEC); /* its number stays ours */
		REAL(close)(fd);
	}
	errno = saved;
}

int dn_placeholder_new(bool cloexec)
{
	int fd = REAL(fcntl)(dn_client.placeholder, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
	return fd < 0 ? -errno : fd;
}

void dn_handle_close(uint64_t handle)
{
	struct dn_call c;
	if (dn_call_begin(&c) < 0)
		return;
	struct dn_req req = {.op = DN_OP_CLOSE, .handle = handle};
	struct dn_reply rep;
	dn_request(&c, &req, NULL, NULL, NULL, 0, &rep);
	dn_call_end(&c);
}

struct fd_to_close {
	int fd;
	bool closed;
};

static void close_meanwhile(void *arg)
{
	struct fd_to_close *t = arg;
	REAL(close)(t->fd);
	t->closed = true;
}

void dn_handle_close_with(uint64_t handle, int fd)
{
	struct fd_to_close t = {.fd = fd};
	struct dn_meanwhile mw = {close_meanwhile, &t};
	struct dn_call c;
	if (dn_call_begin(&c) == 0) {
		struct dn_req req = {.op = DN_OP_CLOSE, .handle = handle};
		struct dn_reply rep;
		c.meanwhile = &mw;
		dn_request(&c, &req, NULL, NULL, NULL, 0, &rep);
		dn_call_end(&c);
	}
	if (!t.closed)
		REAL(close)(fd);
}

void dn_fd_forget(int fd, int32_t ofd)
{
	dn_fdmap_set(fd, -1);
	dn_read_cache_forget(ofd);
	struct dn_ofd *t = dn_ofds();
	uint64_t handle = t[ofd].handle;
	if (dn_ofd_unref(t, dn_client.chan.l.nofds, ofd))
		dn_handle_close(handle);
}

void dn_thread_release_buffer(void)
{
	buf_release(NULL);
}

void dn_thread_forget_buffer(void)
{
	tls.buf = 0;
	tls.depth = 0;
}

void dn_host_cwd_changed(void)
{
	atomic_store(&dn_client.cwd_in_mount, false);
	bool above = false;
	pthread_mutex_lock(&dn_client.lock);
	if (REAL(getcwd)(dn_client.host_cwd, sizeof(dn_client.host_cwd))) {
		above = dn_mount_below(dn_client.host_cwd, strlen(dn_client.host_cwd));
	} else {
		dn_client.host_cwd[0] = 0;
	}
	atomic_store(&dn_client.cwd_above_mount, above);
	pthread_mutex_unlock(&dn_client.lock);
}

static void forget_fd(int fd, int32_t ofd, void *arg)
{
	(void)ofd;
	(void)arg;
	dn_fdmap_set(fd, -1);
}

static int32_t forget_map(int32_t ofd, void *arg)
{
	(void)ofd;
	(void)arg;
	return -1;
}

void dn_forget_all_files(void)
{
	dn_fdmap_each(forget_fd, NULL);
	dn_mmap_rebase_ofds(forget_map, NULL);
}
