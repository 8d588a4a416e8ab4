/* Unit tests: schema (cmocka). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <libxml/parser.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"
#include "render.h"
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

/* The field at a dotted path of map fields ("target.format"), or NULL. */
static const struct ds_field *field_at(const struct ds_field *f,
				       const char *path)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); f && k;
	     k = strtok_r(NULL, ".", &save))
		f = ds_field_kid(f->kind == DS_LIST ? f->kids : f, k);
	return f;
}

#define assert_agent(f)                \
	do {                           \
		assert_non_null(f);    \
		assert_null((f)->xml); \
	} while (0)

static void test_volume(void **state)
{
	static const char *const none[] = {"name",
					   "key",
					   "source",
					   "physical",
					   "target.path",
					   "target.timestamps",
					   "target.encryption",
					   "backingStore.permissions",
					   "backingStore.timestamps",
					   "type",
					   NULL};
	const struct ds_field *v = &ds_schema_volume, *f;

	assert_int_equal(v->kind, DS_MAP);
	assert_string_equal(v->xml, "volume");
	for (size_t i = 0; none[i]; i++) {
		if (field_at(v, none[i]))
			print_error("volume key \"%s\" is there\n", none[i]);
		assert_null(field_at(v, none[i]));
	}
	/* sizes, which libvirt's storage XML gives in bytes by default */
	f = field_at(v, "capacity");
	assert_int_equal(f->kind, DS_SIZE);
	assert_string_equal(f->xml, "capacity");
	assert_string_equal(f->unit_default, "bytes");
	assert_false(f->required);
	assert_int_equal(field_at(v, "allocation")->kind, DS_SIZE);
	assert_int_equal(field_at(v, "target.clusterSize")->kind, DS_SIZE);
	/* the target is optional: a volume may give its capacity alone */
	assert_false(field_at(v, "target")->required);
	/* format: qcow2 */
	f = field_at(v, "target.format");
	assert_int_equal(f->kind, DS_MAP);
	assert_string_equal(f->shorthand, "type");
	assert_true(ds_enum_index(field_at(f, "type")->values, "qcow2") >= 0);
	assert_true(ds_enum_index(field_at(f, "type")->values, "raw") >= 0);
	assert_string_equal(field_at(v, "backingStore.format")->shorthand,
			    "type");
	assert_int_equal(field_at(v, "target.compat")->kind, DS_STR);
	assert_int_equal(field_at(v, "target.nocow")->kind, DS_PRESENCE);
	assert_int_equal(field_at(v, "target.features.lazy_refcounts")->kind,
			 DS_PRESENCE);
	assert_int_equal(field_at(v, "target.permissions.mode")->kind, DS_UINT);
	assert_non_null(field_at(v, "target.permissions.owner"));
	assert_non_null(field_at(v, "target.permissions.group"));
	assert_non_null(field_at(v, "target.permissions.label"));
	/* a base by path, or as a volume of a pool (the agent's) */
	f = field_at(v, "backingStore.path");
	assert_string_equal(f->xml, "path");
	assert_int_equal(f->check, DS_CHECK_PATH);
	assert_false(f->required);
	assert_agent(field_at(v, "backingStore.pool"));
	assert_agent(field_at(v, "backingStore.volume"));
	/* a full copy of a base: a map of the agent's keys */
	f = field_at(v, "clone");
	assert_agent(f);
	assert_int_equal(f->kind, DS_MAP);
	assert_int_equal(f->n_by_xml, 0);
	assert_int_equal(field_at(f, "path")->check, DS_CHECK_PATH);
	assert_agent(field_at(f, "path"));
	assert_agent(field_at(f, "pool"));
	assert_agent(field_at(f, "volume"));
}

