/* Unit tests: a local pool's walk in user space (local-walk.h) */
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
#include "no-symlinks.h"
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

/* Where dn_local_walk_long leaves a path: "DIR-INODE-IS-ROOT?|LAST", or the error. */
static const char *walk_long(const char *path, bool follow_last)
{
	static const struct dn_protect none = {0};
	static char out[NAME_MAX + 16];
	int at = -1;
	char last[NAME_MAX + 2];
	int r = dn_local_walk_long(root, path, follow_last, &none, getuid(), &at, last);
	if (r < 0) {
		snprintf(out, sizeof(out), "%d", r);
		return out;
	}
	struct stat a, b, d;
	assert_int_equal(fstat(at, &a), 0);
	assert_int_equal(fstat(root, &b), 0);
	assert_int_equal(fstatat(root, "d", &d, 0), 0);
	close(at);
	const char *where = a.st_ino == b.st_ino ? "top" : a.st_ino == d.st_ino ? "d" : "?";
	snprintf(out, sizeof(out), "%s|%s", where, last);
	return out;
}

static void test_long(void **state)
{
	(void)state;
	assert_string_equal(walk_long("d/new", true), "d|new");
	assert_string_equal(walk_long("/d//new/", true), "d|new/");
	assert_string_equal(walk_long("rel/", false), "top|d/"); /* a slash follows a link */
	assert_string_equal(walk_long("rel", false), "top|rel");
	assert_string_equal(walk_long("rel/.", false), "d|.");
	assert_string_equal(walk_long("sub/..", true), "top|.");
	assert_string_equal(walk_long("../../d/../..", true), "top|."); /* ".." stops at the top */
	assert_string_equal(walk_long("", true), "top|.");
	assert_string_equal(walk_long("x/a", true), "-20"); /* ENOTDIR */
	assert_string_equal(walk_long("missing/a", true), "-2"); /* ENOENT */
	dn_redirect_allow(true);
	assert_string_equal(walk_long("d/l/x", true), "-4000"); /* -DN_EREDIRECT */
	dn_redirect_allow(false);
	/* without redirects, an absolute target starts again at the top */
	assert_string_equal(walk_long("sub/etc", true), "top|etc");
	assert_string_equal(walk_long("d/l", true), "-2"); /* "/abs" is not at the top */
}

/* Under a union every symlink the walk would follow is ELOOP; names it stops before are not. */
static void test_symlinks_refused(void **state)
{
	(void)state;
	dn_walk_refuse_symlinks(true);
	dn_redirect_allow(true);
	assert_string_equal(walk_long("rel/x", true), "-40");
	assert_string_equal(walk_long("d/l/x", true), "-40"); /* not a redirect either */
	assert_string_equal(walk_long("rel/", false), "-40");
	dn_redirect_allow(false);
	assert_string_equal(walk_long("rel", false), "top|rel");
	assert_string_equal(walk_long("d/new", true), "d|new");
	dn_walk_refuse_symlinks(false);
	assert_string_equal(walk_long("rel/x", true), "d|x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absolute_links),
		cmocka_unit_test(test_inside),
		cmocka_unit_test(test_long),
		cmocka_unit_test(test_symlinks_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
