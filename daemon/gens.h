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
 * The same on a local backend, whose kernel moves times at reads: a read
 * changes its file's atime (relatime), a listing its directory's, a
 * readlink its link's (and which layers a union's listing read is not
 * one inode: names). A map is not here: see dn_gens_uncache.
 */
enum dn_gens_kind dn_gens_kind_local(uint32_t op, uint32_t oflags);

/*
 * The pool's generations, with the timeout clients may keep answers for
 * (seconds; 0: clients cache nothing and nothing is bumped). local: the
 * backend is a host directory (dn_gens_kind_local), where only union
 * instances' answers are kept (dn_gens_keep).
 */
void dn_gens_start(struct dn_gens *g, double attr_timeout, bool local);
/*
 * The pool stops (its generations will not move again): clients keep using
 * nothing they kept, whatever its timeout; nothing is bumped after.
 */
void dn_gens_stop(void);
/* Whether clients cache, so that bumps matter. */
bool dn_gens_on(void);
/* Whether the backend is local (dn_gens_start), so that reads bump too. */
bool dn_gens_local(void);
/*
 * Whether op bumps one inode's counter here (dn_gens_after), so that the
 * request must learn which (is_union: through a union instance; elsewhere
 * on a local backend the change bumps names: a copy-up keeps its origin's number).
 */
bool dn_gens_bumps_inode(uint32_t op, uint32_t oflags, bool is_union);
/* Whether a stat's answer from an instance may be kept (union: a union instance). */
bool dn_gens_keep(bool is_union);

/*
 * The kernel may change ino from now on with no request (a shared map of
 * the backend's own file, in the client): nothing is kept for it for the
 * pool's life (DN_GEN_UNCACHED).
 */
void dn_gens_uncache(uint64_t ino);
/* Clients keep nothing more, for the pool's life (what cannot be told apart). */
void dn_gens_off(void);
/*
 * The backend's kernel may have moved some inode's times in this request
 * (a symlink read while following it): dn_gens_after bumps names on a
 * local backend, whatever the op. On the worker's thread.
 */
void dn_gens_touch(void);

/*
 * A Ceph pool where an instance reaches into a union's writable layer: a
 * file may be stat'ed under two numbers (a copy-up's origin through the
 * union, its own through the other instance), so a change bumps both
 * (dn_gens_bump_inode, dispatch.c).
 */
void dn_gens_set_mixed(bool mixed);
bool dn_gens_mixed(void);
/* One more inode's counter, beside what dn_gens_after bumped. */
void dn_gens_bump_inode(uint64_t ino);

/*
 * After a request ran and before its reply: the bumps its kind calls for.
 * ino: the inode a DN_GENS_INODE request changed; 0 when not known, which
 * bumps names instead.
 */
void dn_gens_after(uint32_t op, uint32_t oflags, uint64_t ino);
