#include "fragments.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "compare.h"
#include "schema.h"
#include "xmlread.h"
#include "xmltree.h"

#define DEVICES_HEAD "xml.devices:\n"

const struct ds_field *ds_device_list(const char *elem)
{
	const struct ds_field *dev = ds_field_kid(&ds_schema_domain, "devices");

	for (const struct ds_field *f = dev->kids; f->key; f++)
		if (f->kind == DS_LIST && !strcmp(f->xml, elem))
			return f;
	return NULL;
}

/* The next xml.devices fragment at *pos (in the mark's text of the
 * fragments): its start and length. */
static bool next_devices(const char **pos, const char **start, size_t *len)
{
	const char *p = *pos;

	while (p && *p) {
		bool devices = !strncmp(p, DEVICES_HEAD, strlen(DEVICES_HEAD));
		const char *body = strchr(p, '\n');
		const char *end, *e2;
		if (!body)
			return false;
		body++;
		/* the fragment runs to the next header line */
		end = strstr(body, "\nxml.domain:\n");
		e2 = strstr(body, "\n" DEVICES_HEAD);
		if (!end || (e2 && e2 < end))
			end = e2;
		if (!end)
			end = body + strlen(body);
		*pos = *end ? end + 1 : end;
		if (devices) {
			*start = body;
			*len = (size_t)(end - body);
			return true;
		}
		p = *pos;
	}
	return false;
}

bool ds_fragments_list_kinds(const char *fragments)
{
	const char *pos = fragments, *start;
	size_t len;

	while (fragments && next_devices(&pos, &start, &len)) {
		for (const char *s = start;
		     (s = memchr(s, '<', len - (size_t)(s - start))); s++) {
			char name[32];
			size_t n = strcspn(s + 1, " \t\n/>");
			if (n == 0 || n >= sizeof(name))
				continue;
			memcpy(name, s + 1, n);
			name[n] = 0;
			if (ds_device_list(name))
				return true;
		}
	}
	return false;
}

/* The value that identifies an item across libvirt's rewrites. */
static const char *identity(const struct ds_node *item, const char *key)
{
	const struct ds_node *n = NULL;

	if (!strcmp(key, "disk"))
		n = ds_node_path(item, "target.dev");
	else if (!strcmp(key, "interface"))
		n = ds_node_path(item, "mac.address");
	return n ? n->str : NULL;
}

static bool claimed(const struct ds_frag_items *f, const char *elem,
		    size_t index)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].index == index && !strcmp(f->v[i].elem, elem))
			return true;
	return false;
}

