/* Xattr Namespaces: which attribute names a caller may read or change, as the kernel decides */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "svc.h"

/*
 * For backends that are not the kernel (the local one gets the same answers
 * from the kernel itself, the worker holding only the caller's capabilities):
 * trusted.* needs CAP_SYS_ADMIN (reading without it: ENODATA, as if absent);
 * security.capability needs CAP_SETFCAP to change, other security.* names
 * CAP_SYS_ADMIN. 0, or the kernel's errno.
 */
int dn_xattr_may_get(const struct dn_cred *c, const char *name);
int dn_xattr_may_change(const struct dn_cred *c, const char *name);
