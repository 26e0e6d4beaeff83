/* POSIX AIO on Danaus fds: aio_read, aio_write, aio_fsync, lio_listio done at once */
#include <aio.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "client.h"
#include "dn-errno.h"
#include "export.h"
#include "fault.h"
#include "ops.h"
#include "real.h"

/*
 * glibc's AIO threads call its internal pread/pwrite/fsync, which no
 * preload sees: on a Danaus fd they met the placeholder (EBADF in
 * aio_error). A request on a Danaus fd is done before the call returns,
 * its result left where glibc's own aio_error, aio_return and aio_suspend
 * read it (__error_code, __return_value), and its notification sent as
 * glibc's would be. POSIX lets a request complete at once; the pool
 * itself runs requests of other threads meanwhile. Native AIO (io_submit)
 * is native-aio.c's; io_uring bypasses the library as any system call
 * does (README).
 */

struct notify_call {
	void (*fn)(union sigval);
	union sigval value;
};

/* The function runs with no signal blocked, as glibc's notification thread (aio_start_notify_thread). */
static void *notify_thread(void *arg)
{
	struct notify_call c = *(struct notify_call *)arg;
	free(arg);
	sigset_t none;
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
	c.fn(c.value);
	return NULL;
}

/*
 * As __aio_notify_only: a signal with the request's value, or a thread
 * running the function. The signal is glibc's own: si_code SI_ASYNCIO (not
 * sigqueue's SI_QUEUE), our pid and uid, which a handler may tell apart.
 * -errno when the signal cannot be sent (a bad number) or there is no
 * memory for the thread's argument: glibc then fails the request; a
 * thread that cannot be made it does not notice.
 */
static int notify(const struct sigevent *ev)
{
	if (ev->sigev_notify == SIGEV_SIGNAL) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		si.si_signo = ev->sigev_signo;
		si.si_code = SI_ASYNCIO;
		si.si_pid = getpid();
		si.si_uid = getuid();
		si.si_value = ev->sigev_value;
		if (REAL(syscall)(SYS_rt_sigqueueinfo, (long)si.si_pid, (long)ev->sigev_signo, &si) < 0)
			return -errno;
	} else if (ev->sigev_notify == SIGEV_THREAD) {
		struct notify_call *c = malloc(sizeof(*c));
		if (!c)
			return -ENOMEM;
		*c = (struct notify_call){ev->sigev_notify_function, ev->sigev_value};
		pthread_attr_t def, *attr = ev->sigev_notify_attributes;
		if (!attr) {
			pthread_attr_init(&def);
			pthread_attr_setdetachstate(&def, PTHREAD_CREATE_DETACHED);
			attr = &def;
		}
		/* all blocked until it clears its mask: no signal of ours meanwhile */
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		pthread_t t;
		if (pthread_create(&t, attr, notify_thread, c) != 0)
			free(c);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (attr == &def)
			pthread_attr_destroy(&def);
	}
	return 0;
}

/* A request's own notification: one that cannot be sent fails it (__aio_notify). */
static void notify_request(struct aiocb *cb)
{
	int e = notify(&cb->aio_sigevent);
	if (e < 0) {
		cb->__error_code = -e;
		cb->__return_value = -1;
	}
}

/* Does one request (LIO_READ, LIO_WRITE, or an fsync for op O_SYNC/O_DSYNC) and records it. */
static void run(struct aiocb *cb, int op)
{
	ssize_t r;
	if (op == LIO_READ)
		r = pread(cb->aio_fildes, (void *)cb->aio_buf, cb->aio_nbytes, cb->aio_offset);
	else if (op == LIO_WRITE)
		/* as glibc's threads: on an O_APPEND fd pwrite appends and leaves the offset */
		r = pwrite(cb->aio_fildes, (const void *)cb->aio_buf, cb->aio_nbytes, cb->aio_offset);
	else
		r = op == O_DSYNC ? fdatasync(cb->aio_fildes) : fsync(cb->aio_fildes);
	cb->__return_value = r;
	cb->__error_code = r < 0 ? errno : 0;
}

