/* File Position Lock: the kernel's f_pos_lock for Danaus open file descriptions */
#include "pos-lock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "client.h"
#include "fdtable.h"
#include "real.h"

/*
 * read/write at the file offset load the offset, move the data and store
 * the new offset: two processes (or threads) sharing the description would
 * both write at the same offset, one over the other. The kernel holds the
 * file's f_pos_lock meanwhile when the file is shared; so do we. Threads
 * wait on a mutex (hashed by description); processes sharing the
 * description (across fork, exec or a dup: refs > 1) on a POSIX lock of
 * byte <ofd> of the session's shared-memory file, which the kernel drops
 * with a process that dies holding it.
 */
#define POS_MUTEXES 64
#define POS_MUTEX 1
#define POS_RANGE 2
static pthread_mutex_t pos_mutex[POS_MUTEXES];
static __thread bool pos_holding;
static __thread int pos_cancel; /* the thread's cancel state, while it holds a lock */
/*
 * Descriptions open at a fork: shared at once, though their refs grow only
 * when the child runs. A mark stays until refs is seen above 1 (the child
 * counted), then refs alone tells.
 */
static _Atomic(_Atomic uint8_t *) forked;
static uint32_t nforked;

static void mark_forked(int fd, int32_t ofd, void *arg)
{
	(void)fd;
	_Atomic uint8_t *m = arg;
	if (ofd >= 0 && (uint32_t)ofd < nforked)
		atomic_store(&m[ofd], 1);
}

void dn_pos_forking(void)
{
	if (!atomic_load(&dn_client.attached))
		return;
	_Atomic uint8_t *m = atomic_load(&forked);
	if (!m) {
		/* (the first fork of an attached process; a session's table keeps its size) */
		nforked = dn_client.chan.l.nofds;
		m = calloc(nforked, 1);
		if (!m)
			return; /* refs alone, from when the child runs */
		atomic_store(&forked, m);
	}
	dn_fdmap_each(mark_forked, (void *)m);
}

static bool shared(int32_t ofd, int32_t refs)
{
	_Atomic uint8_t *m = atomic_load(&forked);
	if (!m || (uint32_t)ofd >= nforked || !atomic_load_explicit(&m[ofd], memory_order_relaxed))
		return refs > 1;
	if (refs > 1)
		atomic_store(&m[ofd], 0);
	return true;
}

static void pos_reset(void)
{
	/* only the forking thread lives on in the child: no one holds them */
	for (int i = 0; i < POS_MUTEXES; i++)
		pthread_mutex_init(&pos_mutex[i], NULL);
	pos_holding = false;
}

__attribute__((constructor)) static void pos_setup(void)
{
	pos_reset();
	pthread_atfork(NULL, NULL, pos_reset);
}

static int range_lock(int32_t ofd, short type, int cmd)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = ofd, .l_len = 1};
	return REAL(fcntl)(dn_client.chan.shm_fd, cmd, &fl);
}

int dn_pos_lock(int32_t ofd, int32_t refs)
{
	if (pos_holding || ofd < 0)
		return 0;
	pos_holding = true;
	/* a thread cancelled while it holds the mutex would leave it held */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &pos_cancel);
	pthread_mutex_lock(&pos_mutex[(uint32_t)ofd % POS_MUTEXES]);
	if (!shared(ofd, refs) || dn_client.chan.shm_fd < 0)
		return POS_MUTEX;
	int e = errno;
	/*
	 * EINTR: the kernel's waits here are not interrupted either. EDEADLK:
	 * the kernel saw another process wait for a lock one of our threads
	 * holds while we wait for theirs; each holder lets go after its one
	 * call, so wait a little and ask again.
	 */
	while (range_lock(ofd, F_WRLCK, F_SETLKW) < 0) {
		if (errno == EDEADLK) {
			nanosleep(&(struct timespec){0, 100000}, NULL);
		} else if (errno != EINTR) {
			errno = e; /* (ENOLCK: none to be had; the call goes on as before) */
			return POS_MUTEX;
		}
	}
	errno = e;
	return POS_MUTEX | POS_RANGE;
}

void dn_pos_unlock(int32_t ofd, int taken)
{
	if (!taken)
		return;
	int e = errno;
	if (taken & POS_RANGE)
		range_lock(ofd, F_UNLCK, F_SETLK);
	pthread_mutex_unlock(&pos_mutex[(uint32_t)ofd % POS_MUTEXES]);
	pos_holding = false;
	pthread_setcancelstate(pos_cancel, NULL);
	errno = e;
}
