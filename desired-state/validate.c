/* Rules between fields: what the schema walk cannot see alone, and what
 * libvirt would refuse later, said in the file's own terms before anything
 * is sent. Each rule is a function that reports what it finds. */
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "cpuset.h"
#include "domain.h"
#include "schema.h"
#include "units.h"
#include "validate.h"

static int check_vcpus(const struct ds_node *root, struct ds_diags *d)
{
	const struct ds_node *max = get(root, "vcpu.value");
	const struct ds_node *cur = get(root, "vcpu.current");
	const struct ds_node *cpuset = get(root, "vcpu.cpuset");

	if (max && cur && cur->v.u > max->v.u) {
		ds_diags_add(d, cur->mark,
			     "'vcpu.current' (%" PRIu64 ") is more than the "
			     "maximum 'vcpu.value' (%" PRIu64 ")",
			     cur->v.u, max->v.u);
		return -1;
	}
	if (cpuset && get(root, "vcpu.placement") &&
	    !strcmp(get(root, "vcpu.placement")->str, "auto")) {
		ds_diags_add(d, at(cpuset),
			     "'vcpu.cpuset' cannot be combined with "
			     "'placement: auto', which lets numad choose");
		return -1;
	}
	return 0;
}

static int check_memory(const struct ds_node *root, struct ds_diags *d)
{
	const struct ds_node *mem = get(root, "memory.value");
	struct ds_node derived = {.kind = DS_NODE_SCALAR};
	const char *what = "'memory'";
	const struct ds_node *cur = get(root, "currentMemory");
	const struct ds_node *max = get(root, "maxMemory.value");
	const struct ds_node *maxmap = get(root, "maxMemory");
	char a[DS_SIZE_BUFLEN], b[DS_SIZE_BUFLEN];
	int r = 0;

	/* NUMA cells give the total when the file leaves it out; a rule
	 * about it then points at the cells */
	if (!given(root, "memory")) {
		if (!given(root, "cpu.numa.cell")) {
			ds_diags_add(
			    d, root->mark,
			    "'memory' is required (or NUMA cells under "
			    "'cpu.numa', whose sizes make it)");
			return -1;
		}
		if (!ds_memory_derived(root, &derived.v.u))
			return 0; /* a cell's size is reported missing */
		derived.mark = at(ds_node_path(root, "cpu.numa.cell"));
		mem = &derived;
		what = "the memory of the NUMA cells and memory devices";
	}
	if (mem && mem->v.u == 0) {
		ds_diags_add(d, mem->mark, "%s must be more than 0", what);
		r = -1;
	}
	if (mem && cur && cur->v.u > mem->v.u) {
		ds_diags_add(d, cur->mark,
			     "'currentMemory' (%s) is more than %s (%s)",
			     ds_size_format(cur->v.u, a, sizeof(a)), what,
			     ds_size_format(mem->v.u, b, sizeof(b)));
		r = -1;
	}
	/* QEMU starts with the memory less the memory devices' (-m size=),
	 * and wants room above it when there are slots */
	if (mem && max &&
	    (mem->v.u > max->v.u ||
	     (mem->v.u == max->v.u && !ds_memory_devices(root)))) {
		ds_diags_add(d, mem->mark,
			     mem->v.u == max->v.u
				 ? "%s (%s) is all of 'maxMemory' (%s): "
				   "QEMU wants room for the hotplug slots"
				 : "%s (%s) is more than 'maxMemory' (%s)",
			     what, ds_size_format(mem->v.u, a, sizeof(a)),
			     ds_size_format(max->v.u, b, sizeof(b)));
		r = -1;
	}
	if (maxmap && !given(root, "maxMemory.slots")) {
		ds_diags_add(d, at(maxmap),
			     "'maxMemory' needs 'slots', the number of memory "
			     "hotplug slots, as {value: 4 GiB, slots: 16}");
		r = -1;
	}
	const struct ds_node *slots = get(root, "maxMemory.slots");
	const struct ds_node *mems = get(root, "devices.memory");
	size_t hot = 0;
	for (size_t i = 0; mems && i < mems->n_kids; i++) {
		const struct ds_node *model = kid(mems->kids[i], "model");
		/* SGX EPC sections take no hotplug slot */
		hot += !(model && model->str && !strcmp(model->str, "sgx-epc"));
	}
	if (slots && hot > slots->v.u) {
		ds_diags_add(d, at(mems),
			     "%zu memory devices, but 'maxMemory' has %" PRIu64
			     " slots: each takes one",
			     hot, slots->v.u);
		r = -1;
	}
	if (maxmap && !given(root, "cpu.numa.cell")) {
		ds_diags_add(d, at(maxmap),
			     "'maxMemory' needs a NUMA cell under 'cpu.numa' "
			     "(libvirt hot-plugs memory into a cell), as "
			     "numa: [{id: 0, cpus: 0-1, memory: 512 MiB}]");
		r = -1;
	}
	return r;
}

