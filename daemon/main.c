/* danaus-pool: the filesystem service of one pool */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "cdi-claim.h"
#include "cdi-publish.h"
#include "cdi-spec.h"
#include "cleanup.h"
#include "compat/compat.h"
#include "config.h"
#include "cred.h"
#include "dn-paths.h"
#include "log.h"
#include "mounts.h"
#include "path.h"
#include "pool.h"
#include "svc.h"

/* sysexits' EX_CONFIG: the unit does not restart a pool whose configuration is wrong. */
#define EXIT_CONFIG 78

/*
 * A compat mount this host cannot make (no /dev/fuse, no FUSE in the kernel,
 * no libfuse3 in this build, no mountpoint, not allowed to mount) fails the
 * same way at every restart: EX_CONFIG, so the unit says so once instead of
 * restarting until StartLimitBurst. Anything else may pass: 1, restarted.
 */
static int compat_exit_status(int r)
{
	switch (-r) {
	case ENOENT: case ENODEV: case ENXIO: case ENOTDIR: case EOPNOTSUPP:
	case ENOSYS: case EACCES: case EPERM:
		return EXIT_CONFIG;
	default:
		return 1;
	}
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: danaus-pool --pool NAME [--config-dir DIR] [--socket PATH]\n"
		   "                   [--cdi-dir CDIDIR]\n"
		   "Serves the Danaus pool NAME, configured in DIR/danaus.ini and\n"
		   "DIR/pools/NAME.ini (DIR defaults to " DN_SYSCONFDIR "), on the unix\n"
		   "socket PATH (default " DN_RUNDIR "/NAME.sock, or the one systemd passes),\n"
		   "with its metrics on PATH's .sock replaced by .metrics. Containers reach\n"
		   "it as the CDI device " DN_CDI_KIND "=NAME, whose spec it writes into\n"
		   "CDIDIR (default " DN_CDI_DIR "; an empty CDIDIR writes none).\n"
		   "\n"
		   "       danaus-pool --pool NAME --attach-compat MOUNTPOINT\n"
		   "       danaus-pool --pool NAME --detach-compat MOUNTPOINT\n"
		   "The unit's ExecStartPost=/ExecStopPost= of a pool with compat_mount:\n"
		   "attach the pool's FUSE mount ($MAINPID's) at MOUNTPOINT in the host,\n"
		   "and detach it there.\n");
}

static int mkdir_parents(const char *path)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

/*
 * The mountpoint's directory in the host tree is only a placeholder: nothing
 * should use it (the library does not need it). Search-only (0111) and
 * empty, a program that bypasses the library (a static binary) gets EACCES
 * listing or writing it, not an empty directory that looks like the pool,
 * and no file or socket lands in it by accident. One that holds files
 * already is left alone, with a warning.
 */
