/*
 * Native AIO (io_submit, io_getevents, io_destroy) on files of DIR, printed:
 * libc-calls.sh compares a kernel directory's transcript with a pool's.
 * HOST is a kernel directory for requests beside them in the same batches.
 * MODE: "syscall" calls the system calls through syscall(2); "libaio"
 * calls libaio's functions (what fio and databases call).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* libaio's, with its io_context_t as the kernel's number (-errno answers) */
int io_setup(int nr, aio_context_t *ctx);
int io_submit(aio_context_t ctx, long nr, struct iocb **iocbs);
int io_getevents(aio_context_t ctx, long min_nr, long nr, struct io_event *ev, struct timespec *ts);
int io_destroy(aio_context_t ctx);

static int use_libaio;

static long x_submit(aio_context_t ctx, long nr, struct iocb **l)
{
	if (use_libaio)
		return io_submit(ctx, nr, l);
	long r = syscall(SYS_io_submit, ctx, nr, l);
	return r < 0 ? -errno : r;
}

static long x_getevents(aio_context_t ctx, long min, long nr, struct io_event *ev, struct timespec *ts)
{
	if (use_libaio)
		return io_getevents(ctx, min, nr, ev, ts);
	long r = syscall(SYS_io_getevents, ctx, min, nr, ev, ts);
	return r < 0 ? -errno : r;
}

static long x_destroy(aio_context_t ctx)
{
	if (use_libaio)
		return io_destroy(ctx);
	long r = syscall(SYS_io_destroy, ctx);
	return r < 0 ? -errno : r;
}

static const char *ename(long r)
{
	static char b[32];
	if (r >= 0) {
		snprintf(b, sizeof(b), "%ld", r);
		return b;
	}
	return strerrorname_np((int)-r) ? strerrorname_np((int)-r) : "?";
}

static aio_context_t ctx;
static struct iocb cbs[16];

static struct iocb *rw(int i, int op, int fd, void *buf, size_t n, long long off)
{
	cbs[i] = (struct iocb){.aio_data = (uint64_t)i + 100, .aio_lio_opcode = (uint16_t)op,
			       .aio_fildes = (uint32_t)fd, .aio_buf = (uint64_t)(uintptr_t)buf,
			       .aio_nbytes = n, .aio_offset = off};
	return &cbs[i];
}

/* Takes want events (waiting up to 5 s) and prints them in data order. */
static void reap(const char *what, int want)
{
	struct io_event ev[16];
	struct timespec ts = {5, 0};
	long got = 0;
	while (got < want) {
		long r = x_getevents(ctx, 1, want - got, ev + got, &ts);
		if (r <= 0) {
			printf("%s: getevents %s after %ld\n", what, ename(r), got);
			return;
		}
		got += r;
	}
	for (long i = 0; i < got; i++)
		for (long j = i + 1; j < got; j++)
			if (ev[j].data < ev[i].data) {
				struct io_event t = ev[i];
				ev[i] = ev[j], ev[j] = t;
			}
	for (long i = 0; i < got; i++)
		printf("%s: data %llu obj %s res %s\n", what, (unsigned long long)ev[i].data,
		       ev[i].obj == (uint64_t)(uintptr_t)&cbs[ev[i].data - 100] ? "ok" : "WRONG",
		       ename((long)ev[i].res));
}

