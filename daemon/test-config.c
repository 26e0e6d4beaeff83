/* Pool Configuration tests: parsing, defaults, override order, every error message */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <ini.h>

#include "cleanup.h"
#include "config.h"

/* A fresh directory per test: DIR/pools/ exists, DIR/root/ is a usable [local] root. */
struct tmp {
	char dir[64];
	char path[512]; /* scratch for building file names */
};

static void cfg_freep(struct dn_config **cfg) { dn_config_free(*cfg); }
#define _cleanup_config_ _cleanup_(cfg_freep)

static const char *tmp_path(struct tmp *t, const char *rel)
{
	snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, rel);
	return t->path;
}

static void tmp_write(struct tmp *t, const char *rel, const char *text)
{
	FILE *f = fopen(tmp_path(t, rel), "we");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/test-config.XXXXXX");
	if (!mkdtemp(t->dir) || mkdir(tmp_path(t, "pools"), 0700) < 0 ||
	    mkdir(tmp_path(t, "root"), 0700) < 0) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;
	static const char *const files[] = {"danaus.ini", "pools/p.ini", "pools/q.ini", "file"};

	for (size_t i = 0; i < DN_ARRAY_SIZE(files); i++)
		unlink(tmp_path(t, files[i]));
	rmdir(tmp_path(t, "pools"));
	rmdir(tmp_path(t, "root"));
	rmdir(t->dir);
	free(t);
	return 0;
}

/* Parses text as "t.ini" into a fresh config for pool "p". */
static int parse(struct dn_config **out, const char *text, char *err)
{
	struct dn_config *cfg = dn_config_new("p");

	assert_non_null(cfg);
	*out = cfg;
	return dn_config_parse_string(cfg, "t.ini", text, err, DN_CONFIG_ERR_MAX);
}

static void assert_parse_error(const char *text, int code, const char *msg)
{
	_cleanup_config_ struct dn_config *cfg = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	assert_int_equal(parse(&cfg, text, err), code);
	assert_string_equal(err, msg);
}

static void assert_parse_ok(struct dn_config **out, const char *text)
{
	char err[DN_CONFIG_ERR_MAX] = "";
	int r = parse(out, text, err);

	if (r != 0)
		fail_msg("unexpected error %d: %s", r, err);
}

/* ---- good input ---- */

static void test_parse_all_keys(void **state)
{
	struct tmp *t = *state;
	_cleanup_config_ struct dn_config *cfg = NULL;
	_cleanup_free_ char *text = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	assert_true(asprintf(&text,
	                     "; a comment\n"
	                     "[pool]\n"
	                     "backend = local\n"
	                     "mountpoint = //srv//data/\n"
	                     "workers = 8\n"
	                     "queues = 4\n"
	                     "poll_us = 0\n"
	                     "request_timeout = 5\n"
	                     "compat_mount = yes\n"
	                     "\n"
	                     "[local]\n"
	                     "root = %s//root/\n"
	                     "[access]\n"
	                     "users = root, 1000\t1001,,\n"
	                     "groups = root 0100\n",
	                     t->dir) > 0);
	assert_parse_ok(&cfg, text);
	assert_int_equal(dn_config_finish(cfg, "t.ini", err, sizeof(err)), 0);

	assert_string_equal(cfg->pool, "p");
	assert_string_equal(cfg->backend, "local");
	assert_string_equal(cfg->mountpoint, "/srv/data");
	assert_int_equal(cfg->workers, 8);
	assert_int_equal(cfg->queues, 4);
	assert_int_equal(cfg->poll_us, 0);
	assert_int_equal(cfg->request_timeout, 5);
	assert_true(cfg->compat_mount);
	assert_string_equal(cfg->local_root, tmp_path(t, "root"));
	assert_int_equal(cfg->n_users, 3);
	assert_int_equal(cfg->users[0], 0);
	assert_int_equal(cfg->users[1], 1000);
	assert_int_equal(cfg->users[2], 1001);
	assert_int_equal(cfg->n_groups, 2);
	assert_int_equal(cfg->groups[0], 0);
	assert_int_equal(cfg->groups[1], 100);
}

static void test_parse_limits_accepted(void **state)
{
	_cleanup_config_ struct dn_config *cfg = NULL;

	assert_parse_ok(&cfg, "[pool]\nworkers = 64\nqueues = 1\npoll_us = 100000\n"
	                      "poll_max_us = 100000\nread_threads = 256\n"
	                      "[access]\nusers = 4294967294\n");
	assert_int_equal(cfg->read_threads, 256);
	assert_int_equal(cfg->workers, 64);
	assert_int_equal(cfg->queues, 1);
	assert_int_equal(cfg->poll_us, 100000);
	assert_int_equal(cfg->poll_max_us, 100000);
	assert_int_equal(cfg->users[0], 4294967294u);
}

static void test_parse_indented_line_is_a_key_not_a_continuation(void **state)
{
	_cleanup_config_ struct dn_config *cfg = NULL;

	assert_parse_ok(&cfg, "[pool]\nworkers = 2\n   queues = 3\n");
	assert_int_equal(cfg->workers, 2);
	assert_int_equal(cfg->queues, 3);
}

static void test_parse_empty_access_lists_mean_no_restriction(void **state)
{
	_cleanup_config_ struct dn_config *cfg = NULL;
	char err[DN_CONFIG_ERR_MAX];

	assert_parse_ok(&cfg, "[access]\nusers = 1000\ngroups = 100\n");
	assert_int_equal(cfg->n_users, 1);
	/* A later file replaces the lists, here with empty ones. */
	assert_int_equal(dn_config_parse_string(cfg, "u.ini", "[access]\nusers =\ngroups = ,\n",
	                                        err, sizeof(err)),
	                 0);
	assert_int_equal(cfg->n_users, 0);
	assert_int_equal(cfg->n_groups, 0);
	assert_null(cfg->users);
	assert_null(cfg->groups);
}

static void test_defaults(void **state)
{
	struct tmp *t = *state;
	_cleanup_config_ struct dn_config *cfg = NULL;
	_cleanup_free_ char *text = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	assert_true(asprintf(&text, "[local]\nroot = %s/root\n", t->dir) > 0);
	tmp_write(t, "pools/p.ini", text);
	assert_int_equal(dn_config_load(&cfg, t->dir, "p", err, sizeof(err)), 0);
	assert_string_equal(cfg->pool, "p");
	assert_string_equal(cfg->backend, "local");
	assert_string_equal(cfg->mountpoint, "/danaus/p");
	/* one worker per CPU this process may use, and a queue each */
	assert_int_equal(cfg->workers, dn_config_default_workers(cfg));
	assert_true(cfg->workers >= 1);
	assert_int_equal(cfg->queues, cfg->workers);
	assert_int_equal(cfg->read_threads, 0); /* a local pool's reads stay on its workers */
	assert_int_equal(cfg->poll_us, 50);
	assert_int_equal(cfg->poll_max_us, 2000);
	assert_int_equal(cfg->request_timeout, 60);
	assert_false(cfg->compat_mount);
	assert_null(cfg->users);
	assert_int_equal(cfg->n_users, 0);
	assert_null(cfg->groups);
	assert_int_equal(cfg->n_groups, 0);
	/* [resources]: all unset */
	assert_int_equal(cfg->cpu_quota_pct, 0);
	assert_null(cfg->cpus);
	assert_int_equal(cfg->memory_max, 0);
	assert_int_equal(cfg->memory_high, 0);
	assert_int_equal(cfg->io_weight, 0);
	/* [ceph] */
	assert_string_equal(cfg->ceph_conf, "/etc/ceph/ceph.conf");
	assert_string_equal(cfg->ceph_id, "admin");
	assert_null(cfg->ceph_keyring);
	assert_string_equal(cfg->ceph_root, "/");
	assert_int_equal(cfg->ceph_cache_size, 0);
	assert_int_equal(cfg->ceph_mount_timeout, 30);
	assert_false(cfg->ceph_memory_log);
	assert_true(cfg->ceph_attr_timeout == 1.0);
	assert_true(dn_config_read_cache(cfg) == UINT64_C(64) << 20);
}

static void test_defaults_queues_follow_workers(void **state)
{
	struct tmp *t = *state;
	_cleanup_config_ struct dn_config *cfg = NULL;
	_cleanup_free_ char *text = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	assert_true(asprintf(&text, "[pool]\nworkers = 6\n[local]\nroot = %s/root\n", t->dir) > 0);
	assert_parse_ok(&cfg, text);
	assert_int_equal(dn_config_finish(cfg, "t.ini", err, sizeof(err)), 0);
	assert_int_equal(cfg->workers, 6);
	assert_int_equal(cfg->queues, 6);
}

static void test_load_pool_file_overrides_danaus_ini(void **state)
{
	struct tmp *t = *state;
	_cleanup_config_ struct dn_config *cfg = NULL;
	_cleanup_free_ char *text = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	assert_true(asprintf(&text,
	                     "[pool]\nworkers = 2\npoll_us = 10\nmountpoint = /mnt/all\n"
	                     "[local]\nroot = %s\n[access]\nusers = 1000\n",
	                     t->dir) > 0);
	tmp_write(t, "danaus.ini", text);
	free(text);
	assert_true(asprintf(&text, "[pool]\nworkers = 3\n[local]\nroot = %s/root\n", t->dir) > 0);
	tmp_write(t, "pools/p.ini", text);

	assert_int_equal(dn_config_load(&cfg, t->dir, "p", err, sizeof(err)), 0);
	assert_int_equal(cfg->workers, 3);                /* pool file wins */
	assert_int_equal(cfg->queues, 3);                 /* default follows the final workers */
	assert_int_equal(cfg->poll_us, 10);               /* from danaus.ini */
	assert_string_equal(cfg->mountpoint, "/mnt/all"); /* from danaus.ini */
	assert_string_equal(cfg->local_root, tmp_path(t, "root"));
	assert_int_equal(cfg->n_users, 1);
	assert_int_equal(cfg->users[0], 1000);
}

