/* Defaults that libvirt fills in, made explicit in the tree, so that a
 * file and libvirt's XML compare equal when they mean the same. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "domain.h"
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

/* libvirt pairs the first console with the first serial port when its
 * target is serial (or not given): that console is the serial port, shown
 * twice. It is left out of the consoles on both sides, and a serial port
 * stands for it where none is given, as libvirt adds one. */
int ds_tree_normalise(struct ds_node *root)
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
 * follows from its source; a cdrom's readonly; all vCPUs online;
 * currentMemory = memory. */
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
	if (boot_default(root) < 0)
		return -ENOMEM;
	return vcpu_defaults(root);
}
