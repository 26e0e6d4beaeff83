/* Unit tests: one open file at a time maps a file shared and writable (map-owners.h) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "map-owners.h"

static void test_one_owner_per_file(void **state)
{
	(void)state;
	struct dn_map_owners *m = dn_map_owners_new();
	assert_non_null(m);
	int a, b;
	assert_int_equal(dn_map_owners_claim(m, 7, &a), 0);
	assert_int_equal(dn_map_owners_claim(m, 7, &a), 0); /* the same open file maps again */
	assert_int_equal(dn_map_owners_claim(m, 7, &b), -EAGAIN);
	assert_int_equal(dn_map_owners_claim(m, 8, &b), 0); /* another file */
	dn_map_owners_release(m, 7, &b);                     /* not b's: nothing changes */
	assert_int_equal(dn_map_owners_claim(m, 7, &b), -EAGAIN);
	dn_map_owners_release(m, 7, &a);
	assert_int_equal(dn_map_owners_claim(m, 7, &b), 0);
	for (uint64_t id = 100; id < 200; id++) /* grows */
		assert_int_equal(dn_map_owners_claim(m, id, &a), 0);
	assert_int_equal(dn_map_owners_claim(m, 150, &b), -EAGAIN);
	assert_null(dn_map_owners_free(m));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_owner_per_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
