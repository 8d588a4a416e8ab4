/* Unit tests: schema (cmocka). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "schema.h"

#define N(a) (sizeof(a) / sizeof(*(a)) - 1) /* without the NULL */

static const char *const colors[] = {"red", "green", "blue", NULL};

static const char *const domain_keys[] = {
    "name",          "uuid",        "type",        "state",     "autostart",
    "adopt",         "title",       "description", "maxMemory", "memory",
    "currentMemory", "vcpu",        "os",          "features",  "cpu",
    "clock",         "on_poweroff", "on_reboot",   "on_crash",  "devices",
    "xml",           NULL,
};

static void test_enum_index(void **state)
{
	static const char *const empty[] = {NULL};

	assert_int_equal(ds_enum_index(colors, "red"), 0);
	assert_int_equal(ds_enum_index(colors, "green"), 1);
	assert_int_equal(ds_enum_index(colors, "blue"), 2);
	assert_int_equal(ds_enum_index(colors, "Blue"), -1);
	assert_int_equal(ds_enum_index(colors, "blu"), -1);
	assert_int_equal(ds_enum_index(colors, "blues"), -1);
	assert_int_equal(ds_enum_index(colors, ""), -1);
	assert_int_equal(ds_enum_index(empty, "red"), -1);
}

#define suggest_is(s, want) \
	suggest_is_at(s, domain_keys, N(domain_keys), want, __FILE__, __LINE__)
static void suggest_is_at(const char *s, const char *const *cands, size_t n,
			  const char *want, const char *file, int line)
{
	const char *got = ds_suggest(s, cands, n);

	if (!want) {
		if (got)
			print_error("\"%s\": got \"%s\", want none\n", s, got);
		_assert_true(got == NULL, "no suggestion", file, line);
		return;
	}
	if (!got)
		print_error("\"%s\": got none, want \"%s\"\n", s, want);
	_assert_true(got != NULL, "a suggestion", file, line);
	_assert_string_equal(got, want, file, line);
}

static void test_suggest_typos(void **state)
{
	suggest_is("currentMemroy", "currentMemory"); /* swap */
	suggest_is("memroy", "memory");               /* swap */
	suggest_is("tpye", "type");                   /* swap */
	suggest_is("ytpe", "type");
	suggest_is("memory ", "memory"); /* insertion */
	suggest_is("memor", "memory");   /* deletion */
	suggest_is("mamory", "memory");  /* substitution */
	suggest_is("nme", "name");
	suggest_is("autostrat", "autostart");
	suggest_is("on_rebot", "on_reboot");
	suggest_is("devics", "devices");
	suggest_is("currentMemry", "currentMemory");
	/* Words of six or more letters allow two edits. */
	suggest_is("mmroy", NULL);
	suggest_is("cuurentMemroy", "currentMemory");
	suggest_is("descrpiton", "description");
	/* Shorter words allow only one. */
	suggest_is("tpy", NULL);
	suggest_is("tipo", NULL);
}

static void test_suggest_far(void **state)
{
	suggest_is("color", NULL);
	suggest_is("hostname", NULL);
	suggest_is("ram", NULL);
	suggest_is("x", NULL);
	suggest_is("", NULL);
	suggest_is("zzzzzzzzzzzz", NULL);
}

static void test_suggest_case(void **state)
{
	suggest_is("CurrentMemory", "currentMemory");
	suggest_is("currentmemory", "currentMemory");
	suggest_is("CURRENTMEMORY", "currentMemory");
	suggest_is("MEMORY", "memory");
	suggest_is("Name", "name");
	suggest_is("OS", "os");
	suggest_is("maxmemory", "maxMemory");
}

static void test_suggest_exact(void **state)
{
	suggest_is("memory", "memory");
	suggest_is("os", "os");
}

static void test_suggest_long(void **state)
{
	static const char *const long_cands[] = {
	    /* 32 letters: compared */
	    "abcdefghijklmnopqrstuvwxyzabcdef",
	    /* 33 letters: too long to compare by distance */
	    "abcdefghijklmnopqrstuvwxyzabcdefg",
	    NULL,
	};

	suggest_is_at("abcdefghijklmnopqrstuvwxyzabcdex", long_cands,
		      N(long_cands), long_cands[0], __FILE__, __LINE__);
	suggest_is_at("abcdefghijklmnopqrstuvwxyzabcdeX", long_cands + 1, 1,
		      NULL, __FILE__, __LINE__);
	suggest_is_at("abcdefghijklmnopqrstuvwxyzabcdefX", long_cands + 1, 1,
		      NULL, __FILE__, __LINE__);
	suggest_is_at("abcdefghijklmnopqrstuvwxyzabcdefgh", long_cands + 1, 1,
		      NULL, __FILE__, __LINE__);
	/* A case-only difference is found whatever the length. */
	suggest_is_at("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG", long_cands,
		      N(long_cands), long_cands[1], __FILE__, __LINE__);
	/* Very long input must not crash or match. */
	char big[4096];
	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	suggest_is(big, NULL);
}

