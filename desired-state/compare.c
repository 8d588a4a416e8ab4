#include "compare.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "cpuset.h"
#include "schema.h"
#include "units.h"

static bool node_equal(const struct ds_node *want, const struct ds_node *have);

/* libvirt expands a machine alias to the versioned type it stands for:
 * pc is pc-i440fx-7.2, q35 is pc-q35-7.2, virt is virt-7.2. */
bool ds_machine_equal(const char *want, const char *have)
{
	static const char *const alias[][2] = {{"pc", "pc-i440fx-"},
					       {"q35", "pc-q35-"}};
	size_t len = strlen(want);

	if (!strcmp(want, have) ||
	    (!strncmp(want, have, len) && have[len] == '-'))
		return true;
	for (size_t i = 0; i < DS_ARRAY_SIZE(alias); i++)
		if (!strcmp(want, alias[i][0]) &&
		    !strncmp(have, alias[i][1], strlen(alias[i][1])))
			return true;
	return false;
}

static bool text_equal(const struct ds_node *w, const struct ds_node *h)
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
		return ds_machine_equal(w->str, h->str);
	return !strcmp(w->str, h->str);
}

static bool scalar_equal(const struct ds_node *w, const struct ds_node *h)
{
	switch (w->field->kind) {
	case DS_UINT:
	case DS_INT:
		return w->v.i == h->v.i;
	case DS_SIZE:
		/* QEMU's driver rounds sizes up to whole MiB (maxMemory, NUMA
		 * cells, and so memory) */
		return w->v.u == h->v.u ||
		       (h->v.u % 1024 == 0 &&
			h->v.u == (w->v.u + 1023) / 1024 * 1024);
	case DS_BOOL:
	case DS_PRESENCE:
		return w->v.b == h->v.b;
	default:
		return text_equal(w, h);
	}
}

/* Every field the file gives must be equal; the rest is not compared. */
static bool map_equal(const struct ds_node *w, const struct ds_node *h)
{
	for (size_t i = 0; i < w->n_kids; i++) {
		const struct ds_node *wk = w->kids[i];
		const struct ds_node *hk = ds_node_get(h, wk->key);
		if (!wk->field || !wk->field->xml)
			continue;
		if (!hk ? !(wk->field->kind == DS_PRESENCE && !wk->v.b)
			: !node_equal(wk, hk))
			return false;
	}
	return true;
}

/* Lists are managed whole: same length, and each item of want matches a
 * distinct item of have (in order, for ordered lists). */
static bool list_equal(const struct ds_node *w, const struct ds_node *h)
{
	bool used[256] = {false};

	if (w->n_kids != h->n_kids || h->n_kids > 256)
		return false;
	for (size_t i = 0; i < w->n_kids; i++) {
		bool found = false;
		for (size_t j = 0; j < h->n_kids && !found; j++) {
			if (w->field->ordered && j != i)
				continue;
			if (!used[j] && node_equal(w->kids[i], h->kids[j]))
				found = used[j] = true;
		}
		if (!found)
			return false;
	}
	return true;
}

static bool node_equal(const struct ds_node *w, const struct ds_node *h)
{
	if (w->kind != h->kind)
		return false;
	switch (w->kind) {
	case DS_NODE_MAP:
		return map_equal(w, h);
	case DS_NODE_SEQ:
		return list_equal(w, h);
	default:
		return scalar_equal(w, h);
	}
}

static void format_scalar(FILE *f, const struct ds_node *n)
{
	char buf[DS_SIZE_BUFLEN];

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
	default:
		fputs(n->str, f);
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
	for (size_t i = 0; i < n->n_kids; i++) {
		if (i)
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

/* Walks want in the format's order, descending into maps so that a change
 * is named by its field ("vcpu.current"), not its parent. */
static int compare_map(const struct ds_field *mf, const struct ds_node *w,
		       const struct ds_node *h, const char *prefix,
		       struct ds_changes *c)
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
		if (f->kind == DS_MAP && hk)
			r = compare_map(f, wk, hk, path, c);
		else if (!hk && f->kind == DS_PRESENCE && !wk->v.b)
			continue;
		else if (!hk || !node_equal(wk, hk))
			r = add_change(c, path, wk, hk);
		if (r < 0)
			return r;
	}
	return 0;
}

int ds_tree_compare(const struct ds_node *want, const struct ds_node *have,
		    struct ds_changes *ret)
{
	*ret = (struct ds_changes){0};
	int r = compare_map(&ds_schema_domain, want, have, "", ret);
	if (r < 0)
		ds_changes_finish(ret);
	return r;
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
