/* Read Cache: a Ceph pool's file data recently read, served in the process while it holds */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wire.h"

/*
 * What a read needs to use kept data or keep what the pool answers: the
 * file's identity and the pool's generations (wire.h, struct dn_gens) as
 * they were before its request.
 */
struct dn_rc_read {
	bool on; /* the read may use and keep data */
	uint32_t session;
	uint32_t drop;
	uint32_t blocks; /* the cache's slots this session may use (the pool's read_cache) */
	uint64_t ino, dev, names, inode, now_ns, expires_ns;
	uint64_t base; /* the file offset of the request in flight (its reply's byte 0) */
};

/* Whether the pool wants it (a Ceph backend, attr_timeout > 0): opens then ask for the inode. */
bool dn_read_cache_wanted(void);

/*
 * An open of ofd (handle, in session) reached the inode ino of device dev
 * (0: not known, kept nothing for it): its reads may use the cache, and
 * what the process kept of the inode ends (close-to-open).
 */
void dn_read_cache_opened(int32_t ofd, uint64_t handle, uint32_t session, uint64_t ino,
			  uint64_t dev);
/* ofd stops being this process's (close, dup2 over it): nothing known of it. */
void dn_read_cache_forget(int32_t ofd);
/* A lock was taken on ofd (handle): what the process kept of its inode ends. */
void dn_read_cache_drop(int32_t ofd, uint64_t handle);

/*
 * In a call (dn_call_begin), session its dn_call.gen: whether a read of
 * len bytes at pos through ofd (handle, status flags oflags) may use the
 * cache; r then carries what dn_read_cache_get/put need.
 */
bool dn_read_cache_begin(struct dn_rc_read *r, uint32_t session, int32_t ofd, uint64_t handle,
			 uint32_t oflags, uint64_t pos, size_t len);
/* Kept data for [pos, pos + len) into dest: the bytes read (short at the end of the file), or -1. */
ssize_t dn_read_cache_get(const struct dn_rc_read *r, uint64_t pos, uint8_t *dest, size_t len);
/* Keeps n bytes of the pool's answer to r's request, which are the file's at pos. */
void dn_read_cache_put(const struct dn_rc_read *r, uint64_t pos, const uint8_t *src, size_t n);
/* The answer to r's request ended the file at end (a short read). */
void dn_read_cache_eof(const struct dn_rc_read *r, uint64_t end);
