/* Rules between domain-level fields that libvirt 9.0 rewrites, drops or
 * refuses when it defines a domain, found against its own test corpus
 * (tests/corpus/): the schedulers of vCPUs and IOThreads, NUMA placement
 * and distances, the CPU model's fallback, firmware features and security
 * labels. A value libvirt drops is reported with ds_diags_add_dropped():
 * leaving it out is the same to libvirt, which is what import does. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "cpuset.h"
#include "schema.h"
#include "validate.h"

/* The ids of a scheduler item (vcpus, iothreads) into set: 1, or 0 when
 * they are not a set (reported by the schema walk), or -1 when they are
 * missing (reported). */
static int sched_ids(const struct ds_node *item, const char *list,
		     const char *key, struct ds_cpuset *set, struct ds_diags *d)
{
	const struct ds_node *ids = kid(item, key);
	char err[96];

	if (!ids && !ds_node_get(item, key)) {
		ds_diags_add(d, at(item),
			     "'%s' needs '%s', the ids it schedules", list,
			     key);
		return -1;
	}
	return ids && ids->str &&
	       !ds_cpuset_parse(ids->str, set, err, sizeof(err));
}

/* The IOThreads a domain has: the ids of iothreadids, then the lowest
 * free ids from 1 up to the count of 'iothreads' (domain_conf.c,
 * virDomainIOThreadIDDefArrayInit). */
static void iothread_ids(const struct ds_node *root, struct ds_cpuset *set)
{
	const struct ds_node *ids = get(root, "iothreadids.iothread");
	const struct ds_node *count = get(root, "iothreads");
	uint64_t want = count ? count->v.u : 0, have = 0;

	*set = (struct ds_cpuset){{0}};
	for (size_t i = 0; ids && i < ids->n_kids; i++) {
		const struct ds_node *id = kid(ids->kids[i], "id");
		have++;
		if (id && id->v.u < DS_CPUSET_MAX)
			set->bits[id->v.u / 64] |= 1ULL << (id->v.u % 64);
	}
	for (unsigned id = 1; have < want && id < DS_CPUSET_MAX; id++) {
		if (ds_cpuset_has(set, id))
			continue;
		set->bits[id / 64] |= 1ULL << (id % 64);
		have++;
	}
}

/* libvirt keeps one scheduler per vCPU and per IOThread: it refuses sets
 * that overlap and ids the domain does not have (domain_conf.c,
 * virDomainThreadSchedParseHelper). */
static int check_sched_list(const struct ds_node *root, const char *list,
			    const char *key, struct ds_diags *d)
{
	char path[32];
	const struct ds_node *l;
	const struct ds_node *vmax = get(root, "vcpu.value");
	struct ds_cpuset seen = {{0}}, set, have;
	bool vcpus = !strcmp(key, "vcpus");
	int r = 0;

	snprintf(path, sizeof(path), "cputune.%s", list);
	if (!(l = get(root, path)))
		return 0;
	if (vcpus) {
		have = (struct ds_cpuset){{0}};
		for (uint64_t v = 0; v < (vmax ? vmax->v.u : 1); v++)
			have.bits[v / 64] |= 1ULL << (v % 64);
	} else {
		iothread_ids(root, &have);
	}
	for (size_t i = 0; i < l->n_kids; i++) {
		const struct ds_node *item = l->kids[i];
		int got = item->bad ? 0 : sched_ids(item, list, key, &set, d);
		if (got <= 0) {
			r = got < 0 ? -1 : r;
			continue;
		}
		for (unsigned id = 0; id < DS_CPUSET_MAX; id++) {
			if (!ds_cpuset_has(&set, id))
				continue;
			if (ds_cpuset_has(&seen, id)) {
				ds_diags_add(d, kid(item, key)->mark,
					     "%s %u already has a scheduler in "
					     "'%s'; libvirt refuses sets that "
					     "overlap",
					     vcpus ? "vCPU" : "IOThread", id,
					     list);
				r = -1;
				break;
			}
			if (!ds_cpuset_has(&have, id)) {
				_cleanup_free_ char *all =
				    ds_cpuset_format(&have);
				ds_diags_add(
				    d, kid(item, key)->mark,
				    vcpus ? "vCPU %u is beyond the vCPUs of "
					    "'vcpu.value' (%s)"
					  : "IOThread %u is not one of the "
					    "domain's IOThreads (%s), which "
					    "'iothreads' and 'iothreadids' "
					    "give",
				    id, all && *all ? all : "none");
				r = -1;
				break;
			}
			seen.bits[id / 64] |= 1ULL << (id % 64);
		}
	}
	return r;
}

