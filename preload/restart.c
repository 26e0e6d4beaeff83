/* Pool Restart: a lost pool is waited for, attached to again, and this process's files reopened */
#include "restart.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "mmap.h"
#include "mounts.h"
#include "real.h"
#include "reopen.h"

/*
 * A pool that dies (SIGKILL, a crash; systemd's Restart=on-failure starts
 * it again) takes its sessions and handles with it; the session's memory
 * stays mapped in its processes, and with it the open file descriptions:
 * offsets and flags. The first call that meets the lost pool (-ENOTCONN)
 * holds back the process's other calls, as an identity switch does
 * (identity.c), and:
 *
 * - connects again, as the process is now (the pool reads who from the
 *   socket, as at the first attach), waiting up to DANAUS_RESTART_WAIT
 *   seconds for the socket to answer;
 * - maps the new session at the address of the old one (same layout: the
 *   same pool configuration), so every pointer a call holds into the table
 *   of open file descriptions names the same description in the new one;
 * - reopens each description this process refers to (its fds, its maps) at
 *   the same index and under the same handle number (DN_OPEN_HANDLE), by
 *   its recorded path and flags (reopen.h), with the
 *   process's rights now, and keeps it only when the open reaches the same
 *   file (inode and device): a file unlinked, replaced or no longer
 *   permitted answers ESTALE on that descriptor only. So does one through
 *   which the process held locks: another process may have taken them
 *   since, so they cannot be carried over (NFS would reclaim them within a
 *   grace period; a pool has none);
 * - sends the call that failed once more where that is harmless.
 *
 * Offsets are no longer shared with fork relatives afterwards: each process
 * attaches on its own (as after an identity switch).
 */

#define DEFAULT_WAIT_S 30
#define POLL_NS 50000000ull /* between attempts to connect */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void dn_restart_configure(void)
{
	const char *s = getenv("DANAUS_RESTART_WAIT");
	double w = DEFAULT_WAIT_S;
	if (s && *s) {
		char *end;
		double v = strtod(s, &end);
		if (end != s && *end == 0 && v >= 0 && v <= 86400)
			w = v;
	}
	dn_client.restart_wait_ns = (uint64_t)(w * 1e9);
}

/* ---- what is sent again ---- */

enum again { AGAIN, FAILED, DONE };

static enum again again_of(const struct dn_req *req)
{
	switch (req->op) {
	case DN_OP_CLOSE:
		return DONE; /* the handle died with the pool */
	case DN_OP_PWRITE:
		/* at an offset: the same bytes to the same place; an append may have landed */
		return req->flags & DN_WRITE_APPEND ? FAILED : AGAIN;
	case DN_OP_OPEN:
		/* a create with O_EXCL may have been done: EEXIST would be a lie */
		return (req->oflags & O_CREAT) && (req->oflags & O_EXCL) ? FAILED : AGAIN;
	case DN_OP_NOP:
	case DN_OP_PREAD:
	case DN_OP_FSTAT:
	case DN_OP_STAT:
	case DN_OP_ACCESS:
	case DN_OP_READDIR:
	case DN_OP_READLINK:
	case DN_OP_FPATH:
	case DN_OP_STATFS:
	case DN_OP_GETXATTR:
	case DN_OP_LISTXATTR:
	case DN_OP_SEEK:
	case DN_OP_IOCTL:
	case DN_OP_FADVISE:
	case DN_OP_MAPFD:
	case DN_OP_TRUNCATE:
	case DN_OP_FTRUNCATE:
	case DN_OP_CHMOD:
	case DN_OP_FCHMOD:
	case DN_OP_CHOWN:
	case DN_OP_UTIMENS:
		return AGAIN; /* the same answer, or the same state, however often */
	case DN_OP_FSYNC:
		/*
		 * What it was to flush went to the backend before the crash;
		 * a backend whose cache dies with the pool has lost it.
		 */
		return dn_client.chan.flags & DN_SESSION_CACHE_DIES ? FAILED : AGAIN;
	case DN_OP_LOCK:
	case DN_OP_FLOCK:
		/* one granted by the dead pool died with it: asking the new one is asking anew */
		return AGAIN;
	default:
		return FAILED; /* mkdir, unlink, rename, link...: the dead pool may have done it */
	}
}

/* ---- the new session ---- */

struct plan {
	int32_t *slot; /* index -> 1 + position in list; 0: not this process's */
	struct kept {
		int32_t ofd;
		uint32_t refs; /* this process's: fds and maps */
		struct dn_ofd was;
	} * list;
	uint32_t n, nofds;
	const struct dn_ofd *table;
};

