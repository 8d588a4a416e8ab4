/* The elements of <metadata>: libvirt keeps one a namespace
 * (virDomainSetMetadata and GetMetadata name them by namespace URI), and a
 * file holds each as XML text under its namespace URI. libxml2 reads and
 * writes them. They compare canonically, since libvirt lays them out
 * again, and virDomainSetMetadata gives them the prefix it is told: two
 * texts are the same element when they differ only in prefixes, in
 * namespace declarations, in the blanks that lay out child elements, in
 * comments, in attribute order or quoting. */
#pragma once

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

/* Reads text as one element of namespace uri. Returns 0 and a document
 * whose root is the element (the caller frees it); -EINVAL with why (one
 * line, without the field's name) when the text is not well-formed XML,
 * holds anything but one element (blanks and comments aside), or the
 * element is of another namespace; or -ENOMEM. */
int ds_metadata_read(const char *text, const char *uri, xmlDocPtr *ret,
		     char *why, size_t why_len);

/* The canonical form of element el (C14N of it rebuilt with prefixes
 * made from its namespaces alone, without comments and without the
 * blanks beside child elements): what two of the same element share.
 * NULL when out of memory. */
char *ds_metadata_canonical(xmlNodePtr el);

/* Whether two texts hold the same element, canonically. A text that does
 * not read as XML is equal only to the same text. */
bool ds_metadata_equal(const char *a, const char *b);

/* Element el as text that stands alone (it declares the namespaces it
 * uses), one child element a line, as libvirt writes <metadata>. NULL when
 * out of memory. */
char *ds_metadata_text(xmlNodePtr el);

struct ds_xel;

/* Element e of libvirt's XML (ds_tree_from_xml's reading) as
 * ds_metadata_text writes it. NULL when out of memory. */
char *ds_metadata_from_xel(const struct ds_xel *e);

/* The element of text on one line, for people (plans, messages): without
 * the blanks that lay it out. A copy of text when it does not read. NULL
 * when out of memory. */
char *ds_metadata_shown(const char *text);

/* The element of text as virDomainSetMetadata takes it for namespace
 * uri: without that namespace (libvirt puts the element and its
 * descendants of none into it, under the prefix it is given), and the
 * prefix to give (the element's own, else "md"). Returns 0, -EINVAL when
 * the text is not one element of uri, or -ENOMEM; the caller frees
 * both. */
int ds_metadata_for_set(const char *text, const char *uri, char **ret_xml,
			char **ret_prefix);
