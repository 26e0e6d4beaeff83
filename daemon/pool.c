/* Pool Service: the acceptor that attaches clients and the workers that serve them */
#include "pool.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "cleanup.h"
#include "compat/compat-metrics.h"
#include "gens.h"
#include "cred.h"
#include "futex.h"
#include "handover.h"
#include "handshake.h"
#include "heap-trim.h"
#include "log.h"
#include "metrics-socket.h"
#include "metrics.h"
#include "mounts.h"
#include "peer.h"
#include "quota.h"
#include "session.h"
#include "union/instances.h"
#include "shm.h"
#include "worker.h"

/* Sizes of every session of this pool. */
#define SESSION_BUFS 64           /* application threads with a request in flight */
#define SESSION_DATA (1u << 20)   /* largest single read or write */
#define SESSION_OFDS 16384        /* open file descriptions of one session */

struct retired {
	struct retired *next;
	struct dn_session_set *set;
	struct dn_session *session; /* may be NULL */
	uint64_t epochs[DN_MAX_QUEUES + 1]; /* the workers' and the watchdog's */
};

struct dn_pool {
	const struct dn_config *cfg;
	const struct dn_mounts *mounts;
	struct dn_svc *svc; /* the pool's top: mounts' first */
	struct dn_layout layout;
	int listen_fd, epfd, sigfd, state_fd;
	struct dn_worker_states *states;
	struct dn_workers *workers;
	struct dn_trimmer *trimmer;
	struct dn_session **sessions; /* every connection, pending or active */
	size_t nsessions, cap;
	struct retired *retired;
	uint64_t watchdog_usec;
	uint64_t accept_paused_until; /* out of fds: stop accepting for a while */
	struct dn_quotas *quotas;
	struct dn_handovers *handovers;
	struct dn_instances *instances; /* [union] containers, else NULL */
	unsigned nhandovers;         /* waiting at the last look: they expire */
	bool instances_idle;         /* containers without processes wait to go */
	size_t npending;             /* connections that have not said hello yet */
	uint64_t refusals_logged_at; /* refusals are logged at most REFUSALS_LOGGED per second */
	unsigned refusals_logged, refusals_unlogged;
	int metrics_fd;
	struct dn_metrics_socket *metrics;
	uint64_t started_ns;
	_Atomic uint64_t active; /* attached sessions, for the metrics */
	/* held while retired sets and sessions are freed, and while the metrics read the current set */
	pthread_mutex_t sets_lock;
	uint64_t status_at, status_requests; /* the last STATUS= line's time and count */
};

#define REFUSALS_LOGGED 10
/* Growth of the anonymous memory after which freed heap is given back. */
#define TRIM_SLACK (16u << 20)
/* Descriptors the acceptor keeps for itself (listening, epoll, sessions' sockets). */
#define FDS_RESERVED 1024

/* epoll tags that are not sessions */
static char tag_listen, tag_signal;

/*
 * Open files the whole pool may hold: the descriptors it may open (the local
 * backend's files are descriptors), less what attaching needs.
 */
static unsigned pool_files_max(void)
{
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) < 0 || nofile.rlim_cur < 2 * FDS_RESERVED)
		return FDS_RESERVED;
	return nofile.rlim_cur > UINT_MAX ? UINT_MAX - FDS_RESERVED
					  : (unsigned)nofile.rlim_cur - FDS_RESERVED;
}

/* Whether the pool serves a union: static ([union], [mount] with layers) or per container. */
static bool has_union(const struct dn_config *cfg)
{
	if (cfg->union_upper || cfg->union_containers)
		return true;
	for (size_t i = 0; i < cfg->n_mounts; i++)
		if (!cfg->mounts[i].path)
			return true;
	return false;
}

