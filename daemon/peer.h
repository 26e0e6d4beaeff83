/* Peer Identity: who is at the other end of a client's socket */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "svc.h"

/*
 * Fills c with the identity the peer had when it connected (SO_PEERCRED:
 * effective uid and gid; SO_PEERGROUPS) and the effective capabilities it
 * holds, as far as they can be proven to be that same process's: 0 when not.
 * real gets the identity access(2) checks for that process: its real uid
 * and gid, with all its permitted capabilities when the real uid is 0 and
 * none otherwise (the kernel's access_override_creds); c itself, without
 * capabilities unless it is root, when that is not proven. Neither is more
 * than the process could take itself (setuid to its real uid, capset up to
 * its permitted set). On error returns -errno and says why in why.
 */
int dn_peer_identity(int fd, struct dn_cred *c, struct dn_cred *real, pid_t *pid, char *why,
		     size_t whylen);

/* Parses /proc/PID/status text: uids, gids, CapPrm and CapEff. For tests. */
struct dn_proc_status {
	uid_t ruid, euid, fsuid;
	gid_t rgid, egid, fsgid;
	unsigned long long cap_prm, cap_eff;
	int found; /* bit 0: Uid, 1: Gid, 2: CapEff, 3: CapPrm */
};
void dn_proc_status_parse(const char *text, struct dn_proc_status *st);

/* The /proc/PID/status text (a thread id works too), NUL-terminated; 0 or -errno. */
int dn_proc_status_read(pid_t pid, char *buf, size_t len);

/*
 * Whether PID lives in the pool's own user namespace: capabilities of a
 * process in another one (a rootless container's root) count for nothing
 * on the pool's files, whatever its CapEff says.
 */
bool dn_proc_same_user_ns(pid_t pid);
