/* libyaml's events to a ds_node tree. libyaml does the parsing; this file
 * only stacks the events, records where each node starts, and keeps the
 * limits that make a hostile file harmless (depth, node count, aliases). */
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cleanup.h"
#include "node.h"

struct ds_node *ds_node_new(enum ds_node_kind kind, struct ds_mark mark)
{
	struct ds_node *n = calloc(1, sizeof(*n));

	if (n) {
		n->kind = kind;
		n->mark = mark;
	}
	return n;
}

void ds_node_free(struct ds_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n_kids; i++)
		ds_node_free(n->kids[i]);
	free(n->kids);
	if (!n->key_static)
		free(n->key);
	free(n->str);
	free(n);
}

int ds_node_append(struct ds_node *n, struct ds_node *kid)
{
	size_t had = n->n_kids;
	struct ds_node **kids = n->kids;

	/* the array is as long as the next power of two: full at one */
	if (!(had & (had - 1)) &&
	    !(kids = reallocarray(kids, had ? 2 * had : 1, sizeof(*kids))))
		return -ENOMEM;
	n->kids = kids;
	n->kids[n->n_kids++] = kid;
	return 0;
}

struct ds_node *ds_node_copy(const struct ds_node *n)
{
	_cleanup_(ds_node_freep) struct ds_node *c =
	    ds_node_new(n->kind, n->mark);

	if (!c)
		return NULL;
	c->key_mark = n->key_mark;
	c->plain = n->plain;
	c->field = n->field;
	c->v = n->v;
	if ((n->key && !(c->key = strdup(n->key))) ||
	    (n->str && !(c->str = strdup(n->str))))
		return NULL;
	for (size_t i = 0; i < n->n_kids; i++) {
		struct ds_node *k = ds_node_copy(n->kids[i]);
		if (!k || ds_node_append(c, k) < 0) {
			ds_node_free(k);
			return NULL;
		}
	}
	return take_ptr(c);
}

void ds_node_remove(struct ds_node *map, const char *key)
{
	size_t out = 0;

	for (size_t i = 0; map && i < map->n_kids; i++) {
		if (map->kids[i]->key && !strcmp(map->kids[i]->key, key)) {
			ds_node_free(map->kids[i]);
			continue;
		}
		map->kids[out++] = map->kids[i];
	}
	if (map)
		map->n_kids = out;
}

struct ds_node *ds_node_get(const struct ds_node *map, const char *key)
{
	if (!map || map->kind != DS_NODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->n_kids; i++)
		if (map->kids[i]->key[0] == key[0] &&
		    !strcmp(map->kids[i]->key, key))
			return map->kids[i];
	return NULL;
}

struct ds_node *ds_node_path(const struct ds_node *root, const char *path)
{
	const struct ds_node *n = root;

	/* each dot-separated key in turn, without copying the path */
	for (const char *k = path; n; k++) {
		size_t len = strcspn(k, ".");
		const struct ds_node *m = n;
		n = NULL;
		for (size_t i = 0;
		     !n && m->kind == DS_NODE_MAP && i < m->n_kids; i++) {
			const char *key = m->kids[i]->key;
			if (key[0] == k[0] && !strncmp(key, k, len) &&
			    !key[len])
				n = m->kids[i];
		}
		if (!k[len])
			break;
		k += len;
	}
	return (struct ds_node *)n;
}

static size_t count_nodes(const struct ds_node *n)
{
	size_t c = 1;

	for (size_t i = 0; i < n->n_kids; i++)
		c += count_nodes(n->kids[i]);
	return c;
}

struct anchor {
	char *name;
	struct ds_node *node;
};

struct loader {
	struct ds_diags *d;
	const char *text;
	size_t len;
	struct ds_node *root;
	struct ds_node *stack[DS_MAX_DEPTH + 1];
	size_t depth;
	char *key; /* a map's key waiting for its value */
	struct ds_mark key_mark;
	struct ds_node *trash; /* nodes dropped after an error; anchors may
				  still point into them */
	struct anchor *anchors;
	size_t n_anchors;
	size_t n_nodes;
	unsigned docs;
};

