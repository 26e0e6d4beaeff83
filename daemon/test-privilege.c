/* Privilege tests: xattr namespaces by capability, and reading a peer's /proc status */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <linux/capability.h>

#include <cmocka.h>

#include "peer.h"
#include "xattr-ns.h"

static const struct dn_cred alice = {.uid = 1000, .gid = 1000};
static const struct dn_cred admin = {.caps = 1ull << CAP_SYS_ADMIN};
static const struct dn_cred setfcap = {.caps = 1ull << CAP_SETFCAP};

static void test_trusted_needs_sys_admin(void **state)
{
	assert_int_equal(dn_xattr_may_get(&alice, "trusted.x"), -ENODATA);
	assert_int_equal(dn_xattr_may_change(&alice, "trusted.x"), -EPERM);
	assert_int_equal(dn_xattr_may_get(&admin, "trusted.x"), 0);
	assert_int_equal(dn_xattr_may_change(&admin, "trusted.x"), 0);
	assert_int_equal(dn_xattr_may_change(&setfcap, "trusted.x"), -EPERM);
}

static void test_security_names(void **state)
{
	assert_int_equal(dn_xattr_may_change(&alice, "security.capability"), -EPERM);
	assert_int_equal(dn_xattr_may_change(&setfcap, "security.capability"), 0);
	assert_int_equal(dn_xattr_may_change(&admin, "security.capability"), -EPERM);
	assert_int_equal(dn_xattr_may_change(&setfcap, "security.selinux"), -EPERM);
	assert_int_equal(dn_xattr_may_change(&admin, "security.selinux"), 0);
	/* reading security.* is the LSM's business, not a capability's */
	assert_int_equal(dn_xattr_may_get(&alice, "security.capability"), 0);
	assert_int_equal(dn_xattr_may_change(&alice, "user.x"), 0);
}

static void test_proc_status(void **state)
{
	const char *text = "Name:\tx\nUid:\t1000\t1001\t1002\t1003\nGid:\t5\t6\t7\t8\n"
			   "Groups:\t1 2\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\n"
			   "CapEff:\t00000000a80425fb\n";
	struct dn_proc_status st;
	dn_proc_status_parse(text, &st);
	assert_int_equal(st.found, 15);
	assert_int_equal(st.ruid, 1000);
	assert_int_equal(st.rgid, 5);
	assert_true(st.cap_prm == 0x1ffffffffffull);
	assert_int_equal(st.euid, 1001);
	assert_int_equal(st.fsuid, 1003);
	assert_int_equal(st.egid, 6);
	assert_int_equal(st.fsgid, 8);
	assert_true(st.cap_eff == 0xa80425fbull);
	dn_proc_status_parse("Uid:\tgarbage\n", &st);
	assert_int_equal(st.found, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trusted_needs_sys_admin),
		cmocka_unit_test(test_security_names),
		cmocka_unit_test(test_proc_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
