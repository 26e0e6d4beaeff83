/* Unit tests of the session's handle table: generations, stale and forged handles */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "session.h"

/* The table hands files back to the service on close: count them. */
static unsigned closed;

static void count_close(struct dn_svc *s, struct dn_file *f)
{
	(void)s;
	(void)f;
	closed++;
}

static const struct dn_svc_ops counting_ops = {.name = "counting", .close = count_close};
static struct dn_svc counting_svc = {.ops = &counting_ops};

/* Any distinct non-NULL pointer will do: the table never looks inside a file. */
static struct dn_file *const fake_file = (struct dn_file *)&counting_svc;

static struct dn_session *session_new(void)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	close(sv[1]);
	struct dn_session *s = dn_session_new(sv[0]);
	assert_non_null(s);
	return s;
}

static void test_reused_slot_refuses_the_old_handle(void **state)
{
	(void)state;
	struct dn_session *s = session_new();
	uint64_t first, second;
	assert_int_equal(dn_session_handle_add(s, fake_file, "/a", &first), 0);
	assert_int_equal(dn_session_handle_close(s, first, &counting_svc), 0);
	assert_int_equal(dn_session_handle_add(s, fake_file, "/b", &second), 0);
	assert_int_equal((uint32_t)first, (uint32_t)second); /* the same slot, reused */
	assert_int_not_equal(first, second);
	assert_null(dn_session_handle_get(s, first));
	assert_int_equal(dn_session_handle_close(s, first, &counting_svc), -EBADF);
	dn_session_free(s, &counting_svc);
}

/*
 * After 2^32 reuses of slot 0 the generation wraps; the handle must not
 * become 0, which requests use for "no handle" (a path from the pool's top).
 */
static void test_wrapped_generation_never_gives_handle_zero(void **state)
{
	(void)state;
	struct dn_session *s = session_new();
	uint64_t h;
	assert_int_equal(dn_session_handle_add(s, fake_file, "/a", &h), 0);
	assert_int_equal((uint32_t)h, 0);
	assert_int_equal(dn_session_handle_close(s, h, &counting_svc), 0);
	s->handles[0].gen = UINT32_MAX; /* as after 2^32 - 1 opens of slot 0 */
	assert_int_equal(dn_session_handle_add(s, fake_file, "/b", &h), 0);
	assert_int_not_equal(h, 0);
	struct dn_open *o = dn_session_handle_get(s, h);
	assert_non_null(o);
	dn_open_put(o, &counting_svc);
	assert_null(dn_session_handle_get(s, 0));
	dn_session_free(s, &counting_svc);
}

static void test_free_closes_what_is_still_open(void **state)
{
	(void)state;
	struct dn_session *s = session_new();
	uint64_t h;
	closed = 0;
	for (int i = 0; i < 3; i++)
		assert_int_equal(dn_session_handle_add(s, fake_file, "/f", &h), 0);
	assert_int_equal(dn_session_handle_close(s, h, &counting_svc), 0);
	assert_int_equal(closed, 1);
	dn_session_free(s, &counting_svc);
	assert_int_equal(closed, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reused_slot_refuses_the_old_handle),
		cmocka_unit_test(test_wrapped_generation_never_gives_handle_zero),
		cmocka_unit_test(test_free_closes_what_is_still_open),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