int dn_pool_new(struct dn_pool **out, const struct dn_config *cfg,
		const struct dn_mounts *mounts, int listen_fd, int metrics_fd)
{
	_cleanup_free_ struct dn_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cfg = cfg;
	p->mounts = mounts;
	p->svc = mounts->v[0].svc;
	p->listen_fd = listen_fd;
	p->metrics_fd = metrics_fd;
	p->epfd = p->sigfd = p->state_fd = -1;
	pthread_mutex_init(&p->sets_lock, NULL);
	int r = dn_layout_compute(&p->layout, cfg->queues, SESSION_BUFS, SESSION_DATA,
				  SESSION_OFDS);
	if (r < 0)
		return r;
	r = dn_quotas_new(&p->quotas, &(struct dn_limits){
		.sessions_per_uid = cfg->sessions_per_uid,
		.files_max = pool_files_max(),
		.files_per_uid = cfg->open_files_per_uid ? cfg->open_files_per_uid
							  : pool_files_max() / 4,
	});
	if (r < 0)
		return r;
	p->handovers = dn_handovers_new();
	r = p->handovers ? 0 : -ENOMEM;
	if (r == 0 && cfg->union_containers &&
	    !(p->instances = dn_instances_new(dn_svc_union_below(p->svc), cfg->union_containers)))
		r = -ENOMEM;
	if (r < 0) {
		dn_pool_free(TAKE_PTR(p));
		return r;
	}
	r = dn_worker_states_create(&p->state_fd, &p->states);
	if (r < 0) {
		dn_pool_free(TAKE_PTR(p));
		return r;
	}
	/*
	 * The library's attribute cache: a Ceph pool's other clients change
	 * files only through the MDS, bounded by the timeout. A local pool's
	 * directory changes behind its back at any time, so its direct
	 * instances keep none; its unions' layers (images, containers'
	 * writable layers) only the pool changes, as overlayfs's layers are
	 * changed by no one while mounted.
	 */
	if (strcmp(cfg->backend, "ceph") == 0) {
		dn_gens_start(&p->states->gens, cfg->ceph_attr_timeout, false);
		/* (a local pool's direct instances keep nothing, and bump names) */
		dn_gens_set_mixed(dn_config_direct_meets_upper(cfg));
		/* the welcome's states memory carries it: read-only to clients */
		_Static_assert(DN_CONFIG_READ_CACHE_BLOCK == DN_READ_CACHE_BLOCK &&
				       DN_CONFIG_READ_CACHE_MAX == DN_READ_CACHE_MAX,
			       "the pool and the library count the read cache alike");
		atomic_store(&p->states->gens.read_cache_blocks,
			     (uint32_t)(dn_config_read_cache(cfg) / DN_READ_CACHE_BLOCK));
	} else
		dn_gens_start(&p->states->gens, has_union(cfg) ? cfg->union_attr_timeout : 0, true);
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	p->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (p->epfd < 0 || p->sigfd < 0) {
		r = -errno;
		dn_pool_free(TAKE_PTR(p));
		return r;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &tag_listen};
	epoll_ctl(p->epfd, EPOLL_CTL_ADD, listen_fd, &ev);
	ev.data.ptr = &tag_signal;
	epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->sigfd, &ev);
	*out = TAKE_PTR(p);
	return 0;
}

/* Gives the workers a fresh set of the active sessions; retires the old one. */
static int publish(struct dn_pool *p, struct dn_session *gone)
{
	size_t n = 0;
	struct dn_session_set *set =
		malloc(sizeof(*set) + p->nsessions * sizeof(struct dn_session *));
	struct retired *ret = calloc(1, sizeof(*ret));
	if (!set || !ret) {
		free(set);
		free(ret);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->nsessions; i++)
		if (p->sessions[i]->state == DN_SESSION_ACTIVE)
			set->s[n++] = p->sessions[i];
	set->n = (uint32_t)n;
	atomic_store_explicit(&p->active, n, memory_order_relaxed);
	ret->set = dn_workers_publish(p->workers, set);
	ret->session = gone;
	dn_workers_snapshot(p->workers, ret->epochs);
	ret->next = p->retired;
	p->retired = ret;
	return 0;
}

