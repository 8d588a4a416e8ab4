/* The schema walk: checks a YAML tree against the format's field tables,
 * reports every problem with its place, expands shorthands so that later
 * stages see one shape per field, and stores typed values in the nodes. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cpuset.h"
#include "metadata.h"
#include "parse.h"
#include "units.h"

struct walker {
	struct ds_diags *d;
	char path[256];
};

/* Appends ".key" or "[i]" to the path; returns the old length to restore. */
static size_t path_push(struct walker *w, const char *key, size_t index)
{
	size_t len = strlen(w->path), klen = key ? strlen(key) : 0;

	if (klen && len + 1 + klen < sizeof(w->path)) {
		/* the common case, without printf's cost */
		if (len)
			w->path[len] = '.';
		memcpy(w->path + len + !!len, key, klen + 1);
	} else if (klen)
		snprintf(w->path + len, sizeof(w->path) - len, "%s%s",
			 len ? "." : "", key);
	else if (!key)
		snprintf(w->path + len, sizeof(w->path) - len, "[%zu]", index);
	return len;
}

#define SHOWN(s) ds_shown((s), (char[96]){0}, 96)

static bool is_null(const struct ds_node *n)
{
	return n->kind == DS_NODE_SCALAR && n->plain &&
	       (!*n->str || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
		!strcmp(n->str, "Null") || !strcmp(n->str, "NULL"));
}

static const char *kind_name(const struct ds_node *n)
{
	return n->kind == DS_NODE_MAP   ? "a mapping"
	       : n->kind == DS_NODE_SEQ ? "a list"
					: "a single value";
}

/* Wraps a bare scalar into a mapping whose `key` it stands for. */
static int wrap_scalar(struct ds_node **slot, const char *key)
{
	struct ds_node *n = *slot;
	_cleanup_(ds_node_freep) struct ds_node *m =
	    ds_node_new(DS_NODE_MAP, n->mark);
	_cleanup_free_ char *k = strdup(key);

	if (!m || !k || ds_node_append(m, n) < 0)
		return -ENOMEM;
	m->key = take_ptr(n->key);
	m->key_mark = n->key_mark;
	n->key = take_ptr(k);
	n->key_mark = n->mark;
	*slot = take_ptr(m);
	return 0;
}

/* Replaces {value: x} by x, so that the full form of a scalar works too. */
static int unwrap_value(struct walker *w, struct ds_node **slot)
{
	struct ds_node *m = *slot;

	if (m->n_kids != 1 || strcmp(m->kids[0]->key, "value")) {
		ds_diags_add(w->d, m->mark,
			     "'%s' takes a single value (or {value: …}), not "
			     "%s",
			     w->path, kind_name(m));
		return -EINVAL;
	}
	struct ds_node *v = m->kids[0];
	free(v->key);
	v->key = take_ptr(m->key);
	v->key_mark = m->key_mark;
	m->n_kids = 0;
	ds_node_free(m);
	*slot = v;
	return 0;
}

static int check_name(const char *s, const char **why)
{
	size_t len = strlen(s);

	if (!len || len > 200)
		*why = "must be 1 to 200 bytes long";
	else if (strchr(s, '/'))
		*why = "must not contain '/'";
	else if (strpbrk(s, "\n\t"))
		*why = "must be on one line";
	else if (isspace((unsigned char)s[0]) ||
		 isspace((unsigned char)s[len - 1]))
		*why = "must not begin or end with a space";
	else
		return 0;
	return -EINVAL;
}

/* Accepts libvirt's UUID spellings (dashes anywhere) and rewrites the node
 * in the canonical 8-4-4-4-12 lower-case form. */
static int check_uuid(struct ds_node *n, const char **why)
{
	char hex[33], out[37];
	size_t k = 0;

	for (const char *p = n->str; *p; p++) {
		if (*p == '-')
			continue;
		if (!isxdigit((unsigned char)*p) || k == 32) {
			*why = "must be 32 hexadecimal digits, as "
			       "4dea22b3-1d52-d8f3-2516-782e98ab3fa0";
			return -EINVAL;
		}
		hex[k++] = tolower((unsigned char)*p);
	}
	if (k != 32) {
		*why = "must be 32 hexadecimal digits, as "
		       "4dea22b3-1d52-d8f3-2516-782e98ab3fa0";
		return -EINVAL;
	}
	hex[32] = 0;
	snprintf(out, sizeof(out), "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
		 hex + 12, hex + 16, hex + 20);
	char *s = strdup(out);
	if (!s)
		return -ENOMEM;
	free(n->str);
	n->str = s;
	return 0;
}

