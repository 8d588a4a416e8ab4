/* Fuzz target: a file's bytes through everything `validate` does without
 * libvirt, read the way every command reads a file: written to a file of a
 * directory of its own, then opened and read beneath that directory
 * (desired-state/dir.c, with the trust rule), YAML, the schema walk, the
 * rules, the volumes and the cloud-init seed (its parts that are files
 * beside it, their checks, and the seed image apply would upload),
 * rendering, and the printer.
 *
 * A line "#== NAME" ends the file's text: what follows it, up to the next
 * such line, is written as the file NAME beside it, for a cloudInit part
 * that names a file ({file: NAME}). The marker is a YAML comment, so that
 * an input with side files is still one YAML file. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "render.h"
#include "set.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SIDE 4    /* side files per input */
#define MAX_NAME 32   /* bytes of a side file's name */
#define MARKER "#== " /* at a line's start: a side file's name follows */

static char dir[] = "/tmp/vr-fuzz-parse-XXXXXX";
static char path[sizeof(dir) + 16];
static int dir_fd = -1;
static char side[MAX_SIDE][MAX_NAME + 1]; /* the side files written */
static size_t n_side;

static void remove_side(void)
{
	for (size_t i = 0; i < n_side; i++)
		unlinkat(dir_fd, side[i], 0);
	n_side = 0;
}

static void remove_dir(void)
{
	remove_side();
	unlink(path);
	rmdir(dir);
}

static bool write_all(int fd, const uint8_t *data, size_t size)
{
	for (size_t off = 0; off < size;) {
		ssize_t n = write(fd, data + off, size - off);
		if (n <= 0) {
			close(fd);
			return false;
		}
		off += n;
	}
	return close(fd) == 0;
}

/* The start of the next marker line at or after off, or size. */
static size_t next_marker(const uint8_t *data, size_t size, size_t off)
{
	const size_t m = sizeof(MARKER) - 1;

	for (size_t i = off; i + m <= size; i++)
		if ((i == 0 || data[i - 1] == '\n') &&
		    !memcmp(data + i, MARKER, m))
			return i;
	return size;
}

/* Whether name (len bytes) may be a side file: a plain name of the
 * directory that is not the input itself, given once. */
static bool side_name_ok(const uint8_t *name, size_t len)
{
	if (!len || len > MAX_NAME || name[0] == '.' ||
	    (len == 9 && !memcmp(name, "fuzz.yaml", 9)))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name[i] || name[i] == '/')
			return false;
	for (size_t i = 0; i < n_side; i++)
		if (strlen(side[i]) == len && !memcmp(side[i], name, len))
			return false;
	return true;
}

/* Writes the side files: each marker line's name, with the bytes up to the
 * next marker line. A name that is not fit is skipped, with its bytes. */
static bool write_side(const uint8_t *data, size_t size, size_t off)
{
	const size_t m = sizeof(MARKER) - 1;

	while (off < size) {
		const uint8_t *name = data + off + m;
		const uint8_t *eol = memchr(name, '\n', size - (off + m));
		size_t len = eol ? (size_t)(eol - name) : size - (off + m);
		size_t body = eol ? (size_t)(eol - data) + 1 : size;
		size_t end = next_marker(data, size, body);
		int fd;

		off = end;
		if (n_side == MAX_SIDE || !side_name_ok(name, len))
			continue;
		memcpy(side[n_side], name, len);
		side[n_side][len] = '\0';
		fd = openat(dir_fd, side[n_side++],
			    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || !write_all(fd, data + body, end - body))
			return false;
	}
	return true;
}

/* Writes the input as the file that is then read, and its side files;
 * false when it cannot (the run then says so and stops: the target would
 * test nothing). */
static bool write_input(const uint8_t *data, size_t size)
{
	size_t text = next_marker(data, size, 0);
	int fd;

	if (!*path) {
		if (!mkdtemp(dir))
			return false;
		dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir_fd < 0)
			return false;
		snprintf(path, sizeof(path), "%s/fuzz.yaml", dir);
		atexit(remove_dir);
	}
	remove_side();
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !write_all(fd, data, text))
		return false;
	return write_side(data, size, text);
}

/* The seed image apply would upload, as rc_seed_write() makes it. */
static void make_seed(const struct ds_seed *s)
{
	size_t iso_len = 0;
	uint8_t *iso = NULL;
	char why[256];

	if (ds_seed_image(s, "4dea22b3-1d52-d8f3-2516-782e98ab3fa0", &iso,
			  &iso_len, why, sizeof(why)) == 0 &&
	    iso_len % 2048)
		abort(); /* the image is whole sectors */
	free(iso);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct ds_set set = {0};

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	if (!write_input(data, size)) {
		perror("fuzz-parse: writing the input file");
		abort();
	}
	if (ds_set_add_file(&set, path, true) == 0 && set.n == 1) {
		struct ds_entry *e = &set.entries[0];
		xmlDocPtr doc = NULL;
		if (e->dom && e->dom->seed && e->dom->seed->loaded)
			make_seed(e->dom->seed);
		if (e->dom && ds_render(e->dom, "kvm", &e->diags, &doc) == 0)
			free(ds_render_text(doc));
		xmlFreeDoc(doc);
		if (devnull)
			ds_diags_print(&e->diags, devnull, "fuzz");
	}
	ds_set_finish(&set);
	return 0;
}
