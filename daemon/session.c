/* Client Session: one attached client (its processes), its memory and open files */
#include "session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "cleanup.h"

#define HANDLES_MAX (1u << 16)

struct dn_session *dn_session_new(int sock)
{
	struct dn_session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	static uint32_t next_id;
	s->id = ++next_id; /* sessions are made by the acceptor thread only */
	s->sock = sock;
	s->shm_fd = -1;
	s->state = DN_SESSION_PENDING;
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

int dn_session_map(struct dn_session *s, const struct dn_layout *l, uint32_t nworkers,
		   const char *pool, const char *const *mountpoints, uint32_t flags)
{
	/* Read by the session's own processes only: a handoff to it must name it. */
	if (getrandom(s->token, sizeof(s->token), 0) != (ssize_t)sizeof(s->token))
		return -EIO;
	_Static_assert(sizeof(gid_t) == sizeof(uint32_t), "groups as they cross the wire");
	struct dn_shm_identity id = {
		.uid = s->cred.uid, .gid = s->cred.gid, .ngroups = s->cred.ngroups,
		.session = s->id, .groups = (const uint32_t *)s->cred.groups, .caps = s->cred.caps,
		.token = {s->token[0], s->token[1]}, .flags = flags,
	};
	int r = dn_session_shm_create(l, nworkers, pool, mountpoints, s->nmounts, &id, &s->shm_fd, &s->base);
	if (r < 0)
		return r;
	for (; s->nbells < nworkers && s->nbells < DN_MAX_QUEUES; s->nbells++) {
		s->bells[s->nbells] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (s->bells[s->nbells] < 0)
			return -errno;
	}
	s->l = *l;
	return 0;
}

void dn_open_put(struct dn_open *o)
{
	if (atomic_fetch_sub(&o->refs, 1) != 1)
		return;
	o->svc->ops->close(o->svc, o->file);
	free(o->path);
	free(o);
}

void dn_session_drop_files(struct dn_session *s)
{
	/* (instances share the backend's locks: once each is enough, more is harmless) */
	for (uint32_t m = 0; m < s->nmounts; m++)
		if (s->mounts[m] && s->mounts[m]->ops->forget_owners)
			s->mounts[m]->ops->forget_owners(s->mounts[m], (uint64_t)s->id << 32);
	for (uint32_t i = 0; i < s->nhandles; i++)
		if (s->handles[i].open) {
			dn_open_put(TAKE_PTR(s->handles[i].open));
			dn_quota_file_put(s->quota);
		}
}

struct dn_session *dn_session_free(struct dn_session *s)
{
	if (!s)
		return NULL;
	dn_session_drop_files(s);
	free(s->handles);
	if (s->base)
		munmap(s->base, s->l.total_size);
	if (s->shm_fd >= 0)
		close(s->shm_fd);
	for (uint32_t i = 0; i < s->nbells; i++)
		if (s->bells[i] >= 0)
			close(s->bells[i]);
	if (s->sock >= 0)
		close(s->sock);
	dn_quota_session_put(s->quota);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return NULL;
}

int dn_session_handle_add(struct dn_session *s, struct dn_svc *svc, struct dn_file *f,
			  const char *path, uint64_t want, uint64_t *handle)
{
	_cleanup_free_ struct dn_open *o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->path = strdup(path);
	if (!o->path)
		return -ENOMEM;
	o->svc = svc;
	o->file = f;
	atomic_init(&o->refs, 1);
	int r = dn_session_handle_adopt(s, o, want, handle);
	if (r < 0) {
		free(o->path);
		return r;
	}
	TAKE_PTR(o);
	return 0;
}

/* Makes slots [nhandles, want] (lock held): -ENOMEM, or -EMFILE past HANDLES_MAX. */
static int slots_grow(struct dn_session *s, uint32_t want)
{
	if (want >= HANDLES_MAX)
		return -EMFILE;
	if (want >= s->cap) {
		uint32_t cap = s->cap ? s->cap : 64;
		while (cap <= want)
			cap *= 2;
		struct dn_handle_slot *n = realloc(s->handles, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		memset(n + s->cap, 0, (cap - s->cap) * sizeof(*n));
		s->handles = n;
		s->cap = cap;
	}
	for (; s->nhandles <= want; s->nhandles++)
		/*
		 * A slot's generations start where the session's secret says:
		 * a client that outlives its pool (preload/restart.c) and sends
		 * a handle of the dead pool's session gets EBADF from the new
		 * one, not another of its files that got the same number.
		 */
		s->handles[s->nhandles].gen = (uint32_t)(s->token[1] >> 32) ^
					      (uint32_t)s->token[1] ^ s->nhandles * 2654435761u;
	return 0;
}

int dn_session_handle_adopt(struct dn_session *s, struct dn_open *o, uint64_t want,
			    uint64_t *handle)
{
	int r = dn_quota_file_take(s->quota);
	if (r < 0)
		return r;

	pthread_mutex_lock(&s->lock);
	uint32_t i = (uint32_t)want;
	bool keep = want && (uint32_t)(want >> 32) && i < HANDLES_MAX &&
		    (i >= s->nhandles || !s->handles[i].open);
	if (!keep)
		for (i = 0; i < s->nhandles && s->handles[i].open; i++)
			;
	r = slots_grow(s, i);
	if (r < 0) {
		pthread_mutex_unlock(&s->lock);
		dn_quota_file_put(s->quota);
		return r;
	}
	s->handles[i].open = o;
	if (keep) {
		s->handles[i].gen = (uint32_t)(want >> 32);
	} else if (++s->handles[i].gen == 0) {
		/* Never generation 0: slot 0's handle would be 0, which means "no handle" (*at). */
		s->handles[i].gen = 1;
	}
	*handle = ((uint64_t)s->handles[i].gen << 32) | i;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static struct dn_handle_slot *slot_of(struct dn_session *s, uint64_t handle)
{
	uint32_t i = (uint32_t)handle;
	if (i >= s->nhandles || !s->handles[i].open || s->handles[i].gen != (uint32_t)(handle >> 32))
		return NULL;
	return &s->handles[i];
}

struct dn_open *dn_session_handle_get(struct dn_session *s, uint64_t handle)
{
	pthread_mutex_lock(&s->lock);
	struct dn_handle_slot *h = slot_of(s, handle);
	struct dn_open *o = h ? h->open : NULL;
	if (o)
		atomic_fetch_add(&o->refs, 1);
	pthread_mutex_unlock(&s->lock);
	return o;
}

int dn_session_handle_close(struct dn_session *s, uint64_t handle)
{
	pthread_mutex_lock(&s->lock);
	struct dn_handle_slot *h = slot_of(s, handle);
	struct dn_open *o = h ? h->open : NULL;
	if (h)
		h->open = NULL;
	pthread_mutex_unlock(&s->lock);
	if (!o)
		return -EBADF;
	dn_open_put(o);
	dn_quota_file_put(s->quota);
	return 0;
}
