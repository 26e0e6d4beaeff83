/* Idle Polling tests: the poll window grows after short sleeps, shrinks after long ones */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "idle.h"

#define US 1000u

static void test_starts_at_base(void **state)
{
	struct dn_idle idle;
	dn_idle_init(&idle, 50 * US, 2000 * US);
	assert_int_equal(idle.poll_ns, 50 * US);
}

/* A request 400 us into the sleep: the next pause of the same length is polled through. */
static void test_short_sleep_grows_to_cover_the_pause(void **state)
{
	struct dn_idle idle;
	dn_idle_init(&idle, 50 * US, 2000 * US);
	dn_idle_slept(&idle, 400 * US);
	assert_true(idle.poll_ns >= 450 * US);
	assert_true(idle.poll_ns <= 2000 * US);
}

static void test_growth_stops_at_max(void **state)
{
	struct dn_idle idle;
	dn_idle_init(&idle, 50 * US, 2000 * US);
	for (int i = 0; i < 20; i++)
		dn_idle_slept(&idle, 1900 * US);
	assert_int_equal(idle.poll_ns, 2000 * US);
}

/* Sleeps longer than max: halves, down to base and no lower; an idle pool sleeps soon. */
static void test_long_sleeps_shrink_back_to_base(void **state)
{
	struct dn_idle idle;
	dn_idle_init(&idle, 50 * US, 2000 * US);
	dn_idle_slept(&idle, 1500 * US);
	uint64_t grown = idle.poll_ns;
	dn_idle_slept(&idle, 1000000 * US);
	assert_int_equal(idle.poll_ns, grown / 2);
	for (int i = 0; i < 20; i++)
		dn_idle_slept(&idle, 1000000 * US);
	assert_int_equal(idle.poll_ns, 50 * US);
}

/* max below base (poll_us set, poll_max_us left lower): a fixed window of base. */
static void test_max_below_base_keeps_base(void **state)
{
	struct dn_idle idle;
	dn_idle_init(&idle, 5000 * US, 2000 * US);
	dn_idle_slept(&idle, 100 * US);
	assert_int_equal(idle.poll_ns, 5000 * US);
	dn_idle_slept(&idle, 1000000 * US);
	assert_int_equal(idle.poll_ns, 5000 * US);
}

/* poll_us = 0 (sleep at once) still grows on short sleeps. */
static void test_zero_base_grows(void **state)
{
	struct dn_idle idle;
	dn_idle_init(&idle, 0, 2000 * US);
	dn_idle_slept(&idle, 100 * US);
	assert_true(idle.poll_ns >= 100 * US);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_starts_at_base),
		cmocka_unit_test(test_short_sleep_grows_to_cover_the_pause),
		cmocka_unit_test(test_growth_stops_at_max),
		cmocka_unit_test(test_long_sleeps_shrink_back_to_base),
		cmocka_unit_test(test_max_below_base_keeps_base),
		cmocka_unit_test(test_zero_base_grows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
