/* Shared Map Owners: which open file may map a file shared and writable, where maps are copies */
#pragma once

#include <stdint.h>

/*
 * A backend without a kernel file to hand over (Ceph) lets clients map a
 * copy of the file (preload/mmap.c), written back later. Two such writable
 * copies of one file, through different open files (in practice different
 * processes), would overwrite each other's stores without a word: SQLite's
 * WAL index loses committed rows that way. So one open file at a time may
 * hold them; the others are refused (EAGAIN, "the file is locked").
 */
struct dn_map_owners;

struct dn_map_owners *dn_map_owners_new(void);
struct dn_map_owners *dn_map_owners_free(struct dn_map_owners *m);

/* Makes owner (an open file) the one that maps file id shared and writable; -EAGAIN if another is. */
int dn_map_owners_claim(struct dn_map_owners *m, uint64_t id, const void *owner);

/* owner closes: file id may be claimed again. */
void dn_map_owners_release(struct dn_map_owners *m, uint64_t id, const void *owner);