/* A session's files close in the tree they were opened in; a container has one user less. */
static void session_free(struct dn_pool *p, struct dn_session *s)
{
	if (!s)
		return;
	struct dn_svc *first = s->nmounts ? s->mounts[0] : NULL;
	dn_session_free(s);
	if (first && first != p->svc)
		dn_instances_release(p->instances, first);
}

static void reclaim(struct dn_pool *p)
{
	for (struct retired **it = &p->retired; *it;) {
		struct retired *r = *it;
		if (!dn_workers_quiesced(p->workers, r->epochs) ||
		    (r->session && atomic_load(&r->session->offloaded))) {
			it = &r->next;
			continue;
		}
		*it = r->next;
		pthread_mutex_lock(&p->sets_lock);
		free(r->set);
		session_free(p, r->session);
		pthread_mutex_unlock(&p->sets_lock);
		free(r);
	}
}

static void session_forget(struct dn_pool *p, struct dn_session *s)
{
	if (s->state == DN_SESSION_PENDING)
		p->npending--;
	for (size_t i = 0; i < p->nsessions; i++)
		if (p->sessions[i] == s) {
			p->sessions[i] = p->sessions[--p->nsessions];
			break;
		}
	epoll_ctl(p->epfd, EPOLL_CTL_DEL, s->sock, NULL);
}

static void session_drop(struct dn_pool *p, struct dn_session *s)
{
	bool active = s->state == DN_SESSION_ACTIVE;
	if (p->workers)
		dn_workers_unwatch(p->workers, s);
	session_forget(p, s);
	if (!active) {
		session_free(p, s); /* workers never saw it */
		return;
	}
	/* Workers may be reading it: freed once they have all moved on. */
	if (publish(p, s) < 0)
		dn_log_error("out of memory: the session of pid %d stays allocated", (int)s->pid);
}

static struct dn_log_client client_of(const struct dn_session *s)
{
	return (struct dn_log_client){.session = s->id, .uid = s->cred.uid, .pid = s->pid};
}

/* Logs a refusal, at most REFUSALS_LOGGED a second: refused peers must not flood the journal. */
static void log_refusal(struct dn_pool *p, const struct dn_session *s, const char *why)
{
	uint64_t now = dn_now_ns();
	if (now - p->refusals_logged_at >= 1000000000ull) {
		if (p->refusals_unlogged)
			dn_log_warning("%u more clients refused in the last second",
				       p->refusals_unlogged);
		p->refusals_logged_at = now;
		p->refusals_logged = p->refusals_unlogged = 0;
	}
	struct dn_log_client c = client_of(s);
	if (p->refusals_logged++ < REFUSALS_LOGGED)
		dn_log_client(LOG_WARNING, &c, "refused pid %d: %s", (int)s->pid, why);
	else
		p->refusals_unlogged++;
}

/* Tells the client why (it reads the answer to its hello), and hangs up. */
static void refuse(struct dn_pool *p, int fd, const struct dn_session *s, int status,
		   const char *why)
{
	struct dn_welcome w = {.magic = DN_PROTO_MAGIC, .version = DN_PROTO_VERSION,
			       .status = status};
	snprintf(w.msg, sizeof(w.msg), "%s", why);
	snprintf(w.mountpoint, sizeof(w.mountpoint), "%s", p->cfg->mountpoint);
	dn_msg_send(fd, &w, sizeof(w), NULL, 0);
	/*
	 * A close with the client's hello still unread would reset the
	 * connection, and the client would not read the answer: stop it
	 * sending, then take what it sent.
	 */
	shutdown(fd, SHUT_RD);
	char junk[sizeof(struct dn_hello)];
	while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
	if (status != -EPROTO)
		log_refusal(p, s, why);
}

