/* Import: libvirt's XML → the format's tree (the raw reader, without the
 * defaults a comparison adds) → YAML (the writer). Then what the reading
 * did not take is looked at: an element of <domain> or <devices> the
 * format has no key for is kept as raw XML; a device whose value does not
 * fit its field is kept whole as raw XML (beside the list, as the
 * fragments' reader expects); anything else is said and left out. */
#include "import.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "diag.h"
#include "domain.h"
#include "fragments.h"
#include "parse.h"
#include "schema.h"
#include "xmlread.h"
#include "xmltree.h"
#include "yamlout.h"

/* A device kept whole as raw XML, and why. */
struct raw_item {
	const struct ds_xel *el;
	char *why;
};

struct importer {
	const struct ds_import_opts *o;
	struct ds_xdoc xdoc; /* the reader's view of the XML */
	xmlDocPtr doc;       /* libxml2's, for the raw fragments */
	struct ds_xml_use use;
	struct ds_node *tree;
	const struct ds_field *devices; /* the field of <devices> */
	struct raw_item *raw;
	size_t n_raw;
	struct ds_import *out;
	int err; /* the first failure: -ENOMEM */
};

static __attribute__((format(printf, 2, 3))) void note(struct importer *im,
						       const char *fmt, ...)
{
	struct ds_import *out = im->out;
	char **grown;
	char *s;
	va_list ap;
	int r;

	if (out->n_notes == DS_IMPORT_MAX_NOTES) {
		out->notes_dropped++; /* a hostile file's million attributes */
		return;
	}
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0) {
		im->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < out->n_notes; i++) {
		if (!strcmp(out->notes[i], s)) {
			free(s); /* said once, however many disks have it */
			return;
		}
	}
	grown = reallocarray(out->notes, out->n_notes + 1, sizeof(*grown));
	if (!grown) {
		free(s);
		im->err = -ENOMEM;
		return;
	}
	out->notes = grown;
	out->notes[out->n_notes++] = s;
}

/* An element's place below <domain>, as "devices/disk/address" ("domain"
 * for the root), in buf. */
static const char *where(const struct ds_xel *e, char *buf, size_t len)
{
	const struct ds_xel *chain[DS_MAX_DEPTH];
	size_t n = 0, o = 0;

	if (!e->parent)
		return snprintf(buf, len, "domain"), buf;
	for (; e && e->parent && n < DS_ARRAY_SIZE(chain); e = e->parent)
		chain[n++] = e;
	buf[0] = 0;
	while (n-- > 0 && o < len)
		o += snprintf(buf + o, len - o, "%s%s", o ? "/" : "",
			      chain[n]->name);
	return buf;
}

#define WHERE(e) where((e), (char[256]){0}, 256)

#define SHOWN(s) ds_shown((s), (char[96]){0}, 96)

static int cmp_raw(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct raw_item *)a)->el;
	uintptr_t y = (uintptr_t)((const struct raw_item *)b)->el;

	return x < y ? -1 : x > y;
}

/* The raw item of device element el, or NULL; im->raw is sorted once the
 * tree has settled. */
static const struct raw_item *raw_of(const struct importer *im,
				     const struct ds_xel *el)
{
	struct raw_item key = {el, NULL};

	return im->n_raw
		   ? bsearch(&key, im->raw, im->n_raw, sizeof(key), cmp_raw)
		   : NULL;
}

/* Keeps device element el whole as raw XML: its list item is left out
 * (marked bad, which also says it is kept already). */
static __attribute__((format(printf, 4, 5))) void
keep_raw(struct importer *im, const struct ds_xel *el, struct ds_node *item,
	 const char *fmt, ...)
{
	struct raw_item *grown;
	va_list ap;
	char *why;
	int r;

	if (item->bad)
		return;
	va_start(ap, fmt);
	r = vasprintf(&why, fmt, ap);
	va_end(ap);
	grown =
	    r < 0 ? NULL : reallocarray(im->raw, im->n_raw + 1, sizeof(*grown));
	if (!grown) {
		if (r >= 0)
			free(why);
		im->err = -ENOMEM;
		return;
	}
	im->raw = grown;
	im->raw[im->n_raw++] = (struct raw_item){el, why};
	item->bad = true;
}