static struct ds_mark mark_of(yaml_mark_t m)
{
	return (struct ds_mark){m.line + 1, m.column + 1};
}

static void report_parser_error(struct loader *l, const yaml_parser_t *p)
{
	struct ds_mark m = mark_of(p->problem_mark);
	size_t at = p->problem_mark.index;

	if (p->error == YAML_MEMORY_ERROR)
		ds_diags_add(l->d, (struct ds_mark){0}, "out of memory");
	else if (p->error == YAML_READER_ERROR && p->problem_value >= 0 &&
		 strstr(p->problem, "control"))
		ds_diags_add(l->d,
			     ds_mark_at(l->text, l->len, p->problem_offset),
			     "the text holds control character 0x%02X, which "
			     "YAML does not allow",
			     (unsigned)p->problem_value);
	else if (p->error == YAML_READER_ERROR)
		ds_diags_add(l->d,
			     ds_mark_at(l->text, l->len, p->problem_offset),
			     "not valid UTF-8 text: %s", p->problem);
	else if (at < l->len && l->text[at] == '\t')
		ds_diags_add(l->d, m,
			     "YAML syntax error: a tab character; YAML is "
			     "indented with spaces only");
	else if (p->context)
		ds_diags_add(l->d, m, "YAML syntax error: %s (%s at line %zu)",
			     p->problem, p->context, p->context_mark.line + 1);
	else
		ds_diags_add(l->d, m, "YAML syntax error: %s", p->problem);
}

static int remember_anchor(struct loader *l, const yaml_char_t *name,
			   struct ds_node *n)
{
	struct anchor *a;

