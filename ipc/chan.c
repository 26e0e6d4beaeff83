/* Client Channel: a process's attachment to its pool and the request round trip */
#include "chan.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "futex.h"
#include "handshake.h"
#include "queue.h"
#include "spin.h"

#define SLEEP_SLICE_NS 200000000ull /* how often a sleeping client checks the service is alive */

static int chan_map(struct dn_chan *c)
{
	int r = dn_session_shm_map(c->shm_fd, &c->l, &c->base);
	if (r < 0)
		return r;
	r = dn_worker_states_map(c->state_fd, &c->states);
	if (r == 0 && c->nbells != ((const struct dn_shm_header *)c->base)->nworkers)
		r = -EPROTO; /* a doorbell for each worker */
	if (r < 0) {
		if (c->states)
			munmap((void *)c->states, sizeof(*c->states));
		c->states = NULL;
		munmap(c->base, c->l.total_size);
		c->base = NULL;
		return r;
	}
	const struct dn_shm_header *h = c->base;
	c->nworkers = h->nworkers ? h->nworkers : 1;
	c->uid = h->uid;
	c->gid = h->gid;
	c->session = h->session;
	c->ngroups = h->ngroups < DN_IDENT_GROUPS_MAX ? h->ngroups : DN_IDENT_GROUPS_MAX;
	memcpy(c->groups, h->groups, c->ngroups * sizeof(uint32_t));
	c->caps = h->caps;
	memcpy(c->token, h->token, sizeof(c->token));
	c->flags = h->flags;
	c->nmounts = h->nmounts >= 1 && h->nmounts <= DN_MOUNTS_MAX ? h->nmounts : 1;
	memset(c->mounts, 0, sizeof(c->mounts));
	for (uint32_t i = 0; i < c->nmounts; i++) {
		memcpy(c->mounts[i], h->mounts[i], DN_MOUNT_MAX);
		c->mounts[i][DN_MOUNT_MAX - 1] = 0;
	}
	atomic_store(&c->dead, 0);
	if (!c->spin_ns)
		c->spin_ns = 20000;
	return 0;
}

int dn_chan_connect(struct dn_chan *c, const char *path, char *msg, size_t msglen)
{
	return dn_chan_connect_within(c, path, msg, msglen, 0);
}

/*
 * Bounds the wait for the welcome (0: none): a socket unit holds a
 * connection until its service accepts it, which a failing one never does.
 */
static int welcome_timeout(int sock, uint64_t ns)
{
	struct timeval tv = {.tv_sec = (time_t)(ns / 1000000000u),
			     .tv_usec = (suseconds_t)(ns % 1000000000u / 1000u)};
	if (ns && !tv.tv_sec && !tv.tv_usec)
		tv.tv_usec = 1;
	return setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ? -errno : 0;
}

/* what every attach of this process asks for (dn_chan_set_container) */
static struct {
	uint32_t flags;
	char name[DN_CONTAINER_NAME_MAX + 4];
	char image[DN_HELLO_IMAGE_MAX];
} container;

int dn_chan_set_container(const char *name, const char *image, bool rm)
{
	if (!name || !*name) {
		memset(&container, 0, sizeof(container));
		return 0;
	}
	if (!image)
		image = ""; /* the pool answers that one is needed */
	if (strlen(name) > DN_CONTAINER_NAME_MAX || strlen(image) >= DN_HELLO_IMAGE_MAX)
		return -ENAMETOOLONG;
	snprintf(container.name, sizeof(container.name), "%s", name);
	snprintf(container.image, sizeof(container.image), "%s", image);
	container.flags = rm ? DN_HELLO_CONTAINER_RM : 0;
	return 0;
}

