/* Libservice Registry: from [pool] backend to the backend's constructor */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "svc.h"

static const struct {
	const char *name;
	int (*create)(const struct dn_config *, struct dn_svc **, char *, size_t);
} backends[] = {
	{"local", dn_svc_local_new},
#ifdef HAVE_CEPHFS
	{"ceph", dn_svc_ceph_new},
#endif
};

int dn_svc_new(const struct dn_config *cfg, struct dn_svc **out, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (strcmp(backends[i].name, cfg->backend) != 0)
			continue;
		struct dn_svc *below;
		int r = backends[i].create(cfg, &below, err, errlen);
		if (r < 0 || !cfg->union_upper) {
			*out = below;
			return r;
		}
		struct dn_union_spec spec = {cfg->union_image, cfg->union_lower, cfg->n_union_lower,
					     cfg->union_upper};
		return dn_svc_union_new(&spec, below, true, out, err, errlen);
	}
	if (strcmp(cfg->backend, "ceph") == 0)
		snprintf(err, errlen, "backend 'ceph' is not built into this danaus-pool: it was "
			 "built without libcephfs (install libcephfs-dev and rebuild)");
	else
		snprintf(err, errlen, "backend '%s' is not built into this danaus-pool",
			 cfg->backend);
	return -ENOTSUP;
}
