#include "domain.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "parse.h"
#include "schema.h"

void ds_domain_free(struct ds_domain *dom)
{
	if (!dom)
		return;
	ds_node_free(dom->root);
	free(dom->path);
	free(dom);
}

static const char *text_of(const struct ds_node *root, const char *path)
{
	const struct ds_node *n = ds_node_path(root, path);

	return n ? n->str : NULL;
}

static uint64_t num_of(const struct ds_node *root, const char *path,
		       uint64_t def)
{
	const struct ds_node *n = ds_node_path(root, path);

	return n ? n->v.u : def;
}

static bool flag_of(const struct ds_node *root, const char *path)
{
	const struct ds_node *n = ds_node_path(root, path);

	return n && n->v.b;
}

/* Reads the values the reconciler acts on out of a checked tree. */
static void domain_summarise(struct ds_domain *dom)
{
	const struct ds_node *r = dom->root;
	const struct ds_node *state = ds_node_get(r, "state");

	dom->name = text_of(r, "name");
	dom->uuid = text_of(r, "uuid");
	dom->type = text_of(r, "type");
	dom->state = state ? (enum ds_state)state->v.u : DS_STATE_RUNNING;
	dom->autostart = flag_of(r, "autostart");
	dom->adopt = flag_of(r, "adopt");
	dom->memory_kib = num_of(r, "memory", 0);
	dom->current_memory_kib = num_of(r, "currentMemory", dom->memory_kib);
	dom->max_memory_kib = num_of(r, "maxMemory.value", 0);
	dom->max_memory_slots = num_of(r, "maxMemory.slots", 0);
	dom->vcpu_max = num_of(r, "vcpu.value", 0);
	dom->vcpu_current = num_of(r, "vcpu.current", dom->vcpu_max);
}

int ds_domain_parse(const char *path, const char *text, size_t len,
		    struct ds_diags *d, struct ds_domain **ret)
{
	_cleanup_(ds_domain_freep) struct ds_domain *dom =
	    calloc(1, sizeof(*dom));
	size_t before = d->n;

	if (!dom || !(dom->path = strdup(path)))
		return -ENOMEM;
	if (ds_yaml_load(text, len, d, &dom->root) < 0)
		return -EINVAL;
	ds_parse_tree(&dom->root, d);
	ds_validate(dom->root, d);
	if (d->n > before || d->dropped || d->oom)
		return -EINVAL;
	if (ds_tree_defaults(dom->root) < 0)
		return -ENOMEM;
	domain_summarise(dom);
	*ret = take_ptr(dom);
	return 0;
}

/* Reads a whole regular file of at most DS_MAX_FILE_SIZE bytes. */
static int read_file(const char *path, char **ret, size_t *ret_len,
		     struct ds_diags *d)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;

	if (fd < 0 || fstat(fd, &st) < 0) {
		ds_diags_add(d, (struct ds_mark){0}, "cannot read: %s",
			     strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		ds_diags_add(d, (struct ds_mark){0}, "not a regular file");
		return -EINVAL;
	}
	if (st.st_size > DS_MAX_FILE_SIZE) {
		ds_diags_add(d, (struct ds_mark){1, 1},
			     "the file is larger than %d bytes",
			     DS_MAX_FILE_SIZE);
		return -EFBIG;
	}
	buf = malloc(st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	/* The file may change under us; read what is there, up to the limit. */
	for (;;) {
		ssize_t n = read(fd, buf + len, st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ds_diags_add(d, (struct ds_mark){0}, "cannot read: %s",
				     strerror(errno));
			return -errno;
		}
		if (n == 0 || (len += n) == (size_t)st.st_size)
			break;
	}
	buf[len] = 0;
	*ret = take_ptr(buf);
	*ret_len = len;
	return 0;
}

int ds_domain_load(const char *path, struct ds_diags *d, struct ds_domain **ret)
{
	char *text = NULL;
	size_t len = 0;
	int r = read_file(path, &text, &len, d);

	if (r < 0)
		return r;
	ds_diags_set_text(d, text, len);
	return ds_domain_parse(path, text, len, d, ret);
}
