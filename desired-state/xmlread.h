/* libvirt's domain XML read back into a document tree, through the same
 * field tables that render it, so that what libvirt has and what a file
 * says compare field by field. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "node.h"
#include "xmltree.h"

/* Reads the fields the format knows from a <domain> element; elements and
 * attributes it does not know (libvirt's additions: controllers, addresses,
 * aliases, …) are skipped, as are values that do not fit their field.
 * libvirt's defaults are made explicit and its rewrites applied
 * (ds_tree_defaults, ds_tree_normalise), as a file's are, so that the two
 * compare. Returns 0 and a tree owned by the caller, or -ENOMEM. */
int ds_tree_from_xml(const struct ds_xel *domain, struct ds_node **ret);

/* What a raw reading took from the XML, for import to say what it could
 * not: the elements, text runs (struct ds_xel) and attributes (the slot
 * of the attribute's name in its element's attrs) that a field read, and
 * those of them whose value does not fit the field. */
struct ds_xml_use {
	const void **taken;
	size_t n_taken, cap_taken;
	const void **unfit;
	size_t n_unfit, cap_unfit;
	bool oom;
};

/* Reads a <domain> as ds_tree_from_xml does, but as libvirt wrote it:
 * without the defaults and the rewrites, which a file does not need to
 * say; without the fields libvirt generates (field->generated: taken,
 * left out); and without values the format cannot say (an enumeration's
 * value it does not list). Records in *use (initialised here; free it with
 * ds_xml_use_finish) what it took. Returns 0 and a tree, or -ENOMEM. */
int ds_tree_from_xml_raw(const struct ds_xel *domain, struct ds_xml_use *use,
			 struct ds_node **ret);

/* Whether the raw reading took p (an element, a text run or an attribute's
 * slot), and whether its value did not fit. */
bool ds_xml_use_taken(const struct ds_xml_use *u, const void *p);
bool ds_xml_use_unfit(const struct ds_xml_use *u, const void *p);
void ds_xml_use_finish(struct ds_xml_use *u);

/* The same from the text of a document: -EINVAL when it is not XML. */
int ds_tree_from_text(const char *xml, size_t len, struct ds_node **ret);

/* Reads one list item (a <disk> element, for the item field of
 * devices.disk) the way ds_tree_from_xml reads it. Returns 0 and a map
 * node owned by the caller, or -ENOMEM. */
int ds_item_from_xml(const struct ds_xel *el, const struct ds_field *item,
		     struct ds_node **ret);
