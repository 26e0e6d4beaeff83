/* danaus-run: start a program inside a pool, its files under the pool's mount */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "chan.h"
#include "dn-paths.h"
#include "library-path.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: danaus-run --pool NAME [--socket PATH] [--mountpoint PATH]\n"
		   "                  [--library PATH] [--no-cgroup | --cgroup=auto|required|no]\n"
		   "                  [--cgroup-via=systemd|libcgroup]\n"
		   "                  [--container NAME --image IMAGE [--rm]]\n"
		   "                  -- COMMAND [ARG...]\n"
		   "Runs COMMAND with libdanaus.so preloaded, so that paths under the pool's\n"
		   "mountpoint are served by the pool NAME, inside the pool's slice\n"
		   "(danaus-NAME.slice). Exits with COMMAND's status.\n"
		   "With --container, the mountpoint shows the container NAME of the pool: the\n"
		   "image IMAGE (NAME[:TAG] of the pool's store) under a writable layer of its\n"
		   "own, kept for the next run of the same NAME unless --rm.\n");
}

int main(int argc, char **argv)
{
	const char *pool = NULL, *sock = NULL, *mount = NULL, *lib = NULL;
	const char *container = NULL, *image = NULL;
	bool rm = false;
	enum { CG_NO, CG_AUTO, CG_REQUIRED } cgroup = CG_AUTO;
	enum dn_cgroup_via via = DN_CGROUP_VIA_AUTO;
	static const struct option opts[] = {
		{"pool", required_argument, NULL, 'p'},
		{"socket", required_argument, NULL, 's'},
		{"mountpoint", required_argument, NULL, 'm'},
		{"library", required_argument, NULL, 'l'},
		{"cgroup", required_argument, NULL, 'C'},
		{"no-cgroup", no_argument, NULL, 'N'},
		{"cgroup-via", required_argument, NULL, 'V'},
		{"container", required_argument, NULL, 'c'},
		{"image", required_argument, NULL, 'i'},
		{"rm", no_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	for (int o; (o = getopt_long(argc, argv, "+p:s:m:l:h", opts, NULL)) != -1;) {
		switch (o) {
		case 'p': pool = optarg; break;
		case 's': sock = optarg; break;
		case 'm': mount = optarg; break;
		case 'l': lib = optarg; break;
		case 'N': cgroup = CG_NO; break;
		case 'c': container = optarg; break;
		case 'i': image = optarg; break;
		case 'r': rm = true; break;
		case 'C':
			if (strcmp(optarg, "no") == 0)
				cgroup = CG_NO;
			else if (strcmp(optarg, "auto") == 0)
				cgroup = CG_AUTO;
			else if (strcmp(optarg, "required") == 0)
				cgroup = CG_REQUIRED;
			else {
				fprintf(stderr, "danaus-run: --cgroup takes auto, required or no\n");
				return 2;
			}
			break;
		case 'V':
			if (strcmp(optarg, "systemd") == 0)
				via = DN_CGROUP_VIA_SYSTEMD;
			else if (strcmp(optarg, "libcgroup") == 0)
				via = DN_CGROUP_VIA_LIBCGROUP;
			else {
				fprintf(stderr, "danaus-run: --cgroup-via takes systemd or libcgroup\n");
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!pool || optind >= argc) {
		usage(stderr);
		return 2;
	}
	if ((image || rm) && !container) {
		fprintf(stderr, "danaus-run: --image and --rm are for a --container\n");
		return 2;
	}
	if (container && !image) {
		fprintf(stderr, "danaus-run: --container needs the --image it runs\n");
		return 2;
	}
	/* (the probe below must not remove a container it finds: only the program's last process) */
	if (container && dn_chan_set_container(container, image, false) < 0) {
		fprintf(stderr, "danaus-run: --container or --image is too long\n");
		return 2;
	}
	char libpath[PATH_MAX];
	int r = dn_library_find(lib, libpath, sizeof(libpath));
	if (r < 0) {
		fprintf(stderr, "danaus-run: cannot find %s: %s\n", libpath, strerror(-r));
		return 127;
	}
	char sockpath[PATH_MAX];
	if (sock)
		snprintf(sockpath, sizeof(sockpath), "%s", sock);
	else
		snprintf(sockpath, sizeof(sockpath), "%s/%s.sock", DN_RUNDIR, pool);

	/*
	 * Into the pool's slice first, so the command and everything it forks
	 * share the pool's reservation with its service.
	 */
	if (cgroup != CG_NO) {
		char msg[512];
		r = dn_run_cgroup_place(pool, cgroup == CG_REQUIRED, via, msg, sizeof(msg));
		if (r < 0 && cgroup == CG_REQUIRED) {
			fprintf(stderr, "danaus-run: pool '%s': %s\n", pool, msg);
			return 125;
		}
		if (r < 0)
			fprintf(stderr, "danaus-run: warning: pool '%s': %s; running outside "
					"the pool's slice (--no-cgroup silences this)\n", pool, msg);
	}

	/*
	 * Ask the pool where its files appear, its instances' mountpoints too
	 * (this also starts a socket-activated pool); a container is asked for
	 * in any case, so a refusal is said here.
	 */
	char mountbuf[DN_MOUNT_MAX], more[DN_MOUNTS_MAX * DN_MOUNT_MAX] = "";
	{
		struct dn_chan ch;
		char msg[DN_MSG_MAX + 128];
		r = dn_chan_connect(&ch, sockpath, msg, sizeof(msg));
		if (r == 0) {
			snprintf(mountbuf, sizeof(mountbuf), "%s", ch.mounts[0]);
			for (uint32_t i = 1, n = 0; i < ch.nmounts; i++)
				n += (uint32_t)snprintf(more + n, sizeof(more) - n, "%s%s",
							n ? ":" : "", ch.mounts[i]);
			dn_chan_close(&ch);
			if (!mount)
				mount = mountbuf;
		} else if (!mount || container) {
			fprintf(stderr, "danaus-run: pool '%s': %s\n", pool, msg);
			if (container)
				return 125; /* no container: the program would see the placeholder */
		}
	}

	const char *old = getenv("LD_PRELOAD");
	size_t n = strlen(libpath) + (old ? strlen(old) + 1 : 0) + 1;
	char *preload = malloc(n);
	if (!preload)
		return 127;
	snprintf(preload, n, "%s%s%s", libpath, old && *old ? ":" : "", old ? old : "");
	if (setenv("LD_PRELOAD", preload, 1) < 0 || setenv("DANAUS_POOL", pool, 1) < 0 ||
	    (sock && setenv("DANAUS_SOCKET", sock, 1) < 0) ||
	    (mount && setenv("DANAUS_MOUNTPOINT", mount, 1) < 0) ||
	    (*more ? setenv("DANAUS_MOUNTS", more, 1) : unsetenv("DANAUS_MOUNTS")) < 0 ||
	    (container && (setenv("DANAUS_CONTAINER", container, 1) < 0 ||
			   setenv("DANAUS_IMAGE", image, 1) < 0 ||
			   setenv("DANAUS_CONTAINER_RM", rm ? "1" : "0", 1) < 0))) {
		perror("danaus-run: setenv");
		return 127;
	}
	free(preload);
	if (!container) {
		/* an outer danaus-run's container is not this pool's */
		unsetenv("DANAUS_CONTAINER");
		unsetenv("DANAUS_IMAGE");
		unsetenv("DANAUS_CONTAINER_RM");
	}
	execvp(argv[optind], argv + optind);
	/*
	 * A program stored in the pool is not there for the kernel (this
	 * process has no library): a shell, with it, runs it in our place.
	 */
	size_t ml = mount ? strlen(mount) : 0;
	if (errno == ENOENT && ml && strncmp(argv[optind], mount, ml) == 0 &&
	    (argv[optind][ml] == '/' || !argv[optind][ml])) {
		size_t nargs = (size_t)(argc - optind);
		char **sh = calloc(nargs + 4, sizeof(*sh));
		if (sh) {
			sh[0] = "sh";
			sh[1] = "-c";
			sh[2] = "exec \"$0\" \"$@\"";
			memcpy(sh + 3, argv + optind, nargs * sizeof(*sh));
			execv("/bin/sh", sh);
		}
		errno = ENOENT;
	}
	fprintf(stderr, "danaus-run: %s: %s\n", argv[optind], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