/*
 * glibc's one check before a request is queued (__aio_enqueue_request): the
 * priority, refused with EINVAL in errno and in the request. A bad offset
 * is queued and fails when run (EINVAL from pread), as there.
 */
static int enqueue_check(struct aiocb *cb)
{
	if (cb->aio_reqprio < 0 || cb->aio_reqprio > AIO_PRIO_DELTA_MAX) {
		cb->__error_code = EINVAL;
		cb->__return_value = -1;
		return -EINVAL;
	}
	return 0;
}

static int submit(struct aiocb *cb, int op)
{
	struct aiocb c;
	if (dn_fault_copy_in(&c, cb, sizeof(c)) < 0)
		return -EFAULT;
	int e = enqueue_check(cb);
	if (e < 0)
		return e;
	run(cb, op);
	notify_request(cb);
	return 0;
}

static bool ours(const struct aiocb *cb)
{
	int fd;
	return dn_fault_copy_in(&fd, &cb->aio_fildes, sizeof(fd)) == 0 && dn_fdmap_get(fd) >= 0;
}

DN_EXPORT int aio_read(struct aiocb *cb)
{
	if (!ours(cb))
		return REAL(aio_read)(cb);
	DN_RETURN(submit(cb, LIO_READ));
}
/* the 64 names: struct aiocb64 is struct aiocb on 64-bit targets */
DN_EXPORT int aio_read64(struct aiocb64 *cb)
{
	return aio_read((struct aiocb *)cb);
}

DN_EXPORT int aio_write(struct aiocb *cb)
{
	if (!ours(cb))
		return REAL(aio_write)(cb);
	DN_RETURN(submit(cb, LIO_WRITE));
}
DN_EXPORT int aio_write64(struct aiocb64 *cb)
{
	return aio_write((struct aiocb *)cb);
}

DN_EXPORT int aio_fsync(int op, struct aiocb *cb)
{
	if (!ours(cb))
		return REAL(aio_fsync)(op, cb);
	if (op != O_SYNC && op != O_DSYNC)
		DN_RETURN(-EINVAL);
	DN_RETURN(submit(cb, op));
}
DN_EXPORT int aio_fsync64(int op, struct aiocb64 *cb)
{
	return aio_fsync(op, (struct aiocb *)cb);
}

/*
 * A list with a Danaus fd in it is done here whole, in order (the other
 * fds' requests by libc's pread/pwrite), each request notified as it ends,
 * answered as glibc's lio_listio answers: a request refused before it is
 * queued makes the call fail (EINVAL with LIO_NOWAIT or when none was
 * queued); with LIO_WAIT one that failed when run makes it EIO. With
 * LIO_NOWAIT, sig follows the last request (at once when none was queued);
 * LIO_WAIT does not use it.
 */
DN_EXPORT int lio_listio(int mode, struct aiocb *const list[], int n, struct sigevent *sig)
{
	if (mode != LIO_WAIT && mode != LIO_NOWAIT)
		DN_RETURN(-EINVAL);
	bool any = false;
	for (int i = 0; i < n && !any; i++)
		any = list[i] && ours(list[i]);
	if (!any)
		return REAL(lio_listio)(mode, list, n, sig);
	bool refused = false, failed = false;
	int queued = 0;
	for (int i = 0; i < n; i++) {
		struct aiocb *cb = list[i];
		if (!cb || cb->aio_lio_opcode == LIO_NOP)
			continue;
		if (enqueue_check(cb) < 0) {
			refused = true;
			continue;
		}
		queued++;
		run(cb, cb->aio_lio_opcode);
		notify_request(cb); /* each request's own, as glibc's, before it counts */
		failed |= cb->__return_value == -1;
	}
	if (mode == LIO_NOWAIT && sig)
		notify(sig); /* (its failure glibc ignores) */
	if (refused && (mode == LIO_NOWAIT || queued == 0))
		DN_RETURN(-EINVAL);
	DN_RETURN(mode == LIO_WAIT && (refused || failed) ? -EIO : 0);
}
DN_EXPORT int lio_listio64(int mode, struct aiocb64 *const list[], int n, struct sigevent *sig)
{
	return lio_listio(mode, (struct aiocb *const *)list, n, sig);
}
