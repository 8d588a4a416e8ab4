#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char units_hint[] =
    "unknown unit; use b, KB, k or KiB, MB, M or MiB, GB, G or GiB, TB, "
    "T or TiB";

/* The scale of a unit as libvirt reads it: the first letter picks the power,
 * a following "iB" or nothing means 1024, "B" means 1000. */
int ds_unit_scale(const char *u, uint64_t *ret_scale)
{
	static const char powers[] = "kmgtpe";
	const char *p;
	uint64_t base, scale = 1;

	if (!*u || !strcasecmp(u, "KiB")) {
		*ret_scale = 1024;
		return 0;
	}
	if (!strcasecmp(u, "b") || !strcasecmp(u, "byte") ||
	    !strcasecmp(u, "bytes")) {
		*ret_scale = 1;
		return 0;
	}
	p = strchr(powers, tolower((unsigned char)u[0]));
	if (!p || !*p)
		return -EINVAL;
	if (!u[1] || !strcasecmp(u + 1, "iB"))
		base = 1024;
	else if ((u[1] == 'b' || u[1] == 'B') && !u[2])
		base = 1000;
	else
		return -EINVAL;
	for (const char *q = powers; q <= p; q++)
		scale *= base;
	*ret_scale = scale;
	return 0;
}

int ds_size_parse(const char *s, uint64_t *ret_kib, const char **ret_err)
{
	uint64_t n, scale, bytes_hi;
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s)) {
		*ret_err = "expected a size: a whole number of KiB or a string "
			   "such as \"512 MiB\"";
		return -EINVAL;
	}
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno == ERANGE) {
		*ret_err = "size is too large";
		return -EINVAL;
	}
	if (*end == '.') {
		*ret_err = "size must be a whole number; use a smaller unit";
		return -EINVAL;
	}
	while (isspace((unsigned char)*end))
		end++;
	size_t ulen = strlen(end);
	while (ulen && isspace((unsigned char)end[ulen - 1]))
		ulen--;
	char unit[8] = "";
	if (ulen >= sizeof(unit) || (memcpy(unit, end, ulen), unit[ulen] = 0,
				     ds_unit_scale(unit, &scale))) {
		*ret_err = units_hint;
		return -EINVAL;
	}
	/* n * scale / 1024, rounded up, without overflowing. */
	if (__builtin_mul_overflow(n, scale, &bytes_hi) ||
	    bytes_hi / 1024 + (bytes_hi % 1024 != 0) > DS_SIZE_MAX_KIB) {
		*ret_err = "size is too large";
		return -EINVAL;
	}
	*ret_kib = bytes_hi / 1024 + (bytes_hi % 1024 != 0);
	return 0;
}

char *ds_size_format(uint64_t kib, char *buf, size_t len)
{
	static const char *const names[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
	size_t i = 0;

	while (kib && kib % 1024 == 0 &&
	       i + 1 < sizeof(names) / sizeof(*names)) {
		kib /= 1024;
		i++;
	}
	snprintf(buf, len, "%" PRIu64 " %s", kib, names[i]);
	return buf;
}

bool ds_size_equal(uint64_t want, uint64_t have)
{
	return want == have ||
	       (have % 1024 == 0 && have == (want + 1023) / 1024 * 1024);
}

int ds_number_parse(const char *s, int64_t *ret)
{
	char *end;
	long long v;

	/* libvirt's numbers have no sign but -1's, nor spaces */
	if (!isdigit((unsigned char)*s) && strcmp(s, "-1"))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int ds_usb_version_parse(const char *s, unsigned *ret)
{
	size_t major = strspn(s, "0123456789");
	size_t minor;
	unsigned hi, lo;

	if (!major || major > 2 || s[major] != '.')
		return -EINVAL;
	minor = strspn(s + major + 1, "0123456789");
	if (!minor || minor > 2 || s[major + 1 + minor])
		return -EINVAL;
	hi = (unsigned)strtoul(s, NULL, 10);
	lo = (unsigned)strtoul(s + major + 1, NULL, 10);
	*ret = hi * 100 + (minor == 1 ? lo * 10 : lo);
	return 0;
}