/* The first value under e that the reader found unfit for its field, said
 * into buf; NULL when there is none. */
static const char *unfit_in(const struct importer *im, const struct ds_xel *e,
			    char *buf, size_t len)
{
	if (ds_xml_use_unfit(&im->use, e)) {
		snprintf(buf, len, "<%s> does not fit the format", WHERE(e));
		return buf;
	}
	for (const char **a = e->attrs; a && *a; a += 2) {
		if (ds_xml_use_unfit(&im->use, a)) {
			snprintf(buf, len,
				 "<%s@%s> \"%s\" does not fit the format",
				 WHERE(e), a[0], SHOWN(a[1]));
			return buf;
		}
	}
	for (const struct ds_xel *c = e->kids; c; c = c->next) {
		if (!c->name && ds_xml_use_unfit(&im->use, c)) {
			snprintf(buf, len,
				 "<%s> \"%s\" does not fit the format",
				 WHERE(e), SHOWN(c->text));
			return buf;
		}
		if (c->name && unfit_in(im, c, buf, len))
			return buf;
	}
	return NULL;
}

/* The first required key missing in map node n of field f (or in a map
 * under it), or NULL. */
static const char *missing(const struct ds_node *n, const struct ds_field *f)
{
	for (const struct ds_field *k = f->kids; k && k->key; k++) {
		const struct ds_node *c = ds_node_get(n, k->key);
		const char *m;
		if (!c && k->required && k->xml && !k->generated)
			return k->key;
		if (c && k->kind == DS_MAP && (m = missing(c, k)))
			return m;
	}
	return NULL;
}

/* Devices whose item the reader could not read whole are kept raw. */
static void find_unfit_devices(struct importer *im)
{
	const struct ds_xel *devices =
	    im->devices ? ds_xel_child(im->xdoc.root, im->devices->xml,
				       strlen(im->devices->xml))
			: NULL;
	const struct ds_node *tree_devices =
	    im->devices ? ds_node_get(im->tree, im->devices->key) : NULL;
	size_t n_lists = 0, *seen;
	char buf[256];

	for (const struct ds_field *f = im->devices ? im->devices->kids : NULL;
	     f && f->key; f++)
		n_lists++;
	if (!devices)
		return;
	if (!(seen = calloc(n_lists + 1, sizeof(*seen)))) {
		im->err = -ENOMEM;
		return;
	}
	for (const struct ds_xel *c = devices->kids; c; c = c->next) {
		const struct ds_field *lf =
		    c->name ? ds_device_list(c->name) : NULL;
		const struct ds_node *list =
		    lf ? ds_node_get(tree_devices, lf->key) : NULL;
		struct ds_node *item;
		const char *why, *m;
		/* the reader reads a list's elements in order, every one */
		size_t index = lf ? seen[lf - im->devices->kids]++ : 0;
		if (!list || index >= list->n_kids)
			continue;
		item = list->kids[index];
		if ((why = unfit_in(im, c, buf, sizeof(buf))))
			keep_raw(im, c, item, "%s", why);
		else if ((m = missing(item, &lf->kids[0])))
			keep_raw(im, c, item,
				 "it has no '%s', which the format requires",
				 m);
	}
	free(seen);
}

/* The message the schema walk gave at mark m, or a general one. */
static const char *diag_at(const struct ds_diags *d, struct ds_mark m)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->items[i].mark.line == m.line &&
		    d->items[i].mark.col == m.col)
			return d->items[i].msg;
	return "it does not fit the format";
}

static bool at_mark(struct ds_mark a, struct ds_mark b)
{
	return a.line == b.line && a.col == b.col;
}

/* The node of l a rule's problem at mark m is about: the first in the
 * tree's order whose key (or, without one, whose value) starts there, or
 * a scalar value that does. */
static const struct ds_node *node_at(const struct ds_node *l, struct ds_mark m)
{
	if (at_mark(l->key ? l->key_mark : l->mark, m) ||
	    (l->kind == DS_NODE_SCALAR && at_mark(l->mark, m)))
		return l;
	for (size_t i = 0; i < l->n_kids; i++) {
		const struct ds_node *n = node_at(l->kids[i], m);
		if (n)
			return n;
	}
	return NULL;
}

