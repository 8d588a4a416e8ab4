/* Unit tests: diag (cmocka). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

#define PROG "virt-reconcile"
#define CARET "      | "

/* What ds_diags_print() writes, as a string owned by the caller. */
static char *print_all(struct ds_diags *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	ds_diags_print(d, f, PROG);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	return buf;
}

/* Hands a copy of len bytes at s to d as the file's text. */
static void set_text(struct ds_diags *d, const char *s, size_t len)
{
	char *text = malloc(len + 1);

	assert_non_null(text);
	memcpy(text, s, len);
	text[len] = 0;
	ds_diags_set_text(d, text, len);
}
#define SET_TEXT(d, lit) set_text(d, lit, sizeof(lit) - 1)

static void init(struct ds_diags *d, const char *path)
{
	assert_int_equal(ds_diags_init(d, path), 0);
	assert_string_equal(d->path, path);
	assert_int_equal(d->n, 0);
	assert_int_equal(d->oom, 0);
}

/* Asserts that one problem at line:col in the text of len bytes prints as
 * its header line followed by want. */
#define excerpt_is(text, len, line, col, want)                                \
	excerpt_is_at(text, len, (struct ds_mark){line, col}, want, __FILE__, \
		      __LINE__)
static void excerpt_is_at(const char *text, size_t len, struct ds_mark m,
			  const char *want, const char *file, int line)
{
	struct ds_diags d;
	char *head, *out, got[1024];
	int head_ok;

	init(&d, "f.yaml");
	set_text(&d, text, len);
	ds_diags_add(&d, m, "msg");
	out = print_all(&d);
	assert_true(
	    asprintf(&head, PROG ": f.yaml:%u:%u: msg\n", m.line, m.col) > 0);
	head_ok = !strncmp(out, head, strlen(head));
	snprintf(got, sizeof(got), "%s", head_ok ? out + strlen(head) : out);
	/* Free before asserting, so that a failure leaks nothing. */
	free(head);
	free(out);
	ds_diags_finish(&d);
	_assert_true(head_ok, "header", file, line);
	_assert_string_equal(got, want, file, line);
}
#define EXCERPT_IS(lit, line, col, want)                                       \
	excerpt_is_at(lit, sizeof(lit) - 1, (struct ds_mark){line, col}, want, \
		      __FILE__, __LINE__)

static void test_format(void **state)
{
	struct ds_diags d;
	char *out;

	init(&d, "dom.yaml");
	SET_TEXT(&d, "name: web\nmemory: lots\n");
	ds_diags_add(&d, (struct ds_mark){2, 9}, "bad size \"%s\" (%d)", "lots",
		     42);
	assert_int_equal(d.n, 1);
	out = print_all(&d);
	assert_string_equal(out,
			    PROG ": dom.yaml:2:9: bad size \"lots\" (42)\n"
				 "    2 | memory: lots\n" CARET "        ^\n");
	free(out);
	ds_diags_finish(&d);
	assert_null(d.path);
	assert_null(d.items);
	assert_null(d.text);
	assert_int_equal(d.n, 0);
}

static void test_nothing_to_print(void **state)
{
	struct ds_diags d;
	char *out;

	init(&d, "f.yaml");
	SET_TEXT(&d, "a: 1\n");
	out = print_all(&d);
	assert_string_equal(out, "");
	free(out);
	ds_diags_finish(&d);
}

static void test_init_copies_path(void **state)
{
	struct ds_diags d;
	char path[] = "dir/dom.yaml";
	char *out;

	init(&d, path);
	assert_ptr_not_equal(d.path, path);
	strcpy(path, "changed");
	ds_diags_add(&d, (struct ds_mark){0, 0}, "x");
	out = print_all(&d);
	assert_string_equal(out, PROG ": dir/dom.yaml: x\n");
	free(out);
	ds_diags_finish(&d);
}

