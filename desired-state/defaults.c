/* Defaults that libvirt fills in, made explicit in the tree, so that a
 * file and libvirt's XML compare equal when they mean the same. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "domain.h"
#include "normalise.h"
#include "schema.h"

/* Adds key: value (a scalar) to map, typed by the map's field table. */
static int add_scalar(struct ds_node *map, const struct ds_field *mapf,
		      const char *key, const char *value)
{
	_cleanup_(ds_node_freep) struct ds_node *n =
	    ds_node_new(DS_NODE_SCALAR, (struct ds_mark){0});
	const struct ds_field *f = ds_field_kid(mapf, key);

	if (!n || !(n->key = strdup(key)) || !(n->str = strdup(value)))
		return -ENOMEM;
	n->field = f;
	if (f->kind == DS_ENUM)
		n->v.u = ds_enum_index(f->values, value);
	else if (f->kind == DS_UINT || f->kind == DS_INT)
		n->v.i = strtoll(value, NULL, 10);
	else if (f->kind == DS_BOOL)
		n->v.b = !strcmp(value, "true");
	if (ds_node_append(map, n) < 0)
		return -ENOMEM;
	n = NULL;
	return 0;
}

/* A new node under parent (a map: under key; a list: an item) of field f. */
static struct ds_node *add_node(struct ds_node *parent, const char *key,
				enum ds_node_kind kind,
				const struct ds_field *f)
{
	_cleanup_(ds_node_freep) struct ds_node *n =
	    ds_node_new(kind, (struct ds_mark){0});

	if (!n || (key && !(n->key = strdup(key))))
		return NULL;
	n->field = f;
	if (ds_node_append(parent, n) < 0)
		return NULL;
	return take_ptr(n);
}

static bool is_str(const struct ds_node *n, const char *s)
{
	return n && n->str && !strcmp(n->str, s);
}

/* The field of a device list's items (devices.NAME's), or NULL. */
static const struct ds_field *item_field(const char *name)
{
	const struct ds_field *devf =
	    ds_field_kid(&ds_schema_domain, "devices");
	const struct ds_field *lf = ds_field_kid(devf, name);

	return lf && lf->kind == DS_LIST ? &lf->kids[0] : NULL;
}

/* The items of root's devices.NAME, counted in *n (0 without any). */
static struct ds_node **items_of(struct ds_node *root, const char *name,
				 size_t *n)
{
	struct ds_node *list = ds_node_get(ds_node_get(root, "devices"), name);

	*n = list && list->kind == DS_NODE_SEQ ? list->n_kids : 0;
	return *n ? list->kids : NULL;
}

/* libvirt pairs the first console with the first serial port when its
 * target is serial (or not given): that console is the serial port, shown
 * twice. It is left out of the consoles on both sides, and a serial port
 * stands for it where none is given, as libvirt adds one. */
static int console_pair(struct ds_node *root)
{
	const struct ds_field *devf =
	    ds_field_kid(&ds_schema_domain, "devices");
	const struct ds_field *serf = ds_field_kid(devf, "serial");
	struct ds_node *devices = ds_node_get(root, "devices");
	struct ds_node *cons = ds_node_get(devices, "console");
	struct ds_node *serials = ds_node_get(devices, "serial");
	struct ds_node *first, *type;

	if (!cons || cons->kind != DS_NODE_SEQ || !cons->n_kids)
		return 0;
	first = cons->kids[0];
	type = ds_node_path(first, "target.type");
	if (first->bad || first->kind != DS_NODE_MAP ||
	    (type && !is_str(type, "serial")))
		return 0;
	if (!serials &&
	    !(serials = add_node(devices, "serial", DS_NODE_SEQ, serf)))
		return -ENOMEM;
	if (!serials->n_kids) {
		struct ds_node *item =
		    add_node(serials, NULL, DS_NODE_MAP, &serf->kids[0]);
		struct ds_node *ct = ds_node_get(first, "type");
		if (!item || add_scalar(item, &serf->kids[0], "type",
					ct ? ct->str : "pty") < 0)
			return -ENOMEM;
	}
	ds_node_free(first);
	memmove(cons->kids, cons->kids + 1,
		--cons->n_kids * sizeof(*cons->kids));
	return 1;
}

/* An iSCSI source named without a LUN is LUN 0: libvirt writes
 * "iqn.1992-01.com.example" as "iqn.1992-01.com.example/0"
 * (virDomainPostParseCheckISCSIPath). */
