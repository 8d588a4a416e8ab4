/* What libvirt rewrites in the CPU settings and labels of every
 * definition it takes, rewritten the same way in a tree, so that a file
 * and libvirt's XML compare as libvirt holds them. The rules are libvirt
 * 9.0's:
 *
 * - cputune.vcpusched and iothreadsched: libvirt keeps one scheduler per
 *   vCPU and per IOThread (domain_conf.c, virDomainThreadSchedParseHelper)
 *   and writes one element per id (virDomainSchedulerFormat): a set
 *   becomes one item per id;
 * - NUMA distances: a cell that gives distances is 10 from itself, and a
 *   sibling that does not give its distance to the cell has the cell's
 *   (numa_conf.c, virDomainNumaDefNodeDistanceParseXML);
 * - vCPUs in no NUMA cell: the QEMU driver adds them to cell 0
 *   (qemu_domain.c, qemuDomainDefNumaCPUsRectify);
 * - a device's seclabel without a label that relabels (labelskip='yes',
 *   which libvirt writes of a running guest) is not kept in a definition
 *   (domain_conf.c, virSecurityDeviceLabelDefFormat).
 *
 * A tree that breaks libvirt's rules for these (validate refuses such a
 * file) is left as it is. Host-dependent: a seclabel without a model
 * (ds_tree_normalise_host). */
#include "normalise.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cpuset.h"
#include "schema.h"

/* libvirt's distance of a cell to itself (numa_conf.c, LOCAL_DISTANCE) */
#define LOCAL_DISTANCE 10
/* More cells than QEMU takes (its MAX_NODES is 128): their distances are
 * not rewritten (the table would be large for a hostile file). */
#define MAX_DISTANCE_CELLS 256

/* A scalar key: value of field f (a number: u), or NULL when out of
 * memory. */
static struct ds_node *new_number(const struct ds_field *f, uint64_t u)
{
	_cleanup_(ds_node_freep) struct ds_node *n =
	    ds_node_new(DS_NODE_SCALAR, (struct ds_mark){0});

	if (!n || !(n->key = strdup(f->key)) ||
	    asprintf(&n->str, "%" PRIu64, u) < 0) {
		if (n)
			n->str = NULL;
		return NULL;
	}
	n->field = f;
	n->plain = true;
	n->v.u = u;
	return take_ptr(n);
}

/* Replaces list's items by those of from (which then holds the old ones,
 * to be freed with it). */
static void swap_items(struct ds_node *list, struct ds_node *from)
{
	struct ds_node **kids = list->kids;
	size_t n = list->n_kids;

	list->kids = from->kids;
	list->n_kids = from->n_kids;
	from->kids = kids;
	from->n_kids = n;
}

static bool usable_map(const struct ds_node *n)
{
	return n && n->kind == DS_NODE_MAP && !n->bad;
}

static bool usable_list(const struct ds_node *n)
{
	return n && n->kind == DS_NODE_SEQ && !n->bad && n->field &&
	       n->field->kind == DS_LIST;
}

/* The set of ids of item (under id_key); false when it has none that
 * parses. */
static bool ids_of(const struct ds_node *item, const char *id_key,
		   struct ds_cpuset *set)
{
	const struct ds_node *ids =
	    usable_map(item) ? ds_node_get(item, id_key) : NULL;
	char err[96];

	return ids && !ids->bad && ids->str &&
	       !ds_cpuset_parse(ids->str, set, err, sizeof(err));
}

