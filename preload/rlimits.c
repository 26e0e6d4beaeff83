/* Resource Limits: the process's RLIMIT_FSIZE, which the kernel applies to writes */
#include "rlimits.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <unistd.h>

#include "export.h"
#include "real.h"

/*
 * Cached: getrlimit on every write would cost a system call. The library
 * sees the process change its own limit (setrlimit, prlimit); a change by
 * another process (prlimit(1) on a running program) is seen at the next
 * exec, as it would be by any program that caches it.
 */
static _Atomic uint64_t fsize_wire; /* RLIMIT_FSIZE + 1; 0: unlimited */

void dn_limits_refresh(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0)
		atomic_store(&fsize_wire, (uint64_t)rl.rlim_cur + 1); /* RLIM_INFINITY + 1 == 0 */
}

uint64_t dn_limits_fsize_wire(void)
{
	return atomic_load_explicit(&fsize_wire, memory_order_relaxed);
}

int dn_limits_fsize_exceeded(void)
{
	/* as the kernel's send_sig(SIGXFSZ, current): to this thread */
	raise(SIGXFSZ);
	return -EFBIG;
}

int dn_limits_fsize_check(uint64_t end)
{
	uint64_t w = dn_limits_fsize_wire();
	return w && end > w - 1 ? dn_limits_fsize_exceeded() : 0;
}

DN_EXPORT int setrlimit(__rlimit_resource_t res, const struct rlimit *rl)
{
	int r = REAL(setrlimit)(res, rl);
	if (r == 0 && res == RLIMIT_FSIZE)
		dn_limits_refresh();
	return r;
}

/* The same structures on the 64-bit targets we build for. */
_Static_assert(sizeof(struct rlimit) == sizeof(struct rlimit64), "64-bit rlimit layout");

DN_EXPORT int setrlimit64(__rlimit_resource_t res, const struct rlimit64 *rl)
{
	return setrlimit(res, (const struct rlimit *)rl);
}

DN_EXPORT int prlimit(pid_t pid, __rlimit_resource_t res, const struct rlimit *new,
		      struct rlimit *old)
{
	int r = REAL(prlimit)(pid, res, new, old);
	if (r == 0 && new && res == RLIMIT_FSIZE && (pid == 0 || pid == getpid()))
		dn_limits_refresh();
	return r;
}

DN_EXPORT int prlimit64(pid_t pid, __rlimit_resource_t res, const struct rlimit64 *new,
			struct rlimit64 *old)
{
	return prlimit(pid, res, (const struct rlimit *)new, (struct rlimit *)old);
}
