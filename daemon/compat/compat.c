/* Compat Mount: the pool's tree as a kernel mount too, for the programs the library cannot reach */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compat-attach.h"
#include "compat-kmount.h"
#include "compat-ops.h"
#include "cred.h"
#include "log.h"

#define COMPAT_STOP_WAIT_S 5

/* One instance's mount. */
struct compat_mount {
	struct dn_compat_tree tree;
	struct fuse *fuse;
	pthread_t loop;
	bool looping;
	bool attached; /* by the pool itself, at mountpoint */
	char *mountpoint;
	int fuse_fd;   /* /dev/fuse, until libfuse owns it */
	int mnt_fd;    /* the mount's root: a request of our own through it wakes the loop to stop */
	unsigned dev_major, dev_minor; /* the mount's, to know it at the mountpoint */
	int loop_result;
};

struct dn_compat {
	char *pool;
	bool handover; /* the unit attaches the mounts, in the host's namespace */
	size_t n;
	struct compat_mount m[DN_MOUNTS_MAX];
};

static void *compat_loop(void *arg)
{
	struct compat_mount *c = arg;
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	if (!cfg) {
		c->loop_result = -ENOMEM;
		return NULL;
	}
	fuse_loop_cfg_set_max_threads(cfg, DN_COMPAT_THREADS_MAX);
	fuse_loop_cfg_set_idle_threads(cfg, 4);
	c->loop_result = fuse_loop_mt(c->fuse, cfg);
	fuse_loop_cfg_destroy(cfg);
	return NULL;
}

static void *wake_thread(void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct stat st;
	fstat(fd, &st);
	close(fd);
	return NULL;
}

