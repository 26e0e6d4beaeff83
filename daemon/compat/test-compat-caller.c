/* Compat Caller tests: groups from /proc status text, and who a request's thread is */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "compat-caller.h"
#include "peer.h"

static void test_groups_parse(void **state)
{
	gid_t g[4];
	const char *text = "Name:\tx\nUid:\t1\t1\t1\t1\nGroups:\t4 24 27 1000 \nNgid:\t0\n";
	assert_int_equal(dn_proc_status_groups(text, g, 4), 4);
	assert_int_equal(g[0], 4);
	assert_int_equal(g[3], 1000);
	assert_int_equal(dn_proc_status_groups(text, g, 3), -E2BIG);
	assert_int_equal(dn_proc_status_groups("Name:\tx\nGroups:\t\nNgid:\t0\n", g, 4), 0);
	assert_int_equal(dn_proc_status_groups("Name:\tx\nNgid:\t0\n", g, 4), -ENOENT);
	/* the line only where a line starts: "XGroups:" is not it */
	assert_int_equal(dn_proc_status_groups("Name:\tx\nXGroups:\t5\n", g, 4), -ENOENT);
}

/* This thread asks as itself: what its own status says. */
static void test_caller_is_this_thread(void **state)
{
	struct dn_cred c;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	char text[8192];
	assert_int_equal(dn_proc_status_read(tid, text, sizeof(text)), 0);
	struct dn_proc_status st;
	dn_proc_status_parse(text, &st);
	gid_t groups[64];
	int n = getgroups(64, groups);

	assert_int_equal(dn_compat_caller(tid, geteuid(), getegid(), false, &c), 0);
	assert_int_equal(c.uid, geteuid());
	assert_int_equal(c.gid, getegid());
	assert_int_equal(c.caps, st.cap_eff);
	assert_int_equal((int)c.ngroups, n);
	assert_memory_equal(c.groups, groups, (size_t)n * sizeof(gid_t));

	/* access(2) arrives with the real ids: root's permitted set, anyone else none */
	assert_int_equal(dn_compat_caller(tid, getuid(), getgid(), true, &c), 0);
	assert_int_equal(c.caps, getuid() == 0 ? st.cap_prm : 0);
}

/*
 * Root acting as another fsuid (seteuid, setfsuid): access(2)'s walk comes
 * with the real ids, chdir's FUSE_ACCESS with the filesystem ones; both
 * are this thread, with its groups.
 */
static void test_caller_real_or_fs_ids(void **state)
{
	if (getuid() != 0) {
		print_message("test_caller_real_or_fs_ids: needs root (setfsuid): not run\n");
		return;
	}
	struct dn_cred c;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	int n = getgroups(0, NULL);
	syscall(SYS_setfsuid, 4242);
	char text[8192];
	assert_int_equal(dn_proc_status_read(tid, text, sizeof(text)), 0);
	struct dn_proc_status st;
	dn_proc_status_parse(text, &st);

	assert_int_equal(dn_compat_caller(tid, 0, getgid(), false, &c), 0);
	assert_int_equal(c.caps, st.cap_prm);
	assert_int_equal((int)c.ngroups, n);
	assert_int_equal(dn_compat_caller(tid, 4242, getgid(), true, &c), 0);
	assert_int_equal(c.caps, st.cap_eff);
	assert_int_equal((int)c.ngroups, n);
	syscall(SYS_setfsuid, 0);
}

/* Ids the thread does not have, no thread, unmapped ids: nothing but the ids. */
static void test_caller_unproven(void **state)
{
	struct dn_cred c;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	assert_int_equal(dn_compat_caller(tid, geteuid() + 1, getegid(), false, &c), 0);
	assert_int_equal(c.uid, geteuid() + 1);
	assert_int_equal(c.caps, 0);
	assert_int_equal(c.ngroups, 0);
	assert_int_equal(dn_compat_caller(0, 0, 0, false, &c), 0);
	assert_int_equal(c.caps, 0);
	assert_int_equal(c.ngroups, 0);
	assert_int_equal(dn_compat_caller(tid, (uid_t)-1, 0, false, &c), -EACCES);
	assert_int_equal(dn_compat_caller(tid, 0, (gid_t)-1, false, &c), -EACCES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_groups_parse),
		cmocka_unit_test(test_caller_is_this_thread),
		cmocka_unit_test(test_caller_real_or_fs_ids),
		cmocka_unit_test(test_caller_unproven),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
