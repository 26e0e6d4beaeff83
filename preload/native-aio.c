/* Native AIO on Danaus fds: libaio's io_submit and io_getevents (and their system calls) */
#include "native-aio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "client.h"
#include "export.h"
#include "fault.h"
#include "fork-guard.h"
#include "real.h"

/*
 * A request on a Danaus fd never reaches the kernel, which would meet the
 * placeholder (EBADF): it is done before io_submit returns, with the checks
 * the kernel makes before it queues (their failures are io_submit's), and
 * its completion waits in the library until io_getevents takes it, ahead
 * of the kernel's own. Requests on other fds go to the kernel unchanged, in
 * order. A thread asleep in the kernel's io_getevents while another thread
 * completes one of ours is woken by a poll request of ours (on an eventfd,
 * always writable), whose event nobody else sees.
 */

/* RWF_NOAPPEND (Linux 6.9), which older headers lack */
#define RW_NOAPPEND 0x20
/* The kernel's largest read or write (MAX_RW_COUNT) */
#define RW_MAX ((size_t)INT_MAX & ~(size_t)4095)
/* The top of a process's addresses with 4-level page tables (x86-64's TASK_SIZE_MAX) */
#define USER_TOP (((uint64_t)1 << 47) - 4096)

/* The kernel's access_ok: a range it would not even try to copy is EFAULT before queueing. */
static bool range_ok(uint64_t addr, uint64_t len)
{
	return len <= USER_TOP && addr <= USER_TOP - len;
}

