/* Compat Mount, absent: danaus-pool built without libfuse3 */
#include "compat.h"

#include <errno.h>
#include <stdio.h>

int dn_compat_start(struct dn_svc *svc, const struct dn_config *cfg, struct dn_compat **out,
		    char *err, size_t errlen)
{
	*out = NULL;
	snprintf(err, errlen, "compat_mount: danaus-pool was built without libfuse3");
	return -EOPNOTSUPP;
}

bool dn_compat_stop(struct dn_compat *c)
{
	return true;
}

void dn_compat_clear_stale(const char *mountpoint)
{
}
