/* Finding elements by the format's XML paths ("numa/cell"), shared by the
 * renderer, the reader of libvirt's XML and the merge. */
#pragma once

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

struct ds_node;

/* The first child element of el named name[0..len), or NULL. */
xmlNodePtr ds_xml_child(xmlNodePtr el, const char *name, size_t len);

/* Follows the '/'-separated element path[0..len) from el. With create,
 * what is missing is made, and each new element remembers tag (its
 * _private and line), so that errors about it point into the file. */
xmlNodePtr ds_xml_path(xmlNodePtr el, const char *path, size_t len, bool create,
		       const struct ds_node *tag);

/* x as XML text (malloc'd), or NULL when out of memory. */
char *ds_xml_text(xmlNodePtr x);

/* Makes x remember the file's node it came from. */
void ds_xml_tag(xmlNodePtr x, const struct ds_node *n);
