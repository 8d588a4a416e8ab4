/* Prints the desired-state format's table (ds_schema_domain, schema.h) as
 * JSON, so that the generative test (tests/gen/gen.py) follows the table
 * as it changes instead of a copy of its keys. Each field is an object:
 * key, kind, xml, values, min, max, shorthand, check, required, ordered,
 * the comparison's settings (filled, none, generated, open, whole,
 * empty_ok, identity, alias, stated, unit_default), kids (a map's fields,
 * or a list's one item field). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include "schema.h"

static void put_string(const char *s)
{
	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

/* A NULL-terminated list of strings as a JSON array, or null. */
static void put_strings(const char *const *v)
{
	if (!v) {
		fputs("null", stdout);
		return;
	}
	putchar('[');
	for (size_t i = 0; v[i]; i++) {
		fputs(i ? ", " : "", stdout);
		put_string(v[i]);
	}
	putchar(']');
}

static const char *kind_name(enum ds_kind k)
{
	switch (k) {
	case DS_STR:
		return "str";
	case DS_UINT:
		return "uint";
	case DS_INT:
		return "int";
	case DS_BOOL:
		return "bool";
	case DS_ENUM:
		return "enum";
	case DS_SIZE:
		return "size";
	case DS_MAP:
		return "map";
	case DS_LIST:
		return "list";
	case DS_FLAGS:
		return "flags";
	case DS_PRESENCE:
		return "presence";
	case DS_XML:
		return "xml";
	case DS_XML_NS:
		return "xml_ns";
	}
	return "unknown";
}

static const char *check_name(enum ds_check c)
{
	switch (c) {
	case DS_CHECK_NONE:
		return "none";
	case DS_CHECK_NAME:
		return "name";
	case DS_CHECK_UUID:
		return "uuid";
	case DS_CHECK_CPUSET:
		return "cpuset";
	case DS_CHECK_MAC:
		return "mac";
	case DS_CHECK_PATH:
		return "path";
	case DS_CHECK_TOKEN:
		return "token";
	case DS_CHECK_LINE:
		return "line";
	case DS_CHECK_MACHINE:
		return "machine";
	case DS_CHECK_SERIAL:
		return "serial";
	case DS_CHECK_NUMBER:
		return "number";
	case DS_CHECK_USB_VERSION:
		return "usb_version";
	}
	return "unknown";
}

/* The maps being dumped, outermost first: a map met again within itself
 * (a disk's backingStore chain) is dumped once, then marked "recursion". */
static const struct ds_field *open_maps[64];

static bool recursion(const struct ds_field *f, int depth)
{
	for (int i = 0; i < depth && i < 64; i++)
		if (open_maps[i] == f->kids)
			return true;
	return false;
}

static void put_field(const struct ds_field *f, int depth)
{
	printf("%*s{\"key\": ", depth * 2, "");
	put_string(f->key);
	printf(", \"kind\": \"%s\", \"xml\": ", kind_name(f->kind));
	put_string(f->xml);
	fputs(", \"values\": ", stdout);
	put_strings(f->values);
	printf(", \"min\": %" PRId64 ", \"max\": %" PRId64 ", \"shorthand\": ",
	       f->min, f->max);
	put_string(f->shorthand);
	printf(", \"check\": \"%s\", \"required\": %s, \"ordered\": %s",
	       check_name(f->check), f->required ? "true" : "false",
	       f->ordered ? "true" : "false");
	printf(", \"filled\": %s, \"none\": ", f->filled ? "true" : "false");
	put_string(f->none);
	printf(", \"generated\": %s, \"open\": %s, \"whole\": %s"
	       ", \"empty_ok\": %s, \"identity\": ",
	       f->generated ? "true" : "false", f->open ? "true" : "false",
	       f->whole ? "true" : "false", f->empty_ok ? "true" : "false");
	put_string(f->identity);
	fputs(", \"alias\": ", stdout);
	put_string(f->alias);
	fputs(", \"unit_default\": ", stdout);
	put_string(f->unit_default);
	fputs(", \"stated\": ", stdout);
	put_strings(f->stated);
	fputs(", \"canon\": ", stdout);
	put_strings(f->canon);
	if (f->kind == DS_MAP && f->kids && recursion(f, depth)) {
		fputs(", \"recursion\": true, \"kids\": []}", stdout);
		return;
	}
	if (depth < 64)
		open_maps[depth] = f->kids;
	fputs(", \"kids\": [", stdout);
	if (f->kind == DS_LIST && f->kids) {
		putchar('\n');
		put_field(&f->kids[0], depth + 1);
		printf("\n%*s", depth * 2, "");
	} else if (f->kind == DS_MAP && f->kids) {
		for (const struct ds_field *k = f->kids; k->key; k++) {
			fputs(k == f->kids ? "\n" : ",\n", stdout);
			put_field(k, depth + 1);
		}
		printf("\n%*s", depth * 2, "");
	}
	fputs("]}", stdout);
}

int main(void)
{
	put_field(&ds_schema_domain, 0);
	putchar('\n');
	return ferror(stdout) || fflush(stdout) ? 1 : 0;
}