static void test_sort(void **state)
{
	static const char want[] =
	    PROG ": f: whole file\n" PROG ": f:1:2: a\n" PROG
		 ": f:1:5: b\n" PROG ": f:1:5: b2\n" PROG ": f:1:10: c\n" PROG
		 ": f:2:7: d\n" PROG ": f:9:20: e\n" PROG ": f:10:1: g\n";
	struct ds_diags d;
	char *out;

	init(&d, "f");
	ds_diags_add(&d, (struct ds_mark){10, 1}, "g");
	ds_diags_add(&d, (struct ds_mark){1, 5}, "b");
	ds_diags_add(&d, (struct ds_mark){1, 10}, "c");
	ds_diags_add(&d, (struct ds_mark){2, 7}, "d");
	ds_diags_add(&d, (struct ds_mark){0, 0}, "whole file");
	ds_diags_add(&d, (struct ds_mark){1, 2}, "a");
	ds_diags_add(&d, (struct ds_mark){9, 20}, "e");
	ds_diags_add(&d, (struct ds_mark){1, 5}, "b2");
	out = print_all(&d);
	assert_string_equal(out, want);
	free(out);
	/* Printing again gives the same. */
	out = print_all(&d);
	assert_string_equal(out, want);
	free(out);
	ds_diags_finish(&d);
}

/* Problems at the same place keep the order they were recorded in, however
 * many there are (qsort alone is not stable). */
static void test_sort_stable(void **state)
{
	struct ds_diags d;
	char *out, *want = NULL;
	size_t len = 0;
	FILE *f;

	init(&d, "f");
	for (int i = 0; i < 60; i++) {
		ds_diags_add(&d, (struct ds_mark){5, 3}, "same %02d", i);
		if (i % 7 == 0)
			ds_diags_add(&d, (struct ds_mark){5, 4}, "after %02d",
				     i);
		if (i % 5 == 0)
			ds_diags_add(&d, (struct ds_mark){5, 2}, "before %02d",
				     i);
		if (i % 11 == 0)
			ds_diags_add(&d, (struct ds_mark){0, 0}, "file %02d",
				     i);
	}
	assert_int_equal(d.oom, 0);
	assert_int_equal(d.n, 60 + 9 + 12 + 6);
	/* The recording order is kept for the sort to fall back on. */
	for (size_t i = 1; i < d.n; i++)
		assert_true(d.items[i - 1].seq < d.items[i].seq);

	f = open_memstream(&want, &len);
	assert_non_null(f);
	for (int i = 0; i < 60; i += 11)
		fprintf(f, PROG ": f: file %02d\n", i);
	for (int i = 0; i < 60; i += 5)
		fprintf(f, PROG ": f:5:2: before %02d\n", i);
	for (int i = 0; i < 60; i++)
		fprintf(f, PROG ": f:5:3: same %02d\n", i);
	for (int i = 0; i < 60; i += 7)
		fprintf(f, PROG ": f:5:4: after %02d\n", i);
	assert_int_equal(fclose(f), 0);

	out = print_all(&d);
	assert_string_equal(out, want);
	free(out);
	free(want);
	ds_diags_finish(&d);
}

static void test_line_zero(void **state)
{
	struct ds_diags d;
	char *out;

	init(&d, "f.yaml");
	SET_TEXT(&d, "first line\nsecond\n");
	ds_diags_add(&d, (struct ds_mark){1, 1}, "at the start");
	ds_diags_add(&d, (struct ds_mark){0, 0}, "no domain in this file");
	ds_diags_add(&d, (struct ds_mark){0, 7}, "column ignored");
	out = print_all(&d);
	assert_string_equal(out, PROG ": f.yaml: no domain in this file\n" PROG
				      ": f.yaml: column ignored\n" PROG
				      ": f.yaml:1:1: at the start\n"
				      "    1 | first line\n" CARET "^\n");
	free(out);
	ds_diags_finish(&d);
}

static void test_no_text(void **state)
{
	struct ds_diags d;
	char *out;

	init(&d, "f.yaml");
	ds_diags_add(&d, (struct ds_mark){3, 4}, "no text to show");
	out = print_all(&d);
	assert_string_equal(out, PROG ": f.yaml:3:4: no text to show\n");
	free(out);
	ds_diags_finish(&d);
}