int dn_chan_connect_within(struct dn_chan *c, const char *path, char *msg, size_t msglen,
			   uint64_t timeout_ns)
{
	memset(c, 0, sizeof(*c));
	c->sock = c->shm_fd = c->state_fd = -1;
	int sock = dn_socket_connect(path);
	if (sock < 0) {
		snprintf(msg, msglen, "cannot connect to %s: %s", path, strerror(-sock));
		return sock;
	}
	struct dn_hello hello = {.magic = DN_PROTO_MAGIC, .version = DN_PROTO_VERSION,
				 .flags = container.flags};
	memcpy(hello.container, container.name, sizeof(hello.container));
	memcpy(hello.image, container.image, sizeof(hello.image));
	int r = timeout_ns ? welcome_timeout(sock, timeout_ns) : 0;
	if (r == 0)
		r = dn_msg_send(sock, &hello, sizeof(hello), NULL, 0);
	struct dn_welcome w;
	int fds[DN_WELCOME_FDS_MAX];
	size_t nfds = DN_WELCOME_FDS_MAX;
	/* A pool that refuses us at accept has answered and hung up already: read why. */
	bool got = false;
	if (r == 0 || r == -EPIPE || r == -ECONNRESET)
		got = (r = dn_msg_recv(sock, &w, sizeof(w), fds, &nfds)) == 0;
	if (r == -EAGAIN)
		r = -ETIMEDOUT;
	if (r == 0 && timeout_ns)
		r = welcome_timeout(sock, 0); /* the socket stays, as the session's lifeline */
	if (r < 0) {
		for (size_t i = 0; got && i < nfds; i++)
			close(fds[i]);
		snprintf(msg, msglen, "handshake with %s failed: %s", path, strerror(-r));
		close(sock);
		return r == -ECONNRESET ? -ECONNREFUSED : r;
	}
	w.msg[sizeof(w.msg) - 1] = 0;
	if (w.magic != DN_PROTO_MAGIC || w.version != DN_PROTO_VERSION || w.status > 0 ||
	    (w.status == 0 && nfds <= DN_WELCOME_FDS_MIN)) {
		snprintf(msg, msglen, "%s speaks another protocol", path);
		r = -EPROTO;
	} else if (w.status < 0) {
		snprintf(msg, msglen, "%s", w.msg);
		r = w.status;
	}
	if (r < 0) {
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		close(sock);
		return r;
	}
	c->sock = sock;
	c->shm_fd = fds[0];
	c->state_fd = fds[1];
	c->nbells = (uint32_t)(nfds - DN_WELCOME_FDS_MIN);
	memcpy(c->bells, fds + DN_WELCOME_FDS_MIN, c->nbells * sizeof(int));
	r = chan_map(c);
	if (r < 0) {
		snprintf(msg, msglen, "cannot map the session of %s: %s", path, strerror(-r));
		dn_chan_close(c);
	}
	return r;
}

int dn_chan_take(const char *path, const uint64_t token[2])
{
	int sock = dn_socket_connect(path);
	if (sock < 0)
		return sock;
	struct dn_hello hello = {.magic = DN_PROTO_MAGIC, .version = DN_PROTO_VERSION,
				 .kind = DN_HELLO_TAKE, .token = {token[0], token[1]}};
	int r = dn_msg_send(sock, &hello, sizeof(hello), NULL, 0);
	struct dn_welcome w;
	int fd = -1;
	size_t nfds = 1;
	if (r == 0 || r == -EPIPE || r == -ECONNRESET)
		r = dn_msg_recv(sock, &w, sizeof(w), &fd, &nfds);
	close(sock);
	if (r == 0 && w.status < 0)
		r = w.status;
	else if (r == 0 && (w.magic != DN_PROTO_MAGIC || nfds != 1))
		r = -EPROTO;
	if (r < 0) {
		if (nfds == 1 && fd >= 0)
			close(fd);
		return r == -ECONNRESET ? -ECONNREFUSED : r;
	}
	return fd;
}

