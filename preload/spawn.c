/* Process Spawning: posix_spawn whose child keeps the Danaus session, fds and paths */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "client.h"
#include "export.h"
#include "fork-guard.h"
#include "ops.h"
#include "real.h"
#include "route.h"

/*
 * glibc's posix_spawn clones and execs inside libc: the child would lose the
 * session and Danaus fds, and its file actions would open Danaus paths in
 * the kernel. So we record each file-actions object's actions beside it
 * (glibc's own object stays valid for anyone else) and, when Danaus is
 * involved, spawn with fork + our interposed calls + dn_exec.
 */

enum act_kind {
	ACT_OPEN,
	ACT_CLOSE,
	ACT_DUP2,
	ACT_CHDIR,
	ACT_FCHDIR,
	ACT_CLOSEFROM,
	ACT_TCSETPGRP
};

struct act {
	enum act_kind kind;
	int fd;	   /* the fd acted on (dup2: the source) */
	int newfd; /* dup2: the target */
	int oflag;
	mode_t mode;
	char *path; /* open, chdir: owned */
};

/* The actions recorded for one posix_spawn_file_actions_t, keyed by its address. */
struct recorded {
	struct recorded *next;
	const posix_spawn_file_actions_t *key;
	struct act *acts;
	int n, cap;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct recorded *table;

__attribute__((constructor)) static void table_fork_setup(void)
{
	dn_fork_guard(&table_lock);
}

static struct recorded **table_find(const posix_spawn_file_actions_t *fa)
{
	struct recorded **p = &table;
	while (*p && (*p)->key != fa)
		p = &(*p)->next;
	return p;
}

static void recorded_clear(struct recorded *r)
{
	for (int i = 0; i < r->n; i++)
		free(r->acts[i].path);
	free(r->acts);
	r->acts = NULL;
	r->n = r->cap = 0;
}

static void table_forget(const posix_spawn_file_actions_t *fa)
{
	pthread_mutex_lock(&table_lock);
	struct recorded **p = table_find(fa);
	struct recorded *r = *p;
	if (r) {
		*p = r->next;
		recorded_clear(r);
		free(r);
	}
	pthread_mutex_unlock(&table_lock);
}

/*
 * Appends one action (libc already accepted it). When memory runs out the
 * action goes unrecorded: our count then differs from glibc's and
 * posix_spawn leaves that object to libc rather than run half of it.
 */
static void table_add(const posix_spawn_file_actions_t *fa, struct act a, const char *path)
{
	if (path && !(a.path = strdup(path)))
		return;
	pthread_mutex_lock(&table_lock);
	struct recorded **p = table_find(fa);
	if (!*p && (*p = calloc(1, sizeof(**p))))
		(*p)->key = fa;
	struct recorded *r = *p;
	if (r && r->n == r->cap) {
		int cap = r->cap ? 2 * r->cap : 4;
		struct act *acts = realloc(r->acts, (size_t)cap * sizeof(*acts));
		if (acts) {
			r->acts = acts;
			r->cap = cap;
		}
	}
	if (r && r->n < r->cap) {
		r->acts[r->n++] = a;
		a.path = NULL;
	}
	pthread_mutex_unlock(&table_lock);
	free(a.path);
}

DN_EXPORT int posix_spawn_file_actions_init(posix_spawn_file_actions_t *fa)
{
	/* A fresh object: whatever an earlier one at this address left is stale. */
	table_forget(fa);
	return REAL(posix_spawn_file_actions_init)(fa);
}

DN_EXPORT int posix_spawn_file_actions_destroy(posix_spawn_file_actions_t *fa)
{
	table_forget(fa);
	return REAL(posix_spawn_file_actions_destroy)(fa);
}

DN_EXPORT int posix_spawn_file_actions_addopen(posix_spawn_file_actions_t *restrict fa, int fd,
					       const char *restrict path, int oflag, mode_t mode)
{
	int r = REAL(posix_spawn_file_actions_addopen)(fa, fd, path, oflag, mode);
	if (r == 0)
		table_add(fa,
			  (struct act){.kind = ACT_OPEN, .fd = fd, .oflag = oflag, .mode = mode},
			  path);
	return r;
}

DN_EXPORT int posix_spawn_file_actions_addclose(posix_spawn_file_actions_t *fa, int fd)
{
	int r = REAL(posix_spawn_file_actions_addclose)(fa, fd);
	if (r == 0)
		table_add(fa, (struct act){.kind = ACT_CLOSE, .fd = fd}, NULL);
	return r;
}

DN_EXPORT int posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *fa, int fd, int newfd)
{
	int r = REAL(posix_spawn_file_actions_adddup2)(fa, fd, newfd);
	if (r == 0)
		table_add(fa, (struct act){.kind = ACT_DUP2, .fd = fd, .newfd = newfd}, NULL);
	return r;
}

