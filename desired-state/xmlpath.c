#include "xmlpath.h"

#include <stdio.h>
#include <string.h>

#include "node.h"

xmlNodePtr ds_xml_child(xmlNodePtr el, const char *name, size_t len)
{
	for (xmlNodePtr c = el ? el->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    !strncmp((const char *)c->name, name, len) && !c->name[len])
			return c;
	return NULL;
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
			char name[64];
			snprintf(name, sizeof(name), "%.*s", (int)seg, p);
			c = xmlNewChild(el, NULL, BAD_CAST name, NULL);
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