/* libvirt takes the total memory from the NUMA cells, and refuses cells
 * whose CPUs overlap or lie beyond the vCPUs (the vCPUs no cell has, the
 * QEMU driver adds to cell 0: ds_tree_normalise_domain()). */
static int check_numa(const struct ds_node *root, struct ds_diags *d)
{
	const struct ds_node *cells = get(root, "cpu.numa.cell");
	const struct ds_node *mem = get(root, "memory.value");
	const struct ds_node *vmax = get(root, "vcpu.value");
	uint64_t vcpus = vmax ? vmax->v.u : 1, total = 0;
	struct ds_cpuset seen = {{0}};
	char a[DS_SIZE_BUFLEN], b[DS_SIZE_BUFLEN], err[128];
	bool complete = true;
	int r = 0;

	if (!cells)
		return 0;
	for (size_t i = 0; i < cells->n_kids; i++) {
		const struct ds_node *c = cells->kids[i];
		const struct ds_node *cpus = kid(c, "cpus");
		const struct ds_node *cm = kid(c, "memory");
		const struct ds_node *id = kid(c, "id");
		struct ds_cpuset set;
		if (cm)
			total += cm->v.u;
		else
			complete = false;
		if (id && id->v.u != i) {
			ds_diags_add(
			    d, id->mark,
			    "NUMA cell ids run 0, 1, 2… in order: this "
			    "cell's id is %" PRIu64 ", not %zu",
			    id->v.u, i);
			r = -1;
		}
		if (!cpus)
			continue;
		if (ds_cpuset_parse(cpus->str, &set, err, sizeof(err)))
			continue; /* reported by the schema walk */
		if ((uint64_t)ds_cpuset_last(&set) >= vcpus) {
			ds_diags_add(
			    d, cpus->mark,
			    "NUMA cell CPUs \"%s\" go beyond the %" PRIu64
			    " vCPUs of 'vcpu.value' (numbered from 0)",
			    cpus->str, vcpus);
			r = -1;
		}
		for (size_t w = 0; w < DS_CPUSET_MAX / 64; w++) {
			if (seen.bits[w] & set.bits[w]) {
				ds_diags_add(
				    d, cpus->mark,
				    "NUMA cell CPUs \"%s\" are also in "
				    "another cell",
				    cpus->str);
				r = -1;
				break;
			}
			seen.bits[w] |= set.bits[w];
		}
	}
	uint64_t derived;
	if (mem && complete && ds_memory_derived(root, &derived) &&
	    derived != mem->v.u) {
		ds_diags_add(
		    d, mem->mark,
		    "'memory' (%s) differs from the total of the NUMA "
		    "cells%s (%s); libvirt would take that total (leave "
		    "'memory' out to let it)",
		    ds_size_format(mem->v.u, a, sizeof(a)),
		    derived != total ? " and the memory devices" : "",
		    ds_size_format(derived, b, sizeof(b)));
		r = -1;
	}
	return r;
}

static int check_topology(const struct ds_node *root, struct ds_diags *d)
{
	static const char *const parts[] = {"sockets", "dies", "cores",
					    "threads"};
	const struct ds_node *topo = get(root, "cpu.topology");
	const struct ds_node *vmax = get(root, "vcpu.value");
	uint64_t product = 1;

	if (!topo)
		return 0;
	for (size_t i = 0; i < 4; i++) {
		const struct ds_node *p = kid(topo, parts[i]);
		if (!p && ds_node_get(topo, parts[i]))
			return 0; /* given but rejected: already reported */
		if (p)
			product *= p->v.u;
		else if (i != 1) {
			ds_diags_add(d, at(topo),
				     "'cpu.topology' needs 'sockets', 'cores' "
				     "and 'threads'");
			return -1;
		}
	}
	if (product != (vmax ? vmax->v.u : 1)) {
		ds_diags_add(d, at(topo),
			     "'cpu.topology' gives %" PRIu64 " vCPUs, but "
			     "'vcpu.value' is %" PRIu64 "; they must match",
			     product, vmax ? vmax->v.u : 1);
		return -1;
	}
	return 0;
}

static bool has_feature(const struct ds_node *root, const char *name)
{
	const struct ds_node *f = get(root, "features");

	return f && f->kind == DS_NODE_MAP && ds_node_get(f, name);
}

/* Whether a raw fragment for <domain> gives a <sysinfo>; the fragments are
 * parsed when rendering, so a plain search is enough here. */
static bool has_sysinfo(const struct ds_node *frags)
{
	for (size_t i = 0; frags && i < frags->n_kids; i++)
		if (frags->kids[i]->str &&
		    strstr(frags->kids[i]->str, "<sysinfo"))
			return true;
	return false;
}

