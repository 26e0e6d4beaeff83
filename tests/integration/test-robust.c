/* Robustness against a live pool: garbage in shared memory, and a service killed mid-request */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "chan.h"
#include "futex.h"
#include "queue.h"

static const char *sock_path;
static pid_t pool_pid;

static void chan_open(struct dn_chan *c, int *buf)
{
	char msg[512];
	int r = dn_chan_connect(c, sock_path, msg, sizeof(msg));
	if (r < 0)
		fail_msg("connect %s: %s", sock_path, msg);
	*buf = dn_chan_buf_claim(c, 1);
	assert_true(*buf >= 0);
}

static int64_t nop(struct dn_chan *c, int buf)
{
	struct dn_req req = {.op = DN_OP_NOP};
	struct dn_reply rep;
	return dn_chan_call(c, (uint32_t)buf, &req, &rep);
}

static void fill_random(void *p, size_t n, unsigned *seed)
{
	for (size_t i = 0; i < n; i++)
		((uint8_t *)p)[i] = (uint8_t)rand_r(seed);
}

/* Requests whose every field is noise get an errno (or a harmless answer), never a crash. */
static void test_random_requests_get_errors(void **state)
{
	struct dn_chan c;
	int buf;
	chan_open(&c, &buf);
	unsigned seed = 42;
	int errors = 0;
	for (int i = 0; i < 20000; i++) {
		struct dn_req req;
		fill_random(&req, sizeof(req), &seed);
		if (i % 3 == 0)
			req.op = (uint32_t)(rand_r(&seed) % (DN_OP_MAX + 2)); /* plausible op */
		if (i % 5 == 0)
			req.handle = 0;
		/* the random payload may also sit in the buffer */
		fill_random(dn_chan_data(&c, (uint32_t)buf), 4096, &seed);
		struct dn_reply rep;
		int64_t r = dn_chan_call(&c, (uint32_t)buf, &req, &rep);
		assert_true(r != -ENOTCONN);
		assert_true(r != -EPROTO);
		errors += r < 0;
	}
	assert_true(errors > 19000);
	assert_int_equal(nop(&c, buf), 0);
	dn_chan_close(&c);
}

static void expect(struct dn_chan *c, int buf, struct dn_req *req, int64_t want)
{
	struct dn_reply rep;
	int64_t r = dn_chan_call(c, (uint32_t)buf, req, &rep);
	if (r != want)
		fail_msg("op %u: got %lld, want %lld", req->op, (long long)r, (long long)want);
}

/* The stat area crosses only with an answer there: stale bytes in it never reach a caller. */
static void test_stat_area_crosses_only_with_a_stat(void **state)
{
	struct dn_chan c;
	int buf;
	chan_open(&c, &buf);
	struct dn_buf *b = dn_chan_buf(&c, (uint32_t)buf);
	memset(&b->st, 0xa5, sizeof(b->st));
	struct dn_req req = {.op = DN_OP_NOP};
	struct dn_reply rep;
	assert_int_equal(dn_chan_call(&c, (uint32_t)buf, &req, &rep), 0);
	assert_false(rep.flags & DN_REPLY_STAT);
	const struct dn_stat zero = {0};
	assert_memory_equal(&rep.st, &zero, sizeof(zero));

	req = (struct dn_req){.op = DN_OP_STAT};
	assert_int_equal(dn_req_payload(&c, (uint32_t)buf, &req, "/", NULL, NULL, 0), 0);
	assert_int_equal(dn_chan_call(&c, (uint32_t)buf, &req, &rep), 0);
	assert_true(rep.flags & DN_REPLY_STAT);
	assert_true(S_ISDIR(rep.st.mode));
	assert_true(rep.st.nlink >= 2);
	dn_chan_close(&c);
}

