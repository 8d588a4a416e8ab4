#include "compare.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "cpuset.h"
#include "metadata.h"
#include "normalise.h"
#include "schema.h"
#include "units.h"

/* One comparison: the host's aliases, and the domain's architecture. */
struct cmp {
	const struct ds_compare_ctx *ctx;
	const char *arch;
};

static bool node_equal(const struct cmp *c, const struct ds_node *want,
		       const struct ds_node *have, bool item);

static bool versioned(const char *have, const char *prefix)
{
	size_t len = strlen(prefix);

	return !strncmp(have, prefix, len) && have[len] >= '0' &&
	       have[len] <= '9';
}

bool ds_machine_versioned(const char *machine)
{
	const char *dash = strrchr(machine, '-');

	return dash && dash[1] >= '0' && dash[1] <= '9' &&
	       strspn(dash + 1, "0123456789.") == strlen(dash + 1);
}

bool ds_machine_equal(const struct ds_compare_ctx *ctx, const char *arch,
		      const char *want, const char *have)
{
	static const char *const family[][2] = {{"pc", "pc-i440fx-"},
						{"q35", "pc-q35-"}};
	char prefix[128];

	if (!strcmp(want, have))
		return true;
	for (size_t i = 0; ctx && i < ctx->n_aliases; i++) {
		const struct ds_machine_alias *a = &ctx->aliases[i];
		if (!strcmp(a->alias, want) &&
		    (!arch || !a->arch || !strcmp(a->arch, arch)))
			return !strcmp(a->canonical, have);
	}
	for (size_t i = 0; i < DS_ARRAY_SIZE(family); i++)
		if (!strcmp(want, family[i][0]))
			return versioned(have, family[i][1]);
	snprintf(prefix, sizeof(prefix), "%s-", want);
	return versioned(have, prefix);
}

/* s as libvirt writes it: its own spelling when it names one of f's
 * values without case, else s. */
static const char *canonical(const struct ds_field *f, const char *s)
{
	for (const char *const *v = f->canon; v && *v; v++)
		if (!strcasecmp(*v, s))
			return *v;
	return s;
}

/* Whether two spellings of a number are one value, as libvirt reads
 * them: 0x15e1 is 0x15E1, a USB version 9.4 is 9.40. */
static bool number_equal(enum ds_check check, const char *w, const char *h)
{
	int64_t a, b;
	unsigned ua, ub;

	if (!strcmp(w, h))
		return true;
	if (check == DS_CHECK_NUMBER)
		return !ds_number_parse(w, &a) && !ds_number_parse(h, &b) &&
		       a == b;
	return !ds_usb_version_parse(w, &ua) && !ds_usb_version_parse(h, &ub) &&
	       ua == ub;
}

static bool text_equal(const struct cmp *c, const struct ds_node *w,
		       const struct ds_node *h)
{
	const struct ds_field *f = w->field;

	if (f->check == DS_CHECK_CPUSET) {
		struct ds_cpuset a, b;
		char err[96];
		return !ds_cpuset_parse(w->str, &a, err, sizeof(err)) &&
		       !ds_cpuset_parse(h->str, &b, err, sizeof(err)) &&
		       ds_cpuset_equal(&a, &b);
	}
	if (f->check == DS_CHECK_UUID || f->check == DS_CHECK_MAC)
		return !strcasecmp(w->str, h->str);
	if (f->check == DS_CHECK_MACHINE)
		return ds_machine_equal(c->ctx, c->arch, w->str, h->str);
	if (f->kind == DS_XML_NS)
		return ds_metadata_equal(w->str, h->str);
	if (f->check == DS_CHECK_NUMBER || f->check == DS_CHECK_USB_VERSION)
		return number_equal(f->check, w->str, h->str);
	if (f->canon)
		return !strcmp(canonical(f, w->str), canonical(f, h->str));
	return !strcmp(w->str, h->str);
}

static bool scalar_equal(const struct cmp *c, const struct ds_node *w,
			 const struct ds_node *h)
{
	switch (w->field->kind) {
	case DS_UINT:
	case DS_INT:
		return w->v.i == h->v.i;
	case DS_SIZE:
		/* QEMU's driver rounds sizes up to whole MiB (maxMemory, NUMA
		 * cells, and so memory) */
		return ds_size_equal(w->v.u, h->v.u);
	case DS_BOOL:
	case DS_PRESENCE:
		return w->v.b == h->v.b;
	default:
		return text_equal(c, w, h);
	}
}

/* Whether the value n (of field f) is the same as none at all: a presence
 * that is false, the value libvirt drops (cache: default), an empty
 * list. */
