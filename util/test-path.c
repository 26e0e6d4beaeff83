/* Path Strings: unit tests */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "path.h"

static void test_concat(void **state)
{
	char out[16];
	assert_int_equal(dn_path_concat("/a", "b/../c/", out, sizeof(out)), 10);
	assert_string_equal(out, "/a/b/../c/");
	assert_int_equal(dn_path_concat("/", "x", out, sizeof(out)), 2);
	assert_string_equal(out, "/x");
	assert_int_equal(dn_path_concat("/a", "/abs/./", out, sizeof(out)), 7);
	assert_string_equal(out, "/abs/./");
	assert_int_equal(dn_path_concat("/abcdefgh", "ijklmnop", out, sizeof(out)), -ENAMETOOLONG);
}

/* under(path) below "/mnt/p", or NULL when not */
static const char *under(const char *path)
{
	static char out[64];
	int r = dn_path_under(path, "/mnt/p", 6, out, sizeof(out));
	return r == 1 ? out : r == 0 ? NULL : "error";
}

static void test_under(void **state)
{
	assert_string_equal(under("/mnt/p"), "/");
	assert_string_equal(under("/mnt/p/"), "/");
	assert_string_equal(under("/mnt/p/."), "/.");
	assert_string_equal(under("/mnt/p/a/../b/"), "/a/../b/");
	assert_string_equal(under("/mnt/p/a/sub/../f"), "/a/sub/../f");
	assert_string_equal(under("/mnt/p/a/.."), "/a/..");
	/* entering from above: what follows the last entry */
	assert_string_equal(under("/mnt/x/../p/f"), "/f");
	assert_string_equal(under("/mnt/p/a/../../p/f/"), "/f/");
	assert_string_equal(under("//mnt//p//a"), "//a");
	assert_string_equal(under("/mnt/./p/a"), "/a");
	/* leaving it lexically: the kernel's */
	assert_null(under("/mnt/p/.."));
	assert_null(under("/mnt/p/a/../../x"));
	assert_null(under("/mnt/pq/a"));
	assert_null(under("/mnt"));
	assert_null(under("relative"));
	char big[100];
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = 0;
	assert_string_equal(under(big), "error");
}

static void test_oddities(void **state)
{
	assert_int_equal(dn_path_oddities("/a/b"), 0);
	assert_int_equal(dn_path_oddities("/a/b/"), 0);
	assert_int_equal(dn_path_oddities("a/b"), 0);
	assert_int_equal(dn_path_oddities("/.a/..b/.../c."), 0);
	assert_int_equal(dn_path_oddities("/a/.."), DN_PATH_DOTDOT);
	assert_int_equal(dn_path_oddities("../a"), DN_PATH_DOTDOT);
	assert_int_equal(dn_path_oddities("/a/../b"), DN_PATH_DOTDOT);
	assert_int_equal(dn_path_oddities("./a"), DN_PATH_DOT);
	assert_int_equal(dn_path_oddities("/a/./"), DN_PATH_DOT);
	assert_int_equal(dn_path_oddities("/a//b"), DN_PATH_SLASHES);
	assert_int_equal(dn_path_oddities("//"), DN_PATH_SLASHES);
	assert_int_equal(dn_path_oddities("/./../x//"), DN_PATH_DOT | DN_PATH_DOTDOT | DN_PATH_SLASHES);
}

