/* Crowd tests: the verdict, the window's count of distinct clients, and which requests wake lock waiters */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include <cmocka.h>

#include "crowd.h"
#include "lock-wake.h"

static void test_one_client_may_spin(void **state)
{
	(void)state;
	assert_false(dn_crowd_verdict(0, 2, 2));
	assert_false(dn_crowd_verdict(1, 2, 2));
	assert_false(dn_crowd_verdict(1, 1, 1)); /* alone, it has nobody to hold off */
}

/* Each client thread spins on a CPU, and each one served keeps a worker running. */
static void test_clients_and_workers_beyond_the_cpus_crowd(void **state)
{
	(void)state;
	assert_true(dn_crowd_verdict(2, 2, 2));
	assert_true(dn_crowd_verdict(16, 2, 2));
	assert_false(dn_crowd_verdict(2, 4, 2));
	assert_true(dn_crowd_verdict(3, 4, 2));
	assert_false(dn_crowd_verdict(4, 8, 4));
}

static void test_window_counts_distinct_threads(void **state)
{
	(void)state;
	struct dn_pool_state pub;
	memset(&pub, 0, sizeof(pub));
	struct dn_crowd c;
	setenv("DANAUS_CROWD", "1", 1);
	dn_crowd_init(&c, &pub, 2, 2);
	uint64_t t = 1000000000ull;
	dn_crowd_note(&c, 1, t); /* the first note closes the empty window before it */
	for (int i = 0; i < 100; i++)
		dn_crowd_note(&c, 7ull << 32 | 1, t + 1000);
	dn_crowd_note(&c, 7ull << 32 | 1, t + CROWD_WINDOW_NS + 1);
	assert_int_equal(atomic_load(&pub.clients), 1);
	assert_int_equal(atomic_load(&pub.crowded), 0);
	for (uint64_t k = 1; k <= 8; k++)
		dn_crowd_note(&c, k << 32 | 1, t + CROWD_WINDOW_NS + 10);
	dn_crowd_note(&c, 1, t + 2 * CROWD_WINDOW_NS + 20);
	assert_true(atomic_load(&pub.clients) >= 6); /* colliding keys may count once */
	/* one window over is a hand-over between processes as often as a crowd */
	assert_int_equal(atomic_load(&pub.crowded), 0);
	for (uint64_t k = 1; k <= 8; k++)
		dn_crowd_note(&c, k << 32 | 1, t + 2 * CROWD_WINDOW_NS + 30);
	dn_crowd_note(&c, 1, t + 3 * CROWD_WINDOW_NS + 40);
	assert_int_equal(atomic_load(&pub.crowded), 1);
	/* a quiet window again: spinning pays */
	dn_crowd_note(&c, 1, t + 4 * CROWD_WINDOW_NS + 50);
	assert_int_equal(atomic_load(&pub.clients), 1);
	assert_int_equal(atomic_load(&pub.crowded), 0);
}

static void test_unlocks_wake_lock_waiters(void **state)
{
	(void)state;
	struct dn_req r = {.op = DN_OP_FLOCK, .mode = LOCK_UN};
	assert_true(dn_lock_wake_due(&r));
	r.mode = LOCK_EX;
	assert_false(dn_lock_wake_due(&r));
	struct dn_flock fl = {.type = F_UNLCK, .whence = SEEK_SET};
	struct dn_req p = {.op = DN_OP_LOCK, .oflags = F_SETLK, .payload_len = sizeof(fl)};
	memcpy(p.inl, &fl, sizeof(fl));
	assert_true(dn_lock_wake_due(&p));
	p.oflags = F_GETLK;
	assert_false(dn_lock_wake_due(&p));
	fl.type = F_WRLCK;
	memcpy(p.inl, &fl, sizeof(fl));
	p.oflags = F_SETLK;
	assert_false(dn_lock_wake_due(&p));
	p.payload_len = 3; /* what the dispatcher refuses wakes no one */
	assert_false(dn_lock_wake_due(&p));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_client_may_spin),
		cmocka_unit_test(test_clients_and_workers_beyond_the_cpus_crowd),
		cmocka_unit_test(test_window_counts_distinct_threads),
		cmocka_unit_test(test_unlocks_wake_lock_waiters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
