#include "xmlread.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "domain.h"
#include "metadata.h"
#include "schema.h"
#include "units.h"

/* One reading: for import (raw), what it takes from the XML is recorded,
 * values that do not fit their field are told apart, and generated fields
 * are taken but left out of the tree. */
struct reader {
	struct ds_xml_use *use; /* NULL: an observation, nothing recorded */
};

static void use_add(const void ***v, size_t *n, size_t *cap, bool *oom,
		    const void *p)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 64;
		const void **grown = reallocarray(*v, c, sizeof(**v));
		if (!grown) {
			*oom = true;
			return;
		}
		*v = grown;
		*cap = c;
	}
	(*v)[(*n)++] = p;
}

static void taken(const struct reader *rd, const void *p)
{
	struct ds_xml_use *u = rd->use;

	if (u && p)
		use_add(&u->taken, &u->n_taken, &u->cap_taken, &u->oom, p);
}

static void unfit(const struct reader *rd, const void *p)
{
	struct ds_xml_use *u = rd->use;

	if (u && p)
		use_add(&u->unfit, &u->n_unfit, &u->cap_unfit, &u->oom, p);
}

/* The slot of e's attribute name in e->attrs (what the use records for
 * an attribute), or NULL. */
static const char *const *attr_slot(const struct ds_xel *e, const char *name)
{
	for (const char **a = e && e->attrs ? e->attrs : NULL; a && *a; a += 2)
		if (!strcmp(*a, name))
			return a;
	return NULL;
}

/* ds_xel_path, taking every element on the way. */
static const struct ds_xel *path_of(const struct reader *rd,
				    const struct ds_xel *e, const char *path,
				    size_t len)
{
	const struct ds_xel *x = ds_xel_path(e, path, len);

	for (const struct ds_xel *p = x; rd->use && p && p != e; p = p->parent)
		taken(rd, p);
	return x;
}

/* Takes e and everything in it: what a generated field holds is
 * libvirt's. */
static void take_all(const struct reader *rd, const struct ds_xel *e)
{
	taken(rd, e);
	for (const char **a = e->attrs; a && *a; a += 2)
		taken(rd, a);
	for (const struct ds_xel *c = e->kids; c; c = c->next)
		take_all(rd, c);
}

/* Takes e's own text runs, the text a field read. */
static void take_text(const struct reader *rd, const struct ds_xel *e,
		      bool fits)
{
	for (const struct ds_xel *c = e->kids; rd->use && c; c = c->next)
		if (!c->name) {
			taken(rd, c);
			if (!fits)
				unfit(rd, c);
		}
}

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
static bool type_scalar(const struct reader *rd, struct ds_node *n,
			const struct ds_field *f, const struct ds_xel *holder)
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
		/* a value the format lacks still compares as text; a file
		 * cannot say it */
		return !rd->use || n->v.u != (uint64_t)-1;
	case DS_SIZE: {
		const char *const *slot = attr_slot(holder, "unit");
		const char *unit = slot              ? slot[1]
				   : f->unit_default ? f->unit_default
						     : "KiB";
		size_t nlen = strlen(n->str), ulen;
		const char *why;
		char text[64];
		taken(rd, slot);
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

static int read_map(const struct reader *rd, const struct ds_xel *el,
		    const struct ds_field *f, struct ds_node *map);

/* A scalar: an attribute, the text of a child element, or el's own text. */
static int read_scalar(const struct reader *rd, const struct ds_xel *el,
		       const struct ds_field *f, struct ds_node *map)
{
	const char *at = strchr(f->xml, '@');
	size_t elen = at ? (size_t)(at - f->xml) : strlen(f->xml);
	const struct ds_xel *holder = elen ? path_of(rd, el, f->xml, elen) : el;
	const char *const *slot = NULL;
	_cleanup_(ds_node_freep) struct ds_node *n = NULL;
	bool fits;

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
		if (!(slot = attr_slot(holder, at + 1)))
			return 0;
		n = new_node(DS_NODE_SCALAR, f->key, f);
		if (!n || !(n->str = strdup(slot[1])))
			return -ENOMEM;
	} else {
		n = new_node(DS_NODE_SCALAR, f->key, f);
		if (!n || !(n->str = ds_xel_content(holder)))
			return -ENOMEM;
		/* an element's own empty text (<backend model='builtin'/>) is
		 * no value */
		if (!elen && !*n->str) {
			take_text(rd, holder, true);
			return 0;
		}
	}
	fits = type_scalar(rd, n, f, holder);
	if (slot) {
		taken(rd, slot);
		if (!fits)
			unfit(rd, slot);
	} else {
		take_text(rd, holder, fits);
	}
	if (!fits)
		return 0;
	if (ds_node_append(map, n) < 0)
		return -ENOMEM;
	n = NULL;
	return 0;
}