/*
 * Who connected is known at accept (SO_PEERCRED): a peer that [access]
 * refuses, or whose uid has all the sessions [limits] allows, is answered
 * and closed at once, so no number of connections of theirs holds
 * descriptors of the pool.
 */
static int admit(struct dn_pool *p, struct dn_session *s, char *why, size_t whylen)
{
	int r = dn_peer_identity(s->sock, &s->cred, &s->real, &s->pid, why, whylen);
	if (r < 0)
		return r;
	if (!dn_config_allows(p->cfg, s->cred.uid, s->cred.gid, s->cred.groups,
			      s->cred.ngroups)) {
		snprintf(why, whylen,
			 "uid %u gid %u may not attach to pool '%s': not in its [access] list",
			 s->cred.uid, s->cred.gid, p->cfg->pool);
		return -EACCES;
	}
	if (!dn_cred_can_serve(&s->cred)) {
		snprintf(why, whylen, "pool '%s' runs unprivileged and can only serve uid %u, not uid %u",
			 p->cfg->pool, (unsigned)geteuid(), s->cred.uid);
		return -EACCES;
	}
	if (!dn_cred_can_serve(&s->real))
		s->real = s->cred; /* an unprivileged pool answers access(2) as the effective ids */
	r = dn_quota_session_take(p->quotas, s->cred.uid, &s->quota);
	if (r == -EMFILE)
		snprintf(why, whylen,
			 "uid %u has %u sessions of pool '%s', the most [limits] sessions_per_uid allows",
			 s->cred.uid, dn_quotas_limits(p->quotas)->sessions_per_uid, p->cfg->pool);
	else if (r < 0)
		snprintf(why, whylen, "cannot count the session: %s", strerror(-r));
	return r;
}

static void accept_clients(struct dn_pool *p)
{
	for (;;) {
		int fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				/* The waiting client stays queued; retrying at once would spin. */
				dn_log_warning("out of file descriptors: not accepting clients "
					       "for a second");
				epoll_ctl(p->epfd, EPOLL_CTL_DEL, p->listen_fd, NULL);
				p->accept_paused_until = dn_now_ns() + 1000000000ull;
			} else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
				dn_log_warning("accept: %s", strerror(errno));
			}
			return;
		}
		if (p->nsessions == p->cap) {
			size_t cap = p->cap ? p->cap * 2 : 16;
			struct dn_session **n = realloc(p->sessions, cap * sizeof(*n));
			if (!n) {
				close(fd);
				return;
			}
			p->sessions = n;
			p->cap = cap;
		}
		struct dn_session *s = dn_session_new(fd);
		if (!s) {
			close(fd);
			continue;
		}
		char why[DN_MSG_MAX];
		int r = admit(p, s, why, sizeof(why));
		if (r < 0) {
			refuse(p, fd, s, r, why);
			session_free(p, s);
			continue;
		}
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = s};
		if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			session_free(p, s);
			continue;
		}
		s->accepted_ns = dn_now_ns();
		s->handovers = p->handovers;
		/*
		 * every instance of the pool, unless the hello names a container;
		 * one whose [mount] lists leave this caller out stays in the table
		 * (the client's paths there reach the pool) but refuses (NULL)
		 */
		for (size_t i = 0; i < p->mounts->n; i++)
			s->mounts[i] = i == 0 || dn_config_mount_allows(&p->cfg->mounts[i - 1],
									 s->cred.uid, s->cred.gid,
									 s->cred.groups, s->cred.ngroups)
					       ? p->mounts->v[i].svc
					       : NULL;
		s->nmounts = (uint32_t)p->mounts->n;
		p->sessions[p->nsessions++] = s;
		p->npending++;
	}
}

