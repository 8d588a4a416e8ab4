/* Import: a domain's XML, as libvirt has it, written out as a
 * desired-state file that says the same, through the format's table (the
 * reader of libvirt's XML, then the YAML writer). What the table cannot
 * say is kept as raw XML (xml.domain, xml.devices) where the format takes
 * raw XML, and said otherwise. */
#pragma once

#include <stdbool.h>

#include <stddef.h>

/* Notes kept per domain; the rest are counted. */
#define DS_IMPORT_MAX_NOTES 100

struct ds_import_opts {
	const char *state; /* "running" or "shutoff", written as state:; NULL:
			      not written (the file then means running) */
	int autostart;     /* 1 or 0, written as autostart:; -1: not written */
	bool xml_file;     /* read from an XML file, not from libvirt */
};

struct ds_import {
	char *name; /* the domain's name */
	char *yaml; /* the file's text */
	size_t len;
	/* What was not imported as a field: one line each, naming the XML
	 * ("<devices/video> is not in the format; kept under xml.devices").
	 * Each is said once. */
	char **notes;
	size_t n_notes;
	size_t notes_dropped; /* past DS_IMPORT_MAX_NOTES, only counted */
	size_t n_raw;         /* elements kept under xml: */
};

/* Imports the domain XML xml[0..len): a <domain> document. The file adopts
 * the domain (adopt: true) and gives its name, UUID and MACs; fields
 * libvirt generates (field->generated) are left out. Returns 0 and ret
 * (ds_import_finish() it); -EINVAL with why (one line, in buf: the line of
 * the XML for a document that does not parse); or -ENOMEM. */
int ds_import_xml(const char *xml, size_t len, const struct ds_import_opts *o,
		  struct ds_import *ret, char *why, size_t why_len);
void ds_import_finish(struct ds_import *im);