static int check_sched(const struct ds_node *root, struct ds_diags *d)
{
	int a = check_sched_list(root, "vcpusched", "vcpus", d);
	int b = check_sched_list(root, "iothreadsched", "iothreads", d);

	return a < 0 || b < 0 ? -1 : 0;
}

/* With memory placed by numad and nothing pinned, libvirt places the
 * vCPUs by numad too (domain_conf.c, virDomainDefParseXML after
 * virDomainNumatuneParseXML). */
static int check_vcpu_placement(const struct ds_node *root, struct ds_diags *d)
{
	static const char *const pins[] = {"vcpu.cpuset", "cputune.vcpupin",
					   "cputune.emulatorpin",
					   "cputune.iothreadpin"};
	const struct ds_node *placement = get(root, "vcpu.placement");

	if (!str_is(placement, "static") ||
	    !str_is(get(root, "numatune.memory.placement"), "auto"))
		return 0;
	for (size_t i = 0; i < DS_ARRAY_SIZE(pins); i++)
		if (given(root, pins[i]))
			return 0;
	ds_diags_add_dropped(d, placement->mark,
			     "with 'numatune.memory.placement: auto' and no "
			     "CPU pinning, libvirt makes the vCPU placement "
			     "auto too; leave 'placement' out, or make it "
			     "auto");
	return -1;
}

/* Distances libvirt refuses (numa_conf.c,
 * virDomainNumaDefNodeDistanceParseXML): to a cell that is not there, of
 * a cell to itself other than 10, to another cell of 10. */
static int check_distances(const struct ds_node *root, struct ds_diags *d)
{
	const struct ds_node *cells = get(root, "cpu.numa.cell");
	int r = 0;

	for (size_t i = 0; cells && i < cells->n_kids; i++) {
		const struct ds_node *sib =
		    get(cells->kids[i], "distances.sibling");
		for (size_t k = 0; sib && k < sib->n_kids; k++) {
			const struct ds_node *id = kid(sib->kids[k], "id");
			const struct ds_node *v = kid(sib->kids[k], "value");
			if (id && id->v.u >= cells->n_kids) {
				ds_diags_add(d, id->mark,
					     "there is no NUMA cell %" PRIu64
					     " (the cells are 0 to %zu)",
					     id->v.u, cells->n_kids - 1);
				r = -1;
			} else if (id && v &&
				   (id->v.u == i) != (v->v.u == 10)) {
				ds_diags_add(d, v->mark,
					     id->v.u == i
						 ? "a NUMA cell is 10 from "
						   "itself"
						 : "only a NUMA cell itself "
						   "is 10 from it; another is "
						   "further (11 to 255)");
				r = -1;
			}
		}
	}
	return r;
}

/* libvirt writes the fallback of a named model only (cpu_conf.c,
 * virCPUDefFormatBuf). */
static int check_cpu_fallback(const struct ds_node *root, struct ds_diags *d)
{
	const struct ds_node *model = get(root, "cpu.model");
	const struct ds_node *fallback = kid(model, "fallback");

	if (!fallback || kid(model, "value"))
		return 0;
	ds_diags_add_dropped(d, at(fallback),
			     "'fallback' applies to a named CPU model; libvirt "
			     "drops it without one");
	return -1;
}