static void submit(const char *what, int n, struct iocb **l, int want)
{
	long r = x_submit(ctx, n, l);
	printf("%s: submit %s\n", what, ename(r));
	if (want)
		reap(what, want);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Waits for two events at once (up to 4 s): how many it got, and whether in time. */
static void *waiter2(void *arg)
{
	struct io_event ev[2];
	struct timespec ts = {4, 0};
	double t0 = now_s();
	long r = x_getevents(ctx, 2, 2, ev, &ts);
	snprintf((char *)arg, 64, "%s, %s", ename(r), now_s() - t0 < 2 ? "at once" : "late");
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
}

static void *waiter(void *arg)
{
	struct io_event ev;
	struct timespec ts = {10, 0};
	long r = x_getevents(ctx, 1, 1, &ev, &ts);
	*(long *)arg = r == 1 ? (long)ev.data : r;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	use_libaio = strcmp(argv[3], "libaio") == 0;
	setvbuf(stdout, NULL, _IOLBF, 0); /* (what was said before a failure shows) */
	alarm(60); /* a wait that never ends fails the test rather than hanging it */
	char path[4096], hpath[4096];
	snprintf(path, sizeof(path), "%s/f", argv[1]);
	snprintf(hpath, sizeof(hpath), "%s/h-%s", argv[2], argv[3]);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	int ro = open(path, O_RDONLY), wo = open(path, O_WRONLY);
	int app = open(path, O_WRONLY | O_APPEND);
	int dir = open(argv[1], O_RDONLY | O_DIRECTORY);
	int host = open(hpath, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ro < 0 || wo < 0 || app < 0 || dir < 0 || host < 0) {
		perror("open");
		return 1;
	}
	long r = use_libaio ? io_setup(8, &ctx) : syscall(SYS_io_setup, 8, &ctx);
	if (r != 0) {
		perror("io_setup");
		return 1;
	}
	char a[8192], b[8192], c[8192];
	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));

	struct iocb *l[8];
	l[0] = rw(0, IOCB_CMD_PWRITE, fd, a, 5000, 0);
	l[1] = rw(1, IOCB_CMD_PWRITE, fd, b, 3000, 5000);
	l[2] = rw(2, IOCB_CMD_PWRITE, host, a, 100, 0);
	l[3] = rw(3, IOCB_CMD_PWRITE, fd, b, 10, 9000);
	submit("writes, one host's among them", 4, l, 4);
	l[0] = rw(0, IOCB_CMD_PREAD, fd, c, sizeof(c), 4990);
	submit("read across both", 1, l, 1);
	printf("read bytes: %.12s\n", c + 5);
	l[0] = rw(0, IOCB_CMD_PREAD, fd, c, 100, 20000);
	submit("read past the end", 1, l, 1);
	struct iovec iov[2] = {{c, 3}, {c + 100, 4}};
	l[0] = rw(0, IOCB_CMD_PREADV, fd, iov, 2, 4998);
	submit("preadv", 1, l, 1);
	printf("preadv bytes: %.3s %.4s\n", c, c + 100);
	struct iovec wv[2] = {{a, 2}, {b, 2}};
	l[0] = rw(0, IOCB_CMD_PWRITEV, fd, wv, 2, 100);
	l[1] = rw(1, IOCB_CMD_FSYNC, fd, NULL, 0, 0);
	l[2] = rw(2, IOCB_CMD_FDSYNC, fd, NULL, 0, 0);
	submit("pwritev, fsync, fdatasync", 3, l, 3);
	l[0] = rw(0, IOCB_CMD_PWRITE, app, a, 7, 0);
	submit("pwrite on O_APPEND", 1, l, 1);
	printf("size after append: %lld\n", (long long)lseek(fd, 0, SEEK_END));
	l[0] = rw(0, IOCB_CMD_POLL, fd, (void *)(uintptr_t)(POLLIN | POLLOUT | POLLPRI), 0, 0);
	submit("poll", 1, l, 1);

	/* what the kernel refuses before it queues: io_submit's answer, the batch stops there */
	l[0] = rw(0, IOCB_CMD_PREAD, wo, c, 10, 0);
	submit("read on O_WRONLY", 1, l, 0);
	l[0] = rw(0, IOCB_CMD_PWRITE, ro, a, 10, 0);
	submit("write on O_RDONLY", 1, l, 0);
	l[0] = rw(0, IOCB_CMD_PREAD, fd, c, 10, -1);
	submit("negative offset", 1, l, 0);
	l[0] = rw(0, 99, fd, c, 10, 0);
	submit("unknown opcode", 1, l, 0);
	l[0] = rw(0, IOCB_CMD_PREAD, fd, c, 10, 0);
	cbs[0].aio_reserved2 = 1;
	submit("reserved field", 1, l, 0);
	l[0] = rw(0, IOCB_CMD_FSYNC, fd, c, 0, 0);
	submit("fsync with a buffer", 1, l, 0);
	l[0] = rw(0, IOCB_CMD_PREAD, fd, c, 10, 0);
	cbs[0].aio_rw_flags = 1u << 30;
	submit("unknown rw flag", 1, l, 0);
	l[0] = rw(0, IOCB_CMD_PREAD, dir, c, 10, 0);
	submit("read of a directory", 1, l, 0);
	/* an I/O priority the request carries: a class the kernel knows, a level its class has */
	static const struct {
		const char *what;
		int prio;
	} prios[] = {{"no class, level 0", 0}, {"no class, level 3", 3}, {"best effort 7", 2 << 13 | 7},
		     {"idle", 3 << 13}, {"class 4", 4 << 13}, {"class 7", 7 << 13},
		     {"real time 0, as root", 1 << 13}};
	for (size_t i = 0; i < sizeof(prios) / sizeof(prios[0]); i++) {
		l[0] = rw(0, IOCB_CMD_PREAD, fd, c, 10, 0);
		cbs[0].aio_flags = IOCB_FLAG_IOPRIO;
		cbs[0].aio_reqprio = (int16_t)prios[i].prio;
		char what[64];
		snprintf(what, sizeof(what), "I/O priority %s", prios[i].what);
		long pr = x_submit(ctx, 1, l);
		printf("%s: submit %s\n", what, ename(pr));
		if (pr == 1)
			reap(what, 1);
	}
	/* the flags are checked before the fd's access mode */
	l[0] = rw(0, IOCB_CMD_PREAD, wo, c, 10, 0);
	cbs[0].aio_flags = IOCB_FLAG_IOPRIO;
	cbs[0].aio_reqprio = INT16_MIN; /* (class 4) */
	submit("bad priority, read on O_WRONLY", 1, l, 0);
	l[0] = rw(0, IOCB_CMD_PREAD, wo, c, 10, 0);
	cbs[0].aio_rw_flags = 1u << 30;
	submit("unknown rw flag, read on O_WRONLY", 1, l, 0);
	l[0] = rw(0, IOCB_CMD_PREAD, fd, (void *)~(uintptr_t)4095, 10, 0);
	cbs[0].aio_rw_flags = 1u << 30;
	submit("unknown rw flag, buffer beyond the process", 1, l, 0);
	l[0] = rw(0, IOCB_CMD_PREAD, fd, c, 10, 0);
	l[1] = rw(1, IOCB_CMD_PREAD, wo, c, 10, 0);
	l[2] = rw(2, IOCB_CMD_PREAD, fd, c, 10, 0);
	submit("a refusal in the middle", 3, l, 1);
	struct iovec big[2] = {{c, 10}, {c, (size_t)-1 / 2}};
	l[0] = rw(0, IOCB_CMD_PREADV, fd, big, 2, 0);
	submit("vector too long", 1, l, 0);
	l[0] = rw(0, IOCB_CMD_PREADV, fd, (void *)8, 2, 0);
	submit("vector unreadable", 1, l, 0);
	l[0] = rw(0, IOCB_CMD_PREAD, fd, (void *)8, 10, 0);
	submit("buffer unwritable", 1, l, 1);
	/* the kernel reads the whole vector (lengths) before it looks at an address */
	void *kernel = (void *)~(uintptr_t)4095; /* an address no process has (access_ok) */
	struct iovec badlen[2] = {{kernel, 10}, {c, (size_t)-1}};
	l[0] = rw(0, IOCB_CMD_PREADV, fd, badlen, 2, 0);
	submit("unwritable, then a negative length", 1, l, 0);
	/* a directory has nothing to read with, whatever the buffer */
	l[0] = rw(0, IOCB_CMD_PREAD, dir, kernel, 10, 0);
	submit("read of a directory into nothing", 1, l, 0);
	/* the fd is looked at first: a path fd with a resfd that is no eventfd */
	int pfd = open(path, O_PATH);
	l[0] = rw(0, IOCB_CMD_PREAD, pfd, c, 10, 0);
	cbs[0].aio_flags = IOCB_FLAG_RESFD;
	cbs[0].aio_resfd = (uint32_t)fd;
	submit("path fd, resfd not an eventfd", 1, l, 0);
	close(pfd);

	/* the key the kernel writes; an eventfd told of each completion */
	int efd = eventfd(0, 0);
	l[0] = rw(0, IOCB_CMD_PREAD, fd, c, 10, 0);
	cbs[0].aio_key = 77;
	cbs[0].aio_flags = IOCB_FLAG_RESFD;
	cbs[0].aio_resfd = (uint32_t)efd;
	l[1] = rw(1, IOCB_CMD_PREAD, fd, c, 10, 0);
	cbs[1].aio_flags = IOCB_FLAG_RESFD;
	cbs[1].aio_resfd = (uint32_t)efd;
	submit("eventfd", 2, l, 2);
	uint64_t count = 0;
	if (read(efd, &count, sizeof(count)) != sizeof(count))
		perror("read eventfd");
	printf("key %u, eventfd counted %llu\n", cbs[0].aio_key, (unsigned long long)count);
	l[0] = rw(0, IOCB_CMD_PREAD, fd, c, 10, 0);
	cbs[0].aio_flags = IOCB_FLAG_RESFD;
	cbs[0].aio_resfd = (uint32_t)fd;
	submit("resfd not an eventfd", 1, l, 0);

	/* a thread asleep for an event gets one another thread's request made */
	long seen = 0;
	pthread_t t;
	pthread_create(&t, NULL, waiter, &seen);
	usleep(200000);
	l[0] = rw(0, IOCB_CMD_PWRITE, fd, a, 10, 0);
	printf("submit while a thread waits: %s\n", ename(x_submit(ctx, 1, l)));
	pthread_join(t, NULL);
	printf("the waiting thread got: %s\n", ename(seen));

	/* a thread waiting for two: each request another thread makes counts */
	char said[64] = "";
	pthread_create(&t, NULL, waiter2, said);
	usleep(200000);
	l[0] = rw(0, IOCB_CMD_PWRITE, fd, a, 10, 0);
	printf("first of two: %s\n", ename(x_submit(ctx, 1, l)));
	usleep(200000);
	l[0] = rw(1, IOCB_CMD_PWRITE, fd, a, 10, 0);
	printf("second of two: %s\n", ename(x_submit(ctx, 1, l)));
	pthread_join(t, NULL);
	printf("the thread waiting for two got: %s\n", said);

	/* a signal (its handler without SA_RESTART) ends a wait with nothing: EINTR */
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGUSR1, &sa, NULL);
	long intr = 0;
	pthread_create(&t, NULL, waiter, &intr);
	usleep(200000);
	pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	printf("a waiting thread signalled: %s\n", ename(intr));

	/* a time the kernel takes as it is (no EINVAL): a ready event is taken at once */
	struct timespec odd[] = {{0, 1500000000}, {0, -1}, {-1, 0}};
	for (int i = 0; i < 3; i++) {
		struct io_event ev1;
		l[0] = rw(0, IOCB_CMD_PREAD, fd, c, 10, 0);
		x_submit(ctx, 1, l);
		double t0 = now_s();
		long got1 = x_getevents(ctx, 1, 1, &ev1, &odd[i]);
		printf("a ready event, timeout {%ld, %ld}: %s, %s\n", (long)odd[i].tv_sec,
		       (long)odd[i].tv_nsec, ename(got1), now_s() - t0 < 1 ? "at once" : "late");
	}

	/* io_pgetevents checks its signal mask's size before it looks for events */
	if (!use_libaio) {
		sigset_t mask;
		sigemptyset(&mask);
		struct {
			const sigset_t *set;
			size_t size;
		} usig = {&mask, 4};
		struct io_event ev1;
		struct timespec zero1 = {0, 0};
		l[0] = rw(0, IOCB_CMD_PREAD, fd, c, 10, 0);
		x_submit(ctx, 1, l);
		long pr = syscall(SYS_io_pgetevents, ctx, 1, 1, &ev1, &zero1, &usig);
		printf("pgetevents, a mask of 4 bytes: %s\n", ename(pr < 0 ? -errno : pr));
		usig.size = 8;
		usig.set = (const sigset_t *)8;
		pr = syscall(SYS_io_pgetevents, ctx, 1, 1, &ev1, &zero1, &usig);
		printf("pgetevents, a mask unreadable: %s\n", ename(pr < 0 ? -errno : pr));
		pr = syscall(SYS_io_pgetevents, ctx, 1, 1, &ev1, &zero1, (void *)8);
		printf("pgetevents, its argument unreadable: %s\n", ename(pr < 0 ? -errno : pr));
		usig.set = &mask;
		pr = syscall(SYS_io_pgetevents, ctx, 1, 1, &ev1, &zero1, &usig);
		printf("pgetevents, a good mask: %s\n", ename(pr < 0 ? -errno : pr));
	}

	/* a ring (8 asked, more given) that no one reaps fills */
	long full = 0;
	for (int i = 0; i < 1000 && full >= 0; i++) {
		l[0] = rw(0, IOCB_CMD_PREAD, fd, c, 10, 0);
		full = x_submit(ctx, 1, l);
	}
	printf("submitting without reaping ends in: %s\n", ename(full));
	struct io_event ev[32];
	struct timespec zero = {0, 0};
	long reaped = 0, n;
	while ((n = x_getevents(ctx, 0, 32, ev, &zero)) > 0)
		reaped += n;
	printf("reaped them all: %s\n", reaped > 8 && n == 0 ? "yes" : ename(n));
	printf("min over nr: %s\n", ename(x_getevents(ctx, 2, 1, ev, &zero)));
	printf("nothing submitted: %s\n", ename(x_submit(ctx, 0, l)));
	/* a count far beyond the ring: the kernel takes what the ring holds, stops at a NULL */
	static struct iocb *many[1024];
	many[0] = rw(0, IOCB_CMD_PREAD, fd, c, 10, 0);
	printf("a count beyond the ring: %s\n", ename(x_submit(ctx, 1L << 40, many)));
	printf("its event: %s\n", ename(x_getevents(ctx, 1, 1, ev, &zero)));

	/* a child has no part in its parent's contexts */
	pid_t pid = fork();
	if (pid == 0) {
		l[0] = rw(0, IOCB_CMD_PREAD, fd, c, 10, 0);
		long cr = x_submit(ctx, 1, l);
		_exit(cr < 0 ? (int)-cr : 100 + (int)cr);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	printf("a child's submit: %s\n", WEXITSTATUS(status) >= 100 ? "accepted" : strerrorname_np(WEXITSTATUS(status)));
	l[0] = rw(0, IOCB_CMD_PREAD, fd, c, 10, 0);
	x_submit(ctx, 1, l);
	printf("destroy: %s\n", ename(x_destroy(ctx)));
	printf("submit after destroy: %s\n", ename(x_submit(ctx, 1, l)));
	if (!use_libaio) /* (libaio's reads the gone ring's header first) */
		printf("getevents after destroy: %s\n", ename(x_getevents(ctx, 0, 1, ev, &zero)));
	printf("done\n");
	return 0;
}
