/* Unit tests: yaml, the loader's handling of tags (cmocka). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "node.h"

/* Loads "k: VALUE" and returns the value's node (the tree in *root), or
 * NULL with the problems in d. */
static struct ds_node *load_value(const char *value, struct ds_node **root,
				  struct ds_diags *d)
{
	char text[256];

	snprintf(text, sizeof(text), "k: %s\n", value);
	assert_int_equal(ds_diags_init(d, "t.yaml"), 0);
	*root = NULL;
	if (ds_yaml_load(text, strlen(text), d, root) < 0)
		return NULL;
	return ds_node_get(*root, "k");
}

/* Asserts that VALUE loads as a scalar with text want, read as a plain
 * (untyped) scalar or not. */
#define scalar_is(value, want, plain) \
	scalar_is_at(value, want, plain, __FILE__, __LINE__)
static void scalar_is_at(const char *value, const char *want, bool plain,
			 const char *file, int line)
{
	struct ds_diags d;
	struct ds_node *root, *n = load_value(value, &root, &d);
	bool ok = n && n->kind == DS_NODE_SCALAR && !strcmp(n->str, want) &&
		  n->plain == plain && d.n == 0;

	if (!ok)
		print_error("\"%s\": %s%s\n", value,
			    n ? "loaded as " : "refused: ",
			    n     ? n->str
			    : d.n ? d.items[0].msg
				  : "?");
	ds_node_free(root);
	ds_diags_finish(&d);
	_assert_true(ok, value, file, line);
}

/* Asserts that VALUE is refused at column col of line 1, with a message
 * that starts with want. */
#define refused(value, col, want) \
	refused_at(value, col, want, __FILE__, __LINE__)
static void refused_at(const char *value, unsigned col, const char *want,
		       const char *file, int line)
{
	struct ds_diags d;
	struct ds_node *root, *n = load_value(value, &root, &d);
	bool ok = !n && !root && d.n == 1 && d.items[0].mark.line == 1 &&
		  d.items[0].mark.col == col &&
		  !strncmp(d.items[0].msg, want, strlen(want));

	if (!ok)
		print_error("\"%s\": %s at %u:%u\n", value,
			    d.n ? d.items[0].msg : "accepted",
			    d.n ? d.items[0].mark.line : 0,
			    d.n ? d.items[0].mark.col : 0);
	ds_node_free(root);
	ds_diags_finish(&d);
	_assert_true(ok, value, file, line);
}

static void test_untagged(void **state)
{
	scalar_is("12", "12", true);
	scalar_is("\"12\"", "12", false);
	scalar_is("'true'", "true", false);
}

static void test_core_tags_type_scalars(void **state)
{
	/* tagged as a number, bool or null: read as if bare */
	scalar_is("!!int 12", "12", true);
	scalar_is("!!int \"-12\"", "-12", true);
	scalar_is("!!int 0x1F", "0x1F", true);
	scalar_is("!!int 0o17", "0o17", true);
	scalar_is("!!float 1.5e3", "1.5e3", true);
	scalar_is("!!float -.inf", "-.inf", true);
	scalar_is("!!float .NaN", ".NaN", true);
	scalar_is("!!float 3", "3", true);
	scalar_is("!!bool true", "true", true);
	scalar_is("!!bool FALSE", "FALSE", true);
	scalar_is("!!null ~", "~", true);
	scalar_is("!!null", "", true);
	scalar_is("!<tag:yaml.org,2002:int> 7", "7", true);
}

static void test_text_tags(void **state)
{
	/* !!str and the non-specific "!" make text, as quotes do */
	scalar_is("!!str 12", "12", false);
	scalar_is("!!str true", "true", false);
	scalar_is("!<tag:yaml.org,2002:str> 007", "007", false);
	scalar_is("! 12", "12", false);
}

static void test_core_tag_mismatch(void **state)
{
	refused("!!int abc", 4,
		"YAML tag '!!int' on a value that is not an "
		"integer");
	refused("!!int 1.5", 4, "YAML tag '!!int'");
	refused("!!int 0x", 4, "YAML tag '!!int'");
	refused("!!float 1.2.3", 4, "YAML tag '!!float'");
	refused("!!bool yes", 4, "YAML tag '!!bool'");
	refused("!!null 0", 4, "YAML tag '!!null'");
	refused("!!map [a]", 4, "YAML tag '!!map' on a list");
	refused("!!seq {a: 1}", 4, "YAML tag '!!seq' on a mapping");
	refused("!!str [a]", 4, "YAML tag '!!str' on a list");
}

static void test_other_tags(void **state)
{
	refused("!!binary aGVsbG8=", 4, "unsupported YAML tag '!!binary'");
	refused("!!timestamp 2001-12-14", 4,
		"unsupported YAML tag '!!timestamp'");
	refused("!!set {a}", 4, "unsupported YAML tag '!!set'");
	refused("!local x", 4, "unsupported YAML tag '!local'");
	refused("!<tag:example.com,2000:x> y", 4,
		"unsupported YAML tag 'tag:example.com,2000:x'");
	refused("!%01x y", 4, "unsupported YAML tag '!?x'");
}

static void test_tagged_key(void **state)
{
	struct ds_diags d;
	struct ds_node *root = NULL;
	static const char ok[] = "!!str k: v\n";
	static const char bad[] = "!!binary k: v\n";

	assert_int_equal(ds_diags_init(&d, "t.yaml"), 0);
	assert_int_equal(ds_yaml_load(ok, strlen(ok), &d, &root), 0);
	assert_non_null(ds_node_get(root, "k"));
	ds_node_free(root);
	root = NULL;
	assert_int_not_equal(ds_yaml_load(bad, strlen(bad), &d, &root), 0);
	assert_null(root);
	assert_int_equal(d.n, 1);
	ds_diags_finish(&d);
}

/* A redefined !! handle makes !!str another tag, refused. */
static void test_tag_directive(void **state)
{
	struct ds_diags d;
	struct ds_node *root = NULL;
	static const char text[] = "%TAG !! tag:example.com,2000:\n---\n"
				   "k: !!str v\n";

	assert_int_equal(ds_diags_init(&d, "t.yaml"), 0);
	assert_int_not_equal(ds_yaml_load(text, strlen(text), &d, &root), 0);
	assert_int_equal(d.n, 1);
	assert_string_equal(
	    d.items[0].msg,
	    "unsupported YAML tag 'tag:example.com,2000:str'; a "
	    "file takes only the YAML core schema's tags "
	    "(!!str, !!int, !!float, !!bool, !!null, !!map, "
	    "!!seq)");
	ds_diags_finish(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_untagged),
	    cmocka_unit_test(test_core_tags_type_scalars),
	    cmocka_unit_test(test_text_tags),
	    cmocka_unit_test(test_core_tag_mismatch),
	    cmocka_unit_test(test_other_tags),
	    cmocka_unit_test(test_tagged_key),
	    cmocka_unit_test(test_tag_directive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
