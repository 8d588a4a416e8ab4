/* Sizes in libvirt's units, kept in KiB (libvirt's default unit), and
 * other numbers as libvirt spells them. */
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

/* The scale of a unit as libvirt reads it (virScaleInteger): "" and
 * "KiB" are 1024, "b"/"bytes" 1, "M" and "MiB" 1024², "MB" 1000², … (any
 * case). Returns 0, or -EINVAL for a unit libvirt does not know. */
int ds_unit_scale(const char *unit, uint64_t *ret_scale);

/* Parses a number as libvirt reads one with base 0 (virStrToLong_*: 0x
 * for hexadecimal, a leading 0 for octal, else decimal; "-1" too): the
 * whole of s. Returns 0, or -EINVAL. */
int ds_number_parse(const char *s, int64_t *ret);

/* Parses a USB version "MAJOR.MINOR" (each 0 to 99) as libvirt does
 * (virDomainRedirFilterUSBVersionHelper): one digit after the point is
 * tens, "9.4" is 9.40, as libvirt writes it back. Returns the version as
 * MAJOR * 100 + MINOR, or -EINVAL. */
int ds_usb_version_parse(const char *s, unsigned *ret);
