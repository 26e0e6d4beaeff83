/* danaus-image: container images into a pool, as layers stored once */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source.h"
#include "store.h"

/* Set in the copy of ourselves that runs in the pool (through danaus-run). */
#define IN_POOL_ENV "DANAUS_IMAGE_IN_POOL"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: danaus-image [--pool NAME [--socket PATH] [--mountpoint PATH]\n"
		"                    [--library PATH] | --store DIR] COMMAND\n"
		"Commands:\n"
		"  import SOURCE NAME[:TAG]  store an image: SOURCE is an OCI image layout\n"
		"                            directory, or an oci-archive or docker-archive\n"
		"                            tarball; each layer is verified and stored once\n"
		"  list                      the images and their layers\n"
		"  rm NAME[:TAG]             forget an image; layers no other image uses go\n"
		"The store is the pool's images/ directory, reached through the pool with\n"
		"the caller's rights (as danaus-run does), or DIR with --store.\n");
}

/* danaus-run beside us (installed) or in the build tree's run/, else from PATH. */
static void find_run(const char *self, char *out, size_t len)
{
	char dir[PATH_MAX - 32];
	if ((size_t)snprintf(dir, sizeof(dir), "%s", self) >= sizeof(dir))
		dir[0] = 0;
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = 0;
		snprintf(out, len, "%s/danaus-run", dir);
		if (access(out, X_OK) == 0)
			return;
		snprintf(out, len, "%s/../run/danaus-run", dir);
		if (access(out, X_OK) == 0)
			return;
	}
	snprintf(out, len, "danaus-run");
}

/* Runs ourselves again through danaus-run, so that the store's files are the pool's. */
static int reexec_in_pool(int argc, char **argv, const char *pool, const char *sock,
			  const char *mount, const char *lib, int first_cmd_arg)
{
	char self[PATH_MAX], run[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		perror("danaus-image: /proc/self/exe");
		return 127;
	}
	self[n] = 0;
	find_run(self, run, sizeof(run));
	char **args = calloc((size_t)argc + 12, sizeof(*args));
	if (!args)
		return 127;
	int k = 0;
	args[k++] = run;
	args[k++] = "--pool";
	args[k++] = (char *)pool;
	if (sock) {
		args[k++] = "--socket";
		args[k++] = (char *)sock;
	}
	if (mount) {
		args[k++] = "--mountpoint";
		args[k++] = (char *)mount;
	}
	if (lib) {
		args[k++] = "--library";
		args[k++] = (char *)lib;
	}
	args[k++] = "--";
	args[k++] = self;
	for (int i = first_cmd_arg; i < argc; i++)
		args[k++] = argv[i];
	if (setenv(IN_POOL_ENV, "1", 1) < 0) {
		perror("danaus-image: setenv");
		return 127;
	}
	execvp(run, args);
	fprintf(stderr, "danaus-image: cannot run %s: %s\n", run, strerror(errno));
	free(args);
	return 127;
}

static int cmd_import(const char *store, int argc, char **argv)
{
	if (argc != 3) {
		usage(stderr);
		return 2;
	}
	char ref[512], why[PATH_MAX + 512] = "";
	if (dn_image_ref(argv[2], ref, sizeof(ref)) < 0) {
		fprintf(stderr, "danaus-image: '%s' is not an image name (NAME[:TAG])\n", argv[2]);
		return 2;
	}
	struct dn_image_source *s = calloc(1, sizeof(*s));
	if (!s)
		return 1;
	int r = dn_image_source_open(s, argv[1], why, sizeof(why));
	struct dn_import_report rep = {0};
	if (r == 0)
		r = dn_store_import(store, s, ref, &rep, why, sizeof(why));
	dn_image_source_close(s);
	free(s);
	if (r < 0) {
		fprintf(stderr, "danaus-image: import %s: %s\n", argv[1], why);
		return 1;
	}
	printf("imported %s: %zu layers, %zu stored now, %zu already stored\n", ref, rep.layers,
	       rep.stored, rep.layers - rep.stored);
	return 0;
}

static int cmd_rm(const char *store, int argc, char **argv)
{
	char ref[512], why[PATH_MAX + 512] = "";
	if (argc != 2 || dn_image_ref(argv[1], ref, sizeof(ref)) < 0) {
		usage(stderr);
		return 2;
	}
	size_t freed = 0;
	if (dn_store_remove(store, ref, &freed, why, sizeof(why)) < 0) {
		fprintf(stderr, "danaus-image: rm %s: %s\n", ref, why);
		return 1;
	}
	printf("removed %s: %zu layers freed\n", ref, freed);
	return 0;
}

int main(int argc, char **argv)
{
	const char *pool = NULL, *sock = NULL, *mount = NULL, *lib = NULL, *store_dir = NULL;
	static const struct option opts[] = {
		{"pool", required_argument, NULL, 'p'},
		{"socket", required_argument, NULL, 's'},
		{"mountpoint", required_argument, NULL, 'm'},
		{"library", required_argument, NULL, 'l'},
		{"store", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	for (int o; (o = getopt_long(argc, argv, "+p:s:m:l:h", opts, NULL)) != -1;) {
		switch (o) {
		case 'p': pool = optarg; break;
		case 's': sock = optarg; break;
		case 'm': mount = optarg; break;
		case 'l': lib = optarg; break;
		case 'S': store_dir = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc || (!!pool == !!store_dir && !getenv(IN_POOL_ENV))) {
		usage(stderr);
		return 2;
	}
	char store[PATH_MAX];
	if (store_dir) {
		snprintf(store, sizeof(store), "%s", store_dir);
	} else if (getenv(IN_POOL_ENV)) {
		/* the copy danaus-run started: the pool's mountpoint is in its variables */
		const char *mnt = getenv("DANAUS_MOUNTPOINT");
		if (!mnt || !*mnt) {
			fprintf(stderr, "danaus-image: the pool did not say where its files are\n");
			return 1;
		}
		snprintf(store, sizeof(store), "%s/images", mnt);
	} else {
		return reexec_in_pool(argc, argv, pool, sock, mount, lib, optind);
	}
	unsetenv(IN_POOL_ENV);
	const char *cmd = argv[optind];
	if (strcmp(cmd, "import") == 0)
		return cmd_import(store, argc - optind, argv + optind);
	if (strcmp(cmd, "rm") == 0)
		return cmd_rm(store, argc - optind, argv + optind);
	if (strcmp(cmd, "list") == 0 && argc - optind == 1) {
		char why[PATH_MAX + 64];
		if (dn_store_list(store, stdout, why, sizeof(why)) == 0)
			return 0;
		fprintf(stderr, "danaus-image: list: %s\n", why);
		return 1;
	}
	usage(stderr);
	return 2;
}
