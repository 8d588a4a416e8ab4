#include "diag.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "utf8.h"

int ds_diags_init(struct ds_diags *d, const char *path)
{
	*d = (struct ds_diags){0};
	d->path = strdup(path);
	d->shown = ds_escape_name(path);
	if (!d->path || !d->shown) {
		ds_diags_finish(d);
		return -ENOMEM;
	}
	return 0;
}

void ds_diags_finish(struct ds_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->items[i].msg);
	free(d->items);
	free(d->text);
	free(d->path);
	free(d->shown);
	*d = (struct ds_diags){0};
}

void ds_diags_set_text(struct ds_diags *d, char *text, size_t len)
{
	free(d->text);
	d->text = text;
	d->text_len = len;
}

void ds_diags_addv(struct ds_diags *d, struct ds_mark mark, const char *fmt,
		   va_list ap)
{
	char *msg = NULL;

	if (d->n >= DS_MAX_DIAGS) {
		d->dropped++; /* a hostile file must not flood the log */
		return;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct ds_diag *items =
		    reallocarray(d->items, cap, sizeof(*items));
		if (!items) {
			d->oom = 1;
			return;
		}
		d->items = items;
		d->cap = cap;
	}
	if (vasprintf(&msg, fmt, ap) < 0) {
		d->oom = 1;
		return;
	}
	d->items[d->n] =
	    (struct ds_diag){.mark = mark, .seq = d->n, .msg = msg};
	d->n++;
}

void ds_diags_add(struct ds_diags *d, struct ds_mark mark, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ds_diags_addv(d, mark, fmt, ap);
	va_end(ap);
}

void ds_diags_add_dropped(struct ds_diags *d, struct ds_mark mark,
			  const char *fmt, ...)
{
	size_t had = d->n;
	va_list ap;

	va_start(ap, fmt);
	ds_diags_addv(d, mark, fmt, ap);
	va_end(ap);
	if (d->n > had)
		d->items[had].dropped = true;
}

static int diag_cmp(const void *a, const void *b)
{
	const struct ds_diag *x = a, *y = b;

	if (x->mark.line != y->mark.line)
		return x->mark.line < y->mark.line ? -1 : 1;
	if (x->mark.col != y->mark.col)
		return x->mark.col < y->mark.col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct cursor {
	const char *p; /* the start of line number `line`, or NULL */
	unsigned line;
};

/* Finds line number `line` (1-based) in text; returns its start and length.
 * Goes on from *cur, so that lines asked for in order (the printer sorts
 * the problems by line) cost one pass over the text in all, not one per
 * problem. */
static const char *find_line(const struct ds_diags *d, struct cursor *cur,
			     unsigned line, size_t *ret_len)
{
	const char *end = d->text + d->text_len;

	if (!d->text || line == 0)
		return NULL;
	if (!cur->p || line < cur->line)
		*cur = (struct cursor){d->text, 1};
	while (cur->line < line) {
		const char *nl = memchr(cur->p, '\n', end - cur->p);
		if (!nl)
			return NULL;
		cur->p = nl + 1;
		cur->line++;
	}
	const char *nl = memchr(cur->p, '\n', end - cur->p);
	*ret_len = (nl ? nl : end) - cur->p;
	return cur->p;
}

const char *ds_diags_line(const struct ds_diags *d, unsigned line,
			  size_t *ret_len)
{
	struct cursor cur = {0};

	return find_line(d, &cur, line, ret_len);
}

/* Shows the line with a caret under the column (libyaml counts columns in
 * characters). Control characters (C0, DEL, C1) and bytes that are not
 * UTF-8 become '?', so that a hostile file cannot drive the terminal. */
static void print_excerpt(const struct ds_diags *d, const struct ds_diag *g,
			  struct cursor *cur, FILE *out)
{
	size_t len = 0, n;
	const char *line = find_line(d, cur, g->mark.line, &len);
	const unsigned char *u = (const unsigned char *)line;
	unsigned cp, col = 1;
	char caret[256];
	size_t clen = 0;

	if (!line || !d->text_len)
		return; /* an empty file has nothing to show */
	if (len > 200)
		len = 200;
	if (len && line[len - 1] == '\r')
		len--;
	fprintf(out, "%5u | ", g->mark.line);
	for (size_t i = 0; i < len; i += n ? n : 1, col++) {
		n = ds_utf8_char(u + i, len - i, &cp);
		if (!n || (ds_utf8_control(cp) && cp != '\t'))
			fputc('?', out);
		else
			fwrite(line + i, 1, n, out);
		if (col < g->mark.col && clen < sizeof(caret) - 1)
			caret[clen++] = n && cp == '\t' ? '\t' : ' ';
	}
	caret[clen] = 0;
	fprintf(out, "\n      | %s^\n", caret);
}

/* Writes s with control bytes replaced, so that one problem is one line. */
static void put_clean(const char *s, FILE *out)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

/* Writes where a problem is: "FILE:LINE:COL: ", or "FILE: " for the
 * file as a whole. */
static void put_place(const struct ds_diags *d, const struct ds_diag *g,
		      FILE *out)
{
	if (g->mark.line)
		fprintf(out, "%s:%u:%u: ", d->shown, g->mark.line, g->mark.col);
	else
		fprintf(out, "%s: ", d->shown);
}

void ds_diags_print(struct ds_diags *d, FILE *out, const char *prog)
{
	struct cursor cur = {NULL, 0};

	if (d->n)
		qsort(d->items, d->n, sizeof(*d->items), diag_cmp);
	for (size_t i = 0; i < d->n; i++) {
		const struct ds_diag *g = &d->items[i];
		fprintf(out, "%s: ", prog);
		put_place(d, g, out);
		put_clean(g->msg, out);
		fputc('\n', out);
		print_excerpt(d, g, &cur, out);
	}
	if (d->dropped)
		fprintf(out, "%s: %s: and %zu more problems\n", prog, d->shown,
			d->dropped);
	if (d->oom)
		fprintf(out, "%s: %s: out of memory while reporting problems\n",
			prog, d->shown);
}

char *ds_diags_first(const struct ds_diags *d)
{
	const struct ds_diag *g = d->n ? &d->items[0] : NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	for (size_t i = 1; i < d->n; i++)
		if (diag_cmp(&d->items[i], g) < 0)
			g = &d->items[i];
	out = open_memstream(&buf, &len);
	if (!out)
		return NULL;
	if (g) {
		put_place(d, g, out);
		put_clean(g->msg, out);
	} else {
		fprintf(out, "%s: the file has problems", d->shown);
	}
	if (d->n > 1 || d->dropped)
		fputs(" (and more)", out);
	if (fclose(out) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

struct ds_mark ds_mark_at(const char *text, size_t len, size_t off)
{
	struct ds_mark m = {1, 1};

	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			m.line++;
			m.col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			m.col++; /* columns count characters, as libyaml's */
		}
	}
	return m;
}

/* A value as it may appear in a message: at most 60 bytes, control bytes
 * escaped, so that one problem stays on one line and a hostile file cannot
 * drive the terminal. Writes into buf. */
const char *ds_shown(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s && o + 8 < len && o < 60; s++) {
		unsigned char c = *s;
		if (c == '\n')
			o += snprintf(buf + o, len - o, "\\n");
		else if (c == '\t')
			o += snprintf(buf + o, len - o, "\\t");
		else if (c < 0x20 || c == 0x7f)
			o += snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = c;
	}
	if (*s)
		o += snprintf(buf + o, len - o, "…");
	buf[o] = 0;
	return buf;
}