static int check_mac(const char *s, const char **why)
{
	unsigned b[6];
	int end = 0;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &end) != 6 ||
	    s[end] || strlen(s) != 17) {
		*why = "must be six hexadecimal pairs, as 52:54:00:12:34:56";
		return -EINVAL;
	}
	if (b[0] & 1) {
		*why = "is a multicast address; a guest needs a unicast one";
		return -EINVAL;
	}
	return 0;
}

static int check_token(const char *s, const char **why)
{
	if (!*s) {
		*why = "must not be empty";
		return -EINVAL;
	}
	for (const char *p = s; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("-_.:+/@", *p)) {
			*why = "must be one word of letters, digits and "
			       "- _ . : + / @";
			return -EINVAL;
		}
	}
	return 0;
}

static int check_text(struct walker *w, struct ds_node *n,
		      const struct ds_field *f)
{
	const char *why = NULL;
	char buf[128];
	int r = 0;

	for (const char *p = n->str; *p; p++) {
		unsigned char c = *p;
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
			ds_diags_add(w->d, n->mark,
				     "'%s' \"%s\" holds a control character",
				     w->path, SHOWN(n->str));
			return -EINVAL;
		}
	}
	switch (f->check) {
	case DS_CHECK_NONE:
		return 0;
	case DS_CHECK_NAME:
		r = check_name(n->str, &why);
		break;
	case DS_CHECK_UUID:
		r = check_uuid(n, &why);
		break;
	case DS_CHECK_CPUSET: {
		struct ds_cpuset set;
		char err[96];
		r = ds_cpuset_parse(n->str, &set, err, sizeof(err));
		snprintf(buf, sizeof(buf), "is not a CPU set: %s", err);
		why = buf;
		break;
	}
	case DS_CHECK_MAC:
		r = check_mac(n->str, &why);
		break;
	case DS_CHECK_PATH:
		if (n->str[0] != '/')
			r = -EINVAL, why = "must be an absolute path";
		break;
	case DS_CHECK_TOKEN:
	case DS_CHECK_MACHINE:
		r = check_token(n->str, &why);
		break;
	case DS_CHECK_SERIAL:
		if (!*n->str ||
		    strspn(n->str, "abcdefghijklmnopqrstuvwxyz"
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789_.+- ") != strlen(n->str))
			r = -EINVAL, why = "must be letters, digits, "
					   "_ . + - and spaces";
		break;
	case DS_CHECK_LINE:
		if (strpbrk(n->str, "\r\n"))
			r = -EINVAL, why = "must be on one line";
		break;
	case DS_CHECK_NUMBER: {
		int64_t v;
		if (ds_number_parse(n->str, &v) < 0)
			r = -EINVAL, why = "must be a number, as 0x15e1 or "
					   "5601 (or -1: any)";
		break;
	}
	case DS_CHECK_USB_VERSION: {
		unsigned v;
		if (strcmp(n->str, "-1") &&
		    ds_usb_version_parse(n->str, &v) < 0)
			r = -EINVAL, why = "must be a USB version, as 2.0 or "
					   "1.10 (or -1: any)";
		break;
	}
	}
	if (r == -ENOMEM)
		ds_diags_add(w->d, n->mark, "out of memory");
	else if (r < 0)
		ds_diags_add(w->d, n->mark, "'%s' \"%s\" %s", w->path,
			     SHOWN(n->str), why);
	return r;
}

static int parse_bool(struct walker *w, struct ds_node *n)
{
	static const char *const t[] = {"true", "True", "TRUE", NULL};
	static const char *const f[] = {"false", "False", "FALSE", NULL};

	if (n->plain && ds_enum_index(t, n->str) >= 0)
		n->v.b = true;
	else if (n->plain && ds_enum_index(f, n->str) >= 0)
		n->v.b = false;
	else {
		ds_diags_add(w->d, n->mark,
			     "'%s' must be true or false, not \"%s\"", w->path,
			     SHOWN(n->str));
		return -EINVAL;
	}
	return 0;
}

/* A whole number; quoted digits are taken too, as tools often quote. */
static int parse_number(struct walker *w, struct ds_node *n,
			const struct ds_field *f)
{
	const char *s = n->str;
	char *end;
	int64_t v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || isspace((unsigned char)*s) || *s == '+') {
		ds_diags_add(w->d, n->mark,
			     "'%s' must be a whole number, not \"%s\"", w->path,
			     SHOWN(s));
		return -EINVAL;
	}
	if (errno == ERANGE || v < f->min || v > f->max) {
		ds_diags_add(w->d, n->mark,
			     "'%s' is %s; it must be from %" PRId64
			     " to %" PRId64,
			     w->path, SHOWN(s), f->min, f->max);
		return -EINVAL;
	}
	n->v.i = v;
	return 0;
}

