/* Renders the checked tree to domain XML with libxml2, walking the schema
 * so that elements come out in one order whatever order the file used.
 * Every XML node remembers the YAML node it came from (_private, line), so
 * that a schema error points into the file. */
#include "render.h"

#include <errno.h>
#include <inttypes.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/xmlerror.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>

#include "cleanup.h"
#include "metadata.h"
#include "schema.h"
#include "xmlpath.h"

struct ds_rng {
	xmlRelaxNGPtr schema;
};

static xmlNodePtr new_child(xmlNodePtr el, const char *name, size_t len,
			    const struct ds_node *n)
{
	xmlNodePtr x = ds_xml_new_child(el, name, len);

	if (x)
		ds_xml_tag(x, n);
	return x;
}

/* The text of a scalar as libvirt spells it. */
static const char *scalar_text(const struct ds_node *n, char *buf, size_t len)
{
	switch (n->field->kind) {
	case DS_UINT:
	case DS_SIZE:
		snprintf(buf, len, "%" PRIu64, n->v.u);
		return buf;
	case DS_INT:
		snprintf(buf, len, "%" PRId64, n->v.i);
		return buf;
	case DS_BOOL:
		/* yes/no, or the field's own pair (on/off) */
		return n->field->values ? n->field->values[!n->v.b]
		       : n->v.b         ? "yes"
					: "no";
	default:
		return n->str;
	}
}

static int render_map(xmlNodePtr el, const struct ds_field *f,
		      const struct ds_node *map);

/* A scalar goes into an attribute or the text of an element. */
static int render_scalar(xmlNodePtr el, const struct ds_field *f,
			 const struct ds_node *n)
{
	const char *at = strchr(f->xml, '@');
	size_t elen = at ? (size_t)(at - f->xml) : strlen(f->xml);
	char buf[32];
	const char *text = scalar_text(n, buf, sizeof(buf));
	xmlNodePtr target = el;

	if (f->kind == DS_PRESENCE)
		return !n->v.b || new_child(el, f->xml, elen, n) ? 0 : -ENOMEM;
	if (elen && at) {
		target = ds_xml_path(el, f->xml, elen, true, n);
	} else if (elen) {
		const char *slash = memrchr(f->xml, '/', elen);
		size_t plen = slash ? (size_t)(slash - f->xml) : 0;
		xmlNodePtr parent = ds_xml_path(el, f->xml, plen, true, n);
		const char *last = slash ? slash + 1 : f->xml;
		target =
		    parent ? new_child(parent, last, strlen(last), n) : NULL;
	}
	if (!target)
		return -ENOMEM;
	if (at && !xmlSetProp(target, BAD_CAST(at + 1), BAD_CAST text))
		return -ENOMEM;
	if (!at)
		xmlNodeAddContent(target, BAD_CAST text);
	if (f->kind == DS_SIZE &&
	    !xmlSetProp(target, BAD_CAST "unit", BAD_CAST "KiB"))
		return -ENOMEM;
	return 0;
}

