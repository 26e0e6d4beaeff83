/* Compat Mount: the pool's tree as a kernel mount too, for the programs the library cannot reach */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compat-ops.h"
#include "log.h"

/* FUSE worker threads at most: a caller waiting for a lock holds one. */
#define COMPAT_THREADS_MAX 64
#define COMPAT_STOP_WAIT_S 5

struct dn_compat {
	struct dn_compat_tree tree;
	struct fuse *fuse;
	pthread_t loop;
	bool looping;
	int root_fd; /* O_PATH of the mount's root: a request of our own wakes the loop to stop */
	int loop_result;
};

static void *compat_loop(void *arg)
{
	struct dn_compat *c = arg;
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	if (!cfg) {
		c->loop_result = -ENOMEM;
		return NULL;
	}
	fuse_loop_cfg_set_max_threads(cfg, COMPAT_THREADS_MAX);
	fuse_loop_cfg_set_idle_threads(cfg, 4);
	c->loop_result = fuse_loop_mt(c->fuse, cfg);
	fuse_loop_cfg_destroy(cfg);
	return NULL;
}

int dn_compat_start(struct dn_svc *svc, const struct dn_config *cfg, struct dn_compat **out,
		    char *err, size_t errlen)
{
	const char *mountpoint = cfg->mountpoint;
	*out = NULL;
	if (access("/dev/fuse", R_OK | W_OK) < 0) {
		int e = errno;
		snprintf(err, errlen, "compat_mount: cannot use /dev/fuse: %s", strerror(e));
		return -e;
	}
	struct dn_compat *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->tree.svc = svc;
	c->tree.cfg = cfg;
	c->root_fd = -1;
	/*
	 * allow_other: every user of the host. default_permissions: the kernel
	 * also makes its own checks, with the caller's own credentials and
	 * fresh attributes, where FUSE would ask nothing (a FIFO's open, '..'
	 * after a name, sticky directories); the libservice still checks every
	 * request it gets as the caller, so both must agree to grant.
	 */
	char opts[256];
	snprintf(opts, sizeof(opts), "allow_other,default_permissions,fsname=danaus-%s,subtype=danaus",
		 cfg->pool);
	char *argv[] = {(char *)"danaus-pool", (char *)"-o", opts, NULL};
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	c->fuse = fuse_new(&args, dn_compat_operations(), sizeof(struct fuse_operations), &c->tree);
	fuse_opt_free_args(&args);
	if (!c->fuse) {
		snprintf(err, errlen, "compat_mount: cannot set up FUSE (libfuse said why above)");
		free(c);
		return -EINVAL;
	}
	if (fuse_mount(c->fuse, mountpoint) != 0) {
		snprintf(err, errlen,
			 "compat_mount: cannot mount FUSE at %s (needs CAP_SYS_ADMIN and "
			 "/dev/fuse; libfuse said why above)", mountpoint);
		fuse_destroy(c->fuse);
		free(c);
		return -EPERM;
	}
	int r = pthread_create(&c->loop, NULL, compat_loop, c);
	if (r != 0) {
		snprintf(err, errlen, "compat_mount: cannot start its thread: %s", strerror(r));
		fuse_unmount(c->fuse);
		fuse_destroy(c->fuse);
		free(c);
		return -r;
	}
	c->looping = true;
	c->root_fd = open(mountpoint, O_PATH | O_DIRECTORY | O_CLOEXEC);
	*out = c;
	return 0;
}

bool dn_compat_stop(struct dn_compat *c)
{
	if (!c)
		return true;
	/*
	 * Unmounting aborts the connection once no one is inside (the loop
	 * reads ENODEV); while programs are, one more request of ours lets the
	 * loop see that it is to end. They get ENOTCONN once the pool is gone.
	 */
	fuse_exit(c->fuse);
	fuse_unmount(c->fuse);
	if (c->root_fd >= 0) {
		struct stat st;
		fstat(c->root_fd, &st);
		close(c->root_fd);
	}
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += COMPAT_STOP_WAIT_S;
	if (c->looping && pthread_timedjoin_np(c->loop, NULL, &until) != 0) {
		dn_log_warning("the compat mount's threads did not stop within %d s; leaving "
			       "them to the exit", COMPAT_STOP_WAIT_S);
		return false; /* they may be in the backend: nothing of theirs is freed */
	}
	fuse_destroy(c->fuse);
	free(c);
	return true;
}

/* /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') << 6 | (r[2] - '0') << 3 | (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
}

/* Whether mountinfo shows one of our FUSE mounts at mountpoint. */
static bool compat_mounted(const char *mountpoint)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	while (!found && getline(&line, &cap, f) > 0) {
		char mp[4096], fstype[64];
		const char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1 ||
		    sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		unescape(mp);
		found = strcmp(mp, mountpoint) == 0 && strcmp(fstype, "fuse.danaus") == 0;
	}
	free(line);
	fclose(f);
	return found;
}

void dn_compat_clear_stale(const char *mountpoint)
{
	struct stat st;
	while (compat_mounted(mountpoint) && stat(mountpoint, &st) < 0 && errno == ENOTCONN) {
		if (umount2(mountpoint, MNT_DETACH) < 0) {
			dn_log_warning("a dead compat mount is left at %s: %s", mountpoint,
				       strerror(errno));
			return;
		}
		dn_log_info("detached the dead compat mount a previous pool left at %s", mountpoint);
	}
}
