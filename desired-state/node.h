/* The document tree: what libyaml read, with every node's place in the file,
 * annotated by the schema with its field and typed value. The observed side
 * builds the same tree from libvirt's XML, so that both compare field by
 * field. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cleanup.h"
#include "diag.h"

struct ds_field;

enum ds_node_kind {
	DS_NODE_SCALAR,
	DS_NODE_MAP,
	DS_NODE_SEQ,
};

struct ds_node {
	enum ds_node_kind kind;
	struct ds_mark mark;     /* where the value starts */
	struct ds_mark key_mark; /* where its key starts, inside a map */
	char *key;               /* its key inside a map, else NULL */
	char *str;               /* a scalar's text */
	bool plain;      /* an unquoted scalar (may be a number or bool) */
	bool bad;        /* failed the schema walk: its value is unusable */
	bool key_static; /* key is the format's own string, not to be freed */
	struct ds_node **kids; /* map values or sequence items, in order */
	size_t n_kids;
	const struct ds_field *field; /* set by the schema walk */
	union {
		uint64_t u; /* DS_UINT, DS_SIZE (KiB), DS_ENUM (index) */
		int64_t i;  /* DS_INT */
		bool b;     /* DS_BOOL, DS_PRESENCE */
	} v;
};

/* Limits that keep a hostile file from eating memory or stack. */
#define DS_MAX_FILE_SIZE (1024 * 1024)
#define DS_MAX_DEPTH 64
#define DS_MAX_NODES 100000
/* Each key is checked against the keys before it, each alias against the
 * anchors: keep both short. The format's largest mapping has 25 keys. */
#define DS_MAX_MAP_KEYS 1000
#define DS_MAX_ANCHORS 1000

struct ds_node *ds_node_new(enum ds_node_kind kind, struct ds_mark mark);
void ds_node_free(struct ds_node *n);
DS_DEFINE_FREEP(struct ds_node, ds_node_free)
/* Appends kid to n (n owns it). Returns -ENOMEM on failure (kid not taken). */
int ds_node_append(struct ds_node *n, struct ds_node *kid);
/* A deep copy, or NULL when out of memory. */
struct ds_node *ds_node_copy(const struct ds_node *n);

/* The value under key in a map node, or NULL. */
struct ds_node *ds_node_get(const struct ds_node *map, const char *key);
/* Removes (and frees) the value under key in a map node, if any. */
void ds_node_remove(struct ds_node *map, const char *key);
/* Follows a dotted path of keys ("vcpu.current"), or NULL. */
struct ds_node *ds_node_path(const struct ds_node *root, const char *path);

/* Reads YAML text into a tree. Problems go to d; returns 0 and the tree
 * (owned by the caller) when the text is one well-formed YAML document
 * whose root is a mapping. d may still hold problems that did not stop the
 * reading (duplicate keys). */
int ds_yaml_load(const char *text, size_t len, struct ds_diags *d,
		 struct ds_node **ret_root);
