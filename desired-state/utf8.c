#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t ds_utf8_char(const unsigned char *s, size_t len, unsigned *ret_cp)
{
	static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t n = s[0] < 0x80       ? 1
		   : s[0] >> 5 == 6  ? 2
		   : s[0] >> 4 == 14 ? 3
		   : s[0] >> 3 == 30 ? 4
				     : 0;
	unsigned cp = n == 1 ? s[0] : s[0] & (0x7f >> n);

	if (!n || n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return n;
}

bool ds_utf8_control(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
}

const char *ds_name_problem(const char *name)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t len = strlen(name), n;
	unsigned cp;

	for (size_t i = 0; i < len; i += n) {
		n = ds_utf8_char(s + i, len - i, &cp);
		if (!n)
			return "is not valid UTF-8";
		if (ds_utf8_control(cp))
			return "holds a control character";
	}
	return NULL;
}

char *ds_escape_name(const char *name)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t len = strlen(name), o = 0, n;
	char *out = malloc(4 * len + 1); /* at most \xNN for each byte */
	unsigned cp;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += n) {
		n = ds_utf8_char(s + i, len - i, &cp);
		if (n && !ds_utf8_control(cp)) {
			memcpy(out + o, s + i, n);
			o += n;
			continue;
		}
		for (size_t k = 0; k < (n ? n : 1); k++)
			o += sprintf(out + o, "\\x%02x", s[i + k]);
		n = n ? n : 1;
	}
	out[o] = 0;
	return out;
}
