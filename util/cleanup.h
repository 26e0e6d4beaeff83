/* Cleanup helpers: scope-bound ownership for early returns */
#pragma once

#include <stdlib.h>
#include <unistd.h>
#include <errno.h>

static inline void dn_freep(void *p)
{
	free(*(void **)p);
}

static inline void dn_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(dn_freep)
#define _cleanup_close_ _cleanup_(dn_closep)

/* Hand ownership out of a cleanup-managed variable. */
static inline void *dn_steal_ptr(void **p)
{
	void *v = *p;
	*p = NULL;
	return v;
}
#define TAKE_PTR(p) ((__typeof__(p))dn_steal_ptr((void **)&(p)))

static inline int dn_steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}
#define TAKE_FD(fd) dn_steal_fd(&(fd))

#define DN_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