/* Creates path in the pool holding len random bytes (seeded), left in *data; its handle. */
static uint64_t create_random_file(struct dn_chan *c, int buf, const char *path, size_t len,
				   unsigned seed, uint8_t **data)
{
	struct dn_req req = {.op = DN_OP_OPEN, .oflags = O_CREAT | O_RDWR | O_TRUNC, .mode = 0600};
	assert_int_equal(dn_req_payload(c, (uint32_t)buf, &req, path, NULL, NULL, 0), 0);
	struct dn_reply rep;
	assert_int_equal(dn_chan_call(c, (uint32_t)buf, &req, &rep), 0);
	uint64_t handle = rep.handle;
	*data = malloc(len);
	assert_non_null(*data);
	fill_random(*data, len, &seed);
	req = (struct dn_req){.op = DN_OP_PWRITE, .handle = handle, .len = len};
	assert_int_equal(dn_req_payload(c, (uint32_t)buf, &req, NULL, NULL, *data, len), 0);
	assert_int_equal(dn_chan_call(c, (uint32_t)buf, &req, &rep), (int64_t)len);
	return handle;
}

static void close_handle(struct dn_chan *c, int buf, uint64_t handle)
{
	struct dn_req req = {.op = DN_OP_CLOSE, .handle = handle};
	struct dn_reply rep;
	assert_int_equal(dn_chan_call(c, (uint32_t)buf, &req, &rep), 0);
}

/* Each kind of malformed request gets its own errno. */
static void test_malformed_requests(void **state)
{
	struct dn_chan c;
	int buf;
	chan_open(&c, &buf);
	struct dn_req req = {.op = DN_OP_MAX + 7};
	expect(&c, buf, &req, -ENOSYS);

	req = (struct dn_req){.op = DN_OP_STAT, .path_len = 200, .payload_len = 10};
	memcpy(req.inl, "/abc", 5);
	expect(&c, buf, &req, -ENAMETOOLONG); /* path longer than its payload */

	req = (struct dn_req){.op = DN_OP_STAT, .path_len = 5, .payload_len = 6};
	memcpy(req.inl, "/a\0bc", 6);
	expect(&c, buf, &req, -EINVAL); /* NUL inside the path */

	req = (struct dn_req){.op = DN_OP_STAT, .path_len = 2, .payload_len = 3, .where = 7};
	expect(&c, buf, &req, -EINVAL); /* payload in a place that does not exist */

	req = (struct dn_req){.op = DN_OP_STAT, .payload_len = 100000};
	expect(&c, buf, &req, -EINVAL); /* payload bigger than the inline area */

	req = (struct dn_req){.op = DN_OP_PREAD, .handle = 0x1234500000007ull, .len = 16};
	expect(&c, buf, &req, -EBADF); /* forged handle */

	req = (struct dn_req){.op = DN_OP_OPEN, .oflags = 0};
	dn_req_payload(&c, (uint32_t)buf, &req, "/../../../../etc/passwd", NULL, NULL, 0);
	expect(&c, buf, &req, -ENOENT); /* clamped at the pool's root, which has no etc/ */

	req = (struct dn_req){.op = DN_OP_OPEN, .oflags = 0};
	dn_req_payload(&c, (uint32_t)buf, &req, "relative", NULL, NULL, 0);
	expect(&c, buf, &req, -EINVAL); /* relative path without a directory handle */

	req = (struct dn_req){.op = DN_OP_PREAD, .len = UINT64_MAX};
	expect(&c, buf, &req, -EINVAL);
	/* ranges past the largest offset, answered as the kernel does, before any backend sums them */
	req = (struct dn_req){.op = DN_OP_PREAD, .handle = 0x1234500000007ull,
			      .off = INT64_MAX - 10, .len = 100};
	expect(&c, buf, &req, -EINVAL);
	req = (struct dn_req){.op = DN_OP_FALLOCATE, .handle = 0x1234500000007ull,
			      .off = INT64_MAX - 10, .len = 100};
	expect(&c, buf, &req, -EFBIG);
	/* writes of nothing (the library sends none): 0, as write(2) (libcephfs would abort) */
	uint8_t *data;
	uint64_t handle = create_random_file(&c, buf, "/empty-writes", 10, 3, &data);
	free(data);
	req = (struct dn_req){.op = DN_OP_PWRITE, .handle = handle, .off = 4};
	expect(&c, buf, &req, 0);
	req = (struct dn_req){.op = DN_OP_PWRITE, .handle = handle, .flags = DN_WRITE_APPEND};
	expect(&c, buf, &req, 0);
	close_handle(&c, buf, handle);
	assert_int_equal(nop(&c, buf), 0);
	dn_chan_close(&c);
}

