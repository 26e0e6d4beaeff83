/* Client Spin tests: when a waiting client polls on, and when it sleeps */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "spin.h"
#include "wire.h"

#define US 1000u
#define SPIN (20 * US)

static const uint64_t awake_on_1 = (uint64_t)2 << 32; /* CPU 1 (+ 1), not sleeping */

static void test_sleeps_after_spin_ns(void **state)
{
	struct dn_spin sp;
	dn_spin_begin(&sp, 0, awake_on_1);
	assert_int_equal(dn_spin_look(&sp, 10 * US, awake_on_1, SPIN), DN_SPIN_ON);
	assert_int_equal(dn_spin_look(&sp, SPIN, awake_on_1, SPIN), DN_SPIN_ON);
	assert_int_equal(dn_spin_look(&sp, SPIN + 1, awake_on_1, SPIN), DN_SPIN_SLEEP);
}

static void test_progress_renews_the_spin(void **state)
{
	struct dn_spin sp;
	dn_spin_begin(&sp, 0, awake_on_1);
	dn_spin_renew(&sp, 100 * US);
	assert_int_equal(dn_spin_look(&sp, 115 * US, awake_on_1, SPIN), DN_SPIN_ON);
	assert_int_equal(dn_spin_look(&sp, 121 * US, awake_on_1, SPIN), DN_SPIN_SLEEP);
}

/* A worker woken by the doorbell takes ~0.1-0.3 ms to run on a halted vCPU. */
static void test_polls_on_while_the_worker_wakes(void **state)
{
	uint64_t asleep = dn_worker_word(2, 1);
	struct dn_spin sp;
	dn_spin_begin(&sp, 0, asleep);
	assert_int_equal(dn_spin_look(&sp, 300 * US, asleep, SPIN), DN_SPIN_ON);
	assert_int_equal(dn_spin_look(&sp, DN_WORKER_SETTLE_NS - 1, asleep, SPIN), DN_SPIN_ON);
	assert_int_equal(dn_spin_look(&sp, DN_WORKER_SETTLE_NS, asleep, SPIN), DN_SPIN_SLEEP);
}

static void test_polls_on_while_the_worker_moves(void **state)
{
	uint64_t moving = dn_worker_word(DN_WORKER_MOVING, 0);
	struct dn_spin sp;
	dn_spin_begin(&sp, 0, awake_on_1);
	assert_int_equal(dn_spin_look(&sp, 10 * US, moving, SPIN), DN_SPIN_RENEWED);
	assert_int_equal(dn_spin_look(&sp, 500 * US, moving, SPIN), DN_SPIN_ON);
	/* arrived on CPU 0: a fresh spin from there */
	uint64_t arrived = dn_worker_word(1, 0);
	assert_int_equal(dn_spin_look(&sp, 600 * US, arrived, SPIN), DN_SPIN_RENEWED);
	assert_int_equal(sp.seen, arrived);
	assert_int_equal(dn_spin_look(&sp, 615 * US, arrived, SPIN), DN_SPIN_ON);
	assert_int_equal(dn_spin_look(&sp, 621 * US, arrived, SPIN), DN_SPIN_SLEEP);
}

/* No worker state can keep a client polling past DN_WORKER_SETTLE_NS into its wait. */
static void test_settling_is_bounded(void **state)
{
	struct dn_spin sp;
	dn_spin_begin(&sp, 0, awake_on_1);
	uint64_t t = DN_WORKER_SETTLE_NS;
	assert_int_equal(dn_spin_look(&sp, t, dn_worker_word(1, 0), SPIN), DN_SPIN_SLEEP);
	assert_int_equal(dn_spin_look(&sp, t + US, dn_worker_word(DN_WORKER_MOVING, 1), SPIN),
			 DN_SPIN_SLEEP);
	assert_int_equal(dn_spin_look(&sp, t + 2 * US, awake_on_1, SPIN), DN_SPIN_SLEEP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sleeps_after_spin_ns),
		cmocka_unit_test(test_progress_renews_the_spin),
		cmocka_unit_test(test_polls_on_while_the_worker_wakes),
		cmocka_unit_test(test_polls_on_while_the_worker_moves),
		cmocka_unit_test(test_settling_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