static int check_firmware(const struct ds_node *root, struct ds_diags *d)
{
	const struct ds_node *useserial = get(root, "os.bios.useserial");
	const struct ds_node *uefi = get(root, "os.firmware");
	int r = 0;

	if (!str_is(uefi, "efi"))
		uefi = get(root, "os.nvram");
	if (!uefi && str_is(get(root, "os.loader.type"), "pflash"))
		uefi = get(root, "os.loader");
	if (uefi && !has_feature(root, "acpi")) {
		ds_diags_add(d, at(uefi),
			     "UEFI firmware needs 'acpi' in 'features'");
		r = -1;
	}
	if (useserial && useserial->v.b && !given(root, "devices.serial")) {
		ds_diags_add(d, useserial->mark,
			     "'os.bios.useserial' needs a serial port, as "
			     "devices: {serial: [pty]}");
		r = -1;
	}
	if (str_is(get(root, "os.smbios.mode"), "sysinfo") &&
	    !get(root, "sysinfo") && !has_sysinfo(get(root, "xml.domain"))) {
		ds_diags_add(d, get(root, "os.smbios.mode")->mark,
			     "'os.smbios: sysinfo' takes its tables from a "
			     "'sysinfo' of type smbios; give one, or one under "
			     "'xml.domain'");
		r = -1;
	}
	return r;
}

/* Per-device boot order and <os><boot> exclude each other in libvirt, and
 * two devices cannot share an order. */
static int check_boot_order(const struct ds_node *root, struct ds_diags *d)
{
	static const char *const lists[] = {"devices.disk",
					    "devices.interface"};
	const struct ds_node *osboot = get(root, "os.boot");
	const struct ds_node *seen[64] = {0};
	size_t n_seen = 0;
	int r = 0;

	for (size_t l = 0; l < 2; l++) {
		const struct ds_node *list = get(root, lists[l]);
		for (size_t i = 0; list && i < list->n_kids; i++) {
			const struct ds_node *b =
			    get(list->kids[i], "boot.order");
			if (!b)
				continue;
			if (osboot) {
				ds_diags_add(
				    d, get(list->kids[i], "boot")->key_mark,
				    "a device's 'boot' order cannot be "
				    "combined with 'os.boot' (line %u)",
				    osboot->key_mark.line);
				r = -1;
			}
			for (size_t j = 0; j < n_seen; j++) {
				if (seen[j]->v.u == b->v.u) {
					ds_diags_add(
					    d, b->mark,
					    "boot order %" PRIu64
					    " is also given at line %u",
					    b->v.u, seen[j]->mark.line);
					r = -1;
				}
			}
			if (n_seen < DS_ARRAY_SIZE(seen))
				seen[n_seen++] = b;
		}
	}
	return r;
}

static int check_disk(const struct ds_node *disk, struct ds_diags *d)
{
	/* the source keys that say a type, and the type each fits */
	static const char *const needs[][2] = {
	    {"file", "file"},     {"block", "dev"},     {"volume", "pool"},
	    {"volume", "volume"}, {"dir", "dir"},       {"network", "protocol"},
	    {"nvme", "type"},     {"vhostuser", "type"}};
	const struct ds_node *type = kid(disk, "type");
	const struct ds_node *dev = kid(disk, "device");
	const struct ds_node *src = kid(disk, "source");

	if (!src && ds_node_get(disk, "source"))
		return 0; /* given but rejected: already reported */
	/* without a type, the source says it (as libvirt's own default
	 * would not: it takes file) */
	const char *t = type ? type->str : ds_disk_type_of(src);
	bool removable = str_is(dev, "cdrom") || str_is(dev, "floppy");

	if (!src) {
		if (removable && type && !str_is(type, "file")) {
			ds_diags_add(d, at(type),
				     "an empty drive has no source to be of "
				     "type '%s'; leave 'type' out",
				     type->str);
			return -1;
		}
		if (removable)
			return 0;
		ds_diags_add(d, disk->mark,
			     "a disk needs a 'source' (only a cdrom or floppy "
			     "may be empty)");
		return -1;
	}
	for (size_t i = 0; i < src->n_kids; i++) {
		const char *k = src->kids[i]->key;
		bool ok = false, typed = false;
		if (!src->kids[i]->field || src->kids[i]->bad)
			continue; /* reported by the schema walk */
		for (size_t j = 0; j < DS_ARRAY_SIZE(needs); j++) {
			typed |= !strcmp(needs[j][1], k);
			ok |=
			    !strcmp(needs[j][0], t) && !strcmp(needs[j][1], k);
		}
		ok |= !typed; /* the rest is for libvirt's schema to judge */
		if (!ok) {
			ds_diags_add(d, src->kids[i]->key_mark,
				     "'source.%s' does not fit a disk of type "
				     "'%s'",
				     k, t);
			return -1;
		}
	}
	for (size_t j = 0; j < DS_ARRAY_SIZE(needs); j++) {
		if (!strcmp(needs[j][0], t) && !ds_node_get(src, needs[j][1])) {
			ds_diags_add(d, at(src),
				     "a disk of type '%s' needs 'source.%s'", t,
				     needs[j][1]);
			return -1;
		}
	}
	if (!strcmp(t, "volume") && !ds_node_get(src, "volume")) {
		ds_diags_add(d, at(src),
			     "a disk of type 'volume' needs 'source.volume'");
		return -1;
	}
	return 0;
}

