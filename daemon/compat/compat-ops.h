/* Compat Operations: the FUSE calls of the compat mount, served by the pool's libservice */
#pragma once

#define FUSE_USE_VERSION 312
#include <fuse3/fuse.h>
#include <stdatomic.h>

#include "config.h"
#include "quota.h"
#include "svc.h"

/* The FUSE threads serving one mount at most. */
#define DN_COMPAT_THREADS_MAX 64

/* What every operation of one compat mount reaches (fuse_new's private data). */
struct dn_compat_tree {
	struct dn_svc *svc;
	const struct dn_config *cfg; /* [access]: who may use the pool at all */
	/* a [mount] instance's section (its access lists), NULL for the pool's top */
	const struct dn_config_mount *mount;
	struct dn_quotas *quotas;    /* [limits]: open files per uid, shared with the sessions */
	_Atomic unsigned lock_waits; /* blocking lock calls waiting now, each on a thread */
};

/*
 * The operations, each run as its caller (compat-caller.h) with the checks
 * the pool makes for preloaded programs, after the kernel's own
 * (default_permissions).
 */
const struct fuse_operations *dn_compat_operations(void);
