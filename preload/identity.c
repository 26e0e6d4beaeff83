/* Process Identity: a process that changes who it is attaches anew as its new self */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "client.h"
#include "export.h"
#include "mmap.h"
#include "mounts.h"
#include "real.h"
#include "reopen.h"

/*
 * A pool acts for a session as the identity its process had when it
 * connected (SO_PEERCRED, its groups and capabilities): the session's memory
 * is a capability to act as that identity. A process that drops privileges
 * (setresuid to nobody, setgroups, capset, seteuid) must not keep it, or
 * code running after the drop could still act as root through the pool. So
 * after every change the library sees (these calls, and an exec), the
 * process connects again as its new self and leaves the old session:
 *
 * - its open Danaus files move to the new session (DN_OP_HANDOFF, sent on
 *   the old one): they keep the rights they were opened with, as kernel fds
 *   do; offsets and flags are copied, so a fork parent that stays on the old
 *   session no longer shares them (as if the file had been reopened);
 * - the old memory is replaced, its descriptors are closed; if the process
 *   ever asked it for a lock, its socket stays open, which keeps the old
 *   session -- and the locks its owners hold -- until the process exits or
 *   execs (else a process changing identity back and forth would use up
 *   the sessions [limits] allows its uids);
 * - calls of other threads in flight finish first; new ones wait.
 *
 * What the library cannot see (raw system calls) is caught at the next exec
 * at the latest, where the identity is compared again. If attaching as the
 * new identity fails (it is not in [access]), the process loses its Danaus
 * files rather than keep the old identity.
 */

void dn_ident_read(struct dn_ident *id)
{
	memset(id, 0, sizeof(*id));
	id->euid = geteuid();
	id->egid = getegid();
	id->ngroups = getgroups(DN_IDENT_GROUPS_MAX, id->groups);
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	if (syscall(SYS_capget, &h, d) == 0)
		id->caps = (uint64_t)d[1].effective << 32 | d[0].effective;
}

bool dn_ident_same(const struct dn_ident *a, const struct dn_ident *b)
{
	return a->euid == b->euid && a->egid == b->egid && a->caps == b->caps &&
	       a->ngroups == b->ngroups &&
	       (a->ngroups <= 0 ||
		memcmp(a->groups, b->groups, (size_t)a->ngroups * sizeof(gid_t)) == 0);
}

/* ---- moving the open files to the new session ---- */

/*
 * Other threads look a Danaus fd up (dn_fdmap, then the table of open file
 * descriptions at dn_client.chan.base) before their call waits out the
 * switch, and keep what they found: the index, a pointer into the table,
 * the handle. So all three stay valid across it: each description keeps
 * its index, the pool keeps its handle's number (DN_OP_HANDOFF), and the
 * new session's memory, filled in first, takes the old one's place at once
 * (mremap over it): a look at any moment finds the file in one session or
 * the other, never an empty or half-written entry. A pool whose sessions
 * have another layout than the old one's (restarted with another
 * configuration) cannot take the files: the process loses them.
 */

/* One open file description of this process in the old session. */
struct moved {
	int32_t ofd;
	uint32_t refs;   /* this process's: its fds and its maps */
	uint64_t handle; /* in the old session, then in the new one (0: lost) */
};

struct move_plan {
	struct dn_chan *old, *neu;
	int32_t *slot; /* index -> 1 + place in list; 0: not ours */
	struct moved *list;
	uint32_t n;
};

static void note(int32_t ofd, struct move_plan *p)
{
	if (ofd < 0 || (uint32_t)ofd >= p->old->l.nofds)
		return;
	if (!p->slot[ofd]) {
		struct dn_ofd *t = dn_layout_ofds(&p->old->l, p->old->base);
		p->list[p->n] = (struct moved){.ofd = ofd, .handle = t[ofd].handle};
		p->slot[ofd] = (int32_t)++p->n;
	}
	p->list[p->slot[ofd] - 1].refs++;
}

static void note_fd(int fd, int32_t ofd, void *arg)
{
	(void)fd;
	note(ofd, arg);
}

static void note_map(int32_t ofd, void *arg)
{
	note(ofd, arg);
}

/* ofd itself when its file moved, else -1. */
static int32_t kept(int32_t ofd, void *arg)
{
	struct move_plan *p = arg;
	if (ofd < 0 || (uint32_t)ofd >= p->old->l.nofds || !p->slot[ofd])
		return -1;
	return p->list[p->slot[ofd] - 1].handle ? ofd : -1;
}

static void forget_lost_fd(int fd, int32_t ofd, void *arg)
{
	if (kept(ofd, arg) < 0)
		dn_fdmap_set(fd, -1);
}

/* One request on the old session, in buffer b. */
static int64_t old_call(struct dn_chan *c, uint32_t b, struct dn_req *req, const void *data,
			size_t len)
{
	struct dn_reply rep;
	int r = dn_req_payload(c, b, req, NULL, NULL, data, len);
	return r < 0 ? r : dn_chan_call(c, b, req, &rep);
}