static bool is_machine(const struct ds_node *root, const char *alias,
		       const char *family)
{
	const struct ds_node *m = get(root, "os.machine");

	return m && (!strcmp(m->str, alias) ||
		     !strncmp(m->str, family, strlen(family)));
}

/* The QEMU driver (kvm, qemu: the types a file without one gets). */
static bool qemu_driver(const struct ds_node *root)
{
	const struct ds_node *t = get(root, "type");

	return !t || str_is(t, "kvm") || str_is(t, "qemu");
}

/* What libvirt's QEMU driver refuses of a disk, said before the call. */
static int check_disk_bus(const struct ds_node *root,
			  const struct ds_node *disk, struct ds_diags *d)
{
	const struct ds_node *dev = kid(disk, "device");
	const struct ds_node *bus = get(disk, "target.bus");
	const struct ds_node *target = get(disk, "target.dev");
	const struct ds_node *ro = kid(disk, "readonly");
	const struct ds_node *shared = kid(disk, "shareable");
	const struct ds_node *fmt = get(disk, "driver.type");
	const struct ds_node *drv_name = get(disk, "driver.name");
	const struct ds_node *io = get(disk, "driver.io");
	const struct ds_node *cache = get(disk, "driver.cache");
	const char *b = bus ? bus->str : NULL;
	bool cdrom = str_is(dev, "cdrom");
	int r = 0;

	/* libvirt takes the bus from the target's name when none is given */
	if (!b && target)
		b = !strncmp(target->str, "vd", 2)   ? "virtio"
		    : !strncmp(target->str, "hd", 2) ? "ide"
		    : !strncmp(target->str, "sd", 2) ? "scsi"
						     : NULL;
	if (cdrom && ro && !ro->v.b) {
		ds_diags_add(d, ro->key_mark,
			     "a cdrom is always read-only (libvirt makes it "
			     "so); leave 'readonly' out");
		r = -1;
	}
	if (!qemu_driver(root))
		return r;
	if (ro && ro->v.b && !cdrom && !str_is(dev, "floppy") && b &&
	    (!strcmp(b, "sata") || !strcmp(b, "ide"))) {
		ds_diags_add(d, ro->key_mark,
			     "QEMU has no read-only %s disks; use bus virtio, "
			     "scsi or usb for a read-only disk",
			     b);
		r = -1;
	}
	if (cdrom && b && (!strcmp(b, "virtio") || !strcmp(b, "sd"))) {
		ds_diags_add(d, bus ? bus->mark : target->mark,
			     "a cdrom cannot be on %s (no ejectable media "
			     "there); use sata, scsi or ide",
			     b);
		r = -1;
	}
	if (b && (!strcmp(b, "fdc") != str_is(dev, "floppy"))) {
		ds_diags_add(d, bus ? bus->mark : target->mark,
			     "a floppy goes on bus fdc, and only a floppy");
		r = -1;
	}
	if (drv_name && !str_is(drv_name, "qemu")) {
		ds_diags_add(d, drv_name->mark,
			     "QEMU's disks have driver name 'qemu'");
		r = -1;
	}
	if (fmt && (str_is(fmt, "iso") || str_is(fmt, "fat"))) {
		ds_diags_add(d, fmt->mark,
			     "QEMU reads no '%s' format: an ISO image is "
			     "'raw'",
			     fmt->str);
		r = -1;
	}
	if (str_is(io, "native") && !str_is(cache, "none") &&
	    !str_is(cache, "directsync")) {
		ds_diags_add(d, io->mark,
			     "'io: native' needs 'cache: none' or "
			     "'cache: directsync' in QEMU");
		r = -1;
	}
	if (b && !strcmp(b, "ide") && is_machine(root, "q35", "pc-q35-")) {
		ds_diags_add(d, bus ? bus->mark : target->mark,
			     "machine q35 has no IDE bus; use sata");
		r = -1;
	}
	if (shared && shared->v.b && fmt && !str_is(fmt, "raw")) {
		ds_diags_add(d, fmt->mark,
			     "QEMU shares only raw disks, and this one is "
			     "'%s' ('shareable' at line %u)",
			     fmt->str, shared->key_mark.line);
		r = -1;
	}
	return r;
}