struct ctx_events {
	aio_context_t ctx;
	struct io_event *ev; /* completions not taken yet: from head, n of them */
	size_t head, n, cap;
	size_t reserved; /* requests of ours under way: room kept for their events */
	size_t max; /* the ring's size: more unreaped than that is EAGAIN, as there */
	int sleepers;  /* threads in the kernel's io_getevents for ctx */
	size_t wakes;  /* wake requests whose events no one has dropped yet */
	struct ctx_events *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ctx_events *contexts;
static struct iocb wake_iocb; /* (lock) */

/* A child has none of its parent's contexts (the kernel's are the parent's mm's). */
static void forget_contexts(void)
{
	while (contexts) {
		struct ctx_events *c = contexts;
		contexts = c->next;
		free(c->ev);
		free(c);
	}
}

__attribute__((constructor)) static void native_aio_init(void)
{
	dn_fork_guard(&lock);
	pthread_atfork(NULL, NULL, forget_contexts);
}

static long sys_io_submit(aio_context_t ctx, long nr, struct iocb **iocbs)
{
	long r = REAL(syscall)(SYS_io_submit, ctx, nr, iocbs);
	return r < 0 ? -errno : r;
}

static long sys_io_getevents(aio_context_t ctx, long min_nr, long nr, struct io_event *ev,
			     struct timespec *ts)
{
	long r = REAL(syscall)(SYS_io_getevents, ctx, min_nr, nr, ev, ts);
	return r < 0 ? -errno : r;
}

/* ctx is a context of this process (the kernel's lookup): 0, or -EINVAL */
static int ctx_valid(aio_context_t ctx)
{
	struct timespec zero = {0, 0};
	long r = sys_io_getevents(ctx, 0, 0, NULL, &zero);
	return r < 0 ? (int)r : 0;
}

/* (lock held) */
static struct ctx_events *ctx_find(aio_context_t ctx)
{
	for (struct ctx_events *c = contexts; c; c = c->next)
		if (c->ctx == ctx)
			return c;
	return NULL;
}

/* (lock held) ctx's entry, made at its first request of ours: NULL with *err */
static struct ctx_events *ctx_get(aio_context_t ctx, int *err)
{
	struct ctx_events *c = ctx_find(ctx);
	if (c)
		return c;
	/* the ring's header, where the context's number points: its size */
	struct {
		unsigned id, nr;
	} ring;
	if ((*err = ctx_valid(ctx)) < 0)
		return NULL;
	if (dn_fault_copy_in(&ring, (const void *)(uintptr_t)ctx, sizeof(ring)) < 0) {
		*err = -EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		*err = -EAGAIN; /* as the kernel's io_submit without memory for a request */
		return NULL;
	}
	c->ctx = ctx;
	c->max = ring.nr ? ring.nr : 1;
	c->next = contexts;
	contexts = c;
	return c;
}

/*
 * (lock held) Room for one more event of ours, taken before its request
 * runs: a request done must never lose its event (the kernel refuses a
 * full ring before it queues). -EAGAIN when the ring or memory is short.
 */
static int ctx_reserve(struct ctx_events *c)
{
	if (c->n + c->reserved >= c->max)
		return -EAGAIN; /* its ring is full */
	if (c->cap < c->max) {
		/* (the whole ring's room at once: a push never allocates) */
		struct io_event *a = malloc(c->max * sizeof(*a));
		if (!a)
			return -EAGAIN;
		for (size_t i = 0; i < c->n; i++)
			a[i] = c->ev[(c->head + i) % c->cap];
		free(c->ev);
		c->ev = a, c->cap = c->max, c->head = 0;
	}
	c->reserved++;
	return 0;
}

/* (lock held) the event of a request ctx_reserve made room for */
static void ctx_push(struct ctx_events *c, const struct io_event *ev)
{
	c->ev[(c->head + c->n) % c->cap] = *ev;
	c->n++;
	c->reserved--;
}

/*
 * (lock held) Threads asleep in the kernel for c's events must look again.
 * Each event of ours has a wake event in the kernel's ring while anyone
 * sleeps: a sleeper waits for a count of events (min_nr), and counts wakes
 * among them; one wake for several of ours would leave it asleep.
 */
static void ctx_wake(struct ctx_events *c)
{
	while (c->sleepers && c->wakes < c->n) {
		/* (the request holds the file: no fd of ours stays for the program to close or reuse) */
		int fd = eventfd(0, EFD_CLOEXEC);
		if (fd < 0)
			return;
		/* its event's obj is wake_iocb's address, which no request of the program's has */
		wake_iocb = (struct iocb){.aio_lio_opcode = IOCB_CMD_POLL, .aio_fildes = (uint32_t)fd,
					  .aio_buf = POLLOUT};
		struct iocb *list[1] = {&wake_iocb};
		long r = sys_io_submit(c->ctx, 1, list);
		REAL(close)(fd);
		if (r != 1)
			return; /* (a full ring: its own events wake the sleepers) */
		c->wakes++;
	}
}

/* Whether iocb (a program's pointer) names a Danaus fd; one that cannot be read is the kernel's. */
static bool ours(struct iocb *const *slot)
{
	struct iocb *cb;
	uint32_t fd;
	return dn_fault_copy_in(&cb, slot, sizeof(cb)) == 0 &&
	       dn_fault_copy_in(&fd, &cb->aio_fildes, sizeof(fd)) == 0 && fd <= INT_MAX &&
	       dn_fdmap_get((int)fd) >= 0;
}

/* The fd's access mode, as the kernel's fget and f_mode checks see it: -EBADF when it has none. */
static int access_mode(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_PATH))
		return -EBADF;
	return fl & O_ACCMODE;
}

/*
 * A read or write: the kernel's checks before it queues (-errno: io_submit's
 * answer), then the transfer, whose result (bytes or -errno) is *res.
 */
/*
 * The I/O priority a request carries (aio_prep_rw's ioprio_check_cap): a
 * class the kernel knows and a level its class has; real time only with
 * CAP_SYS_NICE or CAP_SYS_ADMIN (this process's effective ones: in a user
 * namespace of its own the kernel would want them in the initial one). The
 * pool does the request at its own priority: the check is all there is.
 */
static int ioprio_check(int prio)
{
	int class = (prio >> 13) & 7, level = prio & 7;
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	switch (class) {
	case 1: /* IOPRIO_CLASS_RT */
		if (REAL(syscall)(SYS_capget, &h, d) != 0 ||
		    !(d[0].effective & (1u << CAP_SYS_NICE | 1u << CAP_SYS_ADMIN)))
			return -EPERM;
		return 0;
	case 2: case 3: /* BE, IDLE: any of their 8 levels */
		return 0;
	case 0: /* NONE */
		return level ? -EINVAL : 0;
	default:
		return -EINVAL;
	}
}

