/* Caller's Umask: files a worker creates get its caller's umask, as from the kernel */
#include "umask.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

static _Thread_local bool own_fs;  /* this thread's umask is its own */
static _Thread_local mode_t in_force; /* its umask, when own_fs */
static _Thread_local mode_t caller;

int dn_umask_thread_init(void)
{
	if (unshare(CLONE_FS) < 0) {
		int e = errno;
		static atomic_bool told;
		if (!atomic_exchange(&told, true))
			dn_log_warning("workers cannot have umasks of their own (unshare: %s): "
				       "the pool applies callers' umasks, also under default ACLs",
				       strerror(e));
		return -e;
	}
	own_fs = true;
	in_force = umask(0);
	umask(in_force);
	return 0;
}

bool dn_umask_set(mode_t mask)
{
	caller = mask & 0777;
	if (!own_fs)
		return false;
	if (caller != in_force) {
		umask(caller);
		in_force = caller;
	}
	return true;
}

mode_t dn_umask_caller(void)
{
	return caller;
}

bool dn_umask_by_kernel(void)
{
	return own_fs;
}