static void seal_placeholder(const char *mp)
{
	int fd = open(mp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return; /* sealed already, or not there */
	struct stat st;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	bool empty = true;
	for (struct dirent *e; empty && (e = readdir(d));)
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	if (!empty)
		dn_log_warning("the mountpoint %s on the host is not empty: programs that bypass "
			       "the library (static binaries) see what it holds", mp);
	else if (fstat(fd, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 07777) != 0111 &&
		 fchmod(fd, 0111) < 0 && errno != EROFS)
		dn_log_warning("cannot make the mountpoint %s search-only: %s", mp,
			       strerror(errno));
	closedir(d);
}

/* A socket file we made: at exit it is removed only if it is still ours. */
struct own_socket {
	char path[PATH_MAX];
	struct stat bound;
};

static void own_socket_remove(const struct own_socket *o)
{
	/* A pool started since (a quick restart) may have put its own socket there. */
	struct stat now;
	if (o->path[0] && lstat(o->path, &now) == 0 && now.st_dev == o->bound.st_dev &&
	    now.st_ino == o->bound.st_ino)
		unlink(o->path);
}

/*
 * The pool's CDI spec, naming the socket it really listens on (so a pool
 * started by hand, on any socket, is a device too). A pool without one still
 * serves its host; the warning says why containers cannot reach it.
 */
static bool publish_cdi(const char *dir, const char *pool, int listen_fd,
			const struct dn_mounts *mounts, bool compat_mount)
{
	/* the other instances' mountpoints, as DANAUS_MOUNTS lists them */
	char more[DN_MOUNTS_MAX * DN_MOUNT_MAX] = "";
	for (size_t i = 1, n = 0; i < mounts->n; i++)
		n += (size_t)snprintf(more + n, sizeof(more) - n, "%s%s", n ? ":" : "",
				      mounts->v[i].mountpoint);
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	char why[PATH_MAX + 128] = "the socket has no path";
	int r = -EINVAL;
	memset(&sa, 0, sizeof(sa));
	if (getsockname(listen_fd, (struct sockaddr *)&sa, &len) == 0 && sa.sun_family == AF_UNIX &&
	    sa.sun_path[0] == '/')
		r = dn_cdi_publish(dir, DN_RUNDIR, pool, sa.sun_path, mounts->v[0].mountpoint, more,
				   compat_mount, why, sizeof(why));
	if (r < 0)
		dn_log_warning("containers cannot ask for pool '%s' (CDI %s=%s): %s", pool,
			       DN_CDI_KIND, pool, why);
	return r == 0;
}

/* Our own socket when systemd passes none: type SOCK_SEQPACKET, or SOCK_STREAM for metrics. */
static int listen_on(struct own_socket *o, int type)
{
	const char *path = o->path;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	int r = mkdir_parents(path);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	struct stat st;
	/* A socket left by a pool that died: replace it. Anything else is not ours. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(path);
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	if (lstat(path, &o->bound) < 0)
		return -errno;
	/* Who may attach (or read the metrics) is decided by [access]. */
	if (chmod(path, 0666) < 0 || listen(fd, 128) < 0)
		return -errno;
	return TAKE_FD(fd);
}

int main(int argc, char **argv)
{
	/*
	 * glibc raises its mmap threshold to the size of each large block freed
	 * (up to 32 MiB), after which libcephfs's object-sized buffers come from
	 * the heap, which keeps what they leave: reading a 1 GiB file once left
	 * the pool 528 MiB larger with libcephfs's 200 MiB object cache. A fixed
	 * threshold (glibc's initial one) stops that: +200 MiB.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	const char *pool = NULL, *config_dir = DN_SYSCONFDIR, *socket_path = NULL;
	const char *cdi_dir = DN_CDI_DIR;
	const char *attach_compat = NULL, *detach_compat = NULL;
	static const struct option opts[] = {
		{"pool", required_argument, NULL, 'p'},
		{"config-dir", required_argument, NULL, 'c'},
		{"socket", required_argument, NULL, 's'},
		{"cdi-dir", required_argument, NULL, 'C'},
		{"attach-compat", required_argument, NULL, 'A'},
		{"detach-compat", required_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	for (int o; (o = getopt_long(argc, argv, "p:c:s:hV", opts, NULL)) != -1;) {
		switch (o) {
		case 'p': pool = optarg; break;
		case 'c': config_dir = optarg; break;
		case 's': socket_path = optarg; break;
		case 'C': cdi_dir = optarg; break;
		case 'A': attach_compat = optarg; break;
		case 'D': detach_compat = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': puts("danaus-pool " DN_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!pool || optind != argc) {
		usage(stderr);
		return 2;
	}
	dn_log_init(pool);
	if (attach_compat && detach_compat) {
		usage(stderr);
		return 2;
	}
	if (attach_compat)
		return dn_compat_attach_main(pool, attach_compat) < 0 ? 1 : 0;
	if (detach_compat)
		return dn_compat_detach_main(pool, detach_compat) < 0 ? 1 : 0;

	char err[DN_CONFIG_ERR_MAX];
	struct dn_config *cfg = NULL;
	int r = dn_config_load(&cfg, config_dir, pool, err, sizeof(err));
	if (r < 0) {
		dn_log_error("%s", err);
		sd_notifyf(0, "STATUS=bad configuration: %s\nERRNO=%d", err, -r);
		return EXIT_CONFIG;
	}
	/*
	 * The compat mount first, while the pool is one thread: under systemd
	 * the unit attaches it ($DANAUS_COMPAT_HANDOVER, from the generated
	 * drop-in) and the pool drops CAP_SYS_ADMIN here, before any thread
	 * (capset is per thread) and before dn_cred_init() records the set
	 * every worker and FUSE thread serves with.
	 */
	const char *handover_env = getenv("DANAUS_COMPAT_HANDOVER");
	bool handover = handover_env && strcmp(handover_env, "1") == 0;
	struct dn_compat *compat = NULL;
	/* every instance's mountpoint, in dn_mounts_new's order */
	const char *mps[DN_MOUNTS_MAX] = {cfg->mountpoint};
	size_t n_mps = 1;
	for (size_t i = 0; i < cfg->n_mounts && n_mps < DN_MOUNTS_MAX; i++)
		mps[n_mps++] = cfg->mounts[i].mountpoint;
	r = 0;
	/* A compat mount of a pool that died would fail every look at the mountpoint. */
	for (size_t i = 0; !handover && i < n_mps; i++)
		dn_compat_clear_stale(mps[i]);
	if (cfg->compat_mount && (r = dn_compat_prepare(pool, mps, n_mps, handover, &compat, err,
							sizeof(err))) < 0) {
		dn_log_error("%s", err);
		sd_notifyf(0, "STATUS=%s\nERRNO=%d", err, -r);
		dn_config_free(cfg);
		return compat_exit_status(r);
	}
	r = dn_cred_init();
	if (r < 0) {
		dn_log_error("cannot read the service's own capabilities: %s", strerror(-r));
		return 1;
	}
	struct dn_svc *svc = NULL;
	struct dn_mounts *mounts = NULL;
	r = dn_svc_new(cfg, &svc, err, sizeof(err));
	if (r == 0 && (r = dn_mounts_new(cfg, svc, &mounts, err, sizeof(err))) < 0)
		svc->ops->destroy(svc);
	if (r < 0) {
		dn_log_error("%s", err);
		dn_config_free(cfg);
		return 1;
	}
	/*
	 * Like a mount point, each mountpoint exists in the host tree: paths that
	 * climb out of it ("/danaus/p/..") then resolve as they would on a mount.
	 */
	for (size_t i = 0; i < mounts->n; i++) {
		char mp[PATH_MAX];
		snprintf(mp, sizeof(mp), "%s/", mounts->v[i].mountpoint);
		if (mkdir_parents(mp) < 0)
			dn_log_warning("cannot create the mountpoint %s on the host; tools that "
				       "look above it may fail", mounts->v[i].mountpoint);
		else
			seal_placeholder(mounts->v[i].mountpoint);
	}
	/* Every open file of every client is a descriptor here: take all we may. */
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	/* The pool creates nothing with it: each worker takes its caller's (umask.h). */
	umask(0);

	struct own_socket own = {.path = ""}, own_metrics = {.path = ""};
	int listen_fd = -1, metrics_fd = -1;
	int n = sd_listen_fds(1);
	if (n > 0) {
		/* the pool's socket, and its metrics socket when the unit has one */
		for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
			if (listen_fd < 0 && sd_is_socket_unix(fd, SOCK_SEQPACKET, 1, NULL, 0) > 0) {
				listen_fd = fd;
			} else if (metrics_fd < 0 && sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) > 0) {
				metrics_fd = fd;
			} else {
				dn_log_error("systemd passed %d sockets; expected a listening unix "
					     "SOCK_SEQPACKET one (ListenSequentialPacket=) and at most "
					     "one SOCK_STREAM one for metrics (ListenStream=)", n);
				return EXIT_CONFIG;
			}
			fcntl(fd, F_SETFD, FD_CLOEXEC);
		}
		if (listen_fd < 0) {
			dn_log_error("the sockets systemd passed hold no listening unix SOCK_SEQPACKET "
				     "socket (ListenSequentialPacket=)");
			return EXIT_CONFIG;
		}
		/* The acceptor takes connections until EAGAIN; systemd passes sockets blocking. */
		int fl = fcntl(listen_fd, F_GETFL);
		if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
			dn_log_error("cannot make the passed socket non-blocking: %s", strerror(errno));
			return 1;
		}
	} else {
		if (socket_path)
			snprintf(own.path, sizeof(own.path), "%s", socket_path);
		else
			snprintf(own.path, sizeof(own.path), "%s/%s.sock", DN_RUNDIR, pool);
		listen_fd = listen_on(&own, SOCK_SEQPACKET);
		if (listen_fd < 0) {
			dn_log_error("cannot listen on %s: %s", own.path, strerror(-listen_fd));
			return 1;
		}
		int named = dn_path_metrics_socket(own.path, own_metrics.path,
						   sizeof(own_metrics.path));
		metrics_fd = named < 0 ? named : listen_on(&own_metrics, SOCK_STREAM);
		if (metrics_fd < 0) {
			dn_log_warning("pool '%s' serves no metrics: cannot listen on %s: %s", pool,
				       own_metrics.path, strerror(-metrics_fd));
			own_metrics.path[0] = 0;
		}
	}

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	pthread_sigmask(SIG_BLOCK, &mask, NULL); /* inherited by the workers */
	signal(SIGPIPE, SIG_IGN);

	/*
	 * A spec by systemd's socket stays valid while the pool restarts; one
	 * by our own socket is held while we run and given back at exit
	 * (cdi-claim.h), so no container is sent to a dead pool.
	 */
	struct dn_cdi_claim cdi = {.path = ""};
	if (*cdi_dir && n <= 0 && dn_cdi_claim_begin(&cdi, cdi_dir, pool) < 0)
		dn_log_warning("cannot read the CDI spec of '%s' in %s: it will not be put back "
			       "at exit", pool, cdi_dir);
	if (*cdi_dir && publish_cdi(cdi_dir, pool, listen_fd, mounts, cfg->compat_mount) && n <= 0)
		dn_cdi_claim_hold(&cdi);

	int status = 0;
	struct dn_pool *p = NULL;
	r = dn_pool_new(&p, cfg, mounts, listen_fd, metrics_fd);
	if (r == 0 && compat &&
	    (r = dn_compat_start(compat, mounts, cfg, dn_pool_quotas(p), err, sizeof(err))) < 0) {
		dn_log_error("%s", err);
		sd_notifyf(0, "STATUS=%s\nERRNO=%d", err, -r);
		status = compat_exit_status(r);
	}
	if (r == 0)
		r = dn_pool_run(p);
	if (r < 0)
		dn_log_error("cannot serve: %s", strerror(-r));
	bool stuck = !dn_compat_stop(compat);
	stuck |= dn_pool_free(p) != NULL;
	own_socket_remove(&own);
	own_socket_remove(&own_metrics);
	dn_cdi_claim_end(&cdi, own.path);
	close(listen_fd);
	if (metrics_fd >= 0)
		close(metrics_fd);
	if (stuck)
		return 1; /* the backend is wedged: leave it, and all it uses, to the exit */
	dn_mounts_free(mounts);
	svc->ops->destroy(svc);
	dn_config_free(cfg);
	return status ? status : r < 0 ? 1 : 0;
}
