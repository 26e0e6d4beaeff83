/* Tenant Quotas: what each uid holds of the pool's shared resources */
#include "quota.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

struct dn_quotas {
	struct dn_limits lim;
	_Atomic unsigned files; /* the whole pool's */
	/* the uids with a session or an open file: few, searched linearly */
	struct dn_quota **q;
	size_t n, cap;
};

int dn_quotas_new(struct dn_quotas **out, const struct dn_limits *lim)
{
	struct dn_quotas *qs = calloc(1, sizeof(*qs));
	if (!qs)
		return -ENOMEM;
	qs->lim = *lim;
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
	free(qs);
	return NULL;
}

const struct dn_limits *dn_quotas_limits(const struct dn_quotas *qs)
{
	return &qs->lim;
}

int dn_quota_session_take(struct dn_quotas *qs, uid_t uid, struct dn_quota **out)
{
	struct dn_quota *q = NULL;
	for (size_t i = 0; i < qs->n && !q; i++)
		if (qs->q[i]->uid == uid)
			q = qs->q[i];
	if (!q) {
		if (qs->n == qs->cap) {
			size_t cap = qs->cap ? qs->cap * 2 : 16;
			struct dn_quota **n = reallocarray(qs->q, cap, sizeof(*n));
			if (!n)
				return -ENOMEM;
			qs->q = n;
			qs->cap = cap;
		}
		q = calloc(1, sizeof(*q));
		if (!q)
			return -ENOMEM;
		q->uid = uid;
		q->all = qs;
		qs->q[qs->n++] = q;
	}
	if (q->sessions >= qs->lim.sessions_per_uid)
		return -EMFILE;
	q->sessions++;
	*out = q;
	return 0;
}

void dn_quota_session_put(struct dn_quota *q)
{
	if (!q || --q->sessions > 0 || atomic_load(&q->files) > 0)
		return;
	/* No session and no file left: forget the uid (its sessions' files were closed first). */
	struct dn_quotas *qs = q->all;
	for (size_t i = 0; i < qs->n; i++)
		if (qs->q[i] == q) {
			qs->q[i] = qs->q[--qs->n];
			break;
		}
	free(q);
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