static void test_load_without_danaus_ini(void **state)
{
	struct tmp *t = *state;
	_cleanup_config_ struct dn_config *cfg = NULL;
	_cleanup_free_ char *text = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	assert_true(asprintf(&text, "[pool]\nworkers = 5\n[local]\nroot = %s/root\n", t->dir) > 0);
	tmp_write(t, "pools/q.ini", text);
	assert_int_equal(dn_config_load(&cfg, t->dir, "q", err, sizeof(err)), 0);
	assert_string_equal(cfg->pool, "q");
	assert_string_equal(cfg->mountpoint, "/danaus/q");
	assert_int_equal(cfg->workers, 5);
}

static void test_parse_resources(void **state)
{
	_cleanup_config_ struct dn_config *cfg = NULL;

	assert_parse_ok(&cfg, "[resources]\n"
	                      "cpu_quota = 150%\n"
	                      "cpus = 6, 0-1,3,2\n"
	                      "memory_max = 2G\n"
	                      "memory_high = infinity\n"
	                      "io_weight = 100\n");
	assert_int_equal(cfg->cpu_quota_pct, 150);
	assert_string_equal(cfg->cpus, "0-3,6");
	assert_true(cfg->memory_max == UINT64_C(2) << 30);
	assert_true(cfg->memory_high == UINT64_MAX);
	assert_int_equal(cfg->io_weight, 100);
}

/* The object cache follows cache_size, else a quarter of the pool's memory limit. */
static void test_ceph_cache_size_follows_memory(void **state)
{
	static const struct {
		const char *text;
		uint64_t bytes;
	} cases[] = {
		{"", 0},
		{"[resources]\nmemory_max = infinity\n", 0},
		{"[resources]\nmemory_max = 2G\n", UINT64_C(512) << 20},
		{"[resources]\nmemory_max = 2G\nmemory_high = 1G\n", UINT64_C(256) << 20},
		{"[resources]\nmemory_high = 400M\n", UINT64_C(100) << 20},
		{"[resources]\nmemory_max = 16M\n", DN_CEPH_CACHE_MIN},
		{"[resources]\nmemory_max = 2G\n[ceph]\ncache_size = 64M\n", UINT64_C(64) << 20},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		_cleanup_config_ struct dn_config *cfg = NULL;
		assert_parse_ok(&cfg, cases[i].text);
		assert_true(dn_config_ceph_cache_size(cfg) == cases[i].bytes);
	}
}

/* The library's read cache follows read_cache, else a sixteenth of the memory limit, up to 64M. */
static void test_ceph_read_cache(void **state)
{
	static const struct {
		const char *text;
		uint64_t bytes;
	} cases[] = {
		{"", UINT64_C(64) << 20},
		{"[resources]\nmemory_max = infinity\n", UINT64_C(64) << 20},
		{"[resources]\nmemory_max = 2G\n", UINT64_C(64) << 20},
		{"[resources]\nmemory_max = 512M\n", UINT64_C(32) << 20},
		{"[resources]\nmemory_max = 2G\nmemory_high = 256M\n", UINT64_C(16) << 20},
		{"[resources]\nmemory_high = 100M\n", UINT64_C(6400) << 10}, /* 6.25M: whole blocks */
		{"[resources]\nmemory_max = 1000K\n", UINT64_C(64) << 10},   /* at least one block */
		{"[ceph]\nread_cache = 0\n", 0},
		{"[resources]\nmemory_max = 2G\n[ceph]\nread_cache = 0\n", 0},
		{"[resources]\nmemory_max = 64M\n[ceph]\nread_cache = 256M\n", UINT64_C(256) << 20},
		{"[ceph]\nread_cache = 64K\n", UINT64_C(64) << 10},
		{"[ceph]\nread_cache = 131072\n", UINT64_C(128) << 10},
		{"[ceph]\nread_cache = 4G\n", UINT64_C(4) << 30},
	};
	(void)state;
	for (size_t i = 0; i < DN_ARRAY_SIZE(cases); i++) {
		_cleanup_config_ struct dn_config *cfg = NULL;
		assert_parse_ok(&cfg, cases[i].text);
		assert_true(dn_config_read_cache(cfg) == cases[i].bytes);
	}
	assert_parse_error("[ceph]\nread_cache = 1\n", -EINVAL,
			   "t.ini:2: read_cache: '1' is too small (at least 65536 bytes)");
	assert_parse_error("[ceph]\nread_cache = 32K\n", -EINVAL,
			   "t.ini:2: read_cache: '32K' is too small (at least 65536 bytes)");
	assert_parse_error("[ceph]\nread_cache = 100K\n", -EINVAL,
			   "t.ini:2: read_cache: '100K' is not a multiple of 64K (the cache's "
			   "blocks), or 0 for none");
	assert_parse_error("[ceph]\nread_cache = 4100M\n", -EINVAL,
			   "t.ini:2: read_cache: '4100M' is too large (at most 4G: each process "
			   "may hold that much)");
	assert_parse_error("[ceph]\nread_cache = infinity\n", -EINVAL,
			   "t.ini:2: read_cache: 'infinity' is not a size (use K, M, G or T)");
	assert_parse_error("[ceph]\nread_cache = -1\n", -EINVAL,
			   "t.ini:2: read_cache: '-1' is not a size (use K, M, G or T)");
	assert_parse_error("[ceph]\nread_cache = 00\n", -EINVAL,
			   "t.ini:2: read_cache: '00' is too small (at least 65536 bytes)");
}

static void test_parse_resource_limits_accepted(void **state)
{
	static const struct {
		const char *in, *out;
	} lists[] = {
	    {"0", "0"},         {"4095", "4095"},       {"0-4095", "0-4095"}, {"3-3", "3"},
	    {"1,3,5", "1,3,5"}, {"5,4,3", "3-5"},       {"0-5,2-9", "0-9"},   {"007", "7"},
	    {"1,1", "1"},       {"0-2,4-6", "0-2,4-6"},
	};
	static const struct {
		const char *in;
		uint64_t bytes;
	} sizes[] = {
	    {"4096", 4096},
	    {"4K", 4096},
	    {"1M", UINT64_C(1) << 20},
	    {"3G", UINT64_C(3) << 30},
	    {"16777215T", UINT64_C(16777215) << 40},
	    {"18446744073709551614", UINT64_MAX - 1},
	};
	char text[128];

	for (size_t i = 0; i < DN_ARRAY_SIZE(lists); i++) {
		_cleanup_config_ struct dn_config *cfg = NULL;

		snprintf(text, sizeof(text), "[resources]\ncpus = %s\n", lists[i].in);
		assert_parse_ok(&cfg, text);
		assert_string_equal(cfg->cpus, lists[i].out);
	}
	for (size_t i = 0; i < DN_ARRAY_SIZE(sizes); i++) {
		_cleanup_config_ struct dn_config *cfg = NULL;

		snprintf(
		    text, sizeof(text),
		    "[resources]\nmemory_max = %s\nmemory_high = %s\n[ceph]\ncache_size = %s\n",
		    sizes[i].in, sizes[i].in, sizes[i].in);
		assert_parse_ok(&cfg, text);
		assert_true(cfg->memory_max == sizes[i].bytes);
		assert_true(cfg->memory_high == sizes[i].bytes);
		assert_true(cfg->ceph_cache_size == sizes[i].bytes);
	}
	{
		_cleanup_config_ struct dn_config *cfg = NULL;

		assert_parse_ok(&cfg, "[resources]\ncpu_quota = 1%\nio_weight = 1\n");
		assert_int_equal(cfg->cpu_quota_pct, 1);
		assert_int_equal(cfg->io_weight, 1);
	}
	{
		_cleanup_config_ struct dn_config *cfg = NULL;

		assert_parse_ok(&cfg, "[resources]\ncpu_quota = 100000%\nio_weight = 10000\n");
		assert_int_equal(cfg->cpu_quota_pct, 100000);
		assert_int_equal(cfg->io_weight, 10000);
	}
}

/* Without workers =, no more workers than the CPUs [resources] gives the pool time or room on. */
static void test_default_workers_follow_resources(void **state)
{
	struct tmp *t = *state;
	cpu_set_t set;
	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	unsigned mine = (unsigned)CPU_COUNT(&set);
	const struct {
		const char *resources;
		unsigned workers;
	} cases[] = {
		{"cpu_quota = 100%", 1},
		{"cpu_quota = 50%", 1},
		{"cpu_quota = 150%", mine < 2 ? mine : 2},
		{"cpu_quota = 100000%", mine},
		{"cpus = 3", 1},
		{"cpus = 0-1\ncpu_quota = 100%", 1},
		{"cpus = 0-4095", mine},
	};
	for (size_t i = 0; i < DN_ARRAY_SIZE(cases); i++) {
		_cleanup_config_ struct dn_config *cfg = NULL;
		_cleanup_free_ char *text = NULL;
		char err[DN_CONFIG_ERR_MAX] = "";
		assert_true(asprintf(&text, "[local]\nroot = %s/root\n[resources]\n%s\n", t->dir,
				     cases[i].resources) > 0);
		tmp_write(t, "pools/p.ini", text);
		assert_int_equal(dn_config_load(&cfg, t->dir, "p", err, sizeof(err)), 0);
		if (cfg->workers != cases[i].workers)
			fail_msg("%s: %u workers, want %u", cases[i].resources, cfg->workers,
				 cases[i].workers);
		assert_int_equal(cfg->queues, cfg->workers);
	}
}

static void test_parse_ceph(void **state)
{
	struct tmp *t = *state;
	_cleanup_config_ struct dn_config *cfg = NULL;
	_cleanup_free_ char *text = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	tmp_write(t, "file", "");
	assert_true(asprintf(&text,
	                     "[pool]\nbackend = ceph\n"
	                     "[ceph]\n"
	                     "conf = %s/file\n"
	                     "id = danaus_1.pool-a\n"
	                     "keyring = %s//file\n"
	                     "root = //volumes//danaus/\n"
	                     "cache_size = 64M\n"
	                     "mount_timeout = 3600\n"
	                     "memory_log = yes\n",
	                     t->dir, t->dir) > 0);
	assert_parse_ok(&cfg, text);
	assert_int_equal(dn_config_finish(cfg, "t.ini", err, sizeof(err)), 0);
	assert_string_equal(cfg->backend, "ceph");
	assert_string_equal(cfg->ceph_conf, tmp_path(t, "file"));
	assert_string_equal(cfg->ceph_id, "danaus_1.pool-a");
	assert_string_equal(cfg->ceph_keyring, tmp_path(t, "file"));
	assert_string_equal(cfg->ceph_root, "/volumes/danaus");
	assert_true(cfg->ceph_cache_size == UINT64_C(64) << 20);
	assert_int_equal(cfg->ceph_mount_timeout, 3600);
	assert_true(cfg->ceph_memory_log);
	assert_null(cfg->local_root);
	assert_string_equal(cfg->mountpoint, "/danaus/p");
	assert_int_equal(cfg->read_threads, 4 * cfg->workers);
}

