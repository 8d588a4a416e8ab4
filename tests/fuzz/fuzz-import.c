/* Fuzz target: import's path from domain XML to a desired-state file. Any
 * input either fails cleanly (ds_import_xml returns an error with a
 * reason) or gives YAML that the parser reads back whole: one document,
 * every value one the schema walk takes, and the same text when written
 * again. A breach aborts, so that libFuzzer and the corpus runner report
 * it. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "node.h"
#include "parse.h"
#include "schema.h"
#include "yamlout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void breach(const char *what, const struct ds_import *im)
{
	fprintf(stderr, "fuzz-import: %s:\n%s\n", what, im->yaml);
	abort();
}

static bool none_bad(const struct ds_node *n)
{
	if (n->bad)
		return false;
	for (size_t i = 0; i < n->n_kids; i++)
		if (!none_bad(n->kids[i]))
			return false;
	return true;
}

/* The file's text read as a file is read and written again, or NULL. */
static char *rewrite(const char *text, size_t len, size_t *ret_len)
{
	struct ds_node *root = NULL;
	struct ds_diags d;
	char *out = NULL;

	if (ds_diags_init(&d, "fuzz.yaml") < 0)
		abort();
	if (ds_yaml_load(text, len, &d, &root) == 0) {
		ds_parse_tree(&root, &d);
		if (ds_yaml_write(root, &ds_schema_domain, &out, ret_len) < 0)
			out = NULL;
	}
	ds_node_free(root);
	ds_diags_finish(&d);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ds_import_opts io = {"shutoff", 1, false};
	struct ds_import im;
	struct ds_node *root = NULL;
	struct ds_diags d;
	char why[512], *again = NULL;
	size_t len;
	int r;

	if (size > 65536)
		return 0;
	why[0] = 0;
	r = ds_import_xml((const char *)data, size, &io, &im, why, sizeof(why));
	if (r == -EINVAL && !why[0])
		abort(); /* refused without a reason */
	if (r < 0)
		return 0;
	if (!im.name || !im.yaml || strlen(im.yaml) != im.len)
		breach("no name or text", &im);
	if (ds_diags_init(&d, "fuzz.yaml") < 0)
		abort();
	if (ds_yaml_load(im.yaml, im.len, &d, &root) < 0)
		breach("the YAML does not load", &im);
	ds_parse_tree(&root, &d);
	if (!none_bad(root))
		breach("the parser refuses a value", &im);
	ds_node_free(root);
	root = NULL;
	ds_diags_finish(&d);
	/* read and written again, the text is the same: after one round at
	 * most, as the parser may respell a value (a UUID with its dashes
	 * elsewhere) */
	again = rewrite(im.yaml, im.len, &len);
	if (!again)
		breach("it cannot be read and written again", &im);
	if (len != im.len || memcmp(again, im.yaml, len)) {
		size_t len2;
		char *third = rewrite(again, len, &len2);
		if (!third || len2 != len || memcmp(third, again, len))
			breach("written again, the text keeps changing", &im);
		free(third);
	}
	free(again);
	ds_import_finish(&im);
	return 0;
}