/* What a file reading the tree back refused: the schema walk's values
 * (bad), or the nodes the rules between fields pointed at. */
struct judged {
	const struct ds_diags *d;
	bool rules; /* the rules (ds_validate) judged, not the walk */
	const struct ds_node **nodes; /* rules: the nodes they pointed at */
	const char **msgs;
	bool *dropped; /* rules: about a value libvirt drops */
	size_t n;
	char path[256];
};

/* Why l is refused, or NULL; *dropped says whether libvirt would drop
 * the value (then leaving it out means what libvirt holds). */
static const char *condemned(const struct judged *j, const struct ds_node *l,
			     bool *dropped)
{
	*dropped = false;
	if (!j->rules)
		return l->bad ? diag_at(j->d, l->mark) : NULL;
	for (size_t i = 0; i < j->n; i++)
		if (j->nodes[i] == l) {
			*dropped = j->dropped[i];
			return j->msgs[i];
		}
	return NULL;
}

/* Walks the tree (t) beside what the parser made of its YAML (l). A value
 * the schema walk refused is left out, or its device kept whole as raw
 * XML. A value a rule refused is left out when leaving it out changes
 * nothing the comparison sees: it is not required, and within a list item
 * libvirt fills it in (a console's port, which libvirt numbers itself) or
 * drops it (the driver of a NIC that is not virtio, a disk's seclabel that
 * only says labelskip). Returns how many were. dev: the device element t
 * lies in, or NULL; item: t lies in a list item. */
static size_t refused(struct importer *im, struct judged *j, struct ds_node *t,
		      const struct ds_node *l, const struct ds_field *f,
		      const struct ds_xel *dev, struct ds_node *dev_item,
		      bool item)
{
	bool dropped;
	const char *why = condemned(j, l, &dropped);
	size_t n = 0, plen = strlen(j->path);

	if (why && !j->rules) {
		if (dev) {
			keep_raw(im, dev, dev_item, "%s", why);
		} else {
			note(im, "%s; it is not imported", why);
			t->bad = true;
		}
		return 1;
	}
	if (why && !f->required &&
	    (!item || f->filled || f->generated || dropped)) {
		note(im, "'%s' is left out: %s", j->path, why);
		t->bad = true;
		return 1;
	}
	if (t->kind == DS_NODE_MAP && l->kind == DS_NODE_MAP) {
		for (size_t i = 0; i < t->n_kids; i++) {
			struct ds_node *tk = t->kids[i];
			const struct ds_node *lk = ds_node_get(l, tk->key);
			const struct ds_field *kf = ds_field_kid(f, tk->key);
			if (tk->bad || !lk || !kf)
				continue;
			snprintf(j->path + plen, sizeof(j->path) - plen, "%s%s",
				 plen ? "." : "", tk->key);
			n += refused(im, j, tk, lk, kf, dev, dev_item, item);
			j->path[plen] = 0;
		}
	} else if (t->kind == DS_NODE_SEQ && l->kind == DS_NODE_SEQ) {
		const struct ds_xel *devices =
		    f->kind == DS_LIST && ds_device_list(f->xml) == f &&
			    im->devices
			? ds_xel_child(im->xdoc.root, im->devices->xml,
				       strlen(im->devices->xml))
			: NULL;
		const struct ds_xel *el = devices ? devices->kids : NULL;
		size_t k = 0;
		for (size_t i = 0; i < t->n_kids; i++) {
			/* the i-th item is the i-th element of its name */
			while (el && (!el->name || strcmp(el->name, f->xml)))
				el = el->next;
			const struct ds_xel *item_dev = el ? el : dev;
			struct ds_node *item_node = el ? t->kids[i] : dev_item;
			if (el)
				el = el->next;
			if (t->kids[i]->bad)
				continue;
			snprintf(j->path + plen, sizeof(j->path) - plen,
				 "[%zu]", k);
			if (k < l->n_kids)
				n += refused(
				    im, j, t->kids[i], l->kids[k],
				    f->kind == DS_LIST ? &f->kids[0] : f,
				    item_dev, item_node, f->kind == DS_LIST);
			j->path[plen] = 0;
			k++;
		}
	}
	return n;
}