static int parse_enum(struct walker *w, struct ds_node *n,
		      const struct ds_field *f)
{
	char list[512];
	int i = ds_enum_index(f->values, n->str);

	if (i >= 0) {
		n->v.u = i;
		return 0;
	}
	const char *hint = ds_suggest(n->str, f->values, SIZE_MAX);
	if (hint)
		ds_diags_add(w->d, n->mark,
			     "'%s' cannot be \"%s\"; did you mean \"%s\"?",
			     w->path, SHOWN(n->str), hint);
	else
		ds_diags_add(w->d, n->mark,
			     "'%s' cannot be \"%s\"; expected %s", w->path,
			     SHOWN(n->str),
			     ds_enum_list(f->values, list, sizeof(list)));
	return -EINVAL;
}

static int parse_size(struct walker *w, struct ds_node *n)
{
	const char *why;

	if (ds_size_parse(n->str, &n->v.u, &why) < 0) {
		ds_diags_add(w->d, n->mark, "'%s' \"%s\": %s", w->path,
			     SHOWN(n->str), why);
		return -EINVAL;
	}
	return 0;
}

static int walk(struct walker *w, struct ds_node **slot,
		const struct ds_field *f);

/* A scalar field: one value, checked and typed. */
static int walk_scalar(struct walker *w, struct ds_node **slot,
		       const struct ds_field *f)
{
	if ((*slot)->kind == DS_NODE_MAP && unwrap_value(w, slot) < 0) {
		(*slot)->bad = true; /* no ->str: the rules must skip it */
		return -EINVAL;
	}

	struct ds_node *n = *slot;
	n->field = f;
	if (n->kind != DS_NODE_SCALAR) {
		ds_diags_add(w->d, n->mark, "'%s' takes a single value, not %s",
			     w->path, kind_name(n));
		n->bad = true;
		return -EINVAL;
	}
	if (is_null(n)) {
		ds_diags_add(w->d, n->mark, "'%s' has no value", w->path);
		return -EINVAL;
	}
	switch (f->kind) {
	case DS_STR:
		return check_text(w, n, f);
	case DS_UINT:
	case DS_INT:
		return parse_number(w, n, f);
	case DS_BOOL:
	case DS_PRESENCE:
		return parse_bool(w, n);
	case DS_ENUM:
		return parse_enum(w, n, f);
	case DS_SIZE:
		return parse_size(w, n);
	default:
		return 0;
	}
}

static void report_unknown_key(struct walker *w, const struct ds_node *kid,
			       const struct ds_field *f)
{
	const char *keys[128];
	char list[1024];
	size_t n = 0;

	for (const struct ds_field *k = f->kids; k->key && n < 127; k++)
		keys[n++] = k->key;
	keys[n] = NULL;
	const char *hint = ds_suggest(kid->key, keys, n);
	if (hint)
		ds_diags_add(w->d, kid->key_mark,
			     "unknown key '%s'; did you mean '%s'?", kid->key,
			     hint);
	else if (*w->path)
		ds_diags_add(w->d, kid->key_mark,
			     "unknown key '%s' in '%s'; known keys: %s",
			     kid->key, w->path,
			     ds_enum_list(keys, list, sizeof(list)));
	else
		ds_diags_add(w->d, kid->key_mark,
			     "unknown key '%s'; known keys: %s", kid->key,
			     ds_enum_list(keys, list, sizeof(list)));
}