/* Firmware features choose among the firmwares libvirt picks itself:
 * libvirt refuses them without 'firmware' (domain_validate.c,
 * virDomainDefOSValidate), and ignores them in a definition it reads
 * back (domain_conf.c, virDomainDefParseBootFirmwareOptions). */
static int check_firmware_features(const struct ds_node *root,
				   struct ds_diags *d)
{
	const struct ds_node *fw = get(root, "os.firmware_element");
	const struct ds_node *features = kid(fw, "feature");

	if (!features || !features->n_kids || given(root, "os.firmware"))
		return 0;
	ds_diags_add_dropped(d, at(fw),
			     "firmware features choose the firmware libvirt "
			     "picks with 'os.firmware: efi'; without "
			     "'firmware' libvirt refuses them");
	return -1;
}

/* A device's seclabels (a disk's, a character device's source): libvirt
 * notes labelskip on a running guest only, and keeps a seclabel in the
 * definition only with relabel off or a label (domain_conf.c,
 * virSecurityDeviceLabelDefParseXML, virSecurityDeviceLabelDefFormat). */
static int check_device_seclabels(const struct ds_node *n, struct ds_diags *d)
{
	int r = 0;

	for (size_t i = 0; n->kind == DS_NODE_MAP && i < n->n_kids; i++) {
		const struct ds_node *k = n->kids[i];
		bool labels = !strcmp(k->key, "seclabel") &&
			      k->kind == DS_NODE_SEQ && !k->bad;
		for (size_t j = 0; labels && j < k->n_kids; j++) {
			const struct ds_node *s = k->kids[j];
			const struct ds_node *relabel = kid(s, "relabel");
			if (s->bad || s->kind != DS_NODE_MAP)
				continue;
			if (given(s, "labelskip")) {
				ds_diags_add_dropped(
				    d, at(ds_node_get(s, "labelskip")),
				    "'labelskip' is libvirt's note on a "
				    "running guest (it left the label as it "
				    "was); a definition does not keep it, nor "
				    "this seclabel without a 'label'");
				r = -1;
			} else if (!given(s, "label") &&
				   (!relabel || relabel->v.b)) {
				ds_diags_add_dropped(
				    d, at(s),
				    "a device's seclabel needs 'relabel: "
				    "false' or a 'label'; libvirt drops one "
				    "with neither");
				r = -1;
			}
		}
		if (!labels && k->kind == DS_NODE_MAP &&
		    check_device_seclabels(k, d) < 0)
			r = -1;
		for (size_t j = 0;
		     !labels && k->kind == DS_NODE_SEQ && j < k->n_kids; j++)
			if (check_device_seclabels(k->kids[j], d) < 0)
				r = -1;
	}
	return r;
}

/* One seclabel of the domain: what libvirt keeps of it in a definition
 * (domain_conf.c, virSecurityLabelDefParseXML): a label for type static
 * only (it makes a dynamic one when the guest starts), a base label for
 * type dynamic only, never the image label (made at start too); model
 * none labels nothing. */
