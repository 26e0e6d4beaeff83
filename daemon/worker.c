/* Pool Workers: poll the sessions' request queues, then sleep on their doorbells */
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "crowd.h"
#include "dispatch.h"
#include "futex.h"
#include "idle.h"
#include "lock-wake.h"
#include "log.h"
#include "metrics.h"
#include "offload.h"
#include "queue.h"
#include "umask.h"

#define BATCH 32 /* requests taken from one queue before looking at the next */
#define SLEEP_MAX_MS 1000 /* a sleeping worker looks at every queue at least this often */
/*
 * A session that rings more than this many times a second with nothing
 * queued is muted for a second: its doorbell wakes no one, and its requests
 * are served when the worker wakes anyway (at least once a second). One
 * session's ringing cannot keep a worker busy for the others, nor burn the
 * pool's CPU (measured before: 85 % of a CPU for one ringing tenant).
 */
#define RINGS_EMPTY_MAX 16
#define MUTE_NS 1000000000ull
#define WAKE_EVENTS 32
/*
 * A slot reserved and left unfilled this long is skipped (dn_queue_skip):
 * its producer was killed between reserve and publish (stress-ng kills its
 * children mid-call), or stopped; one alive after all posts again (its
 * late publish fails, queue.h, and cannot touch the next lap's request). A
 * second: a producer only preempted on a crowded host (tens of runnable
 * threads per CPU make waits of 100 ms) would have to post again, its
 * request losing its place; the requests queued behind a killed one see a
 * hiccup, not a hang. Checked every STALL_MS meanwhile.
 */
#define STALL_NS 1000000000ull
#define STALL_MS 100

/*
 * Who answers a worker's requests. A call into the backend that outlives
 * the pool's request_timeout (a lost cluster, a hung mount under a local
 * root) is abandoned: the watchdog answers it ETIMEDOUT and starts a new
 * thread in the worker's place, so the requests queued behind it are
 * served; the stuck thread ends when its call returns. At most STUCK_MAX
 * threads may be stuck at once (each holds a thread and what its call
 * holds); beyond that the watchdog answers the worker's queues EIO itself
 * until the call returns, so no client waits without bound either way.
 */
enum worker_state {
	W_SCANNING, /* the worker owns its queues */
	W_IN_CALL,  /* the worker is in a backend call */
	W_ABANDONED, /* the watchdog answered that call and owns the queues */
	W_RETURNED, /* the abandoned call came back; the watchdog hands the queues back */
	W_REPLACED, /* the watchdog answered that call and is starting another thread */
};

#define STUCK_MAX 8

/* A thread left in a backend call: the sessions it may hold must outlive it. */
struct stuck {
	_Atomic int live;
	unsigned slot;
	uint32_t gen;
};

struct worker {
	struct dn_workers *ws;
	unsigned id;
	pthread_t thread;
	_Atomic uint64_t epoch;
	_Atomic int parked; /* sleeping on the doorbell, holding no session */
	_Atomic int state;
	_Atomic uint32_t gen; /* which thread serves this slot: + 1 at each replacement */
	uint32_t start_gen;   /* the generation of the thread being started */
	/*
	 * Calls begun: the watchdog times a call from when it first sees it
	 * under way, so the worker need not read the clock (~40 ns under KVM)
	 * on every request. It sees it at most one tick late.
	 */
	_Atomic uint64_t calls;
	uint64_t seen_calls, seen_at; /* the watchdog's own */
	_Atomic uint32_t *cpu; /* in the worker-states page: where this worker runs, + 1 */
	unsigned beside_run;   /* requests in a row from clients on this worker's CPU */
	uint64_t nudged_at;
	uint32_t left_session, left_buf; /* the client (session id, buffer) it last moved from */
	struct dn_idle idle;
	int epfd; /* the doorbells of every session this worker serves, and kick */
	int kick; /* eventfd: the pool itself wakes the worker (stop) */
	/* the request in the backend call, for the watchdog's answer */
	struct dn_session *cur_s;
	uint32_t cur_buf, cur_op;
	uint64_t cur_tag;
	/* the clock as this worker last read it: when it woke, polled, or ended a call */
	uint64_t last_ns;
	struct dn_worker_metrics metrics;
	struct dn_op_times times; /* which calls are slow lately: offload.h */
	bool stalled; /* the last scan found a reserved slot not yet skipped */
};

