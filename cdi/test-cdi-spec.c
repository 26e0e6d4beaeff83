/* CDI Spec tests: the JSON a container engine reads, the atomic write, the placeholder */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdi-spec.h"

static const struct dn_cdi_pool pool = {
	.name = "tenant",
	.socket = "/run/danaus/tenant.sock",
	.mountpoint = "/danaus/tenant",
	.library = "/usr/lib/x86_64-linux-gnu/libdanaus.so",
	.placeholder = "/run/danaus/not-served",
};

static struct json_object *field(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	assert_true(json_object_object_get_ex(o, key, &v));
	return v;
}

static const char *str(struct json_object *o, const char *key)
{
	return json_object_get_string(field(o, key));
}

static struct json_object *parse_spec_of(const struct dn_cdi_pool *p)
{
	char *text = dn_cdi_spec_json(p);
	assert_non_null(text);
	struct json_object *spec = json_tokener_parse(text);
	assert_non_null(spec);
	free(text);
	return spec;
}

static struct json_object *parse_spec(void)
{
	return parse_spec_of(&pool);
}

static void test_spec_names_the_kind_and_the_pool(void **state)
{
	struct json_object *spec = parse_spec();
	assert_string_equal(str(spec, "cdiVersion"), "0.5.0");
	assert_string_equal(str(spec, "kind"), "danaus.io/pool");
	struct json_object *devices = field(spec, "devices");
	assert_int_equal(json_object_array_length(devices), 1);
	assert_string_equal(str(json_object_array_get_idx(devices, 0), "name"), "tenant");
	json_object_put(spec);
}

static struct json_object *edits_of(struct json_object *spec)
{
	return field(json_object_array_get_idx(field(spec, "devices"), 0), "containerEdits");
}

/* The library's variables point at the container-side paths of the mounts. */
static void test_env_preloads_the_library_for_the_pool(void **state)
{
	struct json_object *spec = parse_spec();
	struct json_object *env = field(edits_of(spec), "env");
	const char *want[] = {"LD_PRELOAD=/run/danaus/libdanaus.so", "DANAUS_POOL=tenant",
			      "DANAUS_SOCKET=/run/danaus/tenant.sock",
			      "DANAUS_MOUNTPOINT=/danaus/tenant"};
	assert_int_equal(json_object_array_length(env), 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(json_object_get_string(json_object_array_get_idx(env, i)),
				    want[i]);
	json_object_put(spec);
}

static bool has_option(struct json_object *mount, const char *opt)
{
	struct json_object *opts = field(mount, "options");
	for (size_t i = 0; i < json_object_array_length(opts); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(opts, i)), opt) == 0)
			return true;
	return false;
}

static void test_mounts_bind_library_socket_and_placeholder(void **state)
{
	struct json_object *spec = parse_spec();
	struct json_object *mounts = field(edits_of(spec), "mounts");
	assert_int_equal(json_object_array_length(mounts), 3);
	struct json_object *lib = json_object_array_get_idx(mounts, 0);
	struct json_object *sock = json_object_array_get_idx(mounts, 1);
	struct json_object *ph = json_object_array_get_idx(mounts, 2);
	assert_string_equal(str(lib, "hostPath"), pool.library);
	assert_string_equal(str(lib, "containerPath"), "/run/danaus/libdanaus.so");
	assert_string_equal(str(sock, "hostPath"), pool.socket);
	assert_string_equal(str(sock, "containerPath"), "/run/danaus/tenant.sock");
	assert_string_equal(str(ph, "hostPath"), pool.placeholder);
	assert_string_equal(str(ph, "containerPath"), pool.mountpoint);
	for (size_t i = 0; i < 3; i++) {
		struct json_object *m = json_object_array_get_idx(mounts, i);
		assert_string_equal(str(m, "type"), "bind");
		assert_true(has_option(m, "bind"));
		assert_true(has_option(m, "nosuid"));
	}
	/* read-only library and placeholder; the library must stay executable */
	assert_true(has_option(lib, "ro"));
	assert_false(has_option(lib, "noexec"));
	assert_true(has_option(ph, "ro"));
	assert_false(has_option(sock, "ro"));
	json_object_put(spec);
}

/* A pool with a compat mount: its mount is bound at the mountpoint, writable, for static programs. */
static void test_compat_mount_is_bound_instead_of_the_placeholder(void **state)
{
	struct dn_cdi_pool p = pool;
	p.compat_mount = true;
	struct json_object *spec = parse_spec_of(&p);
	struct json_object *mounts = field(edits_of(spec), "mounts");
	assert_int_equal(json_object_array_length(mounts), 3);
	struct json_object *m = json_object_array_get_idx(mounts, 2);
	assert_string_equal(str(m, "hostPath"), pool.mountpoint);
	assert_string_equal(str(m, "containerPath"), pool.mountpoint);
	assert_true(has_option(m, "rbind"));
	assert_true(has_option(m, "nosuid"));
	assert_false(has_option(m, "ro"));
	json_object_put(spec);
}

