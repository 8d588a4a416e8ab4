/* Desired state to libvirt domain XML, and the check against libvirt's own
 * RelaxNG schema. */
#pragma once

#include <libxml/tree.h>

#include "domain.h"

/* Builds the domain XML. default_type is the domain type used when the file
 * names none. Problems (raw XML fragments that are not well-formed) go to
 * d. The document's nodes point back at dom's tree (_private), so the
 * document must not outlive dom. Returns 0 and a document owned by the
 * caller (free with xmlFreeDoc). */
int ds_render(const struct ds_domain *dom, const char *default_type,
	      struct ds_diags *d, xmlDocPtr *ret);

/* One item of a list (a device of devices.disk), or a map field's value
 * (devices.watchdog), as XML text, the way the domain renders it; the
 * caller frees it. NULL when out of memory. */
char *ds_render_item(const struct ds_field *list, const struct ds_node *item);

/* Builds the storage pool XML of a kind: pool file (as ds_render()). */
int ds_render_pool(const struct ds_domain *pool, xmlDocPtr *ret);

/* Formats a document as indented XML text; the caller frees it. */
char *ds_render_text(xmlDocPtr doc);

struct ds_rng;

/* Loads a RelaxNG schema (libvirt's domain.rng). On failure returns
 * -errno and a message the caller frees. */
int ds_rng_load(const char *path, struct ds_rng **ret, char **ret_err);
void ds_rng_free(struct ds_rng *rng);
DS_DEFINE_FREEP(struct ds_rng, ds_rng_free)

/* Validates a rendered document; the first problem goes to d at the place
 * in the file the offending element came from. Returns 0 when valid. */
int ds_rng_check(struct ds_rng *rng, xmlDocPtr doc, struct ds_diags *d);

/* Where libvirt installs its schema. */
#ifndef DS_LIBVIRT_SCHEMA
#define DS_LIBVIRT_SCHEMA "/usr/share/libvirt/schemas/domain.rng"
#endif

/* libvirt's storage pool schema, beside the domain's. */
#ifndef DS_LIBVIRT_POOL_SCHEMA
#define DS_LIBVIRT_POOL_SCHEMA "/usr/share/libvirt/schemas/storagepool.rng"
#endif

/* The pool schema, as ds_rng_default() loads the domain's. */
struct ds_rng *ds_rng_pool(const char **ret_err);

/* libvirt's schema, loaded once for the process (thread-safe); NULL when
 * it cannot be loaded (then *ret_err, if given, says why; do not free). */
struct ds_rng *ds_rng_default(const char **ret_err);

/* A domain with raw XML fragments is rendered and checked against libvirt's
 * schema (the rest of the format is valid by construction): libvirt's
 * parser would drop what it does not know without a word. Problems go to
 * d. Returns 0 when valid, or when there is nothing to check. */
int ds_check_fragments(const struct ds_domain *dom, struct ds_diags *d);