/* item for one id of a set: the id, then the rest of item as it is. */
static struct ds_node *item_for_id(const struct ds_node *item,
				   const struct ds_field *itemf,
				   const char *id_key, unsigned id)
{
	_cleanup_(ds_node_freep) struct ds_node *one =
	    ds_node_new(DS_NODE_MAP, item->mark);
	struct ds_node *k;

	if (!one)
		return NULL;
	one->field = itemf;
	k = new_number(ds_field_kid(itemf, id_key), id);
	if (!k || ds_node_append(one, k) < 0) {
		ds_node_free(k);
		return NULL;
	}
	for (size_t i = 0; i < item->n_kids; i++) {
		if (!strcmp(item->kids[i]->key, id_key))
			continue;
		k = ds_node_copy(item->kids[i]);
		if (!k || ds_node_append(one, k) < 0) {
			ds_node_free(k);
			return NULL;
		}
	}
	return take_ptr(one);
}

/* cputune.<key>: one item per id of its sets (vcpus, iothreads). */
static int sched_per_id(struct ds_node *cputune, const char *key,
			const char *id_key)
{
	struct ds_node *list = ds_node_get(cputune, key);
	_cleanup_(ds_node_freep) struct ds_node *out = NULL;
	_cleanup_free_ struct ds_cpuset *sets = NULL;
	struct ds_cpuset seen = {{0}};
	bool grouped = false;

	if (!usable_list(list) || !list->n_kids)
		return 0;
	if (!(sets = calloc(list->n_kids, sizeof(*sets))))
		return -ENOMEM;
	for (size_t i = 0; i < list->n_kids; i++) {
		struct ds_cpuset *s = &sets[i];
		if (!ids_of(list->kids[i], id_key, s))
			return 0;
		for (size_t w = 0; w < DS_CPUSET_MAX / 64; w++) {
			if (seen.bits[w] & s->bits[w])
				return 0; /* libvirt refuses overlaps */
			seen.bits[w] |= s->bits[w];
		}
		grouped |= ds_cpuset_count(s) != 1;
	}
	if (!grouped)
		return 0;
	if (!(out = ds_node_new(DS_NODE_SEQ, list->mark)))
		return -ENOMEM;
	for (size_t i = 0; i < list->n_kids; i++) {
		int last = ds_cpuset_last(&sets[i]);
		for (int id = 0; id <= last; id++) {
			if (!ds_cpuset_has(&sets[i], (unsigned)id))
				continue;
			struct ds_node *one =
			    item_for_id(list->kids[i], &list->field->kids[0],
					id_key, (unsigned)id);
			if (!one || ds_node_append(out, one) < 0) {
				ds_node_free(one);
				return -ENOMEM;
			}
		}
	}
	swap_items(list, out);
	return 1;
}

/* The distances a cell gives, as libvirt reads them: its siblings, each
 * of an id among the n cells and a value it takes (10 for the cell
 * itself only, up to 255). NULL when the cell gives none; *ok false when
 * what it gives is not that. */
static const struct ds_node *siblings_of(const struct ds_node *cell, size_t i,
					 size_t n, bool *ok)
{
	const struct ds_node *dist = ds_node_get(cell, "distances");
	const struct ds_node *sib = dist ? ds_node_get(dist, "sibling") : NULL;

	if (!dist)
		return NULL;
	if (!usable_map(dist) || !usable_list(sib) || !sib->n_kids) {
		*ok = false;
		return NULL;
	}
	for (size_t k = 0; k < sib->n_kids; k++) {
		const struct ds_node *s = sib->kids[k];
		const struct ds_node *id =
		    usable_map(s) ? ds_node_get(s, "id") : NULL;
		const struct ds_node *v =
		    usable_map(s) ? ds_node_get(s, "value") : NULL;
		if (!id || !v || id->bad || v->bad || id->v.u >= n ||
		    v->v.u < LOCAL_DISTANCE || v->v.u > 255 ||
		    (id->v.u == i) != (v->v.u == LOCAL_DISTANCE)) {
			*ok = false;
			return NULL;
		}
	}
	return sib;
}

/* Sets the distances of cell (of field cellf) to the row d (of n, 0 for
 * none). */
