/* Unit tests of the FIFO stand-ins' directory: named by the pool, swept once its pool is gone */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cred.h"
#include "fifos.h"

static char tmp[PATH_MAX];
static unsigned long ns;

/* A pid no process has now: a child that has been reaped. */
static int dead_pid(void)
{
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0)
		_exit(0);
	assert_int_equal(waitpid(p, NULL, 0), p);
	return (int)p;
}

/* TMPDIR/NAME, a pool's directory as it would have made it, with a FIFO in it. */
static void pool_dir(const char *name, mode_t mode)
{
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	assert_int_equal(mkdir(path, mode), 0);
	assert_int_equal(chmod(path, mode), 0);
	snprintf(path, sizeof(path), "%s/%s/1a", tmp, name);
	assert_int_equal(mkfifo(path, 0600), 0);
}

static bool exists(const char *name)
{
	char path[PATH_MAX * 2];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	return lstat(path, &st) == 0;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/test-fifos.XXXXXX");
	assert_non_null(mkdtemp(tmp));
	setenv("TMPDIR", tmp, 1);
	struct stat st;
	ns = stat("/proc/self/ns/pid", &st) == 0 ? (unsigned long)st.st_ino : 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_sweep_takes_only_gone_pools_of_this_namespace(void **state)
{
	(void)state;
	int dead = dead_pid();
	char gone[128], alive[128], elsewhere[128], link[128], loose[128], other[128];
	snprintf(gone, sizeof(gone), "danaus-fifos.%lu-%d.AbC123", ns, dead);
	snprintf(alive, sizeof(alive), "danaus-fifos.%lu-%d.AbC123", ns, (int)getppid());
	snprintf(elsewhere, sizeof(elsewhere), "danaus-fifos.%lu-%d.AbC123", ns + 1, dead);
	snprintf(link, sizeof(link), "danaus-fifos.%lu-%d.LiNk00", ns, dead);
	snprintf(loose, sizeof(loose), "danaus-fifos.%lu-%d.LoOse0", ns, dead);
	snprintf(other, sizeof(other), "danaus-fifos.%lu-%d.OtHer0", ns, dead);
	pool_dir(gone, 0700);
	pool_dir(alive, 0700);
	pool_dir(elsewhere, 0700);
	pool_dir(loose, 0755); /* not as a pool makes it */
	pool_dir(other, 0700);
	bool root = geteuid() == 0;
	char path[PATH_MAX * 2];
	if (root) { /* another user's */
		snprintf(path, sizeof(path), "%s/%s", tmp, other);
		assert_int_equal(chown(path, 65534, 65534), 0);
	}
	/* a link to a directory of the test's own, which must stay whole */
	char target[PATH_MAX * 2];
	snprintf(target, sizeof(target), "%s/target", tmp);
	assert_int_equal(mkdir(target, 0700), 0);
	snprintf(path, sizeof(path), "%s/target/keep", tmp);
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/%s", tmp, link);
	assert_int_equal(symlink(target, path), 0);

	dn_fifos_sweep();
	assert_false(exists(gone));
	assert_true(exists(alive));
	assert_true(exists(elsewhere));
	assert_true(exists(link));
	assert_true(exists("target/keep"));
	assert_true(exists(loose));
	assert_int_equal(exists(other), root); /* (not root: the pool's own uid, swept) */
}

static void test_pool_names_its_directory_and_removes_it(void **state)
{
	(void)state;
	assert_int_equal(dn_cred_init(), 0);
	struct dn_fifos *f = dn_fifos_new();
	assert_non_null(f);
	int fd = dn_fifos_get(f, 0x1a, geteuid(), getegid(), 0640);
	assert_true(fd >= 0);
	close(fd);
	char want[128];
	snprintf(want, sizeof(want), "danaus-fifos.%lu-%d.", ns, (int)getpid());
	DIR *d = opendir(tmp);
	assert_non_null(d);
	char found[256] = "";
	for (struct dirent *e; (e = readdir(d));)
		if (strncmp(e->d_name, want, strlen(want)) == 0)
			snprintf(found, sizeof(found), "%s", e->d_name);
	closedir(d);
	assert_string_not_equal(found, "");
	assert_true(strlen(found) == strlen(want) + 6);
	dn_fifos_sweep(); /* its own: stays */
	assert_true(exists(found));
	f = dn_fifos_free(f);
	assert_false(exists(found));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sweep_takes_only_gone_pools_of_this_namespace,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_names_its_directory_and_removes_it, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