static int check_seclabel(const struct ds_node *s, struct ds_diags *d)
{
	static const char *const kept[][2] = {{"label", "static"},
					      {"baselabel", "dynamic"}};
	const struct ds_node *type = kid(s, "type");
	const struct ds_node *relabel = kid(s, "relabel");
	const char *t = type ? type->str : "dynamic";
	int r = 0;

	if (given(s, "imagelabel")) {
		ds_diags_add_dropped(d, at(ds_node_get(s, "imagelabel")),
				     "libvirt makes the image label itself "
				     "when the guest starts; a definition "
				     "does not keep one");
		r = -1;
	}
	for (size_t i = 0; i < DS_ARRAY_SIZE(kept); i++) {
		const struct ds_node *k = kid(s, kept[i][0]);
		if (!k || !strcmp(t, kept[i][1]))
			continue;
		ds_diags_add_dropped(d, at(k),
				     "libvirt keeps '%s' for 'type: %s' only, "
				     "and drops it with type %s",
				     kept[i][0], kept[i][1], t);
		r = -1;
	}
	if (!strcmp(t, "static") && !given(s, "label") &&
	    !str_is(kid(s, "model"), "none")) {
		ds_diags_add(d, at(s),
			     "a static seclabel needs its 'label'; libvirt "
			     "refuses one without");
		r = -1;
	}
	if (str_is(kid(s, "model"), "none") && strcmp(t, "none")) {
		ds_diags_add(d, type ? type->mark : at(s),
			     "model 'none' labels nothing: libvirt makes the "
			     "type 'none'; say so");
		r = -1;
	} else if (relabel && !relabel->v.b && !strcmp(t, "dynamic")) {
		ds_diags_add(d, relabel->mark,
			     "a dynamic label is applied by relabelling: "
			     "libvirt refuses 'relabel: false' with it");
		r = -1;
	} else if (relabel && relabel->v.b && !strcmp(t, "none")) {
		ds_diags_add(d, relabel->mark,
			     "type 'none' relabels nothing: libvirt refuses "
			     "'relabel: true' with it");
		r = -1;
	} else if (relabel && !strcmp(t, "none")) {
		ds_diags_add_dropped(d, at(relabel),
				     "type 'none' relabels nothing: libvirt "
				     "drops 'relabel' with it");
		r = -1;
	}
	return r;
}

/* Which security driver a seclabel is for: each needs its model when
 * there are several, and a single one without a model takes the host's
 * (then it must be of type none, or dynamic without a base label), once
 * a model (domain_conf.c, virSecurityLabelDefsParseXML). */
static int check_seclabel_models(const struct ds_node *list, struct ds_diags *d)
{
	int r = 0;

	for (size_t i = 0; i < list->n_kids; i++) {
		const struct ds_node *s = list->kids[i];
		const struct ds_node *model = kid(s, "model");
		const struct ds_node *type = kid(s, "type");
		if (s->bad || (given(s, "model") && !model))
			continue;
		if (!model && list->n_kids > 1) {
			ds_diags_add(d, at(s),
				     "with more than one seclabel, each needs "
				     "'model', the security driver it is for");
			r = -1;
		} else if (!model &&
			   (str_is(type, "static") || given(s, "baselabel"))) {
			ds_diags_add(d, at(s),
				     "a seclabel without 'model' takes the "
				     "host's security driver, for type none or "
				     "dynamic without 'baselabel' only; give "
				     "'model'");
			r = -1;
		}
		for (size_t j = 0; model && j < i; j++) {
			const struct ds_node *other =
			    kid(list->kids[j], "model");
			if (!str_is(other, model->str))
				continue;
			ds_diags_add(d, model->mark,
				     "there is a seclabel for model '%s' "
				     "already, at line %u",
				     model->str, other->mark.line);
			r = -1;
		}
	}
	return r;
}

static int check_seclabels(const struct ds_node *root, struct ds_diags *d)
{
	const struct ds_node *list = get(root, "seclabel");
	const struct ds_node *devices = get(root, "devices");
	const struct ds_node *os = get(root, "os");
	int r = 0;

	for (size_t i = 0; list && i < list->n_kids; i++)
		if (!list->kids[i]->bad && check_seclabel(list->kids[i], d) < 0)
			r = -1;
	if (list && check_seclabel_models(list, d) < 0)
		r = -1;
	if (devices && check_device_seclabels(devices, d) < 0)
		r = -1;
	if (os && check_device_seclabels(os, d) < 0)
		r = -1;
	return r;
}

int ds_validate_domain(const struct ds_node *root, struct ds_diags *d)
{
	int (*const rules[])(const struct ds_node *, struct ds_diags *) = {
	    check_sched,        check_vcpu_placement,    check_distances,
	    check_cpu_fallback, check_firmware_features, check_seclabels,
	};
	int r = 0;

	for (size_t i = 0; i < DS_ARRAY_SIZE(rules); i++)
		if (rules[i](root, d) < 0)
			r = -1;
	return r;
}