void dn_chan_retire(struct dn_chan *c, bool keep)
{
	if (c->base)
		mmap(c->base, c->l.total_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
	c->base = NULL;
	if (!keep) {
		dn_chan_close(c);
		return;
	}
	int sock = c->sock;
	c->sock = -1;
	dn_chan_close(c);
	if (sock >= 0)
		fcntl(sock, F_SETFD, FD_CLOEXEC);
}

int dn_chan_adopt(struct dn_chan *c, int sock, int shm_fd, int state_fd, const int *bells,
		  uint32_t nbells)
{
	memset(c, 0, sizeof(*c));
	c->sock = sock;
	c->shm_fd = shm_fd;
	c->state_fd = state_fd;
	c->nbells = nbells < DN_MAX_QUEUES ? nbells : DN_MAX_QUEUES;
	memcpy(c->bells, bells, c->nbells * sizeof(int));
	return chan_map(c);
}

void dn_chan_each_fd(struct dn_chan *c, void (*fn)(int *fd, void *arg), void *arg)
{
	int *fds[] = {&c->sock, &c->shm_fd, &c->state_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			fn(fds[i], arg);
	for (uint32_t i = 0; i < c->nbells; i++)
		if (c->bells[i] >= 0)
			fn(&c->bells[i], arg);
}

void dn_chan_close(struct dn_chan *c)
{
	if (c->base)
		munmap(c->base, c->l.total_size);
	if (c->states)
		munmap((void *)c->states, sizeof(*c->states));
	if (c->sock >= 0)
		close(c->sock);
	if (c->shm_fd >= 0)
		close(c->shm_fd);
	if (c->state_fd >= 0)
		close(c->state_fd);
	for (uint32_t i = 0; i < c->nbells; i++)
		if (c->bells[i] >= 0)
			close(c->bells[i]);
	c->base = NULL;
	c->states = NULL;
	c->sock = c->shm_fd = c->state_fd = -1;
	c->nbells = 0;
	atomic_store(&c->dead, 1);
}

uint32_t dn_chan_unlocks(const struct dn_chan *c)
{
	return c->states ? atomic_load_explicit(&c->states->pool.unlocks, memory_order_acquire) : 0;
}

int dn_chan_unlock_wait(const struct dn_chan *c, uint32_t seen, uint64_t timeout_ns)
{
	const struct dn_worker_states *st = c->states;
	if (!st) {
		struct timespec ts = {(time_t)(timeout_ns / 1000000000u),
				      (long)(timeout_ns % 1000000000u)};
		return nanosleep(&ts, NULL) < 0 ? -EINTR : -ETIMEDOUT;
	}
	/*
	 * A read-only mapping does for a futex wait: the wait only reads the
	 * word. The caller is not counted in (client.c), so a switch of the
	 * session may unmap the page at any time: the word is not read again
	 * after the wait (a woken or spurious return is "moved": one more try).
	 */
	int r = dn_futex_wait((_Atomic uint32_t *)&st->pool.unlocks, seen, timeout_ns);
	return r == -EAGAIN || r == 0 ? 0 : r;
}

static int claim_in_state(struct dn_chan *c, uint32_t state, int32_t owner, bool only_orphans)
{
	for (uint32_t i = 0; i < c->l.nbufs; i++) {
		struct dn_buf *b = dn_chan_buf(c, i);
		uint32_t expect = state;
		if (atomic_load_explicit(&b->state, memory_order_relaxed) != state)
			continue;
		if (!only_orphans) {
			/* FREE to IDLE: one claimer wins */
			if (atomic_compare_exchange_strong(&b->state, &expect, DN_BUF_IDLE)) {
				atomic_store_explicit(&b->owner, owner, memory_order_relaxed);
				return (int)i;
			}
			continue;
		}
		/* kill(tid, 0) finds a live thread of any process by its id */
		int32_t prev = atomic_load_explicit(&b->owner, memory_order_relaxed);
		int saved = errno; /* the interposed call this serves may succeed */
		bool gone = prev > 0 && kill(prev, 0) < 0 && errno == ESRCH;
		errno = saved;
		/*
		 * The owner decides who takes an orphan: IDLE to IDLE succeeds for
		 * every claimer at once, and two threads (of the processes that
		 * share a session) would send their requests in one buffer.
		 */
		if (!gone || !atomic_compare_exchange_strong(&b->owner, &prev, owner))
			continue;
		/* nobody else moves a dead owner's IDLE or DONE buffer: this holds */
		if (atomic_compare_exchange_strong(&b->state, &expect, DN_BUF_IDLE))
			return (int)i;
		atomic_store(&b->owner, prev);
	}
	return -EAGAIN;
}

int dn_chan_buf_claim(struct dn_chan *c, int32_t owner)
{
	int r = claim_in_state(c, DN_BUF_FREE, owner, false);
	/*
	 * Threads that ended without releasing theirs (a process that exited,
	 * a killed one) leave buffers behind: take over those whose owner is gone
	 * and that hold no request in flight.
	 */
	if (r < 0)
		r = claim_in_state(c, DN_BUF_IDLE, owner, true);
	if (r < 0)
		r = claim_in_state(c, DN_BUF_DONE, owner, true);
	return r;
}

void dn_chan_buf_release(struct dn_chan *c, uint32_t idx)
{
	if (!c->base || idx >= c->l.nbufs)
		return;
	struct dn_buf *b = dn_chan_buf(c, idx);
	atomic_store_explicit(&b->owner, 0, memory_order_relaxed);
	atomic_store_explicit(&b->state, DN_BUF_FREE, memory_order_release);
}

int dn_req_payload(struct dn_chan *c, uint32_t buf, struct dn_req *req, const char *path,
		   const char *path2, const void *data, size_t data_len)
{
	size_t l1 = path ? strlen(path) : 0, l2 = path2 ? strlen(path2) : 0;
	if (l1 > UINT16_MAX || l2 > UINT16_MAX)
		return -ENAMETOOLONG;
	size_t total = (path ? l1 + 1 : 0) + (path2 ? l2 + 1 : 0) + data_len;
	uint8_t *dst;
	if (total <= DN_INLINE_MAX) {
		dst = req->inl;
		req->where = 0;
	} else if (total <= dn_buf_data_size(&c->l)) {
		dst = dn_chan_data(c, buf);
		req->where = DN_REQ_PAYLOAD_IN_BUF;
	} else {
		return path ? -ENAMETOOLONG : -EMSGSIZE;
	}
	req->path_len = (uint16_t)l1;
	req->path2_len = (uint16_t)l2;
	req->payload_len = (uint32_t)total;
	if (path) {
		memcpy(dst, path, l1 + 1);
		dst += l1 + 1;
	}
	if (path2) {
		memcpy(dst, path2, l2 + 1);
		dst += l2 + 1;
	}
	/* data may already sit in (or overlap) the buffer: a writev gathered there */
	if (data_len && data != dst)
		memmove(dst, data, data_len);
	return 0;
}

static int service_gone(struct dn_chan *c)
{
	struct pollfd p = {.fd = c->sock, .events = POLLIN | POLLRDHUP};
	if (poll(&p, 1, 0) > 0 && p.revents) {
		atomic_store(&c->dead, 1);
		return 1;
	}
	return 0;
}

static uint32_t pick_queue(const struct dn_chan *c, int cpu)
{
	if (c->l.nqueues == 1 || cpu < 0)
		return 0;
	return (uint32_t)cpu % c->l.nqueues;
}

static void ring(struct dn_chan *c, uint32_t q)
{
	uint32_t w = q % c->nworkers;
	/* Pairs with the worker's fence between announcing sleep and its last look. */
	atomic_thread_fence(memory_order_seq_cst);
	if (w < c->nbells && atomic_load_explicit((_Atomic uint32_t *)&c->states->w[w].sleeping,
						  memory_order_relaxed)) {
		uint64_t one = 1;
		ssize_t n = write(c->bells[w], &one, sizeof(one));
		(void)n; /* EAGAIN: the counter is full, the worker is rung already */
	}
}

/* Copies the reply's bytes [sink->copied, to) out of b's data area into sink. */
static void copy_out(struct dn_chan *c, struct dn_buf *b, struct dn_sink *sink, uint64_t to,
		     uint64_t ring_end)
{
	const uint8_t *data = dn_buf_data(&c->l, b);
	while (sink->copied < to) {
		uint64_t p = sink->copied, at = dn_stream_at(p, ring_end);
		uint64_t n = to - p;
		if (p < ring_end) {
			uint64_t piece = DN_READ_STREAM_RING - at; /* up to the ring's end */
			uint64_t ringed = ring_end - p;
			n = n < piece ? n : piece;
			n = n < ringed ? n : ringed;
		}
		memcpy(sink->dest + p, data + at, n);
		if (sink->also)
			sink->also(sink->also_arg, p, data + at, n);
		sink->copied = p + n;
	}
	atomic_store_explicit(&b->taken, sink->copied, memory_order_release);
}

/* Copies what the service has published since the last look; true if any. */
static bool drain(struct dn_chan *c, struct dn_buf *b, struct dn_sink *sink)
{
	uint64_t ready = atomic_load_explicit(&b->ready, memory_order_acquire);
	/* never past the room given: any thread of the session can write the word */
	if (ready > sink->len)
		ready = sink->len;
	if (ready <= sink->copied)
		return false;
	copy_out(c, b, sink, ready, UINT64_MAX);
	return true;
}

/* What a waiting client watches of its worker: where it runs, and whether it sleeps. */
static uint64_t worker_word(const struct dn_worker_state *w)
{
	return dn_worker_word(
		atomic_load_explicit((_Atomic uint32_t *)&w->cpu, memory_order_relaxed),
		atomic_load_explicit((_Atomic uint32_t *)&w->sleeping, memory_order_relaxed));
}

/*
 * Where a spin starts, as dn_spin_turn counts: with the worker on this very
 * CPU, spinning only holds it off, so yield from the start.
 */
static uint64_t spin_spent(const struct dn_spin *sp, int cpu)
{
	bool beside = cpu >= 0 && sp->seen >> 32 == (uint32_t)cpu + 1;
	return beside ? DN_SPIN_YIELD_NS + 1 : 0;
}

/*
 * Waits for b's reply: spins (dn_spin_look says how long), then sleeps.
 * With a sink, data arriving counts as progress: the spin goes on while it
 * flows, and a service waiting for room in the ring sets a sleeping client
 * back to SUBMITTED and wakes it, to take what is there and spin again.
 */
static int wait_done(struct dn_chan *c, struct dn_buf *b, uint32_t q, int cpu,
		     struct dn_sink *sink, uint64_t sent_ns, const struct dn_slot *slot,
		     uint64_t pos, uint32_t buf)
{
	const struct dn_worker_state *w = &c->states->w[q % c->nworkers];
	struct dn_spin sp;
	dn_spin_begin(&sp, sent_ns, worker_word(w));
	for (;;) {
		uint64_t spent = spin_spent(&sp, cpu);
		for (unsigned i = 0;; i++) {
			if (atomic_load_explicit(&b->state, memory_order_acquire) == DN_BUF_DONE)
				return 0;
			if (sink && drain(c, b, sink)) {
				dn_spin_renew(&sp, dn_now_ns());
				continue;
			}
			if ((i & 15) == 15) {
				uint64_t now = dn_now_ns();
				enum dn_spin_verdict v = dn_spin_look(&sp, now, worker_word(w), c->spin_ns);
				/*
				 * A sleeping worker keeps us spinning only while our
				 * request waits for it: once taken, the request is in
				 * the backend (an offload thread's read on the network,
				 * ~0.3 ms and more), and spinning takes a CPU the
				 * cluster or the other clients need.
				 */
				if (v == DN_SPIN_ON && now - sp.start > c->spin_ns &&
				    dn_queue_taken(slot, pos, buf))
					v = DN_SPIN_SLEEP;
				/*
				 * In a crowded pool (dn_pool_state) this spin would
				 * take the CPU a worker needs: a few turns of pause,
				 * for an answer under way, then sleep.
				 */
				if (v != DN_SPIN_SLEEP && now - sp.start > DN_SPIN_YIELD_NS &&
				    atomic_load_explicit(&c->states->pool.crowded,
							 memory_order_relaxed))
					v = DN_SPIN_SLEEP;
				if (v == DN_SPIN_SLEEP)
					break;
				if (v == DN_SPIN_RENEWED)
					spent = spin_spent(&sp, cpu);
				else if (now - sp.start > spent)
					spent = now - sp.start;
			}
			dn_spin_turn(spent);
		}
		uint32_t expect = DN_BUF_SUBMITTED;
		if (!atomic_compare_exchange_strong(&b->state, &expect, DN_BUF_SLEEPING))
			return expect == DN_BUF_DONE ? 0 : -EIO;
		uint32_t st;
		do {
			int r = dn_futex_wait(&b->state, DN_BUF_SLEEPING, SLEEP_SLICE_NS);
			st = atomic_load_explicit(&b->state, memory_order_acquire);
			if (st == DN_BUF_DONE)
				return 0;
			if (r == -ETIMEDOUT && service_gone(c))
				return -ENOTCONN;
		} while (st == DN_BUF_SLEEPING);
		dn_spin_renew(&sp, dn_now_ns());
	}
}

static int64_t call(struct dn_chan *c, uint32_t buf, struct dn_req *req, struct dn_reply *out,
		    struct dn_sink *sink, const struct dn_meanwhile *mw)
{
	if (atomic_load_explicit(&c->dead, memory_order_relaxed) || buf >= c->l.nbufs)
		return -ENOTCONN;
	struct dn_buf *b = dn_chan_buf(c, buf);
	static _Atomic uint64_t tags;
	req->buf = buf;
	req->tag = atomic_fetch_add_explicit(&tags, 1, memory_order_relaxed) + 1;
	atomic_store_explicit(&b->ready, 0, memory_order_relaxed);
	atomic_store_explicit(&b->taken, 0, memory_order_relaxed);
	atomic_store_explicit(&b->state, DN_BUF_SUBMITTED, memory_order_release);

	int cpu = sched_getcpu();
	req->cpu = cpu >= 0 && cpu < UINT16_MAX ? (uint16_t)(cpu + 1) : 0;
	uint32_t q = pick_queue(c, cpu);
	struct dn_queue *queue = dn_layout_queue(&c->l, c->base, q);
	uint64_t pos;
	struct dn_slot *slot;
	size_t inl = req->where || req->payload_len > DN_INLINE_MAX ? 0 : req->payload_len;
	/* the request waits in our own buffer; the slot gets only its index */
	memcpy(&b->req, req, offsetof(struct dn_req, inl) + inl);
	do {
		while (!(slot = dn_queue_reserve(queue, c->l.qdepth, &pos))) {
			/* A full ring waits for the worker (a slot left reserved is skipped). */
			if (service_gone(c))
				return -ENOTCONN;
			sched_yield();
		}
		req->sent_ns = dn_now_ns(); /* the pool's queue-wait metrics; our spin starts here too */
		b->req.sent_ns = req->sent_ns;
		/* false: this thread stopped so long after its reserve that the pool skipped the slot */
	} while (!dn_queue_publish(slot, pos, buf));
	ring(c, q);
	if (mw)
		mw->fn(mw->arg);

	int r = wait_done(c, b, q, cpu, sink, req->sent_ns, slot, pos, buf);
	if (r < 0)
		return r;
	memcpy(out, b->reply, DN_REPLY_HEAD);
	/* the stat area's lines cross only when they carry an answer */
	if (out->flags & DN_REPLY_STAT)
		memcpy(&out->st, &b->st, sizeof(out->st));
	else
		memset(&out->st, 0, sizeof(out->st));
	atomic_store_explicit(&b->state,
			      (out->flags & DN_REPLY_RETIRE_BUFFER) ? DN_BUF_RETIRED : DN_BUF_IDLE,
			      memory_order_relaxed);
	if (out->tag != req->tag)
		return -EPROTO;
	if (sink && out->result > 0) {
		uint64_t end = (uint64_t)out->result < sink->len ? (uint64_t)out->result : sink->len;
		copy_out(c, b, sink, end, out->aux);
	}
	return out->result;
}

int64_t dn_chan_call_into(struct dn_chan *c, uint32_t buf, struct dn_req *req,
			  struct dn_reply *out, struct dn_sink *sink)
{
	return call(c, buf, req, out, sink, NULL);
}

int64_t dn_chan_call_meanwhile(struct dn_chan *c, uint32_t buf, struct dn_req *req,
			       struct dn_reply *out, const struct dn_meanwhile *mw)
{
	return call(c, buf, req, out, NULL, mw);
}

int64_t dn_chan_call(struct dn_chan *c, uint32_t buf, struct dn_req *req, struct dn_reply *out)
{
	return call(c, buf, req, out, NULL, NULL);
}