/* A list of names stands for each name set to true ("features: [acpi,
 * apic]"): the list becomes that mapping. */
static int names_to_map(struct walker *w, struct ds_node *n)
{
	for (size_t i = 0; i < n->n_kids; i++) {
		struct ds_node *k = n->kids[i];
		if (k->kind != DS_NODE_SCALAR || is_null(k) || !*k->str) {
			ds_diags_add(w->d, k->mark,
				     "'%s' given as a list holds names only",
				     w->path);
			n->bad = true;
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(n->kids[j]->str, k->str)) {
				ds_diags_add(w->d, k->mark,
					     "'%s' lists \"%s\" twice", w->path,
					     SHOWN(k->str));
				n->bad = true;
				return -EINVAL;
			}
		}
	}
	for (size_t i = 0; i < n->n_kids; i++) {
		struct ds_node *k = n->kids[i];
		k->key = k->str;
		k->key_mark = k->mark;
		if (!(k->str = strdup("true")))
			return -ENOMEM;
		k->plain = true;
	}
	n->kind = DS_NODE_MAP;
	return 0;
}

/* An older key (disks for disk) takes its field's key. */
static int rename_alias(struct walker *w, struct ds_node *n,
			const struct ds_field *f, struct ds_node *kid)
{
	for (const struct ds_field *k = f->kids; k->key; k++) {
		if (!k->alias || strcmp(k->alias, kid->key))
			continue;
		if (ds_node_get(n, k->key)) {
			ds_diags_add(w->d, kid->key_mark,
				     "'%s' is the older name of '%s', which is "
				     "given too",
				     kid->key, k->key);
			return -EINVAL;
		}
		char *key = strdup(k->key);
		if (!key)
			return -ENOMEM;
		free(kid->key);
		kid->key = key;
		return 1;
	}
	return 0;
}

/* true and false for an element that may be empty: the empty element
 * (an empty mapping), and none (the caller drops the key). */
static bool bare_bool(struct ds_node *n, bool *value)
{
	if (n->kind != DS_NODE_SCALAR || !n->plain)
		return false;
	static const char *const t[] = {"true", "True", "TRUE", NULL};
	static const char *const f[] = {"false", "False", "FALSE", NULL};

	if (ds_enum_index(t, n->str) >= 0 || ds_enum_index(f, n->str) >= 0) {
		*value = ds_enum_index(t, n->str) >= 0;
		return true;
	}
	return false;
}

