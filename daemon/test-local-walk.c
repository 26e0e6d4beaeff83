/* Unit tests: where a local pool's walk meets an absolute symlink (local-walk.h) */
#include <fcntl.h>
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

#include "local-walk.h"
#include "redirect.h"

static char dir[] = "/tmp/dn-local-walk.XXXXXX";
static int root = -1;

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0 || mkdirat(root, "d", 0755) < 0 || mkdirat(root, "sub", 0755) < 0 ||
	    symlinkat("/abs/target", root, "a") < 0 || symlinkat("../a", root, "d/l") < 0 ||
	    symlinkat("/etc", root, "sub/etc") < 0 || symlinkat("d", root, "rel") < 0)
		return -1;
	int f = openat(root, "x", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	return f < 0 ? -1 : close(f);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[sizeof(dir) + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	close(root);
	return system(cmd) == 0 ? 0 : -1;
}

/* The path the walk redirects to, or "" when it resolves inside. */
static const char *walk(const char *path, bool follow_last)
{
	static const struct dn_protect none = {0};
	int r = dn_local_abs_link(root, path, follow_last, &none, getuid());
	if (r == 0)
		return "";
	assert_int_equal(r, -DN_EREDIRECT);
	size_t n;
	return dn_redirect_path(&n);
}

static void test_absolute_links(void **state)
{
	(void)state;
	assert_string_equal(walk("a", true), "/abs/target");
	assert_string_equal(walk("a", false), ""); /* lstat: the link itself */
	assert_string_equal(walk("a/", false), "/abs/target/"); /* a slash follows it anyway */
	assert_string_equal(walk("d/l/more/x", false), "/abs/target/more/x"); /* relative, then absolute */
	assert_string_equal(walk("sub/etc/passwd", true), "/etc/passwd");
	assert_string_equal(walk("../../sub/./etc//passwd", true), "/etc//passwd"); /* ".." stops at the top */
	assert_string_equal(walk("rel/l", true), "/abs/target");
}

static void test_inside(void **state)
{
	(void)state;
	assert_string_equal(walk("x", true), "");
	assert_string_equal(walk("d", true), "");
	assert_string_equal(walk("missing/a", true), ""); /* openat2 answers ENOENT */
	assert_string_equal(walk("x/a", true), "");       /* and ENOTDIR */
	assert_string_equal(walk("", true), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absolute_links),
		cmocka_unit_test(test_inside),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
