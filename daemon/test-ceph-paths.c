/* Ceph Walked Paths tests: lookups, bounds and forgetting, with libcephfs's put counted */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ceph-paths.h"

#define INODES 6000
static char inode_space[INODES];
static unsigned put_count[INODES];

static struct Inode *ino(unsigned i)
{
	return (struct Inode *)&inode_space[i];
}

/* Stands in for libcephfs: counts the references handed back. */
int ceph_ll_put(struct ceph_mount_info *cm, struct Inode *in)
{
	(void)cm;
	put_count[(char *)in - inode_space]++;
	return 0;
}

static struct dn_ceph_paths *paths_new(double timeout)
{
	memset(put_count, 0, sizeof(put_count));
	struct dn_ceph_paths *p = dn_ceph_paths_new(NULL, ino(0), 1, timeout);
	assert_non_null(p);
	return p;
}

/* A walk from the root that went through /a (inode 1) and /a/b (inode 2). */
static void add_ab(struct dn_ceph_paths *p, uint64_t gen)
{
	size_t ends[] = {2, 4};
	struct Inode *ins[] = {ino(1), ino(2)};
	uint64_t inos[] = {101, 102};
	dn_ceph_paths_add_walk(p, gen, "/a/b", ends, ins, inos, 2);
}

static void paths_done(struct dn_ceph_paths *p)
{
	dn_ceph_paths_close(p);
	dn_ceph_paths_free(p);
}

static void test_off_at_zero(void **state)
{
	assert_null(dn_ceph_paths_new(NULL, ino(0), 1, 0));
}

static void test_deepest_directory_with_a_name_left(void **state)
{
	struct dn_ceph_paths *p = paths_new(60);
	add_ab(p, dn_ceph_paths_generation(p));
	const char *rest;
	unsigned depth;
	struct dn_ceph_dir *d = dn_ceph_paths_find(p, "/a//b/c/../d", &rest, &depth);
	assert_non_null(d);
	assert_ptr_equal(dn_ceph_dir_inode(d), ino(2));
	assert_ptr_equal(dn_ceph_dir_inode(dn_ceph_dir_parent(d)), ino(1));
	assert_null(dn_ceph_dir_parent(dn_ceph_dir_parent(d)));
	assert_string_equal(rest, "/c/../d");
	assert_int_equal(depth, 2);
	dn_ceph_paths_release(p, d);
	/* b is the last component: its own walk looks it up */
	d = dn_ceph_paths_find(p, "/a/b/", &rest, &depth);
	assert_ptr_equal(dn_ceph_dir_inode(d), ino(1));
	assert_string_equal(rest, "/b/");
	dn_ceph_paths_release(p, d);
	/* "." and ".." end the plain prefix */
	d = dn_ceph_paths_find(p, "/a/./b/c", &rest, &depth);
	assert_ptr_equal(dn_ceph_dir_inode(d), ino(1));
	assert_string_equal(rest, "/./b/c");
	dn_ceph_paths_release(p, d);
	assert_null(dn_ceph_paths_find(p, "/../a/b/c", &rest, &depth));
	assert_null(dn_ceph_paths_find(p, "/x/b/c", &rest, &depth));
	assert_int_equal(put_count[1] + put_count[2], 0);
	paths_done(p);
	assert_int_equal(put_count[1], 1);
	assert_int_equal(put_count[2], 1);
}

static void test_forgetting_a_name_ends_all_below(void **state)
{
	struct dn_ceph_paths *p = paths_new(60);
	add_ab(p, dn_ceph_paths_generation(p));
	dn_ceph_paths_forget_name(p, ino(0), "a");
	const char *rest;
	unsigned depth;
	assert_null(dn_ceph_paths_find(p, "/a/b/c", &rest, &depth));
	assert_int_equal(put_count[1], 1);
	assert_int_equal(put_count[2], 1);
	paths_done(p);
	assert_int_equal(put_count[1], 1);
	assert_int_equal(put_count[2], 1);
}