static bool means_none(const struct ds_field *f, const struct ds_node *n)
{
	if (f->kind == DS_PRESENCE)
		return !n->v.b;
	if ((f->kind == DS_LIST || f->kind == DS_FLAGS) &&
	    n->kind == DS_NODE_SEQ)
		return n->n_kids == 0;
	if (n->kind == DS_NODE_MAP && f->empty_ok && !n->n_kids)
		return false; /* the empty element: there, not none */
	if (n->kind == DS_NODE_MAP) {
		/* what libvirt generates says nothing: an ejected CD-ROM's
		 * live <source index='3'/> is no source */
		for (size_t i = 0; i < n->n_kids; i++)
			if (!n->kids[i]->field ||
			    (!n->kids[i]->field->generated &&
			     !means_none(n->kids[i]->field, n->kids[i])))
				return false;
		return true;
	}
	if (!f->none || n->kind != DS_NODE_SCALAR || !n->str)
		return false;
	if (f->kind == DS_INT || f->kind == DS_UINT)
		return n->v.i == strtoll(f->none, NULL, 10);
	if (f->kind == DS_SIZE) /* in KiB */
		return n->v.u == strtoull(f->none, NULL, 10);
	return !strcmp(n->str, f->none);
}

/* Every field the file gives must be equal. Within a list item (a device,
 * which the file gives whole), a field the file leaves out must be absent
 * too, unless libvirt fills it in. */
static bool map_equal(const struct cmp *c, const struct ds_node *w,
		      const struct ds_node *h, bool item)
{
	for (size_t i = 0; i < w->n_kids; i++) {
		const struct ds_node *wk = w->kids[i];
		const struct ds_node *hk = ds_node_get(h, wk->key);
		if (!wk->field || !wk->field->xml)
			continue;
		if (!hk ? !means_none(wk->field, wk)
			: !node_equal(c, wk, hk, item || wk->field->whole))
			return false;
	}
	if (!item)
		return true;
	for (size_t i = 0; i < h->n_kids; i++) {
		const struct ds_node *hk = h->kids[i];
		if (hk->field && hk->field->xml && !hk->field->filled &&
		    !ds_node_get(w, hk->key) && !means_none(hk->field, hk))
			return false;
	}
	return true;
}

/* One list comparison: which of want's items equals which of have's
 * (eq, w->n_kids rows of h->n_kids), and the pairing found so far. */
struct pairing {
	const bool *eq;
	size_t nh;
	size_t *owner; /* have's item j is paired with want's owner[j] - 1 */
	bool *seen;    /* have's items tried in this search */
};

/* Kuhn's augmenting path: pairs want's item i, moving earlier pairs to
 * other items they equal when that frees one for it. */
static bool augment(struct pairing *p, size_t i)
{
	for (size_t j = 0; j < p->nh; j++) {
		if (!p->eq[i * p->nh + j] || p->seen[j])
			continue;
		p->seen[j] = true;
		if (!p->owner[j] || augment(p, p->owner[j] - 1)) {
			p->owner[j] = i + 1;
			return true;
		}
	}
	return false;
}

/* Lists are managed whole: same length, and each item of want matches a
 * distinct item of have (in order, for ordered lists). The pairing is a
 * whole matching, not the first fit: an item libvirt fills in may equal
 * several of have's (a video without 'primary' equals the primary one
 * libvirt moved first), and taking the first would leave another item
 * without its own. */
static bool list_equal(const struct cmp *c, const struct ds_node *w,
		       const struct ds_node *h)
{
	size_t nw = w->n_kids, nh = h->n_kids;
	_cleanup_free_ bool *eq = NULL;
	_cleanup_free_ size_t *owner = NULL;
	_cleanup_free_ bool *seen = NULL;
	struct pairing p;

	/* an open list may hold more: the items libvirt adds */
	if (w->field->open ? nw > nh : nw != nh)
		return false;
	if (!nw)
		return true;
	if (w->field->ordered) {
		for (size_t i = 0; i < nw; i++)
			if (!node_equal(c, w->kids[i], h->kids[i],
					w->field->kind == DS_LIST))
				return false;
		return true;
	}
	if (!(eq = calloc(nw * nh, sizeof(*eq))) ||
	    !(owner = calloc(nh, sizeof(*owner))) ||
	    !(seen = calloc(nh, sizeof(*seen))))
		return false; /* out of memory: a redefine is harmless */
	for (size_t i = 0; i < nw; i++) {
		bool any = false;
		for (size_t j = 0; j < nh; j++)
			any |= eq[i * nh + j] =
			    node_equal(c, w->kids[i], h->kids[j],
				       w->field->kind == DS_LIST);
		if (!any)
			return false;
	}
	p = (struct pairing){eq, nh, owner, seen};
	for (size_t i = 0; i < nw; i++) {
		memset(seen, 0, nh * sizeof(*seen));
		if (!augment(&p, i))
			return false;
	}
	return true;
}

