/* Compat Caller: the identity of a process whose call reached the pool through its FUSE mount */
#include "compat-caller.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "peer.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* Linux 6.9: a pidfd of one thread */
#endif

int dn_proc_status_groups(const char *text, gid_t *groups, size_t max)
{
	const char *p = strncmp(text, "Groups:", 7) == 0 ? text : strstr(text, "\nGroups:");
	if (!p)
		return -ENOENT;
	p = strchr(p, ':') + 1;
	size_t n = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p < '0' || *p > '9')
			break;
		char *end;
		unsigned long g = strtoul(p, &end, 10);
		if (n == max)
			return -E2BIG;
		groups[n++] = (gid_t)g;
		p = end;
	}
	return (int)n;
}

int dn_compat_caller(pid_t pid, uid_t uid, gid_t gid, bool access, struct dn_cred *c)
{
	memset(c, 0, sizeof(*c));
	if (uid == (uid_t)-1 || gid == (gid_t)-1)
		return -EACCES;
	c->uid = uid;
	c->gid = gid;
	if (pid <= 0)
		return 0;
	/* The thread waits in our request, so its id names it; the pidfd proves that. */
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, PIDFD_THREAD);
	char text[8192];
	if (dn_proc_status_read(pid, text, sizeof(text)) < 0)
		return 0;
	bool own_ns = dn_proc_same_user_ns(pid);
	struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
	if (pidfd < 0 || poll(&pfd, 1, 0) != 0)
		return 0; /* gone, or not provably that thread: nothing beyond the ids */
	struct dn_proc_status st;
	dn_proc_status_parse(text, &st);
	if (st.found != 15)
		return 0;
	/*
	 * /proc shows the thread's own ids, not the ones it acts as for the
	 * moment: inside access(2) every request of its walk, not only
	 * FUSE_ACCESS, carries the real ids; and FUSE_ACCESS also comes from
	 * chdir(2) and exec, with the filesystem ids.
	 */
	bool by_fs = st.fsuid == uid && st.fsgid == gid;
	bool by_real = st.ruid == uid && st.rgid == gid;
	if (!by_fs && !by_real)
		return 0; /* changed identity since: the request's ids alone */
	int n = dn_proc_status_groups(text, c->groups, DN_GROUPS_MAX);
	if (n == -E2BIG)
		return -EACCES;
	c->ngroups = n > 0 ? (uint32_t)n : 0;
	if (!own_ns)
		c->caps = 0;
	else if (by_real && (access || !by_fs))
		c->caps = uid == 0 ? (uint64_t)st.cap_prm : 0;
	else
		c->caps = (uint64_t)st.cap_eff;
	return 0;
}
