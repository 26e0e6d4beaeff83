/* Unit tests: the kernel's permission rules as the ceph backend applies them (vfs-perm.h) */
#include <errno.h>
#include <linux/capability.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "vfs-perm.h"

#define CAP(x) (1ull << (x))
static const struct dn_cred root = {.caps = CAP(CAP_DAC_OVERRIDE) | CAP(CAP_FOWNER) |
					    CAP(CAP_CHOWN) | CAP(CAP_FSETID)};
static const struct dn_cred root_nocaps = {.uid = 0};
static const struct dn_cred root_search = {.caps = CAP(CAP_DAC_READ_SEARCH)};
static const struct dn_cred alice = {.uid = 1000, .gid = 1000, .ngroups = 1, .groups = {50}};

static void test_root_without_caps(void **state)
{
	(void)state;
	assert_false(dn_vfs_root_without_caps(&root));
	assert_true(dn_vfs_root_without_caps(&root_nocaps));
	assert_true(dn_vfs_root_without_caps(&root_search));
	assert_false(dn_vfs_root_without_caps(&alice)); /* the library checks alice itself */
}

static void test_permission(void **state)
{
	(void)state;
	struct dn_vfs_attr secret = {.mode = S_IFREG | 0600, .uid = 1001, .gid = 1001};
	struct dn_vfs_attr group = {.mode = S_IFREG | 0640, .uid = 1001, .gid = 50};
	struct dn_vfs_attr noexec = {.mode = S_IFREG | 0666, .uid = 1001, .gid = 1001};
	struct dn_vfs_attr dir = {.mode = S_IFDIR | 0700, .uid = 1001, .gid = 1001};
	assert_int_equal(dn_vfs_permission(&alice, &secret, R_OK), -EACCES);
	assert_int_equal(dn_vfs_permission(&alice, &group, R_OK), 0);
	assert_int_equal(dn_vfs_permission(&alice, &group, W_OK), -EACCES);
	/* uid 0 is only the owner class without capabilities */
	assert_int_equal(dn_vfs_permission(&root_nocaps, &secret, R_OK), -EACCES);
	assert_int_equal(dn_vfs_permission(&root, &secret, R_OK | W_OK), 0);
	assert_int_equal(dn_vfs_permission(&root, &noexec, X_OK), -EACCES);
	assert_int_equal(dn_vfs_permission(&root, &dir, X_OK), 0);
	assert_int_equal(dn_vfs_permission(&root_search, &secret, R_OK), 0);
	assert_int_equal(dn_vfs_permission(&root_search, &secret, W_OK), -EACCES);
	assert_int_equal(dn_vfs_permission(&root_search, &dir, R_OK | X_OK), 0);
	assert_int_equal(dn_vfs_permission(&root_search, &noexec, X_OK), -EACCES);
}

/* An access ACL as getxattr gives it: version 2, then (tag, perm, id) entries. */
static size_t acl(uint8_t *buf, const unsigned (*e)[3], size_t n)
{
	buf[0] = 2, buf[1] = buf[2] = buf[3] = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = buf + 4 + 8 * i;
		p[0] = (uint8_t)e[i][0], p[1] = (uint8_t)(e[i][0] >> 8);
		p[2] = (uint8_t)e[i][1], p[3] = 0;
		p[4] = (uint8_t)e[i][2], p[5] = (uint8_t)(e[i][2] >> 8), p[6] = p[7] = 0;
	}
	return 4 + 8 * n;
}

/* posix_acl_permission: named users and groups under the mask; a matched group that refuses */
static void test_acl(void **state)
{
	(void)state;
	uint8_t b[4 + 8 * 8];
	/* user::rw- user:alice:--- group::r-- mask::r-- other::r-- on 0644 */
	const unsigned deny_alice[][3] = {{1, 6, 0}, {2, 0, 1000}, {4, 4, 0}, {0x10, 4, 0}, {0x20, 4, 0}};
	struct dn_vfs_attr f = {.mode = S_IFREG | 0644, .uid = 1001, .gid = 1001, .acl = b};
	f.acl_len = acl(b, deny_alice, 5);
	assert_int_equal(dn_vfs_permission(&alice, &f, R_OK), -EACCES); /* the mode alone says yes */
	assert_int_equal(dn_vfs_permission(&root, &f, R_OK), 0);          /* capabilities still */
	/* user::rw- group::--- group:50:rw- mask::r-- other::--- on 0640: the mask cuts w */
	const unsigned group50[][3] = {{1, 6, 0}, {4, 0, 0}, {8, 6, 50}, {0x10, 4, 0}, {0x20, 0, 0}};
	f.mode = S_IFREG | 0640;
	f.acl_len = acl(b, group50, 5);
	assert_int_equal(dn_vfs_permission(&alice, &f, R_OK), 0);
	assert_int_equal(dn_vfs_permission(&alice, &f, W_OK), -EACCES);
	/* a matched group that refuses is not saved by other:: */
	const unsigned refuse[][3] = {{1, 6, 0}, {4, 0, 0}, {8, 0, 50}, {0x10, 7, 0}, {0x20, 4, 0}};
	f.acl_len = acl(b, refuse, 5);
	assert_int_equal(dn_vfs_permission(&alice, &f, R_OK), -EACCES);
	/* the owner goes by the mode; a value that does not parse refuses the rest */
	f.uid = 1000;
	assert_int_equal(dn_vfs_permission(&alice, &f, R_OK | W_OK), 0);
	f.uid = 1001;
	f.acl_len = 3;
	assert_int_equal(dn_vfs_permission(&alice, &f, R_OK), -EACCES);
}

