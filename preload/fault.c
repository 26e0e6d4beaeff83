/* Fault Guard: reading and writing the caller's memory, where a bad pointer gets EFAULT */
#include "fault.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "export.h"
#include "real.h"

__thread struct dn_fault_frame *dn_fault_cur __attribute__((tls_model("initial-exec")));
_Atomic bool dn_fault_installed;

/* ---- the guarded accesses ---------------------------------------------- */

/*
 * Each runs its accesses in a function of its own under one frame, so
 * nothing the compiler keeps in a register lives across the sigsetjmp.
 */

int dn_fault_copy_in(void *dst, const void *src, size_t n)
{
	if (n == 0)
		return 0;
	if (dn_fault_low(src))
		return -EFAULT;
	struct dn_fault_frame f;
	dn_fault_push(&f, src, n);
	if (sigsetjmp(f.env, 0))
		return -EFAULT;
	memcpy(dst, src, n);
	dn_fault_pop(&f);
	return 0;
}

int dn_fault_copy_out(void *dst, const void *src, size_t n)
{
	if (n == 0)
		return 0;
	if (dn_fault_low(dst))
		return -EFAULT;
	struct dn_fault_frame f;
	dn_fault_push(&f, dst, n);
	if (sigsetjmp(f.env, 0))
		return -EFAULT;
	memcpy(dst, src, n);
	dn_fault_pop(&f);
	return 0;
}

/*
 * One access in each page of [at, end), in order; *reached: how far from
 * at the pages touched so far reach (end once all went well).
 */
__attribute__((noinline)) static void touch(uintptr_t at, uintptr_t end, bool write,
					    volatile size_t *reached)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), start = at;
	for (;;) {
		if (write) /* atomic: a byte another thread writes meanwhile stays its */
			__atomic_fetch_or((unsigned char *)at, 0, __ATOMIC_RELAXED);
		else
			(void)*(volatile unsigned char *)at;
		uintptr_t next = (at & ~(page - 1)) + page;
		if (next >= end || next < at) {
			*reached = end - start;
			return;
		}
		*reached = next - start;
		at = next;
	}
}

size_t dn_fault_prefix(const void *p, size_t n, bool write)
{
	if (n == 0 || dn_fault_low(p))
		return 0;
	uintptr_t at = (uintptr_t)p;
	/* a range past the end of the address space ends there */
	uintptr_t end = at + n < at ? UINTPTR_MAX : at + n;
	volatile size_t reached = 0;
	struct dn_fault_frame f;
	dn_fault_push(&f, p, end - at);
	if (sigsetjmp(f.env, 0))
		return reached;
	touch(at, end, write, &reached);
	dn_fault_pop(&f);
	return reached;
}

int dn_fault_readable(const void *p, size_t n)
{
	return dn_fault_prefix(p, n, false) == n ? 0 : -EFAULT;
}

int dn_fault_writable(void *p, size_t n)
{
	return dn_fault_prefix(p, n, true) == n ? 0 : -EFAULT;
}

ssize_t dn_fault_copy_in_prefix(void *dst, const void *src, size_t n)
{
	if (dn_fault_copy_in(dst, src, n) == 0)
		return (ssize_t)n;
	/* the bytes before the fault may not all be there (memcpy's order is its own) */
	size_t ok = dn_fault_prefix(src, n, false);
	if (ok == 0 || dn_fault_copy_in(dst, src, ok) < 0)
		return -EFAULT;
	return (ssize_t)ok;
}

ssize_t dn_fault_copy_out_prefix(void *dst, const void *src, size_t n)
{
	if (dn_fault_copy_out(dst, src, n) == 0)
		return (ssize_t)n;
	size_t ok = dn_fault_prefix(dst, n, true);
	if (ok == 0 || dn_fault_copy_out(dst, src, ok) < 0)
		return -EFAULT;
	return (ssize_t)ok;
}

long dn_fault_strcpy_in(char *dst, const char *src, size_t max)
{
	if (dn_fault_low(src))
		return -EFAULT;
	struct dn_fault_frame f;
	dn_fault_push(&f, src, max);
	if (sigsetjmp(f.env, 0))
		return -EFAULT;
	size_t n = strnlen(src, max);
	if (n < max)
		memcpy(dst, src, n + 1);
	dn_fault_pop(&f);
	if (n == max)
		return -ENAMETOOLONG;
	return (long)n;
}

/* ---- the handler, and the program's own actions for SIGSEGV and SIGBUS ---- */

