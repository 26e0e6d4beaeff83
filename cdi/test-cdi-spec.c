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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cdi-claim.h"
#include "cdi-prune.h"
#include "cdi-spec.h"
#include "unix-listener.h"

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
			      "DANAUS_MOUNTPOINT=/danaus/tenant",
			      "DANAUS_CDI_POOL_tenant=tenant:/danaus/tenant"};
	assert_int_equal(json_object_array_length(env), 5);
	for (size_t i = 0; i < 5; i++)
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
	assert_int_equal(json_object_array_length(env), 6);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(env, 4)),
			    "DANAUS_MOUNTS=/data:/danaus/tenant-web");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(env, 5)),
			    "DANAUS_CDI_POOL_tenant=tenant:/danaus/tenant:/data:/danaus/tenant-web");
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

/* A compat pool with more instances: each instance's own mount bound at its mountpoint. */
static void test_compat_mounts_of_instances_are_bound(void **state)
{
	struct dn_cdi_pool p = pool;
	p.more = "/data:/danaus/tenant-web";
	p.compat_mount = true;
	struct json_object *spec = parse_spec_of(&p);
	struct json_object *mounts = field(edits_of(spec), "mounts");
	assert_int_equal(json_object_array_length(mounts), 5);
	const char *at[] = {pool.mountpoint, "/data", "/danaus/tenant-web"};
	for (size_t i = 0; i < 3; i++) {
		struct json_object *m = json_object_array_get_idx(mounts, 2 + i);
		assert_string_equal(str(m, "hostPath"), at[i]);
		assert_string_equal(str(m, "containerPath"), at[i]);
		assert_true(has_option(m, "rbind"));
		assert_false(has_option(m, "ro"));
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

/* The pool's own variable survives shells: every byte but letters and digits is _XX. */
static void test_mark_is_named_after_the_pool_safely(void **state)
{
	struct dn_cdi_pool p = pool;
	p.name = "a.b-c_d";
	struct json_object *spec = parse_spec_of(&p);
	struct json_object *env = field(edits_of(spec), "env");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(env, 4)),
			    "DANAUS_CDI_POOL_a_2Eb_2Dc_5Fd=a.b-c_d:/danaus/tenant");
	json_object_put(spec);
}

/* A spec is recognised as a pool's own, with the socket it binds; anything else is not. */
static void test_spec_socket_recognises_only_danaus_specs(void **state)
{
	char *text = dn_cdi_spec_json(&pool);
	assert_non_null(text);
	char sock[PATH_MAX];
	assert_int_equal(dn_cdi_spec_socket(text, "tenant", sock, sizeof(sock)), 0);
	assert_string_equal(sock, pool.socket);
	assert_int_equal(dn_cdi_spec_socket(text, "other", sock, sizeof(sock)), -EINVAL);
	free(text);
	const char *foreign[] = {
		"{\"cdiVersion\": \"0.5.0\", \"kind\": \"vendor.com/gpu\", \"devices\": "
		"[{\"name\": \"tenant\", \"containerEdits\": {\"mounts\": [{\"hostPath\": "
		"\"/x\", \"containerPath\": \"/run/danaus/tenant.sock\"}]}}]}",
		"not json",
		"[]",
		"{\"kind\": \"danaus.io/pool\", \"devices\": 3}",
	};
	for (size_t i = 0; i < sizeof(foreign) / sizeof(*foreign); i++)
		assert_int_equal(dn_cdi_spec_socket(foreign[i], "tenant", sock, sizeof(sock)),
				 -EINVAL);
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

static void put_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static bool exists(const char *in, const char *name)
{
	char path[PATH_MAX];
	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", in, name) < sizeof(path));
	return access(path, F_OK) == 0;
}

/* A spec of the pool NAME bound to SOCKET, written into DIR (cdi). */
static void write_spec(const char *cdi, const char *name, const char *socket)
{
	struct dn_cdi_pool p = pool;
	p.name = name;
	p.socket = socket;
	assert_int_equal(dn_cdi_spec_write(cdi, &p), 0);
}

static bool stale_but_a(const char *name, void *arg)
{
	(*(int *)arg)++;
	return strcmp(name, "a") != 0;
}

/* Only the units' specs (RUNDIR/NAME.sock) of pools said to be gone are removed. */
static void test_prune_removes_only_stale_units_specs(void **state)
{
	char cdi[128], run[128], sock[192];
	snprintf(cdi, sizeof(cdi), "%s/cdi", dir);
	snprintf(run, sizeof(run), "%s/run", dir);
	snprintf(sock, sizeof(sock), "%s/a.sock", run);
	write_spec(cdi, "a", sock); /* configured */
	snprintf(sock, sizeof(sock), "%s/b.sock", run);
	write_spec(cdi, "b", sock); /* gone */
	write_spec(cdi, "c", "/tmp/by-hand/c.sock"); /* a pool started by hand */
	char path[256];
	snprintf(path, sizeof(path), "%s/vendor-x.json", cdi);
	put_text(path, "{\"kind\": \"vendor.com/x\"}");
	snprintf(path, sizeof(path), "%s/danaus-pool-d.json", cdi);
	put_text(path, "broken");
	int asked = 0;
	assert_int_equal(dn_cdi_prune(cdi, run, stale_but_a, &asked), 1);
	assert_int_equal(asked, 2); /* a and b: the units' specs */
	assert_true(exists(cdi, "danaus-pool-a.json"));
	assert_false(exists(cdi, "danaus-pool-b.json"));
	assert_true(exists(cdi, "danaus-pool-c.json"));
	assert_true(exists(cdi, "vendor-x.json"));
	assert_true(exists(cdi, "danaus-pool-d.json"));
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(dn_cdi_prune(path, run, stale_but_a, &asked), 0);
}

/* A unix socket bound at PATH, listening (as systemd's) or not; its fd. */
static int bind_at(const char *path, bool listening)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path));
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (listening)
		assert_int_equal(listen(fd, 1), 0);
	return fd;
}

