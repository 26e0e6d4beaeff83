/* Descriptor Table tests */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "fdtable.h"

static void collect(int fd, int32_t ofd, void *arg)
{
	int *seen = arg;
	seen[0]++;
	seen[seen[0]] = fd * 100 + ofd;
}

static void test_fdmap_set_get_clear(void **state)
{
	dn_fdmap_clear();
	assert_int_equal(dn_fdmap_get(-1), -1);
	assert_int_equal(dn_fdmap_get(3), -1);
	assert_int_equal(dn_fdmap_set(3, 0), 0);
	assert_int_equal(dn_fdmap_set(5000, 7), 0); /* second chunk */
	assert_int_equal(dn_fdmap_get(3), 0);
	assert_int_equal(dn_fdmap_get(5000), 7);
	assert_int_equal(dn_fdmap_get(4), -1);
	assert_int_equal(dn_fdmap_get(DN_FDMAP_CHUNK * DN_FDMAP_CHUNKS), -1);
	assert_int_equal(dn_fdmap_set(DN_FDMAP_CHUNK * DN_FDMAP_CHUNKS, 1), -EBADF);
	assert_int_equal(dn_fdmap_set(-2, 1), -EBADF);

	int seen[8] = {0};
	dn_fdmap_each(collect, seen);
	assert_int_equal(seen[0], 2);
	assert_int_equal(seen[1], 300);
	assert_int_equal(seen[2], 500007);

	assert_int_equal(dn_fdmap_set(3, -1), 0);
	assert_int_equal(dn_fdmap_get(3), -1);
	dn_fdmap_clear();
	assert_int_equal(dn_fdmap_get(5000), -1);
}

static void test_ofd_refcounts_like_dup_and_fork(void **state)
{
	struct dn_ofd t[4];
	memset(t, 0, sizeof(t));
	int32_t a = dn_ofd_alloc(t, 4, 11, 02, false);
	int32_t b = dn_ofd_alloc(t, 4, 12, 0, true);
	assert_true(a >= 0 && b >= 0 && a != b);
	assert_int_equal(t[a].handle, 11);
	assert_int_equal(t[b].is_dir, 1);
	dn_ofd_ref(t, 4, a); /* dup */
	dn_ofd_ref(t, 4, a); /* fork */
	assert_false(dn_ofd_unref(t, 4, a));
	assert_false(dn_ofd_unref(t, 4, a));
	assert_true(dn_ofd_unref(t, 4, a)); /* last close */
	assert_int_equal(atomic_load(&t[a].refs), 0);
	/* a freed entry is handed out again; out-of-range indexes are ignored */
	int32_t c = dn_ofd_alloc(t, 4, 13, 0, false);
	int32_t d = dn_ofd_alloc(t, 4, 14, 0, false);
	int32_t e = dn_ofd_alloc(t, 4, 15, 0, false);
	assert_true(c >= 0 && d >= 0 && e >= 0);
	assert_int_equal(dn_ofd_alloc(t, 4, 16, 0, false), -EMFILE);
	assert_false(dn_ofd_unref(t, 4, 9));
	assert_false(dn_ofd_unref(t, 4, -1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fdmap_set_get_clear),
		cmocka_unit_test(test_ofd_refcounts_like_dup_and_fork),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