static void note(int32_t ofd, struct plan *p)
{
	if (ofd < 0 || (uint32_t)ofd >= p->nofds)
		return;
	if (!p->slot[ofd]) {
		struct kept *k = &p->list[p->n];
		k->ofd = ofd;
		k->refs = 0;
		k->was.oflags = p->table[ofd].oflags;
		k->was.handle = p->table[ofd].handle;
		k->was.is_dir = p->table[ofd].is_dir;
		k->was.mount = p->table[ofd].mount;
		atomic_store(&k->was.offset, atomic_load(&p->table[ofd].offset));
		p->slot[ofd] = (int32_t)++p->n;
	}
	p->list[p->slot[ofd] - 1].refs++;
}

static void note_fd(int fd, int32_t ofd, void *arg)
{
	(void)fd;
	note(ofd, arg);
}

static void note_map(int32_t ofd, void *arg) { note(ofd, arg); }

/* Opens k's file again on neu (buffer b): its new handle, or DN_HANDLE_STALE. */
static uint64_t reopen(struct dn_chan *neu, uint32_t b, const struct kept *k)
{
	struct dn_reopen_info info;
	if (k->was.handle == DN_HANDLE_STALE || !dn_reopen_get(k->ofd, k->was.handle, &info) ||
	    info.locked)
		return DN_HANDLE_STALE;
	/*
	 * Under its old number: a thread may have read it just before the
	 * loss (an fstat, an *at call's directory) and send it after.
	 */
	struct dn_req req = {.op = DN_OP_OPEN,
	                     .mount = (uint16_t)k->was.mount,
	                     .oflags = info.oflags,
	                     .len = k->was.handle,
	                     .flags = DN_OPEN_IDENT | DN_OPEN_HANDLE |
	                              (info.redirect ? DN_REQ_REDIRECT : 0)};
	struct dn_reply rep;
	int r = dn_req_payload(neu, b, &req, info.path, NULL, NULL, 0);
	int64_t res = r < 0 ? r : dn_chan_call(neu, b, &req, &rep);
	if (res < 0 || (rep.flags & (DN_REPLY_REDIRECT | DN_REPLY_HANDOVER)))
		return DN_HANDLE_STALE; /* gone, not permitted, or now leads elsewhere */
	if (info.ino && (rep.aux != info.ino || rep.aux2 != info.dev)) {
		struct dn_req close = {.op = DN_OP_CLOSE, .handle = rep.handle};
		if (dn_req_payload(neu, b, &close, NULL, NULL, NULL, 0) == 0)
			dn_chan_call(neu, b, &close, &rep);
		return DN_HANDLE_STALE; /* another file by that name now */
	}
	return rep.handle;
}

/*
 * Puts this process's descriptions into neu's table at their own indexes,
 * reopened, then neu's memory in the old one's place: a thread that looked
 * an fd up before (identity.c) finds a whole entry of one session or the
 * other. Lock held, no other call in flight.
 */
static int take_files_over(struct dn_chan *old, struct dn_chan *neu, uint32_t *lost)
{
	/* another configuration: the old memory stays where calls may still point */
	if (!dn_layout_same(&old->l, &neu->l))
		return -EPROTO;
	struct plan p = {.nofds = old->l.nofds, .table = dn_layout_ofds(&old->l, old->base)};
	p.slot = calloc(p.nofds, sizeof(*p.slot));
	p.list = calloc(p.nofds, sizeof(*p.list));
	int b = dn_chan_buf_claim(neu, (int32_t)syscall(SYS_gettid));
	int r = !p.slot || !p.list ? -ENOMEM : b < 0 ? -EAGAIN : 0;
	if (r == 0) {
		dn_fdmap_each(note_fd, &p);
		dn_mmap_each_ofd(note_map, &p);
		struct dn_ofd *nt = dn_layout_ofds(&neu->l, neu->base);
		dn_reopen_restart_begin();
		for (uint32_t i = 0; i < p.n; i++) {
			const struct kept *k = &p.list[i];
			uint64_t h = reopen(neu, (uint32_t)b, k);
			*lost += h == DN_HANDLE_STALE;
			struct dn_ofd *o = &nt[k->ofd];
			o->handle = h;
			o->oflags = k->was.oflags;
			o->is_dir = k->was.is_dir;
			o->mount = k->was.mount;
			atomic_store(&o->offset, atomic_load(&k->was.offset));
			atomic_store(&o->refs, (int32_t)k->refs);
			dn_reopen_reset(k->ofd, k->was.handle, h,
			                old->flags & DN_SESSION_CACHE_DIES);
		}
	}
	if (b >= 0)
		dn_chan_buf_release(neu, (uint32_t)b);
	if (r == 0 && REAL(mremap)(neu->base, neu->l.total_size, neu->l.total_size,
	                           MREMAP_MAYMOVE | MREMAP_FIXED, old->base) != old->base)
		r = -EPROTO;
	if (r == 0) {
		neu->base = old->base;
		old->base = NULL; /* replaced */
	}
	free(p.slot);
	free(p.list);
	return r;
}

