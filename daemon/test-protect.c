/* Link Protections: unit tests against the kernel's rules */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "protect.h"

#define TMP (S_IFDIR | S_ISVTX | 0777) /* /tmp */
#define ALICE 1000
#define BOB 1001

static void test_follow(void **state)
{
	struct dn_protect on = {.symlinks = 1}, off = {0};
	/* bob's link in root's /tmp: alice and root may not follow it, bob may */
	assert_int_equal(dn_protect_follow(&on, TMP, 0, BOB, ALICE), -EACCES);
	assert_int_equal(dn_protect_follow(&on, TMP, 0, BOB, 0), -EACCES);
	assert_int_equal(dn_protect_follow(&on, TMP, 0, BOB, BOB), 0);
	/* the directory's owner's own links are followed by all */
	assert_int_equal(dn_protect_follow(&on, TMP, BOB, BOB, ALICE), 0);
	/* not sticky, or not world-writable: no rule */
	assert_int_equal(dn_protect_follow(&on, S_IFDIR | 0777, 0, BOB, ALICE), 0);
	assert_int_equal(dn_protect_follow(&on, S_IFDIR | S_ISVTX | 0775, 0, BOB, ALICE), 0);
	assert_int_equal(dn_protect_follow(&off, TMP, 0, BOB, ALICE), 0);
}

static void test_create(void **state)
{
	struct dn_protect one = {.regular = 1, .fifos = 1}, two = {.regular = 2, .fifos = 2},
			  off = {0};
	mode_t reg = S_IFREG | 0666, fifo = S_IFIFO | 0666, sock = S_IFSOCK | 0666;
	mode_t group_sticky = S_IFDIR | S_ISVTX | 0770;
	assert_int_equal(dn_protect_create(&one, TMP, 0, reg, BOB, ALICE), -EACCES);
	assert_int_equal(dn_protect_create(&one, TMP, 0, fifo, BOB, 0), -EACCES);
	assert_int_equal(dn_protect_create(&one, TMP, 0, reg, ALICE, ALICE), 0);
	assert_int_equal(dn_protect_create(&one, TMP, BOB, reg, BOB, ALICE), 0);
	assert_int_equal(dn_protect_create(&off, TMP, 0, reg, BOB, ALICE), 0);
	/* other types are protected whatever the sysctls say */
	assert_int_equal(dn_protect_create(&off, TMP, 0, sock, BOB, ALICE), -EACCES);
	/* group-writable sticky directories: only at level 2 */
	assert_int_equal(dn_protect_create(&one, group_sticky, 0, reg, BOB, ALICE), 0);
	assert_int_equal(dn_protect_create(&two, group_sticky, 0, reg, BOB, ALICE), -EACCES);
	assert_int_equal(dn_protect_create(&two, S_IFDIR | 0777, 0, reg, BOB, ALICE), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_follow),
		cmocka_unit_test(test_create),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