/* Judges the tree by the rules between fields, as validate would. */
static size_t judge_rules(struct importer *im, const struct ds_node *l)
{
	struct ds_diags d;
	struct judged j = {.d = &d, .rules = true};
	size_t n = 0;

	if (ds_diags_init(&d, "import.yaml") < 0)
		return im->err = -ENOMEM, 0;
	ds_validate(l, &d);
	j.nodes = calloc(d.n + 1, sizeof(*j.nodes));
	j.msgs = calloc(d.n + 1, sizeof(*j.msgs));
	j.dropped = calloc(d.n + 1, sizeof(*j.dropped));
	if (!j.nodes || !j.msgs || !j.dropped) {
		im->err = -ENOMEM;
	} else {
		for (size_t i = 0; i < d.n; i++) {
			j.nodes[j.n] = node_at(l, d.items[i].mark);
			j.msgs[j.n] = d.items[i].msg;
			j.dropped[j.n] = d.items[i].dropped;
			j.n += j.nodes[j.n] != NULL;
		}
		n = refused(im, &j, im->tree, l, &ds_schema_domain, NULL, NULL,
			    false);
	}
	free(j.nodes);
	free(j.msgs);
	free(j.dropped);
	ds_diags_finish(&d);
	return n;
}

/* Writes the tree and reads it back as a file would be read, until the
 * parser takes every value, and the rules every value they may leave
 * out. */
static int settle(struct importer *im, char *why, size_t why_len)
{
	for (int round = 0; round < 16; round++) {
		_cleanup_free_ char *text = NULL;
		struct ds_node *l = NULL;
		struct ds_diags d;
		size_t len, n;
		int r = ds_yaml_write(im->tree, &ds_schema_domain, &text, &len);

		if (r < 0)
			return r;
		if (ds_diags_init(&d, "import.yaml") < 0)
			return -ENOMEM;
		if (ds_yaml_load(text, len, &d, &l) < 0) {
			/* past the limits of a file (values, size) */
			snprintf(why, why_len,
				 "the domain cannot be a file: %s",
				 d.n ? d.items[0].msg : "out of memory");
			r = d.oom ? -ENOMEM : -EINVAL;
			ds_diags_finish(&d);
			return r;
		}
		ds_parse_tree(&l, &d);
		struct judged j = {.d = &d};
		n = refused(im, &j, im->tree, l, &ds_schema_domain, NULL, NULL,
			    false);
		if (!n && !im->err)
			n = judge_rules(im, l);
		ds_node_free(l);
		ds_diags_finish(&d);
		if (im->err)
			return im->err;
		if (!n)
			return 0;
	}
	return 0;
}

/* The first element node from x on, or NULL: libxml2's view of the same
 * document has the reader's elements in the same order. */
static xmlNodePtr element_from(xmlNodePtr x)
{
	while (x && x->type != XML_ELEMENT_NODE)
		x = x->next;
	return x;
}

/* The node under the tree's root for field key (a map), made when
 * missing. */
static struct ds_node *map_of(struct ds_node *parent, const struct ds_field *f)
{
	struct ds_node *n = ds_node_get(parent, f->key);

	if (n)
		return n;
	if (!(n = ds_node_new(f->kind == DS_MAP ? DS_NODE_MAP : DS_NODE_SEQ,
			      (struct ds_mark){0})))
		return NULL;
	n->key = (char *)f->key;
	n->key_static = true;
	n->field = f;
	if (ds_node_append(parent, n) < 0) {
		ds_node_free(n);
		return NULL;
	}
	return n;
}

/* The field of the raw XML escape (xml: {domain: …, devices: …}): the
 * agent's map whose keys take raw XML. */
static const struct ds_field *raw_field(void)
{
	for (const struct ds_field *f = ds_schema_domain.kids; f->key; f++)
		if (!f->xml && f->kind == DS_MAP && f->kids &&
		    f->kids[0].kind == DS_XML)
			return f;
	return NULL;
}

/* A fragment's text as a file holds it: control characters, which XML
 * allows in text and values but a file's text may not hold, as character
 * references (XML's own spelling of them); a block of lines ends with a
 * line break (YAML's plain "|"). */
