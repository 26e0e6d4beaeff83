/* Xattr Namespaces: which attribute names a caller may read or change, as the kernel decides */
#include "xattr-ns.h"

#include <errno.h>
#include <linux/capability.h>
#include <string.h>

#include "cred.h"

static bool prefixed(const char *name, const char *prefix)
{
	return strncmp(name, prefix, strlen(prefix)) == 0;
}

int dn_xattr_may_get(const struct dn_cred *c, const char *name)
{
	if (prefixed(name, "trusted.") && !dn_cred_capable(c, CAP_SYS_ADMIN))
		return -ENODATA;
	return 0;
}

int dn_xattr_may_change(const struct dn_cred *c, const char *name)
{
	if (prefixed(name, "trusted."))
		return dn_cred_capable(c, CAP_SYS_ADMIN) ? 0 : -EPERM;
	if (strcmp(name, "security.capability") == 0)
		return dn_cred_capable(c, CAP_SETFCAP) ? 0 : -EPERM;
	if (prefixed(name, "security."))
		return dn_cred_capable(c, CAP_SYS_ADMIN) ? 0 : -EPERM;
	return 0;
}
