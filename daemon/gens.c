/* Attribute Generations: what the pool publishes so clients know their cached stats are current */
#include "gens.h"

#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdatomic.h>
#include <stddef.h>

static struct dn_gens *_Atomic gens; /* NULL: clients cache nothing */
static bool local;                   /* the backend is a host directory (dn_gens_start) */
static _Thread_local bool touched;   /* dn_gens_touch in this request */
static bool mixed;                   /* dn_gens_set_mixed */

enum dn_gens_kind dn_gens_kind(uint32_t op, uint32_t oflags)
{
	switch (op) {
	case DN_OP_NOP: case DN_OP_STAT: case DN_OP_FSTAT: case DN_OP_ACCESS:
	case DN_OP_READDIR: case DN_OP_READLINK: case DN_OP_FPATH: case DN_OP_STATFS:
	case DN_OP_GETXATTR: case DN_OP_LISTXATTR: case DN_OP_LOCK: case DN_OP_FLOCK:
	case DN_OP_FADVISE: case DN_OP_SEEK: case DN_OP_HANDOFF: case DN_OP_CLOSE:
	/* a writable map is a copy the client writes back with PWRITE (or a local file's own) */
	case DN_OP_MAPFD:
	/* libcephfs keeps atime as the MDS sends it: a read changes nothing a stat shows */
	case DN_OP_PREAD:
		return DN_GENS_NONE;
	case DN_OP_OPEN:
		/* a read-only open creates, truncates and copies up nothing */
		/* (O_TMPFILE includes O_DIRECTORY: only both bits are one) */
		if ((oflags & O_ACCMODE) == O_RDONLY && !(oflags & (O_CREAT | O_TRUNC)) &&
		    (oflags & O_TMPFILE) != O_TMPFILE)
			return DN_GENS_NONE;
		return DN_GENS_NAMES;
	case DN_OP_PWRITE: case DN_OP_FTRUNCATE: case DN_OP_FALLOCATE: case DN_OP_FSYNC:
		return DN_GENS_INODE;
	case DN_OP_IOCTL:
		/*
		 * oflags: the ioctl. Those that only read change nothing; a
		 * setter changes the file's ctime (and a union copies it up).
		 */
		if (oflags == FS_IOC_GETFLAGS || oflags == FS_IOC_GETVERSION ||
		    oflags == FS_IOC_FSGETXATTR || oflags == FS_IOC_FIEMAP)
			return DN_GENS_NONE;
		return DN_GENS_NAMES;
	default:
		return DN_GENS_NAMES;
	}
}

enum dn_gens_kind dn_gens_kind_local(uint32_t op, uint32_t oflags)
{
	switch (op) {
	case DN_OP_PREAD:
		return DN_GENS_INODE;
	case DN_OP_READDIR: case DN_OP_READLINK:
		return DN_GENS_NAMES;
	default:
		return dn_gens_kind(op, oflags);
	}
}

/* The kind of change op is on this pool's backend. */
static enum dn_gens_kind kind_here(uint32_t op, uint32_t oflags)
{
	return local ? dn_gens_kind_local(op, oflags) : dn_gens_kind(op, oflags);
}

bool dn_gens_bumps_inode(uint32_t op, uint32_t oflags, bool is_union)
{
	/* on a local backend only a union's number is the one its answers are kept by */
	return gens != NULL && kind_here(op, oflags) == DN_GENS_INODE && (!local || is_union);
}

void dn_gens_start(struct dn_gens *g, double attr_timeout, bool on_local)
{
	local = on_local;
	uint64_t ms = (uint64_t)(attr_timeout * 1000 + 0.5);
	if (attr_timeout > 0 && ms == 0)
		ms = 1;
	atomic_store(&g->attr_timeout_ms, (uint32_t)ms);
	gens = ms ? g : NULL;
}

void dn_gens_stop(void)
{
	struct dn_gens *g = atomic_exchange(&gens, NULL);
	if (!g)
		return;
	/* the clients' kept answers end: their next stat meets the pool gone, or its successor */
	atomic_store(&g->attr_timeout_ms, 0);
	atomic_fetch_add_explicit(&g->names, 1, memory_order_release);
}

bool dn_gens_on(void)
{
	return gens != NULL;
}

bool dn_gens_local(void)
{
	return local;
}

bool dn_gens_keep(bool is_union)
{
	return gens != NULL && (!local || is_union);
}

void dn_gens_uncache(uint64_t ino)
{
	struct dn_gens *g = atomic_load_explicit(&gens, memory_order_relaxed);
	if (g) /* a change of the counter too: what was kept ends */
		atomic_fetch_or_explicit(&g->inode[dn_gen_inode_slot(ino)], DN_GEN_UNCACHED,
					 memory_order_release);
}

void dn_gens_off(void)
{
	struct dn_gens *g = atomic_load_explicit(&gens, memory_order_relaxed);
	if (!g)
		return;
	atomic_store(&g->attr_timeout_ms, 0);
	atomic_fetch_add_explicit(&g->names, 1, memory_order_release);
}

void dn_gens_touch(void)
{
	touched = true;
}

void dn_gens_after(uint32_t op, uint32_t oflags, uint64_t ino)
{
	struct dn_gens *g = atomic_load_explicit(&gens, memory_order_relaxed);
	bool t = touched;
	touched = false;
	if (!g)
		return;
	enum dn_gens_kind k = kind_here(op, oflags);
	if (local && t && k == DN_GENS_NONE)
		k = DN_GENS_NAMES;
	/* release: the change is visible to whoever sees the new number */
	if (k == DN_GENS_INODE && ino)
		atomic_fetch_add_explicit(&g->inode[dn_gen_inode_slot(ino)], 1,
					  memory_order_release);
	else if (k != DN_GENS_NONE) /* names, or an inode not known */
		atomic_fetch_add_explicit(&g->names, 1, memory_order_release);
}

void dn_gens_set_mixed(bool m)
{
	mixed = m;
}

bool dn_gens_mixed(void)
{
	return mixed && gens != NULL;
}

void dn_gens_bump_inode(uint64_t ino)
{
	struct dn_gens *g = atomic_load_explicit(&gens, memory_order_relaxed);
	if (g && ino)
		atomic_fetch_add_explicit(&g->inode[dn_gen_inode_slot(ino)], 1,
					  memory_order_release);
}