static int set_distances(struct ds_node *cell, const struct ds_field *cellf,
			 const uint8_t *d, size_t n)
{
	const struct ds_field *distf = ds_field_kid(cellf, "distances");
	const struct ds_field *sibf = ds_field_kid(distf, "sibling");
	struct ds_node *dist = ds_node_get(cell, "distances");
	struct ds_node *sib = dist ? ds_node_get(dist, "sibling") : NULL;
	_cleanup_(ds_node_freep) struct ds_node *out =
	    ds_node_new(DS_NODE_SEQ, (struct ds_mark){0});

	if (!out)
		return -ENOMEM;
	if (!dist) {
		_cleanup_(ds_node_freep) struct ds_node *m =
		    ds_node_new(DS_NODE_MAP, (struct ds_mark){0});
		if (!m || !(m->key = strdup("distances")) ||
		    ds_node_append(cell, m) < 0)
			return -ENOMEM;
		m->field = distf;
		dist = take_ptr(m);
	}
	if (!sib) {
		_cleanup_(ds_node_freep) struct ds_node *l =
		    ds_node_new(DS_NODE_SEQ, (struct ds_mark){0});
		if (!l || !(l->key = strdup("sibling")) ||
		    ds_node_append(dist, l) < 0)
			return -ENOMEM;
		l->field = sibf;
		sib = take_ptr(l);
	}
	for (size_t j = 0; j < n; j++) {
		_cleanup_(ds_node_freep) struct ds_node *s = NULL;
		struct ds_node *id, *v;
		if (!d[j])
			continue;
		if (!(s = ds_node_new(DS_NODE_MAP, (struct ds_mark){0})))
			return -ENOMEM;
		s->field = &sibf->kids[0];
		id = new_number(ds_field_kid(s->field, "id"), j);
		if (!id || ds_node_append(s, id) < 0) {
			ds_node_free(id);
			return -ENOMEM;
		}
		v = new_number(ds_field_kid(s->field, "value"), d[j]);
		if (!v || ds_node_append(s, v) < 0) {
			ds_node_free(v);
			return -ENOMEM;
		}
		if (ds_node_append(out, s) < 0)
			return -ENOMEM;
		s = NULL;
	}
	swap_items(sib, out);
	return 0;
}

/* The distance table as libvirt fills it, cell by cell in order, into d
 * (n by n, 0 for none); has[i] says whether cell i has distances. */
static void fill_distances(const struct ds_node *cells, uint8_t *d, bool *has)
{
	size_t n = cells->n_kids;
	bool ok = true;

	for (size_t i = 0; i < n; i++) {
		const struct ds_node *sib =
		    siblings_of(cells->kids[i], i, n, &ok);
		for (size_t k = 0; sib && k < sib->n_kids; k++) {
			size_t j = ds_node_get(sib->kids[k], "id")->v.u;
			uint8_t v = ds_node_get(sib->kids[k], "value")->v.u;
			if (!has[i])
				d[i * n + i] = LOCAL_DISTANCE;
			has[i] = true;
			d[i * n + j] = v;
			if (!has[j])
				d[j * n + j] = LOCAL_DISTANCE;
			has[j] = true;
			if (!d[j * n + i])
				d[j * n + i] = v;
		}
	}
}

/* cpu.numa.cell[].distances: every distance libvirt holds. */
static int numa_distances(struct ds_node *cells)
{
	size_t n = cells->n_kids;
	_cleanup_free_ uint8_t *d = NULL;
	_cleanup_free_ bool *has = NULL;
	bool ok = true, any = false;

	if (n > MAX_DISTANCE_CELLS)
		return 0;
	for (size_t i = 0; i < n && ok; i++) {
		const struct ds_node *id = ds_node_get(cells->kids[i], "id");
		if (id && (id->bad || id->v.u != i))
			return 0; /* cells out of order: refused */
		any |= siblings_of(cells->kids[i], i, n, &ok) != NULL;
	}
	if (!ok || !any)
		return 0;
	if (!(d = calloc(n * n, sizeof(*d))) || !(has = calloc(n, 1)))
		return -ENOMEM;
	fill_distances(cells, d, has);
	for (size_t i = 0; i < n; i++)
		if (has[i] &&
		    set_distances(cells->kids[i], &cells->field->kids[0],
				  d + i * n, n) < 0)
			return -ENOMEM;
	return 1;
}

