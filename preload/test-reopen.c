/* Reopen Records tests */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include <cmocka.h>

#include "client.h"
#include "reopen.h"

/* The library's client, reduced to the session table the records are indexed as. */
struct dn_client dn_client;

#define NOFDS 64
struct session_mem {
	struct dn_shm_header h;
	struct dn_ofd ofds[NOFDS];
};
static struct session_mem session;

static int setup(void **state)
{
	(void)state;
	memset(&session, 0, sizeof(session));
	dn_client.chan.base = &session;
	dn_client.chan.l.nofds = NOFDS;
	dn_client.chan.l.ofds_off = offsetof(struct session_mem, ofds);
	return 0;
}

static void open_at(int32_t ofd, uint64_t handle, const char *path, uint64_t base, int32_t dir)
{
	struct dn_target t = {.handle = base, .dir_ofd = dir};
	strcpy(t.path, path);
	session.ofds[ofd].handle = handle;
	dn_reopen_note_open(ofd, handle, &t, base, O_RDWR | O_CREAT | O_TRUNC, 42, 7);
}

static bool locked(int32_t ofd, uint64_t handle)
{
	struct dn_reopen_info i;
	assert_true(dn_reopen_get(ofd, handle, &i));
	return i.locked;
}

static void test_open_record(void **state)
{
	(void)state;
	open_at(1, 100, "/dir", 0, 0);
	open_at(2, 200, "sub/f", 100, 1);
	struct dn_reopen_info i;
	assert_true(dn_reopen_get(2, 200, &i));
	assert_string_equal(i.path, "/dir/sub/f"); /* joined with its directory's */
	assert_int_equal(i.oflags, O_RDWR);        /* never created or emptied again */
	assert_int_equal(i.ino, 42);
	assert_int_equal(i.dev, 7);
	assert_false(dn_reopen_get(2, 201, &i)); /* another description's handle */
	/* relative to a directory whose record is not that handle's: none */
	open_at(3, 300, "g", 999, 1);
	assert_false(dn_reopen_get(3, 300, &i));
	/* a path longer than the inline room */
	char longp[3000] = "/";
	memset(longp + 1, 'x', sizeof(longp) - 2);
	open_at(4, 400, longp, 0, 0);
	assert_true(dn_reopen_get(4, 400, &i));
	assert_string_equal(i.path, longp);
}

/* SQLite's pattern: shared, reserved, pending, exclusive ranges taken and released. */
static void test_lock_ranges(void **state)
{
	(void)state;
	open_at(5, 500, "/db", 0, 0);
	assert_false(locked(5, 500));
	dn_reopen_note_lock(5, 500, F_RDLCK, 1073741824 + 2, 510); /* SHARED */
	assert_true(locked(5, 500));
	dn_reopen_note_lock(5, 500, F_WRLCK, 1073741824 + 1, 1); /* RESERVED */
	dn_reopen_note_lock(5, 500, F_WRLCK, 1073741824, 1);     /* PENDING */
	dn_reopen_note_lock(5, 500, F_UNLCK, 1073741824 + 1, 1);
	dn_reopen_note_lock(5, 500, F_UNLCK, 1073741824, 1);
	assert_true(locked(5, 500));
	dn_reopen_note_lock(5, 500, F_UNLCK, 1073741824 + 2, 510);
	assert_false(locked(5, 500)); /* all released: it reopens */
	/* an unlock inside a range leaves both ends locked */
	dn_reopen_note_lock(5, 500, F_WRLCK, 0, 100);
	dn_reopen_note_lock(5, 500, F_UNLCK, 10, 10);
	assert_true(locked(5, 500));
	dn_reopen_note_lock(5, 500, F_UNLCK, 0, 10);
	assert_true(locked(5, 500));
	dn_reopen_note_lock(5, 500, F_UNLCK, 20, 80);
	assert_false(locked(5, 500));
	/* to the end of the file (len 0), released by a whole-file unlock */
	dn_reopen_note_lock(5, 500, F_WRLCK, 4096, 0);
	dn_reopen_note_lock(5, 500, F_UNLCK, 0, 4096);
	assert_true(locked(5, 500));
	dn_reopen_note_lock(5, 500, F_UNLCK, 0, 0);
	assert_false(locked(5, 500));
	/* more ranges than kept: "may hold a lock" until the whole file is unlocked */
	for (uint64_t k = 0; k < 20; k++)
		dn_reopen_note_lock(5, 500, F_RDLCK, k * 10, 5);
	for (uint64_t k = 0; k < 20; k++)
		dn_reopen_note_lock(5, 500, F_UNLCK, k * 10, 5);
	assert_true(locked(5, 500));
	dn_reopen_note_lock(5, 500, F_UNLCK, 0, 0);
	assert_false(locked(5, 500));
	/* flock */
	dn_reopen_note_flock(5, 500, LOCK_EX | LOCK_NB);
	assert_true(locked(5, 500));
	dn_reopen_note_flock(5, 500, LOCK_UN);
	assert_false(locked(5, 500));
}

