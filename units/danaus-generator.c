/* danaus-generator: turns /etc/danaus/pools/NAME.ini into pool slices (systemd.generator(7)) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdi-prune.h"
#include "cdi-publish.h"
#include "cleanup.h"
#include "config.h"
#include "dn-paths.h"
#include "slice-name.h"

/*
 * For every pool file NAME.ini it writes, into the generator's normal
 * directory:
 *   danaus-NAME.slice                         [resources] as slice settings
 *   danaus-pool@NAME.service.d/slice.conf     Slice=danaus-NAME.slice
 *   danaus-pool@NAME.service.d/sandbox.conf   what the pool's backend needs of
 *                                             the host, on top of the unit's
 *                                             sandbox (see sandbox_print)
 * and into $DANAUS_CDI_DIR (default /run/cdi; empty: none) the pool's CDI
 * spec, naming the socket the units listen on ($DANAUS_RUNDIR only in
 * tests), so that `podman run --device danaus.io/pool=NAME` works from boot
 * on (the pool rewrites it when it starts; the socket is systemd's meanwhile).
 * A pool file with an error is reported (FILE:LINE: key: reason) on stderr,
 * which systemd passes to the journal/kmsg, and its slice gets no limits:
 * danaus-pool reads the same file with the same parser when it starts and
 * fails with the same message, so the service fails visibly. The generator
 * itself never fails because of one bad pool.
 *
 * The specs it wrote before for pools that now have no file (removed,
 * renamed) or a bad one go (cdi-prune.h): a container asking for such a pool
 * gets an unresolvable CDI device, not a pool that will never start.
 */

/* The pools whose CDI spec this run wrote. */
struct published {
	char (*names)[NAME_MAX + 1];
	size_t n;
};

static void published_add(struct published *p, const char *pool)
{
	void *more = realloc(p->names, (p->n + 1) * sizeof(*p->names));
	if (!more)
		return; /* then its spec looks stale: removed, as for a pool that failed */
	p->names = more;
	snprintf(p->names[p->n++], sizeof(*p->names), "%s", pool);
}

static bool published_not(const char *pool, void *arg)
{
	const struct published *p = arg;
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->names[i], pool) == 0)
			return false;
	fprintf(stderr, "danaus-generator: pool %s is no longer configured: its CDI spec is "
			"removed\n", pool);
	return true;
}

/* snprintf that may truncate: messages and paths are bounded on purpose. */
__attribute__((format(printf, 3, 4))) static void fmt(char *out, size_t len, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	vsnprintf(out, len, f, ap);
	va_end(ap);
}

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

static void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

/* Reads a whole file; NULL with errno set on failure. */
static char *read_text(const char *path)
{
	_cleanup_(fclosep) FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *text = NULL;
	size_t len = 0;
	_cleanup_(fclosep) FILE *out = open_memstream(&text, &len);
	if (!out)
		return NULL;
	char buf[4096];
	for (size_t n; (n = fread(buf, 1, sizeof(buf), f)) > 0;)
		fwrite(buf, 1, n, out);
	bool bad = ferror(f);
	if (fclose(out) != 0 || bad) {
		out = NULL;
		free(text);
		errno = EIO;
		return NULL;
	}
	out = NULL;
	return text;
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == 0);
}

/* Writes dir/name atomically enough for a generator (a fresh directory). */
static int write_unit(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	fmt(path, sizeof(path), "%s/%s", dir, name);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text);
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

static void print_bytes(FILE *f, const char *key, uint64_t v)
{
	if (v == UINT64_MAX)
		fprintf(f, "%s=infinity\n", key);
	else if (v)
		fprintf(f, "%s=%" PRIu64 "\n", key, v);
}