/* Whether field f is a scaled integer kept as {value, unit} that
 * compares by the bytes it stands for (its unit_default is libvirt's
 * unit when the XML gives none). */
static bool scaled(const struct ds_field *f)
{
	return f && f->kind == DS_MAP && f->unit_default;
}

/* The bytes a scaled integer's mapping n stands for; false when its value
 * or unit is not one libvirt reads. */
static bool scaled_bytes(const struct ds_node *n, uint64_t *ret)
{
	const struct ds_node *v = ds_node_get(n, "value");
	const struct ds_node *u = ds_node_get(n, "unit");
	uint64_t scale;

	return v && v->kind == DS_NODE_SCALAR && v->v.i >= 0 &&
	       !ds_unit_scale(u && u->str ? u->str : n->field->unit_default,
			      &scale) &&
	       !__builtin_mul_overflow((uint64_t)v->v.i, scale, ret);
}

static bool node_equal(const struct cmp *c, const struct ds_node *w,
		       const struct ds_node *h, bool item)
{
	uint64_t a, b;

	if (w->kind != h->kind)
		return false;
	switch (w->kind) {
	case DS_NODE_MAP:
		/* libvirt writes a scaled integer in a unit of its own */
		if (scaled(w->field) && scaled_bytes(w, &a) &&
		    scaled_bytes(h, &b))
			return a == b;
		return map_equal(c, w, h, item);
	case DS_NODE_SEQ:
		return list_equal(c, w, h);
	default:
		return scalar_equal(c, w, h);
	}
}

bool ds_item_contains(const struct ds_node *want, const struct ds_node *have)
{
	struct cmp c = {NULL, NULL};

	return node_equal(&c, want, have, false);
}

bool ds_item_equal(const struct ds_node *want, const struct ds_node *have)
{
	struct cmp c = {NULL, NULL};

	return node_equal(&c, want, have, true);
}

static void format_scalar(FILE *f, const struct ds_node *n)
{
	char buf[DS_SIZE_BUFLEN];

	/* a password is never shown: plans and logs are read by others */
	if (n->key && !strcmp(n->key, "passwd")) {
		fputs("(secret)", f);
		return;
	}

	switch (n->field ? n->field->kind : DS_STR) {
	case DS_SIZE:
		fputs(ds_size_format(n->v.u, buf, sizeof(buf)), f);
		break;
	case DS_UINT:
	case DS_INT:
		fprintf(f, "%" PRId64, n->v.i);
		break;
	case DS_BOOL:
	case DS_PRESENCE:
		fputs(n->v.b ? "true" : "false", f);
		break;
	case DS_XML_NS: {
		/* an element on one line; '' is none */
		_cleanup_free_ char *line =
		    *n->str ? ds_metadata_shown(n->str) : NULL;
		fputs(line ? line : *n->str ? n->str : "''", f);
		break;
	}
	default:
		fputs(*n->str ? n->str : "''", f);
	}
}

static void format_node(FILE *f, const struct ds_node *n)
{
	if (n->kind == DS_NODE_SCALAR) {
		format_scalar(f, n);
		return;
	}
	/* A map given by its shorthand alone prints as that value. */
	if (n->kind == DS_NODE_MAP && n->n_kids == 1 && n->field &&
	    n->field->shorthand &&
	    !strcmp(n->kids[0]->key, n->field->shorthand)) {
		format_node(f, n->kids[0]);
		return;
	}
	fputc(n->kind == DS_NODE_MAP ? '{' : '[', f);
	for (size_t i = 0, shown = 0; i < n->n_kids; i++) {
		/* libvirt's own (addresses, aliases) say nothing to a reader,
		 * nor do the agent's keys within an element (a disk's volume):
		 * libvirt's side never has them, and a device sent is known
		 * by what it rendered */
		if (n->kind == DS_NODE_MAP && n->kids[i]->field &&
		    (n->kids[i]->field->generated ||
		     (!n->kids[i]->field->xml && n->field && n->field->xml)))
			continue;
		if (shown++)
			fputs(", ", f);
		if (n->kind == DS_NODE_MAP)
			fprintf(f, "%s: ", n->kids[i]->key);
		format_node(f, n->kids[i]);
	}
	fputc(n->kind == DS_NODE_MAP ? '}' : ']', f);
}