/*
 * A slot naming a buffer that does not exist, or one with no request in
 * flight, cannot be answered: dropped, service fine.
 */
static void test_slot_with_bogus_buffer_is_dropped(void **state)
{
	struct dn_chan c, other;
	int buf, obuf;
	chan_open(&c, &buf);
	chan_open(&other, &obuf);
	struct dn_queue *q = dn_layout_queue(&c.l, c.base, 0);
	unsigned seed = 7;
	/* a request that would fail loudly if run: the buffer is idle, so it is not */
	struct dn_buf *b = dn_chan_buf(&c, (uint32_t)buf);
	fill_random(&b->req, sizeof(b->req), &seed);
	assert_true(c.l.nbufs + 50 <= DN_BUFS_MAX);
	for (int i = 0; i < 50; i++) {
		uint64_t pos;
		struct dn_slot *s = dn_queue_reserve(q, c.l.qdepth, &pos);
		assert_non_null(s);
		/* out of range, or ours while idle */
		uint32_t bad = i % 2 ? c.l.nbufs + (uint32_t)i : (uint32_t)buf;
		assert_true(dn_queue_publish(s, pos, bad));
	}
	/* taken within a worker's sleep (a second), not run: a reply would leave it DONE */
	for (int i = 0; i < 1000 && dn_queue_waiting(q, c.l.qdepth); i++)
		usleep(10000);
	assert_int_equal(dn_queue_waiting(q, c.l.qdepth), 0);
	assert_int_equal(atomic_load(&b->state), DN_BUF_IDLE);
	/* the NOP rings the doorbell; it must be answered after the junk */
	assert_int_equal(nop(&c, buf), 0);
	assert_int_equal(nop(&other, obuf), 0);
	dn_chan_close(&c);
	dn_chan_close(&other);
}

/* No client can write the workers' sleep flags: it could make the others skip the doorbell. */
static void test_worker_states_are_read_only(void **state)
{
	struct dn_chan c;
	int buf;
	chan_open(&c, &buf);
	void *m = mmap(NULL, sizeof(struct dn_worker_states), PROT_READ | PROT_WRITE, MAP_SHARED,
		       c.state_fd, 0);
	assert_true(m == MAP_FAILED);
	assert_int_equal(errno, EPERM);
	assert_true(mprotect((void *)c.states, sizeof(*c.states), PROT_READ | PROT_WRITE) < 0);
	assert_int_equal(nop(&c, buf), 0);
	dn_chan_close(&c);
}

/* A client that dies with requests in flight leaves the service serving others. */
static void test_client_dies_mid_request(void **state)
{
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct dn_chan c;
		int buf;
		chan_open(&c, &buf);
		for (int i = 0; i < 1000; i++) {
			uint64_t pos;
			struct dn_queue *q = dn_layout_queue(&c.l, c.base, 0);
			struct dn_slot *s = dn_queue_reserve(q, c.l.qdepth, &pos);
			if (!s)
				break;
			struct dn_buf *b = dn_chan_buf(&c, (uint32_t)buf);
			b->req = (struct dn_req){.op = DN_OP_NOP, .buf = (uint32_t)buf};
			atomic_store(&b->state, DN_BUF_SUBMITTED);
			dn_queue_publish(s, pos, (uint32_t)buf);
		}
		_exit(0); /* gone without waiting for any reply */
	}
	int st;
	waitpid(child, &st, 0);
	struct dn_chan c;
	int buf;
	chan_open(&c, &buf);
	assert_int_equal(nop(&c, buf), 0);
	dn_chan_close(&c);
}