/*
 * The kernel holds our handler for both signals; the program's actions
 * live here, in what sigaction() and friends set and report. A fault that
 * is not ours is delivered to the program's action the way the kernel
 * would have: its handler with its mask (and the signal unless
 * SA_NODEFER), SA_RESETHAND honoured; a default or ignored action for a
 * fault kills the process as the kernel does, with the same signal.
 */

static int real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return REAL(sigaction)(sig, act, old);
}

static struct sigaction app[2]; /* SIGSEGV, SIGBUS */
static atomic_flag app_lock = ATOMIC_FLAG_INIT;
/* What libc adds to every action it hands the kernel (SA_RESTORER and its trampoline). */
static int added_flags;
static void (*added_restorer)(void);
/*
 * The process that installed the handler: a child that shares our memory
 * without fork's handlers having run (a raw clone) must not write here.
 */
static pid_t owner;

static int slot(int sig)
{
	return sig == SIGSEGV ? 0 : sig == SIGBUS ? 1 : -1;
}

/*
 * Holders block every signal, so a handler never waits for its own thread;
 * nothing between lock and unlock can fault.
 */
static void lock(sigset_t *saved)
{
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, saved);
	while (atomic_flag_test_and_set_explicit(&app_lock, memory_order_acquire))
		sched_yield();
}

static void unlock(const sigset_t *saved)
{
	atomic_flag_clear_explicit(&app_lock, memory_order_release);
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}

/* In the handler: no need to block what the kernel does not deliver meanwhile. */
static void handler_lock(void)
{
	while (atomic_flag_test_and_set_explicit(&app_lock, memory_order_acquire))
		sched_yield();
}

static void handler_unlock(void)
{
	atomic_flag_clear_explicit(&app_lock, memory_order_release);
}

static void deliver(int sig, siginfo_t *si, void *uc)
{
	int s = slot(sig);
	handler_lock();
	struct sigaction a = app[s];
	if (a.sa_handler != SIG_DFL && a.sa_handler != SIG_IGN && (a.sa_flags & SA_RESETHAND))
		app[s].sa_handler = SIG_DFL;
	handler_unlock();
	/* kernel-made: a fault (it comes back if we return), not a kill() */
	bool fault = si->si_code > 0;
	if (a.sa_handler == SIG_IGN && !fault)
		return;
	if (a.sa_handler == SIG_DFL || a.sa_handler == SIG_IGN) {
		int e = errno;
		struct sigaction dfl = {.sa_handler = SIG_DFL};
		real_sigaction(sig, &dfl, NULL);
		if (!fault)
			raise(sig);
		errno = e;
		return; /* a fault meets the default action when the instruction runs again */
	}
	sigset_t m = a.sa_mask;
	if (!(a.sa_flags & SA_NODEFER))
		sigaddset(&m, sig);
	/* Ours runs with the mask of the moment of the fault: add what the kernel would. */
	int e = errno;
	pthread_sigmask(SIG_BLOCK, &m, NULL);
	errno = e;
	if (a.sa_flags & SA_SIGINFO)
		a.sa_sigaction(sig, si, uc);
	else
		a.sa_handler(sig);
	/* returning: sigreturn restores the mask of the fault from uc */
}

/*
 * The stack pointer at the fault. A live frame lies above it (the guarded
 * access runs in the frame's function or below); a frame left behind by a
 * program's handler that longjmp'd out of our guarded access may not.
 */
static uintptr_t fault_sp(const void *uc)
{
	const ucontext_t *u = uc;
#if defined(__x86_64__)
	return (uintptr_t)u->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
	return (uintptr_t)u->uc_mcontext.sp;
#else
	(void)u;
	return 0;
#endif
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	struct dn_fault_frame *f = dn_fault_cur;
	if (f && si->si_code > 0 && (uintptr_t)f > fault_sp(uc)) {
		uintptr_t a = (uintptr_t)si->si_addr;
		/* x86-64 reports an access to a non-canonical address with no address */
		if ((a >= f->lo && a < f->hi) || (si->si_code == SI_KERNEL && a == 0)) {
			dn_fault_cur = f->prev;
			siglongjmp(f->env, 1);
		}
	}
	deliver(sig, si, uc);
}

void dn_fault_install(void)
{
	sigset_t saved;
	lock(&saved);
	if (!atomic_load_explicit(&dn_fault_installed, memory_order_relaxed)) {
		struct sigaction ours = {.sa_sigaction = on_fault,
					 .sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK};
		sigemptyset(&ours.sa_mask);
		real_sigaction(SIGSEGV, &ours, &app[0]);
		real_sigaction(SIGBUS, &ours, &app[1]);
		struct sigaction k;
		if (real_sigaction(SIGSEGV, NULL, &k) == 0) {
			added_flags = k.sa_flags & ~ours.sa_flags;
			added_restorer = k.sa_restorer;
		}
		owner = getpid();
		atomic_store_explicit(&dn_fault_installed, true, memory_order_release);
	}
	unlock(&saved);
}

