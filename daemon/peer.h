/* Peer Identity: who is at the other end of a client's socket */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "svc.h"

/*
 * Fills c with the identity the peer had when it connected (SO_PEERCRED:
 * effective uid and gid; SO_PEERGROUPS) and the effective capabilities it
 * holds, as far as they can be proven to be that same process's: 0 when not.
 * On error returns -errno and says why in why.
 */
int dn_peer_identity(int fd, struct dn_cred *c, pid_t *pid, char *why, size_t whylen);

/* Parses /proc/PID/status text: effective and fs uid/gid and CapEff. For tests. */
struct dn_proc_status {
	uid_t euid, fsuid;
	gid_t egid, fsgid;
	unsigned long long cap_eff;
	int found; /* bit 0: Uid, 1: Gid, 2: CapEff */
};
void dn_proc_status_parse(const char *text, struct dn_proc_status *st);