/* One DN_READ_STREAM read of len bytes at offset 0 of handle into sink; its result. */
static int64_t streamed_read(struct dn_chan *c, int buf, uint64_t handle, size_t len,
			     struct dn_sink *sink, struct dn_reply *rep)
{
	struct dn_req req = {.op = DN_OP_PREAD, .handle = handle, .len = len,
			     .flags = DN_READ_STREAM};
	return dn_chan_call_into(c, (uint32_t)buf, &req, rep, sink);
}

/* Bytes [from, len) of a streamed reply that differ from want, read where rep.aux says they lie. */
static size_t stream_mismatches(struct dn_chan *c, int buf, const struct dn_reply *rep,
				const uint8_t *want, size_t from, size_t len)
{
	const uint8_t *area = dn_chan_data(c, (uint32_t)buf);
	size_t bad = 0;
	for (size_t p = from; p < len; p++)
		bad += area[dn_stream_at(p, rep->aux)] != want[p];
	return bad;
}

/*
 * A streamed read copies while the service reads on, but never past the room
 * the client gave it: here the service publishes 1 MiB, the sink holds 256
 * KiB and a PROT_NONE page follows it (without the bound, a copy that starts
 * before the reply is done runs into it). The service, finding the ring not
 * taken, leaves the rest in place, where the reply's aux says.
 */
static void test_streamed_read_stays_in_its_sink(void **state)
{
	struct dn_chan c;
	int buf;
	chan_open(&c, &buf);
	const size_t len = 1u << 20, room = 256u << 10;
	assert_true(len <= dn_buf_data_size(&c.l));
	uint8_t *data;
	uint64_t handle = create_random_file(&c, buf, "/streamed.bin", len, 3, &data);

	long page = sysconf(_SC_PAGESIZE);
	uint8_t *map = mmap(NULL, room + (size_t)page, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + room, (size_t)page, PROT_NONE), 0);
	/* Repeated: whether the client copies before the reply is done depends on timing. */
	for (int i = 0; i < 50; i++) {
		struct dn_sink sink = {.dest = map, .len = room};
		struct dn_reply rep;
		assert_int_equal(streamed_read(&c, buf, handle, len, &sink, &rep), (int64_t)len);
		assert_int_equal(sink.copied, room);
		assert_memory_equal(map, data, room);
		assert_in_range(rep.aux, DN_READ_STREAM_RING, room + DN_READ_STREAM_RING);
		assert_int_equal(stream_mismatches(&c, buf, &rep, data, room, len), 0);
	}
	close_handle(&c, buf, handle);
	munmap(map, room + (size_t)page);
	free(data);
	dn_chan_close(&c);
}

/*
 * A client that sleeps on its buffer at once (no spin) while a streamed read
 * runs: the service, needing the ring taken, wakes it to copy out, so the
 * whole reply goes round the ring (aux == len) instead of waiting out the
 * stall. Not every read: on a busy machine a woken client may be slow to run.
 */
static void test_sleeping_client_is_woken_to_take_the_ring(void **state)
{
	struct dn_chan c;
	int buf;
	chan_open(&c, &buf);
	c.spin_ns = 1;
	const size_t len = 1u << 20;
	uint8_t *data, *dest = malloc(len);
	assert_non_null(dest);
	uint64_t handle = create_random_file(&c, buf, "/woken.bin", len, 5, &data);
	int ringed = 0;
	for (int i = 0; i < 20; i++) {
		memset(dest, 0, len);
		struct dn_sink sink = {.dest = dest, .len = len};
		struct dn_reply rep;
		assert_int_equal(streamed_read(&c, buf, handle, len, &sink, &rep), (int64_t)len);
		assert_int_equal(sink.copied, len);
		assert_memory_equal(dest, data, len);
		ringed += rep.aux == len;
	}
	assert_true(ringed >= 5);
	close_handle(&c, buf, handle);
	free(dest);
	free(data);
	dn_chan_close(&c);
}