static void test_set_text_replaces(void **state)
{
	struct ds_diags d;
	char *out;

	init(&d, "f.yaml");
	SET_TEXT(&d, "old text\n");
	SET_TEXT(&d, "new text\n");
	ds_diags_add(&d, (struct ds_mark){1, 5}, "m");
	out = print_all(&d);
	assert_string_equal(out, PROG ": f.yaml:1:5: m\n"
				      "    1 | new text\n" CARET "    ^\n");
	free(out);
	ds_diags_finish(&d);
}

static void test_line_numbers(void **state)
{
	static const char text[] = "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\n"
				   "l11\n";

	EXCERPT_IS(text, 1, 1, "    1 | l1\n" CARET "^\n");
	EXCERPT_IS(text, 3, 2, "    3 | l3\n" CARET " ^\n");
	EXCERPT_IS(text, 10, 3, "   10 | l10\n" CARET "  ^\n");
	EXCERPT_IS(text, 11, 1, "   11 | l11\n" CARET "^\n");
	EXCERPT_IS("a\n\nc\n", 2, 1, "    2 | \n" CARET "^\n");
}

static void test_caret_columns(void **state)
{
	EXCERPT_IS("abc\n", 1, 1, "    1 | abc\n" CARET "^\n");
	EXCERPT_IS("abc\n", 1, 2, "    1 | abc\n" CARET " ^\n");
	EXCERPT_IS("abc\n", 1, 3, "    1 | abc\n" CARET "  ^\n");
	/* Just past the end of the line, and no further. */
	EXCERPT_IS("abc\n", 1, 4, "    1 | abc\n" CARET "   ^\n");
	EXCERPT_IS("abc\n", 1, 99, "    1 | abc\n" CARET "   ^\n");
	EXCERPT_IS("abc\ndefgh\n", 1, 99, "    1 | abc\n" CARET "   ^\n");
	/* Column 0 is treated as the first. */
	EXCERPT_IS("abc\n", 1, 0, "    1 | abc\n" CARET "^\n");
	/* Text without a final newline. */
	EXCERPT_IS("abc", 1, 2, "    1 | abc\n" CARET " ^\n");
}

static void test_caret_tabs(void **state)
{
	EXCERPT_IS("\tkey:\tvalue\n", 1, 7,
		   "    1 | \tkey:\tvalue\n" CARET "\t    \t^\n");
	EXCERPT_IS("\t\tx\n", 1, 3, "    1 | \t\tx\n" CARET "\t\t^\n");
	EXCERPT_IS("a\tb\n", 1, 2, "    1 | a\tb\n" CARET " ^\n");
}

/* Columns count characters, as libyaml's marks do: one space per character
 * before the caret. */
static void test_caret_after_utf8(void **state)
{
	EXCERPT_IS("caf\xc3\xa9: x\n", 1, 7,
		   "    1 | caf\xc3\xa9: x\n" CARET "      ^\n");
}

/* A tab after a multi-byte character must still be copied under itself,
 * or the caret lands one tab stop off. libyaml reports "\xc3\xa9\tx" with
 * x at column 3. */
static void test_caret_tab_after_utf8(void **state)
{
	EXCERPT_IS("\xc3\xa9\tx\n", 1, 3,
		   "    1 | \xc3\xa9\tx\n" CARET " \t^\n");
	EXCERPT_IS("t: \"\xc3\xa9\t\" [\n", 1, 9,
		   "    1 | t: \"\xc3\xa9\t\" [\n" CARET "     \t  ^\n");
}

static void test_lines_beyond_text(void **state)
{
	EXCERPT_IS("a\nb", 2, 1, "    2 | b\n" CARET "^\n");
	EXCERPT_IS("a\nb", 3, 1, "");
	EXCERPT_IS("a\nb\n", 4, 1, "");
	EXCERPT_IS("a\nb\n", 10, 2, "");
	EXCERPT_IS("a\nb\n", 4000000000u, 2, "");
}

