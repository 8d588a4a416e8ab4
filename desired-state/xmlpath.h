/* Finding elements by the format's XML paths ("numa/cell"), shared by the
 * renderer, the reader of libvirt's XML and the merge. */
#pragma once

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

struct ds_node;

/* Whether x is an element named name[0..len): a name "prefix:local" is
 * an element of that namespace of the format's (ds_schema_ns,
 * qemu:commandline), a name without a prefix one of no namespace. */
bool ds_xml_is(xmlNodePtr x, const char *name, size_t len);

/* The first child element of el named name[0..len) (as ds_xml_is), or
 * NULL. */
xmlNodePtr ds_xml_child(xmlNodePtr el, const char *name, size_t len);

/* A new last child of el named name[0..len); one of a namespace has it
 * declared on the document's root element, as libvirt writes it
 * (<domain xmlns:qemu=...>), unless it is in scope already. NULL when out
 * of memory or the prefix is not the format's. */
xmlNodePtr ds_xml_new_child(xmlNodePtr el, const char *name, size_t len);

/* Follows the '/'-separated element path[0..len) from el. With create,
 * what is missing is made, and each new element remembers tag (its
 * _private and line), so that errors about it point into the file. */
xmlNodePtr ds_xml_path(xmlNodePtr el, const char *path, size_t len, bool create,
		       const struct ds_node *tag);

/* x as XML text (malloc'd), or NULL when out of memory. */
char *ds_xml_text(xmlNodePtr x);

/* Makes x remember the file's node it came from. */
void ds_xml_tag(xmlNodePtr x, const struct ds_node *n);