struct dn_workers {
	struct dn_svc *svc;
	struct dn_offload *offload; /* NULL: every request runs on its worker */
	struct dn_worker_states *states;
	unsigned n, nqueues;
	uint64_t timeout_ns;
	_Atomic(struct dn_session_set *) set;
	_Atomic int stopping;
	pthread_t watchdog;
	bool watchdog_started;
	struct stuck stuck[STUCK_MAX];
	struct dn_crowd crowd;
	struct worker w[]; /* n workers, then the watchdog's own epoch slot */
};

/* Where this worker runs, for clients on the same CPU; stored only when it moved. */
static void publish_cpu(struct worker *w)
{
	int cpu = sched_getcpu();
	uint32_t v = cpu >= 0 && cpu < UINT16_MAX ? (uint32_t)cpu + 1 : 0;
	if (atomic_load_explicit(w->cpu, memory_order_relaxed) != v)
		atomic_store_explicit(w->cpu, v, memory_order_relaxed);
}

/*
 * A worker sharing its CPU with the client it serves turns each round trip
 * into two context switches (measured on 2 CPUs: a cached stat on Ceph took
 * ~1 us with the two apart, 4-5 us together), and wake-up placement tends
 * to keep such a pair together. So: after answering a client on this CPU,
 * yield to it at once rather than spin; after NUDGE_AFTER such requests in
 * a row from a client that spun for its answer, move to another CPU this
 * thread may use, saying so in the worker state (DN_WORKER_MOVING) so that
 * the client spins on rather than sleep and be woken onto the new CPU. A
 * client that slept is not counted: its wake-up would bring it back, and a
 * move costs ~0.1-0.3 ms. Once per NUDGE_EVERY_NS, so several clients
 * cannot make it hop back and forth; but a client that came after it anyway
 * is left again after NUDGE_AGAIN_NS: in bursts of requests a second apart,
 * stat took ~2.1 us instead of ~1.2 when only one move per 10 ms was allowed.
 */
#define NUDGE_AFTER 16
#define NUDGE_EVERY_NS 10000000u
#define NUDGE_AGAIN_NS 1000000u

static void move_off_this_cpu(struct worker *w, const struct dn_session *s, uint32_t buf)
{
	uint64_t now = dn_now_ns();
	bool followed = s->id == w->left_session && buf == w->left_buf;
	if (now - w->nudged_at < (followed ? NUDGE_AGAIN_NS : NUDGE_EVERY_NS))
		return;
	w->nudged_at = now;
	w->left_session = s->id;
	w->left_buf = buf;
	cpu_set_t allowed, others;
	int cpu = sched_getcpu();
	if (cpu < 0 || sched_getaffinity(0, sizeof(allowed), &allowed) < 0 ||
	    !CPU_ISSET(cpu, &allowed) || CPU_COUNT(&allowed) < 2)
		return;
	others = allowed;
	CPU_CLR(cpu, &others);
	atomic_store_explicit(w->cpu, DN_WORKER_MOVING, memory_order_relaxed);
	/* Excluding this CPU moves the thread now; the full set again lets it stay there. */
	if (sched_setaffinity(0, sizeof(others), &others) == 0)
		sched_setaffinity(0, sizeof(allowed), &allowed);
	publish_cpu(w);
}

static void mind_the_client_cpu(struct worker *w, const struct dn_session *s,
				const struct dn_req *req, bool woke)
{
	/*
	 * In a crowd the client sleeps for its answer, and yielding to it
	 * hands this CPU round the other clients queued on it, one request
	 * per turn, while requests wait in the queues.
	 */
	if (!req->cpu || req->cpu != atomic_load_explicit(w->cpu, memory_order_relaxed) ||
	    dn_crowd_crowded(&w->ws->crowd)) {
		w->beside_run = 0;
		return;
	}
	sched_yield();
	if (woke) {
		w->beside_run = 0;
		return;
	}
	if (++w->beside_run >= NUDGE_AFTER) {
		w->beside_run = 0;
		move_off_this_cpu(w, s, req->buf);
	}
}

/*
 * Back from a call the watchdog took from this thread (generation gen):
 * true when another thread serves the slot now (this one notes that it is
 * done and must end), false when none could be started and the watchdog
 * answers the slot's queues meanwhile (W_ABANDONED).
 */
