/* <metadata>'s elements as a file holds them: read, compared canonically,
 * written back, and made ready for virDomainSetMetadata, all by libxml2
 * (its parser, tree and C14N writer). */
#include "metadata.h"

#include <errno.h>
#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "xmltree.h"

/* The first error libxml2 reports, said into why. */
struct read_error {
	char *why;
	size_t len;
	bool failed;
};

static void on_error(void *ctx, xmlErrorPtr e)
{
	struct read_error *re = ctx;
	size_t mlen = e->message ? strlen(e->message) : 0;

	if (re->failed || e->level < XML_ERR_ERROR)
		return;
	re->failed = true;
	while (mlen && e->message[mlen - 1] == '\n')
		mlen--;
	snprintf(re->why, re->len,
		 "is not well-formed XML: line %d of it: %.*s", e->line,
		 (int)mlen, e->message ? e->message : "");
}

static bool blank(const xmlChar *s)
{
	return !s || !s[strspn((const char *)s, " \t\r\n")];
}

/* The one element among the wrapper's children, or NULL with why. */
static xmlNodePtr one_element(xmlNodePtr wrapper, char *why, size_t len)
{
	xmlNodePtr el = NULL;
	size_t n = 0;

	for (xmlNodePtr c = wrapper->children; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE) {
			el = el ? el : c;
			n++;
		} else if (c->type == XML_TEXT_NODE && !blank(c->content)) {
			snprintf(why, len, "holds text beside its element");
			return NULL;
		}
	}
	if (n != 1) {
		snprintf(why, len,
			 n ? "holds %zu elements; libvirt keeps one element "
			     "a namespace"
			   : "holds no element",
			 n);
		return NULL;
	}
	return el;
}

/* ds_metadata_read, with the namespace checked only when uri is given. */
static int read_element(const char *text, const char *uri, xmlDocPtr *ret,
			char *why, size_t why_len)
{
	struct read_error re = {why, why_len, false};
	_cleanup_free_ char *wrapped = NULL;
	xmlNodePtr el;
	xmlDocPtr doc;

	/* wrapped, so that what is not one element is told, not a parse
	 * error; the wrapper's line is the text's first */
	if (asprintf(&wrapped, "<metadata>%s</metadata>", text) < 0)
		return -ENOMEM;
	xmlSetStructuredErrorFunc(&re, on_error);
	doc = xmlReadMemory(wrapped, strlen(wrapped), NULL, "UTF-8",
			    XML_PARSE_NONET | XML_PARSE_NOCDATA |
				XML_PARSE_NOBLANKS);
	xmlSetStructuredErrorFunc(NULL, NULL);
	if (!doc || re.failed) {
		if (!re.failed)
			snprintf(why, why_len, "is not well-formed XML");
		xmlFreeDoc(doc);
		return doc || re.failed ? -EINVAL : -ENOMEM;
	}
	if (!(el = one_element(xmlDocGetRootElement(doc), why, why_len))) {
		xmlFreeDoc(doc);
		return -EINVAL;
	}
	xmlUnlinkNode(el);
	xmlFreeNode(xmlDocSetRootElement(doc, el));
	if (uri && !el->ns)
		snprintf(why, why_len,
			 "holds <%s>, which has no namespace; it must be of "
			 "%s (xmlns=\"%s\", or a prefix declared with it)",
			 el->name, uri, uri);
	else if (uri && strcmp((const char *)el->ns->href, uri))
		snprintf(why, why_len, "holds <%s%s%s> of %s, not of %s",
			 el->ns->prefix ? (const char *)el->ns->prefix : "",
			 el->ns->prefix ? ":" : "", el->name, el->ns->href,
			 uri);
	else {
		*ret = doc;
		return 0;
	}
	xmlFreeDoc(doc);
	return -EINVAL;
}

int ds_metadata_read(const char *text, const char *uri, xmlDocPtr *ret,
		     char *why, size_t why_len)
{
	return read_element(text, uri, ret, why, why_len);
}

/* The namespaces an element's tree uses, sorted, each once. */
struct uris {
	const xmlChar **v;
	size_t n, cap;
};