static void test_parse_ceph_limits_accepted(void **state)
{
	_cleanup_config_ struct dn_config *cfg = NULL;
	char text[128];

	snprintf(text, sizeof(text), "[ceph]\nroot = //\nmount_timeout = 1\nid = %064d\n", 0);
	assert_parse_ok(&cfg, text);
	assert_string_equal(cfg->ceph_root, "/");
	assert_int_equal(cfg->ceph_mount_timeout, 1);
	assert_int_equal(strlen(cfg->ceph_id), 64);
}

static void test_ceph_backend_needs_no_section(void **state)
{
	_cleanup_config_ struct dn_config *cfg = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";
	int r;

	/* Only the default conf is checked; whether this host has one varies. */
	assert_parse_ok(&cfg, "[pool]\nbackend = ceph\n");
	r = dn_config_finish(cfg, "t.ini", err, sizeof(err));
	if (access("/etc/ceph/ceph.conf", F_OK) == 0) {
		assert_int_equal(r, 0);
	} else {
		assert_int_equal(r, -ENOENT);
		assert_string_equal(
		    err, "t.ini: [ceph] conf: /etc/ceph/ceph.conf: No such file or directory");
	}
}

static void test_other_backends_section_is_ignored(void **state)
{
	struct tmp *t = *state;
	_cleanup_free_ char *text = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	tmp_write(t, "file", "");
	/* local pool: [ceph] files need not exist */
	{
		_cleanup_config_ struct dn_config *cfg = NULL;

		assert_true(asprintf(&text,
		                     "[local]\nroot = %s/root\n[ceph]\nconf = /nope\n"
		                     "keyring = /nope\n",
		                     t->dir) > 0);
		assert_parse_ok(&cfg, text);
		assert_int_equal(dn_config_finish(cfg, "t.ini", err, sizeof(err)), 0);
	}
	free(text);
	/* ceph pool: [local] root need not exist */
	{
		_cleanup_config_ struct dn_config *cfg = NULL;

		assert_true(asprintf(&text,
		                     "[pool]\nbackend = ceph\n[local]\nroot = /nope\n"
		                     "[ceph]\nconf = %s/file\n",
		                     t->dir) > 0);
		assert_parse_ok(&cfg, text);
		assert_int_equal(dn_config_finish(cfg, "t.ini", err, sizeof(err)), 0);
	}
}

static void test_load_file(void **state)
{
	struct tmp *t = *state;
	_cleanup_config_ struct dn_config *cfg = NULL;
	_cleanup_free_ char *text = NULL, *path = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	tmp_write(t, "file", "");
	assert_true(asprintf(&text,
	                     "[pool]\nbackend = ceph\n"
	                     "[resources]\nmemory_max = 1G\ncpus = 0-1\nio_weight = 50\n"
	                     "[ceph]\nconf = %s/file\nid = shared\n",
	                     t->dir) > 0);
	tmp_write(t, "danaus.ini", text);
	tmp_write(t, "pools/p.ini", "[resources]\nmemory_max = 2G\ncpus = 2\n[ceph]\nroot = /p\n");
	assert_true(asprintf(&path, "%s/pools/p.ini", t->dir) > 0);

	assert_int_equal(dn_config_load_file(&cfg, path, "p", err, sizeof(err)), 0);
	assert_string_equal(cfg->backend, "ceph");         /* from danaus.ini */
	assert_true(cfg->memory_max == UINT64_C(2) << 30); /* pool file wins */
	assert_string_equal(cfg->cpus, "2");               /* pool file wins */
	assert_int_equal(cfg->io_weight, 50);              /* from danaus.ini */
	assert_int_equal(cfg->memory_high, 0);             /* unset */
	assert_string_equal(cfg->ceph_conf, tmp_path(t, "file"));
	assert_string_equal(cfg->ceph_id, "shared");
	assert_string_equal(cfg->ceph_root, "/p");
}

static void test_load_file_without_danaus_ini(void **state)
{
	struct tmp *t = *state;
	_cleanup_config_ struct dn_config *cfg = NULL;
	_cleanup_free_ char *text = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	assert_true(asprintf(&text, "[local]\nroot = %s/root\n", t->dir) > 0);
	tmp_write(t, "pools/q.ini", text);
	/* The pool name is what the caller says, whatever the file is called. */
	assert_int_equal(
	    dn_config_load_file(&cfg, tmp_path(t, "pools/q.ini"), "other", err, sizeof(err)), 0);
	assert_string_equal(cfg->pool, "other");
	assert_string_equal(cfg->mountpoint, "/danaus/other");
}

/* ---- bad input: each message exactly ---- */

static void test_error_unknown_section(void **state)
{
	assert_parse_error("[pool]\nworkers = 2\n[bogus]\nx = 1\n", -EINVAL,
	                   "t.ini:3: [bogus]: unknown section");
}

static void test_error_key_outside_section(void **state)
{
	assert_parse_error("workers = 2\n", -EINVAL,
	                   "t.ini:1: workers: key outside of any section");
}

static void test_error_unknown_key(void **state)
{
	assert_parse_error("[pool]\nwrokers = 2\n", -EINVAL,
	                   "t.ini:2: wrokers: unknown key in [pool]");
	assert_parse_error("[local]\nroot = /x\nbackend = local\n", -EINVAL,
	                   "t.ini:3: backend: unknown key in [local]");
}

static void test_error_not_a_number(void **state)
{
	assert_parse_error("[pool]\nworkers = abc\n", -EINVAL,
	                   "t.ini:2: workers: 'abc' is not a number");
	assert_parse_error("[pool]\nworkers = -1\n", -EINVAL,
	                   "t.ini:2: workers: '-1' is not a number");
	assert_parse_error("[pool]\nworkers = +1\n", -EINVAL,
	                   "t.ini:2: workers: '+1' is not a number");
	assert_parse_error("[pool]\nqueues = 1x\n", -EINVAL,
	                   "t.ini:2: queues: '1x' is not a number");
	assert_parse_error("[pool]\npoll_us = 1 0\n", -EINVAL,
	                   "t.ini:2: poll_us: '1 0' is not a number");
}

static void test_error_out_of_range(void **state)
{
	assert_parse_error("[pool]\nworkers = 0\n", -EINVAL,
	                   "t.ini:2: workers: '0' is out of range 1..64");
	assert_parse_error("[pool]\nworkers = 65\n", -EINVAL,
	                   "t.ini:2: workers: '65' is out of range 1..64");
	assert_parse_error("[pool]\nqueues = 99999999999999999999999\n", -EINVAL,
	                   "t.ini:2: queues: '99999999999999999999999' is out of range 1..64");
	assert_parse_error("[pool]\nread_threads = 257\n", -EINVAL,
	                   "t.ini:2: read_threads: '257' is out of range 0..256");
	assert_parse_error("[pool]\npoll_us = 100001\n", -EINVAL,
	                   "t.ini:2: poll_us: '100001' is out of range 0..100000");
	assert_parse_error("[pool]\n\npoll_max_us = 100001\n", -EINVAL,
	                   "t.ini:3: poll_max_us: '100001' is out of range 0..100000");
	assert_parse_error("[pool]\nrequest_timeout = 0\n", -EINVAL,
	                   "t.ini:2: request_timeout: '0' is out of range 1..3600");
	assert_parse_error("[pool]\ncompat_mount = fuse\n", -EINVAL,
	                   "t.ini:2: compat_mount: 'fuse' is not yes or no");
	assert_parse_error("[access]\nusers = 4294967295\n", -EINVAL,
	                   "t.ini:2: users: '4294967295' is out of range 0..4294967294");
}

static void test_error_empty_value(void **state)
{
	assert_parse_error("[pool]\nmountpoint =\n", -EINVAL, "t.ini:2: mountpoint: empty value");
	assert_parse_error("[local]\nroot = ; comment only\n", -EINVAL,
	                   "t.ini:2: root: empty value");
}

static void test_error_duplicate_key(void **state)
{
	assert_parse_error("[pool]\nworkers = 2\nworkers = 3\n", -EINVAL,
	                   "t.ini:3: workers: duplicate key");
	/* Also when the section is opened twice. */
	assert_parse_error("[access]\nusers = 1\n[pool]\nworkers = 1\n[access]\nusers = 2\n",
	                   -EINVAL, "t.ini:6: users: duplicate key");
}

static void test_error_bad_mountpoint(void **state)
{
	assert_parse_error("[pool]\nmountpoint = mnt/x\n", -EINVAL,
	                   "t.ini:2: mountpoint: 'mnt/x' is not an absolute path");
	assert_parse_error(
	    "[pool]\nmountpoint = /a/../b\n", -EINVAL,
	    "t.ini:2: mountpoint: '/a/../b' must not contain '.' or '..' components");
	assert_parse_error("[pool]\nmountpoint = /a/./b\n", -EINVAL,
	                   "t.ini:2: mountpoint: '/a/./b' must not contain '.' or '..' components");
	assert_parse_error("[pool]\nmountpoint = //\n", -EINVAL,
	                   "t.ini:2: mountpoint: '//' must not be the root directory");
	assert_parse_error("[local]\nroot = x\n", -EINVAL,
	                   "t.ini:2: root: 'x' is not an absolute path");
}

static void test_mountpoint_dots_inside_names_are_fine(void **state)
{
	_cleanup_config_ struct dn_config *cfg = NULL;

	assert_parse_ok(&cfg, "[pool]\nmountpoint = /a/.hidden/b../...\n");
	assert_string_equal(cfg->mountpoint, "/a/.hidden/b../...");
}