static bool left_behind(struct worker *w, uint32_t gen)
{
	for (;;) {
		if (atomic_load(&w->gen) != gen) {
			for (unsigned k = 0; k < STUCK_MAX; k++) {
				struct stuck *st = &w->ws->stuck[k];
				if (atomic_load(&st->live) && st->slot == w->id && st->gen == gen)
					atomic_store(&st->live, 0);
			}
			return true;
		}
		if (atomic_load(&w->state) == W_ABANDONED)
			return false;
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
}

enum call_result { CALL_DONE, CALL_ABANDONED, CALL_REPLACED };

/*
 * The request's metrics, for one clock read: it began when it was sent (the
 * client's clock, untrusted: it only moves the wait) or when this worker
 * last read the clock -- woken, polling, or done with the one before --
 * whichever came later; the time between is its wait in the queue.
 */
static void count(struct worker *w, const struct dn_session *s, const struct dn_req *req,
		  int64_t result)
{
	uint64_t end = dn_now_ns();
	dn_crowd_note(&w->ws->crowd, (uint64_t)s->id << 32 | (req->buf + 1u), end);
	uint64_t sent = req->sent_ns && req->sent_ns <= end ? req->sent_ns : w->last_ns;
	uint64_t start = sent > w->last_ns ? sent : w->last_ns;
	w->last_ns = end;
	dn_metrics_record(&w->metrics, req->op, result, start - sent, end - start);
	/* a client's clock can only make its call look faster: offloaded less, as before */
	dn_op_times_note(&w->times, req->op, end - start);
}

/*
 * One request. CALL_ABANDONED: the watchdog answered it because it took too
 * long, and this thread serves on; CALL_REPLACED: another thread serves this
 * slot now, and this one must end without touching it.
 */
static enum call_result call(struct worker *w, uint32_t gen, struct dn_session *s,
			     const struct dn_req *req)
{
	w->cur_s = s;
	w->cur_buf = req->buf;
	w->cur_tag = req->tag;
	w->cur_op = req->op;
	/* this worker is its only writer: no locked add on every request */
	atomic_store_explicit(&w->calls, atomic_load_explicit(&w->calls, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	atomic_store(&w->state, W_IN_CALL);
	/* a request naming no buffer is not run: counted as an error, as offload does */
	struct dn_reply rep = {.result = -EINVAL};
	bool answer = dn_dispatch_run(s, req, &rep);
	count(w, s, req, rep.result);
	int expect = W_IN_CALL;
	if (atomic_compare_exchange_strong(&w->state, &expect, W_SCANNING)) {
		if (answer)
			mind_the_client_cpu(w, s, req, dn_dispatch_reply(s, req->buf, &rep));
		if (rep.result >= 0 && dn_lock_wake_due(req))
			dn_lock_wake(&w->ws->states->pool);
		return CALL_DONE;
	}
	/*
	 * The client has its ETIMEDOUT; this late answer goes nowhere, and what
	 * it opened is dropped while s is still held (a replaced thread's
	 * record keeps it till left_behind, an abandoned one's slot till done).
	 */
	if (answer)
		dn_offload_drop_late(s, req, &rep);
	if (expect != W_ABANDONED && left_behind(w, gen))
		return CALL_REPLACED;
	atomic_store(&w->state, W_RETURNED);
	while (atomic_load(&w->state) != W_SCANNING && !atomic_load(&w->ws->stopping)) {
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	return CALL_ABANDONED;
}

static bool has_work(const struct worker *w, struct dn_session *s);

/*
 * A call whose operation was slow lately (a read on the network, an open
 * waiting on a directory's lock) goes to an offload thread when other
 * requests wait for this worker: they need not queue behind it. One with
 * nothing behind it stays here (no hand-off for a lone client, whose next
 * request cannot come before this answer), but for fsync: a request that
 * arrives while one runs must find its worker free. In a crowded pool any
 * call that may wait on the disk goes, fast lately or not: there a worker
 * is a dispatcher, and what blocks gets a thread of its own, as in the
 * kernel each caller has one.
 */
static bool offload(struct worker *w, const struct dn_session_set *set, struct dn_session *s,
		    const struct dn_req *req)
{
	/* (calls answered from a cache, the rule, look at no other session) */
	if (!w->ws->offload)
		return false;
	if (!dn_op_times_slow(&w->times, req) &&
	    !(dn_offload_may_wait(req) && dn_crowd_crowded(&w->ws->crowd)))
		return false;
	bool waiting = dn_offload_always(req);
	for (uint32_t i = 0; !waiting && i < set->n; i++)
		waiting = has_work(w, set->s[i]);
	if (!waiting || !dn_offload_take(w->ws->offload, s, req, &w->times))
		return false;
	w->last_ns = dn_now_ns();
	return true;
}

/*
 * Queue q of s holds nothing ready at its tail: whether the slot there is
 * reserved by a producer that never published it, for STALL_NS now, and was
 * given up (true: look again). Every request posted must be taken: one
 * behind a slot that no one will fill would wait for good.
 */
static bool unstall(struct worker *w, struct dn_session *s, unsigned q, struct dn_queue *queue)
{
	if (!dn_queue_stalled(queue, s->l.qdepth, s->tails[q])) {
		s->stall[q].since = 0;
		return false;
	}
	if (!dn_queue_stall_due(&s->stall[q], s->tails[q], dn_now_ns(), STALL_NS)) {
		w->stalled = true; /* a short sleep: the skip is due soon */
		return false;
	}
	if (!dn_queue_skip(queue, s->l.qdepth, &s->tails[q]))
		return true; /* published just now: pop takes it */
	if (s->skipped++ < 3) {
		struct dn_log_client c = {.session = s->id, .uid = s->cred.uid, .pid = s->pid};
		dn_log_client(LOG_WARNING, &c,
			      "worker %u: a request slot of queue %u was reserved and never "
			      "filled for %llu ms (its process killed mid-call?): skipped",
			      w->id, q, STALL_NS / 1000000ull);
	}
	return true;
}

/* Requests served; *replaced when this thread no longer serves w's slot. */
static unsigned scan(struct worker *w, uint32_t gen, bool *replaced)
{
	struct dn_workers *ws = w->ws;
	struct dn_session_set *set = atomic_load_explicit(&ws->set, memory_order_acquire);
	static _Thread_local struct dn_req req;
	unsigned done = 0;
	w->stalled = false;
	dn_dispatch_serving(&ws->set);
	for (uint32_t i = 0; set && i < set->n; i++) {
		struct dn_session *s = set->s[i];
		for (unsigned q = w->id; q < s->l.nqueues; q += ws->n) {
			struct dn_queue *queue = dn_layout_queue(&s->l, s->base, q);
			for (unsigned k = 0; k < BATCH; k++) {
				int got = dn_dispatch_take(s, q, &req);
				if (got < 0)
					continue; /* junk in the slot, dropped */
				if (!got) {
					if (unstall(w, s, q, queue))
						continue;
					break;
				}
				done++;
				if (w->id < DN_MAX_QUEUES)
					s->rings[w->id].served++;
				if (offload(w, set, s, &req))
					continue;
				enum call_result r = call(w, gen, s, &req);
				*replaced = r == CALL_REPLACED;
				if (r != CALL_DONE)
					return done; /* abandoned meanwhile: the set may be gone */
			}
		}
	}
	return done;
}

static struct dn_session *find_session(const struct dn_session_set *set, uint64_t id)
{
	for (uint32_t i = 0; set && i < set->n; i++)
		if (set->s[i]->id == id)
			return set->s[i];
	return NULL;
}

static bool has_work(const struct worker *w, struct dn_session *s)
{
	for (unsigned q = w->id; q < s->l.nqueues; q += w->ws->n)
		if (dn_queue_ready(dn_layout_queue(&s->l, s->base, q), s->l.qdepth, s->tails[q]))
			return true;
	return false;
}

static void bell_listen(struct worker *w, struct dn_session *s, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.u64 = s->id};
	epoll_ctl(w->epfd, EPOLL_CTL_MOD, s->bells[w->id], &ev);
}

/*
 * After a wake-up: a session whose rings find nothing queued, again and
 * again, is muted (RINGS_EMPTY_MAX); those whose time is up are heard again.
 * False when the wake-up brought nothing to do.
 */
static bool mind_the_rings(struct worker *w, const struct epoll_event *ev, int n, uint64_t now)
{
	const struct dn_session_set *set = atomic_load_explicit(&w->ws->set, memory_order_acquire);
	bool work = n == 0; /* a timeout: a look round is due */
	for (int i = 0; i < n; i++) {
		struct dn_session *s = ev[i].data.u64 ? find_session(set, ev[i].data.u64) : NULL;
		if (!s || w->id >= s->nbells || has_work(w, s)) {
			work = true;
			continue;
		}
		struct dn_rings *r = &s->rings[w->id];
		/*
		 * Requests served since the last wake-up: this ring came for one
		 * of them (clients ring while the worker wakes, and a busy
		 * session's last ring finds its request taken). Counting those
		 * muted a session of 34 stress-ng processes for seconds.
		 */
		if (r->served != r->heard) {
			r->heard = r->served;
			continue;
		}
		if (now - r->since > MUTE_NS) {
			r->since = now;
			r->empty = 0;
		}
		if (++r->empty > RINGS_EMPTY_MAX && !r->muted_until) {
			r->muted_until = now + MUTE_NS;
			bell_listen(w, s, 0);
			struct dn_log_client c = {.session = s->id, .uid = s->cred.uid, .pid = s->pid};
			dn_log_client(LOG_WARNING, &c,
				      "worker %u: pid %d's session rings with nothing queued; "
				      "its doorbell is muted for a second",
				      w->id, (int)s->pid);
		}
	}
	for (uint32_t i = 0; set && i < set->n; i++) {
		struct dn_session *s = set->s[i];
		if (w->id < s->nbells && s->rings[w->id].muted_until &&
		    now >= s->rings[w->id].muted_until) {
			s->rings[w->id].muted_until = 0;
			s->rings[w->id].empty = 0;
			bell_listen(w, s, EPOLLIN | EPOLLET);
		}
	}
	return work;
}

int dn_workers_watch(struct dn_workers *ws, struct dn_session *s)
{
	for (unsigned i = 0; i < ws->n && i < s->nbells; i++) {
		/* edge-triggered: every ring is an event, and none needs reading */
		struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = s->id};
		if (epoll_ctl(ws->w[i].epfd, EPOLL_CTL_ADD, s->bells[i], &ev) < 0) {
			int e = -errno;
			dn_workers_unwatch(ws, s);
			return e;
		}
	}
	return 0;
}

void dn_workers_unwatch(struct dn_workers *ws, struct dn_session *s)
{
	for (unsigned i = 0; i < ws->n && i < s->nbells; i++)
		epoll_ctl(ws->w[i].epfd, EPOLL_CTL_DEL, s->bells[i], NULL);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint32_t gen = w->start_gen; /* written before pthread_create */
	bool replaced = false;
	dn_umask_thread_init(); /* its own umask: each caller's, in turn */
	w->cpu = &w->ws->states->w[w->id].cpu;
	struct dn_workers *ws = w->ws;
	_Atomic uint32_t *sleeping = &ws->states->w[w->id].sleeping;
	/* turns: empty looks since the last request; the first one starts the clock */
	uint64_t idle_since = 0, idle_ns = 0;
	unsigned turns = 0;
	while (!atomic_load_explicit(&ws->stopping, memory_order_relaxed)) {
		atomic_fetch_add(&w->epoch, 1);
		publish_cpu(w);
		if (scan(w, gen, &replaced)) {
			if (replaced)
				return NULL;
			turns = 0;
			continue;
		}
		/* The clock on every 16th empty look only: under KVM reading it takes
		 * as long as a look, and a request arriving meanwhile waits. */
		if (turns++ % 16 == 0) {
			uint64_t now = dn_now_ns();
			w->last_ns = now;
			if (turns == 1)
				idle_since = now;
			idle_ns = now - idle_since;
		}
		/* in a crowd a polling worker takes a CPU from clients that have work */
		uint64_t poll_ns = w->idle.poll_ns;
		if (dn_crowd_crowded(&ws->crowd) && poll_ns > w->idle.base_ns)
			poll_ns = w->idle.base_ns;
		if (idle_ns < poll_ns) {
			dn_spin_turn(idle_ns);
			continue;
		}
		/* Announce the sleep, then look once more: a client that rang before
		 * seeing `sleeping` left its request where this scan finds it. */
		atomic_store(sleeping, 1);
		atomic_thread_fence(memory_order_seq_cst);
		atomic_fetch_add(&w->epoch, 1);
		if (scan(w, gen, &replaced) || atomic_load(&ws->stopping)) {
			if (replaced)
				return NULL;
			atomic_store(sleeping, 0);
			turns = 0;
			continue;
		}
		atomic_store(&w->parked, 1);
		/* Bounded: a muted session is served at these wake-ups. */
		uint64_t slept_from = dn_now_ns();
		struct epoll_event ev[WAKE_EVENTS];
		int n = epoll_wait(w->epfd, ev, WAKE_EVENTS, w->stalled ? STALL_MS : SLEEP_MAX_MS);
		atomic_store(&w->parked, 0);
		atomic_store(sleeping, 0);
		uint64_t now = dn_now_ns();
		w->last_ns = now;
		/* after parked = 0: the sessions looked up now stay until the next epoch */
		atomic_fetch_add(&w->epoch, 1);
		if (mind_the_rings(w, ev, n > 0 ? n : 0, now)) {
			dn_idle_slept(&w->idle, now - slept_from);
			turns = 0;
		} else {
			/* an empty ring: back to sleep after one look, no polling round */
			idle_ns = w->idle.poll_ns;
			turns = 1;
		}
	}
	return NULL;
}

/* Answers whatever waits in w's queues with EIO, while w's call hangs. */
static void drain(struct dn_workers *ws, struct worker *w)
{
	struct dn_session_set *set = atomic_load_explicit(&ws->set, memory_order_acquire);
	struct dn_req req;
	for (uint32_t i = 0; set && i < set->n; i++) {
		struct dn_session *s = set->s[i];
		for (unsigned q = w->id; q < s->l.nqueues; q += ws->n) {
			int got;
			while ((got = dn_dispatch_take(s, q, &req)) != 0) {
				struct dn_reply rep = {.tag = req.tag, .result = -EIO};
				if (got > 0)
					dn_dispatch_reply(s, req.buf, &rep);
			}
		}
	}
}

/* A free record for a stuck thread, or -1: STUCK_MAX are stuck already. */
static int stuck_slot(struct dn_workers *ws)
{
	for (int k = 0; k < STUCK_MAX; k++)
		if (!atomic_load(&ws->stuck[k].live))
			return k;
	return -1;
}

static void *worker_main(void *arg);

/*
 * w's thread is stuck in a call (state W_REPLACED): note it in record k, and
 * start another thread in its slot. The stuck one ends when its call returns.
 */
static int replace(struct dn_workers *ws, struct worker *w, int k)
{
	struct stuck *st = &ws->stuck[k];
	uint32_t gen = atomic_load(&w->gen);
	st->slot = w->id;
	st->gen = gen;
	atomic_store(&st->live, 1);
	pthread_t old = w->thread;
	w->start_gen = gen + 1;
	w->beside_run = 0;
	atomic_store(&w->parked, 0);
	int r = pthread_create(&w->thread, NULL, worker_main, w);
	if (r) {
		/* No thread: the slot waits for the stuck one, its queue answered EIO. */
		dn_log_error("cannot start a thread in place of a stuck worker: %s", strerror(r));
		w->thread = old;
		atomic_store(&st->live, 0);
		return -r;
	}
	pthread_detach(old);
	/* The new thread may be in a call already: only a W_REPLACED slot is reset. */
	int expect = W_REPLACED;
	atomic_compare_exchange_strong(&w->state, &expect, W_SCANNING);
	atomic_store(&w->gen, gen + 1); /* the stuck thread may now end */
	return 0;
}

static void *watchdog_main(void *arg)
{
	struct dn_workers *ws = arg;
	struct worker *self = &ws->w[ws->n];
	while (!atomic_load(&ws->stopping)) {
		atomic_store(&self->parked, 0);
		atomic_fetch_add(&self->epoch, 1);
		uint64_t now = dn_now_ns();
		for (unsigned i = 0; i < ws->n; i++) {
			struct worker *w = &ws->w[i];
			int expect = W_IN_CALL;
			/* state before calls: a call seen under way is counted in calls */
			bool in_call = atomic_load(&w->state) == W_IN_CALL;
			uint64_t calls = atomic_load(&w->calls);
			if (calls != w->seen_calls) {
				w->seen_calls = calls;
				w->seen_at = now;
			}
			int k = in_call && now - w->seen_at > ws->timeout_ns ? stuck_slot(ws) : -1;
			int to = k >= 0 ? W_REPLACED : W_ABANDONED;
			if (in_call && now - w->seen_at > ws->timeout_ns &&
			    atomic_compare_exchange_strong(&w->state, &expect, to)) {
				/* A late backend write may still land in that buffer: retire it. */
				struct dn_reply rep = {.tag = w->cur_tag, .result = -ETIMEDOUT,
						       .flags = DN_REPLY_RETIRE_BUFFER};
				dn_dispatch_reply(w->cur_s, w->cur_buf, &rep);
				char op[16];
				struct dn_log_client c = {.session = w->cur_s->id,
							  .uid = w->cur_s->cred.uid,
							  .pid = w->cur_s->pid};
				if (to == W_REPLACED && replace(ws, w, k) == 0) {
					dn_log_client(LOG_WARNING, &c,
						      "worker %u: a %s request has run for more than "
						      "%llu s: answered ETIMEDOUT; a new thread serves "
						      "its queue",
						      i, dn_metrics_op_name(w->cur_op, op),
						      (unsigned long long)(ws->timeout_ns / 1000000000u));
				} else {
					atomic_store(&w->state, W_ABANDONED);
					dn_log_client(LOG_WARNING, &c,
						      "worker %u: a %s request has run for more than "
						      "%llu s: answered ETIMEDOUT, and EIO to its queue "
						      "until it returns (%d threads are stuck already)",
						      i, dn_metrics_op_name(w->cur_op, op),
						      (unsigned long long)(ws->timeout_ns / 1000000000u),
						      STUCK_MAX);
				}
			}
			int st = atomic_load(&w->state);
			if (st == W_ABANDONED || st == W_RETURNED)
				drain(ws, w);
			if (st == W_RETURNED) {
				atomic_store(&w->state, W_SCANNING);
				dn_log_info("worker %u: the abandoned request returned; serving again", i);
			}
		}
		bool busy = dn_offload_watch(ws->offload, now, ws->timeout_ns) > 0;
		atomic_store(&self->parked, 1);
		/* Ticks often only while a call is under way: an idle pool stays idle. */
		for (unsigned i = 0; i < ws->n; i++)
			busy |= atomic_load(&ws->w[i].state) != W_SCANNING;
		struct timespec ts = busy ? (struct timespec){0, 100000000} : (struct timespec){1, 0};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

void dn_workers_metrics(const struct dn_workers *ws, struct dn_worker_metrics *sum, uint64_t *busy,
			unsigned n)
{
	for (unsigned i = 0; i < ws->n; i++) {
		dn_metrics_sum(sum, &ws->w[i].metrics);
		if (i < n)
			busy[i] = atomic_load_explicit(&ws->w[i].metrics.busy_ns, memory_order_relaxed);
	}
	dn_offload_metrics(ws->offload, sum);
}

void dn_workers_queued(struct dn_workers *ws, uint64_t *waiting, unsigned nqueues)
{
	const struct dn_session_set *set = atomic_load_explicit(&ws->set, memory_order_acquire);
	for (uint32_t i = 0; set && i < set->n; i++) {
		const struct dn_session *s = set->s[i];
		for (unsigned q = 0; q < s->l.nqueues && q < nqueues; q++)
			waiting[q] += dn_queue_waiting(dn_layout_queue(&s->l, s->base, q), s->l.qdepth);
	}
}

struct dn_workers *dn_workers_start(struct dn_svc *svc, struct dn_worker_states *states,
				    unsigned n, unsigned nqueues, unsigned offload_threads,
				    uint64_t poll_ns, uint64_t poll_max_ns, uint64_t timeout_ns)
{
	struct dn_workers *ws = calloc(1, sizeof(*ws) + (n + 1) * sizeof(struct worker));
	if (!ws)
		return NULL;
	/*
	 * Half of them for one session at most: another session finds some
	 * free. Without read threads (a local pool, whose reads come from
	 * the page cache), eight per worker for calls that wait on a disk.
	 */
	unsigned threads = offload_threads ? offload_threads : 8 * n;
	if (dn_offload_new(threads, threads / 2, &ws->offload) < 0) {
		free(ws);
		return NULL;
	}
	ws->svc = svc;
	ws->states = states;
	ws->n = n;
	ws->nqueues = nqueues;
	ws->timeout_ns = timeout_ns;
	cpu_set_t cpus;
	unsigned ncpus = sched_getaffinity(0, sizeof(cpus), &cpus) == 0 ? (unsigned)CPU_COUNT(&cpus) : 1;
	dn_crowd_init(&ws->crowd, &states->pool, ncpus, n);
	atomic_store(&ws->w[n].parked, 1);
	for (unsigned i = 0; i < n; i++) {
		ws->w[i].epfd = ws->w[i].kick = -1;
	}
	for (unsigned i = 0; i < n; i++) {
		ws->w[i].ws = ws;
		ws->w[i].id = i;
		dn_idle_init(&ws->w[i].idle, poll_ns, poll_max_ns);
		ws->w[i].epfd = epoll_create1(EPOLL_CLOEXEC);
		ws->w[i].kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = 0};
		int r = ws->w[i].epfd < 0 || ws->w[i].kick < 0 ||
				epoll_ctl(ws->w[i].epfd, EPOLL_CTL_ADD, ws->w[i].kick, &ev) < 0
			? errno
			: pthread_create(&ws->w[i].thread, NULL, worker_main, &ws->w[i]);
		if (r) {
			dn_log_error("cannot start worker %u: %s", i, strerror(r));
			ws->n = i;
			dn_workers_stop(ws);
			return NULL;
		}
	}
	ws->w[n].ws = ws;
	ws->w[n].id = n;
	int r = pthread_create(&ws->watchdog, NULL, watchdog_main, ws);
	if (r) {
		dn_log_error("cannot start the request watchdog: %s", strerror(r));
		dn_workers_stop(ws);
		return NULL;
	}
	ws->watchdog_started = true;
	return ws;
}

bool dn_workers_stop(struct dn_workers *ws)
{
	if (!ws)
		return true;
	atomic_store(&ws->stopping, 1);
	for (unsigned i = 0; i < ws->n; i++) {
		uint64_t one = 1;
		ssize_t k = write(ws->w[i].kick, &one, sizeof(one));
		(void)k; /* EAGAIN: a full counter wakes it as well */
	}
	if (ws->watchdog_started)
		pthread_join(ws->watchdog, NULL);
	/* A worker stuck in a backend call may never return: wait a while, not forever. */
	bool all = true;
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 5;
	for (unsigned i = 0; i < ws->n; i++)
		if (pthread_timedjoin_np(ws->w[i].thread, NULL, &deadline) != 0)
			all = false;
	/* Threads left in calls (replaced) are still in the backend, too. */
	for (unsigned k = 0; k < STUCK_MAX; k++)
		if (atomic_load(&ws->stuck[k].live))
			all = false;
	if (!all) {
		dn_log_warning("a worker is stuck in a backend call; exiting without it");
		return false; /* what it may still touch stays allocated */
	}
	if (!dn_offload_free(ws->offload))
		return false;
	for (unsigned i = 0; i < ws->n; i++) {
		close(ws->w[i].epfd);
		close(ws->w[i].kick);
	}
	free(atomic_load(&ws->set));
	free(ws);
	return true;
}

struct dn_session_set *dn_workers_publish(struct dn_workers *ws, struct dn_session_set *set)
{
	return atomic_exchange_explicit(&ws->set, set, memory_order_acq_rel);
}

/* The watchdog reads sessions too: its slot (n) counts like a worker's. */
void dn_workers_snapshot(struct dn_workers *ws, uint64_t *epochs)
{
	for (unsigned i = 0; i <= ws->n; i++)
		epochs[i] = atomic_load(&ws->w[i].epoch);
}

int dn_workers_quiesced(struct dn_workers *ws, const uint64_t *epochs)
{
	/* A stuck thread may hold any session it saw: nothing is freed until it ends. */
	for (unsigned k = 0; k < STUCK_MAX; k++)
		if (atomic_load(&ws->stuck[k].live))
			return 0;
	for (unsigned i = 0; i <= ws->n; i++)
		if (atomic_load(&ws->w[i].epoch) == epochs[i] && !atomic_load(&ws->w[i].parked))
			return 0;
	return 1;
}
