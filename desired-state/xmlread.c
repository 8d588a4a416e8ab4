#include "xmlread.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "domain.h"
#include "schema.h"
#include "units.h"

static struct ds_node *new_node(enum ds_node_kind kind, const char *key,
				const struct ds_field *f)
{
	struct ds_node *n = ds_node_new(kind, (struct ds_mark){0});

	if (n) {
		n->key = (char *)key; /* the format's: it outlives the tree */
		n->key_static = true;
		n->field = f;
	}
	return n;
}

/* Types a scalar's text as its field wants; false when it does not fit. */
static bool type_scalar(struct ds_node *n, const struct ds_field *f,
			const struct ds_xel *holder)
{
	char *end;

	switch (f->kind) {
	case DS_UINT:
	case DS_INT:
		errno = 0;
		n->v.i = strtoll(n->str, &end, 10);
		return !errno && *n->str && !*end;
	case DS_BOOL:
		n->v.b = !strcmp(n->str, "yes") || !strcmp(n->str, "on");
		return n->v.b || !strcmp(n->str, "no") ||
		       !strcmp(n->str, "off");
	case DS_ENUM:
		n->v.u = ds_enum_index(f->values, n->str);
		return true; /* a value the format lacks still compares as text */
	case DS_SIZE: {
		const char *unit = ds_xel_attr(holder, "unit");
		size_t nlen = strlen(n->str), ulen;
		const char *why;
		char text[64];
		unit = unit ? unit : f->unit_default ? f->unit_default : "KiB";
		ulen = strlen(unit);
		if (nlen + ulen + 2 > sizeof(text))
			return false; /* no size libvirt writes is this long */
		memcpy(text, n->str, nlen);
		text[nlen] = ' ';
		memcpy(text + nlen + 1, unit, ulen + 1);
		return ds_size_parse(text, &n->v.u, &why) == 0;
	}
	default:
		return true;
	}
}

static int read_map(const struct ds_xel *el, const struct ds_field *f,
		    struct ds_node *map);

/* A scalar: an attribute, the text of a child element, or el's own text. */
static int read_scalar(const struct ds_xel *el, const struct ds_field *f,
		       struct ds_node *map)
{
	const char *at = strchr(f->xml, '@');
	size_t elen = at ? (size_t)(at - f->xml) : strlen(f->xml);
	const struct ds_xel *holder = elen ? ds_xel_path(el, f->xml, elen) : el;
	_cleanup_(ds_node_freep) struct ds_node *n = NULL;

	if (!holder)
		return 0;
	if (f->kind == DS_PRESENCE) {
		n = new_node(DS_NODE_SCALAR, f->key, f);
		if (!n || !(n->str = strdup("true")))
			return -ENOMEM;
		n->v.b = true;
		return ds_node_append(map, n) < 0 ? -ENOMEM : (n = NULL, 0);
	}
	if (at) {
		const char *v = ds_xel_attr(holder, at + 1);
		if (!v)
			return 0;
		n = new_node(DS_NODE_SCALAR, f->key, f);
		if (!n || !(n->str = strdup(v)))
			return -ENOMEM;
	} else {
		n = new_node(DS_NODE_SCALAR, f->key, f);
		if (!n || !(n->str = ds_xel_content(holder)))
			return -ENOMEM;
		/* an element's own empty text (<backend model='builtin'/>) is
		 * no value */
		if (!elen && !*n->str)
			return 0;
	}
	if (!type_scalar(n, f, holder))
		return 0;
	if (ds_node_append(map, n) < 0)
		return -ENOMEM;
	n = NULL;
	return 0;
}

/* A list: every element named by the path's last part; flags: every child
 * element whose name the field knows. */
static int read_list(const struct ds_xel *el, const struct ds_field *f,
		     struct ds_node *map)
{
	const char *slash = strrchr(f->xml, '/');
	const char *last = slash ? slash + 1 : f->xml;
	const struct ds_xel *parent =
	    f->kind == DS_FLAGS
		? ds_xel_path(el, f->xml, strlen(f->xml))
		: ds_xel_path(el, f->xml, slash ? slash - f->xml : 0);
	_cleanup_(ds_node_freep) struct ds_node *list = NULL;

	if (!parent)
		return 0;
	list = new_node(DS_NODE_SEQ, f->key, f);
	if (!list)
		return -ENOMEM;
	for (const struct ds_xel *c = parent->kids; c; c = c->next) {
		const char *name = c->name;
		struct ds_node *item;
		if (!name)
			continue;
		if (f->kind == DS_FLAGS) {
			const char *state = ds_xel_attr(c, "state");
			if (ds_enum_index(f->values, name) < 0 ||
			    (state && !strcmp(state, "off")))
				continue; /* not one the format knows, or off */
			item = new_node(DS_NODE_SCALAR, NULL, f);
			if (item && !(item->str = strdup(name))) {
				ds_node_free(item);
				item = NULL;
			}
			if (item)
				item->v.u = ds_enum_index(f->values, name);
		} else {
			if (strcmp(name, last))
				continue;
			item = new_node(DS_NODE_MAP, NULL, &f->kids[0]);
			if (item && read_map(c, &f->kids[0], item) < 0) {
				ds_node_free(item);
				item = NULL;
			}
		}
		if (!item || ds_node_append(list, item) < 0) {
			ds_node_free(item);
			return -ENOMEM;
		}
	}
	if (!list->n_kids)
		return 0; /* no items is no list: both mean none */
	if (ds_node_append(map, list) < 0)
		return -ENOMEM;
	list = NULL;
	return 0;
}