	if (!name)
		return 0;
	if (l->n_anchors == DS_MAX_ANCHORS) {
		ds_diags_add(l->d, n->mark, "more than %d anchors (&name)",
			     DS_MAX_ANCHORS);
		return -EINVAL;
	}
	a = reallocarray(l->anchors, l->n_anchors + 1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	l->anchors = a;
	a[l->n_anchors] = (struct anchor){strdup((const char *)name), n};
	if (!a[l->n_anchors].name)
		return -ENOMEM;
	l->n_anchors++;
	return 0;
}

/* An alias becomes a copy of its anchor's node, counted against the node
 * budget, so "billion laughs" stops at the budget instead of expanding. */
static struct ds_node *expand_alias(struct loader *l, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct ds_mark m = mark_of(ev->start_mark);

	for (size_t i = l->n_anchors; i-- > 0;) {
		if (strcmp(l->anchors[i].name, name))
			continue;
		size_t n = count_nodes(l->anchors[i].node);
		if (n > DS_MAX_NODES - l->n_nodes) {
			ds_diags_add(l->d, m,
				     "alias '*%s' expands the file past %d "
				     "values; write the values out",
				     name, DS_MAX_NODES);
			return NULL;
		}
		l->n_nodes += n;
		struct ds_node *c = ds_node_copy(l->anchors[i].node);
		if (!c) {
			ds_diags_add(l->d, m, "out of memory");
		} else {
			free(c->key); /* it takes the key of where it is used */
			c->key = NULL;
			c->mark = m;
		}
		return c;
	}
	ds_diags_add(l->d, m, "alias '*%s' names no anchor", name);
	return NULL;
}

/* The YAML core schema (YAML 1.2, 10.3): the only tags a file may give.
 * Any other (!!binary, !!timestamp, a local !tag) would mean a value the
 * format has no use for, taken silently as its text; each core tag must
 * fit the node it stands on, with the core schema's own patterns. */
#define CORE_PREFIX "tag:yaml.org,2002:"

static const struct core_tag {
	const char *name; /* after CORE_PREFIX */
	enum ds_node_kind kind;
	const char *pattern; /* ERE a scalar must match, or NULL */
	const char *what;    /* what such a scalar is, for the message */
} core_tags[] = {
    {"str", DS_NODE_SCALAR, NULL, NULL},
    {"int", DS_NODE_SCALAR, "^([-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$",
     "an integer"},
    {"float", DS_NODE_SCALAR,
     "^([-+]?([.][0-9]+|[0-9]+([.][0-9]*)?)([eE][-+]?[0-9]+)?|"
     "[-+]?[.](inf|Inf|INF)|[.](nan|NaN|NAN))$",
     "a number"},
    {"bool", DS_NODE_SCALAR, "^(true|True|TRUE|false|False|FALSE)$",
     "true or false"},
    {"null", DS_NODE_SCALAR, "^(~|null|Null|NULL|)$", "null"},
    {"map", DS_NODE_MAP, NULL, NULL},
    {"seq", DS_NODE_SEQ, NULL, NULL},
};

static regex_t core_regex[DS_ARRAY_SIZE(core_tags)];
static bool core_regex_ok = true;
static pthread_once_t core_once = PTHREAD_ONCE_INIT;

static void core_compile(void)
{
	for (size_t i = 0; i < DS_ARRAY_SIZE(core_tags); i++)
		if (core_tags[i].pattern &&
		    regcomp(&core_regex[i], core_tags[i].pattern,
			    REG_EXTENDED | REG_NOSUB) != 0)
			core_regex_ok = false;
}

static const char *node_kind_name(enum ds_node_kind k)
{
	return k == DS_NODE_MAP   ? "a mapping"
	       : k == DS_NODE_SEQ ? "a list"
				  : "a single value";
}

/* A tag as the file most likely wrote it (!!int for the core schema's),
 * cut short, and in printable ASCII: a tag's %-escapes may hold any
 * byte. */
static const char *tag_shown(const char *tag, char *buf, size_t len)
{
	size_t o = 0;

	if (!strncmp(tag, CORE_PREFIX, strlen(CORE_PREFIX))) {
		tag += strlen(CORE_PREFIX);
		o = snprintf(buf, len, "!!");
	}
	for (; *tag && o + 4 < len; tag++)
		buf[o++] = *tag > 0x20 && *tag < 0x7f ? *tag : '?';
	if (*tag)
		o += snprintf(buf + o, len - o, "…");
	buf[o] = 0;
	return buf;
}

static const yaml_char_t *tag_of(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return ev->data.scalar.tag;
	case YAML_MAPPING_START_EVENT:
		return ev->data.mapping_start.tag;
	case YAML_SEQUENCE_START_EVENT:
		return ev->data.sequence_start.tag;
	default:
		return NULL;
	}
}

/* Checks the node's tag, and decides whether a scalar reads as a plain
 * one: untagged and unquoted, or tagged as a number, bool or null, whose
 * value the format then reads as it would read it bare. "!" (the
 * non-specific tag) and !!str make it text, as quotes do. */
static int check_tag(struct loader *l, const yaml_event_t *ev,
		     struct ds_node *n)
{
	const char *tag = (const char *)tag_of(ev);
	const struct core_tag *t = NULL;
	char shown[80];

	if (n->kind == DS_NODE_SCALAR)
		n->plain =
		    !tag && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	if (!tag || !strcmp(tag, "!"))
		return 0;
	for (size_t i = 0; !strncmp(tag, CORE_PREFIX, strlen(CORE_PREFIX)) &&
			   i < DS_ARRAY_SIZE(core_tags);
	     i++)
		if (!strcmp(tag + strlen(CORE_PREFIX), core_tags[i].name))
			t = &core_tags[i];
	if (!t) {
		ds_diags_add(l->d, n->mark,
			     "unsupported YAML tag '%s'; a file takes only the "
			     "YAML core schema's tags (!!str, !!int, !!float, "
			     "!!bool, !!null, !!map, !!seq)",
			     tag_shown(tag, shown, sizeof(shown)));
		return -EINVAL;
	}
	if (t->kind != n->kind) {
		ds_diags_add(l->d, n->mark, "YAML tag '!!%s' on %s; it tags %s",
			     t->name, node_kind_name(n->kind),
			     node_kind_name(t->kind));
		return -EINVAL;
	}
	if (!t->pattern)
		return 0;
	pthread_once(&core_once, core_compile);
	if (!core_regex_ok) {
		ds_diags_add(l->d, n->mark, "out of memory");
		return -ENOMEM;
	}
	if (regexec(&core_regex[t - core_tags], n->str, 0, NULL, 0) != 0) {
		ds_diags_add(l->d, n->mark,
			     "YAML tag '!!%s' on a value that is not %s",
			     t->name, t->what);
		return -EINVAL;
	}
	n->plain = true;
	return 0;
}