/* A list: every element named by the path's last part; flags: every child
 * element whose name the field knows. */
static int read_list(const struct reader *rd, const struct ds_xel *el,
		     const struct ds_field *f, struct ds_node *map)
{
	const char *slash = strrchr(f->xml, '/');
	const char *last = slash ? slash + 1 : f->xml;
	const struct ds_xel *parent =
	    f->kind == DS_FLAGS
		? path_of(rd, el, f->xml, strlen(f->xml))
		: path_of(rd, el, f->xml, slash ? slash - f->xml : 0);
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
			const char *const *state = attr_slot(c, "state");
			if (ds_enum_index(f->values, name) < 0)
				continue; /* not one the format knows */
			taken(rd, c);
			if (state && !strcmp(state[1], "off")) {
				unfit(rd, c); /* a file lists what is on */
				continue;
			}
			if (state && !strcmp(state[1], "on"))
				taken(rd, state);
			item = new_node(DS_NODE_SCALAR, NULL, f);
			if (item && !(item->str = strdup(name))) {
				ds_node_free(item);
				item = NULL;
			}
			if (item)
				item->v.u = ds_enum_index(f->values, name);
		} else {
			if (!ds_xel_is(c, last, strlen(last)))
				continue;
			taken(rd, c);
			item = new_node(DS_NODE_MAP, NULL, &f->kids[0]);
			if (item && read_map(rd, c, &f->kids[0], item) < 0) {
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

/* Elements by namespace: the children of the field's element (<metadata>)
 * as text under their namespace, the first of each namespace (libvirt
 * keeps no other, nor one without a namespace); the agent's mark is no
 * field. */
static int read_xml_ns(const struct reader *rd, const struct ds_xel *el,
		       const struct ds_field *f, struct ds_node *map)
{
	const struct ds_xel *x = path_of(rd, el, f->xml, strlen(f->xml));
	_cleanup_(ds_node_freep) struct ds_node *n = NULL;

	if (!x || !(n = new_node(DS_NODE_MAP, f->key, f)))
		return x ? -ENOMEM : 0;
	for (const struct ds_xel *c = x->kids; c; c = c->next) {
		struct ds_node *k;
		if (!c->name || !c->ns || ds_node_get(n, c->ns))
			continue;
		take_all(rd, c);
		if (!strcmp(c->ns, DS_AGENT_NS))
			continue;
		if (!(k = new_node(DS_NODE_SCALAR, NULL, f)))
			return -ENOMEM;
		k->key_static = false;
		if (!(k->key = strdup(c->ns)) ||
		    !(k->str = ds_metadata_from_xel(c)) ||
		    ds_node_append(n, k) < 0) {
			ds_node_free(k);
			return -ENOMEM;
		}
	}
	if (!n->n_kids)
		return 0; /* none, or the mark alone */
	if (ds_node_append(map, n) < 0)
		return -ENOMEM;
	n = NULL;
	return 0;
}

static int read_field(const struct reader *rd, const struct ds_xel *el,
		      const struct ds_field *f, struct ds_node *map)
{
	if (!f->xml || f->kind == DS_XML)
		return 0;
	if (f->kind == DS_XML_NS)
		return read_xml_ns(rd, el, f, map);
	if (f->kind == DS_LIST || f->kind == DS_FLAGS)
		return read_list(rd, el, f, map);
	if (f->kind != DS_MAP)
		return read_scalar(rd, el, f, map);

	const struct ds_xel *x =
	    *f->xml ? path_of(rd, el, f->xml, strlen(f->xml)) : el;
	_cleanup_(ds_node_freep) struct ds_node *n = NULL;
	if (!x)
		return 0;
	n = new_node(DS_NODE_MAP, f->key, f);
	if (!n || read_map(rd, x, f, n) < 0)
		return -ENOMEM;
	/* a map of no element of its own (a namespace's, qemu) is there
	 * when one of its elements is */
	if (!*f->xml && !n->n_kids)
		return 0;
	if (ds_node_append(map, n) < 0)
		return -ENOMEM;
	n = NULL;
	return 0;
}

/* A generated field, for import: taken, with all it holds, and left out. */
static int skip_generated(const struct reader *rd, const struct ds_xel *el,
			  const struct ds_field *f)
{
	const char *at = f->xml ? strchr(f->xml, '@') : NULL;
	size_t elen = at ? (size_t)(at - f->xml) : f->xml ? strlen(f->xml) : 0;
	const struct ds_xel *x = elen ? path_of(rd, el, f->xml, elen) : el;

	if (!x || !f->xml)
		return 0;
	if (at) {
		taken(rd, attr_slot(x, at + 1));
		return 0;
	}
	if (f->kind == DS_LIST) {
		const char *slash = strrchr(f->xml, '/');
		const char *last = slash ? slash + 1 : f->xml;
		const struct ds_xel *parent = path_of(
		    rd, el, f->xml, slash ? (size_t)(slash - f->xml) : 0);
		for (const struct ds_xel *c = parent ? parent->kids : NULL; c;
		     c = c->next)
			if (ds_xel_is(c, last, strlen(last)))
				take_all(rd, c);
		return 0;
	}
	if (*f->xml)
		take_all(rd, x);
	else
		take_text(rd, x, true);
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
		const char *prefix = c->ns ? ds_ns_prefix(c->ns) : NULL;
		const uint16_t *hit, *lo, *hi;
		char qname[128];
		if (!c->name || (c->ns && !prefix))
			continue;
		if (prefix) {
			/* qemu:commandline, as the table names it */
			snprintf(qname, sizeof(qname), "%s:%s", prefix,
				 c->name);
			key.name = qname;
		}
		hit = bsearch(&key, f->by_xml, f->n_by_xml, sizeof(*hit),
			      by_xml_cmp);
		if (!hit)
			continue;
		/* kids sharing the element (os.type, os.arch, os.machine) */
		for (lo = hit; lo > f->by_xml && !by_xml_cmp(&key, lo - 1);)
			lo--;
		for (hi = hit; hi + 1 < f->by_xml + f->n_by_xml &&
			       !by_xml_cmp(&key, hi + 1);)
			hi++;
		for (const uint16_t *i = lo; i <= hi; i++)
			present[*i / 64] |= UINT64_C(1) << (*i % 64);
	}
}

static int read_map(const struct reader *rd, const struct ds_xel *el,
		    const struct ds_field *f, struct ds_node *map)
{
	uint64_t present[4] = {0};
	bool indexed = f->by_xml != NULL;
	size_t i = 0;

	if (indexed)
		mark_present(el, f, present);
	for (const struct ds_field *k = f->kids; k->key; k++, i++) {
		bool own = !k->xml || !*k->xml || *k->xml == '@';
		int r;
		if (indexed && !own && i < 256 &&
		    !(present[i / 64] & (UINT64_C(1) << (i % 64))))
			continue; /* no child element holds it */
		r = rd->use && k->generated ? skip_generated(rd, el, k)
					    : read_field(rd, el, k, map);
		if (r < 0)
			return -ENOMEM;
	}
	return 0;
}

int ds_tree_from_xml(const struct ds_xel *domain, struct ds_node **ret)
{
	static const struct reader rd = {NULL};
	_cleanup_(ds_node_freep) struct ds_node *root =
	    new_node(DS_NODE_MAP, NULL, &ds_schema_domain);

	if (!root || read_map(&rd, domain, &ds_schema_domain, root) < 0 ||
	    ds_tree_defaults(root) < 0 || ds_tree_normalise(root) < 0)
		return -ENOMEM;
	*ret = take_ptr(root);
	return 0;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (const void *const *)a;
	uintptr_t y = (uintptr_t) * (const void *const *)b;

	return x < y ? -1 : x > y;
}

int ds_tree_from_xml_raw(const struct ds_xel *domain, struct ds_xml_use *use,
			 struct ds_node **ret)
{
	const struct reader rd = {use};
	_cleanup_(ds_node_freep) struct ds_node *root =
	    new_node(DS_NODE_MAP, NULL, &ds_schema_domain);

	*use = (struct ds_xml_use){0};
	taken(&rd, domain);
	if (!root || read_map(&rd, domain, &ds_schema_domain, root) < 0 ||
	    use->oom) {
		ds_xml_use_finish(use);
		return -ENOMEM;
	}
	if (use->n_taken)
		qsort(use->taken, use->n_taken, sizeof(*use->taken), cmp_ptr);
	if (use->n_unfit)
		qsort(use->unfit, use->n_unfit, sizeof(*use->unfit), cmp_ptr);
	*ret = take_ptr(root);
	return 0;
}

static bool has(const void *const *v, size_t n, const void *p)
{
	return n && bsearch(&p, v, n, sizeof(*v), cmp_ptr);
}

bool ds_xml_use_taken(const struct ds_xml_use *u, const void *p)
{
	return has(u->taken, u->n_taken, p);
}

bool ds_xml_use_unfit(const struct ds_xml_use *u, const void *p)
{
	return has(u->unfit, u->n_unfit, p);
}

void ds_xml_use_finish(struct ds_xml_use *u)
{
	free(u->taken);
	free(u->unfit);
	*u = (struct ds_xml_use){0};
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
	static const struct reader rd = {NULL};
	_cleanup_(ds_node_freep) struct ds_node *n =
	    new_node(DS_NODE_MAP, NULL, item);

	if (!n || read_map(&rd, el, item, n) < 0)
		return -ENOMEM;
	*ret = take_ptr(n);
	return 0;
}
