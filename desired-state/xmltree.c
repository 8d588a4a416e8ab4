#include "xmltree.h"

#include <errno.h>
#include <libxml/parser.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

/* Memory is taken from blocks and given back all at once. */
struct ds_xblock {
	struct ds_xblock *next;
	size_t used, size;
	max_align_t data[];
};

#define BLOCK_SIZE 4096

struct builder {
	struct ds_xdoc doc;
	struct ds_xel *cur; /* the open element */
	bool nomem;
};

static void *take(struct builder *b, size_t len)
{
	struct ds_xblock *k = b->doc.blocks;
	size_t need =
	    (len + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);

	if (!k || k->size - k->used < need) {
		size_t size = need > BLOCK_SIZE ? need : BLOCK_SIZE;
		k = malloc(sizeof(*k) + size);
		if (!k) {
			b->nomem = true;
			return NULL;
		}
		*k = (struct ds_xblock){b->doc.blocks, 0, size};
		b->doc.blocks = k;
	}
	k->used += need;
	return (char *)k->data + k->used - need;
}

static char *copy(struct builder *b, const char *s, size_t len)
{
	char *d = take(b, len + 1);

	if (d) {
		memcpy(d, s, len);
		d[len] = 0;
	}
	return d;
}

static struct ds_xel *add(struct builder *b)
{
	struct ds_xel *e = take(b, sizeof(*e)), *p = b->cur;

	if (!e)
		return NULL;
	*e = (struct ds_xel){.parent = p};
	if (!p)
		return e;
	if (p->last)
		p->last->next = e;
	else
		p->kids = e;
	p->last = e;
	return e;
}

/* An attribute's value as SAX2 gives it without entity replacement: the
 * parser has replaced every reference but "&amp;", which it gives as
 * "&#38;" (a literal "&" cannot occur in a value). */
static char *attr_value(struct builder *b, const char *v, const char *end)
{
	const char *amp = memchr(v, '&', end - v);
	char *d, *o;

	if (!amp)
		return copy(b, v, end - v);
	if (!(d = o = take(b, end - v + 1)))
		return NULL;
	while (v < end) {
		if (end - v >= 5 && !memcmp(v, "&#38;", 5)) {
			*o++ = '&';
			v += 5;
		} else {
			*o++ = *v++;
		}
	}
	*o = 0;
	return d;
}

static const char *copy_or_null(struct builder *b, const xmlChar *s)
{
	return s ? copy(b, (const char *)s, strlen((const char *)s)) : NULL;
}

/* Keeps the prefixes and the attributes' namespaces of an element that
 * has any (the elements of <metadata>; libvirt's own have none). */
static void qualify(struct builder *b, struct ds_xel *e, const char *prefix,
		    int n_attrs, const xmlChar **attrs)
{
	bool any = prefix != NULL;

	for (int i = 0; i < n_attrs && !any; i++)
		any = attrs[5 * i + 2] != NULL;
	if (!any || !(e->qual = take(b, (1 + 2 * n_attrs) * sizeof(*e->qual))))
		return;
	e->qual[0] = copy_or_null(b, (const xmlChar *)prefix);
	for (int i = 0; i < n_attrs; i++) {
		e->qual[1 + 2 * i] = copy_or_null(b, attrs[5 * i + 2]);
		e->qual[2 + 2 * i] = copy_or_null(b, attrs[5 * i + 1]);
	}
}

static void start(void *opaque, const xmlChar *name, const xmlChar *prefix,
		  const xmlChar *uri, int n_ns, const xmlChar **ns, int n_attrs,
		  int n_defaulted, const xmlChar **attrs)
{
	struct builder *b = opaque;
	struct ds_xel *e;

	(void)prefix, (void)n_ns, (void)ns, (void)n_defaulted;
	if (b->nomem || (!b->cur && b->doc.root) || !(e = add(b)))
		return;
	e->name = copy(b, (const char *)name, strlen((const char *)name));
	e->ns =
	    uri ? copy(b, (const char *)uri, strlen((const char *)uri)) : NULL;
	e->attrs = take(b, (2 * n_attrs + 1) * sizeof(*e->attrs));
	if (!e->name || (uri && !e->ns) || !e->attrs)
		return;
	for (int i = 0; i < n_attrs; i++) {
		const char **a = (const char **)attrs + 5 * i;
		e->attrs[2 * i] = copy(b, a[0], strlen(a[0]));
		e->attrs[2 * i + 1] = attr_value(b, a[3], a[4]);
	}
	e->attrs[2 * n_attrs] = NULL;
	qualify(b, e, (const char *)prefix, n_attrs, attrs);
	if (!b->cur)
		b->doc.root = e;
	b->cur = e;
}