static int listen_at(const char *path)
{
	return bind_at(path, true);
}

/* Only a socket that listens counts: not one merely bound, nor the file a dead one left. */
static void test_listener_is_told_from_a_left_socket_file(void **state)
{
	char a[128], b[128], prefix[128];
	snprintf(a, sizeof(a), "%s/a.sock", dir);
	snprintf(b, sizeof(b), "%s/b.sock", dir);
	snprintf(prefix, sizeof(prefix), "%s/a.so", dir);
	assert_false(dn_unix_listener_exists(a));
	int fa = listen_at(a), fb = bind_at(b, false);
	assert_true(dn_unix_listener_exists(a));
	assert_false(dn_unix_listener_exists(prefix));
	assert_false(dn_unix_listener_exists(b));
	close(fa);
	close(fb);
	assert_int_equal(access(a, F_OK), 0); /* the file stays, as after SIGKILL */
	assert_false(dn_unix_listener_exists(a));
}

static char *spec_text(const char *cdi, const char *name)
{
	char path[PATH_MAX];
	char *text = NULL;
	assert_int_equal(dn_cdi_spec_path(cdi, name, path, sizeof(path)), 0);
	return dn_cdi_spec_load(path, &text) == 0 ? text : NULL;
}

/* A pool by hand: its spec goes at exit, or the one before comes back while its socket lives. */
static void test_claim_gives_back_or_removes(void **state)
{
	char cdi[128], units[128], ours[128];
	snprintf(cdi, sizeof(cdi), "%s/cdi", dir);
	snprintf(units, sizeof(units), "%s/units.sock", dir);
	snprintf(ours, sizeof(ours), "%s/ours.sock", dir);
	struct dn_cdi_claim c;

	/* nothing before: removed */
	assert_int_equal(dn_cdi_claim_begin(&c, cdi, "p"), 0);
	write_spec(cdi, "p", ours);
	assert_int_equal(dn_cdi_claim_hold(&c), 0);
	dn_cdi_claim_end(&c, ours);
	assert_false(exists(cdi, "danaus-pool-p.json"));

	/* the units' spec before, their socket alive: given back as it was */
	int fd = listen_at(units);
	write_spec(cdi, "p", units);
	char *before = spec_text(cdi, "p");
	assert_non_null(before);
	assert_int_equal(dn_cdi_claim_begin(&c, cdi, "p"), 0);
	write_spec(cdi, "p", ours);
	assert_int_equal(dn_cdi_claim_hold(&c), 0);
	dn_cdi_claim_end(&c, ours);
	char *after = spec_text(cdi, "p");
	assert_non_null(after);
	assert_string_equal(after, before);
	free(after);

	/* the same, its listener dead (SIGKILL) and its socket file left: removed */
	close(fd);
	assert_int_equal(access(units, F_OK), 0);
	assert_int_equal(dn_cdi_claim_begin(&c, cdi, "p"), 0);
	write_spec(cdi, "p", ours);
	assert_int_equal(dn_cdi_claim_hold(&c), 0);
	dn_cdi_claim_end(&c, ours);
	assert_false(exists(cdi, "danaus-pool-p.json"));

	/* the same, its socket gone meanwhile: removed */
	write_spec(cdi, "p", units);
	unlink(units);
	assert_int_equal(dn_cdi_claim_begin(&c, cdi, "p"), 0);
	write_spec(cdi, "p", ours);
	assert_int_equal(dn_cdi_claim_hold(&c), 0);
	dn_cdi_claim_end(&c, ours);
	assert_false(exists(cdi, "danaus-pool-p.json"));

	/* replaced by someone else while we ran: left alone */
	assert_int_equal(dn_cdi_claim_begin(&c, cdi, "p"), 0);
	write_spec(cdi, "p", ours);
	assert_int_equal(dn_cdi_claim_hold(&c), 0);
	write_spec(cdi, "p", units);
	dn_cdi_claim_end(&c, ours);
	after = spec_text(cdi, "p");
	assert_non_null(after);
	assert_string_equal(after, before);
	free(after);
	free(before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_names_the_kind_and_the_pool),
		cmocka_unit_test(test_env_preloads_the_library_for_the_pool),
		cmocka_unit_test(test_mounts_bind_library_socket_and_placeholder),
		cmocka_unit_test(test_compat_mount_is_bound_instead_of_the_placeholder),
		cmocka_unit_test(test_compat_mounts_of_instances_are_bound),
		cmocka_unit_test(test_instances_get_placeholders_and_their_variable),
		cmocka_unit_test(test_relative_or_missing_paths_are_refused),
		cmocka_unit_test(test_paths_are_escaped),
		cmocka_unit_test(test_mark_is_named_after_the_pool_safely),
		cmocka_unit_test(test_spec_socket_recognises_only_danaus_specs),
		cmocka_unit_test_setup_teardown(test_prune_removes_only_stale_units_specs, make_dir,
						remove_dir),
		cmocka_unit_test_setup_teardown(test_listener_is_told_from_a_left_socket_file,
						make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_claim_gives_back_or_removes, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_write_replace_and_remove, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_placeholder_is_a_read_only_directory_that_says_why,
						make_dir, remove_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