DN_EXPORT int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *restrict fa,
						   const char *restrict path)
{
	int r = REAL(posix_spawn_file_actions_addchdir_np)(fa, path);
	if (r == 0)
		table_add(fa, (struct act){.kind = ACT_CHDIR}, path);
	return r;
}

DN_EXPORT int posix_spawn_file_actions_addfchdir_np(posix_spawn_file_actions_t *fa, int fd)
{
	int r = REAL(posix_spawn_file_actions_addfchdir_np)(fa, fd);
	if (r == 0)
		table_add(fa, (struct act){.kind = ACT_FCHDIR, .fd = fd}, NULL);
	return r;
}

DN_EXPORT int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *fa, int from)
{
	int r = REAL(posix_spawn_file_actions_addclosefrom_np)(fa, from);
	if (r == 0)
		table_add(fa, (struct act){.kind = ACT_CLOSEFROM, .fd = from}, NULL);
	return r;
}

DN_EXPORT int posix_spawn_file_actions_addtcsetpgrp_np(posix_spawn_file_actions_t *fa, int tcfd)
{
	int r = REAL(posix_spawn_file_actions_addtcsetpgrp_np)(fa, tcfd);
	if (r == 0)
		table_add(fa, (struct act){.kind = ACT_TCSETPGRP, .fd = tcfd}, NULL);
	return r;
}

/* Could an action reach the Danaus mount? Conservative: when unsure, yes. */
static bool names_danaus(const struct recorded *r)
{
	bool moved = false; /* after a chdir action, relative paths start elsewhere */
	for (int i = 0; r && i < r->n; i++) {
		const struct act *a = &r->acts[i];
		if (a->kind == ACT_OPEN || a->kind == ACT_CHDIR) {
			struct dn_target t;
			if ((moved && a->path[0] != '/') || dn_route(AT_FDCWD, a->path, &t) != 0)
				return true;
		}
		moved |= a->kind == ACT_CHDIR || a->kind == ACT_FCHDIR;
	}
	return false;
}

/* ---- the child, between fork and exec: stack only, no locks of ours ---- */

struct child {
	int errfd; /* CLOEXEC pipe to the parent: an errno, or EOF once exec worked */
	const struct recorded *rec;
	const posix_spawnattr_t *attr;
	const sigset_t *parent_mask;
	const char *path;
	char *const *argv, *const *envp;
	bool search;
};

/* Tells the parent why, and ends: what glibc's child does (exit status 127). */
static _Noreturn void child_fail(const struct child *c, int err)
{
	ssize_t w;
	do
		w = REAL(write)(c->errfd, &err, sizeof(err));
	while (w < 0 && errno == EINTR);
	_exit(127); /* ours: drops the references the fork gave us */
}

/* Our pipe lives on a number the program did not have; an action naming it moves it away. */
static void clear_errfd(struct child *c, int fd)
{
	if (fd != c->errfd)
		return;
	int nfd = REAL(fcntl)(c->errfd, F_DUPFD_CLOEXEC, 0);
	if (nfd < 0)
		child_fail(c, errno);
	REAL(close)(c->errfd);
	c->errfd = nfd;
}

struct fd_range {
	unsigned first, last;
};

static void close_danaus_in(int fd, int32_t ofd, void *arg)
{
	(void)ofd;
	const struct fd_range *r = arg;
	if ((unsigned)fd >= r->first && (unsigned)fd <= r->last)
		close(fd); /* ours: drops the reference on the open file description */
}

/* Our own descriptors: the candidates close_range keeps. */
struct fd_list {
	int fd[3 + DN_MAX_QUEUES + 2];
	size_t n;
};

static void list_fd(int *fd, void *arg)
{
	struct fd_list *l = arg;
	if (l->n < DN_ARRAY_SIZE(l->fd))
		l->fd[l->n++] = *fd;
}

/*
 * close_range that drops the references of Danaus fds and keeps our own
 * descriptors (the session; extra, when >= 0): the kernel's call between them.
 */
