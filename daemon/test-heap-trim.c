/* Heap Trimmer tests: when the policy trims, and how often it looks */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <malloc.h>

#include "heap-trim.h"

#define MIB (1ull << 20)
#define S 1000000000ull

static void test_trims_after_growth_by_slack(void **state)
{
	(void)state;
	struct dn_trim_policy t;
	dn_trim_policy_init(&t, 16 * MIB, 1 * S, 16 * S);
	assert_false(dn_trim_policy_due(&t, 100 * MIB));
	assert_false(dn_trim_policy_due(&t, 115 * MIB));
	assert_true(dn_trim_policy_due(&t, 116 * MIB));
	dn_trim_policy_trimmed(&t, 105 * MIB);
	/* the floor is what the trim left */
	assert_false(dn_trim_policy_due(&t, 120 * MIB));
	assert_true(dn_trim_policy_due(&t, 121 * MIB));
}

/* Memory that went down lowers the floor: growth is counted from there. */
static void test_floor_follows_shrinking(void **state)
{
	(void)state;
	struct dn_trim_policy t;
	dn_trim_policy_init(&t, 16 * MIB, 1 * S, 16 * S);
	assert_false(dn_trim_policy_due(&t, 300 * MIB));
	assert_false(dn_trim_policy_due(&t, 40 * MIB));
	assert_true(dn_trim_policy_due(&t, 60 * MIB));
}

/* Memory that stays put: no trim, and looks twice as far apart each time, up to max. */
static void test_backs_off_when_nothing_moves(void **state)
{
	(void)state;
	struct dn_trim_policy t;
	dn_trim_policy_init(&t, 16 * MIB, 1 * S, 16 * S);
	assert_false(dn_trim_policy_due(&t, 200 * MIB));
	for (int i = 0; i < 10; i++)
		assert_false(dn_trim_policy_due(&t, 200 * MIB + 4096));
	assert_int_equal(t.period_ns, 16 * S);
	/* it moves again: looks every second */
	assert_false(dn_trim_policy_due(&t, 210 * MIB));
	assert_int_equal(t.period_ns, 1 * S);
	assert_false(dn_trim_policy_due(&t, 210 * MIB));
	assert_int_equal(t.period_ns, 2 * S);
}

/* The thread starts, looks, and stops promptly however long its period. */
static void test_thread_starts_and_stops(void **state)
{
	(void)state;
	struct dn_trimmer *t = dn_trimmer_start(16 * MIB);
	assert_non_null(t);
	assert_null(dn_trimmer_stop(t));
	assert_null(dn_trimmer_stop(NULL));
}

static uint64_t anon_now(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long long size, resident, shared;
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%llu %llu %llu", &size, &resident, &shared), 3);
	fclose(f);
	return (resident - shared) * 4096ull;
}

/* AddressSanitizer's allocator stands in for glibc's: malloc_trim gives nothing back there. */
#if defined(__SANITIZE_ADDRESS__)
#define GLIBC_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GLIBC_MALLOC 0
#endif
#endif
#ifndef GLIBC_MALLOC
#define GLIBC_MALLOC 1
#endif

/*
 * Freed heap memory below a block still in use stays resident until a trim:
 * the thread trims within a few seconds of the growth and, with glibc's
 * allocator, gives that memory back.
 */
static void test_thread_gives_back_freed_heap(void **state)
{
	(void)state;
	enum { N = 12000, SZ = 4000 }; /* 46 MiB, each below the mmap threshold */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	mallopt(M_TRIM_THRESHOLD, 1 << 30); /* free() alone gives nothing back */
	static char *blocks[N];
	struct dn_trimmer *t = dn_trimmer_start(16 * MIB);
	assert_non_null(t);
	uint64_t before = anon_now();
	for (int i = 0; i < N; i++) {
		blocks[i] = malloc(SZ);
		assert_non_null(blocks[i]);
		memset(blocks[i], 1, SZ);
	}
	for (int i = 0; i < N - 1; i++) /* the last one pins the heap's top */
		free(blocks[i]);
	uint64_t freed = anon_now();
	assert_true(freed >= before + 40 * MIB);
	uint64_t after = freed;
	for (int i = 0; i < 50 && (dn_trimmer_trims(t) == 0 ||
				   (GLIBC_MALLOC && after > before + 8 * MIB)); i++) {
		usleep(100000);
		after = anon_now();
	}
	assert_true(dn_trimmer_trims(t) > 0);
	if (GLIBC_MALLOC)
		assert_true(after <= before + 8 * MIB);
	else
		fprintf(stderr, "under AddressSanitizer only the trim is checked, not the memory "
				"it gives back (its allocator is not glibc's): the plain build checks that\n");
	free(blocks[N - 1]);
	dn_trimmer_stop(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trims_after_growth_by_slack),
		cmocka_unit_test(test_floor_follows_shrinking),
		cmocka_unit_test(test_backs_off_when_nothing_moves),
		cmocka_unit_test(test_thread_starts_and_stops),
		cmocka_unit_test(test_thread_gives_back_freed_heap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
