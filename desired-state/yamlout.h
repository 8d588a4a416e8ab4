/* A document tree written out as a desired-state file: YAML through
 * libyaml's emitter, walking the format's table, so that every key the
 * table has is written the way the parser reads it back. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "node.h"

struct ds_field;

/* Writes root, a map node of field f (the whole file: &ds_schema_domain),
 * as one YAML document: keys in the table's order; sizes with a unit
 * people read ("4 GiB"); numbers, booleans; text quoted wherever the
 * parser (or another YAML reader) would take it for something else, and
 * multi-line text as a literal block; a map that holds only its
 * shorthand's key as that bare value. Fields libvirt generates
 * (field->generated), nodes marked bad (values that cannot be written)
 * and keys the table does not have are left out. Returns 0 and the text (NUL-terminated, owned by the caller) with
 * its length, -ENOMEM, or -EINVAL when the emitter refuses the tree. */
int ds_yaml_write(const struct ds_node *root, const struct ds_field *f,
		  char **ret, size_t *ret_len);

/* Whether text s, written as a plain YAML scalar, would be read as
 * anything but that text: empty, null, a boolean (YAML 1.1's yes/no/on/off
 * included) or a number (also 1.1's octal, sexagesimal and timestamps). */
bool ds_yaml_ambiguous(const char *s);
