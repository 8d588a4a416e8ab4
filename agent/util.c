/* Allocation for the agent: it aborts when memory runs out rather than
 * carry recovery paths that no test runs (libvirt and GLib chose the
 * same). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

static void *must(void *p)
{
	if (!p) {
		ag_log(LOG_CRIT, "out of memory");
		abort();
	}
	return p;
}

void *ag_xcalloc(size_t n, size_t size)
{
	return must(calloc(n ? n : 1, size ? size : 1));
}

void *ag_xreallocarray(void *p, size_t n, size_t size)
{
	return must(reallocarray(p, n ? n : 1, size ? size : 1));
}

char *ag_xstrdup(const char *s)
{
	return must(strdup(s));
}

char *ag_xasprintf(const char *fmt, ...)
{
	char *s;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return must(r < 0 ? NULL : s);
}

void ag_set_str(char **slot, const char *s)
{
	char *n = s ? ag_xstrdup(s) : NULL;

	free(*slot);
	*slot = n;
}
