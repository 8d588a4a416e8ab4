/* CPU sets in libvirt's syntax ("1-4,^3,6"), parsed to a bitmap so that two
 * spellings of the same set compare equal ("1-2,4,6"). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* libvirt's limit on CPU numbers in a domain's cpuset. */
#define DS_CPUSET_MAX 16384

struct ds_cpuset {
	uint64_t bits[DS_CPUSET_MAX / 64];
};

/* Parses s into *ret. On failure returns -EINVAL and writes an explanation
 * into err (a buffer of errlen bytes). */
int ds_cpuset_parse(const char *s, struct ds_cpuset *ret, char *err,
		    size_t errlen);

/* The highest CPU in the set, or -1 when it is empty. */
int ds_cpuset_last(const struct ds_cpuset *set);
size_t ds_cpuset_count(const struct ds_cpuset *set);
bool ds_cpuset_has(const struct ds_cpuset *set, unsigned cpu);
bool ds_cpuset_equal(const struct ds_cpuset *a, const struct ds_cpuset *b);

/* Formats the set in libvirt's canonical form ("1-2,4,6"); returns a new
 * string owned by the caller, or NULL when out of memory. */
char *ds_cpuset_format(const struct ds_cpuset *set);
