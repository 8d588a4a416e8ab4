/* Unit tests: cpuset (cmocka). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpuset.h"

/* Parses s, which must be valid, into *set. */
#define parse_ok(s, set) parse_ok_at(s, set, __FILE__, __LINE__)
static void parse_ok_at(const char *s, struct ds_cpuset *set, const char *file,
			int line)
{
	char err[128] = "";
	int r = ds_cpuset_parse(s, set, err, sizeof(err));

	if (r != 0)
		print_error("input \"%s\": %s\n", s, err);
	_assert_int_equal(r, 0, file, line);
}

/* Asserts that s parses and formats back as canon. */
#define canon_is(s, canon) canon_is_at(s, canon, __FILE__, __LINE__)
static void canon_is_at(const char *s, const char *canon, const char *file,
			int line)
{
	struct ds_cpuset set, again;
	char *out;

	parse_ok_at(s, &set, file, line);
	out = ds_cpuset_format(&set);
	_assert_true(out != NULL, "out != NULL", file, line);
	_assert_string_equal(out, canon, file, line);
	/* The canonical form is itself valid and means the same set. */
	parse_ok_at(out, &again, file, line);
	_assert_true(ds_cpuset_equal(&set, &again), "same set", file, line);
	free(out);
}

/* Asserts that s is rejected with message msg and *ret left alone. */
#define parse_bad(s, msg) parse_bad_at(s, msg, __FILE__, __LINE__)
static void parse_bad_at(const char *s, const char *msg, const char *file,
			 int line)
{
	struct ds_cpuset set, orig;
	char err[128] = "";

	memset(&set, 0xa5, sizeof(set));
	orig = set;
	_assert_int_equal(ds_cpuset_parse(s, &set, err, sizeof(err)), -EINVAL,
			  file, line);
	_assert_string_equal(err, msg, file, line);
	_assert_true(ds_cpuset_equal(&set, &orig), "*ret untouched", file,
		     line);
}

static void test_single(void **state)
{
	struct ds_cpuset set;

	parse_ok("5", &set);
	assert_true(ds_cpuset_has(&set, 5));
	assert_false(ds_cpuset_has(&set, 4));
	assert_false(ds_cpuset_has(&set, 6));
	assert_int_equal(ds_cpuset_count(&set), 1);
	assert_int_equal(ds_cpuset_last(&set), 5);

	parse_ok("0", &set);
	assert_true(ds_cpuset_has(&set, 0));
	assert_int_equal(ds_cpuset_count(&set), 1);
	assert_int_equal(ds_cpuset_last(&set), 0);
}

static void test_range(void **state)
{
	struct ds_cpuset set;

	parse_ok("2-5", &set);
	assert_int_equal(ds_cpuset_count(&set), 4);
	assert_int_equal(ds_cpuset_last(&set), 5);
	assert_false(ds_cpuset_has(&set, 1));
	for (unsigned i = 2; i <= 5; i++)
		assert_true(ds_cpuset_has(&set, i));
	assert_false(ds_cpuset_has(&set, 6));

	parse_ok("3-3", &set);
	assert_int_equal(ds_cpuset_count(&set), 1);
	assert_true(ds_cpuset_has(&set, 3));

	parse_ok("0-16383", &set);
	assert_int_equal(ds_cpuset_count(&set), DS_CPUSET_MAX);
	assert_int_equal(ds_cpuset_last(&set), DS_CPUSET_MAX - 1);
}

static void test_exclusion(void **state)
{
	struct ds_cpuset set;

	parse_ok("0-7,^0,^7", &set);
	assert_int_equal(ds_cpuset_count(&set), 6);
	assert_false(ds_cpuset_has(&set, 0));
	assert_false(ds_cpuset_has(&set, 7));
	assert_int_equal(ds_cpuset_last(&set), 6);

	/* Excluding a CPU that is not in the set changes nothing. */
	parse_ok("1-3,^9", &set);
	assert_int_equal(ds_cpuset_count(&set), 3);
}

static void test_mixed_equal(void **state)
{
	struct ds_cpuset a, b, c;

	parse_ok("1-4,^3,6", &a);
	parse_ok("1-2,4,6", &b);
	assert_true(ds_cpuset_equal(&a, &b));
	assert_int_equal(ds_cpuset_count(&a), 4);
	assert_true(ds_cpuset_has(&a, 1));
	assert_true(ds_cpuset_has(&a, 2));
	assert_false(ds_cpuset_has(&a, 3));
	assert_true(ds_cpuset_has(&a, 4));
	assert_false(ds_cpuset_has(&a, 5));
	assert_true(ds_cpuset_has(&a, 6));

	parse_ok("6,4,2,1", &c);
	assert_true(ds_cpuset_equal(&a, &c));
	parse_ok("1,1,2,4,6,6", &c);
	assert_true(ds_cpuset_equal(&a, &c));

	parse_ok("1-2,4,7", &c);
	assert_false(ds_cpuset_equal(&a, &c));
	parse_ok("1-2,4,6,16383", &c);
	assert_false(ds_cpuset_equal(&a, &c));
}