static struct ds_node *node_from_event(struct loader *l, const yaml_event_t *ev)
{
	struct ds_mark m = mark_of(ev->start_mark);
	struct ds_node *n = NULL;

	if (ev->type == YAML_ALIAS_EVENT)
		return expand_alias(l, ev);
	if (++l->n_nodes > DS_MAX_NODES) {
		ds_diags_add(l->d, m, "the file has more than %d values",
			     DS_MAX_NODES);
		return NULL;
	}
	if (ev->type == YAML_SCALAR_EVENT) {
		n = ds_node_new(DS_NODE_SCALAR, m);
		if (n) {
			n->str = strndup((const char *)ev->data.scalar.value,
					 ev->data.scalar.length);
			if (!n->str || memchr(ev->data.scalar.value, 0,
					      ev->data.scalar.length)) {
				ds_diags_add(l->d, m,
					     n->str ? "text contains a NUL "
						      "character"
						    : "out of memory");
				ds_node_free(n);
				return NULL;
			}
		}
	} else {
		n = ds_node_new(ev->type == YAML_MAPPING_START_EVENT
				    ? DS_NODE_MAP
				    : DS_NODE_SEQ,
				m);
	}
	if (!n) {
		ds_diags_add(l->d, m, "out of memory");
	} else if (check_tag(l, ev, n) < 0) {
		ds_node_free(n);
		n = NULL;
	}
	return n;
}

static const yaml_char_t *anchor_of(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return ev->data.scalar.anchor;
	case YAML_MAPPING_START_EVENT:
		return ev->data.mapping_start.anchor;
	case YAML_SEQUENCE_START_EVENT:
		return ev->data.sequence_start.anchor;
	default:
		return NULL;
	}
}

static int drop(struct loader *l, struct ds_node *n)
{
	if (ds_node_append(l->trash, n) < 0) {
		ds_node_free(n);
		return -ENOMEM;
	}
	return 0;
}

/* Places a new node: the root, a map's key, a map's value or an item. */
static int attach(struct loader *l, struct ds_node *n)
{
	struct ds_node *top = l->depth ? l->stack[l->depth - 1] : NULL;

	if (!top) {
		l->root = n;
		return 0;
	}
	if (top->kind == DS_NODE_SEQ)
		return ds_node_append(top, n) < 0 ? drop(l, n) : 0;
	if (!l->key) {
		if (n->kind != DS_NODE_SCALAR) {
			ds_diags_add(
			    l->d, n->mark, "a key must be plain text, not a %s",
			    n->kind == DS_NODE_MAP ? "mapping" : "list");
			drop(l, n);
			return -EINVAL;
		}
		/* An anchor may name the key (&k key: …, later *k): keep
		 * the node, as for any dropped node, so that it stays valid. */
		l->key = strdup(n->str);
		l->key_mark = n->mark;
		if (!l->key) {
			ds_diags_add(l->d, n->mark, "out of memory");
			drop(l, n);
			return -ENOMEM;
		}
		return drop(l, n);
	}
	n->key = take_ptr(l->key);
	n->key_mark = l->key_mark;
	if (!strcmp(n->key, "<<")) {
		ds_diags_add(l->d, n->key_mark,
			     "YAML merge keys ('<<') are not supported; write "
			     "the keys out");
		return drop(l, n);
	}
	if (top->n_kids == DS_MAX_MAP_KEYS) {
		ds_diags_add(l->d, n->key_mark,
			     "a mapping with more than %d keys",
			     DS_MAX_MAP_KEYS);
		drop(l, n);
		return -EINVAL;
	}
	struct ds_node *first = ds_node_get(top, n->key);
	if (first) {
		ds_diags_add(l->d, n->key_mark,
			     "duplicate key '%s' (first given at line %u)",
			     n->key, first->key_mark.line);
		return drop(l, n);
	}
	return ds_node_append(top, n) < 0 ? drop(l, n) : 0;
}