static void end(void *opaque, const xmlChar *name, const xmlChar *prefix,
		const xmlChar *uri)
{
	struct builder *b = opaque;

	(void)name, (void)prefix, (void)uri;
	if (!b->nomem && b->cur)
		b->cur = b->cur->parent;
}

static void text(void *opaque, const xmlChar *s, int len)
{
	struct builder *b = opaque;
	struct ds_xel *t = b->cur ? b->cur->last : NULL;
	char *joined;

	if (b->nomem || !b->cur)
		return;
	if (t && !t->name) { /* one run, however the parser splits it */
		size_t had = strlen(t->text);
		if ((joined = take(b, had + len + 1))) {
			memcpy(joined, t->text, had);
			memcpy(joined + had, s, len);
			joined[had + len] = 0;
			t->text = joined;
		}
		return;
	}
	if ((t = add(b)))
		t->text = copy(b, (const char *)s, len);
}

static void quiet(void *opaque, xmlErrorPtr err)
{
	(void)opaque, (void)err;
}

struct ds_xreader {
	xmlParserCtxtPtr ctxt;
};

struct ds_xreader *ds_xreader_new(void)
{
	xmlSAXHandler sax = {
	    .initialized = XML_SAX2_MAGIC,
	    .startElementNs = start,
	    .endElementNs = end,
	    .characters = text,
	    .cdataBlock = text,
	    .serror = quiet,
	};
	struct ds_xreader *r = calloc(1, sizeof(*r));

	/* no file name: libxml2 would ask for the working directory */
	if (r &&
	    !(r->ctxt = xmlCreatePushParserCtxt(&sax, NULL, NULL, 0, NULL))) {
		free(r);
		return NULL;
	}
	return r;
}

void ds_xreader_free(struct ds_xreader *r)
{
	if (r)
		xmlFreeParserCtxt(r->ctxt);
	free(r);
}

void ds_xdoc_finish(struct ds_xdoc *d)
{
	for (struct ds_xblock *k = d->blocks, *next; k; k = next) {
		next = k->next;
		free(k);
	}
	*d = (struct ds_xdoc){0};
}

int ds_xdoc_read(struct ds_xreader *r, const char *xml, size_t len,
		 struct ds_xdoc *ret)
{
	struct ds_xreader *own = r ? NULL : ds_xreader_new();
	struct builder b = {0};
	int well;

	*ret = (struct ds_xdoc){0};
	if (!(r = r ? r : own))
		return -ENOMEM;
	if (len > INT32_MAX) {
		ds_xreader_free(own);
		return -EINVAL;
	}
	xmlCtxtResetPush(r->ctxt, NULL, 0, NULL, NULL);
	xmlCtxtUseOptions(r->ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR |
				       XML_PARSE_NOWARNING);
	r->ctxt->userData = &b;
	xmlParseChunk(r->ctxt, xml, (int)len, 1);
	well = r->ctxt->wellFormed;
	r->ctxt->userData = NULL;
	ds_xreader_free(own);
	if (b.nomem || !well || !b.doc.root) {
		ds_xdoc_finish(&b.doc);
		return b.nomem ? -ENOMEM : -EINVAL;
	}
	*ret = b.doc;
	return 0;
}

const char *ds_xel_attr(const struct ds_xel *e, const char *name)
{
	for (const char **a = e && e->attrs ? e->attrs : NULL; a && *a; a += 2)
		if (!strcmp(*a, name))
			return a[1];
	return NULL;
}

/* A name of the format's XML paths: its local part and namespace. */
struct qname {
	const char *local;
	size_t len;
	const char *uri; /* NULL: no namespace */
	bool unknown;    /* a prefix the format does not know */
};

static struct qname qname_of(const char *name, size_t len)
{
	const char *colon = memchr(name, ':', len);
	struct qname q = {name, len, NULL, false};

	if (colon) {
		q.uri = ds_ns_uri(name, colon - name);
		q.unknown = !q.uri;
		q.local = colon + 1;
		q.len = len - (colon + 1 - name);
	}
	return q;
}

static bool named(const struct ds_xel *e, const struct qname *q)
{
	return e->name && !q->unknown && e->name[0] == q->local[0] &&
	       !strncmp(e->name, q->local, q->len) && !e->name[q->len] &&
	       (q->uri ? e->ns && !strcmp(e->ns, q->uri) : !e->ns);
}