/* libvirt drops or refuses these combinations of os and cpu fields. */
static int check_os_cpu(const struct ds_node *root, struct ds_diags *d)
{
	const struct ds_node *fw = get(root, "os.firmware");
	const struct ds_node *loader = get(root, "os.loader");
	const struct ds_node *menu = get(root, "os.bootmenu.enable");
	const struct ds_node *timeout = get(root, "os.bootmenu.timeout");
	const struct ds_node *boot = get(root, "os.boot");
	const struct ds_node *mode = get(root, "cpu.mode");
	const struct ds_node *match = get(root, "cpu.match");
	const struct ds_node *model = get(root, "cpu.model");
	const struct ds_node *check = get(root, "cpu.check");
	bool custom = !mode || str_is(mode, "custom");
	int r = 0;

	if (qemu_driver(root) && get(root, "os.type") &&
	    !str_is(get(root, "os.type"), "hvm")) {
		ds_diags_add(d, get(root, "os.type")->mark,
			     "QEMU runs 'hvm' guests only");
		r = -1;
	}
	/* libvirt 9.0 takes 'secure' as a wish for what it picks, and
	 * refuses the loader's path, type and readonly */
	for (size_t i = 0; str_is(fw, "efi") && loader &&
			   loader->kind == DS_NODE_MAP && i < loader->n_kids;
	     i++) {
		if (!strcmp(loader->kids[i]->key, "secure"))
			continue;
		ds_diags_add(d, at(loader->kids[i]),
			     "with 'firmware: efi' libvirt picks the loader "
			     "itself and refuses one given; of 'loader' keep "
			     "only 'secure', or leave 'firmware' out to give "
			     "the loader");
		r = -1;
		break;
	}
	if (menu && !menu->v.b && timeout) {
		ds_diags_add(d, at(timeout),
			     "'timeout' applies to a boot menu that is "
			     "enabled; libvirt drops it with 'enable: false'");
		r = -1;
	}
	if (boot && boot->n_kids > 4) {
		ds_diags_add(d, boot->kids[4]->mark,
			     "'os.boot' takes at most 4 devices; libvirt "
			     "drops the rest");
		r = -1;
	}
	if (match && !custom) {
		ds_diags_add(d, at(match),
			     "'cpu.match' applies to mode custom; libvirt "
			     "drops it with mode %s",
			     mode->str);
		r = -1;
	}
	if (model &&
	    (str_is(mode, "host-passthrough") || str_is(mode, "maximum"))) {
		ds_diags_add(d, at(model),
			     "'cpu.model' does not apply to mode %s; libvirt "
			     "drops it",
			     mode->str);
		r = -1;
	}
	if (check && custom && !model) {
		ds_diags_add(d, at(check),
			     "'cpu.check' needs a 'cpu.model' with mode "
			     "custom: without one libvirt puts its default "
			     "CPU, checked 'none', in its place");
		r = -1;
	}
	return r;
}

static int check_clock(const struct ds_node *root, struct ds_diags *d)
{
	static const char *const needs[][2] = {{"timezone", "timezone"},
					       {"absolute", "start"}};
	static const char *const only[][2] = {{"timezone", "timezone"},
					      {"start", "absolute"},
					      {"adjustment", "variable"},
					      {"basis", "variable"}};
	const struct ds_node *clock = get(root, "clock");
	const struct ds_node *offset = kid(clock, "offset");
	int r = 0;

	if (!offset)
		return 0;
	for (size_t i = 0; i < DS_ARRAY_SIZE(needs); i++)
		if (str_is(offset, needs[i][0]) &&
		    !ds_node_get(clock, needs[i][1])) {
			ds_diags_add(d, at(offset),
				     "'offset: %s' needs 'clock.%s'",
				     needs[i][0], needs[i][1]);
			r = -1;
		}
	for (size_t i = 0; i < DS_ARRAY_SIZE(only); i++) {
		const struct ds_node *k = kid(clock, only[i][0]);
		if (k && !str_is(offset, only[i][1])) {
			ds_diags_add(d, at(k),
				     "'clock.%s' applies to 'offset: %s'",
				     only[i][0], only[i][1]);
			r = -1;
		}
	}
	return r;
}

/* The QEMU driver's lifecycle actions. */
static int check_lifecycle(const struct ds_node *root, struct ds_diags *d)
{
	static const char *const keys[] = {"on_poweroff", "on_reboot",
					   "on_crash"};
	int r = 0;

	if (!qemu_driver(root))
		return 0;
	for (size_t i = 0; i < DS_ARRAY_SIZE(keys); i++) {
		const struct ds_node *a = get(root, keys[i]);
		if (!a || !(str_is(a, "rename-restart") ||
			    (i < 2 && str_is(a, "preserve"))))
			continue;
		ds_diags_add(d, a->mark,
			     "libvirt's QEMU driver has no '%s' action for "
			     "'%s'",
			     a->str, keys[i]);
		r = -1;
	}
	return r;
}

/* libvirt pairs the first console with the first serial port: a serial
 * console is that port, and one without a serial port gets port 0. */
/* Features of POWER guests: libvirt refuses them for other architectures,
 * and a file without an arch gets the host's. */
