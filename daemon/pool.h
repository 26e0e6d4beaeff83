/* Pool Service: the acceptor that attaches clients and the workers that serve them */
#pragma once

#include <stdint.h>

#include "config.h"
#include "mounts.h"

struct dn_pool;

/*
 * Takes listen_fd (a bound, listening SOCK_SEQPACKET socket) and serves
 * metrics_fd (a listening SOCK_STREAM socket, or -1), which stays the
 * caller's; so do mounts, the filesystem instances it serves.
 */
int dn_pool_new(struct dn_pool **out, const struct dn_config *cfg,
		const struct dn_mounts *mounts, int listen_fd, int metrics_fd);

/*
 * Serves until SIGTERM or SIGINT (which the caller has blocked in every
 * thread): tells systemd READY=1 once the workers run, STOPPING=1 at the end.
 */
int dn_pool_run(struct dn_pool *p);

/* The open files each uid holds, which the compat mount's count in too; p's. */
struct dn_quotas *dn_pool_quotas(struct dn_pool *p);

/* NULL; or p itself, left allocated, when a worker stuck in the backend still uses it. */
struct dn_pool *dn_pool_free(struct dn_pool *p);