static int claim(const struct ds_node *have, const struct ds_field *lf,
		 const struct ds_xel *el, struct ds_frag_items *ret)
{
	const struct ds_node *list =
	    ds_node_get(ds_node_get(have, "devices"), lf->key);
	_cleanup_(ds_node_freep) struct ds_node *want = NULL;
	const char *id;
	size_t pick = SIZE_MAX;

	if (!list || ds_item_from_xml(el, &lf->kids[0], &want) < 0)
		return list ? -ENOMEM : 0;
	id = identity(want, lf->key);
	for (int pass = 0; pass < 2 && pick == SIZE_MAX; pass++)
		for (size_t j = 0; j < list->n_kids && pick == SIZE_MAX; j++) {
			const char *hid = identity(list->kids[j], lf->key);
			if (claimed(ret, lf->xml, j))
				continue;
			if (pass == 0
				? id && hid && !strcasecmp(id, hid)
				: !id && ds_item_contains(want, list->kids[j]))
				pick = j;
		}
	if (pick == SIZE_MAX)
		return 0; /* libvirt dropped it, or rewrote it past knowing */
	struct ds_frag_item *grown =
	    reallocarray(ret->v, ret->n + 1, sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	ret->v = grown;
	grown[ret->n++] = (struct ds_frag_item){lf->key, lf->xml, pick};
	return 0;
}

int ds_fragment_items(const struct ds_node *have, const char *fragments,
		      struct ds_frag_items *ret)
{
	const char *pos = fragments, *start;
	size_t len;
	int r = 0;

	*ret = (struct ds_frag_items){0};
	while (r == 0 && fragments && next_devices(&pos, &start, &len)) {
		_cleanup_free_ char *wrapped = NULL;
		struct ds_xdoc doc;
		if (asprintf(&wrapped, "<devices>%.*s</devices>", (int)len,
			     start) < 0)
			return -ENOMEM;
		if (ds_xdoc_read(NULL, wrapped, strlen(wrapped), &doc) < 0)
			continue; /* not what was applied: nothing to find */
		for (const struct ds_xel *c = doc.root->kids; c && r == 0;
		     c = c->next) {
			const struct ds_field *lf =
			    c->name ? ds_device_list(c->name) : NULL;
			if (lf)
				r = claim(have, lf, c, ret);
		}
		ds_xdoc_finish(&doc);
	}
	if (r < 0)
		ds_frag_items_finish(ret);
	return r;
}

void ds_frag_items_finish(struct ds_frag_items *f)
{
	free(f->v);
	*f = (struct ds_frag_items){0};
}

struct ds_node *ds_tree_without(const struct ds_node *have,
				const struct ds_frag_items *f)
{
	_cleanup_(ds_node_freep) struct ds_node *copy = ds_node_copy(have);
	struct ds_node *devices = copy ? ds_node_get(copy, "devices") : NULL;

	if (!copy)
		return NULL;
	for (size_t k = 0; devices && k < devices->n_kids; k++) {
		struct ds_node *list = devices->kids[k];
		size_t out = 0;
		if (list->kind != DS_NODE_SEQ || !list->field)
			continue;
		for (size_t j = 0; j < list->n_kids; j++) {
			if (claimed(f, list->field->xml, j))
				ds_node_free(list->kids[j]);
			else
				list->kids[out++] = list->kids[j];
		}
		list->n_kids = out;
	}
	return take_ptr(copy);
}

/* The text of e itself, its runs of blanks beside elements left out. */
static char *own_text(const struct ds_xel *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (const struct ds_xel *c = e->kids; c; c = c->next)
		if (!c->name && c->text[strspn(c->text, " \t\r\n")])
			fputs(c->text, f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static bool same_ns(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Whether have holds everything want says. */
static bool xel_holds(const struct ds_xel *want, const struct ds_xel *have)
{
	_cleanup_free_ char *wt = NULL, *ht = NULL;
	const struct ds_xel *from;

	if (strcmp(want->name, have->name) || !same_ns(want->ns, have->ns))
		return false;
	for (const char **a = want->attrs; a && *a; a += 2) {
		const char *v = ds_xel_attr(have, a[0]);
		if (!v || strcmp(v, a[1]))
			return false;
	}
	if (!(wt = own_text(want)) || !(ht = own_text(have)))
		return false;
	if (*wt && strcmp(wt, ht))
		return false;
	/* child elements in order, libvirt's others between them */
	from = have->kids;
	for (const struct ds_xel *w = want->kids; w; w = w->next) {
		const struct ds_xel *h = from;
		if (!w->name)
			continue;
		while (h && !(h->name && xel_holds(w, h)))
			h = h->next;
		if (!h)
			return false;
		from = h->next;
	}
	return true;
}

bool ds_fragments_held(const struct ds_xel *domain, const struct ds_node *root)
{
	static const char *const where[] = {"domain", "devices"};
	const struct ds_xel *claimed[256];
	size_t n_claimed = 0;

	for (size_t w = 0; w < 2; w++) {
		const struct ds_node *list =
		    ds_node_get(ds_node_get(root, "xml"), where[w]);
		const struct ds_xel *parent =
		    w ? ds_xel_child(domain, "devices", 7) : domain;
		for (size_t i = 0; list && i < list->n_kids; i++) {
			_cleanup_free_ char *wrapped = NULL;
			struct ds_xdoc doc;
			bool held = true;
			if (!list->kids[i]->str || !parent ||
			    asprintf(&wrapped, "<xml.%s>%s</xml.%s>", where[w],
				     list->kids[i]->str, where[w]) < 0 ||
			    ds_xdoc_read(NULL, wrapped, strlen(wrapped), &doc) <
				0)
				return false;
			for (const struct ds_xel *c = doc.root->kids; c && held;
			     c = c->next) {
				const struct ds_xel *h = parent->kids;
				if (!c->name)
					continue;
				for (; h; h = h->next) {
					bool taken = false;
					for (size_t k = 0; k < n_claimed; k++)
						taken |= claimed[k] == h;
					if (h->name && !taken &&
					    xel_holds(c, h))
						break;
				}
				if (!h || n_claimed == DS_ARRAY_SIZE(claimed))
					held = false;
				else
					claimed[n_claimed++] = h;
			}
			ds_xdoc_finish(&doc);
			if (!held)
				return false;
		}
	}
	return true;
}
