/* Tenant Quotas: what each uid holds of the pool's shared resources */
#include "quota.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

struct dn_quotas {
	struct dn_limits lim;
	_Atomic unsigned files; /* the whole pool's */
	/*
	 * The uids with a session, a holder or an open file: few, searched
	 * linearly, under lock (the acceptor and the compat mount's threads).
	 */
	pthread_mutex_t lock;
	struct dn_quota **q;
	size_t n, cap;
};

int dn_quotas_new(struct dn_quotas **out, const struct dn_limits *lim)
{
	struct dn_quotas *qs = calloc(1, sizeof(*qs));
	if (!qs)
		return -ENOMEM;
	qs->lim = *lim;
	pthread_mutex_init(&qs->lock, NULL);
	*out = qs;
	return 0;
}

struct dn_quotas *dn_quotas_free(struct dn_quotas *qs)
{
	if (!qs)
		return NULL;
	for (size_t i = 0; i < qs->n; i++)
		free(qs->q[i]);
	free(qs->q);
	pthread_mutex_destroy(&qs->lock);
	free(qs);
	return NULL;
}

const struct dn_limits *dn_quotas_limits(const struct dn_quotas *qs)
{
	return &qs->lim;
}

/* uid's share, made on first use; under qs->lock. */
static struct dn_quota *quota_of(struct dn_quotas *qs, uid_t uid)
{
	for (size_t i = 0; i < qs->n; i++)
		if (qs->q[i]->uid == uid)
			return qs->q[i];
	if (qs->n == qs->cap) {
		size_t cap = qs->cap ? qs->cap * 2 : 16;
		struct dn_quota **n = reallocarray(qs->q, cap, sizeof(*n));
		if (!n)
			return NULL;
		qs->q = n;
		qs->cap = cap;
	}
	struct dn_quota *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->uid = uid;
	q->all = qs;
	qs->q[qs->n++] = q;
	return q;
}

/* Under qs->lock: forget a uid with no session, holder or file (quota_of made it, or will again). */
static void quota_forget_unused(struct dn_quota *q)
{
	if (q->sessions > 0 || q->holders > 0 || atomic_load(&q->files) > 0 ||
	    atomic_load(&q->lock_waits) > 0)
		return;
	struct dn_quotas *qs = q->all;
	for (size_t i = 0; i < qs->n; i++)
		if (qs->q[i] == q) {
			qs->q[i] = qs->q[--qs->n];
			break;
		}
	free(q);
}

int dn_quota_session_take(struct dn_quotas *qs, uid_t uid, struct dn_quota **out)
{
	pthread_mutex_lock(&qs->lock);
	struct dn_quota *q = quota_of(qs, uid);
	int r = !q ? -ENOMEM : q->sessions >= qs->lim.sessions_per_uid ? -EMFILE : 0;
	if (r == 0) {
		q->sessions++;
		*out = q;
	} else if (q) {
		quota_forget_unused(q);
	}
	pthread_mutex_unlock(&qs->lock);
	return r;
}

void dn_quota_session_put(struct dn_quota *q)
{
	if (!q)
		return;
	/* its sessions' files were closed first: no file of it is counted any more */
	struct dn_quotas *qs = q->all;
	pthread_mutex_lock(&qs->lock);
	q->sessions--;
	quota_forget_unused(q);
	pthread_mutex_unlock(&qs->lock);
}

int dn_quota_hold(struct dn_quotas *qs, uid_t uid, struct dn_quota **out)
{
	pthread_mutex_lock(&qs->lock);
	struct dn_quota *q = quota_of(qs, uid);
	if (q)
		q->holders++;
	pthread_mutex_unlock(&qs->lock);
	*out = q;
	return q ? 0 : -ENOMEM;
}

void dn_quota_release(struct dn_quota *q)
{
	if (!q)
		return;
	struct dn_quotas *qs = q->all;
	pthread_mutex_lock(&qs->lock);
	q->holders--;
	quota_forget_unused(q);
	pthread_mutex_unlock(&qs->lock);
}

int dn_quota_file_take(struct dn_quota *q)
{
	if (!q)
		return 0;
	struct dn_quotas *qs = q->all;
	if (atomic_fetch_add(&q->files, 1) >= qs->lim.files_per_uid) {
		atomic_fetch_sub(&q->files, 1);
		return -EMFILE;
	}
	if (atomic_fetch_add(&qs->files, 1) >= qs->lim.files_max) {
		atomic_fetch_sub(&qs->files, 1);
		atomic_fetch_sub(&q->files, 1);
		return -ENFILE;
	}
	return 0;
}

unsigned dn_quotas_files(const struct dn_quotas *qs)
{
	return atomic_load_explicit(&qs->files, memory_order_relaxed);
}

void dn_quota_file_put(struct dn_quota *q)
{
	if (!q)
		return;
	atomic_fetch_sub(&q->all->files, 1);
	atomic_fetch_sub(&q->files, 1);
}
