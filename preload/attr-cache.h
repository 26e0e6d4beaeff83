/* Attribute Cache: a Ceph pool's recent stat answers, served in the process while they hold */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "route.h"
#include "wire.h"

/*
 * What a stat that missed needs to keep its answer: the pool's
 * generations (wire.h, struct dn_gens) as they were before its request.
 */
struct dn_attr_probe {
	bool keep; /* the answer may be kept */
	bool hinted; /* the slot held this key already: its inode's generation was read */
	uint8_t flags;
	uint16_t mount, len;
	uint32_t slot, session;
	uint64_t names, inode, ino, expires_ns;
	const char *path;
};

/*
 * In a call (dn_call_begin: the session's maps stay), session its
 * dn_call.gen: true with *out when a kept answer for t still holds; else
 * false, and p says whether and how to keep the answer the pool gives.
 */
bool dn_attr_cache_get(struct dn_attr_probe *p, uint32_t session, const struct dn_target *t,
		       bool nofollow, struct dn_stat *out);

/* Keeps the pool's successful answer to the request p was taken before. */
void dn_attr_cache_put(const struct dn_attr_probe *p, const struct dn_stat *st);
