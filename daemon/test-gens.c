/* Unit tests: which requests bump which generation of the clients' attribute caches */
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "gens.h"

static void test_kinds(void **state)
{
	(void)state;
	static const uint32_t reads[] = {
		DN_OP_NOP, DN_OP_STAT, DN_OP_FSTAT, DN_OP_ACCESS, DN_OP_READDIR, DN_OP_READLINK,
		DN_OP_FPATH, DN_OP_STATFS, DN_OP_GETXATTR, DN_OP_LISTXATTR, DN_OP_LOCK,
		DN_OP_FLOCK, DN_OP_FADVISE, DN_OP_SEEK, DN_OP_HANDOFF, DN_OP_CLOSE, DN_OP_PREAD,
		DN_OP_MAPFD};
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
		assert_int_equal(dn_gens_kind(reads[i], O_RDWR), DN_GENS_NONE);
	static const uint32_t data[] = {DN_OP_PWRITE, DN_OP_FTRUNCATE, DN_OP_FALLOCATE,
					DN_OP_FSYNC};
	for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++)
		assert_int_equal(dn_gens_kind(data[i], 0), DN_GENS_INODE);
	static const uint32_t names[] = {
		DN_OP_MKDIR, DN_OP_RMDIR, DN_OP_UNLINK, DN_OP_RENAME, DN_OP_TRUNCATE,
		DN_OP_CHMOD, DN_OP_FCHMOD, DN_OP_UTIMENS, DN_OP_CHOWN, DN_OP_SYMLINK,
		DN_OP_LINK, DN_OP_SETXATTR, DN_OP_REMOVEXATTR, DN_OP_MKNOD,
		DN_OP_MAX, DN_OP_MAX + 7, 0};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(dn_gens_kind(names[i], O_RDONLY), DN_GENS_NAMES);
	/* opens: only a plain read-only one changes nothing */
	assert_int_equal(dn_gens_kind(DN_OP_OPEN, O_RDONLY | O_DIRECTORY), DN_GENS_NONE);
	assert_int_equal(dn_gens_kind(DN_OP_OPEN, O_RDONLY | O_TRUNC), DN_GENS_NAMES);
	assert_int_equal(dn_gens_kind(DN_OP_OPEN, O_RDONLY | O_CREAT), DN_GENS_NAMES);
	assert_int_equal(dn_gens_kind(DN_OP_OPEN, O_WRONLY), DN_GENS_NAMES);
	assert_int_equal(dn_gens_kind(DN_OP_OPEN, O_RDWR), DN_GENS_NAMES);
	assert_int_equal(dn_gens_kind(DN_OP_OPEN, O_TMPFILE | O_RDWR), DN_GENS_NAMES);
	/* ioctls: lsattr, filefrag and cp ask, chattr changes */
	static const uint32_t asks[] = {FS_IOC_GETFLAGS, FS_IOC_GETVERSION, FS_IOC_FSGETXATTR,
					FS_IOC_FIEMAP};
	for (size_t i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
		assert_int_equal(dn_gens_kind(DN_OP_IOCTL, asks[i]), DN_GENS_NONE);
		assert_int_equal(dn_gens_kind_local(DN_OP_IOCTL, asks[i]), DN_GENS_NONE);
	}
	assert_int_equal(dn_gens_kind(DN_OP_IOCTL, FS_IOC_SETFLAGS), DN_GENS_NAMES);
	assert_int_equal(dn_gens_kind(DN_OP_IOCTL, FS_IOC_FSSETXATTR), DN_GENS_NAMES);
}

