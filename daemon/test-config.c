/* Pool Configuration tests: parsing, defaults, override order, every error message */
#include <errno.h>
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
	                      "[access]\nusers = 4294967294\n");
	assert_int_equal(cfg->workers, 64);
	assert_int_equal(cfg->queues, 1);
	assert_int_equal(cfg->poll_us, 100000);
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
	assert_int_equal(cfg->workers, 1);
	assert_int_equal(cfg->queues, 1);
	assert_int_equal(cfg->poll_us, 50);
	assert_null(cfg->users);
	assert_int_equal(cfg->n_users, 0);
	assert_null(cfg->groups);
	assert_int_equal(cfg->n_groups, 0);
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
	assert_parse_error("[pool]\npoll_us = 100001\n", -EINVAL,
	                   "t.ini:2: poll_us: '100001' is out of range 0..100000");
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
	assert_parse_error("[pool]\nbackend = ceph\n", -EINVAL,
	                   "t.ini:2: backend: unknown backend 'ceph' (expected local)");
	assert_parse_error("[pool]\nbackend = Local\n", -EINVAL,
	                   "t.ini:2: backend: unknown backend 'Local' (expected local)");
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
	    T(test_load_error_root_required_names_pool_file),
	    T(test_allows_everyone_without_lists),
	    T(test_allows_listed_users_only),
	    T(test_allows_by_primary_or_supplementary_group),
	    T(test_allows_root_always),
	    T(test_free_accepts_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