static int iscsi_lun(struct ds_node *source)
{
	struct ds_node *name = ds_node_get(source, "name");
	char *s;

	if (!is_str(ds_node_get(source, "protocol"), "iscsi") || !name ||
	    name->kind != DS_NODE_SCALAR || !name->str ||
	    strchr(name->str, '/'))
		return 0;
	if (asprintf(&s, "%s/0", name->str) < 0)
		return -ENOMEM;
	free(name->str);
	name->str = s;
	return 1;
}

/* The iSCSI sources of network disks and of SCSI host devices. */
static int iscsi_luns(struct ds_node *root)
{
	static const char *const lists[][2] = {{"disk", "network"},
					       {"hostdev", "scsi"}};
	int changed = 0;

	for (size_t l = 0; l < DS_ARRAY_SIZE(lists); l++) {
		size_t n;
		struct ds_node **items = items_of(root, lists[l][0], &n);
		for (size_t i = 0; i < n; i++) {
			int r;
			if (!is_str(ds_node_get(items[i], "type"), lists[l][1]))
				continue;
			if ((r = iscsi_lun(ds_node_get(items[i], "source"))) <
			    0)
				return r;
			changed |= r;
		}
	}
	return changed;
}

/* A shmem device as libvirt completes it: the model is the first of its
 * models, ivshmem, when none is given (virDomainShmemDefParseXML); a
 * model other than ivshmem-doorbell has 4 MiB when no size is given, and
 * a doorbell with a server has msi with ioeventfd on unless it says
 * otherwise (qemuDomainShmemDefPostParse). */
static int shmem_default(struct ds_node *shm, const struct ds_field *f)
{
	struct ds_node *model = ds_node_get(shm, "model");
	struct ds_node *size, *msi;
	const struct ds_field *mf = ds_field_kid(f, "model");
	const struct ds_field *sf = ds_field_kid(f, "size");
	const struct ds_field *msif = ds_field_kid(f, "msi");
	int changed = !model;

	if (!model && (!(model = add_node(shm, "model", DS_NODE_MAP, mf)) ||
		       add_scalar(model, mf, "type", "ivshmem") < 0))
		return -ENOMEM;
	if (!is_str(ds_node_get(model, "type"), "ivshmem-doorbell")) {
		if (ds_node_get(shm, "size"))
			return changed;
		size = add_node(shm, "size", DS_NODE_MAP, sf);
		return size && add_scalar(size, sf, "value", "4") == 0 &&
			       add_scalar(size, sf, "unit", "M") == 0
			   ? 1
			   : -ENOMEM;
	}
	if (!ds_node_get(shm, "server") || ds_node_path(shm, "msi.ioeventfd"))
		return changed;
	if (!(msi = ds_node_get(shm, "msi")) &&
	    !(msi = add_node(shm, "msi", DS_NODE_MAP, msif)))
		return -ENOMEM;
	return add_scalar(msi, msif, "ioeventfd", "true") < 0 ? -ENOMEM : 1;
}

static int shmem_defaults(struct ds_node *root)
{
	const struct ds_field *f = item_field("shmem");
	size_t n;
	struct ds_node **items = items_of(root, "shmem", &n);
	int changed = 0;

	for (size_t i = 0; i < n; i++) {
		int r;
		if (items[i]->bad || items[i]->kind != DS_NODE_MAP)
			continue;
		if ((r = shmem_default(items[i], f)) < 0)
			return r;
		changed |= r;
	}
	return changed;
}

/* Removes key from map, if there. */
static void drop_key(struct ds_node *map, const char *key)
{
	for (size_t i = 0; i < map->n_kids; i++) {
		if (map->kids[i]->key && !strcmp(map->kids[i]->key, key)) {
			ds_node_free(map->kids[i]);
			memmove(&map->kids[i], &map->kids[i + 1],
				(--map->n_kids - i) * sizeof(*map->kids));
			return;
		}
	}
}

/* Whether a port field is given, and not 0. */
static bool port_given(const struct ds_node *g, const char *key)
{
	const struct ds_node *p = ds_node_get(g, key);

	return p && p->v.i != 0;
}

/* A SPICE server without a port, a TLS port or autoport listens nowhere:
 * libvirt makes its listen of type address one of type none, without the
 * address (virDomainDefPostParseGraphics), and writes no autoport beside
 * it (virDomainGraphicsDefFormat). validate refuses an address there. */