/* libvirt drops the retries of spinlocks that are off. */
static int check_spinlocks(const struct ds_node *root, struct ds_diags *d)
{
	const struct ds_node *state =
	    get(root, "features.hyperv.spinlocks.state");
	const struct ds_node *retries =
	    get(root, "features.hyperv.spinlocks.retries");

	if (!state || state->v.b || !retries)
		return 0;
	ds_diags_add(d, at(retries),
		     "'retries' applies to spinlocks that are on; libvirt "
		     "drops it beside 'state: false'");
	return -1;
}

static int check_features(const struct ds_node *root, struct ds_diags *d)
{
	static const char *const power[] = {"htm", "nested-hv", "ccf-assist"};
	const struct ds_node *f = get(root, "features");
	const struct ds_node *arch = get(root, "os.arch");
	int r = 0;

	if ((arch && !strncmp(arch->str, "ppc64", 5)) ||
	    (f && f->kind != DS_NODE_MAP))
		return 0;
	for (size_t i = 0; f && i < f->n_kids; i++)
		for (size_t j = 0; j < DS_ARRAY_SIZE(power); j++)
			if (!strcmp(f->kids[i]->key, power[j])) {
				ds_diags_add(d, f->kids[i]->key_mark,
					     "'%s' is a feature of POWER "
					     "guests: it needs 'os.arch: "
					     "ppc64' or 'ppc64le'",
					     power[j]);
				r = -1;
			}
	return r;
}

static int check_consoles(const struct ds_node *root, struct ds_diags *d)
{
	const struct ds_node *cons = get(root, "devices.console");
	const struct ds_node *serials = get(root, "devices.serial");
	const struct ds_node *first, *type, *port;

	if (!cons || !cons->n_kids || cons->kids[0]->bad)
		return 0;
	for (size_t i = 0; i < cons->n_kids; i++) {
		const struct ds_node *t = get(cons->kids[i], "target.type");
		const struct ds_node *p = get(cons->kids[i], "target.port");
		if (cons->kids[i]->bad)
			continue;
		if (i > 0 && (!t || str_is(t, "serial"))) {
			ds_diags_add(d, t ? t->mark : cons->kids[i]->mark,
				     "only the first console can be a serial "
				     "port; give this one 'target: virtio'");
			return -1;
		}
		if (t && !str_is(t, "serial") && p) {
			ds_diags_add(d, at(p),
				     "libvirt numbers %s consoles itself, in "
				     "order; leave 'port' out",
				     t->str);
			return -1;
		}
	}
	first = cons->kids[0];
	type = get(first, "target.type");
	port = get(first, "target.port");
	if ((type && !str_is(type, "serial")) || !port || port->v.u == 0)
		return 0;
	for (size_t i = 0; serials && i < serials->n_kids; i++) {
		const struct ds_node *sp = get(serials->kids[i], "target.port");
		if (sp && sp->v.u == port->v.u)
			return 0;
	}
	ds_diags_add(d, port->mark,
		     "a serial console is a serial port: give a serial port "
		     "%" PRIu64 " under 'devices.serial' (without one, "
		     "libvirt makes the console port 0)",
		     port->v.u);
	return -1;
}

/* The address a SPICE server without a port, a TLS port or autoport is
 * given, which libvirt drops, making the listen one of type none
 * (virDomainDefPostParseGraphics); NULL when there is none. */
static const struct ds_node *spice_address(const struct ds_node *g)
{
	const struct ds_node *autoport = kid(g, "autoport");
	const struct ds_node *port = kid(g, "port");
	const struct ds_node *tls = kid(g, "tlsPort");
	const struct ds_node *listens = kid(g, "listen_element");
	const struct ds_node *first =
	    listens && listens->n_kids ? listens->kids[0] : NULL;
	const struct ds_node *addr = first ? kid(first, "address") : NULL;

	if (!str_is(kid(g, "type"), "spice") || (autoport && autoport->v.b) ||
	    (port && port->v.i != 0) || (tls && tls->v.i != 0) ||
	    (first && !str_is(kid(first, "type"), "address")))
		return NULL;
	return addr ? addr : kid(g, "listen");
}

/* Graphics ports: libvirt picks one with autoport, and QEMU's VNC server
 * listens on 5900 and up. */
