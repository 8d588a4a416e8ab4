#include "diag.h"

#include <errno.h>
#include <libxml/xmlstring.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

int ds_diags_init(struct ds_diags *d, const char *path)
{
	*d = (struct ds_diags){0};
	d->path = strdup(path);
	return d->path ? 0 : -ENOMEM;
}

void ds_diags_finish(struct ds_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->items[i].msg);
	free(d->items);
	free(d->text);
	free(d->path);
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
	d->items[d->n++] =
	    (struct ds_diag){.mark = mark, .seq = d->n, .msg = msg};
}

void ds_diags_add(struct ds_diags *d, struct ds_mark mark, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ds_diags_addv(d, mark, fmt, ap);
	va_end(ap);
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

/* Finds line number `line` (1-based) in text; returns its start and length. */
static const char *find_line(const struct ds_diags *d, unsigned line,
			     size_t *ret_len)
{
	const char *p = d->text, *end = d->text + d->text_len;

	if (!p || line == 0)
		return NULL;
	for (unsigned l = 1; l < line; l++) {
		p = memchr(p, '\n', end - p);
		if (!p)
			return NULL;
		p++;
	}
	const char *nl = memchr(p, '\n', end - p);
	*ret_len = (nl ? nl : end) - p;
	return p;
}

/* Shows the line with a caret, control bytes replaced so that a hostile file
 * cannot drive the terminal. */
static void print_excerpt(const struct ds_diags *d, const struct ds_diag *g,
			  FILE *out)
{
	size_t len = 0;
	const char *line = find_line(d, g->mark.line, &len);

	if (!line)
		return;
	if (len > 200)
		len = 200;
	if (len && line[len - 1] == '\r')
		len--;
	fprintf(out, "%5u | ", g->mark.line);
	for (size_t i = 0; i < len;) {
		int n = len - i;
		int c = xmlGetUTF8Char((const unsigned char *)line + i, &n);
		if (c < 0 || (c < 0x20 && c != '\t') || c == 0x7f) {
			fputc('?', out);
			i++;
		} else {
			fwrite(line + i, 1, n, out);
			i += n;
		}
	}
	fputs("\n      | ", out);
	for (unsigned i = 1; i < g->mark.col && i <= len; i++)
		fputc(line[i - 1] == '\t' ? '\t' : ' ', out);
	fputs("^\n", out);
}

void ds_diags_print(struct ds_diags *d, FILE *out, const char *prog)
{
	qsort(d->items, d->n, sizeof(*d->items), diag_cmp);
	for (size_t i = 0; i < d->n; i++) {
		const struct ds_diag *g = &d->items[i];
		if (g->mark.line)
			fprintf(out, "%s: %s:%u:%u: %s\n", prog, d->path,
				g->mark.line, g->mark.col, g->msg);
		else
			fprintf(out, "%s: %s: %s\n", prog, d->path, g->msg);
		print_excerpt(d, g, out);
	}
	if (d->oom)
		fprintf(out, "%s: %s: out of memory while reporting problems\n",
			prog, d->path);
}
