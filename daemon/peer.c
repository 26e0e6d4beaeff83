/* Peer Identity: who is at the other end of a client's socket */
#include "peer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux 6.5; glibc 2.36 does not name it yet */
#endif

void dn_proc_status_parse(const char *text, struct dn_proc_status *st)
{
	memset(st, 0, sizeof(*st));
	for (const char *line = text; line && *line;) {
		unsigned long r, e, s, f;
		unsigned long long cap;
		if (sscanf(line, "Uid: %lu %lu %lu %lu", &r, &e, &s, &f) == 4) {
			st->ruid = (uid_t)r;
			st->euid = (uid_t)e;
			st->fsuid = (uid_t)f;
			st->found |= 1;
		} else if (sscanf(line, "Gid: %lu %lu %lu %lu", &r, &e, &s, &f) == 4) {
			st->rgid = (gid_t)r;
			st->egid = (gid_t)e;
			st->fsgid = (gid_t)f;
			st->found |= 2;
		} else if (sscanf(line, "CapEff: %llx", &cap) == 1) {
			st->cap_eff = cap;
			st->found |= 4;
		} else if (sscanf(line, "CapPrm: %llx", &cap) == 1) {
			st->cap_prm = cap;
			st->found |= 8;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
}

int dn_proc_status_read(pid_t pid, char *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t got = 0;
	while (got + 1 < len) {
		ssize_t n = read(fd, buf + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = 0;
	return 0;
}

/* The text of a /proc uid_map, NUL-terminated; "" when it cannot be read. */
static void read_uid_map(const char *path, char *buf, size_t len)
{
	buf[0] = 0;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = 0;
}

/*
 * Whether PID lives in the pool's own user namespace (see peer.h). Capabilities are a
 * user namespace's: a process in another one (a rootless container's root,
 * `unshare -U -r` by anyone) shows a full CapEff in its /proc status, yet
 * the kernel grants it nothing over files whose owners its namespace does
 * not map -- the pool's files. Its namespace is compared by inode; where
 * the pool may not look at it (a peer of another uid, or not dumpable,
 * without CAP_SYS_PTRACE), by its uid_map, which anyone may read and which
 * only a privileged creator could make read like ours.
 */
bool dn_proc_same_user_ns(pid_t pid)
{
	char path[64];
	struct stat theirs, ours;
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	if (stat(path, &theirs) == 0 && stat("/proc/self/ns/user", &ours) == 0)
		return theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino;
	char a[512], b[512];
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	read_uid_map(path, a, sizeof(a));
	read_uid_map("/proc/self/uid_map", b, sizeof(b));
	return a[0] && strcmp(a, b) == 0;
}

/*
 * The peer's capabilities and real ids. SO_PEERPIDFD names the process that
 * connected; its /proc status read while that pidfd shows it alive is that
 * process's (a pid is not reused before its process is gone). Before Linux
 * 6.5 a pidfd opened now may name a later process with the same pid: its
 * identity must then match the one the socket recorded at connect, which a
 * recycled pid of another user cannot. Capabilities only ever count when
 * the process still has the identity it connected with: a process that
 * changed it since will attach again as its new self.
 */
static bool peer_status(int fd, pid_t pid, const struct dn_cred *c, struct dn_proc_status *st)
{
	_cleanup_close_ int pidfd = -1;
	socklen_t l = sizeof(pidfd);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &l) < 0)
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return false;
	char text[8192];
	if (dn_proc_status_read(pid, text, sizeof(text)) < 0)
		return false;
	bool own_ns = dn_proc_same_user_ns(pid);
	struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
	if (poll(&pfd, 1, 0) != 0)
		return false; /* gone (or unknown): nothing proven */
	dn_proc_status_parse(text, st);
	if (!own_ns)
		st->cap_eff = st->cap_prm = 0; /* its namespace's, none of ours */
	return st->found == 15 && st->euid == c->uid && st->fsuid == c->uid &&
	       st->egid == c->gid && st->fsgid == c->gid;
}

int dn_peer_identity(int fd, struct dn_cred *c, struct dn_cred *real, pid_t *pid, char *why,
		     size_t whylen)
{
	struct ucred uc;
	socklen_t l = sizeof(uc);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &l) < 0) {
		int e = errno;
		snprintf(why, whylen, "cannot read peer credentials: %s", strerror(e));
		return -e;
	}
	memset(c, 0, sizeof(*c));
	c->uid = uc.uid;
	c->gid = uc.gid;
	*pid = uc.pid;
	l = sizeof(c->groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, c->groups, &l) < 0) {
		snprintf(why, whylen, "uid %u has more than %d supplementary groups", uc.uid,
			 DN_GROUPS_MAX);
		return -E2BIG;
	}
	c->ngroups = l / sizeof(gid_t);
	struct dn_proc_status st;
	bool proven = peer_status(fd, uc.pid, c, &st);
	c->caps = proven ? (uint64_t)st.cap_eff : 0;
	*real = *c;
	if (proven) {
		real->uid = st.ruid;
		real->gid = st.rgid;
		real->caps = st.ruid == 0 ? (uint64_t)st.cap_prm : 0;
	} else if (real->uid != 0) {
		real->caps = 0;
	}
	return 0;
}