static void fork_child(void)
{
	/* the child's own memory: its lock is free, its pid is new */
	atomic_flag_clear(&app_lock);
	if (atomic_load(&dn_fault_installed))
		owner = getpid();
}

__attribute__((constructor)) static void fault_setup(void)
{
	pthread_atfork(NULL, NULL, fork_child);
}

/* sigaction for SIGSEGV/SIGBUS once ours is installed: the program's own, kept here. */
static int app_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction in, out;
	if (act) { /* libc reads it before the kernel sees it, too */
		in = *act;
		in.sa_flags |= added_flags;
		if (added_restorer)
			in.sa_restorer = added_restorer;
		sigdelset(&in.sa_mask, SIGKILL); /* the kernel drops these */
		sigdelset(&in.sa_mask, SIGSTOP);
	}
	int r = 0;
	sigset_t saved;
	lock(&saved);
	int s = slot(sig);
	if (!atomic_load_explicit(&dn_fault_installed, memory_order_relaxed) || getpid() != owner) {
		r = real_sigaction(sig, act, old ? &out : NULL);
	} else {
		out = app[s];
		if (act)
			app[s] = in;
	}
	unlock(&saved);
	if (r == 0 && old)
		*old = out;
	return r;
}

DN_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (slot(sig) < 0)
		return real_sigaction(sig, act, old);
	return app_sigaction(sig, act, old);
}

int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);
DN_EXPORT int __sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return sigaction(sig, act, old);
}

/*
 * glibc builds these on its internal sigaction, which we cannot see: for
 * our two signals they are rebuilt here as glibc 2.36 has them, on ours.
 */
static __sighandler_t set_handler(int sig, __sighandler_t h, int flags, bool mask_self)
{
	if (h == SIG_ERR) {
		errno = EINVAL;
		return SIG_ERR;
	}
	struct sigaction act = {.sa_handler = h, .sa_flags = flags}, old;
	sigemptyset(&act.sa_mask);
	if (mask_self)
		sigaddset(&act.sa_mask, sig);
	if (app_sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

/* BSD semantics, glibc's signal(): the signal masked in its handler, calls restarted. */
DN_EXPORT __sighandler_t signal(int sig, __sighandler_t h)
{
	if (slot(sig) >= 0)
		return set_handler(sig, h, SA_RESTART, true);
	return REAL(signal)(sig, h);
}

__sighandler_t bsd_signal(int sig, __sighandler_t h);
DN_EXPORT __sighandler_t bsd_signal(int sig, __sighandler_t h)
{
	return signal(sig, h);
}

/* glibc's ssignal is its signal under another name. */
DN_EXPORT __sighandler_t ssignal(int sig, __sighandler_t h)
{
	return signal(sig, h);
}

/* System V semantics: one-shot, not masked in its handler. */
DN_EXPORT __sighandler_t sysv_signal(int sig, __sighandler_t h)
{
	if (slot(sig) >= 0)
		return set_handler(sig, h, SA_RESETHAND | SA_NODEFER, false);
	return REAL(sysv_signal)(sig, h);
}

DN_EXPORT __sighandler_t __sysv_signal(int sig, __sighandler_t h)
{
	return sysv_signal(sig, h);
}

DN_EXPORT __sighandler_t sigset(int sig, __sighandler_t h)
{
	if (slot(sig) < 0)
		return REAL(sigset)(sig, h);
	if (h == SIG_ERR) {
		errno = EINVAL;
		return SIG_ERR;
	}
	sigset_t set, oset;
	sigemptyset(&set);
	sigaddset(&set, sig);
	struct sigaction old;
	if (h == SIG_HOLD) {
		if (sigprocmask(SIG_BLOCK, &set, &oset) < 0)
			return SIG_ERR;
		if (sigismember(&oset, sig))
			return SIG_HOLD;
		if (app_sigaction(sig, NULL, &old) < 0)
			return SIG_ERR;
		return old.sa_handler;
	}
	__sighandler_t prev = set_handler(sig, h, 0, false);
	if (prev == SIG_ERR)
		return SIG_ERR;
	if (sigprocmask(SIG_UNBLOCK, &set, &oset) < 0)
		return SIG_ERR;
	return sigismember(&oset, sig) ? SIG_HOLD : prev;
}

DN_EXPORT int sigignore(int sig)
{
	if (slot(sig) >= 0)
		return set_handler(sig, SIG_IGN, 0, false) == SIG_ERR ? -1 : 0;
	return REAL(sigignore)(sig);
}
