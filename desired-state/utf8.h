/* UTF-8 where the program meets it outside the YAML text: file names, and
 * the bytes it shows. Decoded strictly (RFC 3629); what is not valid or
 * not printable is escaped, never passed on raw. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The length of the well-formed UTF-8 character at s (at most len bytes),
 * with its code point in *ret_cp; or 0 when the bytes are not one:
 * overlong forms, surrogates and code points past U+10FFFF are refused. */
size_t ds_utf8_char(const unsigned char *s, size_t len, unsigned *ret_cp);

/* Whether code point cp is a control character: C0, DEL or C1. */
bool ds_utf8_control(unsigned cp);

/* Why a file name cannot be a desired-state file's: NULL when it is valid
 * UTF-8 without control characters, else what is wrong with it. The name
 * goes into libvirt's XML (the domain's mark) and the status file, which
 * need valid UTF-8, and into line-based output. */
const char *ds_name_problem(const char *name);

/* A file name or path as it may be shown: each byte of what is not valid
 * UTF-8, and of each control character, as \xNN; everything else as it
 * is (so a valid name shows unchanged). Returns a string owned by the
 * caller, or NULL when out of memory. */
char *ds_escape_name(const char *name);