static int walk_map(struct walker *w, struct ds_node **slot,
		    const struct ds_field *f)
{
	const struct ds_field *sf =
	    f->shorthand ? ds_field_kid(f, f->shorthand) : NULL;
	bool present;
	int r = 0;

	if (f->empty_ok && !f->shorthand && bare_bool(*slot, &present) &&
	    present) {
		free((*slot)->str);
		(*slot)->str = NULL;
		(*slot)->kind = DS_NODE_MAP;
	}
	if ((*slot)->kind == DS_NODE_SCALAR && !sf && !is_null(*slot) &&
	    ds_field_kid(f, (*slot)->str)) {
		/* one name: a list of one ("features: acpi") */
		struct ds_node *one = *slot;
		struct ds_node *seq = ds_node_new(DS_NODE_SEQ, one->mark);
		if (!seq || ds_node_append(seq, one) < 0) {
			ds_node_free(seq);
			return -ENOMEM;
		}
		seq->key = take_ptr(one->key);
		seq->key_mark = one->key_mark;
		*slot = seq;
	}
	if ((*slot)->kind == DS_NODE_SEQ && !sf) {
		r = names_to_map(w, *slot);
		if (r < 0)
			return r;
	}
	/* what a bare value stands for keeps the name of its mapping in
	 * messages: 'memory', not 'memory.value' */
	bool wrapped =
	    f->shorthand &&
	    (((*slot)->kind == DS_NODE_SCALAR && !is_null(*slot)) ||
	     ((*slot)->kind == DS_NODE_SEQ && sf && sf->kind == DS_LIST));
	if (wrapped && wrap_scalar(slot, f->shorthand) < 0) {
		ds_diags_add(w->d, (*slot)->mark, "out of memory");
		return -ENOMEM;
	}
	struct ds_node *n = *slot;
	n->field = f;
	if (n->kind != DS_NODE_MAP) {
		if (is_null(n))
			ds_diags_add(w->d, n->mark, "'%s' has no value",
				     w->path);
		else
			ds_diags_add(w->d, n->mark,
				     "'%s' must be a mapping, not %s", w->path,
				     kind_name(n));
		n->bad = true;
		return -EINVAL;
	}
	for (size_t i = 0; i < n->n_kids; i++) {
		const struct ds_field *kf = ds_field_kid(f, n->kids[i]->key);
		if (!kf) {
			int a = rename_alias(w, n, f, n->kids[i]);
			if (a < 0)
				return a == -ENOMEM ? -ENOMEM : -EINVAL;
			kf = a ? ds_field_kid(f, n->kids[i]->key) : NULL;
		}
		if (!kf) {
			report_unknown_key(w, n->kids[i], f);
			r = -EINVAL;
			continue;
		}
		if ((kf->kind == DS_MAP && kf->empty_ok && !kf->shorthand &&
		     bare_bool(n->kids[i], &present) && !present) ||
		    (kf->kind == DS_MAP && n->kids[i]->kind == DS_NODE_SEQ &&
		     !n->kids[i]->n_kids)) {
			/* false, or no names: the element left out */
			ds_node_free(n->kids[i]);
			memmove(&n->kids[i], &n->kids[i + 1],
				(n->n_kids - i - 1) * sizeof(*n->kids));
			n->n_kids--;
			i--;
			continue;
		}
		size_t len =
		    wrapped ? strlen(w->path) : path_push(w, kf->key, 0);
		if (walk(w, &n->kids[i], kf) < 0)
			r = -EINVAL;
		w->path[len] = 0;
	}
	for (const struct ds_field *k = f->kids; k->key; k++) {
		if (k->required && !ds_node_get(n, k->key)) {
			size_t len = path_push(w, k->key, 0);
			ds_diags_add(w->d, n->mark, "'%s' is required",
				     w->path);
			w->path[len] = 0;
			r = -EINVAL;
		}
	}
	return r;
}

/* Makes a single value stand for a list of one, then walks each item. */
static int walk_list(struct walker *w, struct ds_node **slot,
		     const struct ds_field *f, const struct ds_field *item)
{
	int r = 0;

	if ((*slot)->kind != DS_NODE_SEQ && !is_null(*slot)) {
		struct ds_node *one = *slot;
		struct ds_node *seq = ds_node_new(DS_NODE_SEQ, one->mark);
		if (!seq || ds_node_append(seq, one) < 0) {
			ds_node_free(seq);
			ds_diags_add(w->d, one->mark, "out of memory");
			return -ENOMEM;
		}
		seq->key = take_ptr(one->key);
		seq->key_mark = one->key_mark;
		*slot = seq;
	}
	struct ds_node *n = *slot;
	n->field = f;
	if (n->kind != DS_NODE_SEQ) {
		ds_diags_add(w->d, n->mark, "'%s' has no value", w->path);
		return -EINVAL;
	}
	for (size_t i = 0; i < n->n_kids; i++) {
		size_t len = path_push(w, NULL, i);
		if (walk(w, &n->kids[i], item) < 0)
			r = -EINVAL;
		w->path[len] = 0;
	}
	return r;
}