static void test_pool(void **state)
{
	static const char *const types[] = {
	    "dir",      "fs",           "netfs", "logical",  "disk",
	    "iscsi",    "iscsi-direct", "scsi",  "mpath",    "rbd",
	    "sheepdog", "gluster",      "zfs",   "vstorage", NULL};
	static const char *const agent[] = {"kind",  "state", "autostart",
					    "adopt", "build", NULL};
	static const char *const none[] = {"capacity",
					   "allocation",
					   "available",
					   "key",
					   "source.device.freeExtent",
					   NULL};
	const struct ds_field *p = &ds_schema_pool, *f;

	assert_int_equal(p->kind, DS_MAP);
	assert_string_equal(p->xml, "pool");
	assert_string_equal(p->kids[0].key, "name");
	f = field_at(p, "name");
	assert_true(f->required);
	assert_int_equal(f->check, DS_CHECK_NAME);
	assert_int_equal(field_at(p, "uuid")->check, DS_CHECK_UUID);
	/* every pool type: the union of the schema's choice */
	f = field_at(p, "type");
	assert_int_equal(f->kind, DS_ENUM);
	assert_string_equal(f->xml, "@type");
	assert_true(f->required);
	for (size_t i = 0; types[i]; i++)
		assert_int_equal(ds_enum_index(f->values, types[i]), i);
	assert_null(f->values[N(types)]);
	for (size_t i = 0; agent[i]; i++)
		assert_agent(field_at(p, agent[i]));
	f = field_at(p, "kind");
	assert_int_equal(f->kind, DS_ENUM);
	assert_string_equal(f->values[0], "pool");
	assert_null(f->values[1]);
	assert_int_equal(ds_enum_index(field_at(p, "state")->values, "active"),
			 0);
	assert_int_equal(field_at(p, "build")->kind, DS_BOOL);
	for (size_t i = 0; none[i]; i++)
		assert_null(field_at(p, none[i]));
	/* the sources of all types */
	f = field_at(p, "source.device");
	assert_int_equal(f->kind, DS_LIST);
	assert_string_equal(f->kids[0].shorthand, "path");
	assert_string_equal(field_at(f, "path")->xml, "@path");
	assert_string_equal(field_at(p, "source.dir.path")->xml, "@path");
	assert_int_equal(field_at(p, "source.host")->kind, DS_LIST);
	assert_non_null(field_at(p, "source.host.port"));
	assert_non_null(field_at(p, "source.adapter.type"));
	assert_non_null(field_at(p, "source.name"));
	assert_non_null(field_at(p, "source.auth.secret.uuid"));
	f = field_at(p, "source.format");
	assert_string_equal(f->shorthand, "type");
	assert_true(ds_enum_index(field_at(f, "type")->values, "lvm2") >= 0);
	assert_true(ds_enum_index(field_at(f, "type")->values, "nfs") >= 0);
	f = field_at(p, "target.path");
	assert_int_equal(f->check, DS_CHECK_PATH);
	assert_false(f->required); /* a logical pool's is optional */
	assert_non_null(field_at(p, "target.permissions.mode"));
}

static void test_agent_in_domain(void **state)
{
	const struct ds_field *d = &ds_schema_domain, *f, *disk;

	f = field_at(d, "kind");
	assert_agent(f);
	assert_string_equal(f->values[0], "domain");
	/* a disk's volume: the volume's fields, rendered not in the disk */
	disk = field_at(d, "devices.disk");
	f = field_at(disk, "volume");
	assert_agent(f);
	assert_int_equal(f->kind, DS_MAP);
	assert_ptr_equal(f->kids, ds_schema_volume.kids);
	assert_int_equal(field_at(f, "capacity")->kind, DS_SIZE);
	/* the agent's keys come after the schema's */
	for (const struct ds_field *k = disk->kids[0].kids; k->key; k++)
		if (!k->xml)
			assert_null(k[1].key);
	/* a cloud-init seed */
	f = field_at(d, "cloudInit");
	assert_agent(f);
	assert_int_equal(f->kind, DS_MAP);
	assert_int_equal(f->n_by_xml, 0);
	assert_agent(field_at(f, "pool"));
	assert_string_equal(field_at(f, "user-data")->shorthand, "value");
	assert_agent(field_at(f, "user-data"));
	assert_agent(field_at(f, "user-data.value"));
	assert_int_equal(field_at(f, "user-data.value")->check, DS_CHECK_NONE);
	assert_agent(field_at(f, "user-data.file"));
	assert_agent(field_at(f, "meta-data.file"));
	assert_agent(field_at(f, "network-config.value"));
	assert_agent(field_at(f, "target.dev"));
	assert_true(ds_enum_index(field_at(f, "target.bus")->values, "sata") >=
		    0);
	/* the raw XML escape is still the last key */
	f = field_at(d, "xml");
	assert_agent(f);
	assert_null(f[1].key);
}

