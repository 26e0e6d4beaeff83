/* Filesystem Instances: the pool's mountpoints and the libservice stack serving each */
#pragma once

#include <stddef.h>

#include "config.h"
#include "svc.h"
#include "wire.h"

/*
 * Instance 0 is the pool's top at [pool] mountpoint; then one per [mount]
 * section, in the order the files gave them: a subtree of the backend, or
 * a union of its directories. All stack on the one backend under the top,
 * so one backend client (one libcephfs mount and cache) serves them all.
 * The index is what a request names (dn_req.mount).
 */
struct dn_mount {
	const char *mountpoint; /* the config's */
	struct dn_svc *svc;
};

struct dn_mounts {
	size_t n;
	struct dn_mount v[DN_MOUNTS_MAX];
};

/* top (the pool's, from dn_svc_new) stays the caller's. 0, or -errno with a message in err. */
int dn_mounts_new(const struct dn_config *cfg, struct dn_svc *top, struct dn_mounts **out,
		  char *err, size_t errlen);

/* Destroys the instances it made (not top); accepts NULL, returns NULL. */
struct dn_mounts *dn_mounts_free(struct dn_mounts *m);
