/* Unit tests of the descriptor handover table: a claim finds what a worker put, until the TTL */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "futex.h"
#include "handover.h"

static int devnull(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* The uid the worker served takes it, once; another uid never does. */
static void test_take_by_uid(void **state)
{
	(void)state;
	struct dn_handovers *h = dn_handovers_new();
	assert_non_null(h);
	uint64_t token[2];
	assert_int_equal(dn_handover_put(h, devnull(), 1000, token), 0);
	assert_int_equal(dn_handover_take(h, token, 1001), -ENOENT);
	int fd = dn_handover_take(h, token, 1000);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(dn_handover_take(h, token, 1000), -ENOENT);
	dn_handovers_free(h);
}

/*
 * The acceptor reads the time before it takes the table's lock: an entry a
 * worker put meanwhile is newer than that time, and must not count as
 * ages old (it did: mmap on a busy local pool failed with EIO).
 */
static void test_put_after_now_waits(void **state)
{
	(void)state;
	struct dn_handovers *h = dn_handovers_new();
	assert_non_null(h);
	uint64_t before = dn_now_ns(), token[2];
	assert_int_equal(dn_handover_put(h, devnull(), 0, token), 0);
	assert_int_equal(dn_handover_expire(h, before), 1);
	int fd = dn_handover_take(h, token, 0);
	assert_true(fd >= 0);
	close(fd);
	dn_handovers_free(h);
}

/* Past the TTL an unclaimed descriptor is closed. */
static void test_expires_after_ttl(void **state)
{
	(void)state;
	struct dn_handovers *h = dn_handovers_new();
	assert_non_null(h);
	uint64_t token[2];
	assert_int_equal(dn_handover_put(h, devnull(), 0, token), 0);
	uint64_t now = dn_now_ns();
	assert_int_equal(dn_handover_expire(h, now), 1);
	assert_int_equal(dn_handover_expire(h, now + DN_HANDOVER_TTL_NS + 1000000000ull), 0);
	assert_int_equal(dn_handover_take(h, token, 0), -ENOENT);
	dn_handovers_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take_by_uid),
		cmocka_unit_test(test_put_after_now_waits),
		cmocka_unit_test(test_expires_after_ttl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