static int spice_listen(struct ds_node *g, const struct ds_field *f)
{
	const struct ds_node *autoport = ds_node_get(g, "autoport");
	const struct ds_field *lf = ds_field_kid(f, "listen_element");
	struct ds_node *listens = ds_node_get(g, "listen_element");
	struct ds_node *first =
	    listens && listens->n_kids ? listens->kids[0] : NULL;
	const struct ds_node *type = ds_node_get(first, "type");

	if (!is_str(ds_node_get(g, "type"), "spice") || port_given(g, "port") ||
	    port_given(g, "tlsPort") || (autoport && autoport->v.b) ||
	    (type && !is_str(type, "address")))
		return 0;
	drop_key(g, "autoport");
	drop_key(g, "listen");
	if (first) {
		while (first->n_kids)
			drop_key(first, first->kids[0]->key);
	} else if (!(listens =
			 add_node(g, "listen_element", DS_NODE_SEQ, lf)) ||
		   !(first =
			 add_node(listens, NULL, DS_NODE_MAP, &lf->kids[0]))) {
		return -ENOMEM;
	}
	return add_scalar(first, &lf->kids[0], "type", "none") < 0 ? -ENOMEM
								   : 1;
}

static int spice_listens(struct ds_node *root)
{
	const struct ds_field *f = item_field("graphics");
	size_t n;
	struct ds_node **items = items_of(root, "graphics", &n);
	int changed = 0;

	for (size_t i = 0; i < n; i++) {
		int r;
		if (items[i]->bad || items[i]->kind != DS_NODE_MAP)
			continue;
		if ((r = spice_listen(items[i], f)) < 0)
			return r;
		changed |= r;
	}
	return changed;
}

int ds_tree_respell(struct ds_node *root)
{
	struct ds_node *devices = ds_node_get(root, "devices");
	int changed = 0;

	for (size_t l = 0; devices && l < devices->n_kids; l++) {
		struct ds_node *list = devices->kids[l];
		for (size_t i = 0;
		     list->kind == DS_NODE_SEQ && i < list->n_kids; i++) {
			struct ds_node *rom = ds_node_get(list->kids[i], "rom");
			struct ds_node *file = ds_node_get(rom, "file");
			const struct ds_field *ef =
			    rom && rom->field
				? ds_field_kid(rom->field, "enabled")
				: NULL;
			if (!ef || rom->n_kids != 1 || !file || !file->str ||
			    *file->str)
				continue;
			drop_key(rom, "file");
			if (add_scalar(rom, rom->field, "enabled", "no") < 0)
				return -ENOMEM;
			changed = 1;
		}
	}
	return changed;
}

int ds_tree_normalise(struct ds_node *root)
{
	int (*const rewrites[])(struct ds_node *) = {
	    console_pair,  iscsi_luns,      shmem_defaults,
	    spice_listens, ds_tree_respell, ds_tree_normalise_domain,
	};
	int changed = 0;

	for (size_t i = 0; i < DS_ARRAY_SIZE(rewrites); i++) {
		int r = rewrites[i](root);
		if (r < 0)
			return r;
		changed |= r;
	}
	return changed;
}

/* With no boot order anywhere, libvirt boots from the first disk: an
 * empty os.boot is [hd]. */
static int boot_default(struct ds_node *root)
{
	const struct ds_field *osf = ds_field_kid(&ds_schema_domain, "os");
	const struct ds_field *bootf = ds_field_kid(osf, "boot");
	struct ds_node *boot = ds_node_path(root, "os.boot");
	static const char *const lists[] = {"devices.disk",
					    "devices.interface"};
	struct ds_node *item;

	if (!boot || boot->kind != DS_NODE_SEQ || boot->n_kids)
		return 0;
	for (size_t l = 0; l < 2; l++) {
		const struct ds_node *list = ds_node_path(root, lists[l]);
		for (size_t i = 0; list && i < list->n_kids; i++)
			if (ds_node_get(list->kids[i], "boot"))
				return 0;
	}
	item = add_node(boot, NULL, DS_NODE_MAP, &bootf->kids[0]);
	return item && add_scalar(item, &bootf->kids[0], "dev", "hd") == 0
		   ? 0
		   : -ENOMEM;
}

/* <vcpu> without current has them all online; <currentMemory> left out is
 * <memory>. */
