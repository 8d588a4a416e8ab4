/* The cloud-init NoCloud seed: a small ISO 9660 image labelled cidata,
 * which cloud-init in a guest finds by its label and reads its files from
 * (user-data, meta-data, network-config). libisofs builds it in memory:
 * no program runs and nothing is written to disk. The same files give the
 * same bytes, so that a seed changes only when its files do.
 *
 * Also the check of the files cloud-init reads as YAML, so that a file
 * with a YAML mistake is refused with its line and column here instead of
 * being ignored by cloud-init inside the guest. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* One file of a seed; everything is borrowed. */
struct ds_seed_file {
	const char *name; /* at the image's root: "user-data" */
	const char *data; /* len bytes, any content; NULL when len is 0 */
	size_t len;
};

/* Builds the seed image of the n files: ISO 9660 with Rock Ridge and
 * Joliet (each names the files as given), volume id "cidata", every
 * timestamp fixed, files read-only for all and owned by root. A name is
 * 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or
 * digit, so that it reads the same through every tree of the image, and
 * is given once. Safe to call from any thread. Returns 0 with the image
 * in *ret (owned by the caller, freed with free()) and its length, a
 * multiple of 2048; or -1 with a message, naming the file it is about,
 * in err. */
int ds_seed_iso(const struct ds_seed_file *files, size_t n, uint8_t **ret,
		size_t *ret_len, char *err, size_t errlen);

/* The MD5 of the files' names and contents, in the order given, each
 * length-prefixed so that no two lists of files share their input: 32
 * lowercase hex digits and a NUL in hex. Equal digests mean a seed built
 * from one list holds the other's files; a seed is rebuilt when its
 * digest changes. Aborts when out of memory (libisofs allocates the MD5
 * context): there is no digest to give then, and a wrong one would keep
 * a stale seed. */
void ds_seed_digest(const struct ds_seed_file *files, size_t n, char hex[33]);

/* Checks the seed file name (len bytes of data) where cloud-init reads it
 * as YAML, without interpreting it: meta-data and network-config must be
 * one YAML document whose top is a mapping, or empty; user-data and
 * vendor-data only when their first line is "#cloud-config" (scripts,
 * #include, MIME, jinja templates, boothooks and the rest are not YAML);
 * other names are not checked. Returns 0; or -1 with the problem's place
 * in data (1-based; line 0 when out of memory) in *line and *col, and
 * libyaml's description of it, or what is wrong with the top, in msg. */
int ds_cloudinit_check(const char *name, const char *data, size_t len,
		       unsigned *line, unsigned *col, char *msg, size_t msglen);
