/* Attribute Generations: what the pool publishes so clients know their cached stats are current */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

/*
 * What a request may have changed, for the clients' attribute caches
 * (wire.h, struct dn_gens). Decided by the op alone, in one place: an op
 * that is not in the short lists of read-only and one-inode ops counts as
 * changing names, so an op added later is safe until someone says otherwise.
 */
enum dn_gens_kind {
	DN_GENS_NONE,  /* reads only: no bump */
	DN_GENS_INODE, /* one open file's data and the attributes that follow it */
	DN_GENS_NAMES, /* anything else: every cached answer ends */
};
enum dn_gens_kind dn_gens_kind(uint32_t op, uint32_t oflags);

/*
 * The pool's generations, with the timeout clients may keep answers for
 * (seconds; 0: clients cache nothing and nothing is bumped).
 */
void dn_gens_start(struct dn_gens *g, double attr_timeout);
/*
 * The pool stops (its generations will not move again): clients keep using
 * nothing they kept, whatever its timeout; nothing is bumped after.
 */
void dn_gens_stop(void);
/* Whether clients cache, so that bumps matter. */
bool dn_gens_on(void);

/*
 * After a request ran and before its reply: the bumps its kind calls for.
 * ino: the inode a DN_GENS_INODE request changed; 0 when not known, which
 * bumps names instead.
 */
void dn_gens_after(uint32_t op, uint32_t oflags, uint64_t ino);
