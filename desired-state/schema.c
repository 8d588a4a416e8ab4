#include "schema.h"

#include <stdio.h>
#include <string.h>

#define VALUES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define FIELDS(...) ((const struct ds_field[]){__VA_ARGS__, {0}})
/* Each field macro takes more designators at its end, such as REQ. */
#define REQ .required = true
/* libvirt fills the field in when a list item leaves it out */
#define FILLED .filled = true
#define STR(k, x, chk, ...)                                                   \
	{                                                                     \
		.key = k, .kind = DS_STR, .xml = x, .check = chk, __VA_ARGS__ \
	}
#define UINT(k, x, lo, hi, ...)                                            \
	{                                                                  \
		.key = k, .kind = DS_UINT, .xml = x, .min = lo, .max = hi, \
		__VA_ARGS__                                                \
	}
#define INT(k, x, lo, hi, ...)                                            \
	{                                                                 \
		.key = k, .kind = DS_INT, .xml = x, .min = lo, .max = hi, \
		__VA_ARGS__                                               \
	}
#define BOOL(k, x, ...)                                          \
	{                                                        \
		.key = k, .kind = DS_BOOL, .xml = x, __VA_ARGS__ \
	}
#define PRESENCE(k, x, ...)                                          \
	{                                                            \
		.key = k, .kind = DS_PRESENCE, .xml = x, __VA_ARGS__ \
	}
#define SIZE(k, x, ...)                                          \
	{                                                        \
		.key = k, .kind = DS_SIZE, .xml = x, __VA_ARGS__ \
	}
#define ENUM(k, x, v, ...)                                                    \
	{                                                                     \
		.key = k, .kind = DS_ENUM, .xml = x, .values = v, __VA_ARGS__ \
	}
#define MAP(k, x, sh, f, ...)                                        \
	{                                                            \
		.key = k, .kind = DS_MAP, .xml = x, .shorthand = sh, \
		.kids = f, __VA_ARGS__                               \
	}
#define LIST(k, x, item, ...)                                        \
	{                                                            \
		.key = k, .kind = DS_LIST, .xml = x,                 \
		.kids = (const struct ds_field[]){item}, __VA_ARGS__ \
	}
#define FLAGS(k, x, v, ...)                                                    \
	{                                                                      \
		.key = k, .kind = DS_FLAGS, .xml = x, .values = v, __VA_ARGS__ \
	}
#define XML(k)                                      \
	{                                           \
		.key = k, .kind = DS_XML, .xml = "" \
	}
/* A list item: a mapping with no key of its own. */
#define ITEM(sh, f)                                                    \
	{                                                              \
		.key = "", .kind = DS_MAP, .xml = "", .shorthand = sh, \
		.kids = f                                              \
	}

/* Values are libvirt's own (formatdomain, domaincommon.rng). */
static const char *const domain_types[] = {
    "kvm",   "qemu", "xen",       "lxc",    "test", "hvf",
    "bhyve", "vz",   "vmware",    "hyperv", "vbox", "openvz",
    "uml",   "phyp", "parallels", "none",   NULL};
static const char *const lifecycle[] = {"destroy", "restart", "preserve",
					"rename-restart", NULL};
static const char *const crash_actions[] = {
    "destroy",          "restart",          "preserve", "rename-restart",
    "coredump-destroy", "coredump-restart", NULL};
static const char *const features[] = {
    "acpi",    "apic",       "pae",       "hap",        "viridian",
    "privnet", "pvspinlock", "vmport",    "smm",        "vmcoreinfo",
    "pmu",     "htm",        "nested-hv", "ccf-assist", NULL};
/* libvirt 9.0's schema has no bare form of these: a listed one is on */
static const char *const stated_features[] = {"htm", "nested-hv", "ccf-assist",
					      NULL};

static const struct ds_field os_fields[] = {
    ENUM("type", "type", VALUES("hvm", "linux", "xen", "xenpvh", "exe")),
    STR("arch", "type@arch", DS_CHECK_TOKEN),
    STR("machine", "type@machine", DS_CHECK_MACHINE),
    ENUM("firmware", "@firmware", VALUES("bios", "efi")),
    MAP("loader", "loader", "value",
	FIELDS(STR("value", "", DS_CHECK_PATH), BOOL("readonly", "@readonly"),
	       BOOL("secure", "@secure"),
	       ENUM("type", "@type", VALUES("rom", "pflash")))),
    MAP("nvram", "nvram", "value",
	FIELDS(STR("value", "", DS_CHECK_PATH),
	       STR("template", "@template", DS_CHECK_PATH))),
    LIST("boot", "boot",
	 ITEM("dev", FIELDS(ENUM("dev", "@dev",
				 VALUES("fd", "hd", "cdrom", "network"), REQ))),
	 .ordered = true),
    MAP("bootmenu", "bootmenu", "enable",
	FIELDS(BOOL("enable", "@enable", REQ),
	       UINT("timeout", "@timeout", 0, 65535))),
    MAP("smbios", "smbios", "mode",
	FIELDS(
	    ENUM("mode", "@mode", VALUES("emulate", "host", "sysinfo"), REQ))),
    MAP("bios", "bios", NULL,
	FIELDS(BOOL("useserial", "@useserial"),
	       INT("rebootTimeout", "@rebootTimeout", -1, 32767))),
    {0},
};

