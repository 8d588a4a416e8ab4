/* libvirt's XML read by libxml2's SAX2 parser into a small tree of
 * elements, attributes and text, held in a few blocks of memory. Reading
 * back what libvirt has needs nothing more, and a full libxml2 document
 * costs about twice as much to build and to free. */
#pragma once

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

/* An element (name set) or a run of text (text set). */
struct ds_xel {
	const char *name;   /* local name; NULL for text */
	const char *ns;     /* the element's namespace URI, or NULL */
	const char **attrs; /* local name, value, …, NULL */
	const char *text;   /* a text run, entities replaced */
	/* NULL, or for an element with a prefix or attributes of a
	 * namespace: its prefix, then each attribute's namespace URI and
	 * prefix (NULL for none), for ds_xel_to_xml */
	const char **qual;
	struct ds_xel *parent, *kids, *last, *next;
};

struct ds_xblock;

struct ds_xdoc {
	struct ds_xel *root; /* the document's element */
	struct ds_xblock *blocks;
};

/* A libxml2 parser context kept from one document to the next: one for
 * each thread that reads many. */
struct ds_xreader;
struct ds_xreader *ds_xreader_new(void);
void ds_xreader_free(struct ds_xreader *r);

/* Reads the document xml[0..len) with r, or with a reader of its own when
 * r is NULL. Returns 0, -EINVAL when it is not well-formed XML, or
 * -ENOMEM. */
int ds_xdoc_read(struct ds_xreader *r, const char *xml, size_t len,
		 struct ds_xdoc *ret);
void ds_xdoc_finish(struct ds_xdoc *d);

/* The value of e's attribute name (any namespace), or NULL. */
const char *ds_xel_attr(const struct ds_xel *e, const char *name);

/* Whether e is an element named name[0..len): a name "prefix:local" is
 * an element of that namespace of the format's (ds_schema_ns,
 * qemu:commandline), a name without a prefix one of no namespace. */
bool ds_xel_is(const struct ds_xel *e, const char *name, size_t len);

/* The first child element of e named name[0..len) (as ds_xel_is), or
 * NULL. */
const struct ds_xel *ds_xel_child(const struct ds_xel *e, const char *name,
				  size_t len);

/* Follows the '/'-separated element path[0..len) from e, or NULL. */
const struct ds_xel *ds_xel_path(const struct ds_xel *e, const char *path,
				 size_t len);

/* The text of e and its descendants in document order, as libxml2's
 * xmlNodeGetContent gives it for a document read without blanks: runs of
 * blanks beside child elements are not part of it. NULL when out of
 * memory; the caller frees it. */
char *ds_xel_content(const struct ds_xel *e);

/* Element e as libxml2's, in doc, with its namespaces and prefixes (each
 * declared where it is first used) and its text, less the runs of blanks
 * beside child elements; appended to parent when it is not NULL. NULL
 * when out of memory. */
xmlNodePtr ds_xel_to_xml(const struct ds_xel *e, xmlDocPtr doc,
			 xmlNodePtr parent);