/* A list repeats its last element per item; flags are empty elements. */
static int render_list(xmlNodePtr el, const struct ds_field *f,
		       const struct ds_node *n)
{
	const char *slash = strrchr(f->xml, '/');
	size_t plen = slash ? (size_t)(slash - f->xml) : 0;
	const char *last = slash ? slash + 1 : f->xml;
	xmlNodePtr parent =
	    f->kind == DS_FLAGS
		? ds_xml_path(el, f->xml, strlen(f->xml), true, n)
		: ds_xml_path(el, f->xml, plen, true, n);

	if (!parent)
		return -ENOMEM;
	for (size_t i = 0; i < n->n_kids; i++) {
		const struct ds_node *item = n->kids[i];
		const char *name = f->kind == DS_FLAGS ? item->str : last;
		xmlNodePtr x = new_child(parent, name, strlen(name), item);
		if (!x)
			return -ENOMEM;
		if (f->kind == DS_FLAGS && f->stated &&
		    ds_enum_index(f->stated, name) >= 0 &&
		    !xmlSetProp(x, BAD_CAST "state", BAD_CAST "on"))
			return -ENOMEM;
		if (f->kind == DS_LIST && render_map(x, &f->kids[0], item) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void tag_tree(xmlNodePtr x, const struct ds_node *n);

/* Elements by namespace go into their element (<metadata>), each read
 * from its text; '' is none. */
static int render_xml_ns(xmlNodePtr el, const struct ds_field *f,
			 const struct ds_node *n)
{
	xmlNodePtr parent = NULL;

	for (size_t i = 0; i < n->n_kids; i++) {
		const struct ds_node *k = n->kids[i];
		char why[256];
		xmlDocPtr doc = NULL;
		xmlNodePtr copy;
		int r;
		if (k->bad || !k->str || !*k->str)
			continue;
		r = ds_metadata_read(k->str, k->key, &doc, why, sizeof(why));
		if (r == -EINVAL)
			continue; /* parse said why */
		if (r < 0)
			return r;
		if (!parent)
			parent =
			    ds_xml_path(el, f->xml, strlen(f->xml), true, n);
		copy = parent ? xmlDocCopyNode(xmlDocGetRootElement(doc),
					       el->doc, 1)
			      : NULL;
		xmlFreeDoc(doc);
		if (copy)
			tag_tree(copy, k);
		if (!copy || !xmlAddChild(parent, copy)) {
			xmlFreeNode(copy);
			return -ENOMEM;
		}
	}
	return 0;
}

static int render_field(xmlNodePtr el, const struct ds_field *f,
			const struct ds_node *n)
{
	if (!f->xml || f->kind == DS_XML)
		return 0;
	switch (f->kind) {
	case DS_XML_NS:
		return render_xml_ns(el, f, n);
	case DS_MAP: {
		xmlNodePtr x =
		    *f->xml ? ds_xml_path(el, f->xml, strlen(f->xml), true, n)
			    : el;
		return x ? render_map(x, f, n) : -ENOMEM;
	}
	case DS_LIST:
	case DS_FLAGS:
		return render_list(el, f, n);
	default:
		return render_scalar(el, f, n);
	}
}

/* Renders a map's fields in the schema's order. */
static int render_map(xmlNodePtr el, const struct ds_field *f,
		      const struct ds_node *map)
{
	for (const struct ds_field *k = f->kids; k->key; k++) {
		const struct ds_node *n = ds_node_get(map, k->key);
		if (n && render_field(el, k, n) < 0)
			return -ENOMEM;
	}
	return 0;
}

char *ds_render_item(const struct ds_field *list, const struct ds_node *item)
{
	const char *slash = strrchr(list->xml, '/');
	const char *name = slash ? slash + 1 : list->xml;
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr x =
	    doc ? xmlNewDocNode(doc, NULL, BAD_CAST name, NULL) : NULL;
	char *out = NULL;

	if (x) {
		xmlDocSetRootElement(doc, x);
		if (render_map(x, list->kind == DS_LIST ? &list->kids[0] : list,
			       item) == 0)
			out = ds_xml_text(x);
	}
	xmlFreeDoc(doc);
	return out;
}

struct frag_errors {
	struct ds_diags *d;
	const struct ds_node *n;
	const char *where;
	int failed;
};

static void frag_error(void *ctx, xmlErrorPtr e)
{
	struct frag_errors *fe = ctx;
	size_t len = e->message ? strlen(e->message) : 0;

	if (fe->failed++)
		return; /* the first error says it; the rest follow from it */
	while (len && e->message[len - 1] == '\n')
		len--;
	ds_diags_add(fe->d, fe->n->mark,
		     "'%s' is not well-formed XML: line %d of the fragment: "
		     "%.*s",
		     fe->where, e->line, (int)len, e->message);
}

static void tag_tree(xmlNodePtr x, const struct ds_node *n)
{
	for (; x; x = x->next) {
		ds_xml_tag(x, n);
		if (x->type == XML_ELEMENT_NODE)
			tag_tree(x->children, n);
	}
}

/* Parses one fragment and appends copies of its nodes to target. */
static int add_fragment(xmlNodePtr target, const struct ds_node *n,
			const char *key, const char *where, struct ds_diags *d)
{
	struct frag_errors fe = {d, n, where, 0};
	_cleanup_free_ char *wrapped = NULL;
	xmlDocPtr frag;

	/* The wrapper is named after the key, since libxml2's messages may
	 * name it ("tag mismatch: tpm line 1 and xml.devices"). */
	if (asprintf(&wrapped, "<%s>%s</%s>", key, n->str, key) < 0)
		return -ENOMEM;
	xmlSetStructuredErrorFunc(&fe, frag_error);
	frag = xmlReadMemory(wrapped, strlen(wrapped), NULL, "UTF-8",
			     XML_PARSE_NONET | XML_PARSE_NOCDATA |
				 XML_PARSE_NOBLANKS);
	xmlSetStructuredErrorFunc(NULL, NULL);
	if (!frag || fe.failed) {
		if (!fe.failed)
			ds_diags_add(d, n->mark, "'%s' is not well-formed XML",
				     where);
		xmlFreeDoc(frag);
		return -EINVAL;
	}
	for (xmlNodePtr c = xmlDocGetRootElement(frag)->children; c;
	     c = c->next) {
		if (xmlIsBlankNode(c))
			continue; /* the YAML block's line breaks */
		xmlNodePtr copy = xmlDocCopyNode(c, target->doc, 1);
		if (copy)
			tag_tree(copy, n);
		if (!copy || !xmlAddChild(target, copy)) {
			xmlFreeNode(copy);
			xmlFreeDoc(frag);
			return -ENOMEM;
		}
	}
	xmlFreeDoc(frag);
	return 0;
}

static int render_fragments(xmlNodePtr root, const struct ds_node *tree,
			    struct ds_diags *d)
{
	static const char *const where[] = {"xml.domain", "xml.devices"};
	int r = 0;

	for (size_t w = 0; w < 2; w++) {
		const struct ds_node *list = ds_node_path(tree, where[w]);
		xmlNodePtr target = root;
		if (!list)
			continue;
		if (w == 1)
			target = ds_xml_path(root, "devices", 7, true, list);
		for (size_t i = 0; target && i < list->n_kids; i++) {
			char label[48];
			snprintf(label, sizeof(label), "%s[%zu]", where[w], i);
			if (add_fragment(target, list->kids[i], where[w],
					 list->n_kids > 1 ? label : where[w],
					 d) < 0)
				r = -EINVAL;
		}
	}
	return r;
}

int ds_render(const struct ds_domain *dom, const char *default_type,
	      struct ds_diags *d, xmlDocPtr *ret)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root =
	    doc ? xmlNewDocNode(doc, NULL, BAD_CAST "domain", NULL) : NULL;
	int r;

	if (!root) {
		xmlFreeDoc(doc);
		return -ENOMEM;
	}
	xmlDocSetRootElement(doc, root);
	ds_xml_tag(root, dom->root);
	if (!xmlSetProp(root, BAD_CAST "type",
			BAD_CAST(dom->type ? dom->type : default_type)) ||
	    render_map(root, &ds_schema_domain, dom->root) < 0) {
		xmlFreeDoc(doc);
		return -ENOMEM;
	}
	r = render_fragments(root, dom->root, d);
	if (r < 0) {
		xmlFreeDoc(doc);
		return r;
	}
	*ret = doc;
	return 0;
}

int ds_render_pool(const struct ds_domain *pool, xmlDocPtr *ret)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root =
	    doc ? xmlNewDocNode(doc, NULL, BAD_CAST "pool", NULL) : NULL;

	if (!root) {
		xmlFreeDoc(doc);
		return -ENOMEM;
	}
	xmlDocSetRootElement(doc, root);
	ds_xml_tag(root, pool->root);
	if (render_map(root, &ds_schema_pool, pool->root) < 0) {
		xmlFreeDoc(doc);
		return -ENOMEM;
	}
	*ret = doc;
	return 0;
}

char *ds_render_text(xmlDocPtr doc)
{
	xmlChar *buf = NULL;
	int len = 0;
	char *out;

	xmlDocDumpFormatMemoryEnc(doc, &buf, &len, "UTF-8", 1);
	if (!buf)
		return NULL;
	/* Drop the XML declaration: libvirt's own output has none. */
	const char *start = (const char *)buf;
	if (!strncmp(start, "<?xml", 5) && strchr(start, '\n'))
		start = strchr(start, '\n') + 1;
	out = strdup(start);
	xmlFree(buf);
	return out;
}

/* The first problem the validator reports; the rest follow from it. */
struct rng_errors {
	int failed;
	struct ds_mark mark;
	char element[64];
	char msg[512];
};

static void rng_error(void *ctx, xmlErrorPtr e)
{
	struct rng_errors *re = ctx;
	xmlNodePtr x = e->node;
	const struct ds_node *n = x ? x->_private : NULL;
	size_t len = e->message ? strlen(e->message) : 0;

	if (re->failed++)
		return;
	while (len && e->message[len - 1] == '\n')
		len--;
	re->mark = n ? n->mark : (struct ds_mark){0};
	snprintf(re->element, sizeof(re->element), "%s",
		 x && x->name ? (const char *)x->name : "domain");
	snprintf(re->msg, sizeof(re->msg), "%.*s", (int)len,
		 e->message ? e->message : "");
}

int ds_rng_load(const char *path, struct ds_rng **ret, char **ret_err)
{
	_cleanup_free_ struct ds_rng *rng = calloc(1, sizeof(*rng));
	xmlRelaxNGParserCtxtPtr p;

	if (!rng)
		return -ENOMEM;
	if (access(path, R_OK) < 0) {
		int e = errno;
		if (asprintf(ret_err, "cannot read libvirt's schema %s: %s",
			     path, strerror(e)) < 0)
			*ret_err = NULL;
		return -e;
	}
	p = xmlRelaxNGNewParserCtxt(path);
	if (!p)
		return -ENOMEM;
	rng->schema = xmlRelaxNGParse(p);
	xmlRelaxNGFreeParserCtxt(p);
	if (!rng->schema) {
		if (asprintf(ret_err, "cannot load libvirt's schema %s", path) <
		    0)
			*ret_err = NULL;
		return -EINVAL;
	}
	*ret = take_ptr(rng);
	return 0;
}

void ds_rng_free(struct ds_rng *rng)
{
	if (!rng)
		return;
	xmlRelaxNGFree(rng->schema);
	free(rng);
}

static void rng_quiet(void *ctx, xmlErrorPtr e) {}

/* libxml2's RelaxNG validator leaves its notes in each node's psvi; a
 * second validation of the same document must start without them. */
static void clear_psvi(xmlNodePtr x)
{
	for (; x; x = x->next) {
		x->psvi = NULL;
		if (x->type == XML_ELEMENT_NODE)
			clear_psvi(x->children);
	}
}

static bool rng_valid(struct ds_rng *rng, xmlDocPtr doc)
{
	xmlRelaxNGValidCtxtPtr v = xmlRelaxNGNewValidCtxt(rng->schema);
	int r;

	clear_psvi(xmlDocGetRootElement(doc));
	if (!v)
		return false;
	xmlRelaxNGSetValidStructuredErrors(v, rng_quiet, NULL);
	r = xmlRelaxNGValidateDoc(v, doc);
	xmlRelaxNGFreeValidCtxt(v);
	return r == 0;
}

static bool is_fragment(xmlNodePtr x)
{
	const struct ds_node *n = x->_private;

	/* the fragment's own nodes, not a <devices> made to hold them */
	return n && n->field && n->field->kind == DS_XML &&
	       n->kind == DS_NODE_SCALAR;
}

/* A raw fragment that breaks the schema makes libvirt's RelaxNG report at
 * its parent (<domain>, <devices>). Taking each fragment out in turn finds
 * the one to blame, so the message points at its place in the file. */
static const struct ds_node *blame_fragment(struct ds_rng *rng, xmlDocPtr doc)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlNodePtr parents[] = {root, ds_xml_child(root, "devices", 7)};

	for (size_t p = 0; p < 2; p++) {
		for (xmlNodePtr c = parents[p] ? parents[p]->children : NULL; c;
		     c = c->next) {
			if (!is_fragment(c))
				continue;
			xmlNodePtr next = c->next, parent = c->parent;
			xmlUnlinkNode(c);
			bool valid = rng_valid(rng, doc);
			if (next)
				xmlAddPrevSibling(next, c);
			else
				xmlAddChild(parent, c);
			if (valid)
				return c->_private;
		}
	}
	return NULL;
}