/* Connections that never said hello in [limits] hello_timeout are dropped. */
static void drop_silent(struct dn_pool *p)
{
	uint64_t now = dn_now_ns(), limit = (uint64_t)p->cfg->hello_timeout * 1000000000ull;
	for (size_t i = 0; i < p->nsessions;) {
		struct dn_session *s = p->sessions[i];
		if (s->state == DN_SESSION_PENDING && now - s->accepted_ns > limit) {
			log_refusal(p, s, "no hello in time: connection dropped");
			session_drop(p, s); /* moves the last session into slot i */
			continue;
		}
		i++;
	}
}

/* A DN_HELLO_TAKE: the descriptor an open handed over to this uid, then the connection ends. */
static void give_handover(struct dn_pool *p, struct dn_session *s, const struct dn_hello *hello,
			  struct dn_welcome *w)
{
	int fd = dn_handover_take(p->handovers, hello->token, s->cred.uid);
	w->status = fd < 0 ? fd : 0;
	if (fd < 0)
		snprintf(w->msg, sizeof(w->msg), "no descriptor waits under that token for uid %u",
			 s->cred.uid);
	dn_msg_send(s->sock, w, sizeof(*w), &fd, fd < 0 ? 0 : 1);
	if (fd >= 0)
		close(fd);
	session_drop(p, s);
}

/* A hello that names a container: the session's requests go to its union. */
static int attach_container(struct dn_pool *p, struct dn_session *s, struct dn_hello *hello,
			    char *why, size_t whylen)
{
	hello->container[sizeof(hello->container) - 1] = '\0';
	hello->image[sizeof(hello->image) - 1] = '\0';
	if (!hello->container[0])
		return 0;
	if (!p->instances) {
		snprintf(why, whylen, "pool '%s' runs no containers ([union] containers)",
			 p->cfg->pool);
		return -EOPNOTSUPP;
	}
	if (!hello->image[0]) {
		snprintf(why, whylen, "container %.64s: which image? (danaus-run --image)",
			 hello->container);
		return -EINVAL;
	}
	/* a container's processes see its union alone, at the session's default mountpoint */
	struct dn_svc *svc;
	int r = dn_instances_acquire(p->instances, &s->cred, hello->container, hello->image,
				     hello->flags & DN_HELLO_CONTAINER_RM, &svc, why, whylen);
	if (r == 0) {
		s->mounts[0] = svc;
		s->nmounts = 1;
	}
	return r;
}

