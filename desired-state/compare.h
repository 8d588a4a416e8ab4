/* Comparing what a file says with what libvirt has, after normalising:
 * units, CPU-set spellings, UUID case, libvirt's rounding, item order in
 * unordered lists. Only what the file says is compared: what it leaves out
 * is not the agent's to manage. */
#pragma once

#include "node.h"

/* One field whose value differs. */
struct ds_change {
	char *path; /* "vcpu.current", "devices.disks" */
	char *want; /* the file's value, formatted for people */
	char *have; /* libvirt's, or NULL when it has none */
};

struct ds_changes {
	struct ds_change *items;
	size_t n;
};

/* Lists the fields of want (a file's tree) that differ in have (a tree read
 * from libvirt's XML), in the format's order. Returns 0 or -ENOMEM. */
int ds_tree_compare(const struct ds_node *want, const struct ds_node *have,
		    struct ds_changes *ret);
void ds_changes_finish(struct ds_changes *c);

/* Whether a file's machine type names libvirt's (pc is pc-i440fx-7.2, q35
 * is pc-q35-7.2, virt is virt-7.2). */
bool ds_machine_equal(const char *want, const char *have);

/* Formats a node's value for people ("512 MiB", "[hd, cdrom]",
 * "{dev: vda, bus: virtio}"); the caller frees it. NULL when out of memory. */
char *ds_node_format(const struct ds_node *n);
