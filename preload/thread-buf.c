/* Thread Buffer: a bounce buffer of each thread's, off its stack */
#include "thread-buf.h"

#include <pthread.h>
#include <stdbool.h>
#include <sys/mman.h>

#include "real.h"

static _Thread_local char *thread_buf;
static pthread_key_t buf_key;
static pthread_once_t buf_once = PTHREAD_ONCE_INIT;
static bool buf_key_made;

static void buf_unmap(void *p)
{
	REAL(munmap)(p, DN_THREAD_BUF);
}

static void buf_key_make(void)
{
	buf_key_made = pthread_key_create(&buf_key, buf_unmap) == 0;
}

char *dn_thread_buf(void)
{
	if (thread_buf)
		return thread_buf;
	pthread_once(&buf_once, buf_key_make);
	if (!buf_key_made)
		return NULL;
	void *p = REAL(mmap)(NULL, DN_THREAD_BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			     -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (pthread_setspecific(buf_key, p) != 0) {
		REAL(munmap)(p, DN_THREAD_BUF);
		return NULL;
	}
	return thread_buf = p;
}
