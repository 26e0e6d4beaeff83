/* Descriptor Table: which kernel fd numbers are Danaus files, and their open file descriptions */
#include "fdtable.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

_Atomic(int32_t *) dn_fdmap_chunks[DN_FDMAP_CHUNKS];

int dn_fdmap_set(int fd, int32_t ofd)
{
	if ((unsigned)fd >= DN_FDMAP_CHUNK * DN_FDMAP_CHUNKS)
		return -EBADF;
	_Atomic(int32_t *) *slot = &dn_fdmap_chunks[(unsigned)fd / DN_FDMAP_CHUNK];
	int32_t *c = atomic_load_explicit(slot, memory_order_acquire);
	if (!c) {
		if (ofd < 0)
			return 0;
		/* mmap, not malloc: this can run inside a program's malloc-less paths. */
		int32_t *n = mmap(NULL, DN_FDMAP_CHUNK * sizeof(int32_t), PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (n == MAP_FAILED)
			return -ENOMEM;
		int32_t *expect = NULL;
		if (atomic_compare_exchange_strong(slot, &expect, n)) {
			c = n;
		} else {
			munmap(n, DN_FDMAP_CHUNK * sizeof(int32_t));
			c = expect;
		}
	}
	atomic_store_explicit((_Atomic int32_t *)&c[(unsigned)fd % DN_FDMAP_CHUNK], ofd + 1,
			      memory_order_release);
	return 0;
}

void dn_fdmap_each(void (*fn)(int fd, int32_t ofd, void *arg), void *arg)
{
	for (unsigned k = 0; k < DN_FDMAP_CHUNKS; k++) {
		int32_t *c = atomic_load_explicit(&dn_fdmap_chunks[k], memory_order_acquire);
		if (!c)
			continue;
		for (unsigned i = 0; i < DN_FDMAP_CHUNK; i++)
			if (c[i] > 0)
				fn((int)(k * DN_FDMAP_CHUNK + i), c[i] - 1, arg);
	}
}

void dn_fdmap_clear(void)
{
	for (unsigned k = 0; k < DN_FDMAP_CHUNKS; k++) {
		int32_t *c = atomic_load_explicit(&dn_fdmap_chunks[k], memory_order_acquire);
		if (c)
			memset(c, 0, DN_FDMAP_CHUNK * sizeof(int32_t));
	}
}

int32_t dn_ofd_alloc(struct dn_ofd *t, uint32_t n, uint64_t handle, uint32_t oflags, bool is_dir)
{
	static _Atomic uint32_t hint;
	uint32_t start = atomic_load_explicit(&hint, memory_order_relaxed);
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = (start + k) % n;
		int32_t expect = 0;
		if (atomic_load_explicit(&t[i].refs, memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_strong(&t[i].refs, &expect, 1)) {
			t[i].handle = handle;
			t[i].oflags = oflags;
			t[i].is_dir = is_dir;
			atomic_store(&t[i].offset, 0);
			atomic_store_explicit(&hint, i + 1, memory_order_relaxed);
			return (int32_t)i;
		}
	}
	return -EMFILE;
}

void dn_ofd_ref(struct dn_ofd *t, uint32_t n, int32_t i)
{
	if (i >= 0 && (uint32_t)i < n)
		atomic_fetch_add(&t[i].refs, 1);
}

bool dn_ofd_unref(struct dn_ofd *t, uint32_t n, int32_t i)
{
	if (i < 0 || (uint32_t)i >= n)
		return false;
	return atomic_fetch_sub(&t[i].refs, 1) == 1;
}