/* ---- waiting for the pool ---- */

static uint32_t deadline_gen = UINT32_MAX;
static uint64_t deadline;

/* Connects to the pool, waiting for it until the deadline of this loss. */
static int connect_again(struct dn_chan *neu, uint32_t gen)
{
	if (deadline_gen != gen) {
		deadline_gen = gen;
		deadline = now_ns() + dn_client.restart_wait_ns;
	}
	char msg[DN_MSG_MAX + 128];
	for (;;) {
		uint64_t now = now_ns();
		int r = dn_chan_connect_within(neu, dn_client.socket_path, msg, sizeof(msg),
		                               deadline > now ? deadline - now : 1);
		/* a refusal is an answer: waiting would not change it */
		if (r == 0 || r == -EACCES || r == -EPERM || r == -EMFILE || now_ns() >= deadline)
			return r;
		nanosleep(&(struct timespec){.tv_nsec = POLL_NS}, NULL);
	}
}

/* Once per loss: the thread that gets the lock first attaches again for all. */
static int recover(uint32_t gen)
{
	pthread_mutex_lock(&dn_client.lock);
	if (atomic_load(&dn_client.attached) && atomic_load(&dn_client.session_gen) == gen)
		atomic_store(&dn_client.chan.dead, 1); /* calls in flight give up at their next look */
	pthread_mutex_unlock(&dn_client.lock);
	dn_switch_begin();
	int r = atomic_load(&dn_client.attached) ? 0 : -ENOTCONN; /* a failed switch detached us */
	if (r < 0 || atomic_load(&dn_client.session_gen) != gen)
		goto out;                      /* or another thread did it */
	struct dn_chan neu;
	bool first = deadline_gen != gen;
	r = connect_again(&neu, gen);
	if (r < 0) {
		if (first)
			fprintf(
			    stderr, "libdanaus: pool '%s' lost and not back within %.1f s: %s\n",
			    dn_client.pool, (double)dn_client.restart_wait_ns / 1e9, strerror(-r));
		goto out;
	}
	dn_chan_each_fd(&neu, dn_fd_keep_high, NULL);
	neu.spin_ns = dn_client.chan.spin_ns;
	struct dn_chan old = dn_client.chan;
	uint32_t lost = 0;
	r = take_files_over(&old, &neu, &lost);
	if (r < 0 || lost)
		fprintf(
		    stderr, "libdanaus: pool '%s' restarted; %s\n", dn_client.pool,
		    r < 0 ? "this process's open files of it are closed (its configuration changed)"
		          : "files that are not as they were answer ESTALE");
	if (r < 0) {
		/* its files cannot follow: the process loses them, as after a failed switch */
		dn_forget_all_files();
		r = 0;
	}
	old.base = NULL; /* replaced by the new session, or left for calls still pointing there */
	/* neu first: close() spares the current session's descriptors (dn_is_internal_fd) */
	dn_client.chan = neu;
	dn_chan_close(&old);
	dn_mounts_bind();
	dn_ident_read(&dn_client.ident); /* the pool took who the process is now */
	atomic_store(&dn_client.session_locks, false); /* the dead pool's died with it */
	atomic_fetch_add(&dn_client.session_gen, 1);
out:
	dn_switch_end();
	return r;
}

int64_t dn_restart_retry(struct dn_call *c, struct dn_req *req, struct dn_reply *rep,
                         struct dn_sink *sink)
{
	enum again a = again_of(req);
	if (a == DONE)
		return 0;
	if (!dn_client.restart_wait_ns || dn_call_nested(c))
		return -ENOTCONN;
	/* a payload in the buffer is copied out first: the new session replaces that memory */
	uint8_t *saved = NULL;
	if (a == AGAIN && (req->where & DN_REQ_PAYLOAD_IN_BUF)) {
		saved = malloc(req->payload_len ? req->payload_len : 1);
		if (saved)
			memcpy(saved, dn_call_data(c), req->payload_len);
		else
			a = FAILED;
	}
	int parked = dn_call_park();
	int r = recover(c->gen);
	dn_call_unpark(parked);
	int64_t res = r < 0 ? -ENOTCONN : a == FAILED ? -EIO : 0;
	if (res == 0)
		res = dn_call_rebuf(c);
	if (res == 0 && req->handle) {
		uint64_t h = dn_reopen_successor(req->handle);
		res = h == DN_HANDLE_STALE ? -ESTALE : h == 0 ? -EIO : 0;
		req->handle = h;
	}
	if (res == 0) {
		if (saved)
			memcpy(dn_call_data(c), saved, req->payload_len);
		if (sink)
			sink->copied = 0;
		res = dn_chan_call_into(&dn_client.chan, c->buf, req, rep, sink);
		if (res == -ENOTCONN)
			res = -EIO; /* once only */
	}
	free(saved);
	return res;
}