/* Whether a unit file line can hold path (it cannot hold control characters). */
static bool unit_path_ok(const char *path)
{
	for (const char *c = path; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	return true;
}

/*
 * Writes path as one word of a unit file setting: quoted (spaces), with '\\'
 * and '"' escaped and '%' doubled (systemd would expand it as a specifier).
 */
static void print_unit_path(FILE *f, const char *path)
{
	fputc('"', f);
	for (const char *c = path; *c; c++) {
		if (*c == '\\' || *c == '"')
			fputc('\\', f);
		else if (*c == '%')
			fputc('%', f);
		fputc(*c, f);
	}
	fputc('"', f);
}

static bool in_home(const char *path)
{
	return under(path, "/home") || under(path, "/root") || under(path, "/run/user");
}

static bool in_tmp(const char *path)
{
	return under(path, "/tmp") || under(path, "/var/tmp");
}

/* The pool's mountpoint: the configured one, or dn_config_finish's default. */
static void pool_mountpoint(const struct dn_config *cfg, char *out, size_t len)
{
	if (cfg->mountpoint)
		fmt(out, len, "%s", cfg->mountpoint);
	else
		fmt(out, len, "/danaus/%s", cfg->pool);
}

/*
 * [pool] compat_mount: the pool makes a FUSE mount per instance (/dev/fuse,
 * the mount system calls and CAP_SYS_ADMIN, which it drops once the mounts
 * exist), detached; its namespace is private, so the unit attaches each
 * mount in the host's, outside the sandbox ('+'), and detaches it when the
 * pool is gone (also after a crash). The mountpoints are the generator's,
 * never the pool's word. All lines add to the unit's lists.
 */
static void compat_print(FILE *f, const struct dn_config *cfg, const char *mp, const char *path)
{
	fprintf(f, "Environment=DANAUS_COMPAT_HANDOVER=1\n"
		   "CapabilityBoundingSet=CAP_SYS_ADMIN\n"
		   "DeviceAllow=/dev/fuse rw\n"
		   "SystemCallFilter=@mount\n");
	for (size_t i = 0; i <= cfg->n_mounts; i++) {
		const char *at = i ? cfg->mounts[i - 1].mountpoint : mp;
		if (!at || !unit_path_ok(at)) {
			fprintf(stderr, "danaus-generator: %s: compat_mount: the mountpoint %s contains "
					"control characters, which a unit file cannot name; it will "
					"not be mounted\n", path, at ? at : "(none)");
			continue;
		}
		fprintf(f, "ExecStartPost=+" DN_SBINDIR "/danaus-pool --pool %%i --attach-compat ");
		print_unit_path(f, at);
		fprintf(f, "\nExecStopPost=+" DN_SBINDIR "/danaus-pool --pool %%i --detach-compat ");
		print_unit_path(f, at);
		fprintf(f, "\n");
	}
}

/*
 * The [Service] lines of sandbox.conf. The unit is sandboxed for what every
 * pool needs (ProtectSystem=strict: nothing writable but /run/danaus); this
 * adds what the pool's own configuration needs, and takes the network from a
 * pool that has no use for it.
 */
static void sandbox_print(FILE *f, const struct dn_config *cfg, const char *path)
{
	/*
	 * danaus-pool makes its mountpoint in the host tree, so that paths
	 * climbing out of it resolve as on a mount; under ProtectSystem=strict
	 * it cannot, so systemd does it first, outside the sandbox ('+'). '-':
	 * not fatal, as for danaus-pool.
	 */
	char mp[PATH_MAX];
	pool_mountpoint(cfg, mp, sizeof(mp));
	/* every instance's ([mount] sections) */
	for (size_t i = 0; i <= cfg->n_mounts; i++) {
		const char *at = i ? cfg->mounts[i - 1].mountpoint : mp;
		if (!at || !unit_path_ok(at))
			continue;
		/* search-only when made: the placeholder nothing should use (danaus-pool(8)) */
		fprintf(f, "ExecStartPre=-+mkdir -p -m 0111 -- ");
		print_unit_path(f, at);
		fprintf(f, "\n");
	}
	if (cfg->compat_mount)
		compat_print(f, cfg, mp, path);

	if (strcmp(cfg->backend, "ceph") == 0) {
		/*
		 * libcephfs reads the conf and keyring; the conf may put the
		 * client's admin socket and log below /run/ceph and /var/log/ceph
		 * (libcephfs's own default is neither). "-": either may be absent.
		 */
		fprintf(f, "ReadWritePaths=-/run/ceph -/var/log/ceph\n");
		/* [ceph] networks: the cluster's; nothing else on the network is reached */
		if (cfg->ceph_networks)
			fprintf(f, "IPAddressDeny=any\nIPAddressAllow=%s\n", cfg->ceph_networks);
		const char *files[] = {cfg->ceph_conf, cfg->ceph_keyring};
		bool home = false, tmp = false;
		for (size_t i = 0; i < DN_ARRAY_SIZE(files); i++) {
			home = home || (files[i] && in_home(files[i]));
			tmp = tmp || (files[i] && in_tmp(files[i]));
		}
		if (home)
			fprintf(f, "ProtectHome=read-only\n");
		if (tmp)
			fprintf(f, "PrivateTmp=no\n");
		return;
	}

	/*
	 * Local: the root is the one tree the pool writes. "-": a root missing
	 * at start is reported by danaus-pool itself (FILE:LINE), not by a
	 * failed namespace setup. The sandbox hides /home and /tmp; a root in
	 * one needs it back.
	 */
	const char *root = cfg->local_root;
	if (root && unit_path_ok(root)) {
		fprintf(f, "ReadWritePaths=-");
		print_unit_path(f, root);
		fprintf(f, "\n");
	} else if (root) {
		fprintf(stderr, "danaus-generator: %s: [local] root contains control characters, "
				"which a unit file cannot name; the pool's root stays read-only\n",
			path);
	}
	if (root && in_home(root))
		fprintf(f, "ProtectHome=no\n");
	if (root && in_tmp(root))
		fprintf(f, "PrivateTmp=no\n");
	/*
	 * Its clients, journald and sd_notify are all AF_UNIX sockets in the
	 * file system, which a private network namespace still reaches; the
	 * listening socket comes from systemd.
	 */
	fprintf(f, "PrivateNetwork=yes\n"
		   "IPAddressDeny=any\n"
		   "RestrictAddressFamilies=\n"
		   "RestrictAddressFamilies=AF_UNIX\n");
}

/* Parses the defaults and the pool file; NULL (and the message in err) on error. */
static struct dn_config *pool_parse(const char *confdir, const char *pool, const char *path,
				    char *err, size_t errlen)
{
	struct dn_config *cfg = dn_config_new(pool);
	if (!cfg) {
		fmt(err, errlen, "%s: invalid pool name '%s'", path, pool);
		return NULL;
	}
	char global[PATH_MAX];
	fmt(global, sizeof(global), "%s/danaus.ini", confdir);
	_cleanup_free_ char *gtext = read_text(global);
	if (!gtext && errno != ENOENT) {
		fmt(err, errlen, "%s: %s", global, strerror(errno));
		return dn_config_free(cfg);
	}
	_cleanup_free_ char *text = read_text(path);
	if (!text) {
		fmt(err, errlen, "%s: %s", path, strerror(errno));
		return dn_config_free(cfg);
	}
	/*
	 * Only the parse, not dn_config_finish(): the cross-key rules check that
	 * files and directories exist, which early at boot they may not yet
	 * (an unmounted /srv). danaus-pool checks them when it starts.
	 */
	if ((gtext && dn_config_parse_string(cfg, global, gtext, err, errlen) < 0) ||
	    dn_config_parse_string(cfg, path, text, err, errlen) < 0)
		return dn_config_free(cfg);
	return cfg;
}

/* Closes f, a memstream over *text, and writes the text to dir/name. */
static int unit_close_write(FILE *f, char **text, const char *dir, const char *name)
{
	int r = fclose(f) == 0 ? write_unit(dir, name, *text) : -ENOMEM;
	free(*text);
	*text = NULL;
	return r;
}

/* Where CDI specs go: $DANAUS_CDI_DIR (empty: none), by default /run/cdi. */
static const char *cdi_dir(void)
{
	const char *dir = getenv("DANAUS_CDI_DIR");
	return dir ? dir : DN_CDI_DIR;
}

/* Where the units put the sockets; $DANAUS_RUNDIR only in tests. */
static const char *run_dir(void)
{
	const char *rundir = getenv("DANAUS_RUNDIR");
	return rundir && *rundir ? rundir : DN_RUNDIR;
}

/* The pool's CDI spec; a pool without one still serves its host, so only say why. */
static void cdi_write(const struct dn_config *cfg, struct published *published)
{
	const char *dir = cdi_dir(), *rundir = run_dir();
	if (!*dir)
		return;
	char sock[PATH_MAX], mp[PATH_MAX], why[PATH_MAX + 128];
	char more[(DN_CONFIG_MOUNTS_MAX + 1) * PATH_MAX] = "";
	fmt(sock, sizeof(sock), "%s/%s.sock", rundir, cfg->pool);
	pool_mountpoint(cfg, mp, sizeof(mp));
	/* the other instances' mountpoints, as DANAUS_MOUNTS lists them */
	for (size_t i = 0, n = 0; i < cfg->n_mounts; i++)
		if (cfg->mounts[i].mountpoint)
			n += (size_t)snprintf(more + n, sizeof(more) - n, "%s%s", n ? ":" : "",
					      cfg->mounts[i].mountpoint);
	if (dn_cdi_publish(dir, rundir, cfg->pool, sock, mp, more, cfg->compat_mount, why,
			   sizeof(why)) < 0)
		fprintf(stderr, "danaus-generator: pool %s is no CDI device: %s\n", cfg->pool, why);
	else
		published_add(published, cfg->pool);
}

static void configp(struct dn_config **cfg)
{
	dn_config_free(*cfg);
}

static int pool_generate(const char *outdir, const char *confdir, const char *pool,
			 const char *path, struct published *published)
{
	struct dn_config *probe = dn_config_new(pool);
	if (!probe) {
		fprintf(stderr, "danaus-generator: %s: '%s' is not a valid pool name "
				"([A-Za-z0-9_.-], at most 64); ignored\n", path, pool);
		return 0;
	}
	dn_config_free(probe);

	char err[DN_CONFIG_ERR_MAX] = "";
	_cleanup_(configp) struct dn_config *cfg = pool_parse(confdir, pool, path, err, sizeof(err));
	if (!cfg)
		fprintf(stderr, "danaus-generator: %s (pool %s gets no resource limits; "
				"danaus-pool@%s.service will refuse to start)\n", err, pool, pool);

	char slice[NAME_MAX];
	dn_slice_name(pool, slice, sizeof(slice));

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "# Generated by danaus-generator from %s: edit that file and run\n"
		   "# `systemctl daemon-reload`.\n"
		   "[Unit]\n"
		   "Description=Danaus pool %s\n"
		   "Documentation=man:danaus.ini(5)\n"
		   "SourcePath=%s\n"
		   "Before=slices.target\n\n"
		   "[Slice]\n",
		path, pool, path);
	if (!cfg)
		fprintf(f, "# not applied: %s\n", err);
	if (cfg && cfg->cpu_quota_pct)
		fprintf(f, "CPUQuota=%u%%\n", cfg->cpu_quota_pct);
	if (cfg && cfg->cpus)
		fprintf(f, "AllowedCPUs=%s\n", cfg->cpus);
	if (cfg) {
		print_bytes(f, "MemoryMax", cfg->memory_max);
		print_bytes(f, "MemoryHigh", cfg->memory_high);
	}
	if (cfg && cfg->io_weight)
		fprintf(f, "IOWeight=%u\n", cfg->io_weight);
	int r = unit_close_write(f, &text, outdir, slice);
	if (r < 0)
		return r;

	char dropdir[PATH_MAX];
	fmt(dropdir, sizeof(dropdir), "%s/danaus-pool@%s.service.d", outdir, pool);
	if (mkdir(dropdir, 0755) < 0 && errno != EEXIST)
		return -errno;
	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "# Generated by danaus-generator from %s\n"
		   "[Unit]\n"
		   "SourcePath=%s\n\n"
		   "[Service]\n"
		   "Slice=%s\n",
		path, path, slice);
	r = unit_close_write(f, &text, dropdir, "slice.conf");
	/* A pool file with an error gets no sandbox additions and no CDI spec: it does not start. */
	if (r < 0 || !cfg)
		return r;
	cdi_write(cfg, published);

	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "# Generated by danaus-generator from %s: what backend %s needs of the\n"
		   "# host, on top of the sandbox of danaus-pool@.service.\n"
		   "[Unit]\n"
		   "SourcePath=%s\n\n"
		   "[Service]\n",
		path, cfg->backend, path);
	sandbox_print(f, cfg, path);
	return unit_close_write(f, &text, dropdir, "sandbox.conf");
}

