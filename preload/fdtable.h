/* Descriptor Table: which kernel fd numbers are Danaus files, and their open file descriptions */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

/*
 * A Danaus fd is a real kernel descriptor (a placeholder the kernel
 * allocated, so its number can never collide with another fd, and dup2,
 * fork and exec carry it like any other) plus an entry here naming its open
 * file description. Lookups take no lock: two loads and a branch.
 */
#define DN_FDMAP_CHUNK 4096
#define DN_FDMAP_CHUNKS 1024 /* fds up to 4M */

extern _Atomic(int32_t *) dn_fdmap_chunks[DN_FDMAP_CHUNKS];

/* Index of fd's open file description, or -1 when fd is not a Danaus fd. */
static inline int32_t dn_fdmap_get(int fd)
{
	if ((unsigned)fd >= DN_FDMAP_CHUNK * DN_FDMAP_CHUNKS)
		return -1;
	int32_t *c = atomic_load_explicit(&dn_fdmap_chunks[(unsigned)fd / DN_FDMAP_CHUNK],
					  memory_order_acquire);
	if (!c)
		return -1;
	return atomic_load_explicit((_Atomic int32_t *)&c[(unsigned)fd % DN_FDMAP_CHUNK],
				    memory_order_acquire) - 1;
}

/* Maps fd to ofd (ofd -1 unmaps). -EBADF for an fd out of range, -ENOMEM. */
int dn_fdmap_set(int fd, int32_t ofd);

/* Calls fn for every mapped fd, in increasing order. */
void dn_fdmap_each(void (*fn)(int fd, int32_t ofd, void *arg), void *arg);

/* Forgets every mapping (a new process image starts from nothing). */
void dn_fdmap_clear(void);

/*
 * Open file descriptions live in the session's shared memory so that the
 * processes of a session share offsets and flags as the kernel's do.
 */
int32_t dn_ofd_alloc(struct dn_ofd *t, uint32_t n, uint64_t handle, uint32_t oflags,
		     bool is_dir);
void dn_ofd_ref(struct dn_ofd *t, uint32_t n, int32_t i);
/* Drops one reference; true when it was the last (the caller closes the handle). */
bool dn_ofd_unref(struct dn_ofd *t, uint32_t n, int32_t i);
