/* Image Names tests: NAME[:TAG] as the store keys it, and the digests it accepts */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "digest.h"
#include "store.h"

static void ref_is(const char *in, const char *want)
{
	char out[512];
	assert_int_equal(dn_image_ref(in, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void test_a_name_without_tag_is_latest(void **state)
{
	ref_is("nginx", "nginx:latest");
	ref_is("library/nginx", "library/nginx:latest");
	/* a registry's port is not a tag */
	ref_is("localhost:5000/web", "localhost:5000/web:latest");
}

static void test_a_tag_is_kept(void **state)
{
	ref_is("nginx:1.25", "nginx:1.25");
	ref_is("localhost:5000/web:v2", "localhost:5000/web:v2");
	ref_is("docker.io/library/debian:11", "docker.io/library/debian:11");
}

static void test_bad_names_are_refused(void **state)
{
	char out[512];
	const char *bad[] = {"", "/abs", ".hidden", "../up", "a/../b", "name:", ":tag",
			     "sp ace", "semi;colon", "new\nline", "back\\slash", "quo\"te"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dn_image_ref(bad[i], out, sizeof(out)), -EINVAL);
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	assert_int_equal(dn_image_ref(longname, out, sizeof(out)), -EINVAL);
	/* a name that fits the rules but not the buffer */
	assert_int_equal(dn_image_ref("nginx", out, 8), -ENAMETOOLONG);
}

static void test_digests(void **state)
{
	char d[80] = "sha256:";
	memset(d + 7, 'a', 64);
	d[71] = 0;
	assert_true(dn_digest_valid(d));
	d[10] = 'A'; /* upper case is not how digests are written */
	assert_false(dn_digest_valid(d));
	d[10] = 'g';
	assert_false(dn_digest_valid(d));
	d[10] = '0';
	d[70] = 0; /* 63 digits */
	assert_false(dn_digest_valid(d));
	assert_false(dn_digest_valid("sha512:abcd"));
	assert_false(dn_digest_valid("sha256:../../etc/passwd"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_name_without_tag_is_latest),
		cmocka_unit_test(test_a_tag_is_kept),
		cmocka_unit_test(test_bad_names_are_refused),
		cmocka_unit_test(test_digests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
