/* Redefining without losing what libvirt made: the file's fields are
 * written into the domain's existing XML, so that its UUID, MAC addresses,
 * PCI addresses, aliases and every element the file does not manage stay
 * as they are. */
#pragma once

#include <libxml/tree.h>

#include "node.h"

/* Writes into have (libvirt's persistent <domain>) every field that tree
 * (a file's checked tree) gives, taking the values from want (the same
 * tree rendered by ds_render). Lists the file gives are made to match it:
 * items are paired by identity (a disk by target, an interface by MAC, a
 * NUMA cell by id, else by position), so that what libvirt added to an item
 * is kept. Returns 0 or -ENOMEM. */
int ds_merge(xmlNodePtr have, xmlNodePtr want, const struct ds_node *tree);
