/* POSIX AIO through glibc, printed (libc-calls.sh runs it on a kernel directory and on a pool) */
#include <aio.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * Usage: test-aio-calls DIR HOSTDIR. DIR is the directory under test (a
 * pool's or a kernel one); HOSTDIR a kernel directory, for the other fds of
 * a mixed list. What is printed never names either.
 */

#define SIG (SIGRTMIN + 1)

static char dir[4096], host[4096];

static int open_in(const char *base, const char *name, int flags)
{
	char p[8192];
	snprintf(p, sizeof(p), "%s/%s", base, name);
	return open(p, flags | O_CLOEXEC, 0644);
}

static const char *ename(int e)
{
	static char buf[32];
	switch (e) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case EBADF: return "EBADF";
	case EIO: return "EIO";
	case EAGAIN: return "EAGAIN";
	case EINPROGRESS: return "EINPROGRESS";
	case ESPIPE: return "ESPIPE";
	case EISDIR: return "EISDIR";
	default: snprintf(buf, sizeof(buf), "errno%d", e); return buf;
	}
}

/* Waits for cb to finish; its error and return. */
static void finish(const char *what, struct aiocb *cb)
{
	const struct aiocb *l[1] = {cb};
	struct timespec ts = {5, 0};
	while (aio_error(cb) == EINPROGRESS)
		if (aio_suspend(l, 1, &ts) < 0 && errno != EINTR)
			break;
	int e = aio_error(cb);
	printf("%s: error %s return %zd\n", what, ename(e), aio_return(cb));
}

/* The queued signal SIG, within 5 s: what its siginfo says. */
static void take_signal(const char *what)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIG);
	siginfo_t si;
	struct timespec ts = {5, 0};
	int r = sigtimedwait(&s, &si, &ts);
	if (r < 0) {
		printf("%s: no signal (%s)\n", what, ename(errno));
		return;
	}
	printf("%s: signal %s code %s value %d pid %s uid %s\n", what, r == SIG ? "SIG" : "other",
	       si.si_code == SI_ASYNCIO ? "SI_ASYNCIO" : si.si_code == SI_QUEUE ? "SI_QUEUE" : "other",
	       si.si_value.sival_int, si.si_pid == getpid() ? "self" : "other",
	       si.si_uid == getuid() ? "self" : "other");
}

/* No signal SIG is pending now (none was sent where none should be). */
static void no_signal(const char *what)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIG);
	struct timespec ts = {0, 50 * 1000 * 1000};
	siginfo_t si;
	int r = sigtimedwait(&s, &si, &ts);
	printf("%s: %s\n", what, r < 0 ? "no signal" : "a signal");
}

static sem_t thread_sem;
static int thread_value;

static int thread_blocked = -1;

static void on_done(union sigval v)
{
	sigset_t cur;
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	thread_blocked = sigismember(&cur, SIG); /* glibc's runs with none blocked */
	thread_value = v.sival_int;
	sem_post(&thread_sem);
}