/* Handles one event; returns 1 at the end of the stream, 0 to go on,
 * negative to stop. */
static int on_event(struct loader *l, const yaml_event_t *ev)
{
	struct ds_node *n;

	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		return 1;
	case YAML_DOCUMENT_START_EVENT:
		if (++l->docs > 1) {
			ds_diags_add(l->d, mark_of(ev->start_mark),
				     "a second YAML document; a file describes "
				     "one domain");
			return -EINVAL;
		}
		return 0;
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		l->depth--;
		return 0;
	case YAML_SCALAR_EVENT:
	case YAML_ALIAS_EVENT:
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		break;
	default:
		return 0;
	}
	n = node_from_event(l, ev);
	if (!n)
		return -EINVAL;
	int r = remember_anchor(l, anchor_of(ev), n);
	if (r < 0) {
		if (r == -ENOMEM)
			ds_diags_add(l->d, n->mark, "out of memory");
		ds_node_free(n);
		return r;
	}
	bool opens = ev->type == YAML_MAPPING_START_EVENT ||
		     ev->type == YAML_SEQUENCE_START_EVENT;
	if (attach(l, n) < 0)
		return -EINVAL;
	if (opens) {
		if (l->depth == DS_MAX_DEPTH) {
			ds_diags_add(l->d, n->mark,
				     "nested more than %d levels deep",
				     DS_MAX_DEPTH);
			return -EINVAL;
		}
		l->stack[l->depth++] = n;
	}
	return 0;
}

static void loader_finish(struct loader *l)
{
	for (size_t i = 0; i < l->n_anchors; i++)
		free(l->anchors[i].name);
	free(l->anchors);
	free(l->key);
	ds_node_free(l->trash);
}

static bool is_null(const struct ds_node *n)
{
	return n->kind == DS_NODE_SCALAR && n->plain &&
	       (!*n->str || !strcmp(n->str, "~") || !strcmp(n->str, "null"));
}

static int check_root(struct loader *l)
{
	if (!l->root || is_null(l->root)) {
		/* an empty file still has a line 1, where an editor opens */
		ds_diags_add(l->d,
			     l->root ? l->root->mark : (struct ds_mark){1, 1},
			     "the file is empty; a domain needs at least "
			     "'name' and 'memory'");
		return -EINVAL;
	}
	if (l->root->kind != DS_NODE_MAP) {
		ds_diags_add(l->d, l->root->mark,
			     "the file must be a mapping of keys to values "
			     "(name: …, memory: …), not a %s",
			     l->root->kind == DS_NODE_SEQ ? "list" : "scalar");
		return -EINVAL;
	}
	return 0;
}

int ds_yaml_load(const char *text, size_t len, struct ds_diags *d,
		 struct ds_node **ret_root)
{
	struct loader l = {.d = d, .text = text, .len = len};
	yaml_parser_t parser;
	int r = 0;

	if (len > DS_MAX_FILE_SIZE) {
		ds_diags_add(d, (struct ds_mark){1, 1},
			     "the file is larger than %d bytes",
			     DS_MAX_FILE_SIZE);
		return -EFBIG;
	}
	l.trash = ds_node_new(DS_NODE_SEQ, (struct ds_mark){0});
	if (!l.trash || !yaml_parser_initialize(&parser)) {
		ds_node_free(l.trash);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (r == 0) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			report_parser_error(&l, &parser);
			r = -EINVAL;
			break;
		}
		r = on_event(&l, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	/* A duplicate key is reported but does not stop the reading, so that
	 * the rest of the file is still checked. */
	if (r > 0)
		r = check_root(&l);
	loader_finish(&l);
	if (r < 0) {
		ds_node_free(l.root);
		return r;
	}
	*ret_root = l.root;
	return 0;
}
