/* Session Memory: layout of one session's shared memory and its creation */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/*
 * Sizes of a session segment. The service keeps its own copy and computes
 * every address from it, never from the header a client can rewrite.
 */
struct dn_layout {
	uint32_t nqueues, qdepth, nbufs, buf_size, buf_data, nofds;
	uint64_t queues_off, queue_stride, bufs_off, ofds_off, total_size;
};

#define DN_BUF_HEADER 4096u

/* Fills in offsets from the counts; -EINVAL on counts out of range. */
int dn_layout_compute(struct dn_layout *l, uint32_t nqueues, uint32_t nbufs, uint32_t data_size,
		      uint32_t nofds);

/*
 * Service side: a sealed memfd holding a fresh session segment (its size can
 * never change, so a client cannot make the service fault on it), mapped.
 */
struct dn_shm_identity {
	uint32_t uid, gid, ngroups, session;
	const uint32_t *groups;
	uint64_t caps;
	uint64_t token[2];
	uint32_t flags; /* DN_SESSION_* */
};
/* mounts: the session's instances' mountpoints (nmounts, 1 to DN_MOUNTS_MAX), its default first */
int dn_session_shm_create(const struct dn_layout *l, uint32_t nworkers, const char *pool,
			  const char *const *mounts, uint32_t nmounts,
			  const struct dn_shm_identity *id, int *fd_out, void **map_out);

/* Client side: maps a session segment and checks its header against its size. */
int dn_session_shm_map(int fd, struct dn_layout *l, void **map_out);

/* Worker states: writable for the service, sealed so clients can only read them. */
int dn_worker_states_create(int *fd_out, struct dn_worker_states **map_out);
int dn_worker_states_map(int fd, const struct dn_worker_states **map_out);

static inline struct dn_queue *dn_layout_queue(const struct dn_layout *l, void *base, uint32_t i)
{
	return (struct dn_queue *)((char *)base + l->queues_off + (uint64_t)i * l->queue_stride);
}

static inline struct dn_buf *dn_layout_buf(const struct dn_layout *l, void *base, uint32_t i)
{
	return (struct dn_buf *)((char *)base + l->bufs_off + (uint64_t)i * l->buf_size);
}

static inline uint8_t *dn_buf_data(const struct dn_layout *l, struct dn_buf *b)
{
	return (uint8_t *)b + l->buf_data;
}

static inline uint32_t dn_buf_data_size(const struct dn_layout *l)
{
	return l->buf_size - l->buf_data;
}

static inline struct dn_ofd *dn_layout_ofds(const struct dn_layout *l, void *base)
{
	return (struct dn_ofd *)((char *)base + l->ofds_off);
}
