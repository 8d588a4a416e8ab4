/* Unit tests: yamlout, the writer of desired-state files (cmocka). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "parse.h"
#include "schema.h"
#include "yamlout.h"

static void test_ambiguous(void **state)
{
	/* what a YAML reader (ours, or a YAML 1.1 one) takes for something
	 * other than text */
	static const char *const yes[] = {
	    "",
	    "~",
	    "null",
	    "NULL",
	    "true",
	    "False",
	    "yes",
	    "No",
	    "on",
	    "OFF",
	    "y",
	    "N",
	    "0",
	    "42",
	    "-7",
	    "+3",
	    "0755",
	    "0x1F",
	    "0o17",
	    "1e10",
	    "1.5",
	    ".5",
	    "-.inf",
	    ".NaN",
	    "1_000",
	    "1:20",
	    "2001-12-14",
	    "2001-12-14t21:59:43.10-05:00",
	    "52:54:00:12:34:56",
	    "127.0.0.1",
	    "=",
	    "<<",
	};
	static const char *const no[] = {
	    "web01",          "pc-q35-7.2", "default", "aa:bb:cc:dd:ee:ff",
	    "/var/lib/x.img", "1-4,^3,6",   "0123 45", "Skylake-Client",
	    "no way",         "yes!",       "ON-OFF",
	};

	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++)
		if (!ds_yaml_ambiguous(yes[i]))
			fail_msg("\"%s\" is taken as text", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++)
		if (ds_yaml_ambiguous(no[i]))
			fail_msg("\"%s\" is not taken as text", no[i]);
}