/* Answers a hello: creates the session memory (who it is was settled at accept), sends it. */
static void handshake(struct dn_pool *p, struct dn_session *s)
{
	struct dn_hello hello;
	int r = dn_msg_recv(s->sock, &hello, sizeof(hello), NULL, NULL);
	if (r == -EAGAIN)
		return;
	struct dn_welcome w = {.magic = DN_PROTO_MAGIC, .version = DN_PROTO_VERSION};
	snprintf(w.mountpoint, sizeof(w.mountpoint), "%s", p->cfg->mountpoint);
	if (r == 0 && (hello.magic != DN_PROTO_MAGIC || hello.version != DN_PROTO_VERSION)) {
		r = -EPROTO;
		snprintf(w.msg, sizeof(w.msg), "pool '%s' speaks protocol %d", p->cfg->pool,
			 DN_PROTO_VERSION);
	}
	if (r == 0 && hello.kind == DN_HELLO_TAKE) {
		give_handover(p, s, &hello, &w);
		return;
	}
	if (r == 0 && hello.kind != DN_HELLO_ATTACH) {
		r = -EPROTO;
		snprintf(w.msg, sizeof(w.msg), "unknown hello");
	}
	if (r == 0)
		r = attach_container(p, s, &hello, w.msg, sizeof(w.msg)); /* (logged below) */
	if (r == 0) {
		const char *mountpoints[DN_MOUNTS_MAX];
		for (uint32_t i = 0; i < s->nmounts; i++)
			mountpoints[i] = p->mounts->v[i].mountpoint;
		r = dn_session_map(s, &p->layout, p->cfg->workers, p->cfg->pool, mountpoints,
				   s->mounts[0]->ops->cache_dies ? DN_SESSION_CACHE_DIES : 0);
		if (r < 0)
			snprintf(w.msg, sizeof(w.msg), "cannot create session memory: %s",
				 strerror(-r));
	}
	if (r == 0 && (r = dn_workers_watch(p->workers, s)) < 0)
		snprintf(w.msg, sizeof(w.msg), "cannot listen to the session's doorbells: %s",
			 strerror(-r));
	if (r < 0) {
		if (r != -ECONNRESET && r != -EPROTO)
			log_refusal(p, s, w.msg);
		w.status = r;
		dn_msg_send(s->sock, &w, sizeof(w), NULL, 0);
		session_drop(p, s);
		return;
	}
	/*
	 * Workers must see the session before the client can ring for it: a
	 * request rung before the publish would wake a worker that finds
	 * nothing, goes back to sleep, and is never rung again.
	 */
	s->state = DN_SESSION_ACTIVE;
	p->npending--;
	if (publish(p, NULL) < 0) {
		s->state = DN_SESSION_PENDING;
		p->npending++;
		session_drop(p, s);
		return;
	}
	int fds[DN_WELCOME_FDS_MAX] = {s->shm_fd, p->state_fd};
	memcpy(fds + DN_WELCOME_FDS_MIN, s->bells, s->nbells * sizeof(int));
	if (dn_msg_send(s->sock, &w, sizeof(w), fds, DN_WELCOME_FDS_MIN + s->nbells) < 0) {
		session_drop(p, s);
		return;
	}
	/* The client has it; the mapping is all the pool needs. */
	close(s->shm_fd);
	s->shm_fd = -1;
	struct dn_log_client c = client_of(s);
	dn_log_client(LOG_DEBUG, &c, "attached pid %d, uid %u gid %u", (int)s->pid,
		      (unsigned)s->cred.uid, (unsigned)s->cred.gid);
}

static void session_event(struct dn_pool *p, struct dn_session *s, uint32_t events)
{
	if (s->state == DN_SESSION_PENDING) {
		if (events & EPOLLIN)
			handshake(p, s);
		else
			session_drop(p, s);
		return;
	}
	/* An attached client has nothing more to say: data or hangup ends it. */
	char junk[64];
	if ((events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) ||
	    recv(s->sock, junk, sizeof(junk), MSG_DONTWAIT) != -1 || errno != EAGAIN)
		session_drop(p, s);
}

/* The metrics socket's view of the pool (metrics-socket.h), on its own thread. */
static int render_metrics(void *ctx, FILE *f)
{
	struct dn_pool *p = ctx;
	_cleanup_free_ struct dn_worker_metrics *sum = calloc(1, sizeof(*sum));
	_cleanup_free_ uint64_t *busy = calloc(p->cfg->workers, sizeof(uint64_t));
	_cleanup_free_ uint64_t *queued = calloc(p->cfg->queues, sizeof(uint64_t));
	_cleanup_free_ struct dn_worker_metrics *compat =
		p->cfg->compat_mount ? calloc(1, sizeof(*compat)) : NULL;
	if (!sum || !busy || !queued || (p->cfg->compat_mount && !compat))
		return -ENOMEM;
	dn_workers_metrics(p->workers, sum, busy, p->cfg->workers);
	pthread_mutex_lock(&p->sets_lock);
	dn_workers_queued(p->workers, queued, p->cfg->queues);
	pthread_mutex_unlock(&p->sets_lock);
	if (compat)
		dn_compat_metrics_sum(compat);
	bool ceph = strcmp(p->cfg->backend, "ceph") == 0;
	struct dn_metrics_pool mp = {
		.pool = p->cfg->pool, .backend = p->cfg->backend, .mountpoint = p->cfg->mountpoint,
		.workers = p->cfg->workers,
		.sessions = atomic_load_explicit(&p->active, memory_order_relaxed),
		.files = dn_quotas_files(p->quotas), .uptime_ns = dn_now_ns() - p->started_ns,
		.busy_ns = busy,
		.cache_size = ceph && dn_config_ceph_cache_size(p->cfg)
				      ? (long)dn_config_ceph_cache_size(p->cfg)
				      : -1,
		.queues = p->cfg->queues, .queued = queued, .compat = compat,
	};
	return dn_metrics_write(f, &mp, sum);
}