static int check_graphics(const struct ds_node *root, struct ds_diags *d)
{
	const struct ds_node *list = get(root, "devices.graphics");
	int r = 0;

	for (size_t i = 0; list && i < list->n_kids; i++) {
		const struct ds_node *g = list->kids[i];
		const struct ds_node *autoport = kid(g, "autoport");
		const struct ds_node *port = kid(g, "port");
		const struct ds_node *pw = kid(g, "passwd");
		const struct ds_node *addr;
		if (g->bad)
			continue;
		/* QEMU's VNC authentication takes 8 characters (libvirt
		 * refuses more) */
		if (str_is(kid(g, "type"), "vnc") && pw && pw->str &&
		    strlen(pw->str) > 8) {
			ds_diags_add(d, pw->mark,
				     "a VNC password is at most 8 bytes "
				     "(this one has %zu)",
				     strlen(pw->str));
			r = -1;
		}
		if ((addr = spice_address(g))) {
			ds_diags_add_dropped(d, at(addr),
					     "a SPICE server listens only with "
					     "a port, a TLS port or 'autoport: "
					     "true'; libvirt drops the address "
					     "otherwise");
			r = -1;
		}
		if (!port)
			continue;
		if (autoport && autoport->v.b && port->v.i != -1) {
			ds_diags_add(d, port->mark,
				     "a port with 'autoport: true' is not "
				     "used: libvirt picks the port; give one "
				     "or the other");
			r = -1;
		} else if (autoport && !autoport->v.b && port->v.i == -1) {
			ds_diags_add(d, port->mark,
				     "'autoport: false' needs a port; -1 "
				     "asks libvirt to pick one");
			r = -1;
		} else if (str_is(kid(g, "type"), "vnc") && port->v.i >= 0 &&
			   port->v.i < 5900) {
			ds_diags_add(d, port->mark,
				     "a VNC port is 5900 to 65535 (or -1 with "
				     "'autoport: true': libvirt picks one)");
			r = -1;
		}
	}
	return r;
}

static int check_disks(const struct ds_node *root, struct ds_diags *d)
{
	const struct ds_node *disks = get(root, "devices.disk");
	int r = 0;

	for (size_t i = 0; disks && i < disks->n_kids; i++) {
		const struct ds_node *dev = get(disks->kids[i], "target.dev");
		if (disks->kids[i]->bad)
			continue;
		if (check_disk(disks->kids[i], d) < 0 ||
		    check_disk_bus(root, disks->kids[i], d) < 0)
			r = -1;
		for (size_t j = 0; dev && j < i; j++) {
			const struct ds_node *other =
			    get(disks->kids[j], "target.dev");
			if (other && !strcmp(other->str, dev->str)) {
				ds_diags_add(d, dev->mark,
					     "disk target '%s' is also used at "
					     "line %u",
					     dev->str, other->mark.line);
				r = -1;
			}
		}
	}
	return r;
}

static int check_interfaces(const struct ds_node *root, struct ds_diags *d)
{
	static const char *const needs[][2] = {
	    {"network", "network"}, {"bridge", "bridge"}, {"direct", "dev"}};
	const struct ds_node *ifs = get(root, "devices.interface");
	int r = 0;

	for (size_t i = 0; ifs && i < ifs->n_kids; i++) {
		const struct ds_node *nic = ifs->kids[i];
		if (nic->bad)
			continue;
		const struct ds_node *type = kid(nic, "type");
		const struct ds_node *src = kid(nic, "source");
		if (!type)
			continue;
		for (size_t j = 0; j < DS_ARRAY_SIZE(needs); j++) {
			if (strcmp(needs[j][0], type->str) ||
			    ds_node_get(src, needs[j][1]))
				continue;
			ds_diags_add(d, at(nic),
				     "an interface of type '%s' needs "
				     "'source.%s'",
				     type->str, needs[j][1]);
			r = -1;
		}
		if (str_is(type, "user") && src) {
			ds_diags_add(d, at(src),
				     "an interface of type 'user' takes no "
				     "'source'");
			r = -1;
		}
	}
	return r;
}

/* The elements of a hypervisor's namespace (qemu.commandline) are read by
 * that driver alone; another drops them. */
static int check_namespaces(const struct ds_node *root, struct ds_diags *d)
{
	static const char *const drivers[][3] = {
	    {"qemu", "QEMU", "kvm or qemu"}, {"lxc", "LXC", "lxc"},
	    {"xen", "Xen", "xen"},           {"bhyve", "bhyve", "bhyve"},
	    {"vmware", "ESX", "vmware"},
	};
	const struct ds_node *t = get(root, "type");
	int r = 0;

	for (size_t i = 0; i < DS_ARRAY_SIZE(drivers); i++) {
		const struct ds_node *g = get(root, drivers[i][0]);
		bool read =
		    i == 0 ? qemu_driver(root) : str_is(t, drivers[i][0]);
		if (!g || g->bad || read)
			continue;
		ds_diags_add(d, g->key_mark,
			     "'%s' is read by libvirt's %s driver alone (type "
			     "%s); a domain of type '%s'%s would drop it",
			     drivers[i][0], drivers[i][1], drivers[i][2],
			     t ? t->str : "kvm", t ? "" : " (the default)");
		r = -1;
	}
	return r;
}

/* Whether an interface's model is one of libvirt's virtio models, which
 * it finds without case (virDomainNetIsVirtioModel). */