static void test_libcephfs_dentry_and_release(void **state)
{
	struct dn_ceph_paths *p = paths_new(60);
	const char *rest;
	unsigned depth;
	add_ab(p, dn_ceph_paths_generation(p));
	dn_ceph_paths_forget_dentry(p, 101, 0, "b", 1); /* b in a */
	struct dn_ceph_dir *d = dn_ceph_paths_find(p, "/a/b/c", &rest, &depth);
	assert_ptr_equal(dn_ceph_dir_inode(d), ino(1));
	dn_ceph_paths_release(p, d);
	dn_ceph_paths_forget_ino(p, 101);
	assert_null(dn_ceph_paths_find(p, "/a/b/c", &rest, &depth));
	paths_done(p);
	assert_int_equal(put_count[1], 1);
	assert_int_equal(put_count[2], 1);
}

static void test_a_change_during_the_walk_keeps_it_out(void **state)
{
	struct dn_ceph_paths *p = paths_new(60);
	uint64_t gen = dn_ceph_paths_generation(p);
	dn_ceph_paths_forget_name(p, ino(0), "zzz");
	add_ab(p, gen);
	const char *rest;
	unsigned depth;
	assert_null(dn_ceph_paths_find(p, "/a/b/c", &rest, &depth));
	assert_int_equal(put_count[1], 1); /* handed back at once */
	assert_int_equal(put_count[2], 1);
	paths_done(p);
}

static void test_entries_expire(void **state)
{
	struct dn_ceph_paths *p = paths_new(0.05);
	add_ab(p, dn_ceph_paths_generation(p));
	const char *rest;
	unsigned depth;
	struct dn_ceph_dir *d = dn_ceph_paths_find(p, "/a/b/c", &rest, &depth);
	assert_non_null(d);
	dn_ceph_paths_release(p, d);
	nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
	assert_null(dn_ceph_paths_find(p, "/a/b/c", &rest, &depth));
	paths_done(p);
	assert_int_equal(put_count[1], 1);
	assert_int_equal(put_count[2], 1);
}

/* A walk's entry keeps its inode while forgotten, until released. */
static void test_in_use_outlives_forgetting(void **state)
{
	struct dn_ceph_paths *p = paths_new(60);
	add_ab(p, dn_ceph_paths_generation(p));
	const char *rest;
	unsigned depth;
	struct dn_ceph_dir *d = dn_ceph_paths_find(p, "/a/b/c", &rest, &depth);
	dn_ceph_paths_close(p);
	assert_int_equal(put_count[2], 0);
	assert_int_equal(put_count[1], 0);
	assert_ptr_equal(dn_ceph_dir_inode(dn_ceph_dir_parent(d)), ino(1));
	dn_ceph_paths_release(p, d);
	assert_int_equal(put_count[2], 1);
	assert_int_equal(put_count[1], 1);
	/* closed: nothing is added any more */
	add_ab(p, dn_ceph_paths_generation(p));
	assert_int_equal(put_count[1], 2);
	dn_ceph_paths_free(p);
}

static void test_bounded_in_entries(void **state)
{
	struct dn_ceph_paths *p = paths_new(60);
	for (unsigned i = 1; i < INODES; i++) {
		char key[16];
		size_t end = (size_t)snprintf(key, sizeof(key), "/d%u", i);
		struct Inode *in = ino(i);
		uint64_t n = i;
		dn_ceph_paths_add_walk(p, dn_ceph_paths_generation(p), key, &end, &in, &n, 1);
	}
	unsigned evicted = 0;
	for (unsigned i = 1; i < INODES; i++)
		evicted += put_count[i];
	assert_true(evicted >= INODES - 1 - 4096);
	assert_true(evicted < INODES - 1);
	const char *rest;
	unsigned depth;
	assert_null(dn_ceph_paths_find(p, "/d1/x", &rest, &depth)); /* the oldest went first */
	struct dn_ceph_dir *d = dn_ceph_paths_find(p, "/d5999/x", &rest, &depth);
	assert_non_null(d);
	dn_ceph_paths_release(p, d);
	paths_done(p);
	for (unsigned i = 1; i < INODES; i++)
		assert_int_equal(put_count[i], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_at_zero),
		cmocka_unit_test(test_deepest_directory_with_a_name_left),
		cmocka_unit_test(test_forgetting_a_name_ends_all_below),
		cmocka_unit_test(test_libcephfs_dentry_and_release),
		cmocka_unit_test(test_a_change_during_the_walk_keeps_it_out),
		cmocka_unit_test(test_entries_expire),
		cmocka_unit_test(test_in_use_outlives_forgetting),
		cmocka_unit_test(test_bounded_in_entries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