static void test_restart(void **state)
{
	(void)state;
	open_at(6, 600, "/a", 0, 0);
	open_at(7, 700, "/b", 0, 0);
	dn_reopen_note_lock(7, 700, F_WRLCK, 0, 0);
	dn_reopen_note_written(6);
	dn_reopen_restart_begin();
	dn_reopen_reset(6, 600, 601, true);
	dn_reopen_reset(7, 700, DN_HANDLE_STALE, true);
	assert_int_equal(dn_reopen_successor(600), 601);
	assert_int_equal(dn_reopen_successor(700), DN_HANDLE_STALE);
	assert_int_equal(dn_reopen_successor(800), 0);
	assert_false(locked(6, 601));
	/* what the dead pool's cache held is the next fsync's error, once */
	assert_int_equal(dn_reopen_synced(6), -EIO);
	assert_int_equal(dn_reopen_synced(6), 0);
	/* a later restart forgets the earlier one's handles */
	dn_reopen_restart_begin();
	assert_int_equal(dn_reopen_successor(600), 0);
}

static void test_env(void **state)
{
	(void)state;
	open_at(8, 800, "/with, comma:and\nnewline", 0, 0);
	dn_reopen_note_lock(8, 800, F_RDLCK, 0, 1);
	open_at(9, 900, "/plain", 0, 0);
	char env[512];
	size_t n = dn_reopen_env_put(8, env, sizeof(env));
	assert_true(n > 0 && n <= dn_reopen_env_size(8));
	n += dn_reopen_env_put(9, env + n, sizeof(env) - n);
	char small[10];
	assert_int_equal(dn_reopen_env_put(9, small, sizeof(small)), 0); /* no room: nothing */
	/* a new image: its table holds the same descriptions, its records nothing yet */
	dn_reopen_restart_begin();
	dn_reopen_reset(8, 0, 0, false);
	dn_reopen_reset(9, 0, 0, false);
	struct dn_reopen_info i;
	assert_false(dn_reopen_get(8, 800, &i));
	dn_reopen_env_take(env);
	assert_true(dn_reopen_get(8, 800, &i));
	assert_string_equal(i.path, "/with, comma:and\nnewline");
	assert_true(i.locked);
	assert_int_equal(i.ino, 42);
	assert_true(dn_reopen_get(9, 900, &i));
	assert_string_equal(i.path, "/plain");
	assert_false(i.locked);
	/* garbage and relative paths are left alone */
	dn_reopen_reset(9, 0, 0, false);
	dn_reopen_env_take("9,1,1,0,0,3:abc");
	assert_false(dn_reopen_get(9, 900, &i));
	dn_reopen_env_take("9,1,1,0,0,999:/x");
	assert_false(dn_reopen_get(9, 900, &i));
	dn_reopen_env_take("junk");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_open_record, setup),
		cmocka_unit_test_setup(test_lock_ranges, setup),
		cmocka_unit_test_setup(test_restart, setup),
		cmocka_unit_test_setup(test_env, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
