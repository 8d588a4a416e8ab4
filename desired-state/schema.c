#include "schema.h"

#include <stdio.h>
#include <string.h>

const struct ds_field *ds_field_kid(const struct ds_field *map, const char *key)
{
	for (const struct ds_field *f = map->kids; f && f->key; f++)
		if (!strcmp(f->key, key))
			return f;
	return NULL;
}

const char *ds_ns_uri(const char *prefix, size_t len)
{
	for (const struct ds_ns *n = ds_schema_ns; n->prefix; n++)
		if (!strncmp(n->prefix, prefix, len) && !n->prefix[len])
			return n->uri;
	return NULL;
}

const char *ds_ns_prefix(const char *uri)
{
	for (const struct ds_ns *n = ds_schema_ns; n->prefix; n++)
		if (!strcmp(n->uri, uri))
			return n->prefix;
	return NULL;
}

int ds_enum_index(const char *const *values, const char *s)
{
	for (int i = 0; values[i]; i++)
		if (!strcmp(values[i], s))
			return i;
	return -1;
}

/* Optimal string alignment distance: a swap of two letters counts once. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[3][33]; /* rows i-2, i-1, i over b; longer words don't match */

	if (la > 32 || lb > 32)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *cur = d[i % 3], *prev = d[(i - 1) % 3],
		       *prev2 = d[(i + 1) % 3];
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = prev[j - 1] + cost;
			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
		}
	}
	return d[la % 3][lb];
}

const char *ds_suggest(const char *s, const char *const *cands, size_t n)
{
	size_t len = strlen(s), best = len >= 6 ? 3 : 2;
	const char *pick = NULL;

	for (size_t i = 0; i < n && cands[i]; i++) {
		size_t d = edit_distance(s, cands[i]);
		if (strcasecmp(s, cands[i]) == 0)
			d = 0;
		if (d < best && d < len) {
			best = d;
			pick = cands[i];
		}
	}
	return pick;
}

char *ds_enum_list(const char *const *values, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; values[i] && off < len; i++) {
		const char *sep = i == 0 ? "" : values[i + 1] ? ", " : " or ";
		off += snprintf(buf + off, len - off, "%s%s", sep, values[i]);
	}
	return buf;
}
