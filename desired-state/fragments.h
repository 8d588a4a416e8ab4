/* Raw XML fragments (xml.devices) that give a device of a kind the format
 * also lists: a network <disk> beside devices.disk. libvirt keeps such a
 * device among the others, so the items of its lists that the fragments
 * gave are told apart from the file's own, to be compared and merged as
 * fragments, never as items the file left out. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "node.h"
#include "xmltree.h"

/* An item of one of have's device lists that a fragment gave: the index-th
 * <elem> child of <devices> (libvirt's order, which the tree keeps). */
struct ds_frag_item {
	const char *list; /* the list's key, "disks" */
	const char *elem; /* its element, "disk" */
	size_t index;
};

struct ds_frag_items {
	struct ds_frag_item *v;
	size_t n;
};

/* The list field of devices whose items are <elem> (devices.disk for
 * "disk"), or NULL. */
const struct ds_field *ds_device_list(const char *elem);

/* Whether fragments (as the mark records them: "xml.devices:\nTEXT\n" per
 * fragment) give an element of a kind the format lists. */
bool ds_fragments_list_kinds(const char *fragments);

/* Finds the items of have's device lists that fragments gave: each
 * fragment element of a listed kind claims the item with its identity
 * (a disk's target, an interface's MAC), else the first item holding
 * everything the fragment says. Returns 0 or -ENOMEM. */
int ds_fragment_items(const struct ds_node *have, const char *fragments,
		      struct ds_frag_items *ret);
void ds_frag_items_finish(struct ds_frag_items *f);

/* A copy of have without those items, or NULL when out of memory. */
struct ds_node *ds_tree_without(const struct ds_node *have,
				const struct ds_frag_items *f);

/* Whether libvirt's <domain> already holds every element that the file's
 * raw fragments (xml.domain, xml.devices of root, the file's tree) give,
 * each where the fragment puts it: an element of its name and namespace
 * with every attribute, text and child element the fragment's has
 * (libvirt may have added more; each element holds one fragment's at
 * most). A file imported from the domain holds them all: adopting it
 * records them in the mark rather than adding them a second time. */
bool ds_fragments_held(const struct ds_xel *domain, const struct ds_node *root);
