/* User Namespaces: entering one changes what the process may do, as a drop of identity does */
#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "client.h"
#include "export.h"
#include "real.h"

/*
 * A process that enters a user namespace (unshare, setns) keeps its ids but
 * loses every capability over the pool's files: they count in its new
 * namespace only, as the pool judges a process that attaches from one
 * (peer.c). Its session still carries what it had when it attached, so it
 * attaches again as its new self, as after a set*id (identity.c); the
 * kernel lets only a single-threaded process do either, so no other call
 * can be in flight. glibc's wrappers make the system call themselves.
 */
static int entered(long r, int e)
{
	if (r == 0)
		dn_identity_changed();
	errno = e;
	return r == 0 ? 0 : -1;
}

DN_EXPORT int unshare(int flags)
{
	long r = REAL(syscall)(SYS_unshare, flags);
	int e = errno;
	if (r == 0 && !(flags & CLONE_NEWUSER))
		return 0;
	return entered(r, e);
}

DN_EXPORT int setns(int fd, int nstype)
{
	long r = REAL(syscall)(SYS_setns, fd, nstype);
	return entered(r, errno);
}