static void test_bumps(void **state)
{
	(void)state;
	struct dn_gens *g = calloc(1, sizeof(*g));
	assert_non_null(g);
	dn_gens_start(g, 0, false);
	assert_false(dn_gens_on());
	dn_gens_after(DN_OP_RENAME, 0, 0);
	assert_int_equal(g->names, 0); /* off: nobody caches, nothing to bump */

	dn_gens_start(g, 0.0001, false); /* rounds up: a timeout given is never off */
	assert_int_equal(g->attr_timeout_ms, 1);
	dn_gens_start(g, 2.5, false);
	assert_true(dn_gens_on());
	assert_int_equal(g->attr_timeout_ms, 2500);
	dn_gens_after(DN_OP_STAT, 0, 0);
	dn_gens_after(DN_OP_PREAD, 0, 42);
	assert_int_equal(g->names, 0);
	dn_gens_after(DN_OP_PWRITE, 0, 42);
	assert_int_equal(g->inode[dn_gen_inode_slot(42)], 1);
	assert_int_equal(g->names, 0);
	dn_gens_after(DN_OP_PWRITE, 0, 0); /* which inode not known: names */
	assert_int_equal(g->names, 1);
	dn_gens_after(DN_OP_CHMOD, 0, 42);
	assert_int_equal(g->names, 2);
	assert_int_equal(g->inode[dn_gen_inode_slot(42)], 1);
	dn_gens_start(g, 0, false);
	free(g);
}

/*
 * A local backend's kernel moves times at reads: a read bumps its inode, a
 * listing or readlink names, and so does any read-only op during which the
 * backend read (dn_gens_touch: a union following a symlink in a stat).
 */
static void test_local(void **state)
{
	(void)state;
	struct dn_gens *g = calloc(1, sizeof(*g));
	assert_non_null(g);
	assert_int_equal(dn_gens_kind_local(DN_OP_PREAD, 0), DN_GENS_INODE);
	assert_int_equal(dn_gens_kind_local(DN_OP_READDIR, 0), DN_GENS_NAMES);
	assert_int_equal(dn_gens_kind_local(DN_OP_READLINK, 0), DN_GENS_NAMES);
	assert_int_equal(dn_gens_kind_local(DN_OP_STAT, 0), DN_GENS_NONE);
	assert_int_equal(dn_gens_kind_local(DN_OP_PWRITE, 0), DN_GENS_INODE);
	assert_int_equal(dn_gens_kind_local(DN_OP_RENAME, 0), DN_GENS_NAMES);

	dn_gens_start(g, 1, true);
	assert_true(dn_gens_local());
	assert_true(dn_gens_keep(true));
	assert_false(dn_gens_keep(false)); /* a local direct instance keeps nothing */
	dn_gens_after(DN_OP_STAT, 0, 0);
	assert_int_equal(g->names, 0);
	dn_gens_after(DN_OP_PREAD, 0, 42);
	assert_int_equal(g->inode[dn_gen_inode_slot(42)], 1);
	assert_int_equal(g->names, 0);
	dn_gens_after(DN_OP_READDIR, 0, 0);
	assert_int_equal(g->names, 1);
	dn_gens_touch();
	dn_gens_after(DN_OP_STAT, 0, 0);
	assert_int_equal(g->names, 2);
	dn_gens_after(DN_OP_STAT, 0, 0); /* the touch was that request's only */
	assert_int_equal(g->names, 2);

	/* a mapped inode: its counter moves and says so for good */
	dn_gens_uncache(42);
	uint64_t v = g->inode[dn_gen_inode_slot(42)];
	assert_true(v & DN_GEN_UNCACHED);
	dn_gens_after(DN_OP_PWRITE, 0, 42);
	assert_true(g->inode[dn_gen_inode_slot(42)] & DN_GEN_UNCACHED);
	assert_int_not_equal(g->inode[dn_gen_inode_slot(42)], v);

	dn_gens_off();
	assert_int_equal(g->attr_timeout_ms, 0);
	assert_int_equal(g->names, 3);
	dn_gens_start(g, 0, false);
	assert_false(dn_gens_local());
	free(g);
}

/* A pool that stops ends every kept answer: its generations move no more. */
static void test_stop(void **state)
{
	(void)state;
	struct dn_gens *g = calloc(1, sizeof(*g));
	assert_non_null(g);
	dn_gens_start(g, 600, false);
	dn_gens_stop();
	assert_int_equal(g->attr_timeout_ms, 0);
	assert_int_equal(g->names, 1);
	assert_false(dn_gens_on());
	dn_gens_after(DN_OP_RENAME, 0, 0); /* nothing touches the memory after */
	assert_int_equal(g->names, 1);
	dn_gens_stop();
	assert_int_equal(g->names, 1);
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_bumps),
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