static int close_range_keeping(unsigned first, unsigned last, int flags, int extra)
{
	/* a flag the kernel may know and we do not: refused before any fd is touched */
	if (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC))
		return -EINVAL;
	if (first > last || (flags & CLOSE_RANGE_CLOEXEC)) /* EINVAL; or closes nothing */
		return REAL(close_range)(first, last, flags) < 0 ? -errno : 0;
	struct fd_range range = {first, last};
	if (atomic_load(&dn_client.attached))
		dn_fdmap_each(close_danaus_in, &range);
	struct fd_list cand = {.fd = {extra, dn_client.placeholder}, .n = 2};
	if (atomic_load(&dn_client.attached))
		dn_chan_each_fd(&dn_client.chan, list_fd, &cand);
	unsigned keep[DN_ARRAY_SIZE(cand.fd)];
	int n = 0;
	for (size_t i = 0; i < cand.n; i++) {
		if (cand.fd[i] < 0 || (i > 0 && !dn_is_internal_fd(cand.fd[i])))
			continue;
		unsigned k = (unsigned)cand.fd[i];
		if (k < first || k > last)
			continue;
		int j = n++;
		for (; j > 0 && keep[j - 1] > k; j--) /* insertion sort */
			keep[j] = keep[j - 1];
		keep[j] = k;
	}
	unsigned lo = first;
	for (int i = 0; i < n; i++) {
		if (keep[i] > lo && REAL(close_range)(lo, keep[i] - 1, flags) < 0)
			return -errno;
		if (keep[i] == last)
			return 0;
		if (keep[i] >= lo)
			lo = keep[i] + 1;
	}
	return REAL(close_range)(lo, last, flags) < 0 ? -errno : 0;
}

/*
 * Not posix_spawn, but its neighbour: a child between fork and exec (Python's
 * subprocess, for one) closes "every other fd" with these, and must not cut
 * the session the exec is about to hand on.
 */
DN_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	if (!atomic_load_explicit(&dn_client.attached, memory_order_relaxed))
		return REAL(close_range)(first, last, flags);
	int r = close_range_keeping(first, last, flags, -1);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

DN_EXPORT void closefrom(int lowfd)
{
	if (!atomic_load_explicit(&dn_client.attached, memory_order_relaxed) || lowfd < 0) {
		REAL(closefrom)(lowfd);
		return;
	}
	close_range_keeping((unsigned)lowfd, ~0U, 0, -1);
}

/* One file action, as glibc's child runs it; -errno on failure. */
static int child_action(struct child *c, const struct act *a)
{
	switch (a->kind) {
	case ACT_CLOSE:
		clear_errfd(c, a->fd);
		/* glibc reports only fds out of range; closing a closed fd is fine */
		if (close(a->fd) < 0 && errno == EBADF &&
		    (a->fd < 0 || a->fd >= sysconf(_SC_OPEN_MAX)))
			return -EBADF;
		return 0;
	case ACT_OPEN: {
		clear_errfd(c, a->fd);
		/* POSIX: an fd already open there is closed before the open */
		close(a->fd);
		int fd = open(a->path, a->oflag, a->mode);
		if (fd < 0)
			return -errno;
		if (fd != a->fd) {
			int r = dup2(fd, a->fd) < 0 ? -errno : 0;
			close(fd);
			return r;
		}
		return 0;
	}
	case ACT_DUP2:
		if (a->fd == a->newfd) {
			/* glibc (and POSIX 2024): the same fd only loses close-on-exec */
			int fl = fcntl(a->fd, F_GETFD);
			if (fl < 0 || fcntl(a->fd, F_SETFD, fl & ~FD_CLOEXEC) < 0)
				return -errno;
			return 0;
		}
		clear_errfd(c, a->fd); /* the program never had this fd: EBADF, as in glibc */
		clear_errfd(c, a->newfd);
		return dup2(a->fd, a->newfd) < 0 ? -errno : 0;
	case ACT_CHDIR:
		return chdir(a->path) < 0 ? -errno : 0;
	case ACT_FCHDIR:
		return fchdir(a->fd) < 0 ? -errno : 0;
	case ACT_CLOSEFROM:
		return close_range_keeping((unsigned)a->fd, ~0U, 0, c->errfd);
	case ACT_TCSETPGRP:
		return tcsetpgrp(a->fd, getpgrp()) < 0 ? -errno : 0;
	}
	return -EINVAL;
}