static void test_error_unknown_backend(void **state)
{
	assert_parse_error("[pool]\nbackend = rados\n", -EINVAL,
	                   "t.ini:2: backend: unknown backend 'rados' (expected local or ceph)");
	assert_parse_error("[pool]\nbackend = Ceph\n", -EINVAL,
	                   "t.ini:2: backend: unknown backend 'Ceph' (expected local or ceph)");
}

static void test_error_bad_cpu_quota(void **state)
{
	static const char *const not_pct[] = {"150", "%", "150 %", "-5%", "+5%", "1.5%", "150%%"};
	char text[64], want[128];

	for (size_t i = 0; i < DN_ARRAY_SIZE(not_pct); i++) {
		snprintf(text, sizeof(text), "[resources]\ncpu_quota = %s\n", not_pct[i]);
		snprintf(want, sizeof(want),
		         "t.ini:2: cpu_quota: '%s' is not a percentage (like 150%%)", not_pct[i]);
		assert_parse_error(text, -EINVAL, want);
	}
	assert_parse_error("[resources]\ncpu_quota = 0%\n", -EINVAL,
	                   "t.ini:2: cpu_quota: '0%' is out of range 1%..100000%");
	assert_parse_error("[resources]\ncpu_quota = 100001%\n", -EINVAL,
	                   "t.ini:2: cpu_quota: '100001%' is out of range 1%..100000%");
	assert_parse_error(
	    "[resources]\ncpu_quota = 99999999999999999999999%\n", -EINVAL,
	    "t.ini:2: cpu_quota: '99999999999999999999999%' is out of range 1%..100000%");
}

static void test_error_bad_cpus(void **state)
{
	static const char *const bad[] = {"3-1",  "a",   "1-",  "-1",    ",1",  "1,",
	                                  "1,,2", "1 2", "1;2", "1-2-3", "0x1", "1 -2"};
	static const char *const too_big[] = {"4096", "0-4096", "1,99999999999999999999999"};
	char text[64], want[128];

	for (size_t i = 0; i < DN_ARRAY_SIZE(bad); i++) {
		snprintf(text, sizeof(text), "[resources]\ncpus = %s\n", bad[i]);
		snprintf(want, sizeof(want), "t.ini:2: cpus: '%s' is not a CPU list", bad[i]);
		assert_parse_error(text, -EINVAL, want);
	}
	for (size_t i = 0; i < DN_ARRAY_SIZE(too_big); i++) {
		snprintf(text, sizeof(text), "[resources]\ncpus = %s\n", too_big[i]);
		snprintf(want, sizeof(want),
		         "t.ini:2: cpus: '%s' is not a CPU list (CPUs are 0..4095)", too_big[i]);
		assert_parse_error(text, -EINVAL, want);
	}
	assert_parse_error("[resources]\ncpus =\n", -EINVAL, "t.ini:2: cpus: empty value");
}

static void test_error_bad_size(void **state)
{
	static const char *const not_size[] = {"12Q", "12k", "1KB",      "1.5G",  "-1",
	                                       "K",   "1 K", "Infinity", "0x1000"};
	char text[64], want[128];

	for (size_t i = 0; i < DN_ARRAY_SIZE(not_size); i++) {
		snprintf(text, sizeof(text), "[resources]\nmemory_max = %s\n", not_size[i]);
		snprintf(want, sizeof(want),
		         "t.ini:2: memory_max: '%s' is not a size (use K, M, G, T or infinity)",
		         not_size[i]);
		assert_parse_error(text, -EINVAL, want);
	}
	assert_parse_error("[resources]\nmemory_high = 4095\n", -EINVAL,
	                   "t.ini:2: memory_high: '4095' is too small (at least 4096 bytes)");
	assert_parse_error("[resources]\nmemory_high = 0\n", -EINVAL,
	                   "t.ini:2: memory_high: '0' is too small (at least 4096 bytes)");
	assert_parse_error("[resources]\nmemory_max = 3K\n", -EINVAL,
	                   "t.ini:2: memory_max: '3K' is too small (at least 4096 bytes)");
	assert_parse_error("[resources]\nmemory_max = 16777216T\n", -EINVAL,
	                   "t.ini:2: memory_max: '16777216T' is too large");
	assert_parse_error("[resources]\nmemory_max = 99999999999999999999999\n", -EINVAL,
	                   "t.ini:2: memory_max: '99999999999999999999999' is too large");
	/* A cache cannot be infinite. */
	assert_parse_error("[ceph]\ncache_size = infinity\n", -EINVAL,
	                   "t.ini:2: cache_size: 'infinity' is not a size (use K, M, G or T)");
	assert_parse_error("[ceph]\ncache_size = 1\n", -EINVAL,
	                   "t.ini:2: cache_size: '1' is too small (at least 4096 bytes)");
}

static void test_ceph_networks(void **state)
{
	_cleanup_config_ struct dn_config *cfg = NULL;

	assert_parse_ok(&cfg, "[ceph]\n");
	assert_null(cfg->ceph_networks); /* any */
	dn_config_free(cfg);
	cfg = NULL;
	assert_parse_ok(&cfg, "[ceph]\nnetworks = 10.1.0.0/16, fd00::/8 localhost\t192.0.2.7\n");
	assert_string_equal(cfg->ceph_networks, "10.1.0.0/16 fd00::/8 localhost 192.0.2.7");
	assert_parse_error("[ceph]\nnetworks = 10.0.0.0/33\n", -EINVAL,
	                   "t.ini:2: networks: '10.0.0.0/33' is not an IP address, a network "
	                   "(address/prefix) or localhost");
	assert_parse_error("[ceph]\nnetworks = ceph.example\n", -EINVAL,
	                   "t.ini:2: networks: 'ceph.example' is not an IP address, a network "
	                   "(address/prefix) or localhost");
	assert_parse_error("[ceph]\nnetworks = ::1/\n", -EINVAL,
	                   "t.ini:2: networks: '::1/' is not an IP address, a network "
	                   "(address/prefix) or localhost");
	assert_parse_error("[ceph]\nnetworks = ,\n", -EINVAL,
	                   "t.ini:2: networks: no network given (leave the key out to allow any)");
}

/* [mount NAME]: instances beside the pool's top, each at a mountpoint of its own */
static void assert_mounts_finish(struct tmp *t, const char *mounts, int code, const char *msg)
{
	_cleanup_config_ struct dn_config *cfg = NULL;
	_cleanup_free_ char *text = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	assert_true(asprintf(&text, "[local]\nroot = %s\n[pool]\nmountpoint = /d/p\n%s", t->dir,
	                     mounts) > 0);
	assert_parse_ok(&cfg, text);
	assert_int_equal(dn_config_finish(cfg, "t.ini", err, sizeof(err)), code);
	assert_string_equal(err, msg);
}

