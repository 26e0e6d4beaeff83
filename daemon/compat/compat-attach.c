/* Compat Attach: the pool's detached FUSE mounts, handed to the unit that attaches it in the host */
#include "compat-attach.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cleanup.h"
#include "compat-kmount.h"
#include "compat.h"
#include "dn-paths.h"
#include "log.h"

static void record_path(const char *pool, char *out, size_t len)
{
	snprintf(out, len, "%s/%s.compat", DN_RUNDIR, pool);
}

int dn_compat_record_write(const char *pool, const int *mnt_fds, const char *const *mountpoints,
			   size_t n)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	record_path(pool, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	/* Renamed into place: the attacher never reads half a record. */
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int r = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (strchr(mountpoints[i], '\n'))
			r = -EINVAL; /* (the config's mountpoints never have one) */
		else if (dprintf(fd, "%ld %d %s\n", (long)getpid(), mnt_fds[i], mountpoints[i]) < 0)
			r = -errno;
	}
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

/*
 * The record's PID and the FD holding the mount for mountpoint (any
 * mountpoint's PID when it is NULL); -errno when there is none or the
 * record says nothing sensible.
 */
static int record_read(const char *pool, const char *mountpoint, long *pid, int *fd)
{
	char path[PATH_MAX];
	record_path(pool, path, sizeof(path));
	_cleanup_close_ int f = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	FILE *in = f >= 0 ? fdopen(f, "r") : NULL;
	if (!in)
		return -errno;
	f = -1; /* the stream's now */
	char *line = NULL;
	size_t cap = 0;
	int r = -ENOENT;
	while (r == -ENOENT && getline(&line, &cap, in) > 0) {
		int at = 0;
		char *nl = strchr(line, '\n');
		if (!nl || sscanf(line, "%ld %d %n", pid, fd, &at) != 2 || at == 0 || *pid <= 0 ||
		    *fd < 0) {
			r = -EBADMSG;
			break;
		}
		*nl = 0;
		if (!mountpoint || strcmp(line + at, mountpoint) == 0)
			r = 0;
	}
	free(line);
	fclose(in);
	return r;
}

void dn_compat_record_remove(const char *pool)
{
	long pid;
	int fd;
	char path[PATH_MAX];
	record_path(pool, path, sizeof(path));
	if (record_read(pool, NULL, &pid, &fd) == 0 && pid == (long)getpid())
		unlink(path);
}

/*
 * Even a '+' command of a unit with PrivateTmp=/PrivateMounts= runs in a
 * mount namespace of its own (systemd only leaves out the sandboxing
 * mounts there), where a mount attached vanishes with the command: go to
 * PID 1's (the service manager's, the host's) namespace and root first.
 */
static int enter_host_ns(void)
{
	_cleanup_close_ int root = open("/proc/1/root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int ns = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (root < 0 || ns < 0 || setns(ns, CLONE_NEWNS) < 0 || fchdir(root) < 0 ||
	    chroot(".") < 0 || chdir("/") < 0) {
		int e = errno;
		dn_log_error("cannot enter the mount namespace of PID 1: %s", strerror(e));
		return -e;
	}
	return 0;
}

int dn_compat_attach_main(const char *pool, const char *mountpoint)
{
	const char *env = getenv("MAINPID");
	char *end;
	long main_pid = env ? strtol(env, &end, 10) : 0;
	if (!env || *end || main_pid <= 0) {
		dn_log_error("--attach-compat runs as the unit's ExecStartPost=, with $MAINPID "
			     "naming the pool (it is '%s')", env ? env : "unset");
		return -EINVAL;
	}
	long pid;
	int fd;
	int r = record_read(pool, mountpoint, &pid, &fd);
	if (r < 0) {
		dn_log_error("no compat mount to attach at %s: %s/%s.compat: %s", mountpoint,
			     DN_RUNDIR, pool, strerror(-r));
		return r;
	}
	if (pid != main_pid) {
		dn_log_error("%s/%s.compat is from process %ld, not the unit's main process %ld",
			     DN_RUNDIR, pool, pid, main_pid);
		return -ESRCH;
	}
	r = enter_host_ns();
	if (r < 0)
		return r;
	_cleanup_close_ int pidfd = pidfd_open((pid_t)pid, 0);
	if (pidfd < 0) {
		r = -errno;
		dn_log_error("pidfd_open(%ld): %s", pid, strerror(-r));
		return r;
	}
	_cleanup_close_ int mnt = pidfd_getfd(pidfd, fd, 0);
	if (mnt < 0) {
		r = -errno;
		dn_log_error("cannot take descriptor %d of the pool (%ld): %s", fd, pid, strerror(-r));
		return r;
	}
	struct statfs sfs;
	if (fstatfs(mnt, &sfs) < 0 || sfs.f_type != FUSE_SUPER_MAGIC) {
		dn_log_error("descriptor %d of the pool (%ld) is no FUSE mount", fd, pid);
		return -EBADF;
	}
	/* A pool killed before its unit's ExecStopPost= ran left a dead one there. */
	dn_compat_clear_stale(mountpoint);
	if (dn_kmount_is_compat(mountpoint)) {
		dn_log_error("another compat mount serves %s already", mountpoint);
		return -EBUSY;
	}
	r = dn_kmount_attach(mnt, mountpoint);
	if (r < 0) {
		dn_log_error("cannot attach the compat mount at %s: %s", mountpoint, strerror(-r));
		return r;
	}
	dn_log_info("attached the compat mount of pool %s at %s", pool, mountpoint);
	return 0;
}

int dn_compat_detach_main(const char *pool, const char *mountpoint)
{
	char path[PATH_MAX];
	record_path(pool, path, sizeof(path));
	unlink(path); /* the pool's, when it could not remove it (killed) */
	int n = enter_host_ns();
	if (n < 0)
		return n;
	n = dn_kmount_detach(mountpoint);
	if (n < 0) {
		dn_log_error("cannot detach the compat mount at %s: %s", mountpoint, strerror(-n));
		return n;
	}
	if (n > 0)
		dn_log_info("detached the compat mount of pool %s at %s", pool, mountpoint);
	return 0;
}
