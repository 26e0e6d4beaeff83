/* Memfd: memfd_create(2) by its system call */
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

/* glibc names memfd_create only from 2.27 on, and the library must load into
 * older images (preload/glibc-baseline.h). -1 with errno set on failure. */
static inline int dn_memfd_create(const char *name, unsigned int flags)
{
	return (int)syscall(SYS_memfd_create, name, flags);
}
