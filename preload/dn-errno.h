/* Errno Convention: inside we pass -errno, outside the C library's way */
#pragma once

#include <errno.h>

/* r evaluated once: callers pass the call itself. */
static inline long dn_errno_return(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

#define DN_RETURN(r) return dn_errno_return(r)