struct waiter {
	struct dn_chan *c;
	int buf;
	int64_t result;
	_Atomic int done;
};

static void *wait_call(void *arg)
{
	struct waiter *w = arg;
	w->result = nop(w->c, w->buf);
	atomic_store(&w->done, 1);
	return NULL;
}

/*
 * A process of the session killed between reserving a queue slot and
 * publishing it (stress-ng kills its children mid-call): the requests
 * queued behind the slot are served all the same, after a short stall.
 */
static void test_producer_killed_before_publish(void **state)
{
	struct dn_chan c;
	int buf;
	chan_open(&c, &buf);
	assert_int_equal(nop(&c, buf), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		/* the session's memory, inherited: one slot reserved in every queue, none filled */
		for (uint32_t q = 0; q < c.l.nqueues; q++) {
			uint64_t pos;
			if (!dn_queue_reserve(dn_layout_queue(&c.l, c.base, q), c.l.qdepth, &pos))
				_exit(2);
		}
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	for (int round = 0; round < 2; round++) {
		struct waiter w = {.c = &c, .buf = buf};
		pthread_t t;
		assert_int_equal(pthread_create(&t, NULL, wait_call, &w), 0);
		/* the pool skips such a slot after 0.1 s: 10 s is a hang */
		for (int i = 0; i < 1000 && !atomic_load(&w.done); i++)
			usleep(10000);
		if (!atomic_load(&w.done))
			fail_msg("a request behind a slot its dead producer reserved waits 10 s");
		pthread_join(t, NULL);
		assert_int_equal(w.result, 0);
	}
	dn_chan_close(&c);
}

/* A read past the end of the file, longer than the ring: a short answer, all of it round the ring. */
static void test_streamed_short_read_past_the_ring(void **state)
{
	struct dn_chan c;
	int buf;
	chan_open(&c, &buf);
	const size_t size = 700u << 10, len = 1u << 20;
	uint8_t *data, *dest = malloc(len);
	assert_non_null(dest);
	uint64_t handle = create_random_file(&c, buf, "/short.bin", size, 7, &data);
	struct dn_sink sink = {.dest = dest, .len = len};
	struct dn_reply rep;
	assert_int_equal(streamed_read(&c, buf, handle, len, &sink, &rep), (int64_t)size);
	assert_int_equal(sink.copied, size);
	assert_int_equal(rep.aux, size);
	assert_memory_equal(dest, data, size);
	close_handle(&c, buf, handle);
	free(dest);
	free(data);
	dn_chan_close(&c);
}

struct scribbler {
	_Atomic uint64_t *word;
	_Atomic int stop;
};

static void *scribble(void *arg)
{
	struct scribbler *sc = arg;
	for (uint64_t i = 0; !atomic_load(&sc->stop); i++)
		atomic_store(sc->word, i & 1);
	return NULL;
}

/*
 * A client that takes nothing while a thread keeps rewriting the buffer's
 * `taken` cannot hold the worker: the wait for the ring ends by its
 * deadline, however the word moves, and the rest of the reply lands in
 * place, where aux says (here: all of it at its own offset).
 */
static void test_scribbled_taken_cannot_hold_the_worker(void **state)
{
	struct dn_chan c;
	int buf;
	chan_open(&c, &buf);
	const size_t len = 1u << 20;
	uint8_t *data;
	uint64_t handle = create_random_file(&c, buf, "/scribbled.bin", len, 9, &data);
	struct scribbler sc = {.word = &dn_chan_buf(&c, (uint32_t)buf)->taken};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, scribble, &sc), 0);
	uint64_t start = dn_now_ns();
	for (int i = 0; i < 10; i++) {
		struct dn_req req = {.op = DN_OP_PREAD, .handle = handle, .len = len,
				     .flags = DN_READ_STREAM};
		struct dn_reply rep;
		assert_int_equal(dn_chan_call(&c, (uint32_t)buf, &req, &rep), (int64_t)len);
		assert_int_equal(rep.aux, DN_READ_STREAM_RING);
		assert_int_equal(stream_mismatches(&c, buf, &rep, data, 0, len), 0);
	}
	atomic_store(&sc.stop, 1);
	pthread_join(t, NULL);
	/* One 10 ms wait per read; a wait that restarts whenever the word moves
	 * took ~0.9 s a read here, or forever. Not a speed figure: a bound. */
	uint64_t ms = (dn_now_ns() - start) / 1000000u;
	if (ms >= 3000)
		fail_msg("10 streamed reads took %llu ms with `taken` scribbled on",
			 (unsigned long long)ms);
	close_handle(&c, buf, handle);
	free(data);
	dn_chan_close(&c);
}