/* A request through the mount's root, from a detached thread with its own descriptor. */
static void wake_loop(int mnt_fd)
{
	int fd = fcntl(mnt_fd, F_DUPFD_CLOEXEC, 3);
	pthread_attr_t attr;
	pthread_t t;
	if (fd < 0 || pthread_attr_init(&attr) != 0) {
		dn_log_warning("cannot wake the compat mount's threads: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, wake_thread, (void *)(intptr_t)fd) != 0) {
		dn_log_warning("cannot wake the compat mount's threads");
		close(fd);
	}
	pthread_attr_destroy(&attr);
}

static void mount_free(struct compat_mount *c)
{
	if (c->fuse)
		fuse_destroy(c->fuse); /* closes the /dev/fuse descriptor it was given */
	else if (c->fuse_fd >= 0)
		close(c->fuse_fd);
	if (c->mnt_fd >= 0)
		close(c->mnt_fd);
	free(c->mountpoint);
}

static struct dn_compat *compat_free(struct dn_compat *c)
{
	for (size_t i = 0; i < c->n; i++)
		mount_free(&c->m[i]);
	free(c->pool);
	free(c);
	return NULL;
}

static int mount_prepare(struct compat_mount *c, const char *pool, const char *mountpoint,
			 char *err, size_t errlen)
{
	c->fuse_fd = c->mnt_fd = -1;
	if (!(c->mountpoint = strdup(mountpoint)))
		return -ENOMEM;
	int r = dn_kmount_new(pool, &c->fuse_fd, &c->mnt_fd, err, errlen);
	/* DONT_SYNC: no request, which would wait for a loop not running yet */
	struct statx stx = {0};
	if (r == 0 && statx(c->mnt_fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, 0, &stx) < 0) {
		r = -errno;
		snprintf(err, errlen, "compat_mount: statx of the new mount: %s", strerror(-r));
	}
	c->dev_major = stx.stx_dev_major;
	c->dev_minor = stx.stx_dev_minor;
	return r;
}

int dn_compat_prepare(const char *pool, const char *const *mountpoints, size_t n, bool handover,
		      struct dn_compat **out, char *err, size_t errlen)
{
	*out = NULL;
	if (n == 0 || n > DN_MOUNTS_MAX)
		return -EINVAL;
	struct dn_compat *c = calloc(1, sizeof(*c));
	if (!c || !(c->pool = strdup(pool))) {
		free(c);
		return -ENOMEM;
	}
	c->handover = handover;
	int r = 0;
	for (; r == 0 && c->n < n; c->n++)
		r = mount_prepare(&c->m[c->n], pool, mountpoints[c->n], err, errlen);
	/* CAP_SYS_ADMIN would let tenants set trusted.* xattrs; the mounts were all it was for. */
	if (r == 0 && handover && (r = dn_cred_drop(CAP_SYS_ADMIN)) < 0)
		snprintf(err, errlen, "compat_mount: cannot drop CAP_SYS_ADMIN: %s", strerror(-r));
	if (r < 0) {
		compat_free(c);
		return r;
	}
	*out = c;
	return 0;
}

static int mount_start(struct compat_mount *c, bool handover, struct dn_svc *svc,
		       const struct dn_config *cfg, const struct dn_config_mount *mount,
		       struct dn_quotas *quotas, char *err, size_t errlen)
{
	c->tree.svc = svc;
	c->tree.cfg = cfg;
	c->tree.mount = mount;
	c->tree.quotas = quotas;
	/* The mount options are the kernel's already (compat-kmount.c): none here. */
	char *argv[] = {(char *)"danaus-pool", NULL};
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	c->fuse = fuse_new(&args, dn_compat_operations(), sizeof(struct fuse_operations), &c->tree);
	fuse_opt_free_args(&args);
	if (!c->fuse) {
		snprintf(err, errlen, "compat_mount: cannot set up FUSE (libfuse said why above)");
		return -EINVAL;
	}
	/* libfuse >= 3.3 takes an open /dev/fuse as /dev/fd/N: it mounts (and unmounts) nothing. */
	char dev[32];
	snprintf(dev, sizeof(dev), "/dev/fd/%d", c->fuse_fd);
	if (fuse_mount(c->fuse, dev) != 0) {
		snprintf(err, errlen, "compat_mount: libfuse refused %s (it said why above)", dev);
		return -EINVAL;
	}
	c->fuse_fd = -1;
	int r = pthread_create(&c->loop, NULL, compat_loop, c);
	if (r != 0) {
		snprintf(err, errlen, "compat_mount: cannot start its thread: %s", strerror(r));
		return -r;
	}
	c->looping = true;
	if (handover)
		return 0; /* the unit attaches it */
	r = dn_kmount_attach(c->mnt_fd, c->mountpoint);
	if (r < 0) {
		snprintf(err, errlen, "compat_mount: cannot attach the FUSE mount at %s: %s",
			 c->mountpoint, strerror(-r));
		return r;
	}
	c->attached = true;
	return 0;
}

int dn_compat_start(struct dn_compat *c, const struct dn_mounts *mounts,
		    const struct dn_config *cfg, struct dn_quotas *quotas, char *err, size_t errlen)
{
	if (mounts->n != c->n)
		return -EINVAL;
	int r = 0;
	for (size_t i = 0; r == 0 && i < c->n; i++)
		r = mount_start(&c->m[i], c->handover, mounts->v[i].svc, cfg,
				i ? &cfg->mounts[i - 1] : NULL, quotas, err, errlen);
	if (r == 0 && c->handover) {
		int fds[DN_MOUNTS_MAX];
		const char *mps[DN_MOUNTS_MAX];
		for (size_t i = 0; i < c->n; i++) {
			fds[i] = c->m[i].mnt_fd;
			mps[i] = c->m[i].mountpoint;
		}
		r = dn_compat_record_write(c->pool, fds, mps, c->n);
		if (r < 0)
			snprintf(err, errlen, "compat_mount: cannot tell the unit which descriptors "
				 "hold the mounts: %s", strerror(-r));
	}
	return r;
}

/* false when its threads did not end (nothing of it is freed then) */
static bool mount_stop(struct compat_mount *c)
{
	struct statx stx;
	/* Only our own mount (the one at the top of the mountpoint). */
	if (c->attached &&
	    statx(AT_FDCWD, c->mountpoint, AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC, 0, &stx) == 0 &&
	    stx.stx_dev_major == c->dev_major && stx.stx_dev_minor == c->dev_minor &&
	    umount2(c->mountpoint, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
		dn_log_warning("cannot detach the compat mount at %s: %s", c->mountpoint,
			       strerror(errno));
	if (c->looping) {
		/*
		 * The loop ends when a worker finishes a request after
		 * fuse_exit: one of ours, through the mount's root, which we hold
		 * wherever it is attached. Asked from a thread of its own: if a
		 * program's request ended the loop first, ours waits until
		 * fuse_destroy closes /dev/fuse, which aborts the connection
		 * (programs still inside then get ENOTCONN).
		 */
		fuse_exit(c->fuse);
		wake_loop(c->mnt_fd);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += COMPAT_STOP_WAIT_S;
		if (pthread_timedjoin_np(c->loop, NULL, &until) != 0) {
			dn_log_warning("the compat mount's threads did not stop within %d s; "
				       "leaving them to the exit", COMPAT_STOP_WAIT_S);
			return false; /* they may be in the backend: nothing of theirs is freed */
		}
	}
	mount_free(c);
	return true;
}

bool dn_compat_stop(struct dn_compat *c)
{
	if (!c)
		return true;
	if (c->handover)
		dn_compat_record_remove(c->pool);
	bool stopped = true;
	for (size_t i = 0; i < c->n; i++)
		stopped &= mount_stop(&c->m[i]);
	if (!stopped)
		return false; /* the stuck threads may use what is left */
	c->n = 0;
	compat_free(c);
	return true;
}

void dn_compat_clear_stale(const char *mountpoint)
{
	struct stat st;
	while (dn_kmount_is_compat(mountpoint) && stat(mountpoint, &st) < 0 && errno == ENOTCONN) {
		if (umount2(mountpoint, MNT_DETACH | UMOUNT_NOFOLLOW) < 0) {
			dn_log_warning("a dead compat mount is left at %s: %s", mountpoint,
				       strerror(errno));
			return;
		}
		dn_log_info("detached the dead compat mount a previous pool left at %s", mountpoint);
	}
}
