/* Comparing what a file says with what libvirt has, after normalising:
 * units, CPU-set spellings, UUID case, libvirt's rounding, item order in
 * unordered lists. Only what the file says is compared: what it leaves out
 * is not the agent's to manage. */
#pragma once

#include "node.h"

/* One field whose value differs. */
struct ds_change {
	char *path; /* "vcpu.current", "devices.disk" */
	char *want; /* the file's value, formatted for people */
	char *have; /* libvirt's, or NULL when it has none */
};

struct ds_changes {
	struct ds_change *items;
	size_t n;
};

/* A machine alias of the host, from libvirt's capabilities: on x86_64,
 * pc stands for pc-i440fx-7.2 where QEMU 7.2 runs. */
struct ds_machine_alias {
	const char *arch; /* x86_64 */
	const char *alias;
	const char *canonical;
};

/* What the host says that the comparison needs; may be all empty. */
struct ds_compare_ctx {
	const struct ds_machine_alias *aliases;
	size_t n_aliases;
	/* the model of the host's first security driver, which a seclabel
	 * without one takes (ds_tree_normalise_host); NULL: unknown */
	const char *secmodel;
};

/* Lists the fields of want (a file's tree) that differ in have (a tree read
 * from libvirt's XML), in the format's order. ctx may be NULL. Returns 0 or
 * -ENOMEM. */
int ds_tree_compare(const struct ds_node *want, const struct ds_node *have,
		    struct ds_changes *ret);
int ds_tree_compare_ctx(const struct ds_node *want, const struct ds_node *have,
			const struct ds_compare_ctx *ctx,
			struct ds_changes *ret);
void ds_changes_finish(struct ds_changes *c);

/* Compares two trees of another root of the format (ds_schema_pool), by
 * the same rules, without a host's context. */
struct ds_field;
int ds_tree_compare_as(const struct ds_field *format,
		       const struct ds_node *want, const struct ds_node *have,
		       struct ds_changes *ret);

/* Whether a machine type names its version (pc-q35-7.2), not an alias
 * (q35, pc, virt). */
bool ds_machine_versioned(const char *machine);

/* Whether a file's machine type names libvirt's. An alias the host knows
 * (ctx) names its canonical type only; otherwise pc names pc-i440fx-*, q35
 * names pc-q35-*, and a name without a version names itself followed by
 * one (virt is virt-7.2). arch may be NULL (any). */
bool ds_machine_equal(const struct ds_compare_ctx *ctx, const char *arch,
		      const char *want, const char *have);

/* Whether have holds everything the map want says (a raw fragment's
 * device, read through the format, in libvirt's). */
bool ds_item_contains(const struct ds_node *want, const struct ds_node *have);

/* Whether a list item of a file (a device) is libvirt's item have, as the
 * comparison of the whole list pairs them: what the file leaves out must
 * be absent from have too, unless libvirt fills it in. */
bool ds_item_equal(const struct ds_node *want, const struct ds_node *have);

/* Formats a node's value for people ("512 MiB", "[hd, cdrom]",
 * "{dev: vda, bus: virtio}"); the caller frees it. NULL when out of memory. */
char *ds_node_format(const struct ds_node *n);
