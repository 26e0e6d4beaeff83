/* fcntl's other commands on Danaus fds: owner, signal, leases, notify, hints, pipes, seals */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "fault.h"
#include "fork-guard.h"
#include "ops.h"
#include "real.h"

/*
 * What the kernel keeps on an open file description for SIGIO and write
 * hints, kept in this process for the pool's descriptions it uses (the
 * placeholder is O_PATH, which refuses them). No SIGIO ever comes from a
 * pool file: a regular file raises it only through leases and dnotify.
 */
struct file_extra {
	int32_t ofd; /* the description's index + 1; 0: free */
	int owner_type, owner, sig;
	uint64_t hint;
};

#define EXTRA_MAX 64
static struct file_extra extras[EXTRA_MAX];
static pthread_mutex_t extras_lock = PTHREAD_MUTEX_INITIALIZER;
/* records in use: while none, an open's dn_fcntl_forget takes no lock */
static atomic_int extras_used;

__attribute__((constructor)) static void extras_fork_setup(void)
{
	dn_fork_guard(&extras_lock);
}

/* The record of ofd (made when make), or NULL. Under extras_lock. */
static struct file_extra *extra_of(int32_t ofd, bool make)
{
	struct file_extra *free_slot = NULL;
	for (size_t i = 0; i < EXTRA_MAX; i++) {
		if (extras[i].ofd == ofd + 1)
			return &extras[i];
		if (!extras[i].ofd && !free_slot)
			free_slot = &extras[i];
	}
	if (!make || !free_slot)
		return NULL;
	*free_slot = (struct file_extra){.ofd = ofd + 1, .owner_type = F_OWNER_PID};
	atomic_fetch_add(&extras_used, 1);
	return free_slot;
}

#ifndef F_GET_RW_HINT
#define F_GET_RW_HINT 1035
#define F_SET_RW_HINT 1036
#endif
#ifndef F_DUPFD_QUERY
#define F_DUPFD_QUERY 1027
#endif
#define DN_RWH_WRITE_LIFE_EXTREME 5

/* As fcntl(2) on a regular file or directory of a filesystem without leases or dnotify. */
int dn_fcntl_more(int fd, int cmd, void *arg)
{
	int32_t ofd;
	struct dn_ofd *o = dn_fd_ofd(fd, &ofd);
	if (!o)
		return -EBADF; /* closed by another thread meanwhile */
	if (o->oflags & O_PATH)
		return -EBADF; /* fcntl on an O_PATH fd: only the commands io.c serves */
	int r = 0;
	switch (cmd) {
	case F_GETOWN:
	case F_GETOWN_EX:
	case F_GETSIG: {
		pthread_mutex_lock(&extras_lock);
		struct file_extra *x = extra_of(ofd, false);
		struct f_owner_ex ex = {x ? x->owner_type : F_OWNER_PID, x ? x->owner : 0};
		int sig = x ? x->sig : 0;
		pthread_mutex_unlock(&extras_lock);
		if (cmd == F_GETSIG)
			return sig;
		if (cmd == F_GETOWN) /* a process group is a negative number */
			return ex.type == F_OWNER_PGRP ? -ex.pid : ex.pid;
		return dn_fault_copy_out(arg, &ex, sizeof(ex)) < 0 ? -EFAULT : 0;
	}
	case F_SETOWN:
	case F_SETOWN_EX:
	case F_SETSIG: {
		int v = (int)(intptr_t)arg; /* F_SETOWN's argument is an int */
		struct f_owner_ex ex = {v < 0 ? F_OWNER_PGRP : F_OWNER_PID, v < 0 ? -(long)v : v};
		if (cmd == F_SETOWN_EX && dn_fault_copy_in(&ex, arg, sizeof(ex)) < 0)
			return -EFAULT;
		if (cmd == F_SETOWN_EX && ex.type != F_OWNER_TID && ex.type != F_OWNER_PID &&
		    ex.type != F_OWNER_PGRP)
			return -EINVAL;
		if (cmd == F_SETOWN && v == INT32_MIN)
			return -EINVAL;
		/* a pid that names nobody is ESRCH, as f_setown finds it */
		if (cmd != F_SETSIG && ex.pid && kill(ex.type == F_OWNER_PGRP ? -ex.pid : ex.pid, 0) < 0 &&
		    errno == ESRCH)
			return -ESRCH;
		if (cmd == F_SETSIG && (uintptr_t)arg > _NSIG)
			return -EINVAL;
		pthread_mutex_lock(&extras_lock);
		struct file_extra *x = extra_of(ofd, true);
		if (!x)
			r = -ENOLCK;
		else if (cmd == F_SETSIG)
			x->sig = (int)(uintptr_t)arg;
		else
			x->owner_type = ex.type, x->owner = ex.pid;
		pthread_mutex_unlock(&extras_lock);
		return r;
	}
	case F_GET_RW_HINT:
	case F_SET_RW_HINT: {
		uint64_t h;
		if (cmd == F_SET_RW_HINT && dn_fault_copy_in(&h, arg, sizeof(h)) < 0)
			return -EFAULT;
		if (cmd == F_SET_RW_HINT && h > DN_RWH_WRITE_LIFE_EXTREME)
			return -EINVAL;
		pthread_mutex_lock(&extras_lock);
		struct file_extra *x = extra_of(ofd, cmd == F_SET_RW_HINT);
		if (cmd == F_SET_RW_HINT && x)
			x->hint = h;
		else if (cmd == F_SET_RW_HINT)
			r = -ENOLCK;
		h = x ? x->hint : 0;
		pthread_mutex_unlock(&extras_lock);
		if (r == 0 && cmd == F_GET_RW_HINT && dn_fault_copy_out(arg, &h, sizeof(h)) < 0)
			r = -EFAULT;
		return r;
	}
	case F_GETLEASE:
		return F_UNLCK; /* nobody holds a lease on a pool file */
	case F_SETLEASE:
		/* as simple_nosetlease (Ceph, NFS...): leases need the kernel's own file */
		return -EINVAL;
	case F_NOTIFY: {
		/* dnotify off (dir_notify_enable=0): EINVAL; a file first is ENOTDIR */
		struct stat st;
		r = dn_op_fstat(fd, &st);
		if (r < 0)
			return r;
		return S_ISDIR(st.st_mode) ? -EINVAL : -ENOTDIR;
	}
	case F_GETPIPE_SZ:
	case F_SETPIPE_SZ:
		return -EBADF; /* not a pipe */
	case F_ADD_SEALS:
	case F_GET_SEALS:
		return -EINVAL; /* not shmem */
	case F_DUPFD_QUERY: {
		int32_t other = dn_fdmap_get((int)(intptr_t)arg);
		if (other < 0 && REAL(fcntl)((int)(intptr_t)arg, F_GETFD) >= 0)
			return 0;
		return other < 0 ? -EBADF : other == ofd;
	}
	}
	return -EINVAL;
}

/* A closed description forgets what was set on it. */
void dn_fcntl_forget(int32_t ofd)
{
	if (atomic_load(&extras_used) == 0)
		return;
	pthread_mutex_lock(&extras_lock);
	struct file_extra *x = extra_of(ofd, false);
	if (x) {
		x->ofd = 0;
		atomic_fetch_sub(&extras_used, 1);
	}
	pthread_mutex_unlock(&extras_lock);
}