/* cpu.numa.cell[0].cpus: with the vCPUs no cell has. */
static int numa_cell0_cpus(struct ds_node *root, struct ds_node *cells)
{
	const struct ds_node *vmax = ds_node_path(root, "vcpu.value");
	struct ds_node *cell0 = cells->kids[0];
	struct ds_node *cpus = ds_node_get(cell0, "cpus");
	struct ds_cpuset others = {{0}}, set;
	_cleanup_free_ char *fill = NULL;
	size_t total = 0;
	char err[96];

	if (!vmax || vmax->bad || vmax->v.u > DS_CPUSET_MAX)
		return 0;
	for (size_t i = 0; i < cells->n_kids; i++) {
		const struct ds_node *c = ds_node_get(cells->kids[i], "cpus");
		if (!c)
			continue;
		if (c->bad || !c->str ||
		    ds_cpuset_parse(c->str, &set, err, sizeof(err)))
			return 0;
		total += ds_cpuset_count(&set);
		for (size_t w = 0; i && w < DS_CPUSET_MAX / 64; w++)
			others.bits[w] |= set.bits[w];
	}
	if (total >= vmax->v.u)
		return 0;
	set = (struct ds_cpuset){{0}};
	for (unsigned v = 0; v < vmax->v.u; v++)
		if (!ds_cpuset_has(&others, v))
			set.bits[v / 64] |= 1ULL << (v % 64);
	if (!(fill = ds_cpuset_format(&set)))
		return -ENOMEM;
	if (!cpus) {
		_cleanup_(ds_node_freep) struct ds_node *n =
		    ds_node_new(DS_NODE_SCALAR, (struct ds_mark){0});
		if (!n || !(n->key = strdup("cpus")) ||
		    ds_node_append(cell0, n) < 0)
			return -ENOMEM;
		n->field = ds_field_kid(&cells->field->kids[0], "cpus");
		cpus = take_ptr(n);
	}
	free(cpus->str);
	cpus->str = take_ptr(fill);
	return 1;
}

/* Whether libvirt keeps a device's seclabel s in a definition: with a
 * label, or with relabelling off. */
static bool device_seclabel_kept(const struct ds_node *s)
{
	const struct ds_node *relabel = ds_node_get(s, "relabel");

	return !usable_map(s) || ds_node_get(s, "label") ||
	       (relabel && !relabel->bad && !relabel->v.b);
}

/* Drops the device seclabels libvirt does not keep, under n (devices,
 * os); returns whether it dropped one. */
static bool device_seclabels(struct ds_node *n)
{
	bool changed = false;
	size_t out = 0;

	for (size_t i = 0; n->kind == DS_NODE_MAP && i < n->n_kids; i++) {
		struct ds_node *k = n->kids[i];
		if (!strcmp(k->key, "seclabel") && usable_list(k)) {
			size_t kept = 0;
			for (size_t j = 0; j < k->n_kids; j++) {
				if (device_seclabel_kept(k->kids[j]))
					k->kids[kept++] = k->kids[j];
				else
					ds_node_free(k->kids[j]);
			}
			bool dropped = kept != k->n_kids;
			changed |= dropped;
			k->n_kids = kept;
			if (!kept && dropped) {
				ds_node_free(k);
				continue;
			}
		} else if (k->kind == DS_NODE_MAP) {
			changed |= device_seclabels(k);
		} else if (k->kind == DS_NODE_SEQ) {
			for (size_t j = 0; j < k->n_kids; j++)
				changed |= device_seclabels(k->kids[j]);
		}
		n->kids[out++] = k;
	}
	n->n_kids = out;
	return changed;
}

