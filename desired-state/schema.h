/* The desired-state file format as data: one table of fields per YAML
 * mapping, each naming its libvirt element or attribute. The parser checks
 * files against it, the renderer writes XML from it, and the observed side
 * reads libvirt's XML back through it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ds_kind {
	DS_STR,      /* text */
	DS_UINT,     /* whole number within [min, max] */
	DS_INT,      /* signed whole number within [min, max] */
	DS_BOOL,     /* true/false, rendered yes/no */
	DS_ENUM,     /* one of values */
	DS_SIZE,     /* size in KiB; rendered with unit='KiB' */
	DS_MAP,      /* mapping of kids */
	DS_LIST,     /* sequence of kids[0] */
	DS_FLAGS,    /* sequence of values, each an empty element */
	DS_PRESENCE, /* true renders an empty element */
	DS_XML,      /* raw XML fragments, one string or a list */
	DS_XML_NS,   /* elements of other namespaces (<metadata>'s): a
			mapping of namespace URI to one element of that
			namespace, as XML text */
};

/* Extra syntax checks on text values. */
enum ds_check {
	DS_CHECK_NONE,
	DS_CHECK_NAME,    /* a domain name */
	DS_CHECK_UUID,    /* 8-4-4-4-12 hex digits */
	DS_CHECK_CPUSET,  /* "1-4,^3,6" */
	DS_CHECK_MAC,     /* 52:54:00:12:34:56 */
	DS_CHECK_PATH,    /* an absolute path */
	DS_CHECK_TOKEN,   /* a word: letters, digits, '-', '_', '.', ':' */
	DS_CHECK_LINE,    /* text on one line */
	DS_CHECK_MACHINE, /* a machine type: a token; aliases compare equal */
	DS_CHECK_SERIAL,  /* a disk serial: letters, digits, _ . + - and
			     spaces (libvirt's diskSerial) */
	DS_CHECK_NUMBER,  /* a number as libvirt reads it with base 0
			     (0x15E1, 5601) or -1; compared by value */
	DS_CHECK_USB_VERSION, /* a USB version, 2.0 or -1; compared as
				 libvirt reads it (9.4 is 9.40) */
};

/* The table is generated from libvirt's schema (schema-gen.c, by
 * tools/schema-gen.py with desired-state/schema-overlay). */

/* Where a field goes in the XML, as "elem", "a/b" (nested elements), "@attr"
 * (attribute of the current element), "elem@attr" (attribute of a child),
 * "" (text of the current element) or NULL (not rendered: agent settings,
 * at the root or within a mapping, and the mappings that hold them; the
 * comparison, the merge and the reader of libvirt's XML skip them too).
 * A list's last element is repeated per item. */
struct ds_field {
	const char *key;
	enum ds_kind kind;
	const char *xml;
	const struct ds_field *kids; /* DS_MAP: fields ending in {0};
					DS_LIST: the item field */
	const char *const *values;   /* DS_ENUM, DS_FLAGS: NULL-terminated */
	const char *const *stated;   /* DS_FLAGS: values libvirt's schema
					wants with state='on' */
	const char *const *canon;    /* libvirt's own spellings of values
					it reads without case and writes as
					spelled here (an interface model
					"ViRtIo" is virtio); NULL-terminated */
	int64_t min, max;            /* DS_UINT, DS_INT */
	const char *shorthand;       /* DS_MAP: what a bare scalar stands for */
	enum ds_check check;
	bool required;
	bool ordered; /* DS_LIST: the order of items matters */
	/* How libvirt treats the field, for the comparison: */
	const char *none; /* the value libvirt writes as no value at all
			     (cache: default, description: ''): equal to
			     the field left out */
	bool filled;      /* within a list item (a device), libvirt fills the
			field in when the file leaves it out; any other
			field left out of an item must be absent */
	bool generated;   /* libvirt writes it by itself (a device's address
			     and alias): filled, and import leaves it out */
	bool open;        /* DS_LIST: libvirt adds items of its own
			     (controllers, inputs): the file's items must be
			     there, others may be */
	bool whole;       /* DS_MAP: managed whole, like a list item: a field
			     the file leaves out must be absent (features) */
	bool empty_ok;    /* DS_MAP: the element may be empty; true stands
			     for it, false for its absence */
	const char *identity;     /* DS_LIST: what pairs an item with libvirt's
				 ("target@dev", "@id"), or NULL: likeness */
	const char *alias;        /* an older key, still read, with a note */
	const char *unit_default; /* DS_SIZE: libvirt's unit when the XML
				     gives none; NULL is KiB. A DS_MAP of
				     a scaled integer ({value, unit}):
				     the same, and the two sides compare
				     by the bytes they stand for */
	/* DS_MAP: the kids held by child elements, as indices into kids,
	 * sorted by element name (for bsearch) */
	const uint16_t *by_xml;
	uint16_t n_by_xml;
};

/* The namespace of the agent's own element in <metadata> (the mark): no
 * file's, so a file cannot name it, and neither the comparison nor import
 * sees it. */
#define DS_AGENT_NS "urn:virt-reconcile:domain:1"

/* The root of the format: the fields of a desired-state file. */
extern const struct ds_field ds_schema_domain;
/* The fields of a storage volume (storagevol.rng), a disk's `volume`
 * (whose kids are these), and of a storage pool (storagepool.rng). Their
 * xml names their element ("volume", "pool"), so that ds_render_item
 * renders one whole. */
extern const struct ds_field ds_schema_volume;
extern const struct ds_field ds_schema_pool;

/* The namespaces of libvirt's hypervisor extensions (qemu:commandline),
 * and of a storage pool's (fs:mount_opts, rbd:config_opts):
 * their elements are keys under the prefix (qemu.commandline), and the
 * table's XML paths name them "prefix:name". Ends with {NULL, NULL}. */
struct ds_ns {
	const char *prefix;
	const char *uri;
};
extern const struct ds_ns ds_schema_ns[];

/* The namespace URI of prefix[0..len), or NULL. */
const char *ds_ns_uri(const char *prefix, size_t len);
/* The prefix of namespace uri, or NULL. */
const char *ds_ns_prefix(const char *uri);

/* The field for key among a map field's kids, or NULL. */
const struct ds_field *ds_field_kid(const struct ds_field *map,
				    const char *key);

/* The index of s in a NULL-terminated list, or -1. */
int ds_enum_index(const char *const *values, const char *s);

/* The candidate nearest to s within a small edit distance, for "did you
 * mean" hints, or NULL. */
const char *ds_suggest(const char *s, const char *const *cands, size_t n);

/* Writes "a, b or c" for an enum's values into buf. */
char *ds_enum_list(const char *const *values, char *buf, size_t len);