/* Root, and whoever [access] lets attach, may read the metrics. */
static bool metrics_allowed(void *ctx, uid_t uid, gid_t gid, const gid_t *groups, size_t n)
{
	struct dn_pool *p = ctx;
	return uid == 0 || dn_config_allows(p->cfg, uid, gid, groups, n);
}

#define STATUS_EVERY_NS 10000000000u

/* systemctl status shows the STATUS= line: sessions, files and requests per second. */
static void notify_status(struct dn_pool *p, uint64_t now, const char *first)
{
	if (!first && now - p->status_at < STATUS_EVERY_NS)
		return;
	_cleanup_free_ struct dn_worker_metrics *sum = calloc(1, sizeof(*sum));
	if (!sum)
		return;
	dn_workers_metrics(p->workers, sum, NULL, 0);
	uint64_t requests = 0, errors = 0;
	for (unsigned i = 0; i < DN_OP_MAX; i++) {
		requests += atomic_load_explicit(&sum->op[i].count, memory_order_relaxed);
		errors += atomic_load_explicit(&sum->op[i].errors, memory_order_relaxed);
	}
	double rate = now > p->status_at ? (double)(requests - p->status_requests) * 1e9 /
						   (double)(now - p->status_at)
					 : 0;
	sd_notifyf(0, "%sSTATUS=serving %s at %s: %" PRIu64 " sessions, %u open files, %.0f req/s, "
		      "%" PRIu64 " requests (%" PRIu64 " errors)",
		   first ? first : "", p->cfg->pool, p->cfg->mountpoint,
		   atomic_load_explicit(&p->active, memory_order_relaxed),
		   dn_quotas_files(p->quotas), rate, requests, errors);
	p->status_at = now;
	p->status_requests = requests;
}

static void notify_watchdog(struct dn_pool *p)
{
	if (p->watchdog_usec)
		sd_notify(0, "WATCHDOG=1");
}

struct dn_quotas *dn_pool_quotas(struct dn_pool *p)
{
	return p->quotas;
}