/* A disk's volume, read from a file, renders as a storage volume with its
 * units said: libvirt reads a size without one in bytes. */
static void test_volume_render(void **state)
{
	static const char yaml[] =
	    "name: v\n"
	    "memory: 1 GiB\n"
	    "devices:\n"
	    "  disk:\n"
	    "    - type: volume\n"
	    "      source: {pool: default, volume: v.qcow2}\n"
	    "      target: vda\n"
	    "      volume:\n"
	    "        capacity: 20 GiB\n"
	    "        allocation: 0\n"
	    "        target: {format: qcow2, clusterSize: 64 KiB,\n"
	    "                 features: [lazy_refcounts]}\n"
	    "        backingStore: {path: /var/lib/base.qcow2, format: qcow2,\n"
	    "                       pool: images}\n"
	    "        clone: {pool: images, volume: base.qcow2}\n";
	char rng_path[] = DS_LIBVIRT_SCHEMA;
	char *slash = strrchr(rng_path, '/');
	struct ds_node *root = NULL;
	struct ds_diags d;
	char *xml, path[sizeof(rng_path) + 32];

	assert_int_equal(ds_diags_init(&d, "v.yaml"), 0);
	assert_int_equal(ds_yaml_load(yaml, strlen(yaml), &d, &root), 0);
	assert_int_equal(ds_parse_tree(&root, &d), 0);
	assert_int_equal(d.n, 0);
	const struct ds_node *disk =
	    ds_node_path(root, "devices.disk")->kids[0];
	const struct ds_node *vol = ds_node_get(disk, "volume");
	assert_non_null(vol);
	assert_ptr_equal(vol->field,
			 field_at(&ds_schema_domain, "devices.disk.volume"));

	xml = ds_render_item(&ds_schema_volume, vol);
	assert_non_null(xml);
	assert_non_null(
	    strstr(xml, "<capacity unit=\"KiB\">20971520</capacity>"));
	assert_non_null(strstr(xml, "<allocation unit=\"KiB\">0</allocation>"));
	assert_non_null(
	    strstr(xml, "<clusterSize unit=\"KiB\">64</clusterSize>"));
	assert_non_null(strstr(xml, "<format type=\"qcow2\"/>"));
	assert_non_null(strstr(xml, "<lazy_refcounts/>"));
	/* the agent's keys render nothing */
	assert_null(strstr(xml, "images"));
	assert_null(strstr(xml, "clone"));

	/* valid against libvirt's schema, with the name the disk gives */
	*slash = 0;
	snprintf(path, sizeof(path), "%s/storagevol.rng", rng_path);
	if (access(path, R_OK) == 0) {
		struct ds_rng *rng = NULL;
		char *err = NULL, *named = NULL;
		xmlDocPtr doc;
		assert_true(asprintf(&named, "<volume><name>v.qcow2</name>%s",
				     strchr(xml, '>') + 1) > 0);
		doc = xmlReadMemory(named, strlen(named), NULL, NULL, 0);
		assert_non_null(doc);
		assert_int_equal(ds_rng_load(path, &rng, &err), 0);
		assert_int_equal(ds_rng_check(rng, doc, &d), 0);
		ds_rng_free(rng);
		xmlFreeDoc(doc);
		free(named);
	}
	free(xml);
	ds_node_free(root);
	ds_diags_finish(&d);
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
	    cmocka_unit_test(test_volume),
	    cmocka_unit_test(test_pool),
	    cmocka_unit_test(test_agent_in_domain),
	    cmocka_unit_test(test_volume_render),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