static int vcpu_defaults(struct ds_node *root)
{
	const struct ds_field *vf = ds_field_kid(&ds_schema_domain, "vcpu");
	struct ds_node *vcpu = ds_node_get(root, "vcpu");
	struct ds_node *value = ds_node_get(vcpu, "value");
	struct ds_node *mem = ds_node_path(root, "memory.value");

	if (value && !value->bad && !ds_node_get(vcpu, "current")) {
		if (add_scalar(vcpu, vf, "current", value->str) < 0)
			return -ENOMEM;
		ds_node_get(vcpu, "current")->v = value->v;
	}
	if (mem && !mem->bad && !ds_node_get(root, "currentMemory")) {
		if (add_scalar(root, &ds_schema_domain, "currentMemory",
			       mem->str) < 0)
			return -ENOMEM;
		ds_node_get(root, "currentMemory")->v = mem->v;
	}
	return 0;
}

/* A domain seclabel's type is dynamic when not given; a dynamic label
 * relabels (libvirt refuses one that does not), a static one does not
 * unless it says so (domain_conf.c, virSecurityLabelDefParseXML). */
static int seclabel_defaults(struct ds_node *root)
{
	const struct ds_field *listf =
	    ds_field_kid(&ds_schema_domain, "seclabel");
	struct ds_node *list = ds_node_get(root, "seclabel");

	for (size_t i = 0;
	     list && list->kind == DS_NODE_SEQ && i < list->n_kids; i++) {
		struct ds_node *s = list->kids[i];
		struct ds_node *type = ds_node_get(s, "type");
		bool none = is_str(type, "none");
		if (s->bad || s->kind != DS_NODE_MAP)
			continue;
		if (!type) {
			if (add_scalar(s, &listf->kids[0], "type", "dynamic") <
			    0)
				return -ENOMEM;
			type = ds_node_get(s, "type");
		}
		if (none || ds_node_get(s, "relabel"))
			continue;
		if (add_scalar(s, &listf->kids[0], "relabel",
			       is_str(type, "dynamic") ? "true" : "false") < 0)
			return -ENOMEM;
		ds_node_get(s, "relabel")->v.b = is_str(type, "dynamic");
	}
	return 0;
}

const char *ds_disk_type_of(const struct ds_node *source)
{
	if (ds_node_get(source, "dev"))
		return "block";
	if (ds_node_get(source, "pool") || ds_node_get(source, "volume"))
		return "volume";
	if (ds_node_get(source, "dir"))
		return "dir";
	if (ds_node_get(source, "protocol"))
		return "network";
	return "file";
}

/* Fills in what libvirt requires or adds itself: <os><type>hvm</type>,
 * which every hypervisor the agent drives runs; a disk's type, which
 * follows from its source; a cdrom's readonly; a seclabel's type and
 * relabel; all vCPUs online; currentMemory = memory. */
int ds_tree_defaults(struct ds_node *root)
{
	const struct ds_field *osf = ds_field_kid(&ds_schema_domain, "os");
	const struct ds_field *diskf =
	    &ds_field_kid(ds_field_kid(&ds_schema_domain, "devices"), "disk")
		 ->kids[0];
	struct ds_node *os = ds_node_get(root, "os");
	struct ds_node *disks = ds_node_path(root, "devices.disk");

	if (!os) {
		_cleanup_(ds_node_freep) struct ds_node *n =
		    ds_node_new(DS_NODE_MAP, (struct ds_mark){0});
		if (!n || !(n->key = strdup("os")) ||
		    ds_node_append(root, n) < 0)
			return -ENOMEM;
		n->field = osf;
		os = take_ptr(n);
	}
	if (!ds_node_get(os, "type") && add_scalar(os, osf, "type", "hvm") < 0)
		return -ENOMEM;
	for (size_t i = 0; disks && i < disks->n_kids; i++) {
		struct ds_node *disk = disks->kids[i];
		struct ds_node *src = ds_node_get(disk, "source");
		const char *type = ds_disk_type_of(src);
		struct ds_node *device = ds_node_get(disk, "device");
		if (!ds_node_get(disk, "type") &&
		    add_scalar(disk, diskf, "type", type) < 0)
			return -ENOMEM;
		/* libvirt makes every cdrom read-only */
		if (device && device->str && !strcmp(device->str, "cdrom") &&
		    !ds_node_get(disk, "readonly")) {
			if (add_scalar(disk, diskf, "readonly", "true") < 0)
				return -ENOMEM;
			ds_node_get(disk, "readonly")->v.b = true;
		}
	}
	if (boot_default(root) < 0 || seclabel_defaults(root) < 0)
		return -ENOMEM;
	return vcpu_defaults(root);
}