static void test_delete_and_owner(void **state)
{
	(void)state;
	struct dn_vfs_attr tmp = {.mode = S_IFDIR | 01777, .uid = 0, .gid = 0};
	struct dn_vfs_attr ro = {.mode = S_IFDIR | 0755, .uid = 1001, .gid = 1001};
	assert_int_equal(dn_vfs_may_delete(&alice, &tmp, 1000), 0);
	assert_int_equal(dn_vfs_may_delete(&alice, &tmp, 1001), -EPERM);
	assert_int_equal(dn_vfs_may_delete(&alice, &ro, 1000), -EACCES);
	assert_int_equal(dn_vfs_may_delete(&root_nocaps, &ro, 0), -EACCES);
	assert_int_equal(dn_vfs_may_delete(&root, &tmp, 1001), 0);

	struct dn_vfs_attr hers = {.mode = S_IFREG | 02755, .uid = 1000, .gid = 1000};
	struct dn_vfs_attr his = {.mode = S_IFREG | 0644, .uid = 1001, .gid = 1001};
	assert_int_equal(dn_vfs_may_chown(&alice, &hers, (uid_t)-1, 50), 0);
	assert_int_equal(dn_vfs_may_chown(&alice, &hers, (uid_t)-1, 60), -EPERM);
	assert_int_equal(dn_vfs_may_chown(&alice, &hers, 1001, (gid_t)-1), -EPERM);
	assert_int_equal(dn_vfs_may_chown(&alice, &hers, 1000, (gid_t)-1), 0);
	assert_int_equal(dn_vfs_may_chown(&root_nocaps, &his, 0, (gid_t)-1), -EPERM);
	assert_int_equal(dn_vfs_may_chown(&root, &his, 0, 0), 0);
	mode_t m = 02755;
	assert_int_equal(dn_vfs_may_chmod(&root_nocaps, &his, &m), -EPERM);
	struct dn_vfs_attr other_group = {.mode = S_IFREG | 0644, .uid = 1000, .gid = 60};
	assert_int_equal(dn_vfs_may_chmod(&alice, &other_group, &m), 0);
	assert_int_equal(m, 0755);
	assert_int_equal(dn_vfs_may_utimes(&alice, &his, false), -EPERM);
	assert_int_equal(dn_vfs_may_utimes(&alice, &his, true), -EACCES);
	struct dn_vfs_attr shared = {.mode = S_IFREG | 0666, .uid = 1001, .gid = 1001};
	assert_int_equal(dn_vfs_may_utimes(&alice, &shared, true), 0);
}

static void test_link_create_xattr(void **state)
{
	(void)state;
	struct dn_vfs_attr his = {.mode = S_IFREG | 0644, .uid = 1001, .gid = 1001};
	struct dn_vfs_attr shared = {.mode = S_IFREG | 0666, .uid = 1001, .gid = 1001};
	struct dn_vfs_attr setuid = {.mode = S_IFREG | 04777, .uid = 1001, .gid = 1001};
	assert_int_equal(dn_vfs_may_link(&alice, &his, 1), -EPERM);
	assert_int_equal(dn_vfs_may_link(&alice, &his, 0), 0);
	assert_int_equal(dn_vfs_may_link(&alice, &shared, 1), 0);
	assert_int_equal(dn_vfs_may_link(&alice, &setuid, 1), -EPERM);

	assert_int_equal(dn_vfs_create_mode(&alice, S_IFREG | 02755, 60), S_IFREG | 0755);
	assert_int_equal(dn_vfs_create_mode(&alice, S_IFREG | 02755, 50), S_IFREG | 02755);
	assert_int_equal(dn_vfs_create_mode(&alice, S_IFREG | 02745, 60), S_IFREG | 02745);
	assert_int_equal(dn_vfs_create_mode(&root, S_IFREG | 02755, 60), S_IFREG | 02755);

	struct dn_vfs_attr fifo = {.mode = S_IFIFO | 0666, .uid = 1000, .gid = 1000};
	struct dn_vfs_attr tmp = {.mode = S_IFDIR | 01777, .uid = 0, .gid = 0};
	assert_int_equal(dn_vfs_xattr_permission(&root, &fifo, "user.a", true, false), -EPERM);
	assert_int_equal(dn_vfs_xattr_permission(&root, &fifo, "user.a", false, false), -ENODATA);
	assert_int_equal(dn_vfs_xattr_permission(&alice, &tmp, "user.a", true, true), -EPERM);
	assert_int_equal(dn_vfs_xattr_permission(&alice, &his, "user.a", true, true), -EACCES);
	assert_int_equal(dn_vfs_xattr_permission(&alice, &his, "user.a", false, true), 0);
	assert_int_equal(dn_vfs_xattr_permission(&root_nocaps, &his, "system.posix_acl_access",
						 true, true),
			 -EPERM);
	assert_int_equal(dn_vfs_xattr_permission(&alice, &his, "security.x", true, true), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_without_caps),
		cmocka_unit_test(test_permission),
		cmocka_unit_test(test_acl),
		cmocka_unit_test(test_delete_and_owner),
		cmocka_unit_test(test_link_create_xattr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
