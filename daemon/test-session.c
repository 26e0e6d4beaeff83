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
	assert_int_equal(dn_session_handle_add(s, &counting_svc, fake_file, "/a", 0, &first), 0);
	assert_int_equal(dn_session_handle_close(s, first), 0);
	assert_int_equal(dn_session_handle_add(s, &counting_svc, fake_file, "/b", 0, &second), 0);
	assert_int_equal((uint32_t)first, (uint32_t)second); /* the same slot, reused */
	assert_int_not_equal(first, second);
	assert_null(dn_session_handle_get(s, first));
	assert_int_equal(dn_session_handle_close(s, first), -EBADF);
	dn_session_free(s);
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
	assert_int_equal(dn_session_handle_add(s, &counting_svc, fake_file, "/a", 0, &h), 0);
	assert_int_equal((uint32_t)h, 0);
	assert_int_equal(dn_session_handle_close(s, h), 0);
	s->handles[0].gen = UINT32_MAX; /* as after 2^32 - 1 opens of slot 0 */
	assert_int_equal(dn_session_handle_add(s, &counting_svc, fake_file, "/b", 0, &h), 0);
	assert_int_not_equal(h, 0);
	struct dn_open *o = dn_session_handle_get(s, h);
	assert_non_null(o);
	dn_open_put(o);
	assert_null(dn_session_handle_get(s, 0));
	dn_session_free(s);
}

static void test_free_closes_what_is_still_open(void **state)
{
	(void)state;
	struct dn_session *s = session_new();
	uint64_t h;
	closed = 0;
	for (int i = 0; i < 3; i++)
		assert_int_equal(dn_session_handle_add(s, &counting_svc, fake_file, "/f", 0, &h), 0);
	assert_int_equal(dn_session_handle_close(s, h), 0);
	assert_int_equal(closed, 1);
	dn_session_free(s);
	assert_int_equal(closed, 3);
}

/* A session of several instances: each file goes back to the one it was opened in. */
static unsigned closed_other;

static void count_other_close(struct dn_svc *s, struct dn_file *f)
{
	(void)s;
	(void)f;
	closed_other++;
}

static void test_files_close_in_their_instance(void **state)
{
	(void)state;
	static const struct dn_svc_ops other_ops = {.name = "other", .close = count_other_close};
	struct dn_svc other = {.ops = &other_ops};
	struct dn_session *s = session_new();
	s->mounts[0] = &counting_svc;
	s->mounts[1] = &other;
	s->nmounts = 2;
	uint64_t a, b;
	closed = closed_other = 0;
	assert_int_equal(dn_session_handle_add(s, &counting_svc, fake_file, "/a", 0, &a), 0);
	assert_int_equal(dn_session_handle_add(s, &other, fake_file, "/a", 0, &b), 0);
	struct dn_open *o = dn_session_handle_get(s, b);
	assert_non_null(o);
	assert_ptr_equal(o->svc, &other);
	dn_open_put(o);
	assert_int_equal(dn_session_handle_close(s, b), 0);
	assert_int_equal(closed_other, 1);
	assert_int_equal(closed, 0);
	dn_session_free(s);
	assert_int_equal(closed, 1);
	assert_int_equal(closed_other, 1);
}

/*
 * A handoff keeps the numbers (a thread of the client may hold one from
 * before the switch): in a fresh session, beyond its table too; where the
 * slot is taken, another number, never the taken one's file.
 */
static void test_adopt_keeps_the_number_where_free(void **state)
{
	(void)state;
	struct dn_session *from = session_new(), *to = session_new();
	uint64_t a, b, kept, other;
	assert_int_equal(dn_session_handle_add(from, &counting_svc, fake_file, "/a", 0, &a), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(dn_session_handle_add(from, &counting_svc, fake_file, "/b", 0, &b), 0);
	struct dn_open *ob = dn_session_handle_get(from, b);
	assert_int_equal(dn_session_handle_adopt(to, ob, b, &kept), 0);
	assert_int_equal(kept, b); /* slot 100 of a table that had none */
	assert_ptr_equal(dn_session_handle_get(to, b), ob);
	dn_open_put(ob);
	struct dn_open *oa = dn_session_handle_get(from, a);
	assert_int_equal(dn_session_handle_adopt(to, oa, b, &other), 0);
	assert_int_not_equal(other, b); /* taken: another slot */
	struct dn_open *got = dn_session_handle_get(to, other);
	assert_ptr_equal(got, oa);
	dn_open_put(got);
	got = dn_session_handle_get(to, b);
	assert_ptr_equal(got, ob); /* still the file it was */
	dn_open_put(got);
	dn_session_free(from);
	dn_session_free(to);
}

/* An open after a pool restart may ask for the number its file had in the dead pool. */
static void test_open_takes_the_number_asked(void **state)
{
	(void)state;
	struct dn_session *dead = session_new(), *s = session_new();
	uint64_t was, h, again;
	for (int i = 0; i < 5; i++)
		assert_int_equal(dn_session_handle_add(dead, &counting_svc, fake_file, "/a", 0, &was), 0);
	assert_int_equal(dn_session_handle_add(s, &counting_svc, fake_file, "/a", was, &h), 0);
	assert_int_equal(h, was);
	/* taken now: another number */
	assert_int_equal(dn_session_handle_add(s, &counting_svc, fake_file, "/b", was, &again), 0);
	assert_int_not_equal(again, was);
	dn_session_free(dead);
	dn_session_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reused_slot_refuses_the_old_handle),
		cmocka_unit_test(test_wrapped_generation_never_gives_handle_zero),
		cmocka_unit_test(test_free_closes_what_is_still_open),
		cmocka_unit_test(test_files_close_in_their_instance),
		cmocka_unit_test(test_adopt_keeps_the_number_where_free),
		cmocka_unit_test(test_open_takes_the_number_asked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
