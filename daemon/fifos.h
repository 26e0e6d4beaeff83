/* FIFO Stand-ins: kernel FIFOs for a backend whose FIFOs the kernel cannot open */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/*
 * A FIFO in CephFS is a name and a mode; its data never leaves the host
 * (ceph-fuse leaves it to the kernel's pipe code, as here). Each FIFO of the
 * backend gets a kernel FIFO of its own in a private directory, with the
 * FIFO's owner and mode, so that the kernel decides who may open it and
 * how open blocks; clients receive it by descriptor (DN_SVC_HANDOVER).
 */
struct dn_fifos;

/* Sweeps the directories that pools killed before they could remove them left (fifos.c). */
struct dn_fifos *dn_fifos_new(void);
void dn_fifos_sweep(void);
/* Removes every stand-in and the directory. */
struct dn_fifos *dn_fifos_free(struct dn_fifos *f);

/*
 * An O_PATH descriptor of the stand-in for the backend's FIFO id, given the
 * owner and mode it has now. Runs as the pool itself (dn_cred_reset); the
 * caller's identity must be applied again before the next call as it.
 * -ENFILE once DN_FIFOS_MAX stand-ins exist.
 */
#define DN_FIFOS_MAX 4096
int dn_fifos_get(struct dn_fifos *f, uint64_t id, uid_t uid, gid_t gid, mode_t mode);
