/* Filesystem Instances: the pool's mountpoints and the libservice stack serving each */
#include "mounts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

_Static_assert(DN_CONFIG_MOUNTS_MAX + 1 <= DN_MOUNTS_MAX, "every instance has a wire index");

int dn_mounts_new(const struct dn_config *cfg, struct dn_svc *top, struct dn_mounts **out,
		  char *err, size_t errlen)
{
	struct dn_mounts *m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	m->v[m->n++] = (struct dn_mount){cfg->mountpoint, top};
	struct dn_svc *below = dn_svc_union_below(top);
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct dn_config_mount *c = &cfg->mounts[i];
		struct dn_svc *svc = NULL;
		char why[DN_CONFIG_ERR_MAX];
		int r;
		if (c->path) {
			r = dn_svc_subtree_new(below, c->path, &svc, why, sizeof(why));
		} else {
			struct dn_union_spec spec = {c->image, c->lower, c->n_lower, c->upper};
			r = dn_svc_union_new(&spec, below, false, &svc, why, sizeof(why));
		}
		if (r < 0) {
			snprintf(err, errlen, "%s:%u: [mount %s] at %s: %s", c->file, c->line, c->name,
				 c->mountpoint, why);
			dn_mounts_free(m);
			return r;
		}
		m->v[m->n++] = (struct dn_mount){c->mountpoint, svc};
	}
	*out = m;
	return 0;
}

struct dn_mounts *dn_mounts_free(struct dn_mounts *m)
{
	if (!m)
		return NULL;
	for (size_t i = 1; i < m->n; i++)
		m->v[i].svc->ops->destroy(m->v[i].svc);
	free(m);
	return NULL;
}
