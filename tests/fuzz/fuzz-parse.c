/* Fuzz target: a file's bytes through everything `validate` does without
 * libvirt: YAML, the schema walk, the rules, rendering, and the printer. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ds_diags d;
	struct ds_domain *dom = NULL;
	char *text = malloc(size + 1);
	static FILE *devnull;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	if (!text || ds_diags_init(&d, "fuzz.yaml") < 0) {
		free(text);
		return 0;
	}
	memcpy(text, data, size);
	text[size] = 0;
	ds_diags_set_text(&d, text, size);
	if (ds_domain_parse("fuzz.yaml", text, size, &d, &dom) == 0) {
		xmlDocPtr doc = NULL;
		if (ds_render(dom, "kvm", &d, &doc) == 0) {
			char *xml = ds_render_text(doc);
			free(xml);
		}
		xmlFreeDoc(doc);
	}
	if (devnull)
		ds_diags_print(&d, devnull, "fuzz");
	ds_domain_free(dom);
	ds_diags_finish(&d);
	return 0;
}
