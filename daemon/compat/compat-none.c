/* Compat Mount, absent: danaus-pool built without libfuse3 */
#include "compat.h"

#include <errno.h>
#include <stdio.h>

#include "log.h"

#define NO_FUSE "compat_mount: danaus-pool was built without libfuse3"

int dn_compat_prepare(const char *pool, const char *mountpoint, bool handover,
		      struct dn_compat **out, char *err, size_t errlen)
{
	*out = NULL;
	snprintf(err, errlen, NO_FUSE);
	return -EOPNOTSUPP;
}

int dn_compat_start(struct dn_compat *c, struct dn_svc *svc, const struct dn_config *cfg,
		    struct dn_quotas *quotas, char *err, size_t errlen)
{
	snprintf(err, errlen, NO_FUSE);
	return -EOPNOTSUPP;
}

bool dn_compat_stop(struct dn_compat *c)
{
	return true;
}

void dn_compat_clear_stale(const char *mountpoint)
{
}

int dn_compat_attach_main(const char *pool, const char *mountpoint)
{
	dn_log_error(NO_FUSE);
	return -EOPNOTSUPP;
}

int dn_compat_detach_main(const char *pool, const char *mountpoint)
{
	return 0; /* nothing of ours can be there */
}
