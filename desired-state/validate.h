/* What the rules between fields (validate.c, validate-domain.c) share:
 * reading the checked tree without what the schema walk refused. */
#pragma once

#include <stdbool.h>
#include <string.h>

#include "diag.h"
#include "node.h"

/* The node at path, unless it or a node above it failed the schema walk. */
static inline const struct ds_node *get(const struct ds_node *root,
					const char *path)
{
	const struct ds_node *n = ds_node_path(root, path);

	return n && !n->bad ? n : NULL;
}

/* A map's value at key, unless it failed the schema walk. */
static inline const struct ds_node *kid(const struct ds_node *map,
					const char *key)
{
	const struct ds_node *n =
	    map && !map->bad ? ds_node_get(map, key) : NULL;

	return n && !n->bad ? n : NULL;
}

/* Whether the file gives path at all, well-formed or not: a rule that needs
 * a field must not report it missing when it was given but rejected. */
static inline bool given(const struct ds_node *root, const char *path)
{
	return ds_node_path(root, path) != NULL;
}

static inline struct ds_mark at(const struct ds_node *n)
{
	return n->key ? n->key_mark : n->mark;
}

static inline bool str_is(const struct ds_node *n, const char *s)
{
	return n && n->str && !strcmp(n->str, s);
}

/* The rules of validate-domain.c: what libvirt rewrites or refuses of the
 * domain's scheduling, NUMA, CPU model, firmware and security labels.
 * Returns 0 when all hold. */
int ds_validate_domain(const struct ds_node *root, struct ds_diags *d);