int main(int argc, char **argv)
{
	/* systemd passes normal, early and late directories; one is enough for tests. */
	if (argc != 2 && argc != 4) {
		fprintf(stderr, "Usage: danaus-generator NORMAL-DIR [EARLY-DIR LATE-DIR]\n"
				"Reads $DANAUS_CONFIG_DIR (default " DN_SYSCONFDIR
				")/pools/*.ini.\n");
		return 2;
	}
	const char *outdir = argv[1];
	const char *confdir = getenv("DANAUS_CONFIG_DIR");
	if (!confdir || !*confdir)
		confdir = DN_SYSCONFDIR;

	char pooldir[PATH_MAX];
	fmt(pooldir, sizeof(pooldir), "%s/pools", confdir);
	struct published published = {0};
	_cleanup_(closedirp) DIR *d = opendir(pooldir);
	if (!d && errno != ENOENT) {
		fprintf(stderr, "danaus-generator: %s: %s\n", pooldir, strerror(errno));
		return 1; /* no pool is known: keep every spec */
	}
	int ret = 0;
	struct dirent *de;
	while (d && (errno = 0, de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (de->d_name[0] == '.' || n <= 4 || strcmp(de->d_name + n - 4, ".ini") != 0)
			continue;
		char pool[NAME_MAX + 1];
		fmt(pool, sizeof(pool), "%.*s", (int)(n - 4), de->d_name);
		char path[PATH_MAX];
		fmt(path, sizeof(path), "%s/%s", pooldir, de->d_name);
		int r = pool_generate(outdir, confdir, pool, path, &published);
		if (r < 0) {
			fprintf(stderr, "danaus-generator: %s: cannot write units: %s\n", path,
				strerror(-r));
			ret = 1;
		}
	}
	if (d && errno) { /* readdir failed: pools not seen are not gone */
		fprintf(stderr, "danaus-generator: %s: %s\n", pooldir, strerror(errno));
		ret = 1;
	} else if (*cdi_dir()) {
		int r = dn_cdi_prune(cdi_dir(), run_dir(), published_not, &published);
		if (r < 0)
			fprintf(stderr, "danaus-generator: %s: %s\n", cdi_dir(), strerror(-r));
	}
	free(published.names);
	return ret;
}