static const struct ds_field cpu_fields[] = {
    ENUM("mode", "@mode",
	 VALUES("custom", "host-model", "host-passthrough", "maximum")),
    ENUM("match", "@match", VALUES("minimum", "exact", "strict")),
    ENUM("check", "@check", VALUES("none", "partial", "full")),
    MAP("model", "model", "value",
	FIELDS(STR("value", "", DS_CHECK_TOKEN, REQ),
	       ENUM("fallback", "@fallback", VALUES("allow", "forbid")))),
    MAP("topology", "topology", NULL,
	FIELDS(UINT("sockets", "@sockets", 1, 16384),
	       UINT("dies", "@dies", 1, 16384),
	       UINT("cores", "@cores", 1, 16384),
	       UINT("threads", "@threads", 1, 16384))),
    LIST("numa", "numa/cell",
	 ITEM(NULL, FIELDS(UINT("id", "@id", 0, 16383, FILLED),
			   STR("cpus", "@cpus", DS_CHECK_CPUSET, FILLED),
			   SIZE("memory", "@memory", REQ)))),
    {0},
};

static const struct ds_field disk_fields[] = {
    ENUM("type", "@type", VALUES("file", "block", "volume"), FILLED),
    ENUM("device", "@device", VALUES("disk", "cdrom", "floppy", "lun"), FILLED),
    MAP("driver", "driver", "name",
	FIELDS(
	    STR("name", "@name", DS_CHECK_TOKEN, FILLED),
	    ENUM("type", "@type",
		 VALUES("raw", "qcow2", "qcow", "qed", "vmdk", "vpc", "vdi",
			"vhd", "iso", "bochs", "cloop", "dmg", "fat", "ploop"),
		 FILLED),
	    ENUM("cache", "@cache",
		 VALUES("default", "none", "writethrough", "writeback",
			"directsync", "unsafe"),
		 .none = "default"),
	    ENUM("discard", "@discard", VALUES("unmap", "ignore")),
	    ENUM("io", "@io", VALUES("native", "threads", "io_uring"))),
	FILLED),
    MAP("source", "source", NULL,
	FIELDS(STR("file", "@file", DS_CHECK_PATH),
	       STR("dev", "@dev", DS_CHECK_PATH),
	       STR("pool", "@pool", DS_CHECK_TOKEN),
	       STR("volume", "@volume", DS_CHECK_LINE))),
    MAP("target", "target", "dev",
	FIELDS(STR("dev", "@dev", DS_CHECK_TOKEN, REQ),
	       ENUM("bus", "@bus",
		    VALUES("virtio", "sata", "scsi", "ide", "usb", "fdc", "sd",
			   "xen"),
		    FILLED)),
	REQ),
    PRESENCE("readonly", "readonly"),
    PRESENCE("shareable", "shareable"),
    STR("serial", "serial", DS_CHECK_SERIAL),
    UINT("boot", "boot@order", 1, 65535),
    {0},
};

static const struct ds_field interface_fields[] = {
    ENUM("type", "@type", VALUES("network", "bridge", "user", "direct"), REQ),
    MAP("source", "source", NULL,
	FIELDS(STR("network", "@network", DS_CHECK_LINE),
	       STR("bridge", "@bridge", DS_CHECK_TOKEN),
	       STR("dev", "@dev", DS_CHECK_TOKEN),
	       ENUM("mode", "@mode",
		    VALUES("vepa", "bridge", "private", "passthrough"),
		    FILLED))),
    MAP("model", "model", "type",
	FIELDS(STR("type", "@type", DS_CHECK_TOKEN, REQ)), FILLED),
    STR("mac", "mac@address", DS_CHECK_MAC, FILLED),
    UINT("boot", "boot@order", 1, 65535),
    {0},
};

static const struct ds_field graphics_fields[] = {
    ENUM("type", "@type", VALUES("vnc", "spice"), REQ),
    STR("listen", "@listen", DS_CHECK_TOKEN, FILLED),
    BOOL("autoport", "@autoport", FILLED),
    INT("port", "@port", -1, 65535, FILLED, .none = "-1"),
    STR("keymap", "@keymap", DS_CHECK_TOKEN),
    {0},
};

#define CHAR_TYPE ENUM("type", "@type", VALUES("pty"), REQ)