static int run_rw(const struct iocb *cb, int mode, bool write, bool vectored, __s64 *res)
{
	int fd = (int)cb->aio_fildes;
	int pr = (cb->aio_flags & IOCB_FLAG_IOPRIO) ? ioprio_check(cb->aio_reqprio) : 0;
	if (pr < 0)
		return pr;
	/* then its flags (kiocb_set_rw_flags), as preadv2 takes them on a pool file (splice.c) */
	if (cb->aio_rw_flags & ~(uint32_t)(RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_APPEND | RW_NOAPPEND))
		return -EOPNOTSUPP;
	if (mode == (write ? O_RDONLY : O_WRONLY))
		return -EBADF;
	struct iovec one, *iov = &one;
	int cnt = 1;
	size_t total = 0;
	_cleanup_free_ struct iovec *many = NULL;
	int err = 0;
	if (!vectored) {
		one = (struct iovec){(void *)(uintptr_t)cb->aio_buf, (size_t)cb->aio_nbytes};
		if (one.iov_len > RW_MAX)
			one.iov_len = RW_MAX;
		if (!range_ok(cb->aio_buf, one.iov_len))
			err = -EFAULT;
		total = one.iov_len;
	} else if (cb->aio_nbytes > UIO_MAXIOV) {
		err = -EINVAL;
	} else {
		cnt = (int)cb->aio_nbytes;
		many = malloc((size_t)(cnt ? cnt : 1) * sizeof(*many));
		if (!many)
			return -ENOMEM;
		if (dn_fault_copy_in(many, (const void *)(uintptr_t)cb->aio_buf,
				     (size_t)cnt * sizeof(*many)) < 0)
			err = -EFAULT;
		/* the kernel copies the whole vector, lengths checked, before any address */
		for (int i = 0; !err && i < cnt; i++)
			if ((ssize_t)many[i].iov_len < 0)
				err = -EINVAL;
		for (int i = 0; !err && i < cnt; i++) {
			if (!range_ok((uintptr_t)many[i].iov_base, many[i].iov_len))
				err = -EFAULT;
			/* (the kernel shortens the vector to its largest transfer) */
			else if (many[i].iov_len > RW_MAX - total)
				many[i].iov_len = RW_MAX - total;
			total += many[i].iov_len;
		}
		iov = many;
	}
	if (!err && (cb->aio_offset < 0 || (uint64_t)cb->aio_offset + total > (uint64_t)INT64_MAX))
		err = -EINVAL;
	struct stat st;
	if (err == -EFAULT && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		err = -EINVAL; /* a directory has no read_iter, which the kernel asks before the buffer */
	if (err < 0)
		return err;
	/* no one polls for an AIO request: the kernel drops HIPRI */
	int flags = (int)(cb->aio_rw_flags & ~(uint32_t)RWF_HIPRI);
	ssize_t r = write ? pwritev2(fd, iov, cnt, cb->aio_offset, flags)
			  : preadv2(fd, iov, cnt, cb->aio_offset, flags);
	if (r < 0 && errno == EOPNOTSUPP)
		return -EOPNOTSUPP; /* flags the file does not take: refused before queueing */
	if (r < 0 && errno == EISDIR)
		return -EINVAL; /* a directory has no read_iter */
	*res = r < 0 ? -errno : r;
	return 0;
}

/*
 * The checks the kernel makes before it queues (-errno: io_submit's answer),
 * then the request itself, its result in ev->res. *efd: the eventfd to tell.
 */
static int run_request(struct iocb *user, const struct iocb *cb, struct io_event *ev, int *efd)
{
	*efd = -1;
	/* the file first (the kernel's fget), then the eventfd, then the request's own checks */
	int mode = access_mode((int)cb->aio_fildes);
	if (mode < 0)
		return -EBADF;
	if (cb->aio_flags & IOCB_FLAG_RESFD) {
		char link[64], what[32];
		snprintf(link, sizeof(link), "/proc/self/fd/%d", (int)cb->aio_resfd);
		ssize_t n = readlink(link, what, sizeof(what) - 1);
		if (n < 0)
			return -EBADF;
		what[n] = '\0';
		if (strcmp(what, "anon_inode:[eventfd]") != 0)
			return -EINVAL;
		*efd = (int)cb->aio_resfd;
	}
	uint32_t key = 0; /* the kernel marks a queued request's iocb so */
	if (dn_fault_copy_out(&user->aio_key, &key, sizeof(key)) < 0)
		return -EFAULT;
	*ev = (struct io_event){.data = cb->aio_data, .obj = (uint64_t)(uintptr_t)user};
	switch (cb->aio_lio_opcode) {
	case IOCB_CMD_PREAD: case IOCB_CMD_PREADV:
		return run_rw(cb, mode, false, cb->aio_lio_opcode == IOCB_CMD_PREADV, &ev->res);
	case IOCB_CMD_PWRITE: case IOCB_CMD_PWRITEV:
		return run_rw(cb, mode, true, cb->aio_lio_opcode == IOCB_CMD_PWRITEV, &ev->res);
	case IOCB_CMD_FSYNC: case IOCB_CMD_FDSYNC:
		if (cb->aio_buf || cb->aio_offset || cb->aio_nbytes || cb->aio_rw_flags)
			return -EINVAL;
		if ((cb->aio_lio_opcode == IOCB_CMD_FSYNC ? fsync : fdatasync)((int)cb->aio_fildes) < 0)
			ev->res = -errno;
		return 0;
	case IOCB_CMD_POLL:
		if ((uint16_t)cb->aio_buf != cb->aio_buf || cb->aio_offset || cb->aio_nbytes ||
		    cb->aio_rw_flags)
			return -EINVAL;
		/* a file or directory of a filesystem is always ready (DEFAULT_POLLMASK) */
		ev->res = (int64_t)(cb->aio_buf & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM));
		return 0;
	default:
		return -EINVAL;
	}
}