static void test_spaces(void **state)
{
	struct ds_cpuset a, b;

	parse_ok("1-2,4,6", &a);
	parse_ok(" 1 - 2 , 4 ,6 ", &b);
	assert_true(ds_cpuset_equal(&a, &b));
	parse_ok("1-4, ^3, 6", &b);
	assert_true(ds_cpuset_equal(&a, &b));
}

static void test_errors(void **state)
{
	parse_bad("", "expected a CPU number at \"\"");
	parse_bad("   ", "expected a CPU number at \"\"");
	parse_bad("1,", "expected a CPU number at \"\"");
	parse_bad(",1", "expected a CPU number at \",1\"");
	parse_bad("1,,2", "expected a CPU number at \",2\"");
	parse_bad("^", "expected a CPU number at \"\"");
	parse_bad("1-", "expected a CPU number at \"\"");
	parse_bad("-1", "expected a CPU number at \"-1\"");
	parse_bad("1--2", "expected a CPU number at \"-2\"");
	parse_bad("abc", "expected a CPU number at \"abc\"");
	parse_bad("1,two", "expected a CPU number at \"two\"");
	parse_bad("1a", "unexpected \"a\"; write CPUs as \"1-4,^3,6\"");
	parse_bad("1 2", "unexpected \"2\"; write CPUs as \"1-4,^3,6\"");
	parse_bad("1;2", "unexpected \";2\"; write CPUs as \"1-4,^3,6\"");
	parse_bad("^1-3", "unexpected \"-3\"; write CPUs as \"1-4,^3,6\"");
	parse_bad("4-2", "range 4-2 runs backwards");
	parse_bad("1,^1", "selects no CPU");
	parse_bad("^1", "selects no CPU");
	parse_bad("0-2,^0,^1,^2", "selects no CPU");
}

static void test_over_limit(void **state)
{
	struct ds_cpuset set;

	parse_ok("16383", &set);
	assert_int_equal(ds_cpuset_last(&set), 16383);
	parse_bad("16384", "CPU number 16384 is over the limit of 16383");
	parse_bad("99999999999999999999999",
		  "CPU number 99999999999999999999 is over the limit of "
		  "16383");
}

/* The message names the number, not the rest of the string after it. */
static void test_over_limit_message(void **state)
{
	parse_bad("0,16384,2", "CPU number 16384 is over the limit of 16383");
	parse_bad("1-16384", "CPU number 16384 is over the limit of 16383");
	parse_bad("^16384,1", "CPU number 16384 is over the limit of 16383");
}

static void test_last_count_has(void **state)
{
	struct ds_cpuset set = {{0}};

	assert_int_equal(ds_cpuset_last(&set), -1);
	assert_int_equal(ds_cpuset_count(&set), 0);
	assert_false(ds_cpuset_has(&set, 0));

	parse_ok("63,64,127,128", &set);
	assert_int_equal(ds_cpuset_last(&set), 128);
	assert_int_equal(ds_cpuset_count(&set), 4);
	assert_true(ds_cpuset_has(&set, 63));
	assert_true(ds_cpuset_has(&set, 64));
	assert_false(ds_cpuset_has(&set, 62));
	assert_false(ds_cpuset_has(&set, 65));

	parse_ok("16383", &set);
	assert_int_equal(ds_cpuset_last(&set), 16383);
	/* Beyond the limit: false, without reading past the bitmap. */
	assert_false(ds_cpuset_has(&set, DS_CPUSET_MAX));
	assert_false(ds_cpuset_has(&set, 100000));
	assert_false(ds_cpuset_has(&set, (unsigned)-1));

	parse_ok("0-9,20-29,^25", &set);
	assert_int_equal(ds_cpuset_count(&set), 19);
	assert_int_equal(ds_cpuset_last(&set), 29);
}

static void test_format(void **state)
{
	struct ds_cpuset empty = {{0}};
	char *out;

	canon_is("0", "0");
	canon_is("1-4,^3,6", "1-2,4,6");
	canon_is("0,1,2,3", "0-3");
	canon_is("3,1,2", "1-3");
	canon_is("0,2,4", "0,2,4");
	canon_is("5-5", "5");
	canon_is("62-65", "62-65");
	canon_is("63", "63");
	canon_is("64", "64");
	canon_is("63-64", "63-64");
	canon_is("0,63,64,127", "0,63-64,127");
	canon_is("0-127,^64", "0-63,65-127");
	canon_is("0-127,^63", "0-62,64-127");
	canon_is("16383", "16383");
	canon_is("16382-16383", "16382-16383");
	canon_is("0,16383", "0,16383");
	canon_is("0-16383", "0-16383");
	canon_is("0-16383,^8191", "0-8190,8192-16383");
	canon_is(" 7 , 8 ", "7-8");

	out = ds_cpuset_format(&empty);
	assert_non_null(out);
	assert_string_equal(out, "");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_single),
	    cmocka_unit_test(test_range),
	    cmocka_unit_test(test_exclusion),
	    cmocka_unit_test(test_mixed_equal),
	    cmocka_unit_test(test_spaces),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_over_limit),
	    cmocka_unit_test(test_over_limit_message),
	    cmocka_unit_test(test_last_count_has),
	    cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