static void test_suggest_n(void **state)
{
	/* Only the first n candidates are considered. */
	assert_null(ds_suggest("bleu", colors, 2));
	assert_string_equal(ds_suggest("bleu", colors, 3), "blue");
	/* A NULL entry ends the list even if n is larger. */
	assert_string_equal(ds_suggest("gren", colors, 100), "green");
	assert_null(ds_suggest("gren", colors, 0));
}

static void test_suggest_best(void **state)
{
	static const char *const cands[] = {"abcdef", "abcdxy", "abcdex", NULL};

	/* The nearest candidate wins, not the first within reach. */
	assert_string_equal(ds_suggest("abcdez", cands, N(cands)), "abcdef");
	assert_string_equal(ds_suggest("abcdxx", cands, N(cands)), "abcdxy");
	assert_string_equal(ds_suggest("abcdex", cands, N(cands)), "abcdex");
}

static void test_enum_list(void **state)
{
	static const char *const one[] = {"a", NULL};
	static const char *const two[] = {"a", "b", NULL};
	static const char *const three[] = {"a", "b", "c", NULL};
	static const char *const four[] = {"bios", "efi", "rom", "pflash",
					   NULL};
	static const char *const none[] = {NULL};
	char buf[64];

	assert_ptr_equal(ds_enum_list(one, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "a");
	assert_string_equal(ds_enum_list(two, buf, sizeof(buf)), "a or b");
	assert_string_equal(ds_enum_list(three, buf, sizeof(buf)), "a, b or c");
	assert_string_equal(ds_enum_list(four, buf, sizeof(buf)),
			    "bios, efi, rom or pflash");
	assert_string_equal(ds_enum_list(colors, buf, sizeof(buf)),
			    "red, green or blue");
	memset(buf, 'x', sizeof(buf));
	assert_string_equal(ds_enum_list(none, buf, sizeof(buf)), "");
}

static void test_enum_list_truncates(void **state)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	assert_string_equal(ds_enum_list(colors, buf, sizeof(buf)), "red, gr");
	assert_string_equal(ds_enum_list(colors, buf, 4), "red");
	assert_string_equal(ds_enum_list(colors, buf, 1), "");
}

static void test_field_kid(void **state)
{
	const struct ds_field *root = &ds_schema_domain, *f;

	assert_int_equal(root->kind, DS_MAP);
	for (size_t i = 0; domain_keys[i]; i++) {
		f = ds_field_kid(root, domain_keys[i]);
		if (!f)
			print_error("key \"%s\" not found\n", domain_keys[i]);
		assert_non_null(f);
		assert_string_equal(f->key, domain_keys[i]);
	}

	f = ds_field_kid(root, "name");
	assert_int_equal(f->kind, DS_STR);
	assert_int_equal(f->check, DS_CHECK_NAME);
	assert_true(f->required);
	f = ds_field_kid(root, "memory");
	assert_int_equal(f->kind, DS_MAP);
	assert_string_equal(f->shorthand, "value");
	assert_false(f->required); /* NUMA cells may give it (validate.c) */
	assert_int_equal(ds_field_kid(f, "value")->kind, DS_SIZE);
	assert_true(ds_field_kid(f, "value")->required);
	f = ds_field_kid(root, "currentMemory");
	assert_int_equal(f->kind, DS_SIZE);
	assert_false(f->required);
	f = ds_field_kid(root, "type");
	assert_int_equal(f->kind, DS_ENUM);
	assert_true(ds_enum_index(f->values, "kvm") >= 0);
	assert_int_equal(ds_enum_index(f->values, "kvmm"), -1);
	f = ds_field_kid(root, "vcpu");
	assert_int_equal(f->kind, DS_MAP);
	assert_string_equal(f->shorthand, "value");
	f = ds_field_kid(root, "features");
	assert_int_equal(f->kind, DS_MAP);
	assert_true(f->whole);
	assert_int_equal(ds_field_kid(f, "acpi")->kind, DS_PRESENCE);
	/* on/off attributes keep their own words */
	f = ds_field_kid(ds_field_kid(f, "vmport"), "state");
	assert_int_equal(f->kind, DS_BOOL);
	assert_string_equal(f->values[0], "on");
	assert_string_equal(f->values[1], "off");
	/* Agent settings are not rendered. */
	assert_null(ds_field_kid(root, "state")->xml);
	assert_null(ds_field_kid(root, "autostart")->xml);
}