/* One request of the program's on a Danaus fd: done now, its event queued on ctx. */
static int submit_one(aio_context_t ctx, struct iocb *user)
{
	struct iocb cb;
	if (dn_fault_copy_in(&cb, user, sizeof(cb)) < 0)
		return -EFAULT;
	if (cb.aio_reserved2 || (int64_t)cb.aio_nbytes < 0)
		return -EINVAL;
	int err = 0;
	pthread_mutex_lock(&lock);
	struct ctx_events *c = ctx_get(ctx, &err);
	if (c)
		err = ctx_reserve(c);
	pthread_mutex_unlock(&lock);
	if (err < 0)
		return err;
	struct io_event ev;
	int efd;
	int r = run_request(user, &cb, &ev, &efd);
	pthread_mutex_lock(&lock);
	/* (no entry with room kept: another thread destroyed the context meanwhile) */
	c = ctx_find(ctx);
	if (c && c->reserved && r < 0) {
		c->reserved--;
	} else if (c && c->reserved) {
		ctx_push(c, &ev);
		ctx_wake(c);
	}
	pthread_mutex_unlock(&lock);
	if (r < 0)
		return r;
	if (efd >= 0) {
		uint64_t one = 1;
		REAL(write)(efd, &one, sizeof(one));
	}
	return 0;
}

long dn_io_submit(aio_context_t ctx, long nr, struct iocb **iocbs)
{
	if (nr <= 0)
		return sys_io_submit(ctx, nr, iocbs); /* (EINVAL, or the context's check) */
	/* as the kernel: no more than the ring holds in one call (nor an endless scan) */
	int err = 0;
	pthread_mutex_lock(&lock);
	struct ctx_events *c = ctx_get(ctx, &err);
	if (c && (size_t)nr > c->max)
		nr = (long)c->max;
	pthread_mutex_unlock(&lock);
	if (!c)
		return sys_io_submit(ctx, nr, iocbs); /* (its answer for a context not ours) */
	long done = 0;
	while (done < nr) {
		long run = 0;
		while (done + run < nr && !ours(iocbs + done + run))
			run++;
		if (run) {
			/* the kernel's own, in one call: it stops at its first refusal */
			long r = sys_io_submit(ctx, run, iocbs + done);
			if (r > 0)
				done += r;
			if (r != run)
				return done ? done : r;
			continue;
		}
		struct iocb *cb = NULL; /* (ours() read it) */
		dn_fault_copy_in(&cb, iocbs + done, sizeof(cb));
		int r = submit_one(ctx, cb);
		if (r < 0)
			return done ? done : r;
		done++;
	}
	return done;
}