int ds_rng_check(struct ds_rng *rng, xmlDocPtr doc, struct ds_diags *d)
{
	struct rng_errors re = {0};
	xmlRelaxNGValidCtxtPtr v = xmlRelaxNGNewValidCtxt(rng->schema);
	const struct ds_node *frag;
	int r;

	if (!v)
		return -ENOMEM;
	xmlRelaxNGSetValidStructuredErrors(v, rng_error, &re);
	r = xmlRelaxNGValidateDoc(v, doc);
	xmlRelaxNGFreeValidCtxt(v);
	if (r == 0)
		return 0;
	frag = blame_fragment(rng, doc);
	if (frag)
		ds_diags_add(d, frag->mark,
			     "libvirt's schema rejects the domain with this "
			     "'xml.%s' fragment (at <%s>: %s)",
			     frag->field->key, re.element, re.msg);
	else
		ds_diags_add(d, re.mark,
			     "libvirt's schema rejects the rendered <%s>: %s",
			     re.element, re.msg);
	return -EINVAL;
}

static struct ds_rng *default_rng;
static char *default_rng_err;

static void load_default_rng(void)
{
	if (ds_rng_load(DS_LIBVIRT_SCHEMA, &default_rng, &default_rng_err) < 0)
		default_rng = NULL;
}

static struct ds_rng *pool_rng;
static char *pool_rng_err;

static void load_pool_rng(void)
{
	if (ds_rng_load(DS_LIBVIRT_POOL_SCHEMA, &pool_rng, &pool_rng_err) < 0)
		pool_rng = NULL;
}

struct ds_rng *ds_rng_pool(const char **ret_err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load_pool_rng);
	if (!pool_rng && ret_err)
		*ret_err = pool_rng_err ? pool_rng_err
					: "cannot load libvirt's pool schema";
	return pool_rng;
}

struct ds_rng *ds_rng_default(const char **ret_err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load_default_rng);
	if (!default_rng && ret_err)
		*ret_err = default_rng_err ? default_rng_err
					   : "cannot load libvirt's schema";
	return default_rng;
}

int ds_check_fragments(const struct ds_domain *dom, struct ds_diags *d)
{
	struct ds_rng *rng;
	xmlDocPtr doc = NULL;
	int r;

	if (!ds_node_get(dom->root, "xml") || !(rng = ds_rng_default(NULL)))
		return 0;
	r = ds_render(dom, dom->type ? dom->type : "kvm", d, &doc);
	if (r == 0)
		r = ds_rng_check(rng, doc, d);
	xmlFreeDoc(doc);
	return r;
}