static void test_control_chars(void **state)
{
	EXCERPT_IS("a\x1b[31mb\x07"
		   "c\x7f\x01"
		   "d\te\n",
		   1, 1, "    1 | a?[31mb?c??d\te\n" CARET "^\n");
	/* The caret still lines up after the replaced bytes. */
	EXCERPT_IS("\x1b\x1bx\n", 1, 3, "    1 | ??x\n" CARET "  ^\n");
	/* A NUL byte inside the line. */
	EXCERPT_IS("x\0y\nz\n", 1, 3, "    1 | x?y\n" CARET "  ^\n");
	EXCERPT_IS("x\0y\nz\n", 2, 1, "    2 | z\n" CARET "^\n");
	/* Form feed, vertical tab, backspace. */
	EXCERPT_IS("\f\v\bq\n", 1, 4, "    1 | ???q\n" CARET "   ^\n");
}

/* U+0080..U+009F are control characters too: U+009B is CSI, which some
 * terminals obey like ESC [. */
static void test_c1_control_chars(void **state)
{
	EXCERPT_IS("a\xc2\x9b"
		   "2Jb\n",
		   1, 1, "    1 | a?2Jb\n" CARET "^\n");
	EXCERPT_IS("a\xc2\x85z\n", 1, 1, "    1 | a?z\n" CARET "^\n");
}

static void test_invalid_utf8(void **state)
{
	EXCERPT_IS("x\xff\xfey\n", 1, 4, "    1 | x??y\n" CARET "   ^\n");
	/* A lone continuation byte; a lead byte without its continuation. */
	EXCERPT_IS("\x80z\n", 1, 1, "    1 | ?z\n" CARET "^\n");
	EXCERPT_IS("\xc3(\n", 1, 1, "    1 | ?(\n" CARET "^\n");
	EXCERPT_IS("\xe2\x82z\n", 1, 1, "    1 | ??z\n" CARET "^\n");
	/* Ending the text in the middle of a character. */
	EXCERPT_IS("ab\xe2\x82", 1, 1, "    1 | ab??\n" CARET "^\n");
}

/* Byte sequences that only look like UTF-8 are invalid too, and must not
 * reach the terminal: overlong forms, continuation bytes as lead bytes,
 * surrogates, code points past U+10FFFF, 5-byte forms. */
static void test_invalid_utf8_strict(void **state)
{
	EXCERPT_IS("\xc0\xaf\n", 1, 1, "    1 | ??\n" CARET "^\n");
	EXCERPT_IS("\xe0\x80\xaf\n", 1, 1, "    1 | ???\n" CARET "^\n");
	EXCERPT_IS("\x80\xbf\n", 1, 1, "    1 | ??\n" CARET "^\n");
	EXCERPT_IS("\xbf\xbf\n", 1, 1, "    1 | ??\n" CARET "^\n");
	EXCERPT_IS("\xed\xa0\x80\n", 1, 1, "    1 | ???\n" CARET "^\n");
	EXCERPT_IS("\xf4\x90\x80\x80\n", 1, 1, "    1 | ????\n" CARET "^\n");
	EXCERPT_IS("\xf8\x88\x80\x80\x80\n", 1, 1,
		   "    1 | ?????\n" CARET "^\n");
}

static void test_valid_utf8(void **state)
{
	EXCERPT_IS("title: caf\xc3\xa9 \xe5\x90\x8d\xe5\x89\x8d "
		   "\xf0\x9f\x98\x80 \xc2\xa0\n",
		   1, 1,
		   "    1 | title: caf\xc3\xa9 \xe5\x90\x8d\xe5\x89\x8d "
		   "\xf0\x9f\x98\x80 \xc2\xa0\n" CARET "^\n");
}

