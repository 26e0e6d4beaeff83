/* Tenant Quotas: what each uid holds of the pool's shared resources */
#pragma once

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

/* From [limits]; 0 is never a limit here (dn_quotas_new fills in the defaults). */
struct dn_limits {
	unsigned sessions_per_uid; /* connections, attached or not yet */
	unsigned files_per_uid;    /* open files of all the uid's sessions: EMFILE beyond */
	unsigned files_max;        /* open files of the whole pool: ENFILE beyond */
};

struct dn_quotas;

/* One uid's share; its sessions and holders keep a pointer (counted under the quotas' lock). */
struct dn_quota {
	uid_t uid;
	unsigned sessions;
	unsigned holders; /* the compat mount's open files, which have no session */
	_Atomic unsigned files;
	_Atomic unsigned lock_waits; /* the compat mount's blocking lock calls waiting now */
	struct dn_quotas *all;
};

int dn_quotas_new(struct dn_quotas **out, const struct dn_limits *lim);
/* Every quota must have been put back. */
struct dn_quotas *dn_quotas_free(struct dn_quotas *qs);

/* Any thread: a session of uid begins (-EMFILE: it has all it may) and ends. */
int dn_quota_session_take(struct dn_quotas *qs, uid_t uid, struct dn_quota **out);
void dn_quota_session_put(struct dn_quota *q);

/*
 * Any thread: uid's share for a file opened outside any session (the compat
 * mount's), to take a file of with dn_quota_file_take; no session counted.
 */
int dn_quota_hold(struct dn_quotas *qs, uid_t uid, struct dn_quota **out);
void dn_quota_release(struct dn_quota *q);

/* Any thread: an open file of q's uid (-EMFILE, -ENFILE), and its close. q may be NULL. */
int dn_quota_file_take(struct dn_quota *q);
void dn_quota_file_put(struct dn_quota *q);

/* Any thread: the files the whole pool holds open now. */
unsigned dn_quotas_files(const struct dn_quotas *qs);

/* The limits in force (defaults filled in). */
const struct dn_limits *dn_quotas_limits(const struct dn_quotas *qs);
