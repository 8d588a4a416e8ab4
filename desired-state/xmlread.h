/* libvirt's domain XML read back into a document tree, through the same
 * field tables that render it, so that what libvirt has and what a file
 * says compare field by field. */
#pragma once

#include "node.h"
#include "xmltree.h"

/* Reads the fields the format knows from a <domain> element; elements and
 * attributes it does not know (libvirt's additions: controllers, addresses,
 * aliases, …) are skipped, as are values that do not fit their field.
 * Returns 0 and a tree owned by the caller, or -ENOMEM. */
int ds_tree_from_xml(const struct ds_xel *domain, struct ds_node **ret);

/* The same from the text of a document: -EINVAL when it is not XML. */
int ds_tree_from_text(const char *xml, size_t len, struct ds_node **ret);

/* Reads one list item (a <disk> element, for the item field of
 * devices.disk) the way ds_tree_from_xml reads it. Returns 0 and a map
 * node owned by the caller, or -ENOMEM. */
int ds_item_from_xml(const struct ds_xel *el, const struct ds_field *item,
		     struct ds_node **ret);