static int check_flags_unique(struct walker *w, const struct ds_node *n)
{
	for (size_t i = 0; i < n->n_kids; i++) {
		for (size_t j = 0; j < i; j++) {
			if (n->kids[i]->field && n->kids[j]->field &&
			    n->kids[i]->v.u == n->kids[j]->v.u) {
				ds_diags_add(w->d, n->kids[i]->mark,
					     "'%s' lists \"%s\" twice", w->path,
					     n->kids[i]->str);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* Elements by namespace (metadata): each value one element of the
 * namespace that is its key, or '' for none. */
static int walk_xml_ns(struct walker *w, struct ds_node *n,
		       const struct ds_field *f)
{
	char why[512];
	int r = 0;

	n->field = f;
	if (n->kind != DS_NODE_MAP) {
		ds_diags_add(w->d, n->mark,
			     is_null(n) ? "'%s' has no value"
					: "'%s' must be a mapping of namespace "
					  "URIs to XML elements",
			     w->path);
		n->bad = true;
		return -EINVAL;
	}
	for (size_t i = 0; i < n->n_kids; i++) {
		struct ds_node *k = n->kids[i];
		xmlDocPtr doc = NULL;
		int e;
		k->field = f;
		if (k->kind != DS_NODE_SCALAR || is_null(k)) {
			ds_diags_add(
			    w->d, k->mark,
			    "'%s' \"%s\" takes an XML element as text, "
			    "or '' for none",
			    w->path, SHOWN(k->key));
			k->bad = true;
			r = -EINVAL;
			continue;
		}
		if (!strcmp(k->key, DS_AGENT_NS)) {
			ds_diags_add(w->d, k->key_mark,
				     "'%s' cannot name %s: virt-reconcile "
				     "keeps its own mark there",
				     w->path, DS_AGENT_NS);
			k->bad = true;
			r = -EINVAL;
			continue;
		}
		if (!*k->str)
			continue; /* none of that namespace */
		e = ds_metadata_read(k->str, k->key, &doc, why, sizeof(why));
		xmlFreeDoc(doc);
		if (e == -ENOMEM)
			return -ENOMEM;
		if (e < 0) {
			ds_diags_add(w->d, k->mark, "'%s' \"%s\" %s", w->path,
				     SHOWN(k->key), why);
			k->bad = true;
			r = -EINVAL;
		}
	}
	return r;
}

static int walk_one(struct walker *w, struct ds_node **slot,
		    const struct ds_field *f);

/* Walks one node; a value that fails, or a mapping or list of the wrong
 * shape, is marked bad, so that the rules between fields can still check
 * the rest of the file. */
static int walk(struct walker *w, struct ds_node **slot,
		const struct ds_field *f)
{
	int r = walk_one(w, slot, f);

	if (r < 0 && (*slot)->kind == DS_NODE_SCALAR)
		(*slot)->bad = true;
	return r;
}

static int walk_one(struct walker *w, struct ds_node **slot,
		    const struct ds_field *f)
{
	static const struct ds_field xml_item = {.key = "", .kind = DS_STR};

	switch (f->kind) {
	case DS_MAP:
		return walk_map(w, slot, f);
	case DS_LIST:
		return walk_list(w, slot, f, &f->kids[0]);
	case DS_FLAGS: {
		const struct ds_field item = {
		    .key = f->key, .kind = DS_ENUM, .values = f->values};
		if (walk_list(w, slot, f, &item) < 0)
			return -EINVAL;
		/* item lives on this stack frame: point items at f instead */
		for (size_t i = 0; i < (*slot)->n_kids; i++)
			(*slot)->kids[i]->field = f;
		return check_flags_unique(w, *slot);
	}
	case DS_XML_NS:
		return walk_xml_ns(w, *slot, f);
	case DS_XML:
		if (walk_list(w, slot, f, &xml_item) < 0)
			return -EINVAL;
		for (size_t i = 0; i < (*slot)->n_kids; i++)
			(*slot)->kids[i]->field = f;
		return 0;
	default:
		return walk_scalar(w, slot, f);
	}
}

int ds_parse_tree(struct ds_node **root, struct ds_diags *d)
{
	return ds_parse_tree_as(root, &ds_schema_domain, d);
}

int ds_parse_tree_as(struct ds_node **root, const struct ds_field *format,
		     struct ds_diags *d)
{
	struct walker w = {.d = d};

	return walk(&w, root, format);
}