static int read_field(const struct ds_xel *el, const struct ds_field *f,
		      struct ds_node *map)
{
	if (!f->xml || f->kind == DS_XML)
		return 0;
	if (f->kind == DS_LIST || f->kind == DS_FLAGS)
		return read_list(el, f, map);
	if (f->kind != DS_MAP)
		return read_scalar(el, f, map);

	const struct ds_xel *x =
	    *f->xml ? ds_xel_path(el, f->xml, strlen(f->xml)) : el;
	_cleanup_(ds_node_freep) struct ds_node *n = NULL;
	if (!x)
		return 0;
	n = new_node(DS_NODE_MAP, f->key, f);
	if (!n || read_map(x, f, n) < 0 || ds_node_append(map, n) < 0)
		return -ENOMEM;
	n = NULL;
	return 0;
}

/* The element name a kid's xml starts with ("type" of "type@arch"). */
static int elem_cmp(const char *name, const char *xml)
{
	size_t len = strcspn(xml, "@/");
	int c = strncmp(name, xml, len);

	return c ? c : (unsigned char)name[len];
}

struct by_xml_key {
	const char *name;
	const struct ds_field *kids;
};

static int by_xml_cmp(const void *key, const void *elem)
{
	const struct by_xml_key *k = key;

	return elem_cmp(k->name, k->kids[*(const uint16_t *)elem].xml);
}

/* Marks in present the kids of f held by child elements el has: each
 * child found with bsearch in f's index, rather than each of f's many
 * kids looked for among el's children. */
static void mark_present(const struct ds_xel *el, const struct ds_field *f,
			 uint64_t *present)
{
	for (const struct ds_xel *c = el->kids; c; c = c->next) {
		struct by_xml_key key = {c->name, f->kids};
		const uint16_t *hit;
		if (!c->name || c->ns)
			continue;
		hit = bsearch(&key, f->by_xml, f->n_by_xml, sizeof(*hit),
			      by_xml_cmp);
		if (!hit)
			continue;
		/* kids sharing the element (os.type, os.arch, os.machine) */
		const uint16_t *lo = hit, *hi = hit;
		while (lo > f->by_xml && !by_xml_cmp(&key, lo - 1))
			lo--;
		while (hi + 1 < f->by_xml + f->n_by_xml &&
		       !by_xml_cmp(&key, hi + 1))
			hi++;
		for (const uint16_t *i = lo; i <= hi; i++)
			present[*i / 64] |= UINT64_C(1) << (*i % 64);
	}
}

static int read_map(const struct ds_xel *el, const struct ds_field *f,
		    struct ds_node *map)
{
	uint64_t present[4] = {0};
	bool indexed = f->by_xml != NULL;
	size_t i = 0;

	if (indexed)
		mark_present(el, f, present);
	for (const struct ds_field *k = f->kids; k->key; k++, i++) {
		bool own = !k->xml || !*k->xml || *k->xml == '@';
		if (indexed && !own && i < 256 &&
		    !(present[i / 64] & (UINT64_C(1) << (i % 64))))
			continue; /* no child element holds it */
		if (read_field(el, k, map) < 0)
			return -ENOMEM;
	}
	return 0;
}

int ds_tree_from_xml(const struct ds_xel *domain, struct ds_node **ret)
{
	_cleanup_(ds_node_freep) struct ds_node *root =
	    new_node(DS_NODE_MAP, NULL, &ds_schema_domain);

	if (!root || read_map(domain, &ds_schema_domain, root) < 0 ||
	    ds_tree_defaults(root) < 0 || ds_tree_normalise(root) < 0)
		return -ENOMEM;
	*ret = take_ptr(root);
	return 0;
}

int ds_tree_from_text(const char *xml, size_t len, struct ds_node **ret)
{
	struct ds_xdoc doc;
	int r = ds_xdoc_read(NULL, xml, len, &doc);

	if (r == 0)
		r = ds_tree_from_xml(doc.root, ret);
	ds_xdoc_finish(&doc);
	return r;
}

int ds_item_from_xml(const struct ds_xel *el, const struct ds_field *item,
		     struct ds_node **ret)
{
	_cleanup_(ds_node_freep) struct ds_node *n =
	    new_node(DS_NODE_MAP, NULL, item);

	if (!n || read_map(el, item, n) < 0)
		return -ENOMEM;
	*ret = take_ptr(n);
	return 0;
}