/* The attributes and actions in glibc's order, then exec. Never returns. */
static _Noreturn void child_run(struct child *c)
{
	const posix_spawnattr_t *attr = c->attr;
	short flags = 0;
	sigset_t def;
	sigemptyset(&def);
	if (attr) {
		posix_spawnattr_getflags(attr, &flags);
		if (flags & POSIX_SPAWN_SETSIGDEF)
			posix_spawnattr_getsigdefault(attr, &def);
	}
	/* Signals stay blocked until exec. Handlers the parent caught with would
	 * run parent code in this child; exec resets them anyway, so do it now. */
	for (int s = 1; s < _NSIG; s++) {
		struct sigaction sa;
		if (sigaction(s, NULL, &sa) < 0)
			continue; /* SIGKILL, SIGSTOP, glibc's own */
		if (sigismember(&def, s) != 1 && sa.sa_handler == SIG_IGN)
			continue;
		if (sa.sa_handler == SIG_DFL)
			continue;
		sa.sa_handler = SIG_DFL;
		sa.sa_flags = 0;
		sigemptyset(&sa.sa_mask);
		sigaction(s, &sa, NULL);
	}
	if (flags & (POSIX_SPAWN_SETSCHEDPARAM | POSIX_SPAWN_SETSCHEDULER)) {
		struct sched_param sp;
		int policy;
		posix_spawnattr_getschedparam(attr, &sp);
		posix_spawnattr_getschedpolicy(attr, &policy);
		if (flags & POSIX_SPAWN_SETSCHEDULER) {
			if (sched_setscheduler(0, policy, &sp) < 0)
				child_fail(c, errno);
		} else if (sched_setparam(0, &sp) < 0) {
			child_fail(c, errno);
		}
	}
	if ((flags & POSIX_SPAWN_SETSID) && setsid() < 0)
		child_fail(c, errno);
	if (flags & POSIX_SPAWN_SETPGROUP) {
		pid_t pg;
		posix_spawnattr_getpgroup(attr, &pg);
		if (setpgid(0, pg) < 0)
			child_fail(c, errno);
	}
	/* The group first: once the effective uid is no longer root it could not change. */
	if ((flags & POSIX_SPAWN_RESETIDS) && (setegid(getgid()) < 0 || seteuid(getuid()) < 0))
		child_fail(c, errno);
	for (int i = 0; c->rec && i < c->rec->n; i++) {
		int r = child_action(c, &c->rec->acts[i]);
		if (r < 0)
			child_fail(c, -r);
	}
	sigset_t mask = *c->parent_mask;
	if (flags & POSIX_SPAWN_SETSIGMASK)
		posix_spawnattr_getsigmask(attr, &mask);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	dn_exec(c->path, c->argv, c->envp, c->search);
	child_fail(c, errno);
}

static int spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
		 const posix_spawnattr_t *attr, char *const argv[], char *const envp[], bool search)
{
	/* Held until the fork: the child reads the recorded actions as they are now. */
	pthread_mutex_lock(&table_lock);
	const struct recorded *rec = NULL;
	if (fa)
		rec = *table_find(fa);
	/* __used is glibc's count: an action we did not see (or could not record)
	 * means only libc can run this object. */
	bool known = !fa || fa->__used == (rec ? rec->n : 0);
	if (!known || (!atomic_load(&dn_client.attached) && !names_danaus(rec))) {
		pthread_mutex_unlock(&table_lock);
		return search ? REAL(posix_spawnp)(pid, path, fa, attr, argv, envp)
			      : REAL(posix_spawn)(pid, path, fa, attr, argv, envp);
	}

	/* As glibc: no signal handler may run in the child before exec. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		int err = errno;
		pthread_mutex_unlock(&table_lock);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return err;
	}
	dn_fork_guard_holding(&table_lock, true);
	pid_t child = REAL(fork)(); /* our atfork handlers give the child its fd references */
	dn_fork_guard_holding(&table_lock, false);
	if (child == 0) {
		REAL(close)(p[0]);
		struct child c = {p[1], rec, attr, &old, path, argv, envp, search};
		child_run(&c);
	}
	int err = child < 0 ? errno : 0;
	pthread_mutex_unlock(&table_lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	REAL(close)(p[1]);
	if (child > 0) {
		int code;
		ssize_t n;
		do
			n = REAL(read)(p[0], &code, sizeof(code));
		while (n < 0 && errno == EINTR);
		if (n == (ssize_t)sizeof(code)) {
			/* The child failed before exec: reap it and report, as glibc does. */
			err = code;
			while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
				;
		}
	}
	REAL(close)(p[0]);
	if (err == 0 && pid)
		*pid = child;
	return err;
}

DN_EXPORT int posix_spawn(pid_t *restrict pid, const char *restrict path,
			  const posix_spawn_file_actions_t *restrict fa,
			  const posix_spawnattr_t *restrict attr, char *const argv[restrict],
			  char *const envp[restrict])
{
	return spawn(pid, path, fa, attr, argv, envp, false);
}

DN_EXPORT int posix_spawnp(pid_t *restrict pid, const char *restrict file,
			   const posix_spawn_file_actions_t *restrict fa,
			   const posix_spawnattr_t *restrict attr, char *const argv[restrict],
			   char *const envp[restrict])
{
	return spawn(pid, file, fa, attr, argv, envp, true);
}
