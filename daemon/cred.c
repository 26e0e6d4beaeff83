/* Worker Credentials: run a filesystem call with the client's identity and capabilities */
#include "cred.h"

#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The pool's own sets, read once: each worker's effective set moves within permitted. */
static uint64_t pool_permitted, pool_inheritable;
static gid_t pool_groups[DN_GROUPS_MAX];
static int pool_ngroups;

static _Thread_local struct {
	bool valid;
	struct dn_cred c;
} current;

static bool same(const struct dn_cred *a, const struct dn_cred *b)
{
	return a->uid == b->uid && a->gid == b->gid && a->caps == b->caps &&
	       a->ngroups == b->ngroups &&
	       memcmp(a->groups, b->groups, a->ngroups * sizeof(gid_t)) == 0;
}

/* Raw capget/capset: they act on this thread only, as setfsuid does. */
static int caps_get(uint64_t *eff, uint64_t *prm, uint64_t *inh)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	*eff = (uint64_t)d[1].effective << 32 | d[0].effective;
	*prm = (uint64_t)d[1].permitted << 32 | d[0].permitted;
	*inh = (uint64_t)d[1].inheritable << 32 | d[0].inheritable;
	return 0;
}

static int caps_set_effective(uint64_t eff)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {
		{(uint32_t)eff, (uint32_t)pool_permitted, (uint32_t)pool_inheritable},
		{(uint32_t)(eff >> 32), (uint32_t)(pool_permitted >> 32),
		 (uint32_t)(pool_inheritable >> 32)},
	};
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

int dn_cred_init(void)
{
	uint64_t eff;
	pool_ngroups = getgroups(DN_GROUPS_MAX, pool_groups);
	if (pool_ngroups < 0)
		pool_ngroups = 0;
	return caps_get(&eff, &pool_permitted, &pool_inheritable);
}

int dn_cred_drop(int cap)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	if (cap < 0 || cap >= 64)
		return -EINVAL;
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	uint32_t keep = ~(UINT32_C(1) << (cap % 32));
	d[cap / 32].effective &= keep;
	d[cap / 32].permitted &= keep;
	d[cap / 32].inheritable &= keep;
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	/* (a no-op before dn_cred_init, which reads the sets afresh) */
	uint64_t eff;
	return caps_get(&eff, &pool_permitted, &pool_inheritable);
}

uint64_t dn_cred_pool_caps(void)
{
	return pool_permitted;
}

bool dn_cred_can_serve(const struct dn_cred *c)
{
	return geteuid() == 0 || (c->uid == geteuid() && c->gid == getegid());
}

int dn_cred_apply(const struct dn_cred *c)
{
	if (current.valid && same(&current.c, c))
		return 0;
	current.valid = false;
	/* Setting fsuid and groups needs CAP_SETUID/CAP_SETGID, which the previous
	 * client may not have had: the whole permitted set first. */
	int r = caps_set_effective(pool_permitted);
	if (r < 0)
		return r;
	if (geteuid() != 0) {
		/* Unprivileged service: it only ever serves its own identity. */
		if (!dn_cred_can_serve(c))
			return -EPERM;
	} else {
		/* Raw syscalls: glibc's wrappers of setgroups would change every thread. */
		if (syscall(SYS_setgroups, (size_t)c->ngroups, c->groups) < 0)
			return -errno;
		syscall(SYS_setfsgid, c->gid);
		if ((gid_t)syscall(SYS_setfsgid, -1) != c->gid)
			return -EPERM;
		syscall(SYS_setfsuid, c->uid);
		if ((uid_t)syscall(SYS_setfsuid, -1) != c->uid)
			return -EPERM;
	}
	/* After setfsuid: a change of fsuid to or from 0 edits the effective set. */
	r = caps_set_effective(c->caps & pool_permitted);
	if (r < 0)
		return r;
	current.valid = true;
	current.c = *c;
	return 0;
}

const struct dn_cred *dn_cred_current(void)
{
	static const struct dn_cred nobody = {.uid = (uid_t)-1, .gid = (gid_t)-1};
	return current.valid ? &current.c : &nobody;
}

int dn_cred_reset(void)
{
	current.valid = false;
	int r = caps_set_effective(pool_permitted);
	if (r < 0 || geteuid() != 0)
		return r;
	if (syscall(SYS_setgroups, (size_t)pool_ngroups, pool_groups) < 0)
		return -errno;
	syscall(SYS_setfsgid, getegid());
	syscall(SYS_setfsuid, geteuid());
	/* fsuid back to 0 restored the file capabilities; the rest come back here. */
	return caps_set_effective(pool_permitted);
}
