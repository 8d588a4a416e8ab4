/* A running guest's device changes, made live where QEMU can make them.
 *
 * Each list of devices the file gives is paired with the running guest's,
 * item by item: first the items that are the same, then those of the same
 * identity (a disk's target, an interface's MAC). What is left of the
 * file's is attached, what is left of the guest's is detached (an unplug
 * request, which the guest must agree to), and a pair that differs is
 * updated where libvirt updates it live (a CD-ROM's or floppy's media; an
 * interface's link state, bandwidth or source). A list with any other
 * change waits for a restart as a whole, with the reason: then no call is
 * made for it, so that the guest never runs half of a change. */
#include "devices.h"

#include <errno.h>
#include <inttypes.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "compare.h"
#include "render.h"
#include "schema.h"
#include "units.h"

/* The lists whose devices QEMU hot-plugs (or, plug false, only updates
 * live). */
static const struct {
	const char *kind;
	bool plug;
} hot_kinds[] = {
    /* controllers first: the disks attached after them may need them */
    {"controller", true}, {"disk", true},     {"interface", true},
    {"hostdev", true},    {"memory", true},   {"channel", true},
    {"rng", true},        {"watchdog", true}, {"vsock", true},
    {"graphics", false},
};

bool rc_line_in(const char *lines, const char *s)
{
	size_t len = strlen(s);

	for (const char *p = lines; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		if (l == len && !memcmp(p, s, len))
			return true;
		p = nl ? nl + 1 : NULL;
	}
	return false;
}

bool rc_word_in(const char *words, const char *w)
{
	size_t len = strlen(w);

	for (const char *p = words ? strstr(words, w) : NULL; p;
	     p = strstr(p + 1, w))
		if ((p == words || p[-1] == ' ') && (!p[len] || p[len] == ' '))
			return true;
	return false;
}

static const char *str_at(const struct ds_node *n, const char *path)
{
	const struct ds_node *v = ds_node_path(n, path);

	return v && v->kind == DS_NODE_SCALAR ? v->str : NULL;
}

/* The node path of a list's identity ("target@dev" is target.dev). */
static void identity_path(const struct ds_field *list, char *buf, size_t len)
{
	const char *id = list->identity;
	size_t o = 0;

	buf[0] = 0;
	for (; id && *id && o + 1 < len; id++) {
		if (*id == '@' && o == 0)
			continue;
		buf[o++] = *id == '@' || *id == '/' ? '.' : *id;
	}
	buf[o] = 0;
}

/* What one plan is building. */
struct work {
	const struct ds_domain *d;
	const struct ds_node *live;
	const struct rc_mark *mark;
	struct rc_dev_op *ops[3];
	size_t n[3];
	FILE *restart, *pending, *sent, *said;
	uint64_t memory_added;
};