static int add_uri(struct uris *u, const xmlChar *href)
{
	/* xml:lang and its kin keep the prefix XML gives them */
	if (!href || !xmlStrcmp(href, XML_XML_NAMESPACE))
		return 0;
	for (size_t i = 0; i < u->n; i++)
		if (!xmlStrcmp(u->v[i], href))
			return 0;
	if (u->n == u->cap) {
		size_t cap = u->cap ? 2 * u->cap : 8;
		const xmlChar **v = reallocarray(u->v, cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		u->v = v;
		u->cap = cap;
	}
	u->v[u->n++] = href;
	return 0;
}

static int collect_uris(xmlNodePtr el, struct uris *u)
{
	if (add_uri(u, el->ns ? el->ns->href : NULL) < 0)
		return -ENOMEM;
	for (xmlAttrPtr a = el->properties; a; a = a->next)
		if (add_uri(u, a->ns ? a->ns->href : NULL) < 0)
			return -ENOMEM;
	for (xmlNodePtr c = el->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && collect_uris(c, u) < 0)
			return -ENOMEM;
	return 0;
}

static int cmp_uri(const void *a, const void *b)
{
	return xmlStrcmp(*(const xmlChar *const *)a,
			 *(const xmlChar *const *)b);
}

/* Whether el's text runs are only there to lay out what else it holds
 * (child elements, comments): libvirt drops such blanks when it reads. */
static bool laid_out(xmlNodePtr el)
{
	for (xmlNodePtr c = el->children; c; c = c->next)
		if (c->type != XML_TEXT_NODE)
			return true;
	return false;
}

/* Copies src's namespace, attributes and content into x (of the canonical
 * document, whose root declares every namespace). */
static int rebuild(xmlNodePtr x, xmlNodePtr src)
{
	bool drop_blanks = laid_out(src);

	if (src->ns)
		xmlSetNs(x, xmlSearchNsByHref(x->doc, x, src->ns->href));
	for (xmlAttrPtr a = src->properties; a; a = a->next) {
		_cleanup_free_ xmlChar *v = xmlNodeGetContent((xmlNodePtr)a);
		xmlNsPtr ns =
		    a->ns ? xmlSearchNsByHref(x->doc, x, a->ns->href) : NULL;
		if (!v || !xmlNewNsProp(x, ns, a->name, v))
			return -ENOMEM;
	}
	for (xmlNodePtr c = src->children; c; c = c->next) {
		xmlNodePtr k = NULL;
		if (c->type == XML_ELEMENT_NODE)
			k = xmlNewDocNode(x->doc, NULL, c->name, NULL);
		else if ((c->type == XML_TEXT_NODE ||
			  c->type == XML_CDATA_SECTION_NODE) &&
			 !(drop_blanks && blank(c->content)))
			k = xmlNewDocText(x->doc, c->content);
		else
			continue; /* comments, processing instructions */
		if (!k || !xmlAddChild(x, k)) {
			xmlFreeNode(k);
			return -ENOMEM;
		}
		if (c->type == XML_ELEMENT_NODE && rebuild(k, c) < 0)
			return -ENOMEM;
	}
	return 0;
}

char *ds_metadata_canonical(xmlNodePtr el)
{
	struct uris u = {0};
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root = doc ? xmlNewDocNode(doc, NULL, el->name, NULL) : NULL;
	xmlChar *out = NULL;
	char *s = NULL;
	int r = root ? collect_uris(el, &u) : -ENOMEM;

	if (root)
		xmlDocSetRootElement(doc, root);
	/* prefixes made from the namespaces alone: n0 for the first URI in
	 * sorted order, and so on */
	if (r == 0 && u.n)
		qsort(u.v, u.n, sizeof(*u.v), cmp_uri);
	for (size_t i = 0; r == 0 && i < u.n; i++) {
		char prefix[24];
		snprintf(prefix, sizeof(prefix), "n%zu", i);
		if (!xmlNewNs(root, u.v[i], BAD_CAST prefix))
			r = -ENOMEM;
	}
	if (r == 0)
		r = rebuild(root, el);
	if (r == 0 &&
	    xmlC14NDocDumpMemory(doc, NULL, XML_C14N_1_0, NULL, 0, &out) >= 0 &&
	    out)
		s = strdup((const char *)out);
	xmlFree(out);
	free(u.v);
	xmlFreeDoc(doc);
	return s;
}

/* The canonical form of text, or NULL when it does not read. */
static char *canonical_text(const char *text)
{
	char why[256];
	xmlDocPtr doc = NULL;
	char *s;

	if (read_element(text, NULL, &doc, why, sizeof(why)) < 0)
		return NULL;
	s = ds_metadata_canonical(xmlDocGetRootElement(doc));
	xmlFreeDoc(doc);
	return s;
}

bool ds_metadata_equal(const char *a, const char *b)
{
	_cleanup_free_ char *ca = NULL;
	_cleanup_free_ char *cb = NULL;

	if (!strcmp(a, b))
		return true;
	ca = canonical_text(a);
	cb = canonical_text(b);
	/* out of memory: unequal, and a redefine is harmless */
	return ca && cb && !strcmp(ca, cb);
}

static char *dump(xmlNodePtr el, int format)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	/* the copy declares the namespaces declared above el that it uses */
	xmlNodePtr copy = doc ? xmlDocCopyNode(el, doc, 1) : NULL;
	xmlBufferPtr buf = copy ? xmlBufferCreate() : NULL;
	char *s = NULL;

	if (copy)
		xmlDocSetRootElement(doc, copy);
	if (buf && xmlNodeDump(buf, doc, copy, 0, format) >= 0) {
		const char *t = (const char *)xmlBufferContent(buf);
		/* a block of lines ends with a line break, as YAML's "|"
		 * keeps it */
		if (asprintf(&s, "%s%s", t, strchr(t, '\n') ? "\n" : "") < 0)
			s = NULL;
	}
	xmlBufferFree(buf);
	xmlFreeDoc(doc);
	return s;
}