static bool virtio_nic(const struct ds_node *nic)
{
	static const char *const virtio[] = {"virtio", "virtio-transitional",
					     "virtio-non-transitional"};
	const struct ds_node *model = get(nic, "model.type");

	for (size_t i = 0; model && i < DS_ARRAY_SIZE(virtio); i++)
		if (!strcasecmp(model->str, virtio[i]))
			return true;
	return false;
}

/* libvirt reads a NIC's driver settings and vhost device only for a
 * virtio model given in the file, and drops them otherwise
 * (virDomainNetDefParseXMLDriver, virDomainNetBackendParseXML; the
 * QEMU driver's default model comes after): say so where they are. */
static int check_nic_virtio(const struct ds_node *nic, struct ds_diags *d)
{
	static const char *const virtio_only[] = {
	    "driver.name",          "driver.queues", "driver.rx_queue_size",
	    "driver.tx_queue_size", "driver.txmode", "driver.ioeventfd",
	    "driver.event_idx",     "driver.rss",    "driver.rss_hash_report",
	    "driver.host",          "driver.guest",  "backend.vhost"};
	const struct ds_node *model = get(nic, "model.type");
	int r = 0;

	if (str_is(kid(nic, "type"), "hostdev") || virtio_nic(nic))
		return 0;
	for (size_t i = 0; i < DS_ARRAY_SIZE(virtio_only); i++) {
		const struct ds_node *k = get(nic, virtio_only[i]);
		if (!k)
			continue;
		if (model)
			ds_diags_add_dropped(
			    d, at(k),
			    "'%s' applies to a virtio model; libvirt drops it "
			    "for model %s",
			    virtio_only[i], model->str);
		else
			ds_diags_add_dropped(
			    d, at(k),
			    "'%s' applies to a virtio model, given in "
			    "'model'; libvirt drops it without one",
			    virtio_only[i]);
		r = -1;
	}
	return r;
}

static int check_nics(const struct ds_node *root, struct ds_diags *d)
{
	const struct ds_node *ifs = get(root, "devices.interface");
	int r = 0;

	for (size_t i = 0; ifs && i < ifs->n_kids; i++)
		if (!ifs->kids[i]->bad && check_nic_virtio(ifs->kids[i], d) < 0)
			r = -1;
	return r;
}

/* What libvirt drops or refuses of a shmem device
 * (virDomainShmemDefParseXML, qemuDomainShmemDefPostParse): a role with
 * model ivshmem, the default; msi without a server; a doorbell without a
 * server or with a size; ivshmem-plain with a server. */
static int check_shmem(const struct ds_node *shm, struct ds_diags *d)
{
	const struct ds_node *model = get(shm, "model.type");
	const struct ds_node *role = kid(shm, "role");
	const struct ds_node *size = kid(shm, "size");
	const struct ds_node *server = kid(shm, "server");
	const struct ds_node *msi = kid(shm, "msi");
	bool doorbell = str_is(model, "ivshmem-doorbell");

	if (role && (!model || str_is(model, "ivshmem"))) {
		ds_diags_add_dropped(d, at(role),
				     "'role' applies to models ivshmem-plain "
				     "and ivshmem-doorbell; libvirt drops it "
				     "with model ivshmem (the default)");
		return -1;
	}
	if (msi && !server) {
		ds_diags_add(d, at(msi), "'msi' needs a 'server'");
		return -1;
	}
	if (doorbell && (!server || size)) {
		ds_diags_add(d, at(size ? size : model),
			     size ? "model ivshmem-doorbell takes no 'size': "
				    "the server gives the memory"
				  : "model ivshmem-doorbell needs a 'server'");
		return -1;
	}
	if (server && str_is(model, "ivshmem-plain")) {
		ds_diags_add(d, at(server),
			     "model ivshmem-plain takes no 'server'; "
			     "ivshmem-doorbell does");
		return -1;
	}
	return 0;
}

static int check_shmems(const struct ds_node *root, struct ds_diags *d)
{
	const struct ds_node *list = get(root, "devices.shmem");
	int r = 0;

	for (size_t i = 0; list && i < list->n_kids; i++)
		if (!list->kids[i]->bad && list->kids[i]->kind == DS_NODE_MAP &&
		    check_shmem(list->kids[i], d) < 0)
			r = -1;
	return r;
}

int ds_validate(const struct ds_node *root, struct ds_diags *d)
{
	int (*const rules[])(const struct ds_node *, struct ds_diags *) = {
	    check_vcpus,    check_memory,     check_numa,      check_topology,
	    check_firmware, check_boot_order, check_disks,     check_interfaces,
	    check_os_cpu,   check_clock,      check_lifecycle, check_consoles,
	    check_graphics, check_features,   check_spinlocks, check_namespaces,
	    check_nics,     check_shmems,
	};
	int r = 0;

	for (size_t i = 0; i < DS_ARRAY_SIZE(rules); i++)
		if (rules[i](root, d) < 0)
			r = -1;
	if (ds_validate_domain(root, d) < 0)
		r = -1;
	return r;
}