bool ds_xel_is(const struct ds_xel *e, const char *name, size_t len)
{
	struct qname q = qname_of(name, len);

	return len && named(e, &q);
}

const struct ds_xel *ds_xel_child(const struct ds_xel *e, const char *name,
				  size_t len)
{
	struct qname q = qname_of(name, len);

	for (const struct ds_xel *c = e && len ? e->kids : NULL; c; c = c->next)
		if (named(c, &q))
			return c;
	return NULL;
}

const struct ds_xel *ds_xel_path(const struct ds_xel *e, const char *path,
				 size_t len)
{
	const char *p = path, *stop = path + len;

	while (e && p < stop) {
		const char *slash = memchr(p, '/', stop - p);
		size_t seg = (slash ? slash : stop) - p;
		e = ds_xel_child(e, p, seg);
		p += seg + (slash != NULL);
	}
	return e;
}

static bool blank(const char *s)
{
	return !s[strspn(s, " \t\r\n")];
}

static bool has_elements(const struct ds_xel *e)
{
	for (const struct ds_xel *c = e->kids; c; c = c->next)
		if (c->name)
			return true;
	return false;
}

/* Walks e's text in order: sizes it (out NULL) or copies it. */
static size_t gather(const struct ds_xel *e, char *out)
{
	bool mixed = has_elements(e);
	size_t n = 0;

	for (const struct ds_xel *c = e->kids; c; c = c->next) {
		if (c->name) {
			n += gather(c, out ? out + n : NULL);
		} else if (!mixed || !blank(c->text)) {
			size_t len = strlen(c->text);
			if (out)
				memcpy(out + n, c->text, len);
			n += len;
		}
	}
	return n;
}

char *ds_xel_content(const struct ds_xel *e)
{
	size_t n;
	char *s;

	if (!e->name)
		return strdup(e->text);
	n = gather(e, NULL);
	if ((s = malloc(n + 1))) {
		gather(e, s);
		s[n] = 0;
	}
	return s;
}

/* The namespace uri with prefix in scope at x, declared on x when there is
 * none. */
static xmlNsPtr ns_at(xmlNodePtr x, const char *uri, const char *prefix)
{
	xmlNsPtr ns = xmlSearchNs(x->doc, x, BAD_CAST prefix);

	if (ns && ns->href && !strcmp((const char *)ns->href, uri))
		return ns;
	return xmlNewNs(x, BAD_CAST uri, BAD_CAST prefix);
}

/* x's namespace, attributes and children, as e has them. */
static int fill(const struct ds_xel *e, xmlDocPtr doc, xmlNodePtr x)
{
	size_t i = 0;

	if (e->ns) {
		xmlNsPtr ns = ns_at(x, e->ns, e->qual ? e->qual[0] : NULL);
		if (!ns)
			return -ENOMEM;
		xmlSetNs(x, ns);
	}
	for (const char **a = e->attrs; a && *a; a += 2, i++) {
		const char *uri = e->qual ? e->qual[1 + 2 * i] : NULL;
		xmlNsPtr ns = uri ? ns_at(x, uri, e->qual[2 + 2 * i]) : NULL;
		if ((uri && !ns) ||
		    !xmlNewNsProp(x, ns, BAD_CAST a[0], BAD_CAST a[1]))
			return -ENOMEM;
	}
	for (const struct ds_xel *c = e->kids; c; c = c->next) {
		xmlNodePtr t;
		if (c->name) {
			if (!ds_xel_to_xml(c, doc, x))
				return -ENOMEM;
			continue;
		}
		/* the blanks that only lay child elements out */
		if (has_elements(e) && blank(c->text))
			continue;
		t = xmlNewDocText(doc, BAD_CAST c->text);
		if (!t || !xmlAddChild(x, t)) {
			xmlFreeNode(t);
			return -ENOMEM;
		}
	}
	return 0;
}

xmlNodePtr ds_xel_to_xml(const struct ds_xel *e, xmlDocPtr doc,
			 xmlNodePtr parent)
{
	xmlNodePtr x = xmlNewDocNode(doc, NULL, BAD_CAST e->name, NULL);

	if (!x || (parent && !xmlAddChild(parent, x)) || fill(e, doc, x) < 0) {
		if (x)
			xmlUnlinkNode(x);
		xmlFreeNode(x);
		return NULL;
	}
	return x;
}
