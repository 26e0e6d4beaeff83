/* Ceph Shared Maps: one memfd per mapped Ceph file, the page cache its mappers share */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <cephfs/libcephfs.h>

/*
 * A Ceph file has no kernel page cache to hand a client for MAP_SHARED
 * (svc.h, mapfd). The pool keeps one memfd per mapped file instead, filled
 * from Ceph when its first open file maps it, and hands that to every
 * mapper: all processes map the same pages, as on a kernel filesystem.
 * While it exists the pool's own reads, writes and size changes of the
 * file go through it too (dn_ceph_shm_begin), so read(2) and maps agree.
 *
 * Stores through maps reach Ceph by write-back: what differs from a shadow
 * copy (the bytes as last read from or written to Ceph) goes back at fsync
 * (msync MS_SYNC in the client), when the last open file that mapped it
 * closes, on a timer (every DN_CEPH_SHM_PERIOD_MS) and when the pool stops.
 * Only changed bytes go back, so stores never undo other writers' bytes.
 *
 * The memfd and its shadow count twice the file's size against a budget;
 * beyond it a map is refused (-ENOSPC) and the caller maps a copy instead.
 */
struct dn_ceph_shm;
struct dn_ceph_shm_ent;

#define DN_CEPH_SHM_PERIOD_MS 1000

/* NULL on failure; budget: bytes of memfd and shadow together. Starts the write-back timer. */
struct dn_ceph_shm *dn_ceph_shm_new(struct ceph_mount_info *cm, uint64_t budget);
/* Writes every file back and lets go; NULL. Before the unmount. */
struct dn_ceph_shm *dn_ceph_shm_free(struct dn_ceph_shm *s);

/*
 * An open file of in maps it: its memfd, created and filled if it is the
 * first, is held for the open file until dn_ceph_shm_detach. -ENOSPC past
 * the budget; -errno.
 */
int dn_ceph_shm_attach(struct dn_ceph_shm *s, struct Inode *in, struct dn_ceph_shm_ent **out);
/*
 * A descriptor of ent's memfd for a client to map: one that can write it
 * only when rw (a read-only one cannot be reopened for writing either).
 */
int dn_ceph_shm_fd(struct dn_ceph_shm_ent *ent, bool rw);
/* The open file closes: the last one writes the file back, and the memfd goes once nobody maps it. */
void dn_ceph_shm_detach(struct dn_ceph_shm *s, struct dn_ceph_shm_ent *ent);

/*
 * A call on in's data or size: between begin and end the file's memfd, if
 * it has one, is io->ent, locked, and none is created; the call does its
 * Ceph part and then follows it in the memfd (wrote, resize, punch).
 */
struct dn_ceph_shm_io {
	struct dn_ceph_shm_ent *ent; /* NULL: the file is not mapped */
};
void dn_ceph_shm_begin(struct dn_ceph_shm *s, struct Inode *in, struct dn_ceph_shm_io *io);
void dn_ceph_shm_end(struct dn_ceph_shm *s, struct dn_ceph_shm_io *io);
/* The file's bytes through its memfd: what maps hold. */
ssize_t dn_ceph_shm_pread(struct dn_ceph_shm_ent *ent, void *buf, size_t len, off_t off);
/* n bytes went to Ceph at off. */
void dn_ceph_shm_wrote(struct dn_ceph_shm *s, struct dn_ceph_shm_ent *ent, const void *buf,
		       size_t n, uint64_t off);
/* The file's size is now size (truncated or extended). */
void dn_ceph_shm_resize(struct dn_ceph_shm *s, struct dn_ceph_shm_ent *ent, uint64_t size);
/* [off, off + len) reads zeros now. */
void dn_ceph_shm_punch(struct dn_ceph_shm_ent *ent, uint64_t off, uint64_t len);
/* The maps' stores, to Ceph (fsync). */
int dn_ceph_shm_writeback(struct dn_ceph_shm *s, struct dn_ceph_shm_ent *ent);