/* The text a YAML file writes back as, once read by the parser. */
static char *rewritten(const char *yaml)
{
	struct ds_node *root = NULL;
	struct ds_diags d;
	char *out = NULL;
	size_t len;

	assert_int_equal(ds_diags_init(&d, "t.yaml"), 0);
	assert_int_equal(ds_yaml_load(yaml, strlen(yaml), &d, &root), 0);
	if (ds_parse_tree(&root, &d) < 0)
		fail_msg("%s", d.items[0].msg);
	assert_int_equal(ds_yaml_write(root, &ds_schema_domain, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	ds_node_free(root);
	ds_diags_finish(&d);
	return out;
}

static void test_writes_the_format(void **state)
{
	/* out of table order, long forms, quoted numbers, units: written in
	 * the table's order, shorthands folded, sizes in the largest unit,
	 * text that would read as something else quoted, maps and lists of
	 * scalars in flow style, others in block style */
	char *out =
	    rewritten("memory: 2097152\n"
		      "devices:\n"
		      "  interfaces: [{type: user, model: {type: virtio}, mac: "
		      "'52:54:00:00:00:01'}]\n"
		      "  disks:\n"
		      "  - {source: {file: /var/x.img}, target: {dev: vda}}\n"
		      "title: \"yes\"\n"
		      "name: web01\n"
		      "vcpu: {value: '4'}\n"
		      "description: |\n"
		      "  two\n"
		      "  lines\n"
		      "os: {type: hvm, boot: [hd, cdrom]}\n"
		      "currentMemory: 1536 MiB\n"
		      "features: [acpi]\n"
		      "adopt: true\n");

	assert_string_equal(out,
			    "name: web01\n"
			    "adopt: true\n"
			    "title: 'yes'\n"
			    "description: |\n"
			    "  two\n"
			    "  lines\n"
			    "os:\n"
			    "  type: hvm\n"
			    "  boot: [hd, cdrom]\n"
			    "memory: 2 GiB\n"
			    "currentMemory: 1536 MiB\n"
			    "vcpu: 4\n"
			    "features: {acpi: true}\n"
			    "devices:\n"
			    "  disk:\n"
			    "  - source: {file: /var/x.img}\n"
			    "    target: vda\n"
			    "  interface:\n"
			    "  - {type: user, mac: '52:54:00:00:00:01', model: "
			    "virtio}\n");
	free(out);
}

static void test_strings_read_back(void **state)
{
	/* each written, then read as a file: the same text */
	static const char *const texts[] = {
	    "yes",       "null",       "~",        "0755",       "1:20",
	    "  leading", "trailing  ", "a: b",     "# hash",     "- dash",
	    "[list]",    "{map}",      "'quoted'", "\"double\"", "tab\there",
	    "café ☃",    "two\nlines", "end\n",    "\nstart",    "%percent",
	    "@at",       "`tick`",     "!bang",    "&amp",       "*star",
	    "|pipe",     ">gt",        "a #b",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
		const struct ds_field *f =
		    ds_field_kid(&ds_schema_domain, "description");
		struct ds_node *root =
		    ds_node_new(DS_NODE_MAP, (struct ds_mark){0});
		struct ds_node *n =
		    ds_node_new(DS_NODE_SCALAR, (struct ds_mark){0});
		struct ds_node *back = NULL, *v;
		struct ds_diags d;
		char *out = NULL;
		size_t len;

		root->field = &ds_schema_domain;
		n->key = strdup("description");
		n->str = strdup(texts[i]);
		n->field = f;
		assert_int_equal(ds_node_append(root, n), 0);
		assert_int_equal(
		    ds_yaml_write(root, &ds_schema_domain, &out, &len), 0);
		assert_int_equal(ds_diags_init(&d, "t.yaml"), 0);
		assert_int_equal(ds_yaml_load(out, len, &d, &back), 0);
		ds_parse_tree(&back, &d);
		v = ds_node_get(back, "description");
		if (!v || !v->str || strcmp(v->str, texts[i]) || v->bad)
			fail_msg("\"%s\" came back as \"%s\" from:\n%s",
				 texts[i], v && v->str ? v->str : "(none)",
				 out);
		ds_node_free(back);
		ds_diags_finish(&d);
		ds_node_free(root);
		free(out);
	}
}

/* A table of its own: the writer is generic over it. */
static const struct ds_field item_fields[] = {
    {.key = "name", .kind = DS_STR, .xml = "@name"},
    {.key = "address", .kind = DS_STR, .xml = "address@x", .generated = true},
    {.key = "on", .kind = DS_BOOL, .xml = "@on"},
    {0},
};
static const struct ds_field own_fields[] = {
    {.key = "items",
     .kind = DS_LIST,
     .xml = "item",
     .kids =
	 (const struct ds_field[]){
	     {.key = "", .kind = DS_MAP, .xml = "", .kids = item_fields}}},
    {.key = "size", .kind = DS_SIZE, .xml = "size"},
    {0},
};
static const struct ds_field own_root = {
    .key = "", .kind = DS_MAP, .xml = "", .kids = own_fields};

static struct ds_node *scalar(const char *key, const char *str)
{
	struct ds_node *n = ds_node_new(DS_NODE_SCALAR, (struct ds_mark){0});

	n->key = key ? strdup(key) : NULL;
	n->str = strdup(str);
	return n;
}

static void test_generic_table(void **state)
{
	struct ds_node *root = ds_node_new(DS_NODE_MAP, (struct ds_mark){0});
	struct ds_node *items = ds_node_new(DS_NODE_SEQ, (struct ds_mark){0});
	struct ds_node *item = ds_node_new(DS_NODE_MAP, (struct ds_mark){0});
	struct ds_node *bad = ds_node_new(DS_NODE_MAP, (struct ds_mark){0});
	struct ds_node *size = scalar("size", "x"), *on = scalar("on", "x");
	char *out = NULL;
	size_t len;

	items->key = strdup("items");
	/* a generated field is left out, a bad item too; keys and values
	 * that would read as something else are quoted */
	ds_node_append(item, scalar("name", "off"));
	ds_node_append(item, scalar("address", "0x1"));
	on->v.b = true;
	ds_node_append(item, on);
	ds_node_append(items, item);
	ds_node_append(bad, scalar("name", "gone"));
	bad->bad = true;
	ds_node_append(items, bad);
	ds_node_append(root, items);
	size->v.u = 3 * 1024 * 1024 + 512;
	ds_node_append(root, size);
	assert_int_equal(ds_yaml_write(root, &own_root, &out, &len), 0);
	assert_string_equal(out, "items:\n"
				 "- {name: 'off', 'on': true}\n"
				 "size: 3146240 KiB\n");
	free(out);
	ds_node_free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ambiguous),
	    cmocka_unit_test(test_writes_the_format),
	    cmocka_unit_test(test_strings_read_back),
	    cmocka_unit_test(test_generic_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
