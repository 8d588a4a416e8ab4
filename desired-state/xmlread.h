/* libvirt's domain XML read back into a document tree, through the same
 * field tables that render it, so that what libvirt has and what a file
 * says compare field by field. */
#pragma once

#include <libxml/tree.h>

#include "node.h"

/* Reads the fields the format knows from a <domain> element; elements and
 * attributes it does not know (libvirt's additions: controllers, addresses,
 * aliases, …) are skipped, as are values that do not fit their field.
 * Returns 0 and a tree owned by the caller, or -ENOMEM. */
int ds_tree_from_xml(xmlNodePtr domain, struct ds_node **ret);