/* Asks the old session to add the noted handles to the new one; fills in .handle anew. */
static int hand_off(struct move_plan *p, uint32_t b)
{
	size_t room = dn_buf_data_size(&p->old->l);
	uint32_t batch = (uint32_t)((room - sizeof(struct dn_handoff)) / sizeof(uint64_t));
	uint8_t *payload = malloc(room);
	if (!payload)
		return -ENOMEM;
	int r = 0;
	for (uint32_t at = 0; at < p->n && r == 0; at += batch) {
		uint32_t k = p->n - at < batch ? p->n - at : batch;
		struct dn_handoff h = {.session = p->neu->session, .n = k,
				       .token = {p->neu->token[0], p->neu->token[1]}};
		memcpy(payload, &h, sizeof(h));
		for (uint32_t i = 0; i < k; i++)
			memcpy(payload + sizeof(h) + i * sizeof(uint64_t), &p->list[at + i].handle,
			       sizeof(uint64_t));
		struct dn_req req = {.op = DN_OP_HANDOFF};
		int64_t res = old_call(p->old, b, &req, payload, sizeof(h) + k * sizeof(uint64_t));
		if (res < 0) {
			r = (int)res;
			break;
		}
		const uint8_t *out = dn_chan_data(p->old, b);
		for (uint32_t i = 0; i < k; i++)
			memcpy(&p->list[at + i].handle, out + i * sizeof(uint64_t), sizeof(uint64_t));
	}
	free(payload);
	return r;
}

/* Fills the new session's table (not in place yet) and lets go of the old one's references. */
static void move_over(struct move_plan *p, uint32_t b)
{
	struct dn_ofd *ot = dn_layout_ofds(&p->old->l, p->old->base);
	struct dn_ofd *nt = dn_layout_ofds(&p->neu->l, p->neu->base);
	for (uint32_t i = 0; i < p->n; i++) {
		struct moved *m = &p->list[i];
		const struct dn_ofd *was = &ot[m->ofd];
		if (was->handle == DN_HANDLE_STALE)
			m->handle = DN_HANDLE_STALE; /* lost in a restart: answers ESTALE, as it did */
		if (!m->handle)
			continue;
		struct dn_ofd *o = &nt[m->ofd];
		o->handle = m->handle;
		o->oflags = was->oflags;
		o->is_dir = was->is_dir;
		o->mount = was->mount;
		atomic_store(&o->offset, atomic_load(&was->offset));
		atomic_store(&o->refs, (int32_t)m->refs);
		dn_reopen_move(m->ofd, m->ofd, m->handle);
	}
	/* The old session's references of this process go; other processes keep theirs. */
	for (uint32_t i = 0; i < p->n; i++) {
		struct moved *m = &p->list[i];
		uint64_t handle = ot[m->ofd].handle;
		bool last = false;
		for (uint32_t k = 0; k < m->refs; k++)
			last = dn_ofd_unref(ot, p->old->l.nofds, m->ofd);
		if (last && handle != DN_HANDLE_STALE) {
			struct dn_req req = {.op = DN_OP_CLOSE, .handle = handle};
			old_call(p->old, b, &req, NULL, 0);
		}
	}
}

/*
 * Moves this process's open files from old to neu, whose memory then
 * replaces old's (old->base is NULL after). Lock held, no other call in flight.
 */
static int move_files(struct dn_chan *old, struct dn_chan *neu)
{
	if (!dn_layout_same(&old->l, &neu->l))
		return -EPROTO;
	struct move_plan p = {.old = old, .neu = neu};
	p.slot = calloc(old->l.nofds, sizeof(*p.slot));
	p.list = calloc(old->l.nofds, sizeof(*p.list));
	int b = dn_chan_buf_claim(old, (int32_t)syscall(SYS_gettid));
	int r = !p.slot || !p.list ? -ENOMEM : b < 0 ? -EAGAIN : 0;
	if (r == 0) {
		dn_fdmap_each(note_fd, &p);
		dn_mmap_each_ofd(note_map, &p);
		r = p.n ? hand_off(&p, (uint32_t)b) : 0;
		if (r == 0)
			move_over(&p, (uint32_t)b);
	}
	if (b >= 0)
		dn_chan_buf_release(old, (uint32_t)b);
	if (r == 0 && REAL(mremap)(neu->base, neu->l.total_size, neu->l.total_size,
				   MREMAP_MAYMOVE | MREMAP_FIXED, old->base) != old->base)
		r = -errno;
	if (r == 0) {
		neu->base = old->base;
		old->base = NULL; /* replaced */
		dn_fdmap_each(forget_lost_fd, &p);
		dn_mmap_rebase_ofds(kept, &p);
	}
	free(p.slot);
	free(p.list);
	return r;
}

/* ---- the switch ---- */