static int add_op(struct work *w, enum rc_dev_call call, char *xml, char *key,
		  bool needs_mac, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int add_op(struct work *w, enum rc_dev_call call, char *xml, char *key,
		  bool needs_mac, const char *fmt, ...)
{
	struct rc_dev_op *ops =
	    reallocarray(w->ops[call], w->n[call] + 1, sizeof(*ops));
	char *why = NULL;
	va_list ap;
	int r;

	if (ops)
		w->ops[call] = ops;
	va_start(ap, fmt);
	r = ops ? vasprintf(&why, fmt, ap) : -1;
	va_end(ap);
	if (r < 0) {
		free(xml);
		free(key);
		return -ENOMEM;
	}
	ops[w->n[call]++] = (struct rc_dev_op){call, xml, key, why, needs_mac};
	return 0;
}

/* "devices.disk vdb" or "devices.memory #2": a device for people. */
static void device_name(const char *kind, const struct ds_node *item,
			const char *idpath, size_t index, char *buf, size_t len)
{
	const char *id = *idpath ? str_at(item, idpath) : NULL;

	if (id)
		snprintf(buf, len, "devices.%s %s", kind, id);
	else
		snprintf(buf, len, "devices.%s #%zu", kind, index + 1);
}

/* The device as the live mark names one the hypervisor refused: its kind
 * and all the file says of it, so that a changed device is tried anew. */
static char *device_key(const char *kind, const struct ds_node *item)
{
	_cleanup_free_ char *text = ds_node_format(item);
	char *key;

	if (!text || asprintf(&key, "%s %s", kind, text) < 0)
		return NULL;
	for (char *p = key; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return key;
}

static bool x86(const struct ds_node *live)
{
	const char *arch = str_at(live, "os.arch");

	return !arch || !strcmp(arch, "x86_64") || !strcmp(arch, "i686");
}

/* The bus a disk is on: the file's, else libvirt's choice by the target's
 * name. */
static const char *disk_bus(const struct ds_node *disk)
{
	const char *bus = str_at(disk, "target.bus");
	const char *dev = str_at(disk, "target.dev");

	if (bus)
		return bus;
	if (!dev)
		return "";
	if (!strncmp(dev, "vd", 2))
		return "virtio";
	if (!strncmp(dev, "sd", 2))
		return "scsi";
	if (!strncmp(dev, "hd", 2))
		return "ide";
	if (!strncmp(dev, "fd", 2))
		return "fdc";
	return "";
}

/* Whether the device sits on the PCI bus, which QEMU hot-plugs on x86 only
 * with ACPI; memory hotplug needs it too. */
static bool needs_acpi(const char *kind, const struct ds_node *item)
{
	const char *model = str_at(item, "model");

	if (!strcmp(kind, "disk"))
		return !strcmp(disk_bus(item), "virtio");
	if (!strcmp(kind, "hostdev")) {
		const char *t = str_at(item, "type");
		return t && !strcmp(t, "pci");
	}
	if (!strcmp(kind, "channel"))
		return false;
	if (!strcmp(kind, "watchdog"))
		return !model || strcmp(model, "itco");
	return true; /* interface, memory, rng, vsock */
}

/* Why the file's new device cannot be attached to the running guest, or
 * NULL. adding: the memory devices attached before it in this plan. */
static const char *attach_refusal(struct work *w, const char *kind,
				  const struct ds_node *item, char *buf,
				  size_t len, uint64_t *mem_added,
				  size_t *mems_added)
{
	if (!strcmp(kind, "disk")) {
		const char *bus = disk_bus(item);
		if (strcmp(bus, "virtio") && strcmp(bus, "scsi") &&
		    strcmp(bus, "usb")) {
			snprintf(buf, len,
				 "a disk on bus '%s' cannot be hot-plugged "
				 "(virtio, scsi and usb can)",
				 *bus ? bus : "(unknown)");
			return buf;
		}
	}
	if (!strcmp(kind, "watchdog")) {
		const char *model = str_at(item, "model");
		if (model && !strcmp(model, "itco"))
			return "the itco watchdog cannot be hot-plugged";
	}
	if (x86(w->live) && needs_acpi(kind, item) &&
	    !ds_node_path(w->live, "features.acpi"))
		return !strcmp(kind, "memory")
			   ? "the running guest has no 'features.acpi', "
			     "without which QEMU hot-plugs no memory"
			   : "the running guest has no 'features.acpi', "
			     "without which QEMU hot-plugs no PCI device";
	if (!strcmp(kind, "memory")) {
		const struct ds_node *max = ds_node_path(w->live, "maxMemory");
		const struct ds_node *slots = ds_node_get(max, "slots");
		const struct ds_node *value = ds_node_get(max, "value");
		const struct ds_node *mems =
		    ds_node_path(w->live, "devices.memory");
		const struct ds_node *mem =
		    ds_node_path(w->live, "memory.value");
		const struct ds_node *size = ds_node_path(item, "target.size");
		const struct ds_node *node = ds_node_path(item, "target.node");
		const struct ds_node *cells =
		    ds_node_path(w->live, "cpu.numa.cell");
		const char *model = str_at(item, "model");
		size_t used = (mems ? mems->n_kids : 0) + *mems_added;
		char a[DS_SIZE_BUFLEN], b[DS_SIZE_BUFLEN];
		if (model && !strcmp(model, "sgx-epc"))
			return "SGX EPC memory cannot be hot-plugged";
		if (!slots || !value)
			return "the running guest has no memory hotplug slots "
			       "('maxMemory')";
		if (used + 1 > slots->v.u) {
			snprintf(buf, len,
				 "the running guest's %" PRIu64
				 " memory slots are taken",
				 slots->v.u);
			return buf;
		}
		if (size && mem &&
		    mem->v.u + *mem_added + size->v.u > value->v.u) {
			snprintf(
			    buf, len,
			    "it would take the running guest's memory "
			    "over its 'maxMemory' (%s, %s free)",
			    ds_size_format(value->v.u, a, sizeof(a)),
			    ds_size_format(value->v.u - mem->v.u - *mem_added,
					   b, sizeof(b)));
			return buf;
		}
		if (node && (!cells || node->v.u >= cells->n_kids)) {
			snprintf(buf, len,
				 "the running guest has no NUMA node %" PRIu64,
				 node->v.u);
			return buf;
		}
		*mem_added += size ? size->v.u : 0;
		(*mems_added)++;
	}
	return NULL;
}

/* Removes the value at a dotted path ("target.requested") of a map. */
static void remove_path(struct ds_node *map, const char *path)
{
	const char *dot = strrchr(path, '.');
	char parent[64];

	if (!dot) {
		ds_node_remove(map, path);
		return;
	}
	snprintf(parent, sizeof(parent), "%.*s", (int)(dot - path), path);
	ds_node_remove(ds_node_path(map, parent), dot + 1);
}

/* Whether want and have differ only in keys (each paired item's copy
 * without them compares equal). */
static int differ_only_in(const struct ds_node *want,
			  const struct ds_node *have, const char *const *keys)
{
	_cleanup_(ds_node_freep) struct ds_node *w = ds_node_copy(want);
	_cleanup_(ds_node_freep) struct ds_node *h = ds_node_copy(have);

	if (!w || !h)
		return -ENOMEM;
	for (; *keys; keys++) {
		remove_path(w, *keys);
		remove_path(h, *keys);
	}
	return ds_item_equal(w, h);
}

/* The keys of a device libvirt changes live by virDomainUpdateDeviceFlags
 * (a CD-ROM's or floppy's media; an interface's link state, bandwidth or
 * source; a graphics password), or NULL. */
static const char *const *update_keys(const char *kind,
				      const struct ds_node *want)
{
	static const char *const media[] = {"source", "backingStore", "driver",
					    NULL};
	static const char *const net[] = {"link", "bandwidth", "source", NULL};
	static const char *const gfx[] = {"passwd", "passwdValidTo",
					  "connected", NULL};
	static const char *const vmem[] = {"target.requested", NULL};
	const char *device = str_at(want, "device");
	const char *model = str_at(want, "model");

	if (!strcmp(kind, "disk"))
		return device && (!strcmp(device, "cdrom") ||
				  !strcmp(device, "floppy"))
			   ? media
			   : NULL;
	if (!strcmp(kind, "interface"))
		return net;
	if (!strcmp(kind, "graphics"))
		return gfx;
	if (!strcmp(kind, "memory") && model && !strcmp(model, "virtio-mem"))
		return vmem;
	return NULL;
}

/* Whether the pair differs only where libvirt updates it live. */
static int updatable(const char *kind, const struct ds_node *want,
		     const struct ds_node *have)
{
	const char *const *keys = update_keys(kind, want);

	return keys ? differ_only_in(want, have, keys) : 0;
}

/* The update's device: the running guest's, with the file's values where
 * libvirt updates them (and the rest the file says): libvirt refuses an
 * update that would move what it cannot (a bus, a listen address the
 * file leaves to it). */
static char *update_xml(const struct ds_field *list, const char *kind,
			const struct ds_node *want, const struct ds_node *have)
{
	_cleanup_(ds_node_freep) struct ds_node *m = ds_node_copy(have);
	const char *const *keys = update_keys(kind, want);

	if (!m)
		return NULL;
	for (; keys && *keys; keys++)
		remove_path(m, *keys);
	for (size_t i = 0; i < want->n_kids; i++) {
		struct ds_node *k = ds_node_copy(want->kids[i]);
		ds_node_remove(m, want->kids[i]->key);
		if (!k || ds_node_append(m, k) < 0) {
			ds_node_free(k);
			return NULL;
		}
	}
	return ds_render_item(list, m);
}

/* Whether an attach or update of key was made on an earlier pass: then it
 * is not made again, whatever the live XML shows (libvirt's live XML may
 * show a device otherwise than its config: an empty CD-ROM without its
 * format), and said. */
static bool sent_before(struct work *w, const char *key, const char *name)
{
	if (!rc_line_in(w->mark->devices_sent, key))
		return false;
	fprintf(w->said, "%s%s: sent; the running guest shows it otherwise",
		ftell(w->said) ? "; " : "", name);
	return true;
}

/* Keeps in the live mark the devices sent that the file still gives as
 * they were sent (a mark that changes costs a write of its own). */
static int keep_sent(struct work *w, const char *kind,
		     const struct ds_node *want)
{
	for (size_t i = 0; w->mark->devices_sent && i < want->n_kids; i++) {
		_cleanup_free_ char *key = device_key(kind, want->kids[i]);
		if (!key)
			return -ENOMEM;
		if (rc_line_in(w->mark->devices_sent, key))
			fprintf(w->sent, "%s%s", ftell(w->sent) ? "\n" : "",
				key);
	}
	return 0;
}

/* The file's device as the live XML shows it: an empty CD-ROM or floppy
 * drive has no format there (libvirt keeps it in the config only). NULL:
 * as the file gives it. */
static struct ds_node *live_view(const char *kind, const struct ds_node *item)
{
	const char *device = str_at(item, "device");
	struct ds_node *v;

	if (strcmp(kind, "disk") || !device ||
	    (strcmp(device, "cdrom") && strcmp(device, "floppy")) ||
	    ds_node_get(item, "source") || !ds_node_path(item, "driver.type"))
		return NULL;
	if ((v = ds_node_copy(item)))
		ds_node_remove(ds_node_get(v, "driver"), "type");
	return v;
}

/* Whether an item of an open list (a controller) would take the place of
 * one of libvirt's the file does not match: the same type, and the same
 * index or none given. */
static bool taken_place(const struct ds_node *item, const struct ds_node *have,
			const bool *hdone, size_t hn)
{
	const char *type = str_at(item, "type");
	const struct ds_node *index = ds_node_get(item, "index");

	for (size_t j = 0; j < hn; j++) {
		const struct ds_node *h = have->kids[j];
		const struct ds_node *hi = ds_node_get(h, "index");
		const char *ht = str_at(h, "type");
		if (hdone[j] || !type || !ht || strcmp(type, ht))
			continue;
		if (!index || (hi && hi->v.u == index->v.u))
			return true;
	}
	return false;
}

/* A device the format holds as one element (a watchdog, a vsock): added
 * to the running guest that has none, or else changed at a restart. */
static int plan_single(struct work *w, const char *kind,
		       const struct ds_node *want)
{
	char path[64], name[80], buf[256];
	const struct ds_node *have;
	_cleanup_free_ char *key = NULL;
	const char *why;
	char *x;
	uint64_t mem = 0;
	size_t mems = 0;

	snprintf(path, sizeof(path), "devices.%s", kind);
	snprintf(name, sizeof(name), "devices.%s", kind);
	have = ds_node_path(w->live, path);
	if (!(key = device_key(kind, want)))
		return -ENOMEM;
	if (rc_line_in(w->mark->devices_sent, key)) /* the mark keeps it */
		fprintf(w->sent, "%s%s", ftell(w->sent) ? "\n" : "", key);
	if (have && ds_item_equal(want, have))
		return 0;
	if (rc_line_in(w->mark->devices_refused, key)) {
		fprintf(w->restart, "%s%s was refused live: %s",
			ftell(w->restart) ? "; " : "", name,
			w->mark->device_refused_reason
			    ? w->mark->device_refused_reason
			    : "by the hypervisor");
		return 0;
	}
	why =
	    have ? "this change is made at a restart only"
		 : attach_refusal(w, kind, want, buf, sizeof(buf), &mem, &mems);
	if (why) {
		fprintf(w->restart, "%s%s: %s", ftell(w->restart) ? "; " : "",
			name, why);
		return 0;
	}
	if (sent_before(w, key, name))
		return 1;
	if (!(x = ds_render_item(want->field, want)))
		return -ENOMEM;
	if (add_op(w, RC_DEV_ATTACH, x, key, false, "%s: attach (live)", name) <
	    0) {
		key = NULL; /* freed by add_op */
		return -ENOMEM;
	}
	key = NULL;
	return 1;
}

/* One list: its calls, or why it waits for a restart. */
static int plan_kind(struct work *w, const char *kind, bool plug)
{
	char path[64], idpath[64], name[160], buf[256];
	const struct ds_node *want, *have;
	const struct ds_field *lf;
	_cleanup_free_ bool *wdone = NULL, *hdone = NULL;
	_cleanup_free_ size_t *pair = NULL;
	_cleanup_free_ char *restart = NULL, *pending = NULL;
	size_t rlen = 0, plen = 0, hn, n_before[3];
	uint64_t mem_added = 0;
	size_t mems_added = 0;
	FILE *rf = NULL, *pf = NULL;
	int r = 0;

	snprintf(path, sizeof(path), "devices.%s", kind);
	want = ds_node_path(w->d->root, path);
	if (want && want->kind == DS_NODE_MAP && want->field &&
	    want->field->kind == DS_MAP)
		return plan_single(w, kind, want);
	if (!want || want->kind != DS_NODE_SEQ || !want->field ||
	    want->field->kind != DS_LIST)
		return 0; /* not the file's to manage */
	lf = want->field;
	if (keep_sent(w, kind, want) < 0)
		return -ENOMEM;
	have = ds_node_path(w->live, path);
	hn = have && have->kind == DS_NODE_SEQ ? have->n_kids : 0;
	identity_path(lf, idpath, sizeof(idpath));
	wdone = calloc(want->n_kids + 1, sizeof(*wdone));
	hdone = calloc(hn + 1, sizeof(*hdone));
	pair = calloc(want->n_kids + 1, sizeof(*pair));
	if (!wdone || !hdone || !pair)
		return -ENOMEM;
	/* the same devices */
	for (size_t i = 0; i < want->n_kids; i++) {
		_cleanup_(ds_node_freep) struct ds_node *v =
		    live_view(kind, want->kids[i]);
		for (size_t j = 0; j < hn && !wdone[i]; j++)
			if (!hdone[j] &&
			    ds_item_equal(v ? v : want->kids[i], have->kids[j]))
				wdone[i] = hdone[j] = true;
	}
	bool all = true;
	for (size_t i = 0; i < want->n_kids; i++)
		all = all && wdone[i];
	for (size_t j = 0; j < hn; j++)
		all = all && (hdone[j] || lf->open);
	if (all)
		return 0;
	/* the same identity */
	for (size_t i = 0; i < want->n_kids; i++) {
		const char *id = *idpath ? str_at(want->kids[i], idpath) : NULL;
		pair[i] = SIZE_MAX;
		for (size_t j = 0; id && !wdone[i] && j < hn; j++) {
			const char *hid = str_at(have->kids[j], idpath);
			if (!hdone[j] && hid && !strcasecmp(id, hid)) {
				pair[i] = j;
				hdone[j] = true;
			}
		}
	}
	/* without identity: a device that differs only where libvirt
	 * updates it live (a virtio-mem device's requested size) */
	for (size_t i = 0; i < want->n_kids; i++)
		for (size_t j = 0; !wdone[i] && pair[i] == SIZE_MAX && j < hn;
		     j++) {
			int u = hdone[j] ? 0
					 : updatable(kind, want->kids[i],
						     have->kids[j]);
			if (u < 0)
				return u;
			if (u) {
				pair[i] = j;
				hdone[j] = true;
			}
		}
	if (!(rf = open_memstream(&restart, &rlen)) ||
	    !(pf = open_memstream(&pending, &plen))) {
		if (rf)
			fclose(rf);
		return -ENOMEM;
	}
	for (size_t c = 0; c < 3; c++)
		n_before[c] = w->n[c];
	/* the guest's devices the file no longer has: unplugged */
	for (size_t j = 0; j < hn && r == 0; j++) {
		if (hdone[j] || lf->open) /* the same, paired by identity,
					     or libvirt's own in an open list */
			continue;
		const char *alias = str_at(have->kids[j], "alias.name");
		device_name(kind, have->kids[j], idpath, j, name, sizeof(name));
		if (!plug) {
			fprintf(rf, "%s%s: QEMU cannot unplug it",
				ftell(rf) ? "; " : "", name);
		} else if (!alias) {
			fprintf(rf,
				"%s%s: libvirt gives it no alias to unplug "
				"it by",
				ftell(rf) ? "; " : "", name);
		} else if (rc_word_in(w->mark->unplug_sent, alias)) {
			fprintf(pf,
				"%s%s: unplug requested, not yet done by "
				"the guest (a restart finishes it)",
				ftell(pf) ? "; " : "", name);
		} else {
			char *x = strdup(alias);
			r = x ? add_op(w, RC_DEV_DETACH, x, NULL, false,
				       "%s: unplug (live)", name)
			      : -ENOMEM;
		}
	}
	/* the file's devices: updated, or attached */
	for (size_t i = 0; i < want->n_kids && r == 0; i++) {
		const struct ds_node *item = want->kids[i];
		char *key, *x;
		const char *why;
		if (wdone[i])
			continue;
		device_name(kind, item, idpath, i, name, sizeof(name));
		if (!(key = device_key(kind, item))) {
			r = -ENOMEM;
			break;
		}
		if (rc_line_in(w->mark->devices_refused, key)) {
			fprintf(rf, "%s%s was refused live: %s",
				ftell(rf) ? "; " : "", name,
				w->mark->device_refused_reason
				    ? w->mark->device_refused_reason
				    : "by the hypervisor");
			free(key);
			continue;
		}
		if (pair[i] != SIZE_MAX) {
			const struct ds_node *h = have->kids[pair[i]];
			int u = updatable(kind, item, h);
			if (u < 0) {
				free(key);
				r = u;
				break;
			}
			if (!u) {
				fprintf(rf,
					"%s%s: this change is made at a "
					"restart only",
					ftell(rf) ? "; " : "", name);
				free(key);
				continue;
			}
			if (sent_before(w, key, name)) {
				free(key);
				continue;
			}
			x = update_xml(lf, kind, item, h);
			if (!x) {
				free(key);
				r = -ENOMEM;
				break;
			}
			r = add_op(w, RC_DEV_UPDATE, x, key, false,
				   "%s: update (live)", name);
			continue;
		}
		why = !plug ? "QEMU cannot hot-plug it"
		      : lf->open && taken_place(item, have, hdone, hn)
			  ? "the running guest has a controller of this type "
			    "and index: it changes at a restart only"
			  : attach_refusal(w, kind, item, buf, sizeof(buf),
					   &mem_added, &mems_added);
		if (why) {
			fprintf(rf, "%s%s: %s", ftell(rf) ? "; " : "", name,
				why);
			free(key);
			continue;
		}
		if (sent_before(w, key, name)) {
			free(key);
			continue;
		}
		if (!(x = ds_render_item(lf, item))) {
			free(key);
			r = -ENOMEM;
			break;
		}
		r = add_op(w, RC_DEV_ATTACH, x, key,
			   !strcmp(kind, "interface") &&
			       !ds_node_path(item, "mac.address"),
			   "%s: attach (live)", name);
	}
	fclose(rf);
	fclose(pf);
	if (r < 0)
		return r;
	if (rlen) {
		/* the whole list waits: no call for it */
		for (size_t c = 0; c < 3; c++) {
			for (size_t k = n_before[c]; k < w->n[c]; k++) {
				free(w->ops[c][k].xml);
				free(w->ops[c][k].key);
				free(w->ops[c][k].why);
			}
			w->n[c] = n_before[c];
		}
		fprintf(w->restart, "%s%s", ftell(w->restart) ? "; " : "",
			restart);
		return 0;
	}
	if (plen)
		fprintf(w->pending, "%s%s", ftell(w->pending) ? "; " : "",
			pending);
	w->memory_added += mem_added;
	return 1;
}

/* Appends to f the aliases of the live devices of tree. */
static void aliases_of(const struct ds_node *tree, FILE *f)
{
	const struct ds_node *devices = ds_node_get(tree, "devices");

	for (size_t i = 0; devices && i < devices->n_kids; i++) {
		const struct ds_node *l = devices->kids[i];
		for (size_t j = 0; l->kind == DS_NODE_SEQ && j < l->n_kids;
		     j++) {
			const char *a = str_at(l->kids[j], "alias.name");
			if (a)
				fprintf(f, " %s ", a);
		}
	}
}

char *rc_unplug_still(const char *sent, const struct ds_node *live)
{
	_cleanup_free_ char *aliases = NULL;
	char *out = NULL, *copy, *save = NULL;
	size_t alen = 0, olen = 0;
	FILE *af, *of;

	if (!sent || !*sent)
		return NULL;
	if (!(af = open_memstream(&aliases, &alen)))
		return NULL;
	aliases_of(live, af);
	fclose(af);
	if (!(copy = strdup(sent)) || !(of = open_memstream(&out, &olen))) {
		free(copy);
		return NULL;
	}
	for (char *w = strtok_r(copy, " ", &save); w;
	     w = strtok_r(NULL, " ", &save))
		if (aliases && rc_word_in(aliases, w))
			fprintf(of, "%s%s", ftell(of) ? " " : "", w);
	fclose(of);
	free(copy);
	if (out && !*out) {
		free(out);
		out = NULL;
	}
	return out;
}

int rc_plan_devices(const struct ds_domain *d, const struct ds_node *live,
		    const struct rc_mark *mark, struct rc_dev_plan *ret)
{
	struct work w = {.d = d, .live = live, .mark = mark};
	char *live_paths = NULL, *restart = NULL, *pending = NULL, *sent = NULL,
	     *said = NULL;
	size_t llen = 0, rlen = 0, plen = 0, slen = 0, salen = 0;
	FILE *lf = open_memstream(&live_paths, &llen);
	int r = 0;

	*ret = (struct rc_dev_plan){0};
	w.restart = open_memstream(&restart, &rlen);
	w.pending = open_memstream(&pending, &plen);
	w.sent = open_memstream(&sent, &slen);
	w.said = open_memstream(&said, &salen);
	if (!lf || !w.restart || !w.pending || !w.sent || !w.said)
		r = -ENOMEM;
	for (size_t k = 0;
	     r == 0 && live && k < sizeof(hot_kinds) / sizeof(*hot_kinds);
	     k++) {
		r = plan_kind(&w, hot_kinds[k].kind, hot_kinds[k].plug);
		if (r > 0) {
			fprintf(lf, "%sdevices.%s", ftell(lf) ? " " : "",
				hot_kinds[k].kind);
			r = 0;
		}
	}
	if (lf)
		fclose(lf);
	if (w.restart)
		fclose(w.restart);
	if (w.pending)
		fclose(w.pending);
	if (w.sent)
		fclose(w.sent);
	if (w.said)
		fclose(w.said);
	ret->sent = sent && *sent ? sent : NULL;
	if (!ret->sent)
		free(sent);
	ret->said = said && *said ? said : NULL;
	if (!ret->said)
		free(said);
	ret->live_paths = live_paths;
	ret->memory_added = w.memory_added;
	ret->restart = restart;
	ret->pending = pending;
	for (size_t c = 0; c < 3; c++) {
		struct rc_dev_op *ops = reallocarray(
		    ret->ops, ret->n_ops + w.n[c] + 1, sizeof(*ops));
		if (!ops) {
			r = -ENOMEM;
		} else {
			ret->ops = ops;
			if (w.n[c])
				memcpy(ops + ret->n_ops, w.ops[c],
				       w.n[c] * sizeof(*ops));
			ret->n_ops += w.n[c];
			w.n[c] = 0;
		}
		for (size_t k = 0; k < w.n[c]; k++) {
			free(w.ops[c][k].xml);
			free(w.ops[c][k].key);
			free(w.ops[c][k].why);
		}
		free(w.ops[c]);
	}
	if (r < 0)
		rc_dev_plan_finish(ret);
	return r;
}

void rc_dev_plan_finish(struct rc_dev_plan *p)
{
	for (size_t i = 0; i < p->n_ops; i++) {
		free(p->ops[i].xml);
		free(p->ops[i].key);
		free(p->ops[i].why);
	}
	free(p->ops);
	free(p->live_paths);
	free(p->restart);
	free(p->pending);
	free(p->sent);
	free(p->said);
	*p = (struct rc_dev_plan){0};
}
