/* Document tree to YAML. libyaml's emitter writes the text (indentation,
 * escapes, the quoting a string's characters need); this file walks the
 * format's table, types each scalar by its field, and picks a style: the
 * emitter cannot know that "yes" or "0755" would come back as something
 * else. */
#include "yamlout.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cleanup.h"
#include "schema.h"
#include "units.h"

/* Collections whose items are all short scalars are written in flow style
 * ({value: 4, current: 2}, [hd, cdrom]) when they fit on this many
 * columns; the rest in block style. */
#define FLOW_WIDTH 72
#define FLOW_MAX_KEYS 4

bool ds_yaml_ambiguous(const char *s)
{
	static const char *const words[] = {
	    "~",     "null",  "Null", "NULL", "true", "True", "TRUE", "false",
	    "False", "FALSE", "yes",  "Yes",  "YES",  "no",   "No",   "NO",
	    "on",    "On",    "ON",   "off",  "Off",  "OFF",  "y",    "Y",
	    "n",     "N",     "=",    "<<",   NULL};
	const char *p = s;

	if (!*s || ds_enum_index(words, s) >= 0)
		return true;
	if (*p == '+' || *p == '-')
		p++;
	/* .inf, -.Inf, .nan and every spelling of a number, a date or a
	 * sexagesimal 1:20 (YAML 1.1): a digit, or a dot, first, and nothing
	 * but what numbers and dates are made of */
	if (*p == '.' && (!strcmp(p + 1, "inf") || !strcmp(p + 1, "Inf") ||
			  !strcmp(p + 1, "INF") || !strcmp(s, ".nan") ||
			  !strcmp(s, ".NaN") || !strcmp(s, ".NAN")))
		return true;
	if (isdigit((unsigned char)p[0]) ||
	    (p[0] == '.' && isdigit((unsigned char)p[1])))
		return strspn(p, "0123456789"
				 "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "_.:+-") == strlen(p);
	return false;
}

struct out {
	yaml_emitter_t e;
};

static int emit(struct out *o, yaml_event_t *ev)
{
	/* the emitter takes the event, and frees it even when it fails */
	return yaml_emitter_emit(&o->e, ev) ? 0 : -EINVAL;
}

static int emit_scalar(struct out *o, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL,
					  (yaml_char_t *)(uintptr_t)s,
					  (int)strlen(s), 1, 1, style))
		return -ENOMEM;
	return emit(o, &ev);
}

static int emit_start(struct out *o, bool map, bool flow)
{
	yaml_event_t ev;
	int ok =
	    map ? yaml_mapping_start_event_initialize(
		      &ev, NULL, NULL, 1,
		      flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE)
		: yaml_sequence_start_event_initialize(
		      &ev, NULL, NULL, 1,
		      flow ? YAML_FLOW_SEQUENCE_STYLE
			   : YAML_BLOCK_SEQUENCE_STYLE);

	return ok ? emit(o, &ev) : -ENOMEM;
}

static int emit_end(struct out *o, bool map)
{
	yaml_event_t ev;

	if (map)
		yaml_mapping_end_event_initialize(&ev);
	else
		yaml_sequence_end_event_initialize(&ev);
	return emit(o, &ev);
}

/* Whether node n of field f is written at all: not a field libvirt
 * generates, nor a value marked unusable. */
static bool written(const struct ds_node *n, const struct ds_field *f)
{
	return n && !n->bad && f && !f->generated;
}

/* The field of a list's items, or of a flags or raw XML list's (the
 * field itself: its items are its values). */
static const struct ds_field *item_field(const struct ds_field *f)
{
	return f->kind == DS_LIST ? &f->kids[0] : f;
}

/* The only written kid of map node n (field f), or NULL. */
static const struct ds_node *only_kid(const struct ds_node *n,
				      const struct ds_field *f,
				      const struct ds_field **ret_f)
{
	const struct ds_node *one = NULL;

	for (const struct ds_field *k = f->kids; k && k->key; k++) {
		const struct ds_node *c = ds_node_get(n, k->key);
		if (!written(c, k))
			continue;
		if (one)
			return NULL;
		one = c;
		*ret_f = k;
	}
	return one;
}

/* A map that holds only its shorthand's key is written as that value
 * (vcpu: 4, model: virtio): the scalar and its field, else n and f. */
