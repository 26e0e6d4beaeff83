/* Worker Credentials: run a filesystem call as the client's uid, gid and groups */
#include "cred.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static _Thread_local struct {
	bool valid;
	struct dn_cred c;
} current;

static bool same(const struct dn_cred *a, const struct dn_cred *b)
{
	return a->uid == b->uid && a->gid == b->gid && a->ngroups == b->ngroups &&
	       memcmp(a->groups, b->groups, a->ngroups * sizeof(gid_t)) == 0;
}

bool dn_cred_can_serve(const struct dn_cred *c)
{
	return geteuid() == 0 || (c->uid == geteuid() && c->gid == getegid());
}

int dn_cred_apply(const struct dn_cred *c)
{
	if (current.valid && same(&current.c, c))
		return 0;
	if (geteuid() != 0) {
		/* Unprivileged service: it only ever serves its own identity. */
		if (!dn_cred_can_serve(c))
			return -EPERM;
		current.valid = true;
		current.c = *c;
		return 0;
	}
	/*
	 * Raw syscalls: they change this thread only, where glibc's wrappers of
	 * setgroups would change every thread of the service.
	 */
	current.valid = false;
	if (syscall(SYS_setgroups, (size_t)c->ngroups, c->groups) < 0)
		return -errno;
	syscall(SYS_setfsgid, c->gid);
	if ((gid_t)syscall(SYS_setfsgid, -1) != c->gid)
		return -EPERM;
	syscall(SYS_setfsuid, c->uid);
	if ((uid_t)syscall(SYS_setfsuid, -1) != c->uid)
		return -EPERM;
	current.valid = true;
	current.c = *c;
	return 0;
}