char *ds_metadata_text(xmlNodePtr el)
{
	return dump(el, 1);
}

char *ds_metadata_from_xel(const struct ds_xel *e)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr x = doc ? ds_xel_to_xml(e, doc, NULL) : NULL;
	char *s = NULL;

	if (x) {
		xmlDocSetRootElement(doc, x);
		s = ds_metadata_text(x);
	}
	xmlFreeDoc(doc);
	return s;
}

char *ds_metadata_shown(const char *text)
{
	char why[256];
	xmlDocPtr doc = NULL;
	int r = read_element(text, NULL, &doc, why, sizeof(why));
	char *s;

	if (r == -EINVAL)
		return strdup(text);
	if (r < 0)
		return NULL;
	s = dump(xmlDocGetRootElement(doc), 0);
	xmlFreeDoc(doc);
	return s;
}

/* Whether an attribute under x uses ns. */
static bool ns_used(xmlNodePtr x, xmlNsPtr ns)
{
	for (xmlAttrPtr a = x->properties; a; a = a->next)
		if (a->ns == ns)
			return true;
	for (xmlNodePtr c = x->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && ns_used(c, ns))
			return true;
	return false;
}

/* Takes uri from the elements under x, and its declarations that nothing
 * uses any more. */
static void strip_ns(xmlNodePtr x, const char *uri)
{
	xmlNsPtr *link = &x->nsDef;

	if (x->ns && !strcmp((const char *)x->ns->href, uri))
		xmlSetNs(x, NULL);
	for (xmlNodePtr c = x->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			strip_ns(c, uri);
	while (*link) {
		xmlNsPtr ns = *link;
		if (strcmp((const char *)ns->href, uri) || ns_used(x, ns)) {
			link = &ns->next;
			continue;
		}
		*link = ns->next;
		ns->next = NULL;
		xmlFreeNs(ns);
	}
}

int ds_metadata_for_set(const char *text, const char *uri, char **ret_xml,
			char **ret_prefix)
{
	_cleanup_free_ char *prefix = NULL;
	char why[256];
	xmlDocPtr doc = NULL;
	xmlNodePtr el;
	int r = read_element(text, uri, &doc, why, sizeof(why));
	char *xml;

	if (r < 0)
		return r;
	el = xmlDocGetRootElement(doc);
	prefix = strdup(el->ns->prefix ? (const char *)el->ns->prefix : "md");
	strip_ns(el, uri);
	/* a prefix that an attribute of the namespace keeps is taken: libvirt
	 * would refuse to declare it again */
	for (unsigned i = 1; prefix && xmlSearchNs(doc, el, BAD_CAST prefix);
	     i++) {
		char *p;
		if (asprintf(&p, "%.*s%u", (int)strcspn(prefix, "0123456789"),
			     prefix, i) < 0)
			p = NULL;
		free(prefix);
		prefix = p;
	}
	xml = prefix ? dump(el, 0) : NULL;
	xmlFreeDoc(doc);
	if (!xml)
		return -ENOMEM;
	*ret_xml = xml;
	*ret_prefix = take_ptr(prefix);
	return 0;
}