static void show_file(const char *what, const char *base, const char *name)
{
	char buf[256] = {0};
	int fd = open_in(base, name, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	printf("%s: %zd \"%s\"\n", what, n, n > 0 ? buf : "");
	if (fd >= 0)
		close(fd);
}

static struct aiocb mk(int fd, int op, void *buf, size_t n, off_t off)
{
	struct aiocb cb;
	memset(&cb, 0, sizeof(cb));
	cb.aio_fildes = fd;
	cb.aio_lio_opcode = op;
	cb.aio_buf = buf;
	cb.aio_nbytes = n;
	cb.aio_offset = off;
	cb.aio_sigevent.sigev_notify = SIGEV_NONE;
	return cb;
}

static void single_requests(void)
{
	int e, rc;
	int fd = open_in(dir, "a", O_RDWR | O_CREAT | O_TRUNC);
	char rd[16] = {0};
	struct aiocb w = mk(fd, LIO_WRITE, "0123456789", 10, 0);
	printf("aio_write: %d\n", aio_write(&w));
	finish("  write", &w);
	struct aiocb r = mk(fd, LIO_READ, rd, 4, 3);
	r.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
	r.aio_sigevent.sigev_signo = SIG;
	r.aio_sigevent.sigev_value.sival_int = 4242;
	printf("aio_read with a signal: %d\n", aio_read(&r));
	finish("  read", &r);
	printf("  read \"%s\"\n", rd);
	take_signal("  notified");

	struct aiocb t = mk(fd, LIO_READ, rd, 2, 0);
	t.aio_sigevent.sigev_notify = SIGEV_THREAD;
	t.aio_sigevent.sigev_notify_function = on_done;
	t.aio_sigevent.sigev_value.sival_int = 77;
	printf("aio_read with a thread: %d\n", aio_read(&t));
	finish("  read", &t);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	int ran = sem_timedwait(&thread_sem, &until) == 0; /* (before thread_value is read) */
	printf("  thread ran: %d value %d SIG blocked %d\n", ran, thread_value, thread_blocked);

	/* a notification that cannot be sent fails the request (__aio_notify) */
	struct aiocb q = mk(fd, LIO_READ, rd, 2, 0);
	q.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
	q.aio_sigevent.sigev_signo = 1000;
	printf("aio_read with a bad signal: %d\n", aio_read(&q));
	finish("  read", &q);
	struct aiocb *ql[] = {&q};
	rc = lio_listio(LIO_WAIT, ql, 1, NULL);
	e = errno;
	printf("  in lio_listio LIO_WAIT: %d %s\n", rc, ename(rc < 0 ? e : 0));
	finish("  read", &q);

	struct aiocb s = mk(fd, 0, NULL, 0, 0);
	printf("aio_fsync O_SYNC: %d\n", aio_fsync(O_SYNC, &s));
	finish("  fsync", &s);
	errno = 0;
	rc = aio_fsync(12345, &s);
	e = errno;
	printf("aio_fsync bad op: %d %s\n", rc, ename(e));

	/* bad offset and priority: refused at once or failed later, as glibc does */
	struct aiocb b = mk(fd, LIO_READ, rd, 2, -1);
	errno = 0;
	rc = aio_read(&b);
	e = errno;
	printf("aio_read offset -1: %d %s\n", rc, ename(rc < 0 ? e : 0));
	if (rc == 0)
		finish("  read", &b);
	b = mk(fd, LIO_READ, rd, 2, 0);
	b.aio_reqprio = AIO_PRIO_DELTA_MAX + 1;
	errno = 0;
	rc = aio_read(&b);
	e = errno;
	printf("aio_read bad priority: %d %s error %s\n", rc, ename(rc < 0 ? e : 0), ename(aio_error(&b)));
	b = mk(fd, LIO_READ, rd, 2, 0);
	b.aio_reqprio = -1;
	rc = aio_read(&b);
	e = errno;
	printf("aio_read priority -1: %d error %s\n", rc, ename(aio_error(&b)));
	close(fd);

	/* O_APPEND: the write goes at the end, the fd's offset stays */
	fd = open_in(dir, "app", O_RDWR | O_CREAT | O_TRUNC);
	if (write(fd, "hello", 5) != 5)
		printf("write failed\n");
	close(fd);
	fd = open_in(dir, "app", O_WRONLY | O_APPEND);
	struct aiocb ap = mk(fd, LIO_WRITE, "XY", 2, 0);
	printf("aio_write O_APPEND: %d\n", aio_write(&ap));
	finish("  write", &ap);
	printf("  offset after: %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
	struct aiocb ap2 = mk(fd, LIO_WRITE, "Z", 1, 2);
	struct aiocb *l[1] = {&ap2};
	printf("  lio_listio O_APPEND: %d\n", lio_listio(LIO_WAIT, l, 1, NULL));
	show_file("  file", dir, "app");
	close(fd);
}

static void lists(void)
{
	int e;
	int a = open_in(dir, "la", O_RDWR | O_CREAT | O_TRUNC);
	int h = open_in(host, "lh", O_RDWR | O_CREAT | O_TRUNC);
	int ro = open_in(dir, "la", O_RDONLY);
	char r1[8] = {0}, r2[8] = {0};
	if (write(h, "hostdata", 8) != 8)
		printf("write failed\n");

	/* LIO_WAIT over a file under test and a kernel one, with NOP and NULL */
	struct aiocb w = mk(a, LIO_WRITE, "listed", 6, 0);
	struct aiocb rh = mk(h, LIO_READ, r1, 4, 0);
	struct aiocb wh = mk(h, LIO_WRITE, "HH", 2, 8);
	struct aiocb nop = mk(a, LIO_NOP, NULL, 0, 0);
	struct aiocb *l1[] = {&w, NULL, &rh, &nop, &wh};
	printf("lio_listio LIO_WAIT mixed: %d\n", lio_listio(LIO_WAIT, l1, 5, NULL));
	finish("  w", &w);
	finish("  rh", &rh);
	finish("  wh", &wh);
	printf("  rh \"%s\"\n", r1);
	show_file("  la", dir, "la");
	show_file("  lh", host, "lh");

	/* one fails (a write on a read-only fd): -1 EIO, each request's error its own */
	struct aiocb bad = mk(ro, LIO_WRITE, "no", 2, 0);
	struct aiocb ok = mk(a, LIO_READ, r2, 3, 0);
	struct aiocb *l2[] = {&bad, &ok, &rh};
	errno = 0;
	int rc = lio_listio(LIO_WAIT, l2, 3, NULL);
	e = errno;
	printf("lio_listio LIO_WAIT failing: %d %s\n", rc, ename(rc < 0 ? e : 0));
	finish("  bad", &bad);
	finish("  ok", &ok);

	/* LIO_NOWAIT with a list signal and a request's own */
	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIG;
	sev.sigev_value.sival_int = 9001;
	struct aiocb n1 = mk(a, LIO_READ, r2, 2, 1);
	struct aiocb n2 = mk(h, LIO_READ, r1, 2, 1);
	n2.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
	n2.aio_sigevent.sigev_signo = SIG;
	n2.aio_sigevent.sigev_value.sival_int = 31;
	struct aiocb *l3[] = {&n1, &n2};
	printf("lio_listio LIO_NOWAIT with a signal: %d\n", lio_listio(LIO_NOWAIT, l3, 2, &sev));
	finish("  n1", &n1);
	finish("  n2", &n2);
	/* two signals, in the order they were sent: the request's, then the list's */
	take_signal("  first");
	take_signal("  second");
	no_signal("  then");

	/* NOWAIT with a request that fails when run: 0, its own error in aio_error */
	struct aiocb *l4[] = {&bad, &n1};
	errno = 0;
	rc = lio_listio(LIO_NOWAIT, l4, 2, &sev);
	e = errno;
	printf("lio_listio LIO_NOWAIT failing: %d %s\n", rc, ename(rc < 0 ? e : 0));
	finish("  bad", &bad);
	finish("  n1", &n1);
	take_signal("  list");

	/* one refused before it is queued (bad priority) */
	struct aiocb pr = mk(a, LIO_READ, r2, 2, 0);
	pr.aio_reqprio = AIO_PRIO_DELTA_MAX + 1;
	struct aiocb *l5[] = {&pr, &n1};
	errno = 0;
	rc = lio_listio(LIO_WAIT, l5, 2, NULL);
	e = errno;
	printf("lio_listio LIO_WAIT bad priority: %d %s error %s\n", rc, ename(rc < 0 ? e : 0),
	       ename(aio_error(&pr)));
	finish("  n1", &n1);
	errno = 0;
	rc = lio_listio(LIO_NOWAIT, l5, 2, &sev);
	e = errno;
	printf("lio_listio LIO_NOWAIT bad priority: %d %s error %s\n", rc, ename(rc < 0 ? e : 0),
	       ename(aio_error(&pr)));
	finish("  n1", &n1);
	take_signal("  list");
	struct aiocb *l6[] = {&pr};
	errno = 0;
	rc = lio_listio(LIO_NOWAIT, l6, 1, &sev);
	e = errno;
	printf("lio_listio LIO_NOWAIT none queued: %d %s\n", rc, ename(rc < 0 ? e : 0));
	take_signal("  list");
	errno = 0;
	rc = lio_listio(LIO_WAIT, l6, 1, &sev);
	e = errno;
	printf("lio_listio LIO_WAIT none queued: %d %s\n", rc, ename(rc < 0 ? e : 0));
	no_signal("  list");

	/* nothing to do: NOWAIT notifies at once, WAIT does not */
	struct aiocb *l7[] = {&nop, NULL};
	printf("lio_listio LIO_NOWAIT only NOP: %d\n", lio_listio(LIO_NOWAIT, l7, 2, &sev));
	take_signal("  list");
	printf("lio_listio LIO_WAIT only NOP: %d\n", lio_listio(LIO_WAIT, l7, 2, &sev));
	no_signal("  list");
	/* LIO_WAIT ignores the list's sigevent */
	struct aiocb *l8[] = {&n1};
	printf("lio_listio LIO_WAIT with a sigevent: %d\n", lio_listio(LIO_WAIT, l8, 1, &sev));
	no_signal("  list");

	errno = 0;
	rc = lio_listio(7, l8, 1, NULL);
	e = errno;
	printf("lio_listio bad mode: %d %s\n", rc, ename(e));
	errno = 0;
	rc = lio_listio(LIO_WAIT, l8, 0, NULL);
	e = errno;
	printf("lio_listio no entries: %d %s\n", rc, ename(rc < 0 ? e : 0));
	close(a);
	close(h);
	close(ro);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s DIR HOSTDIR\n", argv[0]);
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	snprintf(host, sizeof(host), "%s", argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIG);
	sigprocmask(SIG_BLOCK, &s, NULL); /* taken with sigtimedwait */
	sem_init(&thread_sem, 0, 0);
	single_requests();
	lists();
	printf("done\n");
	return 0;
}
