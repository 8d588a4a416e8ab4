#include "xmlpath.h"

#include <stdio.h>
#include <string.h>

#include "node.h"
#include "schema.h"

/* The namespace of a name's prefix (NULL for none), and its local part.
 * Returns false for a prefix the format does not know. */
static bool split(const char **name, size_t *len, const char **uri)
{
	const char *colon = memchr(*name, ':', *len);

	*uri = NULL;
	if (!colon)
		return true;
	if (!(*uri = ds_ns_uri(*name, colon - *name)))
		return false;
	*len -= colon + 1 - *name;
	*name = colon + 1;
	return true;
}

static bool named(xmlNodePtr x, const char *name, size_t len, const char *uri)
{
	return x->type == XML_ELEMENT_NODE &&
	       !strncmp((const char *)x->name, name, len) && !x->name[len] &&
	       (uri ? x->ns && x->ns->href &&
			  !strcmp((const char *)x->ns->href, uri)
		    : !x->ns);
}

bool ds_xml_is(xmlNodePtr x, const char *name, size_t len)
{
	const char *uri;

	return split(&name, &len, &uri) && named(x, name, len, uri);
}

xmlNodePtr ds_xml_child(xmlNodePtr el, const char *name, size_t len)
{
	const char *uri;

	if (!split(&name, &len, &uri))
		return NULL;
	for (xmlNodePtr c = el ? el->children : NULL; c; c = c->next)
		if (named(c, name, len, uri))
			return c;
	return NULL;
}

xmlNodePtr ds_xml_new_child(xmlNodePtr el, const char *name, size_t len)
{
	xmlNodePtr root = xmlDocGetRootElement(el->doc);
	const char *uri;
	xmlNsPtr ns = NULL;
	char local[64];

	if (!split(&name, &len, &uri))
		return NULL;
	if (uri && !(ns = xmlSearchNsByHref(el->doc, el, BAD_CAST uri)) &&
	    !(ns = xmlNewNs(root ? root : el, BAD_CAST uri,
			    BAD_CAST ds_ns_prefix(uri))) &&
	    !(ns = xmlNewNs(el, BAD_CAST uri, BAD_CAST ds_ns_prefix(uri))))
		return NULL;
	snprintf(local, sizeof(local), "%.*s", (int)len, name);
	return xmlNewChild(el, ns, BAD_CAST local, NULL);
}

void ds_xml_tag(xmlNodePtr x, const struct ds_node *n)
{
	x->_private = (void *)n;
	x->line = n->mark.line > 65535 ? 65535 : n->mark.line;
}

xmlNodePtr ds_xml_path(xmlNodePtr el, const char *path, size_t len, bool create,
		       const struct ds_node *tag)
{
	const char *p = path, *end = path + len;

	while (el && p < end) {
		const char *slash = memchr(p, '/', end - p);
		size_t seg = (slash ? slash : end) - p;
		xmlNodePtr c = ds_xml_child(el, p, seg);
		if (!c && create) {
			c = ds_xml_new_child(el, p, seg);
			if (c && tag)
				ds_xml_tag(c, tag);
		}
		el = c;
		p += seg + (slash != NULL);
	}
	return el;
}

char *ds_xml_text(xmlNodePtr x)
{
	xmlBufferPtr b = xmlBufferCreate();
	char *s = NULL;

	if (b && xmlNodeDump(b, x->doc, x, 0, 0) >= 0)
		s = strdup((const char *)xmlBufferContent(b));
	xmlBufferFree(b);
	return s;
}