static char *fragment_text(const char *xml, size_t len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = xml[i];
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			fprintf(f, "&#%u;", c);
		else
			fputc(c, f);
	}
	if (memchr(xml, '\n', len))
		fputc('\n', f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Adds element e as a raw fragment under xml.<key> (domain or devices).
 * Returns false when the format has no such place. */
static bool add_raw(struct importer *im, const struct ds_xel *e, xmlNodePtr src,
		    const char *key)
{
	const struct ds_field *xf = raw_field();
	const struct ds_field *kf = xf ? ds_field_kid(xf, key) : NULL;
	xmlNodePtr copy;
	xmlDocPtr doc;
	xmlBufferPtr buf;
	struct ds_node *xml, *list, *n;
	size_t len;

	if (!kf || !src)
		return false;
	if (!(doc = xmlNewDoc(BAD_CAST "1.0")) ||
	    !(copy = xmlDocCopyNode(src, doc, 1))) {
		xmlFreeDoc(doc);
		im->err = -ENOMEM;
		return true;
	}
	/* the copy declares the namespaces declared above it, so that it
	 * stands alone */
	xmlDocSetRootElement(doc, copy);
	buf = xmlBufferCreate();
	if (!buf || xmlNodeDump(buf, doc, copy, 0, 1) < 0 ||
	    !(xml = map_of(im->tree, xf)) || !(list = map_of(xml, kf)) ||
	    !(n = ds_node_new(DS_NODE_SCALAR, (struct ds_mark){0}))) {
		xmlBufferFree(buf);
		xmlFreeDoc(doc);
		im->err = -ENOMEM;
		return true;
	}
	len = xmlBufferLength(buf);
	if (!(n->str = fragment_text((const char *)xmlBufferContent(buf), len)))
		im->err = -ENOMEM;
	n->field = kf;
	if (!n->str || ds_node_append(list, n) < 0) {
		ds_node_free(n);
		im->err = -ENOMEM;
	}
	xmlBufferFree(buf);
	xmlFreeDoc(doc);
	im->out->n_raw++;
	return true;
}

static bool blank(const char *s)
{
	return !s[strspn(s, " \t\r\n")];
}

/* Says what of e the reading did not take, and keeps what it can as raw
 * XML. */
static void cover(struct importer *im, const struct ds_xel *e, xmlNodePtr x)
{
	xmlNodePtr xc = element_from(x ? x->children : NULL);
	bool top = !e->parent;
	bool devices = e->parent && !e->parent->parent && im->devices &&
		       !strcmp(e->name, im->devices->xml);
	/* <metadata>, whose elements the reader takes one a namespace */
	bool metadata = e->parent && !e->parent->parent && !e->ns &&
			!strcmp(e->name, "metadata");

	for (const char **a = e->attrs; a && *a; a += 2) {
		if (!ds_xml_use_taken(&im->use, a))
			note(im,
			     "<%s@%s> is not in the format; it is not "
			     "imported",
			     WHERE(e), a[0]);
		else if (ds_xml_use_unfit(&im->use, a))
			note(im,
			     "<%s@%s> \"%s\" does not fit the format; it "
			     "is not imported",
			     WHERE(e), a[0], SHOWN(a[1]));
	}
	for (const struct ds_xel *c = e->kids; c && !im->err; c = c->next) {
		const struct raw_item *raw;
		xmlNodePtr src = NULL;
		if (c->name) {
			/* the same element, as libxml2 read it */
			src = xc;
			xc = element_from(xc ? xc->next : NULL);
		}
		if (!c->name) {
			if (blank(c->text))
				continue;
			if (!ds_xml_use_taken(&im->use, c))
				note(im,
				     "<%s> holds text the format does not "
				     "read; it is not imported",
				     WHERE(e));
			else if (ds_xml_use_unfit(&im->use, c))
				note(im,
				     "<%s> \"%s\" does not fit the format; "
				     "it is not imported",
				     WHERE(e), SHOWN(c->text));
			continue;
		}
		if (devices && (raw = raw_of(im, c))) {
			note(im,
			     "<%s>: %s; the device is kept whole under "
			     "xml.devices",
			     WHERE(c), raw->why);
			add_raw(im, c, src, "devices");
			continue;
		}
		if (!ds_xml_use_taken(&im->use, c) && metadata) {
			if (c->ns)
				note(im,
				     "<%s> of %s repeats a namespace; libvirt "
				     "keeps the first; it is not imported",
				     WHERE(c), c->ns);
			else
				note(im,
				     "<%s> has no namespace; libvirt drops it; "
				     "it is not imported",
				     WHERE(c));
			continue;
		}
		if (!ds_xml_use_taken(&im->use, c)) {
			const char *key = top ? "domain" : "devices";
			size_t had = im->out->n_raw;
			if ((top || devices) && add_raw(im, c, src, key)) {
				if (im->out->n_raw > had)
					note(im,
					     "<%s>%s%s is not in the format; "
					     "it is kept under xml.%s",
					     WHERE(c), c->ns ? " of " : "",
					     c->ns ? c->ns : "", key);
			} else {
				note(im,
				     "<%s>%s%s is not in the format; it is "
				     "not imported",
				     WHERE(c), c->ns ? " of " : "",
				     c->ns ? c->ns : "");
			}
			continue;
		}
		if (ds_xml_use_unfit(&im->use, c)) {
			note(im,
			     "<%s> does not fit the format; it is not "
			     "imported",
			     WHERE(c));
			continue;
		}
		cover(im, c, src);
	}
}

/* Whether mapping n, which had `had` values, was left with none by what
 * import leaves out: then it goes too, unless an empty one says something
 * (empty_ok) or it is a list's item, which is one of the list. */
static bool emptied(const struct ds_node *n, size_t had)
{
	return n->kind == DS_NODE_MAP && n->key && had && !n->n_kids &&
	       n->field && !n->field->empty_ok;
}

/* Leaves out the values libvirt writes for none at all (field->none:
 * cache='default', a graphics port of -1): the same as the key left out,
 * to the comparison and to libvirt; and a mapping they leave empty, which
 * held nothing else (a coalescing of 0 frames). */
static void drop_none(struct ds_node *n)
{
	size_t out = 0;

	for (size_t i = 0; i < n->n_kids; i++) {
		struct ds_node *k = n->kids[i];
		const struct ds_field *f = k->field;
		size_t had = k->n_kids;
		bool none = false;
		if (k->kind == DS_NODE_SCALAR && f && f->none && k->str)
			none = f->kind == DS_INT || f->kind == DS_UINT
				   ? k->v.i == strtoll(f->none, NULL, 10)
				   : !strcmp(k->str, f->none);
		if (!none) {
			drop_none(k);
			none = emptied(k, had);
		}
		if (none) {
			ds_node_free(k);
			continue;
		}
		n->kids[out++] = k;
	}
	n->n_kids = out;
}

/* Drops what is not written: values marked bad, devices kept raw. */
static void drop_bad(struct ds_node *n)
{
	size_t out = 0;

	for (size_t i = 0; i < n->n_kids; i++) {
		struct ds_node *k = n->kids[i];
		size_t had = k->n_kids;
		bool gone = k->bad;
		if (!gone) {
			drop_bad(k);
			gone = emptied(k, had);
		}
		if (gone) {
			ds_node_free(k);
			continue;
		}
		n->kids[out++] = k;
	}
	n->n_kids = out;
}

/* Leaves out the lists that hold nothing, and the maps that held only
 * those: the reader makes one for every list of <devices>, and a file
 * that names no disks does not manage them (libvirt's domain has none,
 * and the file says so by leaving the key out); within list items too (a
 * disk's seclabels, all of them dropped). Returns whether n is left empty
 * by it. */
static bool prune_empty(struct ds_node *n)
{
	size_t out = 0, pruned = 0;

	for (size_t i = 0; i < n->n_kids; i++) {
		struct ds_node *k = n->kids[i];
		bool empty = false;
		if (k->kind == DS_NODE_SEQ && !k->n_kids && k->field &&
		    k->field->kind == DS_LIST)
			empty = true;
		else if (k->kind == DS_NODE_MAP && k->n_kids)
			empty = prune_empty(k);
		else if (k->kind == DS_NODE_SEQ)
			for (size_t j = 0; j < k->n_kids; j++)
				if (k->kids[j]->kind == DS_NODE_MAP)
					prune_empty(k->kids[j]);
		if (empty) {
			ds_node_free(k);
			pruned++;
		} else {
			n->kids[out++] = k;
		}
	}
	n->n_kids = out;
	return pruned && !out;
}

/* With NUMA cells, <memory> is what libvirt derives from them and the
 * memory devices: a file leaves it out, as it does <currentMemory> when
 * that is the whole (libvirt lowers a larger one to it). */
static void leave_derived_memory(struct ds_node *root)
{
	const struct ds_node *mem = ds_node_get(root, "memory");
	const struct ds_node *cur = ds_node_get(root, "currentMemory");
	const struct ds_node *max = ds_node_path(root, "maxMemory.value");
	uint64_t total;

	/* a total the rules refuse is shown where the file says it */
	if (!ds_memory_derived(root, &total) ||
	    (max && (total > max->v.u ||
		     (total == max->v.u && !ds_memory_devices(root)))))
		return;
	if (mem && mem->kind == DS_NODE_MAP && mem->n_kids == 1 &&
	    ds_node_get(mem, "value"))
		ds_node_remove(root, "memory");
	if (cur && !cur->bad && cur->v.u >= total)
		ds_node_remove(root, "currentMemory");
}

/* Adds the agent's own key (adopt, state, autostart) with a value. */
static int add_own(struct importer *im, const char *key, const char *value,
		   bool b)
{
	const struct ds_field *f = ds_field_kid(&ds_schema_domain, key);
	struct ds_node *n;

	if (!f)
		return 0; /* the format has no such key: nothing to say */
	if (!(n = ds_node_new(DS_NODE_SCALAR, (struct ds_mark){0})) ||
	    !(n->str = strdup(value))) {
		ds_node_free(n);
		return -ENOMEM;
	}
	n->key = (char *)f->key;
	n->key_static = true;
	n->field = f;
	n->v.b = b;
	if (f->kind == DS_ENUM)
		n->v.u = ds_enum_index(f->values, value);
	if (ds_node_append(im->tree, n) < 0) {
		ds_node_free(n);
		return -ENOMEM;
	}
	return 0;
}

/* Whether the file is one a file may be: raw XML can make it larger, or
 * of more values, than the parser reads (DS_MAX_FILE_SIZE, DS_MAX_NODES).
 * Returns 0, or -EINVAL with why. */
static int within_limits(const struct ds_import *out, char *why, size_t why_len)
{
	struct ds_node *root = NULL;
	struct ds_diags d;
	int r;

	if (ds_diags_init(&d, "import.yaml") < 0)
		return -ENOMEM;
	r = ds_yaml_load(out->yaml, out->len, &d, &root);
	if (r < 0 && !d.oom)
		snprintf(why, why_len, "the domain cannot be a file: %s",
			 d.n ? d.items[0].msg : "it does not read back");
	ds_node_free(root);
	r = r < 0 ? (d.oom ? -ENOMEM : -EINVAL) : 0;
	ds_diags_finish(&d);
	return r;
}

/* The first error libxml2 reports, with its line. */
struct xml_error {
	char *buf;
	size_t len;
	bool seen;
};

static void on_xml_error(void *ctx, xmlErrorPtr e)
{
	struct xml_error *x = ctx;
	size_t mlen = e->message ? strlen(e->message) : 0;

	if (x->seen || e->level < XML_ERR_ERROR)
		return;
	x->seen = true;
	while (mlen && e->message[mlen - 1] == '\n')
		mlen--;
	snprintf(x->buf, x->len, "line %d: %.*s", e->line, (int)mlen,
		 e->message ? e->message : "not well-formed");
}

static int read_xml(struct importer *im, const char *xml, size_t len, char *why,
		    size_t why_len)
{
	struct xml_error x = {why, why_len, false};
	xmlNodePtr root;
	int r;

	if (len > INT32_MAX) {
		snprintf(why, why_len, "the document is too large");
		return -EINVAL;
	}
	xmlSetStructuredErrorFunc(&x, on_xml_error);
	im->doc = xmlReadMemory(xml, (int)len, NULL, NULL,
				XML_PARSE_NONET | XML_PARSE_NOBLANKS |
				    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlSetStructuredErrorFunc(NULL, NULL);
	if (!im->doc || x.seen) {
		if (!x.seen)
			snprintf(why, why_len, "not well-formed XML");
		return -EINVAL;
	}
	root = xmlDocGetRootElement(im->doc);
	if (im->doc->intSubset || im->doc->extSubset) {
		/* entities could make the two readings differ, and libvirt
		 * writes none */
		snprintf(why, why_len,
			 "a document type declaration (<!DOCTYPE>); libvirt's "
			 "domain XML has none");
		return -EINVAL;
	}
	if (!root || strcmp((const char *)root->name, "domain") || root->ns) {
		snprintf(why, why_len, "the root element is <%s>, not <domain>",
			 root ? (const char *)root->name : "");
		return -EINVAL;
	}
	r = ds_xdoc_read(NULL, xml, len, &im->xdoc);
	if (r == -EINVAL)
		snprintf(why, why_len, "not well-formed XML");
	return r;
}

static void importer_finish(struct importer *im)
{
	for (size_t i = 0; i < im->n_raw; i++)
		free(im->raw[i].why);
	free(im->raw);
	ds_node_free(im->tree);
	ds_xml_use_finish(&im->use);
	ds_xdoc_finish(&im->xdoc);
	xmlFreeDoc(im->doc);
}

int ds_import_xml(const char *xml, size_t len, const struct ds_import_opts *o,
		  struct ds_import *ret, char *why, size_t why_len)
{
	struct importer im = {.o = o, .out = ret};
	const struct ds_node *name;
	int r;

	*ret = (struct ds_import){0};
	r = read_xml(&im, xml, len, why, why_len);
	if (r == 0)
		r = ds_tree_from_xml_raw(im.xdoc.root, &im.use, &im.tree);
	if (r < 0)
		goto out;
	for (const struct ds_field *f = ds_schema_domain.kids; f->key; f++)
		if (f->kind == DS_MAP && f->xml && !strcmp(f->xml, "devices"))
			im.devices = f;
	name = ds_node_get(im.tree, "name");
	if (!name || !name->str) {
		snprintf(why, why_len, "the domain has no <name>");
		r = -EINVAL;
		goto out;
	}
	if (!(ret->name = strdup(name->str))) {
		r = -ENOMEM;
		goto out;
	}
	/* libvirt's older spellings, which its schema refuses in a file */
	r = ds_tree_respell(im.tree);
	if (r < 0)
		goto out;
	if (r > 0)
		note(&im, "a device's <rom file=''/> (libvirt's older spelling "
			  "of a disabled ROM, which its schema refuses) is "
			  "imported as 'rom: {enabled: false}', the same to "
			  "QEMU");
	drop_none(im.tree);
	prune_empty(im.tree);
	leave_derived_memory(im.tree);
	find_unfit_devices(&im);
	r = im.err ? im.err : settle(&im, why, why_len);
	if (r == 0) {
		/* a list whose devices are all kept raw says nothing */
		drop_bad(im.tree);
		prune_empty(im.tree);
		if (im.n_raw)
			qsort(im.raw, im.n_raw, sizeof(*im.raw), cmp_raw);
		cover(&im, im.xdoc.root, xmlDocGetRootElement(im.doc));
	}
	r = r ? r : im.err;
	if (r == 0)
		r = add_own(&im, "adopt", "true", true);
	if (r == 0 && o->state)
		r = add_own(&im, "state", o->state, false);
	if (r == 0 && o->autostart >= 0)
		r = add_own(&im, "autostart", o->autostart ? "true" : "false",
			    o->autostart > 0);
	if (r == 0)
		r = ds_yaml_write(im.tree, &ds_schema_domain, &ret->yaml,
				  &ret->len);
	if (r == 0)
		r = within_limits(ret, why, why_len);
out:
	importer_finish(&im);
	if (r < 0)
		ds_import_finish(ret);
	return r;
}

void ds_import_finish(struct ds_import *im)
{
	for (size_t i = 0; i < im->n_notes; i++)
		free(im->notes[i]);
	free(im->notes);
	free(im->name);
	free(im->yaml);
	*im = (struct ds_import){0};
}