static void test_crlf(void **state)
{
	static const char text[] = "a: 1\r\nb: x\r\nc: y\r";

	EXCERPT_IS(text, 1, 4, "    1 | a: 1\n" CARET "   ^\n");
	EXCERPT_IS(text, 2, 4, "    2 | b: x\n" CARET "   ^\n");
	/* The last line, without its LF. */
	EXCERPT_IS(text, 3, 4, "    3 | c: y\n" CARET "   ^\n");
	/* Past the end of a CRLF line: no caret under the CR. */
	EXCERPT_IS(text, 2, 9, "    2 | b: x\n" CARET "    ^\n");
	/* A CR inside a line is a control character. */
	EXCERPT_IS("a\rb\r\n", 1, 3, "    1 | a?b\n" CARET "  ^\n");
}

static void test_long_line(void **state)
{
	char text[512], want[512];
	size_t n;

	/* 300 bytes, then a short line. */
	memset(text, 'a', 300);
	memcpy(text + 300, "\nshort\n", 7);
	n = 307;
	snprintf(want, sizeof(want), "    1 | %.200s\n" CARET "    ^\n", text);
	excerpt_is(text, n, 1, 5, want);
	excerpt_is(text, n, 2, 1, "    2 | short\n" CARET "^\n");
	/* The caret does not go past the cut. */
	snprintf(want, sizeof(want), "    1 | %.200s\n" CARET "%200s^\n", text,
		 "");
	excerpt_is(text, n, 1, 290, want);

	/* Exactly 200 bytes are kept whole. */
	memset(text, 'b', 200);
	memcpy(text + 200, "\r\n", 2);
	snprintf(want, sizeof(want), "    1 | %.200s\n" CARET "^\n", text);
	excerpt_is(text, 202, 1, 1, want);
	/* 201 bytes lose the last one. */
	text[200] = 'c';
	memcpy(text + 201, "\r\n", 2);
	excerpt_is(text, 203, 1, 1, want);
}

/* Cutting in the middle of a character shows no partial character. */
static void test_long_line_cut_in_char(void **state)
{
	struct ds_diags d;
	char text[512];
	char *out, *ex;

	memset(text, 'a', 199);
	memcpy(text + 199, "\xc3\xa9\xc3\xa9\n", 5);
	init(&d, "f");
	set_text(&d, text, 204);
	ds_diags_add(&d, (struct ds_mark){1, 1}, "m");
	out = print_all(&d);
	ex = strstr(out, "    1 | ");
	assert_non_null(ex);
	ex += strlen("    1 | ");
	assert_int_equal(strspn(ex, "a"), 199);
	assert_null(memchr(ex, 0xc3, strlen(ex)));
	assert_null(memchr(ex, 0xa9, strlen(ex)));
	assert_true(strcspn(ex, "\n") <= 200);
	free(out);
	ds_diags_finish(&d);
}

/* Control bytes in a message (which may quote the file) are replaced, so
 * that each problem stays on one line and cannot drive the terminal. */
static void test_message_control_chars(void **state)
{
	struct ds_diags d;
	char *out;

	init(&d, "f");
	ds_diags_add(&d, (struct ds_mark){0, 0}, "unknown key \"%s\"",
		     "a\nb\x1b[2J\tc\x7f\rd");
	out = print_all(&d);
	assert_string_equal(out, PROG ": f: unknown key \"a?b?[2J?c??d\"\n");
	free(out);
	ds_diags_finish(&d);
}

static void test_oom_reported(void **state)
{
	struct ds_diags d;
	char *out;

	init(&d, "f.yaml");
	ds_diags_add(&d, (struct ds_mark){2, 1}, "first");
	d.oom = 1;
	out = print_all(&d);
	assert_string_equal(out, PROG ": f.yaml:2:1: first\n" PROG
				      ": f.yaml: out of memory while reporting "
				      "problems\n");
	free(out);
	ds_diags_finish(&d);
}

static void test_addv(void **state)
{
	struct ds_diags d;
	char *out;
	char big[3000];

	init(&d, "f");
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	ds_diags_add(&d, (struct ds_mark){1, 1}, "%s|%5.1f|%%", big, 2.25);
	out = print_all(&d);
	assert_int_equal(strlen(out), strlen(PROG ": f:1:1: ") + 2999 +
					  strlen("|  2.2|%\n"));
	assert_non_null(strstr(out, "|  2.2|%\n"));
	free(out);
	ds_diags_finish(&d);
}

