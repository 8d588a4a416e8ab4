/* Fuzz target: a file's bytes through everything `validate` does without
 * libvirt, read the way every command reads a file: written to a file of a
 * directory of its own, then opened and read beneath that directory
 * (desired-state/dir.c, with the trust rule), YAML, the schema walk, the
 * rules, rendering, and the printer. */
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

static char dir[] = "/tmp/vr-fuzz-parse-XXXXXX";
static char path[sizeof(dir) + 16];

static void remove_dir(void)
{
	unlink(path);
	rmdir(dir);
}

/* Writes the input as the file that is then read; false when it cannot
 * (the run then says so and stops: the target would test nothing). */
static bool write_input(const uint8_t *data, size_t size)
{
	int fd;

	if (!*path) {
		if (!mkdtemp(dir))
			return false;
		snprintf(path, sizeof(path), "%s/fuzz.yaml", dir);
		atexit(remove_dir);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return false;
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
		if (e->dom && ds_render(e->dom, "kvm", &e->diags, &doc) == 0)
			free(ds_render_text(doc));
		xmlFreeDoc(doc);
		if (devnull)
			ds_diags_print(&e->diags, devnull, "fuzz");
	}
	ds_set_finish(&set);
	return 0;
}