static void test_last(void **state)
{
	struct dn_path_last l;
	dn_path_last("/a/b", &l);
	assert_int_equal(l.type, DN_LAST_NORM);
	assert_int_equal(l.dir_len, 3);
	assert_string_equal(l.name, "b");
	assert_int_equal(l.name_len, 1);
	assert_false(l.slash);

	dn_path_last("/a/sub//", &l);
	assert_int_equal(l.type, DN_LAST_NORM);
	assert_int_equal(l.dir_len, 3);
	assert_string_equal(l.name, "sub//");
	assert_int_equal(l.name_len, 3);
	assert_true(l.slash);

	dn_path_last("/a/.", &l);
	assert_int_equal(l.type, DN_LAST_DOT);
	dn_path_last("/a/../", &l);
	assert_int_equal(l.type, DN_LAST_DOTDOT);
	assert_true(l.slash);
	dn_path_last("/x", &l);
	assert_int_equal(l.dir_len, 1);
	dn_path_last("/..a", &l);
	assert_int_equal(l.type, DN_LAST_NORM);

	dn_path_last("//", &l);
	assert_int_equal(l.type, DN_LAST_ROOT);
	assert_int_equal(l.name_len, 0);
	dn_path_last("/", &l);
	assert_int_equal(l.type, DN_LAST_ROOT);
}

static void test_normalize(void **state)
{
	char out[32];
	assert_int_equal(dn_path_normalize("/a/./b/../c//", out, sizeof(out)), 4);
	assert_string_equal(out, "/a/c");
	assert_int_equal(dn_path_normalize("/..", out, sizeof(out)), 1);
	assert_string_equal(out, "/");
	assert_int_equal(dn_path_normalize("a", out, sizeof(out)), -EINVAL);
}

static void test_next(void **state)
{
	(void)state;
	char name[NAME_MAX + 1];
	bool last, must_dir;
	const char *at = "//a/bc//d/";
	assert_int_equal(dn_path_next(&at, name, &last, &must_dir), 1);
	assert_string_equal(name, "a");
	assert_false(last);
	assert_true(must_dir);
	assert_int_equal(dn_path_next(&at, name, &last, &must_dir), 1);
	assert_string_equal(name, "bc");
	assert_int_equal(dn_path_next(&at, name, &last, &must_dir), 1);
	assert_string_equal(name, "d");
	assert_true(last);
	assert_true(must_dir); /* "d/" */
	assert_string_equal(at, "/");
	assert_int_equal(dn_path_next(&at, name, &last, &must_dir), 0);
	at = "f";
	assert_int_equal(dn_path_next(&at, name, &last, &must_dir), 1);
	assert_true(last);
	assert_false(must_dir);
	char long_name[NAME_MAX + 3];
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	at = long_name;
	assert_int_equal(dn_path_next(&at, name, &last, &must_dir), -ENAMETOOLONG);
}

static void test_splice(void **state)
{
	(void)state;
	char buf[17] = "/lnk/rest";
	assert_int_equal(dn_path_splice(buf, sizeof(buf), "../t", buf + 4), 0);
	assert_string_equal(buf, "../t/rest");
	assert_int_equal(dn_path_splice(buf, sizeof(buf), "/abs/target", buf + 4), 0);
	assert_string_equal(buf, "/abs/target/rest");
	assert_int_equal(dn_path_splice(buf, sizeof(buf), "/longer/target", buf), -ENAMETOOLONG);
	assert_string_equal(buf, "/abs/target/rest"); /* left alone */
}

static void test_metrics_socket(void **state)
{
	(void)state;
	char buf[24];
	assert_int_equal(dn_path_metrics_socket("/run/danaus/t.sock", buf, sizeof(buf)), 21);
	assert_string_equal(buf, "/run/danaus/t.metrics");
	assert_int_equal(dn_path_metrics_socket("/x/pool", buf, sizeof(buf)), 15);
	assert_string_equal(buf, "/x/pool.metrics");
	assert_int_equal(dn_path_metrics_socket(".sock", buf, sizeof(buf)), 13);
	assert_string_equal(buf, ".sock.metrics");
	assert_int_equal(dn_path_metrics_socket("/a/very/long/name.sock", buf, sizeof(buf)),
			 -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concat),   cmocka_unit_test(test_under),
		cmocka_unit_test(test_oddities), cmocka_unit_test(test_last),
		cmocka_unit_test(test_normalize), cmocka_unit_test(test_next),
		cmocka_unit_test(test_splice),   cmocka_unit_test(test_metrics_socket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