static const struct ds_field devices_fields[] = {
    LIST("disks", "disk", ITEM(NULL, disk_fields)),
    LIST("interfaces", "interface", ITEM("type", interface_fields)),
    LIST("graphics", "graphics", ITEM("type", graphics_fields)),
    LIST("serials", "serial",
	 ITEM("type", FIELDS(CHAR_TYPE, MAP("target", "target", "port",
					    FIELDS(UINT("port", "@port", 0,
							65535, FILLED)),
					    FILLED)))),
    LIST(
	"consoles", "console",
	ITEM("type", FIELDS(CHAR_TYPE,
			    MAP("target", "target", "type",
				FIELDS(ENUM("type", "@type",
					    VALUES("serial", "virtio"), FILLED),
				       UINT("port", "@port", 0, 65535, FILLED)),
				FILLED)))),
    {0},
};

static const struct ds_field domain_fields[] = {
    STR("name", "name", DS_CHECK_NAME, REQ),
    STR("uuid", "uuid", DS_CHECK_UUID),
    ENUM("type", "@type", domain_types),
    ENUM("state", NULL, VALUES("running", "shutoff")),
    BOOL("autostart", NULL),
    BOOL("adopt", NULL),
    STR("title", "title", DS_CHECK_LINE, .none = ""),
    STR("description", "description", DS_CHECK_NONE, .none = ""),
    MAP("maxMemory", "maxMemory", "value",
	FIELDS(SIZE("value", "", REQ), UINT("slots", "@slots", 1, 255))),
    SIZE("memory", "memory", REQ),
    SIZE("currentMemory", "currentMemory"),
    MAP("vcpu", "vcpu", "value",
	FIELDS(UINT("value", "", 1, 16384, REQ),
	       UINT("current", "@current", 1, 16384),
	       ENUM("placement", "@placement", VALUES("static", "auto")),
	       STR("cpuset", "@cpuset", DS_CHECK_CPUSET))),
    MAP("os", "os", "type", os_fields),
    FLAGS("features", "features", features, .stated = stated_features),
    MAP("cpu", "cpu", "mode", cpu_fields),
    MAP("clock", "clock", "offset",
	FIELDS(
	    ENUM("offset", "@offset",
		 VALUES("utc", "localtime", "timezone", "variable", "absolute"),
		 REQ),
	    STR("timezone", "@timezone", DS_CHECK_LINE),
	    INT("adjustment", "@adjustment", INT32_MIN, INT32_MAX),
	    ENUM("basis", "@basis", VALUES("utc", "localtime")),
	    /* libvirt's maximum: 9999-12-31 23:59:59 */
	    UINT("start", "@start", 0, 253402300799))),
    ENUM("on_poweroff", "on_poweroff", lifecycle),
    ENUM("on_reboot", "on_reboot", lifecycle),
    ENUM("on_crash", "on_crash", crash_actions),
    MAP("devices", "devices", NULL, devices_fields),
    MAP("xml", NULL, NULL, FIELDS(XML("devices"), XML("domain"))),
    {0},
};

const struct ds_field ds_schema_domain = {
    .key = "", .kind = DS_MAP, .xml = "", .kids = domain_fields};

const struct ds_field *ds_field_kid(const struct ds_field *map, const char *key)
{
	for (const struct ds_field *f = map->kids; f && f->key; f++)
		if (!strcmp(f->key, key))
			return f;
	return NULL;
}

int ds_enum_index(const char *const *values, const char *s)
{
	for (int i = 0; values[i]; i++)
		if (!strcmp(values[i], s))
			return i;
	return -1;
}

/* Optimal string alignment distance: a swap of two letters counts once. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[3][33]; /* rows i-2, i-1, i over b; longer words don't match */

	if (la > 32 || lb > 32)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *cur = d[i % 3], *prev = d[(i - 1) % 3],
		       *prev2 = d[(i + 1) % 3];
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = prev[j - 1] + cost;
			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
		}
	}
	return d[la % 3][lb];
}

const char *ds_suggest(const char *s, const char *const *cands, size_t n)
{
	size_t len = strlen(s), best = len >= 6 ? 3 : 2;
	const char *pick = NULL;

	for (size_t i = 0; i < n && cands[i]; i++) {
		size_t d = edit_distance(s, cands[i]);
		if (strcasecmp(s, cands[i]) == 0)
			d = 0;
		if (d < best && d < len) {
			best = d;
			pick = cands[i];
		}
	}
	return pick;
}

char *ds_enum_list(const char *const *values, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; values[i] && off < len; i++) {
		const char *sep = i == 0 ? "" : values[i + 1] ? ", " : " or ";
		off += snprintf(buf + off, len - off, "%s%s", sep, values[i]);
	}
	return buf;
}