int ds_tree_normalise_domain(struct ds_node *root)
{
	struct ds_node *cputune = ds_node_get(root, "cputune");
	struct ds_node *cells = ds_node_path(root, "cpu.numa.cell");
	int r[4] = {0};

	if (usable_map(cputune)) {
		r[0] = sched_per_id(cputune, "vcpusched", "vcpus");
		r[1] = sched_per_id(cputune, "iothreadsched", "iothreads");
	}
	if (usable_list(cells) && cells->n_kids) {
		for (size_t i = 0; i < cells->n_kids; i++)
			if (!usable_map(cells->kids[i]))
				cells = NULL;
	} else {
		cells = NULL;
	}
	if (cells) {
		r[2] = numa_distances(cells);
		r[3] = numa_cell0_cpus(root, cells);
	}
	for (size_t i = 0; i < DS_ARRAY_SIZE(r); i++)
		if (r[i] < 0)
			return -ENOMEM;
	for (size_t i = 0; i < root->n_kids; i++)
		if (!strcmp(root->kids[i]->key, "devices") ||
		    !strcmp(root->kids[i]->key, "os"))
			r[0] |= device_seclabels(root->kids[i]);
	return r[0] | r[1] | r[2] | r[3];
}

/* Removes map's value at key, if any. */
static void drop_key(struct ds_node *map, const char *key)
{
	size_t out = 0;

	for (size_t i = 0; i < map->n_kids; i++) {
		if (!strcmp(map->kids[i]->key, key)) {
			ds_node_free(map->kids[i]);
			continue;
		}
		map->kids[out++] = map->kids[i];
	}
	map->n_kids = out;
}

bool ds_tree_wants_secmodel(const struct ds_node *root)
{
	const struct ds_node *list = ds_node_get(root, "seclabel");
	const struct ds_node *s =
	    usable_list(list) && list->n_kids == 1 ? list->kids[0] : NULL;
	const struct ds_node *type = s ? ds_node_get(s, "type") : NULL;

	return usable_map(s) && !ds_node_get(s, "model") &&
	       (!type || (type->str && (!strcmp(type->str, "none") ||
					(!strcmp(type->str, "dynamic") &&
					 !ds_node_get(s, "baselabel")))));
}

int ds_tree_normalise_host(struct ds_node *root, const char *secmodel)
{
	struct ds_node *s;
	struct ds_node *type;
	const struct ds_field *itemf;
	_cleanup_(ds_node_freep) struct ds_node *model = NULL;

	if (!secmodel || !ds_tree_wants_secmodel(root))
		return 0;
	s = ds_node_get(root, "seclabel")->kids[0];
	itemf = &ds_node_get(root, "seclabel")->field->kids[0];
	if (!(model = ds_node_new(DS_NODE_SCALAR, (struct ds_mark){0})) ||
	    !(model->key = strdup("model")) || !(model->str = strdup(secmodel)))
		return -ENOMEM;
	model->field = ds_field_kid(itemf, "model");
	if (ds_node_append(s, model) < 0)
		return -ENOMEM;
	model = NULL;
	if (strcmp(secmodel, "none"))
		return 1;
	/* the model that labels nothing: type none, without relabelling */
	drop_key(s, "relabel");
	if (!(type = ds_node_get(s, "type"))) {
		_cleanup_(ds_node_freep) struct ds_node *t =
		    ds_node_new(DS_NODE_SCALAR, (struct ds_mark){0});
		if (!t || !(t->key = strdup("type")) ||
		    ds_node_append(s, t) < 0)
			return -ENOMEM;
		t->field = ds_field_kid(itemf, "type");
		type = take_ptr(t);
	}
	free(type->str);
	if (!(type->str = strdup("none")))
		return -ENOMEM;
	type->v.u = ds_enum_index(type->field->values, "none");
	return 1;
}