static const struct ds_node *folded(const struct ds_node *n,
				    const struct ds_field *f,
				    const struct ds_field **ret_f)
{
	const struct ds_field *kf = NULL;
	const struct ds_node *k;

	*ret_f = f;
	if (n->kind != DS_NODE_MAP || f->kind != DS_MAP || !f->shorthand)
		return n;
	k = only_kid(n, f, &kf);
	if (!k || k->kind != DS_NODE_SCALAR || strcmp(kf->key, f->shorthand))
		return n;
	*ret_f = kf;
	return k;
}

/* A scalar's text as the parser reads it back for its field, and the
 * style it needs. buf holds numbers and sizes. */
static const char *scalar_text(const struct ds_node *n,
			       const struct ds_field *f, char *buf, size_t len,
			       yaml_scalar_style_t *style)
{
	*style = YAML_PLAIN_SCALAR_STYLE;
	switch (f->kind) {
	case DS_SIZE:
		return ds_size_format(n->v.u, buf, len);
	case DS_UINT:
	case DS_INT:
		snprintf(buf, len, "%" PRId64, n->v.i);
		return buf;
	case DS_BOOL:
	case DS_PRESENCE:
		return n->v.b ? "true" : "false";
	default:
		break;
	}
	if (!n->str)
		return NULL;
	if (strchr(n->str, '\n'))
		*style = YAML_LITERAL_SCALAR_STYLE;
	else if (ds_yaml_ambiguous(n->str))
		*style = YAML_SINGLE_QUOTED_SCALAR_STYLE;
	return n->str;
}

/* The columns a scalar takes in flow style, or SIZE_MAX when it cannot be
 * written there (more than one line) or is not a scalar once folded. */
static size_t flow_width(const struct ds_node *n, const struct ds_field *f)
{
	const struct ds_field *ff;
	const struct ds_node *s = folded(n, f, &ff);
	yaml_scalar_style_t style;
	char buf[DS_SIZE_BUFLEN];
	const char *t;

	if (s->kind != DS_NODE_SCALAR)
		return SIZE_MAX;
	t = scalar_text(s, ff, buf, sizeof(buf), &style);
	if (!t || style == YAML_LITERAL_SCALAR_STYLE)
		return SIZE_MAX;
	/* ", " after it, and quotes when it needs them or holds what flow
	 * style quotes */
	return strlen(t) + 2 +
	       (style != YAML_PLAIN_SCALAR_STYLE || t[strcspn(t, ",[]{}")] ? 2
									   : 0);
}

/* Whether a map or list of short scalars fits on one line at depth. */
static bool flow_fits(const struct ds_node *n, const struct ds_field *f,
		      size_t depth)
{
	size_t width = 2 * depth + 2 + (f->key ? strlen(f->key) : 0) + 4;
	size_t count = 0;

	if (n->kind == DS_NODE_MAP) {
		for (const struct ds_field *k = f->kids; k && k->key; k++) {
			const struct ds_node *c = ds_node_get(n, k->key);
			size_t w;
			if (!written(c, k))
				continue;
			if ((w = flow_width(c, k)) == SIZE_MAX)
				return false;
			width += strlen(k->key) + 2 + w;
			count++;
		}
		return count && count <= FLOW_MAX_KEYS && width <= FLOW_WIDTH;
	}
	for (size_t i = 0; i < n->n_kids; i++) {
		size_t w =
		    n->kids[i]->bad ? 0 : flow_width(n->kids[i], item_field(f));
		if (w == SIZE_MAX)
			return false;
		width += w;
		count += !n->kids[i]->bad;
	}
	return count && width <= FLOW_WIDTH;
}

static int write_node(struct out *o, const struct ds_node *n,
		      const struct ds_field *f, size_t depth, bool in_flow);

static int write_map(struct out *o, const struct ds_node *n,
		     const struct ds_field *f, size_t depth, bool flow)
{
	int r = emit_start(o, true, flow);

	for (const struct ds_field *k = f->kids; r == 0 && k && k->key; k++) {
		const struct ds_node *c = ds_node_get(n, k->key);
		if (!written(c, k))
			continue;
		yaml_scalar_style_t style =
		    ds_yaml_ambiguous(k->key) ? YAML_SINGLE_QUOTED_SCALAR_STYLE
					      : YAML_PLAIN_SCALAR_STYLE;
		r = emit_scalar(o, k->key, style);
		if (r == 0)
			r = write_node(o, c, k, depth + 1, flow);
	}
	return r ? r : emit_end(o, true);
}