int dn_pool_run(struct dn_pool *p)
{
	p->workers = dn_workers_start(p->svc, p->states, p->cfg->workers, p->cfg->queues,
				      p->cfg->read_threads,
				      (uint64_t)p->cfg->poll_us * 1000u,
				      (uint64_t)p->cfg->poll_max_us * 1000u,
				      (uint64_t)p->cfg->request_timeout * 1000000000u);
	if (!p->workers)
		return -ENOMEM;
	/*
	 * Resident memory follows the configuration (cache_size), not the peak
	 * of what libcephfs's cache freed in passing: see heap-trim.h.
	 */
	p->trimmer = dn_trimmer_start(TRIM_SLACK);
	if (sd_watchdog_enabled(0, &p->watchdog_usec) <= 0)
		p->watchdog_usec = 0;
	if (p->cfg->union_image)
		dn_log_info("serving pool '%s' (image %s under %s, %s backend) at %s with %u "
			    "worker(s)", p->cfg->pool, p->cfg->union_image, p->cfg->union_upper,
			    p->cfg->backend, p->cfg->mountpoint, p->cfg->workers);
	else if (p->cfg->union_upper)
		dn_log_info("serving pool '%s' (union of %zu layer(s) under %s, %s backend) at %s "
			    "with %u worker(s)", p->cfg->pool, p->cfg->n_union_lower,
			    p->cfg->union_upper, p->cfg->backend, p->cfg->mountpoint,
			    p->cfg->workers);
	else
		dn_log_info("serving pool '%s' (%s backend) at %s with %u worker(s)", p->cfg->pool,
			    p->cfg->backend, p->cfg->mountpoint, p->cfg->workers);
	for (size_t i = 1; i < p->mounts->n; i++)
		dn_log_info("instance %s at %s", p->cfg->mounts[i - 1].name, p->mounts->v[i].mountpoint);
	p->started_ns = p->status_at = dn_now_ns();
	if (p->metrics_fd >= 0) {
		int r = dn_metrics_socket_start(&p->metrics, p->metrics_fd, render_metrics,
						metrics_allowed, p);
		if (r < 0)
			dn_log_warning("pool '%s' serves no metrics: %s", p->cfg->pool, strerror(-r));
	}
	notify_status(p, p->started_ns, "READY=1\n");
	bool notifying = getenv("NOTIFY_SOCKET") != NULL;
	for (bool stop = false; !stop;) {
		int timeout = notifying ? (int)(STATUS_EVERY_NS / 1000000u) : -1;
		if (p->npending || p->nhandovers || p->instances_idle)
			timeout = 1000; /* hello timeouts, handovers and idle containers: once a second */
		if (p->retired)
			timeout = 20;
		if (p->accept_paused_until) {
			if (dn_now_ns() >= p->accept_paused_until) {
				struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &tag_listen};
				epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->listen_fd, &lev);
				p->accept_paused_until = 0;
			} else if (timeout < 0 || timeout > 100) {
				timeout = 100;
			}
		}
		if (p->watchdog_usec) {
			int wd = (int)(p->watchdog_usec / 2000);
			timeout = timeout < 0 || wd < timeout ? wd : timeout;
		}
		struct epoll_event ev[32];
		int n = epoll_wait(p->epfd, ev, 32, timeout);
		if (n < 0 && errno != EINTR) {
			dn_log_error("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			if (ev[i].data.ptr == &tag_listen)
				accept_clients(p);
			else if (ev[i].data.ptr == &tag_signal)
				stop = true;
			else
				session_event(p, ev[i].data.ptr, ev[i].events);
		}
		if (p->npending)
			drop_silent(p);
		p->nhandovers = dn_handover_expire(p->handovers, dn_now_ns());
		reclaim(p);
		p->instances_idle = dn_instances_reap(p->instances, dn_now_ns());
		notify_watchdog(p);
		if (notifying)
			notify_status(p, dn_now_ns(), NULL);
	}
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
	dn_log_info("stopping pool '%s'", p->cfg->pool);
	return 0;
}

struct dn_pool *dn_pool_free(struct dn_pool *p)
{
	if (!p)
		return NULL;
	/* first: clients keep nothing of a pool that is going, also when a worker is stuck */
	dn_gens_stop();
	p->metrics = dn_metrics_socket_stop(p->metrics); /* it reads the workers' counters */
	p->trimmer = dn_trimmer_stop(p->trimmer);
	/* no worker reads a session after this -- unless one is stuck in the backend */
	if (!dn_workers_stop(p->workers))
		return p;
	p->workers = NULL;
	while (p->retired) {
		struct retired *r = p->retired;
		p->retired = r->next;
		free(r->set);
		session_free(p, r->session);
		free(r);
	}
	for (size_t i = 0; i < p->nsessions; i++)
		session_free(p, p->sessions[i]);
	free(p->sessions);
	dn_instances_free(p->instances);
	dn_quotas_free(p->quotas);
	dn_handovers_free(p->handovers);
	if (p->states)
		munmap(p->states, sizeof(*p->states));
	if (p->state_fd >= 0)
		close(p->state_fd);
	if (p->epfd >= 0)
		close(p->epfd);
	if (p->sigfd >= 0)
		close(p->sigfd);
	pthread_mutex_destroy(&p->sets_lock);
	free(p);
	return NULL;
}