/* True once every thread of pid is stopped: kill(SIGSTOP) returns before they are. */
static bool all_threads_stopped(pid_t pid)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	DIR *d = opendir(dir);
	assert_non_null(d);
	bool stopped = true;
	struct dirent *e;
	while (stopped && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[sizeof(dir) + sizeof(e->d_name) + 8], buf[256];
		snprintf(path, sizeof(path), "%s/%s/stat", dir, e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue; /* the thread is gone */
		char *state = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		stopped = state && state[1] == ' ' && state[2] == 'T';
		fclose(f);
	}
	closedir(d);
	return stopped;
}

/* A NOP with tag in buffer idx, its slot in queue q reserved as chan.c does; not published. */
static struct dn_slot *reserve_nop(struct dn_chan *c, uint32_t q, uint32_t idx, uint64_t tag,
				   uint64_t *pos)
{
	struct dn_buf *b = dn_chan_buf(c, idx);
	b->req = (struct dn_req){.op = DN_OP_NOP, .buf = idx, .tag = tag};
	atomic_store(&b->state, DN_BUF_SUBMITTED);
	struct dn_slot *s = dn_queue_reserve(dn_layout_queue(&c->l, c->base, q), c->l.qdepth, pos);
	assert_non_null(s);
	return s;
}

static void ring_bell(struct dn_chan *c, uint32_t q)
{
	uint64_t one = 1;
	assert_int_equal(write(c->bells[q % c->nworkers], &one, sizeof(one)), sizeof(one));
}

/* Buffer idx answered tag with 0 within 10 s (the first behind a stalled slot waits ~1 s). */
static void await_nop(struct dn_chan *c, uint32_t idx, uint64_t tag)
{
	struct dn_buf *b = dn_chan_buf(c, idx);
	for (int i = 0; i < 10000 && atomic_load(&b->state) != DN_BUF_DONE; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&b->state), DN_BUF_DONE);
	struct dn_reply rep;
	memcpy(&rep, b->reply, DN_REPLY_HEAD);
	assert_int_equal(rep.tag, tag);
	assert_int_equal(rep.result, 0);
	atomic_store(&b->state, DN_BUF_IDLE);
}

/*
 * A thread stopped after its reserve, past the pool's skip, while the ring
 * goes round: its slot's next lap is another request's. When it wakes its
 * publish fails, the other request is answered as sent, and it posts again.
 */
