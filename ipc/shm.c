/* Session Memory: layout of one session's shared memory and its creation */
#include "shm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "memfd.h"
#include "queue.h"

#define PAGE 4096u

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

int dn_layout_compute(struct dn_layout *l, uint32_t nqueues, uint32_t nbufs, uint32_t data_size,
		      uint32_t nofds)
{
	if (nqueues < 1 || nqueues > DN_MAX_QUEUES || nbufs < 1 || nbufs > DN_BUFS_MAX ||
	    data_size < PAGE || data_size > (64u << 20) || data_size % PAGE || nofds < 1 ||
	    nofds > (1u << 20))
		return -EINVAL;
	/* Every buffer can have one request in flight: a ring that deep never fills. */
	uint32_t depth = 1;
	while (depth < nbufs)
		depth <<= 1;
	memset(l, 0, sizeof(*l));
	l->nqueues = nqueues;
	l->qdepth = depth;
	l->nbufs = nbufs;
	l->buf_data = DN_BUF_HEADER;
	l->buf_size = DN_BUF_HEADER + data_size;
	l->nofds = nofds;
	l->queues_off = align_up(sizeof(struct dn_shm_header), PAGE);
	l->queue_stride = align_up(sizeof(struct dn_queue) + (uint64_t)depth * sizeof(struct dn_slot),
				   PAGE);
	l->bufs_off = l->queues_off + (uint64_t)nqueues * l->queue_stride;
	l->ofds_off = l->bufs_off + (uint64_t)nbufs * l->buf_size;
	l->total_size = align_up(l->ofds_off + (uint64_t)nofds * sizeof(struct dn_ofd), PAGE);
	return 0;
}

static int memfd_sealed(const char *name, uint64_t size)
{
	_cleanup_close_ int fd = dn_memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0)
		return -errno;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		return -errno;
	return TAKE_FD(fd);
}

int dn_session_shm_create(const struct dn_layout *l, uint32_t nworkers, const char *pool,
			  const char *const *mounts, uint32_t nmounts,
			  const struct dn_shm_identity *id, int *fd_out, void **map_out)
{
	if (nmounts < 1 || nmounts > DN_MOUNTS_MAX)
		return -EINVAL;
	_cleanup_close_ int fd = memfd_sealed("danaus-session", l->total_size);
	if (fd < 0)
		return fd;
	void *base = mmap(NULL, l->total_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return -errno;
	struct dn_shm_header *h = base;
	h->magic = DN_PROTO_MAGIC;
	h->version = DN_PROTO_VERSION;
	h->nqueues = l->nqueues;
	h->qdepth = l->qdepth;
	h->nbufs = l->nbufs;
	h->buf_size = l->buf_size;
	h->buf_data = l->buf_data;
	h->nofds = l->nofds;
	h->nworkers = nworkers;
	h->queues_off = l->queues_off;
	h->queue_stride = l->queue_stride;
	h->bufs_off = l->bufs_off;
	h->ofds_off = l->ofds_off;
	h->total_size = l->total_size;
	h->uid = id->uid;
	h->gid = id->gid;
	h->session = id->session;
	h->ngroups = id->ngroups < DN_IDENT_GROUPS_MAX ? id->ngroups : DN_IDENT_GROUPS_MAX;
	memcpy(h->groups, id->groups, h->ngroups * sizeof(uint32_t));
	h->caps = id->caps;
	memcpy(h->token, id->token, sizeof(h->token));
	h->flags = id->flags;
	snprintf(h->pool, sizeof(h->pool), "%s", pool);
	h->nmounts = nmounts;
	for (uint32_t i = 0; i < nmounts; i++)
		snprintf(h->mounts[i], sizeof(h->mounts[i]), "%s", mounts[i]);
	for (uint32_t i = 0; i < l->nqueues; i++)
		dn_queue_init(dn_layout_queue(l, base, i), l->qdepth);
	*fd_out = TAKE_FD(fd);
	*map_out = base;
	return 0;
}

int dn_session_shm_map(int fd, struct dn_layout *l, void **map_out)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size < sizeof(struct dn_shm_header))
		return -EPROTO;
	struct dn_shm_header h;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return -EPROTO;
	if (h.magic != DN_PROTO_MAGIC || h.version != DN_PROTO_VERSION)
		return -EPROTO;
	struct dn_layout want;
	if (dn_layout_compute(&want, h.nqueues, h.nbufs, h.buf_size - h.buf_data, h.nofds) < 0)
		return -EPROTO;
	if (want.total_size != h.total_size || want.total_size != (uint64_t)st.st_size ||
	    want.buf_data != h.buf_data || want.qdepth != h.qdepth)
		return -EPROTO;
	void *base = mmap(NULL, want.total_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return -errno;
	*l = want;
	*map_out = base;
	return 0;
}

int dn_worker_states_create(int *fd_out, struct dn_worker_states **map_out)
{
	uint64_t size = align_up(sizeof(struct dn_worker_states), PAGE);
	_cleanup_close_ int fd = dn_memfd_create("danaus-workers", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0)
		return -errno;
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	/* Our mapping stays writable; nobody can make a new writable one. */
	if (fcntl(fd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) < 0) {
		int e = errno;
		munmap(m, size);
		return -e;
	}
	*map_out = m;
	*fd_out = TAKE_FD(fd);
	return 0;
}

int dn_worker_states_map(int fd, const struct dn_worker_states **map_out)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size < sizeof(struct dn_worker_states))
		return -EPROTO;
	void *m = mmap(NULL, sizeof(struct dn_worker_states), PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	*map_out = m;
	return 0;
}