/* An empty file's problem is at 1:1, but there is no line to show. */
static void test_empty_text(void **state)
{
	struct ds_diags d;
	char *out;

	init(&d, "f.yaml");
	SET_TEXT(&d, "");
	ds_diags_add(&d, (struct ds_mark){1, 1}, "the file is empty");
	out = print_all(&d);
	assert_string_equal(out, PROG ": f.yaml:1:1: the file is empty\n");
	free(out);
	ds_diags_finish(&d);
}

/* The one-line form a status gives: the first problem in file order,
 * placed as the printer places it (never "0:0"). */
static void test_first(void **state)
{
	struct ds_diags d;
	char *s;

	init(&d, "d/f.yaml");
	s = ds_diags_first(&d);
	assert_string_equal(s, "d/f.yaml: the file has problems");
	free(s);
	ds_diags_add(&d, (struct ds_mark){3, 2}, "later");
	s = ds_diags_first(&d);
	assert_string_equal(s, "d/f.yaml:3:2: later");
	free(s);
	ds_diags_add(&d, (struct ds_mark){1, 5}, "first\x1b[2J");
	s = ds_diags_first(&d);
	assert_string_equal(s, "d/f.yaml:1:5: first?[2J (and more)");
	free(s);
	ds_diags_finish(&d);

	init(&d, "d/fifo.yaml");
	ds_diags_add(&d, (struct ds_mark){0, 0}, "not a regular file");
	s = ds_diags_first(&d);
	assert_string_equal(s, "d/fifo.yaml: not a regular file");
	free(s);
	ds_diags_finish(&d);
}

/* A path that is not UTF-8 is never printed raw: not in the printer's
 * lines, nor in the one-line form a status shows. */
static void test_path_escaped(void **state)
{
	struct ds_diags d;
	char *out, *first;

	init(&d, "d/caf\xe9\n.yaml");
	ds_diags_add(&d, (struct ds_mark){0, 0}, "bad name");
	ds_diags_add(&d, (struct ds_mark){2, 1}, "later");
	out = print_all(&d);
	first = ds_diags_first(&d);
	assert_string_equal(out, PROG ": d/caf\\xe9\\x0a.yaml: bad name\n" PROG
				      ": d/caf\\xe9\\x0a.yaml:2:1: later\n");
	assert_string_equal(first, "d/caf\\xe9\\x0a.yaml: bad name (and more)");
	free(out);
	free(first);
	ds_diags_finish(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_nothing_to_print),
	    cmocka_unit_test(test_init_copies_path),
	    cmocka_unit_test(test_sort),
	    cmocka_unit_test(test_sort_stable),
	    cmocka_unit_test(test_line_zero),
	    cmocka_unit_test(test_no_text),
	    cmocka_unit_test(test_set_text_replaces),
	    cmocka_unit_test(test_line_numbers),
	    cmocka_unit_test(test_caret_columns),
	    cmocka_unit_test(test_caret_tabs),
	    cmocka_unit_test(test_caret_after_utf8),
	    cmocka_unit_test(test_caret_tab_after_utf8),
	    cmocka_unit_test(test_lines_beyond_text),
	    cmocka_unit_test(test_control_chars),
	    cmocka_unit_test(test_c1_control_chars),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_invalid_utf8_strict),
	    cmocka_unit_test(test_valid_utf8),
	    cmocka_unit_test(test_crlf),
	    cmocka_unit_test(test_long_line),
	    cmocka_unit_test(test_long_line_cut_in_char),
	    cmocka_unit_test(test_message_control_chars),
	    cmocka_unit_test(test_oom_reported),
	    cmocka_unit_test(test_addv),
	    cmocka_unit_test(test_empty_text),
	    cmocka_unit_test(test_first),
	    cmocka_unit_test(test_path_escaped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