char *ds_node_format(const struct ds_node *n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	format_node(f, n);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int add_change(struct ds_changes *c, const char *path,
		      const struct ds_node *w, const struct ds_node *h)
{
	struct ds_change *items =
	    reallocarray(c->items, c->n + 1, sizeof(*c->items));
	struct ds_change ch = {0};

	if (!items)
		return -ENOMEM;
	c->items = items;
	ch.path = strdup(path);
	ch.want = ds_node_format(w);
	ch.have = h ? ds_node_format(h) : NULL;
	if (!ch.path || !ch.want || (h && !ch.have)) {
		free(ch.path);
		free(ch.want);
		free(ch.have);
		return -ENOMEM;
	}
	c->items[c->n++] = ch;
	return 0;
}

/* Elements by namespace: each that the file names is a change of its own
 * ("metadata.http://example.org/app/"); others are not the file's. */
static int compare_xml_ns(const struct ds_node *w, const struct ds_node *h,
			  const char *prefix, struct ds_changes *c)
{
	for (size_t i = 0; i < w->n_kids; i++) {
		const struct ds_node *wk = w->kids[i];
		const struct ds_node *hk = h ? ds_node_get(h, wk->key) : NULL;
		_cleanup_free_ char *path = NULL;
		if (wk->bad ||
		    (hk ? ds_metadata_equal(wk->str, hk->str) : !*wk->str))
			continue;
		if (asprintf(&path, "%s.%s", prefix, wk->key) < 0 ||
		    add_change(c, path, wk, hk) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Walks want in the format's order, descending into maps so that a change
 * is named by its field ("vcpu.current"), not its parent. */
static int compare_map(const struct cmp *cc, const struct ds_field *mf,
		       const struct ds_node *w, const struct ds_node *h,
		       const char *prefix, struct ds_changes *c)
{
	for (const struct ds_field *f = mf->kids; f->key; f++) {
		const struct ds_node *wk = ds_node_get(w, f->key);
		const struct ds_node *hk = h ? ds_node_get(h, f->key) : NULL;
		size_t plen = strlen(prefix), klen = strlen(f->key);
		char path[256];
		int r = 0;
		if (!wk || !f->xml || f->kind == DS_XML)
			continue;
		if (plen + klen + 2 > sizeof(path))
			return -ENAMETOOLONG; /* the format's paths are short */
		memcpy(path, prefix, plen);
		path[plen] = '.';
		memcpy(path + plen + !!plen, f->key, klen + 1);
		/* a mapping the file gives by its shorthand alone ("memory:
		 * 1 GiB") is named by its own key */
		if (mf->shorthand && !strcmp(f->key, mf->shorthand) &&
		    w->n_kids == 1 && plen)
			path[plen] = 0;
		if (f->kind == DS_XML_NS)
			r = compare_xml_ns(wk, hk, path, c);
		else if (f->kind == DS_MAP && hk && !f->whole && !scaled(f))
			r = compare_map(cc, f, wk, hk, path, c);
		else if (!hk && means_none(f, wk))
			continue;
		else if (!hk || !node_equal(cc, wk, hk, f->whole))
			r = add_change(c, path, wk, hk);
		if (r < 0)
			return r;
	}
	return 0;
}

int ds_tree_compare_ctx(const struct ds_node *want, const struct ds_node *have,
			const struct ds_compare_ctx *ctx,
			struct ds_changes *ret)
{
	const struct ds_node *arch = ds_node_path(want, "os.arch");
	_cleanup_(ds_node_freep) struct ds_node *host = NULL;
	struct cmp c = {ctx, NULL};
	int r;

	/* what libvirt makes of the file on this host */
	if (ctx && ctx->secmodel && ds_tree_wants_secmodel(want)) {
		if (!(host = ds_node_copy(want)) ||
		    ds_tree_normalise_host(host, ctx->secmodel) < 0)
			return -ENOMEM;
		want = host;
	}
	if (!arch)
		arch = ds_node_path(have, "os.arch");
	c.arch = arch ? arch->str : NULL;
	*ret = (struct ds_changes){0};
	r = compare_map(&c, &ds_schema_domain, want, have, "", ret);
	if (r < 0)
		ds_changes_finish(ret);
	return r;
}

int ds_tree_compare_as(const struct ds_field *format,
		       const struct ds_node *want, const struct ds_node *have,
		       struct ds_changes *ret)
{
	struct cmp c = {NULL, NULL};
	int r;

	*ret = (struct ds_changes){0};
	r = compare_map(&c, format, want, have, "", ret);
	if (r < 0)
		ds_changes_finish(ret);
	return r;
}

int ds_tree_compare(const struct ds_node *want, const struct ds_node *have,
		    struct ds_changes *ret)
{
	return ds_tree_compare_ctx(want, have, NULL, ret);
}

void ds_changes_finish(struct ds_changes *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->items[i].path);
		free(c->items[i].want);
		free(c->items[i].have);
	}
	free(c->items);
	*c = (struct ds_changes){0};
}
