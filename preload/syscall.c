/* Raw System Calls: syscall(2) with a number the library serves, as that call */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "client.h"
#include "export.h"
#include "real.h"
#include "route.h"

/*
 * Some programs make file calls through glibc's syscall() (libuv, hence
 * node, calls statx and copy_file_range so): the kernel would meet a Danaus
 * fd's placeholder, or a path behind the mountpoint, and answer for the
 * wrong file. A number below that names a Danaus fd or path runs as the
 * library's own function of that call; everything else goes to the kernel
 * untouched. Identity changes made this way are seen as the set*id
 * functions' are (identity.c), but only after the kernel made them: a raw
 * setuid changes one thread, where glibc's changes them all.
 */

static bool danaus_fd(long fd)
{
	return fd >= 0 && fd <= INT32_MAX && dn_fdmap_get((int)fd) >= 0;
}

/* Whether (dirfd, path) is a Danaus file; an unreadable path is the kernel's. */
static bool danaus_path(long dirfd, long path)
{
	struct dn_target t;
	return dn_route_strict((int)dirfd, (const char *)path, &t) == 1 || danaus_fd(dirfd);
}

static bool identity_call(long n)
{
	switch (n) {
	case SYS_setuid: case SYS_setgid: case SYS_setreuid: case SYS_setregid:
	case SYS_setresuid: case SYS_setresgid: case SYS_setgroups: case SYS_capset:
		return true;
	}
	return false;
}

DN_EXPORT long syscall(long n, ...)
{
	/* As glibc's own syscall(), which passes six registers whatever was given. */
	va_list ap;
	va_start(ap, n);
	long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
	long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
	va_end(ap);
	switch (n) {
	case SYS_read:
		if (danaus_fd(a))
			return read((int)a, (void *)b, (size_t)c);
		break;
	case SYS_write:
		if (danaus_fd(a))
			return write((int)a, (const void *)b, (size_t)c);
		break;
	case SYS_pread64:
		if (danaus_fd(a))
			return pread((int)a, (void *)b, (size_t)c, (off_t)d);
		break;
	case SYS_pwrite64:
		if (danaus_fd(a))
			return pwrite((int)a, (const void *)b, (size_t)c, (off_t)d);
		break;
	case SYS_lseek:
		if (danaus_fd(a))
			return lseek((int)a, (off_t)b, (int)c);
		break;
	case SYS_close:
		if (danaus_fd(a))
			return close((int)a);
		break;
	case SYS_fstat:
		if (danaus_fd(a))
			return fstat((int)a, (struct stat *)b);
		break;
	case SYS_fsync:
		if (danaus_fd(a))
			return fsync((int)a);
		break;
	case SYS_getdents64:
		if (danaus_fd(a))
			return getdents64((int)a, (void *)b, (size_t)c);
		break;
	case SYS_open:
		if (danaus_path(AT_FDCWD, a))
			return open((const char *)a, (int)b, (mode_t)c);
		break;
	case SYS_openat:
		if (danaus_path(a, b))
			return openat((int)a, (const char *)b, (int)c, (mode_t)d);
		break;
	case SYS_newfstatat:
		if (danaus_path(a, b))
			return fstatat((int)a, (const char *)b, (struct stat *)c, (int)d);
		break;
	case SYS_statx:
		if (danaus_path(a, b))
			return statx((int)a, (const char *)b, (int)c, (unsigned)d, (struct statx *)e);
		break;
	case SYS_faccessat:
		if (danaus_path(a, b))
			return faccessat((int)a, (const char *)b, (int)c, 0);
		break;
	case SYS_faccessat2:
		if (danaus_path(a, b))
			return faccessat((int)a, (const char *)b, (int)c, (int)d);
		break;
	case SYS_mkdirat:
		if (danaus_path(a, b))
			return mkdirat((int)a, (const char *)b, (mode_t)c);
		break;
	case SYS_unlinkat:
		if (danaus_path(a, b))
			return unlinkat((int)a, (const char *)b, (int)c);
		break;
	case SYS_renameat2:
		if (danaus_path(a, b) || danaus_path(c, d))
			return renameat2((int)a, (const char *)b, (int)c, (const char *)d,
					 (unsigned)e);
		break;
	case SYS_readlinkat:
		if (danaus_path(a, b))
			return readlinkat((int)a, (const char *)b, (char *)c, (size_t)d);
		break;
	case SYS_copy_file_range:
		if (danaus_fd(a) || danaus_fd(c))
			return copy_file_range((int)a, (off_t *)b, (int)c, (off_t *)d, (size_t)e,
					       (unsigned)f);
		break;
	}
	long r = REAL(syscall)(n, a, b, c, d, e, f);
	if (r == 0 && identity_call(n)) {
		int saved = errno;
		dn_identity_changed();
		errno = saved;
	}
	return r;
}
