/* Service Log tests: a flood is cut to its budget, what was left out is said, errors get through */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

#define FLOOD 200

/* What the log wrote to stderr while fn ran. */
static char *captured(void (*fn)(void))
{
	int saved = dup(2), fd = memfd_create("log", 0);
	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	fn();
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	off_t len = lseek(fd, 0, SEEK_END);
	char *text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(pread(fd, text, (size_t)len, 0), len);
	close(fd);
	return text;
}

static void flood(void)
{
	for (int i = 0; i < FLOOD; i++)
		dn_log_info("flood %d", i);
	dn_log_error("an error in the same second");
	/* a later second: the next message gets through and says what was left out */
	nanosleep(&(struct timespec){1, 100000000}, NULL);
	dn_log_info("after");
}

static void test_flood_is_cut_and_counted(void **state)
{
	(void)state;
	unsetenv("JOURNAL_STREAM");
	dn_log_init("t");
	char *text = captured(flood);
	unsigned shown = 0, left_out = 0, errors = 0;
	const char *last = "";
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned n;
		const char *m = strstr(line, "]: ");
		assert_non_null(m);
		m += 3;
		if (strncmp(m, "flood ", 6) == 0)
			shown++;
		else if (sscanf(m, "%u messages left out", &n) == 1)
			left_out += n;
		else if (strcmp(m, "an error in the same second") == 0)
			errors++;
		last = m;
	}
	/* a second boundary inside the flood lets at most two budgets through */
	assert_true(shown >= 50 && shown <= 100);
	assert_int_equal(shown + left_out, FLOOD);
	assert_int_equal(errors, 1); /* a budget of its own: never crowded out by notices */
	assert_string_equal(last, "after");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flood_is_cut_and_counted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