static int write_seq(struct out *o, const struct ds_node *n,
		     const struct ds_field *f, size_t depth, bool flow)
{
	const struct ds_field *itf = item_field(f);
	int r = emit_start(o, false, flow);

	for (size_t i = 0; r == 0 && i < n->n_kids; i++)
		if (!n->kids[i]->bad)
			r = write_node(o, n->kids[i], itf, depth + 1, flow);
	return r ? r : emit_end(o, false);
}

/* Elements by namespace: each namespace URI the key of its element's
 * text, in the tree's order (the field has no kids of its own). */
static int write_xml_ns(struct out *o, const struct ds_node *n,
			const struct ds_field *f)
{
	int r = emit_start(o, true, false);

	for (size_t i = 0; r == 0 && i < n->n_kids; i++) {
		const struct ds_node *k = n->kids[i];
		yaml_scalar_style_t style;
		char buf[DS_SIZE_BUFLEN];
		const char *t;
		if (k->bad)
			continue;
		r = emit_scalar(o, k->key,
				ds_yaml_ambiguous(k->key)
				    ? YAML_SINGLE_QUOTED_SCALAR_STYLE
				    : YAML_PLAIN_SCALAR_STYLE);
		if (r == 0 &&
		    !(t = scalar_text(k, f, buf, sizeof(buf), &style)))
			r = -EINVAL;
		if (r == 0)
			r = emit_scalar(o, t, style);
	}
	return r ? r : emit_end(o, true);
}

static int write_node(struct out *o, const struct ds_node *n,
		      const struct ds_field *f, size_t depth, bool in_flow)
{
	const struct ds_field *ff;
	const struct ds_node *s = folded(n, f, &ff);
	yaml_scalar_style_t style;
	char buf[DS_SIZE_BUFLEN];
	const char *t;

	switch (s->kind) {
	case DS_NODE_SCALAR:
		if (!(t = scalar_text(s, ff, buf, sizeof(buf), &style)))
			return -EINVAL;
		return emit_scalar(o, t, style);
	case DS_NODE_MAP:
		if (f->kind == DS_XML_NS)
			return write_xml_ns(o, n, f);
		if (f->kind != DS_MAP)
			return -EINVAL;
		/* an empty element libvirt keeps: true stands for it */
		if (!n->n_kids && f->empty_ok && !f->shorthand)
			return emit_scalar(o, "true", YAML_PLAIN_SCALAR_STYLE);
		return write_map(o, n, f, depth,
				 in_flow || (depth && flow_fits(n, f, depth)));
	default:
		if (f->kind != DS_LIST && f->kind != DS_FLAGS &&
		    f->kind != DS_XML)
			return -EINVAL;
		return write_seq(o, n, f, depth,
				 in_flow || flow_fits(n, f, depth));
	}
}

int ds_yaml_write(const struct ds_node *root, const struct ds_field *f,
		  char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	struct out o;
	yaml_event_t ev;
	int r = 0;

	if (!mem)
		return -ENOMEM;
	if (!yaml_emitter_initialize(&o.e)) {
		fclose(mem);
		return -ENOMEM;
	}
	yaml_emitter_set_output_file(&o.e, mem);
	yaml_emitter_set_unicode(&o.e, 1);
	yaml_emitter_set_indent(&o.e, 2);
	yaml_emitter_set_width(&o.e, 80);
	yaml_emitter_set_break(&o.e, YAML_LN_BREAK);
	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ||
	    emit(&o, &ev) < 0 ||
	    !yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) ||
	    emit(&o, &ev) < 0)
		r = -ENOMEM;
	if (r == 0)
		r = root->kind == DS_NODE_MAP && f->kind == DS_MAP
			? write_map(&o, root, f, 0, false)
			: -EINVAL;
	if (r == 0 &&
	    (!yaml_document_end_event_initialize(&ev, 1) || emit(&o, &ev) < 0 ||
	     !yaml_stream_end_event_initialize(&ev) || emit(&o, &ev) < 0))
		r = -EINVAL;
	if (r == 0 && !yaml_emitter_flush(&o.e))
		r = -EINVAL;
	if (r < 0 && o.e.error == YAML_MEMORY_ERROR)
		r = -ENOMEM;
	yaml_emitter_delete(&o.e);
	if (fclose(mem) != 0)
		return -ENOMEM;
	if (r < 0)
		return r;
	*ret_len = len;
	*ret = take_ptr(buf);
	return 0;
}