static void test_late_publish_leaves_the_next_lap_alone(void **state)
{
	struct dn_chan c;
	int buf;
	chan_open(&c, &buf);
	int late_buf = dn_chan_buf_claim(&c, 2);
	assert_true(late_buf >= 0);
	const uint32_t q = 0, depth = c.l.qdepth;
	uint64_t late, pos;
	struct dn_slot *dead = reserve_nop(&c, q, (uint32_t)late_buf, 1000000, &late);
	for (uint32_t i = 1; i < depth; i++) {
		struct dn_slot *s = reserve_nop(&c, q, (uint32_t)buf, i, &pos);
		assert_true(dn_queue_publish(s, pos, (uint32_t)buf));
		ring_bell(&c, q);
		await_nop(&c, (uint32_t)buf, i);
	}
	/* the slot's next lap, published with the pool stopped: not taken yet */
	assert_int_equal(kill(pool_pid, SIGSTOP), 0);
	for (int i = 0; i < 1000 && !all_threads_stopped(pool_pid); i++)
		usleep(1000);
	struct dn_slot *s = reserve_nop(&c, q, (uint32_t)buf, depth, &pos);
	assert_ptr_equal(s, dead);
	assert_int_equal(pos, late + depth);
	assert_true(dn_queue_publish(s, pos, (uint32_t)buf));
	assert_false(dn_queue_publish(dead, late, (uint32_t)late_buf));
	assert_false(dn_queue_taken(s, pos, (uint32_t)buf));
	assert_int_equal(kill(pool_pid, SIGCONT), 0);
	ring_bell(&c, q);
	await_nop(&c, (uint32_t)buf, depth);
	/* posted again, as chan.c does */
	s = reserve_nop(&c, q, (uint32_t)late_buf, 1000000, &late);
	assert_true(dn_queue_publish(s, late, (uint32_t)late_buf));
	ring_bell(&c, q);
	await_nop(&c, (uint32_t)late_buf, 1000000);
	assert_int_equal(nop(&c, buf), 0);
	dn_chan_close(&c);
}

/* Killed while a client waits: the client gets ENOTCONN in bounded time, no hang. */
static void test_service_killed_while_client_waits(void **state)
{
	struct dn_chan c;
	int buf;
	chan_open(&c, &buf);
	assert_int_equal(nop(&c, buf), 0);
	assert_int_equal(kill(pool_pid, SIGSTOP), 0);
	for (int i = 0; i < 1000 && !all_threads_stopped(pool_pid); i++)
		usleep(1000);
	struct waiter w = {.c = &c, .buf = buf};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, wait_call, &w), 0);
	usleep(300000);
	assert_false(atomic_load(&w.done)); /* really waiting */
	assert_int_equal(kill(pool_pid, SIGKILL), 0);
	/* the bound is what makes this a test: 10 s is 50 times the liveness check */
	for (int i = 0; i < 1000 && !atomic_load(&w.done); i++)
		usleep(10000);
	if (!atomic_load(&w.done))
		fail_msg("client still waiting 10 s after the service died");
	pthread_join(t, NULL);
	assert_int_equal(w.result, -ENOTCONN);
	assert_int_equal(nop(&c, buf), -ENOTCONN); /* and stays failed, fast */
	dn_chan_close(&c);
}

int main(void)
{
	sock_path = getenv("DANAUS_TEST_SOCKET");
	const char *pid = getenv("DANAUS_TEST_PID");
	if (!sock_path || !pid) {
		fprintf(stderr, "DANAUS_TEST_SOCKET and DANAUS_TEST_PID must name a running pool\n");
		return 1;
	}
	pool_pid = (pid_t)atoi(pid);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_requests_get_errors),
		cmocka_unit_test(test_malformed_requests),
		cmocka_unit_test(test_stat_area_crosses_only_with_a_stat),
		cmocka_unit_test(test_slot_with_bogus_buffer_is_dropped),
		cmocka_unit_test(test_client_dies_mid_request),
		cmocka_unit_test(test_worker_states_are_read_only),
		cmocka_unit_test(test_streamed_read_stays_in_its_sink),
		cmocka_unit_test(test_sleeping_client_is_woken_to_take_the_ring),
		cmocka_unit_test(test_streamed_short_read_past_the_ring),
		cmocka_unit_test(test_scribbled_taken_cannot_hold_the_worker),
		cmocka_unit_test(test_producer_killed_before_publish),
		/* last: it kills the pool */
		cmocka_unit_test(test_late_publish_leaves_the_next_lap_alone),
		cmocka_unit_test(test_service_killed_while_client_waits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
