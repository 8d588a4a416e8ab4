#include "cpuset.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_bit(struct ds_cpuset *s, unsigned i, bool on)
{
	if (on)
		s->bits[i / 64] |= UINT64_C(1) << (i % 64);
	else
		s->bits[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

bool ds_cpuset_has(const struct ds_cpuset *s, unsigned i)
{
	return i < DS_CPUSET_MAX && (s->bits[i / 64] >> (i % 64)) & 1;
}

/* Reads one CPU number at *p, advancing it. */
static int read_cpu(const char **p, unsigned *ret, char *err, size_t errlen)
{
	unsigned long v;
	char *end;

	while (isspace((unsigned char)**p))
		(*p)++;
	if (!isdigit((unsigned char)**p)) {
		snprintf(err, errlen, "expected a CPU number at \"%.20s\"", *p);
		return -EINVAL;
	}
	errno = 0;
	v = strtoul(*p, &end, 10);
	if (errno || v >= DS_CPUSET_MAX) {
		snprintf(err, errlen, "CPU number %.*s is over the limit of %d",
			 (int)(end - *p > 20 ? 20 : end - *p), *p,
			 DS_CPUSET_MAX - 1);
		return -EINVAL;
	}
	*p = end;
	while (isspace((unsigned char)**p))
		(*p)++;
	*ret = v;
	return 0;
}

/* Parses one item: "N", "N-M" or "^N". */
static int parse_item(const char **p, struct ds_cpuset *set, char *err,
		      size_t errlen)
{
	bool neg = false;
	unsigned a, b;

	while (isspace((unsigned char)**p))
		(*p)++;
	if (**p == '^') {
		neg = true;
		(*p)++;
	}
	if (read_cpu(p, &a, err, errlen) < 0)
		return -EINVAL;
	b = a;
	if (**p == '-' && !neg) {
		(*p)++;
		if (read_cpu(p, &b, err, errlen) < 0)
			return -EINVAL;
		if (b < a) {
			snprintf(err, errlen, "range %u-%u runs backwards", a,
				 b);
			return -EINVAL;
		}
	}
	for (unsigned i = a; i <= b; i++)
		set_bit(set, i, !neg);
	return 0;
}

int ds_cpuset_parse(const char *s, struct ds_cpuset *ret, char *err,
		    size_t errlen)
{
	struct ds_cpuset set = {{0}};
	const char *p = s;

	for (;;) {
		if (parse_item(&p, &set, err, errlen) < 0)
			return -EINVAL;
		if (!*p)
			break;
		if (*p != ',') {
			snprintf(err, errlen,
				 "unexpected \"%.20s\"; write CPUs as "
				 "\"1-4,^3,6\"",
				 p);
			return -EINVAL;
		}
		p++;
	}
	if (ds_cpuset_last(&set) < 0) {
		snprintf(err, errlen, "selects no CPU");
		return -EINVAL;
	}
	*ret = set;
	return 0;
}

int ds_cpuset_last(const struct ds_cpuset *s)
{
	for (int w = DS_CPUSET_MAX / 64 - 1; w >= 0; w--)
		if (s->bits[w])
			return w * 64 + 63 - __builtin_clzll(s->bits[w]);
	return -1;
}

size_t ds_cpuset_count(const struct ds_cpuset *s)
{
	size_t n = 0;

	for (size_t w = 0; w < DS_CPUSET_MAX / 64; w++)
		n += __builtin_popcountll(s->bits[w]);
	return n;
}

bool ds_cpuset_equal(const struct ds_cpuset *a, const struct ds_cpuset *b)
{
	return !memcmp(a->bits, b->bits, sizeof(a->bits));
}

char *ds_cpuset_format(const struct ds_cpuset *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int last = ds_cpuset_last(s);
	const char *sep = "";

	if (!f)
		return NULL;
	for (int i = 0; i <= last; i++) {
		if (!ds_cpuset_has(s, i))
			continue;
		int j = i;
		while (j + 1 <= last && ds_cpuset_has(s, j + 1))
			j++;
		if (j > i)
			fprintf(f, "%s%d-%d", sep, i, j);
		else
			fprintf(f, "%s%d", sep, i);
		sep = ",";
		i = j;
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