static void test_mounts(void **state)
{
	struct tmp *t = *state;
	_cleanup_config_ struct dn_config *cfg = NULL;

	assert_parse_ok(&cfg, "[mount data]\nmountpoint = /data//\npath = /tenants/t/data/\n"
	                      "[mount web]\nmountpoint = /d/web\nimage = nginx:1.25\n"
	                      "upper = /containers/web\n[mount old]\nmountpoint = /old\n"
	                      "lower = /l/a:/l/b\nupper = /u\n[mount data]\n"
	                      "[mount all]\nmountpoint = /all\npath = /\n");
	assert_int_equal(cfg->n_mounts, 4);
	assert_string_equal(cfg->mounts[0].name, "data");
	assert_string_equal(cfg->mounts[0].mountpoint, "/data");
	assert_string_equal(cfg->mounts[0].path, "/tenants/t/data");
	assert_null(cfg->mounts[0].upper);
	assert_string_equal(cfg->mounts[1].image, "nginx:1.25");
	assert_string_equal(cfg->mounts[1].upper, "/containers/web");
	assert_int_equal(cfg->mounts[2].n_lower, 2);
	assert_string_equal(cfg->mounts[2].lower[1], "/l/b");
	assert_string_equal(cfg->mounts[3].path, "/");
	assert_int_equal(cfg->mounts[0].n_users, 0);
	assert_true(dn_config_direct_meets_upper(cfg)); /* "/" holds every writable layer */

	/* a direct subtree beside the unions' writable layers, inside one, above one */
	static const struct {
		const char *text;
		bool meets;
	} direct[] = {
		{"[union]\nlower = /l\nupper = /u\n[mount data]\nmountpoint = /data\npath = /data\n", false},
		{"[union]\nlower = /l\nupper = /u\n[mount data]\nmountpoint = /data\npath = /u/x\n", true},
		{"[union]\nlower = /l\nupper = /c/u\n[mount c]\nmountpoint = /c\npath = /c\n", true},
		{"[union]\nlower = /l\nupper = /u\n[mount l]\nmountpoint = /l\npath = /l\n", false},
		{"[union]\nlower = /l\nupper = /u\ncontainers = /cs\n[mount m]\nmountpoint = /m\n"
		 "path = /cs/c1\n", true},
		{"[mount w]\nmountpoint = /w\nlower = /l\nupper = /uu\n", true}, /* the top: "/" */
		{"[mount data]\nmountpoint = /data\npath = /data\n", false}, /* no union: no layer */
	};
	for (size_t i = 0; i < sizeof(direct) / sizeof(direct[0]); i++) {
		_cleanup_config_ struct dn_config *c = NULL;
		assert_parse_ok(&c, direct[i].text);
		assert_int_equal(dn_config_direct_meets_upper(c), direct[i].meets);
	}
	assert_true(dn_config_mount_allows(&cfg->mounts[0], 1000, 1000, NULL, 0));

	/* [mount NAME] access_users, access_groups: narrow who may use the instance */
	_cleanup_config_ struct dn_config *acl = NULL;
	assert_parse_ok(&acl, "[access]\nusers = 1000 1001 1002\n"
	                      "[mount a]\nmountpoint = /a\npath = /a\naccess_users = 1000, root\n"
	                      "access_groups = 2000\n");
	assert_int_equal(acl->mounts[0].n_users, 2);
	assert_int_equal(acl->mounts[0].users[1], 0);
	const gid_t sup[] = {5, 2000};
	assert_true(dn_config_mount_allows(&acl->mounts[0], 1000, 1000, NULL, 0));
	assert_true(dn_config_mount_allows(&acl->mounts[0], 1002, 2000, NULL, 0));
	assert_true(dn_config_mount_allows(&acl->mounts[0], 1001, 1001, sup, 2));
	assert_false(dn_config_mount_allows(&acl->mounts[0], 1001, 1001, sup, 1));
	assert_true(dn_config_mount_allows(&acl->mounts[0], 0, 0, NULL, 0));
	assert_parse_error("[mount a]\naccess_users = root, dn-no-such-user\n", -EINVAL,
	                   "t.ini:2: access_users: unknown user 'dn-no-such-user'");
	assert_parse_error("[mount a]\npath = /a\naccess_groups = dn-no-such-group\n", -EINVAL,
	                   "t.ini:3: access_groups: unknown group 'dn-no-such-group'");
	assert_parse_error("[mount a]\naccess_users = 1\naccess_users = 2\n", -EINVAL,
	                   "t.ini:3: access_users: duplicate key");

	assert_parse_error("[mount]\nmountpoint = /x\n", -EINVAL,
	                   "t.ini:1: [mount ]: a mount's name is 1 to 64 of [A-Za-z0-9_.-], not "
	                   "starting with '.'");
	assert_parse_error("[mount .x]\nmountpoint = /x\n", -EINVAL,
	                   "t.ini:1: [mount .x]: a mount's name is 1 to 64 of [A-Za-z0-9_.-], not "
	                   "starting with '.'");
	assert_parse_error("[mount a]\nroot = /x\n", -EINVAL, "t.ini:2: root: unknown key in [mount a]");
	assert_parse_error("[mount a]\nmountpoint = x\n", -EINVAL,
	                   "t.ini:2: mountpoint: 'x' is not an absolute path");
	assert_parse_error("[mount a]\nmountpoint = /a:b\n", -EINVAL,
	                   "t.ini:2: mountpoint: '/a:b' holds a ':'");
	assert_parse_error("[mount a]\nmountpoint = /\n", -EINVAL,
	                   "t.ini:2: mountpoint: '/' must not be the root directory");
	assert_parse_error("[mount a]\npath = rel\n", -EINVAL,
	                   "t.ini:2: path: 'rel' is not an absolute path");
	assert_parse_error("[mount a]\npath = /a/../b\n", -EINVAL,
	                   "t.ini:2: path: '/a/../b' must not contain '.' or '..' components");
	assert_parse_error("[mount a]\npath = /a\n[mount b]\npath = /b\n[mount a]\npath = /c\n",
	                   -EINVAL, "t.ini:6: path: duplicate key");
	assert_parse_error("[mount a]\nimage = ../x\n", -EINVAL,
	                   "t.ini:2: image: '../x' is not an image name (NAME[:TAG])");
	assert_parse_error("[mount a]\nlower = /a::/b\n", -EINVAL,
	                   "t.ini:2: lower: an empty layer in '/a::/b'");
	assert_parse_error("[mount a]\nupper =\n", -EINVAL, "t.ini:2: upper: empty value");
	_cleanup_free_ char *many = NULL;
	for (int i = 0; i <= DN_CONFIG_MOUNTS_MAX; i++) {
		char *more = NULL;
		assert_true(asprintf(&more, "%s[mount m%d]\npath = /p\n", many ? many : "", i) > 0);
		free(many);
		many = more;
	}
	assert_parse_error(many, -EINVAL, "t.ini:32: path: more than 15 [mount] sections");

	assert_mounts_finish(t, "[mount a]\npath = /p\nmountpoint = /a\n", 0, "");
	assert_mounts_finish(t, "[mount a]\npath = /p\n", -EINVAL,
	                     "t.ini:5: mountpoint: [mount a] has none");
	assert_mounts_finish(t, "[mount a]\nmountpoint = /a\n", -EINVAL,
	                     "t.ini:5: path: [mount a] needs path, or upper with lower or image");
	assert_mounts_finish(t, "[mount a]\nmountpoint = /a\npath = /p\nupper = /u\n", -EINVAL,
	                     "t.ini:5: path: [mount a] is a subtree (path) or a union (upper with "
	                     "lower or image), not both");
	assert_mounts_finish(t, "[mount a]\nmountpoint = /a\nlower = /l\n", -EINVAL,
	                     "t.ini:5: upper: [mount a] has lower or image but no upper");
	assert_mounts_finish(t, "[mount a]\nmountpoint = /a\nupper = /u\n", -EINVAL,
	                     "t.ini:5: upper: [mount a] needs lower or image under upper");
	assert_mounts_finish(t, "[mount a]\nmountpoint = /a\nupper = /u\nlower = /l\nimage = i\n",
	                     -EINVAL, "t.ini:5: image: [mount a] takes lower or image, not both");
	assert_mounts_finish(t, "[mount a]\nmountpoint = /a\nupper = /l/u\nlower = /l\n", -EINVAL,
	                     "t.ini:5: upper: /l/u overlaps the lower layer /l");
	assert_mounts_finish(t, "[mount a]\nmountpoint = /a\nupper = /images\nimage = i\n",
	                     -EINVAL, "t.ini:5: upper: /images overlaps the image store /images");
	/* mountpoints that repeat or nest, with the pool's or each other's */
	assert_mounts_finish(t, "[mount a]\nmountpoint = /d\npath = /p\n", -EINVAL,
	                     "t.ini:5: mountpoint: /d of [mount a] nests with the pool's "
	                     "mountpoint /d/p");
	assert_mounts_finish(t, "[mount a]\nmountpoint = /d/p/\npath = /p\n", -EINVAL,
	                     "t.ini:5: mountpoint: /d/p of [mount a] nests with the pool's "
	                     "mountpoint /d/p");
	assert_mounts_finish(t, "[mount a]\nmountpoint = /a\npath = /p\n"
	                        "[mount b]\nmountpoint = /a/b\npath = /p\n", -EINVAL,
	                     "t.ini:8: mountpoint: /a/b of [mount b] nests with /a of [mount a]");
	assert_mounts_finish(t, "[mount a]\nmountpoint = /a\npath = /p\n"
	                        "[mount b]\nmountpoint = /a\npath = /q\n", -EINVAL,
	                     "t.ini:8: mountpoint: /a of [mount b] nests with /a of [mount a]");
	assert_mounts_finish(t, "[mount a]\nmountpoint = /ab\npath = /p\n"
	                        "[mount b]\nmountpoint = /a\npath = /q\n", 0, "");
}

/* A [mount] of danaus.ini is completed (or overridden key by key) by the pool's file. */
static void test_mounts_across_files(void **state)
{
	struct tmp *t = *state;
	_cleanup_config_ struct dn_config *cfg = NULL;
	_cleanup_free_ char *text = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	tmp_write(t, "danaus.ini", "[mount shared]\nmountpoint = /shared\npath = /s\n");
	assert_true(asprintf(&text, "[local]\nroot = %s\n[mount shared]\npath = /t\n", t->dir) > 0);
	tmp_write(t, "pools/p.ini", text);
	assert_int_equal(dn_config_load(&cfg, t->dir, "p", err, sizeof(err)), 0);
	assert_int_equal(cfg->n_mounts, 1);
	assert_string_equal(cfg->mounts[0].mountpoint, "/shared");
	assert_string_equal(cfg->mounts[0].path, "/t");
}

