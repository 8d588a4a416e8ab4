/* Sizes in libvirt's units, kept in KiB (libvirt's default unit). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest size accepted, in KiB (libvirt keeps memory in bytes in a
 * signed 64-bit number). */
#define DS_SIZE_MAX_KIB ((uint64_t)INT64_MAX / 1024)

/* Parses "<number>" (KiB) or "<number> <unit>" with libvirt's units,
 * rounding bytes up to whole KiB as libvirt does. On failure returns -EINVAL
 * and points *ret_err at a static explanation. */
int ds_size_parse(const char *s, uint64_t *ret_kib, const char **ret_err);

/* Writes the size in the largest binary unit that divides it exactly
 * ("512 MiB", "1524288 KiB") into buf. Returns buf. */
char *ds_size_format(uint64_t kib, char *buf, size_t len);

/* Whether libvirt's size have (KiB) is the file's want: the same, or want
 * rounded up to a whole MiB, as QEMU's driver rounds memory sizes. */
bool ds_size_equal(uint64_t want, uint64_t have);

#define DS_SIZE_BUFLEN 32