static long sys_getevents(aio_context_t ctx, long min_nr, long nr, struct io_event *ev,
			  struct timespec *ts, const void *usig)
{
	long r = usig ? REAL(syscall)(SYS_io_pgetevents, ctx, min_nr, nr, ev, ts, usig)
		      : REAL(syscall)(SYS_io_getevents, ctx, min_nr, nr, ev, ts);
	return r < 0 ? -errno : r;
}

/* (lock held) up to max of c's completions into ev: how many, or -EFAULT */
static long take(struct ctx_events *c, struct io_event *ev, long max)
{
	long k = 0;
	while (k < max && c->n) {
		if (dn_fault_copy_out(ev + k, &c->ev[c->head], sizeof(*ev)) < 0)
			return k ? k : -EFAULT;
		c->head = (c->head + 1) % c->cap;
		c->n--;
		k++;
	}
	return k;
}

/* (lock held) drops our wake requests' events from the n at ev: how many are left */
static long drop_wakes(struct ctx_events *c, struct io_event *ev, long n)
{
	long kept = 0;
	for (long i = 0; i < n; i++) {
		if (ev[i].obj == (uint64_t)(uintptr_t)&wake_iocb) {
			if (c && c->wakes)
				c->wakes--;
			continue;
		}
		ev[kept++] = ev[i];
	}
	return kept;
}

static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/*
 * How long the kernel waits for ts (timespec64_to_ktime, then a relative
 * hrtimer): any value goes, none is EINVAL; false for ever (no ts, a
 * number of seconds past ktime's, or a negative or overflowing sum, which
 * the timer's ktime_add_safe takes for its largest time; past half of
 * ktime's range, centuries, too, so that the deadline cannot overflow).
 */
static bool wait_ns(const struct timespec *t, int64_t *ns)
{
	if (!t || (uint64_t)t->tv_sec >= (uint64_t)INT64_MAX / 1000000000)
		return false;
	*ns = (int64_t)((uint64_t)t->tv_sec * 1000000000 + (uint64_t)t->tv_nsec);
	return *ns >= 0 && *ns <= INT64_MAX / 2;
}

/* io_pgetevents' signal mask, checked as the kernel does before it looks for events */
static int sigmask_check(const void *usig)
{
	struct {
		const void *set;
		size_t size;
	} s;
	uint64_t mask;
	if (!usig)
		return 0;
	if (dn_fault_copy_in(&s, usig, sizeof(s)) < 0)
		return -EFAULT;
	if (!s.set)
		return 0;
	if (s.size != sizeof(mask))
		return -EINVAL;
	return dn_fault_copy_in(&mask, s.set, sizeof(mask)) < 0 ? -EFAULT : 0;
}

long dn_io_getevents(aio_context_t ctx, long min_nr, long nr, struct io_event *ev,
		     struct timespec *ts, const void *usig)
{
	struct timespec t;
	if (ts && dn_fault_copy_in(&t, ts, sizeof(t)) < 0)
		return -EFAULT;
	int64_t wait = 0;
	bool timed = wait_ns(ts ? &t : NULL, &wait);
	int err = sigmask_check(usig);
	if (err < 0)
		return err;
	pthread_mutex_lock(&lock);
	/* every caller counts as a sleeper, so that a completion of ours wakes it */
	struct ctx_events *c = ctx_get(ctx, &err);
	if (!c || min_nr < 0 || min_nr > nr) {
		pthread_mutex_unlock(&lock);
		return sys_getevents(ctx, min_nr, nr, ev, ts, usig); /* (its answer) */
	}
	int64_t deadline = timed ? now_ns() + wait : 0;
	long got = 0;
	for (;;) {
		long k = take(c, ev + got, nr - got);
		if (k < 0) {
			got = got ? got : k;
			break;
		}
		got += k;
		if (got >= nr)
			break;
		bool enough = got >= min_nr;
		struct timespec left = {0, 0};
		if (!enough && timed) {
			int64_t ns = deadline - now_ns();
			ns = ns > 0 ? ns : 0;
			left = (struct timespec){ns / 1000000000, ns % 1000000000};
		}
		c->sleepers++;
		pthread_mutex_unlock(&lock);
		long r = sys_getevents(ctx, enough ? 0 : min_nr - got, nr - got, ev + got,
				       enough || timed ? &left : NULL, usig);
		pthread_mutex_lock(&lock);
		c = ctx_find(ctx); /* (io_destroy by another thread meanwhile) */
		if (c)
			c->sleepers--;
		if (r < 0) {
			got = got ? got : r;
			break;
		}
		long kept = drop_wakes(c, ev + got, r);
		got += kept;
		/* only a wake sends us round again: the kernel had what was asked, or time ran out */
		if (kept == r || enough || !c)
			break;
	}
	/* wakes this call dropped, for events it left: the sleepers still need theirs */
	if (c)
		ctx_wake(c);
	pthread_mutex_unlock(&lock);
	return got;
}