static void test_union(void **state)
{
	struct tmp *t = *state;
	_cleanup_config_ struct dn_config *cfg = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	assert_parse_ok(&cfg, "[union]\nlower = /l/top//:/l/base\nupper = /c/one/\n");
	assert_int_equal(cfg->n_union_lower, 2);
	assert_string_equal(cfg->union_lower[0], "/l/top");
	assert_string_equal(cfg->union_lower[1], "/l/base");
	assert_string_equal(cfg->union_upper, "/c/one");
	assert_parse_error("[union]\nlower = /a::/b\n", -EINVAL,
	                   "t.ini:2: lower: an empty layer in '/a::/b'");
	assert_parse_error("[union]\nlower = /a:b\n", -EINVAL,
	                   "t.ini:2: lower: 'b' is not an absolute path");
	assert_parse_error("[union]\nlower = /a:/\n", -EINVAL,
	                   "t.ini:2: lower: '/' must not be the root directory");
	assert_parse_error("[union]\nupper = /a/../b\n", -EINVAL,
	                   "t.ini:2: upper: '/a/../b' must not contain '.' or '..' components");

	/* both keys or neither; the writable layer apart from the others */
	assert_parse_error("[union]\nimage = ../x\n", -EINVAL,
	                   "t.ini:2: image: '../x' is not an image name (NAME[:TAG])");
	dn_config_free(cfg);
	cfg = NULL;
	assert_parse_ok(&cfg, "[union]\nimage = debian\nupper = /c\n");
	assert_string_equal(cfg->union_image, "debian:latest");
	assert_int_equal(dn_config_finish(cfg, "t.ini", err, sizeof(err)), -EINVAL); /* no root */
	dn_config_free(cfg);
	cfg = NULL;
	assert_parse_ok(&cfg, "[union]\nimage = debian:12\nlower = /l\nupper = /c\n");
	assert_int_equal(dn_config_finish(cfg, "t.ini", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.ini:4: [union] takes lower or image, not both");
	dn_config_free(cfg);
	cfg = NULL;
	assert_parse_ok(&cfg, "[union]\nimage = debian:12\nupper = /images/c\n");
	assert_int_equal(dn_config_finish(cfg, "t.ini", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.ini:3: upper: /images/c overlaps the image store /images");
	/* containers alone, or beside a union of the pool's own, apart from every layer */
	dn_config_free(cfg);
	cfg = NULL;
	_cleanup_free_ char *ctext = NULL;
	assert_true(asprintf(&ctext, "[local]\nroot = %s\n[union]\ncontainers = /c//\n", t->dir) > 0);
	assert_parse_ok(&cfg, ctext);
	assert_string_equal(cfg->union_containers, "/c");
	assert_int_equal(dn_config_finish(cfg, "t.ini", err, sizeof(err)), 0);
	const char *const clash[][2] = {{"/images/c", "/images"}, {"/up/c", "/up"}, {"/", NULL},
	                                {"/l", "/l/sub"}};
	for (size_t i = 0; i < DN_ARRAY_SIZE(clash); i++) {
		dn_config_free(cfg);
		cfg = NULL;
		_cleanup_free_ char *text = NULL, *want = NULL;
		assert_true(asprintf(&text, "[local]\nroot = %s\n[union]\nlower = /x:/l/sub\n"
		                     "upper = /up\ncontainers = %s\n", t->dir, clash[i][0]) > 0);
		if (!clash[i][1]) {
			assert_int_equal(parse(&cfg, text, err), -EINVAL); /* "/" itself */
			continue;
		}
		assert_parse_ok(&cfg, text);
		assert_int_equal(dn_config_finish(cfg, "t.ini", err, sizeof(err)), -EINVAL);
		assert_true(asprintf(&want, "t.ini:6: containers: %s overlaps %s", clash[i][0],
		                     clash[i][1]) > 0);
		assert_string_equal(err, want);
	}
	assert_parse_error("[union]\nupper = /\n", -EINVAL,
	                   "t.ini:2: upper: '/' must not be the root directory");
	const char *const uppers[] = {NULL, "/l", "/l/up", "/lx"};
	for (size_t i = 0; i < DN_ARRAY_SIZE(uppers); i++) {
		dn_config_free(cfg);
		cfg = NULL;
		_cleanup_free_ char *text = NULL, *want = NULL;
		assert_true(asprintf(&text, "[local]\nroot = %s\n[union]\nlower = /x:/l\n%s%s\n",
		                     t->dir, uppers[i] ? "upper = " : "",
		                     uppers[i] ? uppers[i] : "") > 0);
		assert_parse_ok(&cfg, text);
		if (i == 0)
			assert_true(asprintf(&want, "t.ini:4: [union] needs upper and lower (or image)") > 0);
		else if (i < 3)
			assert_true(asprintf(&want, "t.ini:5: upper: %s overlaps the lower layer /l",
			                     uppers[i]) > 0);
		int r = dn_config_finish(cfg, "t.ini", err, sizeof(err));
		if (!want) {
			assert_int_equal(r, 0);
			continue;
		}
		assert_int_equal(r, -EINVAL);
		assert_string_equal(err, want);
	}
}

static void test_error_bad_io_weight_and_mount_timeout(void **state)
{
	assert_parse_error("[resources]\nio_weight = 0\n", -EINVAL,
	                   "t.ini:2: io_weight: '0' is out of range 1..10000");
	assert_parse_error("[resources]\nio_weight = 10001\n", -EINVAL,
	                   "t.ini:2: io_weight: '10001' is out of range 1..10000");
	assert_parse_error("[resources]\nio_weight = high\n", -EINVAL,
	                   "t.ini:2: io_weight: 'high' is not a number");
	assert_parse_error("[ceph]\nmount_timeout = 0\n", -EINVAL,
	                   "t.ini:2: mount_timeout: '0' is out of range 1..3600");
	assert_parse_error("[ceph]\nmount_timeout = 3601\n", -EINVAL,
	                   "t.ini:2: mount_timeout: '3601' is out of range 1..3600");
	assert_parse_error("[ceph]\nmount_timeout = 30s\n", -EINVAL,
	                   "t.ini:2: mount_timeout: '30s' is not a number");
	assert_parse_error("[ceph]\n\nmemory_log = maybe\n", -EINVAL,
	                   "t.ini:3: memory_log: 'maybe' is not yes or no");
}

static void test_attr_timeout(void **state)
{
	_cleanup_config_ struct dn_config *cfg = NULL;
	assert_parse_ok(&cfg, "[ceph]\nattr_timeout = 0\n");
	assert_true(cfg->ceph_attr_timeout == 0);
	dn_config_free(TAKE_PTR(cfg));
	assert_parse_ok(&cfg, "[ceph]\nattr_timeout = 0.25\n");
	assert_true(cfg->ceph_attr_timeout == 0.25);
	dn_config_free(TAKE_PTR(cfg));
	assert_parse_ok(&cfg, "[ceph]\nattr_timeout = 3600\n");
	assert_true(cfg->ceph_attr_timeout == 3600);
	assert_parse_error("[ceph]\n\nattr_timeout = 3601\n", -EINVAL,
	                   "t.ini:3: attr_timeout: '3601' is out of range 0..3600");
	/* [union] attr_timeout: a local pool's unions, as fuse-overlayfs's by default */
	dn_config_free(TAKE_PTR(cfg));
	assert_parse_ok(&cfg, "[pool]\n");
	assert_true(cfg->union_attr_timeout == 1.0);
	dn_config_free(TAKE_PTR(cfg));
	assert_parse_ok(&cfg, "[union]\nattr_timeout = 0\n");
	assert_true(cfg->union_attr_timeout == 0);
	dn_config_free(TAKE_PTR(cfg));
	assert_parse_ok(&cfg, "[union]\nattr_timeout = 2.5\n");
	assert_true(cfg->union_attr_timeout == 2.5);
	assert_parse_error("[pool]\n[union]\nattr_timeout = -1\n", -EINVAL,
	                   "t.ini:3: attr_timeout: '-1' is not a number of seconds");
	assert_parse_error("[union]\nattr_timeout = 3601\n", -EINVAL,
	                   "t.ini:2: attr_timeout: '3601' is out of range 0..3600");
	assert_parse_error("[ceph]\nattr_timeout = -1\n", -EINVAL,
	                   "t.ini:2: attr_timeout: '-1' is not a number of seconds");
	assert_parse_error("[ceph]\nattr_timeout = 1s\n", -EINVAL,
	                   "t.ini:2: attr_timeout: '1s' is not a number of seconds");
	assert_parse_error("[ceph]\nattr_timeout = 1.\n", -EINVAL,
	                   "t.ini:2: attr_timeout: '1.' is not a number of seconds");
	assert_parse_error("[ceph]\nattr_timeout =\n", -EINVAL,
	                   "t.ini:2: attr_timeout: empty value");
	(void)state;
}

static void test_error_bad_ceph_id(void **state)
{
	static const char *const bad[] = {"client admin", "a/b", "ü", "a:b"};
	char text[128], want[192];

	for (size_t i = 0; i < DN_ARRAY_SIZE(bad); i++) {
		snprintf(text, sizeof(text), "[ceph]\nid = %s\n", bad[i]);
		snprintf(want, sizeof(want),
		         "t.ini:2: id: '%s' is not a client id (1..64 of A-Z a-z 0-9 _ . -)",
		         bad[i]);
		assert_parse_error(text, -EINVAL, want);
	}
	snprintf(text, sizeof(text), "[ceph]\nid = %065d\n", 0);
	snprintf(want, sizeof(want),
	         "t.ini:2: id: '%065d' is not a client id (1..64 of A-Z a-z 0-9 _ . -)", 0);
	assert_parse_error(text, -EINVAL, want);
	assert_parse_error("[ceph]\nid =\n", -EINVAL, "t.ini:2: id: empty value");
}

static void test_error_bad_ceph_paths(void **state)
{
	assert_parse_error("[ceph]\nconf = ceph.conf\n", -EINVAL,
	                   "t.ini:2: conf: 'ceph.conf' is not an absolute path");
	assert_parse_error("[ceph]\nconf = /\n", -EINVAL,
	                   "t.ini:2: conf: '/' must not be the root directory");
	assert_parse_error("[ceph]\nkeyring = ./keyring\n", -EINVAL,
	                   "t.ini:2: keyring: './keyring' is not an absolute path");
	assert_parse_error("[ceph]\nkeyring = /etc/ceph/../keyring\n", -EINVAL,
	                   "t.ini:2: keyring: '/etc/ceph/../keyring' must not contain '.' or "
	                   "'..' components");
	assert_parse_error("[ceph]\nroot = volumes\n", -EINVAL,
	                   "t.ini:2: root: 'volumes' is not an absolute path");
	assert_parse_error("[ceph]\nroot = /a/./b\n", -EINVAL,
	                   "t.ini:2: root: '/a/./b' must not contain '.' or '..' components");
}

static void test_error_new_sections_keys(void **state)
{
	assert_parse_error("[resources]\nmemory_max = 1G\nmemory_max = 2G\n", -EINVAL,
	                   "t.ini:3: memory_max: duplicate key");
	assert_parse_error("[ceph]\nid = a\n[resources]\ncpus = 1\n[ceph]\nid = b\n", -EINVAL,
	                   "t.ini:6: id: duplicate key");
	assert_parse_error("[ceph]\nuser = admin\n", -EINVAL,
	                   "t.ini:2: user: unknown key in [ceph]");
	assert_parse_error("[resources]\nmemory = 1G\n", -EINVAL,
	                   "t.ini:2: memory: unknown key in [resources]");
	assert_parse_error("[resources]\nroot = /x\n", -EINVAL,
	                   "t.ini:2: root: unknown key in [resources]");
}

static __attribute__((format(printf, 1, 2))) char *strf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	assert_true(vasprintf(&s, fmt, ap) >= 0);
	va_end(ap);
	return s;
}

/* Runs dn_config_finish() on a ceph pool with section text ceph; frees ceph and want. */
static void assert_ceph_finish_error(char *ceph, int code, char *want)
{
	_cleanup_config_ struct dn_config *cfg = NULL;
	_cleanup_free_ char *text = strf("[pool]\nbackend = ceph\n[ceph]\n%s", ceph);
	char err[DN_CONFIG_ERR_MAX] = "";

	assert_parse_ok(&cfg, text);
	assert_int_equal(dn_config_finish(cfg, "t.ini", err, sizeof(err)), code);
	assert_string_equal(err, want);
	free(ceph);
	free(want);
}

static void test_error_ceph_files(void **state)
{
	struct tmp *t = *state;
	const char *d = t->dir;

	tmp_write(t, "file", "");
	assert_ceph_finish_error(strf("conf = %s/nope\n", d), -ENOENT,
	                         strf("t.ini: [ceph] conf: %s/nope: No such file or directory", d));
	assert_ceph_finish_error(strf("conf = %s/root\n", d), -EISDIR,
	                         strf("t.ini: [ceph] conf: %s/root: Is a directory", d));
	assert_ceph_finish_error(strf("conf = /dev/null\n"), -EINVAL,
	                         strf("t.ini: [ceph] conf: /dev/null: not a regular file"));
	assert_ceph_finish_error(strf("conf = %s/file/x\n", d), -ENOTDIR,
	                         strf("t.ini: [ceph] conf: %s/file/x: Not a directory", d));
	assert_ceph_finish_error(
	    strf("conf = %s/file\nkeyring = %s/nope\n", d, d), -ENOENT,
	    strf("t.ini: [ceph] keyring: %s/nope: No such file or directory", d));
	assert_ceph_finish_error(strf("conf = %s/file\nkeyring = %s/root\n", d, d), -EISDIR,
	                         strf("t.ini: [ceph] keyring: %s/root: Is a directory", d));
}

static void test_error_unknown_user_or_group(void **state)
{
	assert_parse_error("[access]\nusers = root, dn-no-such-user\n", -EINVAL,
	                   "t.ini:2: users: unknown user 'dn-no-such-user'");
	assert_parse_error("[access]\ngroups = dn-no-such-group root\n", -EINVAL,
	                   "t.ini:2: groups: unknown group 'dn-no-such-group'");
}

static void test_error_missing_root(void **state)
{
	_cleanup_config_ struct dn_config *cfg = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	assert_parse_ok(&cfg, "[pool]\nworkers = 2\n");
	assert_int_equal(dn_config_finish(cfg, "t.ini", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.ini: [local] root is required for backend local");
}

static void test_error_root_does_not_exist(void **state)
{
	struct tmp *t = *state;
	_cleanup_config_ struct dn_config *cfg = NULL;
	_cleanup_free_ char *text = NULL, *want = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	assert_true(asprintf(&text, "[local]\nroot = %s/nope\n", t->dir) > 0);
	assert_true(
	    asprintf(&want, "t.ini: [local] root: %s/nope: No such file or directory", t->dir) > 0);
	assert_parse_ok(&cfg, text);
	assert_int_equal(dn_config_finish(cfg, "t.ini", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, want);
}

static void test_error_root_is_not_a_directory(void **state)
{
	struct tmp *t = *state;
	_cleanup_config_ struct dn_config *cfg = NULL;
	_cleanup_free_ char *text = NULL, *want = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	tmp_write(t, "file", "");
	assert_true(asprintf(&text, "[local]\nroot = %s/file\n", t->dir) > 0);
	assert_true(asprintf(&want, "t.ini: [local] root: %s/file: Not a directory", t->dir) > 0);
	assert_parse_ok(&cfg, text);
	assert_int_equal(dn_config_finish(cfg, "t.ini", err, sizeof(err)), -ENOTDIR);
	assert_string_equal(err, want);
}

static void test_error_syntax(void **state)
{
	assert_parse_error("[pool]\nworkers 2\n", -EINVAL, "t.ini:2: syntax error");
	assert_parse_error("[pool\nworkers = 2\n", -EINVAL, "t.ini:1: syntax error");
}

static void test_error_first_one_wins(void **state)
{
	/* A syntax error before a bad value, and the other way round. */
	assert_parse_error("[pool]\nnonsense\nworkers = 0\n", -EINVAL, "t.ini:2: syntax error");
	assert_parse_error("[pool]\nworkers = 0\nnonsense\n", -EINVAL,
	                   "t.ini:2: workers: '0' is out of range 1..64");
}

static void test_error_line_too_long(void **state)
{
	char text[512], want[128];

	snprintf(text, sizeof(text), "[local]\nroot = /%0300d\n", 0);
	snprintf(want, sizeof(want), "t.ini:2: line too long (more than %d characters)",
	         INI_MAX_LINE - 2);
	assert_parse_error(text, -EINVAL, want);
}

static void test_error_message_truncated_safely(void **state)
{
	_cleanup_config_ struct dn_config *cfg = dn_config_new("p");
	char err[8];

	assert_non_null(cfg);
	assert_int_equal(
	    dn_config_parse_string(cfg, "t.ini", "[pool]\nworkers = 0\n", err, sizeof(err)),
	    -EINVAL);
	assert_string_equal(err, "t.ini:2");
}

static void test_load_error_missing_pool_file(void **state)
{
	struct tmp *t = *state;
	_cleanup_free_ char *want = NULL;
	struct dn_config *cfg = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	assert_true(
	    asprintf(&want, "%s/pools/p.ini: cannot open: No such file or directory", t->dir) > 0);
	assert_int_equal(dn_config_load(&cfg, t->dir, "p", err, sizeof(err)), -ENOENT);
	assert_null(cfg);
	assert_string_equal(err, want);
}

static void test_load_error_bad_pool_name(void **state)
{
	struct tmp *t = *state;
	static const char *const bad[] = {
	    "",
	    ".hidden",
	    "../x",
	    "a/b",
	    "a b",
	    "ü",
	    "0123456789012345678901234567890123456789012345678901234567890123456789",
	};
	char err[DN_CONFIG_ERR_MAX], want[DN_CONFIG_ERR_MAX + 32];
	struct dn_config *cfg = NULL;

	for (size_t i = 0; i < DN_ARRAY_SIZE(bad); i++) {
		snprintf(want, sizeof(want), "invalid pool name '%s'", bad[i]);
		assert_int_equal(dn_config_load(&cfg, t->dir, bad[i], err, sizeof(err)), -EINVAL);
		assert_string_equal(err, want);
		assert_null(cfg);
		assert_null(dn_config_new(bad[i]));
		assert_int_equal(errno, EINVAL);
	}
}

static void test_load_error_names_the_file_it_is_in(void **state)
{
	struct tmp *t = *state;
	_cleanup_free_ char *want = NULL;
	struct dn_config *cfg = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	tmp_write(t, "danaus.ini", "[pool]\npoll_us = fast\n");
	tmp_write(t, "pools/p.ini", "[local]\nroot = /\n");
	assert_true(asprintf(&want, "%s/danaus.ini:2: poll_us: 'fast' is not a number", t->dir) >
	            0);
	assert_int_equal(dn_config_load(&cfg, t->dir, "p", err, sizeof(err)), -EINVAL);
	assert_null(cfg);
	assert_string_equal(err, want);
}

static void test_load_error_root_blames_danaus_ini(void **state)
{
	struct tmp *t = *state;
	_cleanup_free_ char *text = NULL, *want = NULL;
	struct dn_config *cfg = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	assert_true(asprintf(&text, "[local]\nroot = %s/gone\n", t->dir) > 0);
	tmp_write(t, "danaus.ini", text);
	tmp_write(t, "pools/p.ini", "[pool]\nworkers = 2\n");
	assert_true(asprintf(&want,
	                     "%s/danaus.ini: [local] root: %s/gone: No such file or directory",
	                     t->dir, t->dir) > 0);
	assert_int_equal(dn_config_load(&cfg, t->dir, "p", err, sizeof(err)), -ENOENT);
	assert_null(cfg);
	assert_string_equal(err, want);
}

/* Each missing file is blamed on the file that named it last. */
static void test_load_error_ceph_files_blame_their_file(void **state)
{
	struct tmp *t = *state;
	_cleanup_free_ char *text = NULL, *want = NULL;
	struct dn_config *cfg = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	tmp_write(t, "file", "");
	text = strf("[ceph]\nconf = %s/gone\nkeyring = %s/file\n", t->dir, t->dir);
	tmp_write(t, "danaus.ini", text);
	tmp_write(t, "pools/p.ini", "[pool]\nbackend = ceph\n");
	want =
	    strf("%s/danaus.ini: [ceph] conf: %s/gone: No such file or directory", t->dir, t->dir);
	assert_int_equal(dn_config_load(&cfg, t->dir, "p", err, sizeof(err)), -ENOENT);
	assert_null(cfg);
	assert_string_equal(err, want);

	free(text);
	free(want);
	text = strf("[pool]\nbackend = ceph\n[ceph]\nconf = %s/file\nkeyring = %s/lost\n", t->dir,
	            t->dir);
	tmp_write(t, "pools/p.ini", text);
	want = strf("%s/pools/p.ini: [ceph] keyring: %s/lost: No such file or directory", t->dir,
	            t->dir);
	assert_int_equal(dn_config_load(&cfg, t->dir, "p", err, sizeof(err)), -ENOENT);
	assert_null(cfg);
	assert_string_equal(err, want);
}

static void test_load_file_errors(void **state)
{
	struct tmp *t = *state;
	_cleanup_free_ char *path = strf("%s/pools/p.ini", t->dir), *want = NULL;
	struct dn_config *cfg = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	want = strf("%s: cannot open: No such file or directory", path);
	assert_int_equal(dn_config_load_file(&cfg, path, "p", err, sizeof(err)), -ENOENT);
	assert_null(cfg);
	assert_string_equal(err, want);

	tmp_write(t, "pools/p.ini", "[pool]\nworkers = 2\n");
	assert_int_equal(dn_config_load_file(&cfg, path, "../p", err, sizeof(err)), -EINVAL);
	assert_null(cfg);
	assert_string_equal(err, "invalid pool name '../p'");

	tmp_write(t, "danaus.ini", "[resources]\ncpus = 1-0\n");
	free(want);
	want = strf("%s/danaus.ini:2: cpus: '1-0' is not a CPU list", t->dir);
	assert_int_equal(dn_config_load_file(&cfg, path, "p", err, sizeof(err)), -EINVAL);
	assert_null(cfg);
	assert_string_equal(err, want);
}

static void test_load_error_root_required_names_pool_file(void **state)
{
	struct tmp *t = *state;
	_cleanup_free_ char *want = NULL;
	struct dn_config *cfg = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	tmp_write(t, "pools/p.ini", "[pool]\nworkers = 2\n");
	assert_true(asprintf(&want, "%s/pools/p.ini: [local] root is required for backend local",
	                     t->dir) > 0);
	assert_int_equal(dn_config_load(&cfg, t->dir, "p", err, sizeof(err)), -EINVAL);
	assert_null(cfg);
	assert_string_equal(err, want);
}

/* ---- access ---- */

static void test_allows_everyone_without_lists(void **state)
{
	_cleanup_config_ struct dn_config *cfg = NULL;

	assert_parse_ok(&cfg, "[access]\nusers =\n");
	assert_true(dn_config_allows(cfg, 1000, 1000, NULL, 0));
	assert_true(dn_config_allows(cfg, 0, 0, NULL, 0));
}

static void test_allows_listed_users_only(void **state)
{
	_cleanup_config_ struct dn_config *cfg = NULL;

	assert_parse_ok(&cfg, "[access]\nusers = 1000, 1001\n");
	assert_true(dn_config_allows(cfg, 1001, 50, NULL, 0));
	assert_false(dn_config_allows(cfg, 1002, 1000, NULL, 0)); /* gid 1000 is not uid 1000 */
}

static void test_allows_by_primary_or_supplementary_group(void **state)
{
	_cleanup_config_ struct dn_config *cfg = NULL;
	const gid_t sup[] = {20, 30};
	const gid_t other[] = {21, 31};

	assert_parse_ok(&cfg, "[access]\nusers = 1000\ngroups = 30 40\n");
	assert_true(dn_config_allows(cfg, 1000, 1, NULL, 0));  /* by user */
	assert_true(dn_config_allows(cfg, 2000, 40, NULL, 0)); /* by primary gid */
	assert_true(dn_config_allows(cfg, 2000, 1, sup, DN_ARRAY_SIZE(sup)));
	assert_false(dn_config_allows(cfg, 2000, 1, other, DN_ARRAY_SIZE(other)));
}

static void test_allows_root_always(void **state)
{
	_cleanup_config_ struct dn_config *cfg = NULL;

	assert_parse_ok(&cfg, "[access]\nusers = 1000\n");
	assert_true(dn_config_allows(cfg, 0, 1234, NULL, 0));
}

static void test_free_accepts_null(void **state) { assert_null(dn_config_free(NULL)); }


/* ---- issue 13: what a pool must not be configured into by accident ---- */

static void test_error_system_root(void **state)
{
	_cleanup_config_ struct dn_config *cfg = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	assert_parse_ok(&cfg, "[pool]\nworkers = 1\n[local]\nroot = /\n");
	assert_int_equal(dn_config_finish(cfg, "t.ini", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.ini:4: root: / holds or lies in the system directory /bin; "
	                         "set allow_system_root = yes in [local] to serve it anyway");
	static const char *const refused[] = {"/etc", "/usr", "/var", "/var/lib", "/proc/sys", "/proc/self/root",
	                                      "/sys/fs", "/dev", "/home", "/tmp"};
	for (size_t i = 0; i < DN_ARRAY_SIZE(refused); i++) {
		_cleanup_config_ struct dn_config *c = NULL;
		char text[128];

		snprintf(text, sizeof(text), "[local]\nroot = %s\n", refused[i]);
		assert_parse_ok(&c, text);
		err[0] = 0;
		assert_int_equal(dn_config_finish(c, "t.ini", err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "t.ini:2: root: "));
	}
}

static void test_system_root_when_meant(void **state)
{
	_cleanup_config_ struct dn_config *cfg = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	assert_parse_ok(&cfg, "[local]\nallow_system_root = yes\nroot = /\n");
	assert_int_equal(dn_config_finish(cfg, "t.ini", err, sizeof(err)), 0);
	assert_true(cfg->local_allow_system_root);
}

/* A link to "/" is "/". */
static void test_error_system_root_through_a_link(void **state)
{
	struct tmp *t = *state;
	_cleanup_config_ struct dn_config *cfg = NULL;
	_cleanup_free_ char *text = NULL, *want = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";

	assert_int_equal(symlink("/", tmp_path(t, "file")), 0);
	assert_true(asprintf(&text, "[local]\nroot = %s/file\n", t->dir) > 0);
	assert_true(asprintf(&want, "t.ini:2: root: %s/file (that is /) holds or lies in the system "
	                            "directory /bin; set allow_system_root = yes in [local] to serve "
	                            "it anyway", t->dir) > 0);
	assert_parse_ok(&cfg, text);
	assert_int_equal(dn_config_finish(cfg, "t.ini", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, want);
}

static void test_error_nul_byte(void **state)
{
	struct tmp *t = *state;
	_cleanup_config_ struct dn_config *cfg = NULL;
	char err[DN_CONFIG_ERR_MAX] = "";
	static const char text[] = "[pool]\nworkers = 1\nmountpoint = /danaus/a\0/etc\n";
	FILE *f = fopen(tmp_path(t, "pools/p.ini"), "we");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, sizeof(text) - 1, f), sizeof(text) - 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(dn_config_load(&cfg, t->dir, "p", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/pools/p.ini:3: NUL byte in the line"));
}

static void test_error_mountpoint_not_utf8(void **state)
{
	assert_parse_error("[pool]\nmountpoint = /danaus/\xff\xfe\n", -EINVAL,
	                   "t.ini:2: mountpoint: not valid UTF-8, or holds control characters");
	assert_parse_error("[pool]\nmountpoint = /danaus/\xc0\xaf\n", -EINVAL,
	                   "t.ini:2: mountpoint: not valid UTF-8, or holds control characters");
	assert_parse_error("[pool]\nmountpoint = /danaus/a\x01b\n", -EINVAL,
	                   "t.ini:2: mountpoint: not valid UTF-8, or holds control characters");
	_cleanup_config_ struct dn_config *cfg = NULL;
	assert_parse_ok(&cfg, "[pool]\nmountpoint = /danaus/caf\xc3\xa9\n");
	assert_string_equal(cfg->mountpoint, "/danaus/caf\xc3\xa9");
}

static void test_parse_limits_section(void **state)
{
	_cleanup_config_ struct dn_config *cfg = NULL;

	assert_parse_ok(&cfg, "[pool]\nworkers = 1\n");
	assert_int_equal(cfg->sessions_per_uid, 128);
	assert_int_equal(cfg->open_files_per_uid, 0);
	assert_int_equal(cfg->lock_owners_per_uid, 1024);
	assert_int_equal(cfg->hello_timeout, 5);
	cfg = dn_config_free(cfg);
	assert_parse_ok(&cfg, "[limits]\nsessions_per_uid = 3\nopen_files_per_uid = 40\n"
	                      "lock_owners_per_uid = 7\nhello_timeout = 2\n");
	assert_int_equal(cfg->sessions_per_uid, 3);
	assert_int_equal(cfg->open_files_per_uid, 40);
	assert_int_equal(cfg->lock_owners_per_uid, 7);
	assert_int_equal(cfg->hello_timeout, 2);
	assert_parse_error("[limits]\nsessions_per_uid = 0\n", -EINVAL,
	                   "t.ini:2: sessions_per_uid: '0' is out of range 1..65536");
	assert_parse_error("[limits]\nhello_timeout = 601\n", -EINVAL,
	                   "t.ini:2: hello_timeout: '601' is out of range 1..600");
	assert_parse_error("[limits]\nfiles = 3\n", -EINVAL, "t.ini:2: files: unknown key in [limits]");
}

#define T(f) cmocka_unit_test_setup_teardown(f, tmp_setup, tmp_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_parse_all_keys),
	    T(test_parse_limits_accepted),
	    T(test_parse_indented_line_is_a_key_not_a_continuation),
	    T(test_parse_empty_access_lists_mean_no_restriction),
	    T(test_defaults),
	    T(test_defaults_queues_follow_workers),
	    T(test_load_pool_file_overrides_danaus_ini),
	    T(test_load_without_danaus_ini),
	    T(test_parse_resources),
	    T(test_default_workers_follow_resources),
	    T(test_ceph_cache_size_follows_memory),
	    T(test_ceph_read_cache),
	    T(test_parse_resource_limits_accepted),
	    T(test_parse_ceph),
	    T(test_parse_ceph_limits_accepted),
	    T(test_ceph_backend_needs_no_section),
	    T(test_other_backends_section_is_ignored),
	    T(test_load_file),
	    T(test_load_file_without_danaus_ini),
	    T(test_error_unknown_section),
	    T(test_error_key_outside_section),
	    T(test_error_unknown_key),
	    T(test_error_not_a_number),
	    T(test_error_out_of_range),
	    T(test_error_empty_value),
	    T(test_error_duplicate_key),
	    T(test_error_bad_mountpoint),
	    T(test_mountpoint_dots_inside_names_are_fine),
	    T(test_error_unknown_backend),
	    T(test_error_bad_cpu_quota),
	    T(test_error_bad_cpus),
	    T(test_error_bad_size),
	    T(test_error_bad_io_weight_and_mount_timeout),
    T(test_attr_timeout),
	    T(test_ceph_networks),
	    T(test_union),
	    T(test_mounts),
	    T(test_mounts_across_files),
	    T(test_error_bad_ceph_id),
	    T(test_error_bad_ceph_paths),
	    T(test_error_new_sections_keys),
	    T(test_error_ceph_files),
	    T(test_error_unknown_user_or_group),
	    T(test_error_missing_root),
	    T(test_error_root_does_not_exist),
	    T(test_error_root_is_not_a_directory),
	    T(test_error_syntax),
	    T(test_error_first_one_wins),
	    T(test_error_line_too_long),
	    T(test_error_message_truncated_safely),
	    T(test_load_error_missing_pool_file),
	    T(test_load_error_bad_pool_name),
	    T(test_load_error_names_the_file_it_is_in),
	    T(test_load_error_root_blames_danaus_ini),
	    T(test_load_error_ceph_files_blame_their_file),
	    T(test_load_file_errors),
	    T(test_load_error_root_required_names_pool_file),
	    T(test_allows_everyone_without_lists),
	    T(test_allows_listed_users_only),
	    T(test_allows_by_primary_or_supplementary_group),
	    T(test_allows_root_always),
	    T(test_free_accepts_null),
	    T(test_error_system_root),
	    T(test_system_root_when_meant),
	    T(test_error_system_root_through_a_link),
	    T(test_error_nul_byte),
	    T(test_error_mountpoint_not_utf8),
	    T(test_parse_limits_section),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
