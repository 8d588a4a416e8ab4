#include "domain.h"

#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "parse.h"
#include "render.h"
#include "schema.h"

void ds_domain_free(struct ds_domain *dom)
{
	if (!dom)
		return;
	ds_node_free(dom->root);
	ds_node_free(dom->compared);
	free(dom->volumes);
	ds_seed_free(dom->seed);
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

const struct ds_node *ds_domain_compared(const struct ds_domain *d)
{
	return d->compared ? d->compared : d->root;
}

static uint64_t sizes_of(const struct ds_node *list, const char *path,
			 bool *complete)
{
	uint64_t total = 0;

	for (size_t i = 0; list && i < list->n_kids; i++) {
		const struct ds_node *n = ds_node_path(list->kids[i], path);
		if (!n || n->bad || list->kids[i]->bad)
			*complete = false;
		else
			total += n->v.u;
	}
	return total;
}

uint64_t ds_memory_devices(const struct ds_node *root)
{
	bool complete = true;

	return sizes_of(ds_node_path(root, "devices.memory"), "target.size",
			&complete);
}

bool ds_memory_derived(const struct ds_node *root, uint64_t *kib)
{
	const struct ds_node *cells = ds_node_path(root, "cpu.numa.cell");
	bool complete = cells && !cells->bad && cells->n_kids;
	uint64_t total = 0;

	if (complete) {
		total = sizes_of(cells, "memory", &complete);
		total += sizes_of(ds_node_path(root, "devices.memory"),
				  "target.size", &complete);
	}
	*kib = complete ? total : 0;
	return complete;
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
	/* with NUMA cells, the file may leave the total to libvirt */
	if (!ds_memory_derived(r, &dom->memory_kib) ||
	    ds_node_path(r, "memory.value"))
		dom->memory_kib = num_of(r, "memory.value", 0);
	dom->current_memory_kib = num_of(r, "currentMemory", dom->memory_kib);
	dom->max_memory_kib = num_of(r, "maxMemory.value", 0);
	dom->max_memory_slots = num_of(r, "maxMemory.slots", 0);
	dom->vcpu_max = num_of(r, "vcpu.value", 0);
	dom->vcpu_current = num_of(r, "vcpu.current", dom->vcpu_max);
}

/* Whether ds_tree_normalise may rewrite anything of root: it rewrites
 * devices, CPU tuning and NUMA cells, and seclabels (a domain's, and
 * those under os and devices) only. A file without
 * them (most of a small fleet's) is compared as it is, without a copy. */
static bool may_normalise(const struct ds_node *root)
{
	static const char *const keys[] = {"devices", "cputune", "cpu", "os",
					   "seclabel"};

	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		if (ds_node_get(root, keys[i]))
			return true;
	return false;
}

/* Whether a raw tree says kind: pool. */
static bool raw_is_pool(const struct ds_node *root)
{
	const struct ds_node *k = ds_node_get(root, "kind");

	return k && k->kind == DS_NODE_SCALAR && k->str &&
	       !strcmp(k->str, "pool");
}

/* A kind: pool file: its tree against the pool's table, its rendered XML
 * against libvirt's pool schema (the table holds the union of every pool
 * type's fields; the schema says which go together). */
static int pool_parse(struct ds_domain *dom, struct ds_diags *d, size_t before)
{
	const struct ds_node *r, *type, *build;
	struct ds_rng *rng;
	xmlDocPtr doc = NULL;

	dom->pool = true;
	ds_parse_tree_as(&dom->root, &ds_schema_pool, d);
	if (d->n > before || d->dropped || d->oom)
		return -EINVAL;
	r = dom->root;
	type = ds_node_get(r, "type");
	if (type && type->str &&
	    (!strcmp(type->str, "dir") || !strcmp(type->str, "fs") ||
	     !strcmp(type->str, "netfs")) &&
	    !ds_node_path(r, "target.path"))
		ds_diags_add(d, type->mark,
			     "a %s pool needs target.path (where its volumes "
			     "are)",
			     type->str);
	if (d->n == before && (rng = ds_rng_pool(NULL)) &&
	    ds_render_pool(dom, &doc) == 0) {
		ds_rng_check(rng, doc, d);
		xmlFreeDoc(doc);
	}
	if (d->n > before || d->dropped || d->oom)
		return -EINVAL;
	dom->name = text_of(r, "name");
	dom->uuid = text_of(r, "uuid");
	dom->state = ds_node_get(r, "state") && ds_node_get(r, "state")->v.u
			 ? DS_STATE_SHUTOFF
			 : DS_STATE_RUNNING;
	dom->autostart = flag_of(r, "autostart");
	dom->adopt = flag_of(r, "adopt");
	build = ds_node_get(r, "build");
	/* making a directory is safe; building other pools formats their
	 * devices, which a file must ask for */
	dom->build =
	    build ? build->v.b : type && type->str && !strcmp(type->str, "dir");
	return 0;
}

int ds_domain_parse(const char *path, const char *text, size_t len,
		    struct ds_diags *d, struct ds_domain **ret)
{
	_cleanup_(ds_domain_freep) struct ds_domain *dom =
	    calloc(1, sizeof(*dom));
	size_t before = d->n;
	int r;

	if (!dom || !(dom->path = strdup(path)))
		return -ENOMEM;
	if (ds_yaml_load(text, len, d, &dom->root) < 0)
		return -EINVAL;
	if (raw_is_pool(dom->root)) {
		r = pool_parse(dom, d, before);
		if (r == 0)
			*ret = take_ptr(dom);
		return r;
	}
	if (ds_seed_inject(dom->root) < 0)
		return -ENOMEM;
	ds_parse_tree(&dom->root, d);
	ds_validate(dom->root, d);
	if (d->n > before || d->dropped || d->oom)
		return -EINVAL;
	r = ds_storage_read(dom->root, d, &dom->volumes, &dom->n_volumes,
			    &dom->seed);
	if (r < 0)
		return r;
	if (ds_tree_defaults(dom->root) < 0)
		return -ENOMEM;
	if (!may_normalise(dom->root)) {
		domain_summarise(dom);
		*ret = take_ptr(dom);
		return 0;
	}
	if (!(dom->compared = ds_node_copy(dom->root)))
		return -ENOMEM;
	r = ds_tree_normalise(dom->compared);
	if (r < 0)
		return -ENOMEM;
	if (r == 0) {
		ds_node_free(dom->compared);
		dom->compared = NULL;
	}
	domain_summarise(dom);
	*ret = take_ptr(dom);
	return 0;
}

int ds_domain_load_at(const struct ds_dir *dir, const char *name,
		      struct ds_diags *d, struct ds_domain **ret)
{
	char *text = NULL;
	size_t len = 0;
	int r = ds_dir_read(dir, name, d, &text, &len);

	if (r < 0)
		return r;
	ds_diags_set_text(d, text, len);
	r = ds_domain_parse(d->path, text, len, d, ret);
	if (r < 0 || !(*ret)->seed || (*ret)->seed->loaded)
		return r;
	/* the seed's parts that are files beside it */
	r = ds_seed_load((*ret)->seed, dir, d);
	if (r < 0) {
		ds_domain_free(*ret);
		*ret = NULL;
	}
	return r;
}

int ds_domain_load(const char *path, bool check_perms, struct ds_diags *d,
		   struct ds_domain **ret)
{
	struct ds_dir dir;
	const char *name;
	char why[256];
	int r = ds_dir_open_parent(path, check_perms, &dir, &name, why,
				   sizeof(why));

	if (r == -EPERM)
		ds_diags_add(d, (struct ds_mark){0}, "%s", why);
	else if (r < 0)
		ds_diags_add(d, (struct ds_mark){0},
			     "cannot read its directory: %s", why);
	if (r < 0)
		return r;
	r = ds_domain_load_at(&dir, name, d, ret);
	ds_dir_close(&dir);
	return r;
}
