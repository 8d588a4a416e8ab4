/* Unit tests: utf8, file names and how they are shown (cmocka). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define escaped_is(name, want) escaped_is_at(name, want, __FILE__, __LINE__)
static void escaped_is_at(const char *name, const char *want, const char *file,
			  int line)
{
	char *got = ds_escape_name(name);

	_assert_true(got != NULL, "escaped", file, line);
	if (strcmp(got, want))
		print_error("\"%s\": got \"%s\"\n", want, got);
	_assert_string_equal(got, want, file, line);
	free(got);
}

static void test_valid_names_unchanged(void **state)
{
	escaped_is("web01.yaml", "web01.yaml");
	escaped_is("dir/sub dir/café.yaml", "dir/sub dir/café.yaml");
	escaped_is("日本.yml", "日本.yml");
	escaped_is("back\\slash.yaml", "back\\slash.yaml");
	escaped_is("", "");
	assert_null(ds_name_problem("web01.yaml"));
	assert_null(ds_name_problem("café 日本 \xf0\x9f\x98\x80.yaml"));
}

static void test_invalid_bytes_escaped(void **state)
{
	escaped_is("caf\xe9.yaml", "caf\\xe9.yaml");    /* Latin-1 */
	escaped_is("\xff\xfe.yaml", "\\xff\\xfe.yaml"); /* never UTF-8 */
	escaped_is("\xc3.yaml", "\\xc3.yaml");          /* cut short */
	escaped_is("\xc0\xaf.yaml", "\\xc0\\xaf.yaml"); /* overlong */
	escaped_is("\xed\xa0\x80.yaml", "\\xed\\xa0\\x80.yaml"); /* surrogate */
	escaped_is("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* > U+10FFFF */
	assert_string_equal(ds_name_problem("caf\xe9.yaml"),
			    "is not valid UTF-8");
	assert_string_equal(ds_name_problem("\xed\xa0\x80.yaml"),
			    "is not valid UTF-8");
}

static void test_control_chars_escaped(void **state)
{
	escaped_is("a\nb.yaml", "a\\x0ab.yaml");
	escaped_is("\x1b[2J.yaml", "\\x1b[2J.yaml");
	escaped_is("tab\t.yaml", "tab\\x09.yaml");
	escaped_is("del\x7f.yaml", "del\\x7f.yaml");
	escaped_is("c1\xc2\x85.yaml", "c1\\xc2\\x85.yaml"); /* U+0085 */
	assert_string_equal(ds_name_problem("a\nb.yaml"),
			    "holds a control character");
	assert_string_equal(ds_name_problem("c1\xc2\x9b.yaml"),
			    "holds a control character");
}

static void test_utf8_char(void **state)
{
	unsigned cp = 0;

	assert_int_equal(ds_utf8_char((const unsigned char *)"a", 1, &cp), 1);
	assert_int_equal(cp, 'a');
	assert_int_equal(
	    ds_utf8_char((const unsigned char *)"\xc3\xa9", 2, &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(
	    ds_utf8_char((const unsigned char *)"\xc3\xa9", 1, &cp), 0);
	assert_int_equal(
	    ds_utf8_char((const unsigned char *)"\xf0\x9f\x98\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x1f600);
	assert_true(ds_utf8_control(0x7f));
	assert_true(ds_utf8_control(0x9f));
	assert_false(ds_utf8_control(0xa0));
	assert_false(ds_utf8_control(' '));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_names_unchanged),
	    cmocka_unit_test(test_invalid_bytes_escaped),
	    cmocka_unit_test(test_control_chars_escaped),
	    cmocka_unit_test(test_utf8_char),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