/* A pool with more instances: their mountpoints in DANAUS_MOUNTS, a placeholder at each. */
static void test_instances_get_placeholders_and_their_variable(void **state)
{
	struct dn_cdi_pool p = pool;
	p.more = "/data:/danaus/tenant-web";
	char *text = dn_cdi_spec_json(&p);
	assert_non_null(text);
	struct json_object *spec = json_tokener_parse(text);
	free(text);
	assert_non_null(spec);
	struct json_object *env = field(edits_of(spec), "env");
	assert_int_equal(json_object_array_length(env), 5);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(env, 4)),
			    "DANAUS_MOUNTS=/data:/danaus/tenant-web");
	struct json_object *mounts = field(edits_of(spec), "mounts");
	assert_int_equal(json_object_array_length(mounts), 5);
	const char *at[] = {"/data", "/danaus/tenant-web"};
	for (size_t i = 0; i < 2; i++) {
		struct json_object *ph = json_object_array_get_idx(mounts, 3 + i);
		assert_string_equal(str(ph, "hostPath"), pool.placeholder);
		assert_string_equal(str(ph, "containerPath"), at[i]);
		assert_true(has_option(ph, "ro"));
	}
	json_object_put(spec);
}

static void test_relative_or_missing_paths_are_refused(void **state)
{
	struct dn_cdi_pool p = pool;
	p.socket = "run/x.sock";
	assert_null(dn_cdi_spec_json(&p));
	assert_int_equal(errno, EINVAL);
	p = pool;
	p.mountpoint = "/";
	assert_null(dn_cdi_spec_json(&p));
	p = pool;
	p.library = NULL;
	assert_null(dn_cdi_spec_json(&p));
	p = pool;
	p.name = "";
	assert_null(dn_cdi_spec_json(&p));
}

/* Quotes and backslashes in a path stay one JSON string, never break the spec. */
static void test_paths_are_escaped(void **state)
{
	struct dn_cdi_pool p = pool;
	p.mountpoint = "/danaus/we\"ird\\name";
	char *text = dn_cdi_spec_json(&p);
	assert_non_null(text);
	struct json_object *spec = json_tokener_parse(text);
	assert_non_null(spec);
	struct json_object *env = field(edits_of(spec), "env");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(env, 3)),
			    "DANAUS_MOUNTPOINT=/danaus/we\"ird\\name");
	json_object_put(spec);
	free(text);
}

static char dir[64];

static int make_dir(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test-cdi.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s'; rm -rf '%s'", dir, dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Written under a missing directory, read back whole, replaced, then removed. */
static void test_write_replace_and_remove(void **state)
{
	char sub[PATH_MAX], path[PATH_MAX];
	snprintf(sub, sizeof(sub), "%s/run/cdi", dir);
	assert_int_equal(dn_cdi_spec_write(sub, &pool), 0);
	assert_int_equal(dn_cdi_spec_path(sub, "tenant", path, sizeof(path)), 0);
	struct json_object *spec = json_object_from_file(path);
	assert_non_null(spec);
	assert_string_equal(str(spec, "kind"), "danaus.io/pool");
	json_object_put(spec);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	struct dn_cdi_pool p = pool;
	p.socket = "/elsewhere/tenant.sock";
	assert_int_equal(dn_cdi_spec_write(sub, &p), 0);
	spec = json_object_from_file(path);
	assert_non_null(spec);
	assert_non_null(strstr(json_object_to_json_string(spec), "elsewhere"));
	json_object_put(spec);
	/* no temporary file is left beside it */
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) = 1", sub);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(dn_cdi_spec_remove(sub, "tenant"), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(dn_cdi_spec_remove(sub, "tenant"), 0);
}

static void test_placeholder_is_a_read_only_directory_that_says_why(void **state)
{
	char path[PATH_MAX], note[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/run/danaus/not-served", dir);
	assert_int_equal(dn_cdi_placeholder_ensure(path), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0555);
	snprintf(note, sizeof(note), "%s/%s", path, DN_CDI_PLACEHOLDER_NOTE);
	assert_int_equal(stat(note, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0444);
	FILE *f = fopen(note, "r");
	assert_non_null(f);
	char text[512] = "";
	assert_true(fread(text, 1, sizeof(text) - 1, f) > 0);
	fclose(f);
	assert_non_null(strstr(text, "not served"));
	/* the note is its only entry: nothing else was left behind either */
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "test \"$(ls -A '%s')\" = %s", path, DN_CDI_PLACEHOLDER_NOTE);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s/run/danaus' | wc -l) = 1", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(dn_cdi_placeholder_ensure(path), 0); /* again: left as it is */
	/* a file in its place is not taken for it */
	snprintf(path, sizeof(path), "%s/file", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(dn_cdi_placeholder_ensure(path), -EEXIST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_names_the_kind_and_the_pool),
		cmocka_unit_test(test_env_preloads_the_library_for_the_pool),
		cmocka_unit_test(test_mounts_bind_library_socket_and_placeholder),
		cmocka_unit_test(test_compat_mount_is_bound_instead_of_the_placeholder),
		cmocka_unit_test(test_instances_get_placeholders_and_their_variable),
		cmocka_unit_test(test_relative_or_missing_paths_are_refused),
		cmocka_unit_test(test_paths_are_escaped),
		cmocka_unit_test_setup_teardown(test_write_replace_and_remove, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_placeholder_is_a_read_only_directory_that_says_why,
						make_dir, remove_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
