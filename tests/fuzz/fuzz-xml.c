/* Fuzz target: domain XML, as libvirt might return it, through what reads
 * it: the reader into the format's tree, the comparison with a file, and
 * the merge that a redefine sends back. */
#include <libxml/parser.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "domain.h"
#include "merge.h"
#include "render.h"
#include "xmlread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A file that gives a field of every kind, compared and merged against. */
static const char desired_yaml[] =
    "name: fuzz\n"
    "memory: 1 GiB\n"
    "maxMemory: {value: 2 GiB, slots: 4}\n"
    "vcpu: {value: 4, current: 2, cpuset: \"0-3\"}\n"
    "os: {machine: q35, boot: [hd, network], bootmenu: true}\n"
    "features: [acpi, apic]\n"
    "cpu: {mode: host-model, numa: [{id: 0, cpus: 0-3, memory: 1 GiB}]}\n"
    "devices:\n"
    "  disk: [{source: {file: /x.qcow2}, target: vda, readonly: true}]\n"
    "  interface: [{type: network, source: {network: default}, "
    "mac: \"52:54:00:00:00:01\"}]\n"
    "  serial: [pty]\n";

static struct ds_domain *desired(void)
{
	static struct ds_domain *dom;
	struct ds_diags d;

	if (!dom && ds_diags_init(&d, "fuzz.yaml") == 0) {
		ds_domain_parse("fuzz.yaml", desired_yaml, strlen(desired_yaml),
				&d, &dom);
		ds_diags_finish(&d);
	}
	return dom;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ds_domain *want = desired();
	xmlDocPtr have, rendered = NULL;
	struct ds_node *tree = NULL;
	struct ds_changes changes = {0};
	struct ds_diags d;

	if (!want || size > 65536)
		return 0;
	have = xmlReadMemory((const char *)data, size, "fuzz.xml", NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR |
				 XML_PARSE_NOWARNING);
	if (!have || !xmlDocGetRootElement(have)) {
		xmlFreeDoc(have);
		return 0;
	}
	if (ds_tree_from_text((const char *)data, size, &tree) == 0)
		ds_tree_compare(ds_domain_compared(want), tree, &changes);
	if (ds_diags_init(&d, "fuzz.yaml") == 0 &&
	    ds_render(want, "kvm", &d, &rendered) == 0) {
		ds_merge(xmlDocGetRootElement(have),
			 xmlDocGetRootElement(rendered), want->root);
		free(ds_render_text(have));
	}
	ds_diags_finish(&d);
	ds_changes_finish(&changes);
	ds_node_free(tree);
	xmlFreeDoc(rendered);
	xmlFreeDoc(have);
	return 0;
}