long dn_io_destroy(aio_context_t ctx)
{
	long r = REAL(syscall)(SYS_io_destroy, ctx);
	r = r < 0 ? -errno : r;
	pthread_mutex_lock(&lock);
	for (struct ctx_events **p = &contexts; *p; p = &(*p)->next) {
		if ((*p)->ctx == ctx) {
			struct ctx_events *c = *p;
			*p = c->next;
			free(c->ev);
			free(c);
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return r;
}

/* libaio's entry points (io_context_t is the kernel's context number; they answer -errno) */

DN_EXPORT int io_submit(aio_context_t ctx, long nr, struct iocb **iocbs)
{
	return (int)dn_io_submit(ctx, nr, iocbs);
}

/* libaio's own shortcut: a look that must not wait, at an empty ring, is 0 without a call */
static bool nothing_ready(aio_context_t ctx, const struct timespec *ts)
{
	struct {
		unsigned id, nr, head, tail, magic;
	} ring;
	struct timespec t;
	if (!ts || dn_fault_copy_in(&t, ts, sizeof(t)) < 0 || t.tv_sec || t.tv_nsec ||
	    dn_fault_copy_in(&ring, (const void *)(uintptr_t)ctx, sizeof(ring)) < 0 ||
	    ring.magic != 0xa10a10a1 || ring.head != ring.tail)
		return false;
	pthread_mutex_lock(&lock);
	struct ctx_events *c = ctx_find(ctx);
	bool none = !c || c->n == 0;
	pthread_mutex_unlock(&lock);
	return none;
}

DN_EXPORT int io_getevents(aio_context_t ctx, long min_nr, long nr, struct io_event *ev,
			   struct timespec *ts)
{
	if (nothing_ready(ctx, ts))
		return 0;
	return (int)dn_io_getevents(ctx, min_nr, nr, ev, ts, NULL);
}

DN_EXPORT int io_pgetevents(aio_context_t ctx, long min_nr, long nr, struct io_event *ev,
			    struct timespec *ts, sigset_t *sigmask)
{
	struct {
		const sigset_t *set;
		size_t size;
	} usig = {sigmask, _NSIG / 8};
	if (nothing_ready(ctx, ts))
		return 0;
	return (int)dn_io_getevents(ctx, min_nr, nr, ev, ts, sigmask ? &usig : NULL);
}

DN_EXPORT int io_destroy(aio_context_t ctx)
{
	return (int)dn_io_destroy(ctx);
}

/* (libaio's own calls io_destroy inside itself, which no preload sees) */
DN_EXPORT int io_queue_release(aio_context_t ctx)
{
	return (int)dn_io_destroy(ctx);
}

/* Each completion ready now to the callback its request carries (libaio's io_set_callback). */
DN_EXPORT int io_queue_run(aio_context_t ctx)
{
	struct timespec zero = {0, 0};
	struct io_event e;
	long r;
	while ((r = dn_io_getevents(ctx, 0, 1, &e, &zero, NULL)) == 1) {
		void (*cb)(aio_context_t, struct iocb *, long, long) =
			(void (*)(aio_context_t, struct iocb *, long, long))(uintptr_t)e.data;
		cb(ctx, (struct iocb *)(uintptr_t)e.obj, (long)e.res, (long)e.res2);
	}
	return (int)r;
}
