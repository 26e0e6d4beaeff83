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

bool dn_xattr_sees_all(const struct dn_cred *c)
{
	return dn_cred_capable(c, CAP_SYS_ADMIN);
}

size_t dn_xattr_filter_list(const struct dn_cred *c, char *list, size_t len)
{
	if (dn_xattr_sees_all(c))
		return len;
	size_t out = 0;
	for (size_t at = 0; at < len;) {
		size_t n = strnlen(list + at, len - at);
		size_t whole = n + (at + n < len); /* with its NUL when it has one */
		if (n < 8 || memcmp(list + at, "trusted.", 8) != 0)
			memmove(list + out, list + at, whole), out += whole;
		at += whole;
	}
	return out;
}