static void test_field_kid_unknown(void **state)
{
	const struct ds_field *root = &ds_schema_domain;

	assert_null(ds_field_kid(root, "memroy"));
	assert_null(ds_field_kid(root, "Memory"));
	assert_null(ds_field_kid(root, ""));
	assert_null(ds_field_kid(root, "loader")); /* only under os */
	assert_null(ds_field_kid(root, "memory "));
	/* A field without kids has no kid. */
	assert_null(ds_field_kid(ds_field_kid(root, "currentMemory"), "value"));
	assert_null(ds_field_kid(ds_field_kid(root, "type"), "kvm"));
}

static void test_field_kid_nested(void **state)
{
	const struct ds_field *os, *loader, *f, *disks, *disk;

	os = ds_field_kid(&ds_schema_domain, "os");
	assert_non_null(os);
	assert_int_equal(os->kind, DS_MAP);
	assert_string_equal(os->shorthand, "type");

	loader = ds_field_kid(os, "loader");
	assert_non_null(loader);
	assert_int_equal(loader->kind, DS_MAP);
	assert_string_equal(loader->xml, "loader");
	assert_string_equal(loader->shorthand, "value");
	f = ds_field_kid(loader, "readonly");
	assert_non_null(f);
	assert_int_equal(f->kind, DS_BOOL);
	assert_string_equal(f->xml, "@readonly");
	f = ds_field_kid(loader, "type");
	assert_non_null(f);
	assert_int_equal(f->kind, DS_ENUM);
	assert_true(ds_enum_index(f->values, "pflash") >= 0);
	assert_null(ds_field_kid(loader, "template"));
	assert_non_null(ds_field_kid(ds_field_kid(os, "nvram"), "template"));

	f = ds_field_kid(ds_field_kid(&ds_schema_domain, "cpu"), "topology");
	assert_non_null(f);
	assert_non_null(ds_field_kid(f, "sockets"));
	assert_null(ds_field_kid(f, "loader"));

	/* A list's item is its only kid. */
	disks =
	    ds_field_kid(ds_field_kid(&ds_schema_domain, "devices"), "disk");
	assert_non_null(disks);
	assert_int_equal(disks->kind, DS_LIST);
	assert_string_equal(disks->alias, "disks");
	assert_string_equal(disks->identity, "target@dev");
	disk = &disks->kids[0];
	assert_int_equal(disk->kind, DS_MAP);
	f = ds_field_kid(disk, "target");
	assert_non_null(f);
	assert_true(f->required);
	assert_non_null(ds_field_kid(ds_field_kid(disk, "source"), "file"));
	/* a device's address is libvirt's */
	f = ds_field_kid(disk, "address");
	assert_non_null(f);
	assert_true(f->generated);
	assert_true(f->filled);
	/* an attribute and a child element of one name: the element is
	 * <name>_element */
	f = ds_field_kid(
	    ds_field_kid(ds_field_kid(&ds_schema_domain, "devices"),
			 "controller")
		->kids,
	    "model_element");
	assert_non_null(f);
	assert_string_equal(f->xml, "model");
	/* a disk's backing chain: the map refers to itself */
	f = ds_field_kid(disk, "backingStore");
	assert_non_null(f);
	assert_ptr_equal(ds_field_kid(f, "backingStore")->kids, f->kids);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_enum_index),
	    cmocka_unit_test(test_suggest_typos),
	    cmocka_unit_test(test_suggest_far),
	    cmocka_unit_test(test_suggest_case),
	    cmocka_unit_test(test_suggest_exact),
	    cmocka_unit_test(test_suggest_long),
	    cmocka_unit_test(test_suggest_n),
	    cmocka_unit_test(test_suggest_best),
	    cmocka_unit_test(test_enum_list),
	    cmocka_unit_test(test_enum_list_truncates),
	    cmocka_unit_test(test_field_kid),
	    cmocka_unit_test(test_field_kid_unknown),
	    cmocka_unit_test(test_field_kid_nested),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