/* Attaches as now; the old session is left whatever happens. Lock held. */
static int switch_locked(const struct dn_ident *now)
{
	struct dn_chan old = dn_client.chan, neu;
	char msg[DN_MSG_MAX + 128];
	int r = dn_chan_connect(&neu, dn_client.socket_path, msg, sizeof(msg));
	if (r == 0) {
		dn_chan_each_fd(&neu, dn_fd_keep_high, NULL);
		neu.spin_ns = old.spin_ns;
		r = move_files(&old, &neu);
		if (r < 0) {
			snprintf(msg, sizeof(msg), "cannot move its open files: %s", strerror(-r));
			dn_chan_close(&neu);
		}
	}
	if (r < 0) {
		fprintf(stderr, "libdanaus: pool '%s': uid %u changed identity and cannot attach "
				"as uid %u: %s; its files of the pool are closed\n",
			dn_client.pool, (unsigned)dn_client.ident.euid, (unsigned)now->euid, msg);
		dn_forget_all_files();
		memset(&neu, 0, sizeof(neu));
		neu.sock = neu.shm_fd = neu.state_fd = -1;
		atomic_store(&neu.dead, 1);
		atomic_store(&dn_client.attached, 0); /* the next call attaches afresh */
		/* a thread that looked an fd up before finds zeroes there (EBADF), not a hole */
		neu.base = old.base;
		neu.l = old.l;
	}
	/* neu first: close() spares the current session's descriptors (dn_is_internal_fd) */
	dn_client.chan = neu;
	/* the old session stays while it may hold locks of ours: none taken, none kept */
	dn_chan_retire(&old, atomic_exchange(&dn_client.session_locks, false));
	dn_mounts_bind();
	dn_client.ident = *now;
	dn_placeholder_refresh();
	atomic_fetch_add(&dn_client.session_gen, 1);
	return r;
}

/* Switch held (dn_switch_begin): attaches anew if who the process is changed. */
static int follow_locked(void)
{
	struct dn_ident now;
	dn_ident_read(&now);
	if (!atomic_load(&dn_client.attached) || dn_ident_same(&now, &dn_client.ident))
		return 0; /* (not attached: the first call attaches as whoever the process is then) */
	return switch_locked(&now);
}

int dn_identity_changed(void)
{
	if (!atomic_load(&dn_client.attached))
		return 0;
	struct dn_ident now;
	dn_ident_read(&now);
	if (dn_ident_same(&now, &dn_client.ident))
		return 0;
	dn_switch_begin();
	int r = follow_locked();
	dn_switch_end();
	return r;
}

/* ---- the calls that change who the process is ---- */

/*
 * The kernel serves a system call with the credentials its thread has as
 * the call enters, and glibc's set*id change every thread's at once
 * (SIGSETXID). So the switch is under way before the change: a call of
 * another thread in flight finishes as the old identity, as a system call
 * in progress does, and one that begins meanwhile waits for the new
 * session, never reaching the old one with rights its thread has lost
 * (nor the new one with rights it has not yet); one whose thread the
 * change has not reached yet is served by the old session meanwhile, as
 * the kernel would serve it (calls_enter). No lock is held across the
 * change itself: glibc waits for each thread's handler, and a call nested
 * in one must not wait for it. The change stands whatever the pool says:
 * its failure shows in later calls.
 */
#define CHANGE(fn, ...)                                                                            \
	do {                                                                                       \
		if (!dn_client.configured)                                                         \
			return REAL(fn)(__VA_ARGS__);                                              \
		dn_switch_hold();                                                                  \
		atomic_fetch_add(&dn_client.change_seq, 1);                                        \
		atomic_fetch_add(&dn_client.changing, 1);                                          \
		int r_ = REAL(fn)(__VA_ARGS__);                                                    \
		int e_ = errno;                                                                    \
		atomic_fetch_sub(&dn_client.changing, 1);                                          \
		dn_switch_lock();                                                                  \
		if (r_ == 0)                                                                       \
			follow_locked();                                                           \
		dn_switch_end();                                                                   \
		errno = e_;                                                                        \
		return r_;                                                                         \
	} while (0)

DN_EXPORT int setuid(uid_t u)
{
	CHANGE(setuid, u);
}

DN_EXPORT int setgid(gid_t g)
{
	CHANGE(setgid, g);
}

DN_EXPORT int seteuid(uid_t u)
{
	CHANGE(seteuid, u);
}

DN_EXPORT int setegid(gid_t g)
{
	CHANGE(setegid, g);
}

DN_EXPORT int setreuid(uid_t r, uid_t e)
{
	CHANGE(setreuid, r, e);
}

DN_EXPORT int setregid(gid_t r, gid_t e)
{
	CHANGE(setregid, r, e);
}

DN_EXPORT int setresuid(uid_t r, uid_t e, uid_t s)
{
	CHANGE(setresuid, r, e, s);
}

DN_EXPORT int setresgid(gid_t r, gid_t e, gid_t s)
{
	CHANGE(setresgid, r, e, s);
}

DN_EXPORT int setgroups(size_t n, const gid_t *groups)
{
	CHANGE(setgroups, n, groups);
}

/* glibc's initgroups calls its own setgroups, which no interposer sees. */
DN_EXPORT int initgroups(const char *user, gid_t group)
{
	CHANGE(initgroups, user, group);
}

DN_EXPORT int capset(cap_user_header_t h, const cap_user_data_t d)
{
	CHANGE(capset, h, d);
}
