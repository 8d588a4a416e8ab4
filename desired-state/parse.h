/* Checking a YAML tree against the file format. */
#pragma once

#include "node.h"
#include "schema.h"

/* Walks *root against the format: reports every problem to d, expands
 * shorthands (a bare scalar for its mapping, one item for a list, {value: x}
 * for x), and types every value. *root may be replaced; the caller keeps
 * owning it. Returns 0 when no problem was found. */
int ds_parse_tree(struct ds_node **root, struct ds_diags *d);

/* The same against another root of the format (ds_schema_pool). */
int ds_parse_tree_as(struct ds_node **root, const struct ds_field *format,
		     struct ds_diags *d);
