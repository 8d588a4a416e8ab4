#include "volumes.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cloudinit.h"
#include "schema.h"

static const char *const part_names[] = {"user-data", "meta-data",
					 "network-config"};

static const char *str_at(const struct ds_node *n, const char *path)
{
	const struct ds_node *v = ds_node_path(n, path);

	return v && v->kind == DS_NODE_SCALAR && !v->bad ? v->str : NULL;
}

char *ds_seed_volume_name(const char *domain)
{
	char *s = NULL;

	if (asprintf(&s, "%s-cidata.iso", domain) < 0)
		return NULL;
	for (char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
			*p = '_';
	return s;
}

/* ------------------------------------------------ the seed's CD-ROM */

/* A raw node: a scalar (str), or a map (str NULL), under key. */
static struct ds_node *raw(struct ds_node *parent, const char *key,
			   const char *str, struct ds_mark at)
{
	struct ds_node *n = ds_node_new(str ? DS_NODE_SCALAR : DS_NODE_MAP, at);

	if (!n)
		return NULL;
	n->key_mark = at;
	n->plain = true;
	if (!(n->key = strdup(key)) || (str && !(n->str = strdup(str))) ||
	    ds_node_append(parent, n) < 0) {
		ds_node_free(n);
		return NULL;
	}
	return n;
}

/* The raw tree's text at path, or NULL; {value: x} is x, as the schema
 * walk reads it. */
static const char *raw_str(const struct ds_node *n, const char *path)
{
	const struct ds_node *v = ds_node_path(n, path);

	if (v && v->kind == DS_NODE_MAP && v->n_kids == 1)
		v = ds_node_get(v, "value");
	return v && v->kind == DS_NODE_SCALAR ? v->str : NULL;
}

/* Whether a disk of the raw list takes target dev. */
static bool dev_taken(const struct ds_node *disks, const char *dev)
{
	for (size_t i = 0;
	     disks && disks->kind == DS_NODE_SEQ && i < disks->n_kids; i++) {
		const struct ds_node *t = ds_node_get(disks->kids[i], "target");
		const char *have =
		    t && t->kind == DS_NODE_SCALAR ? t->str : raw_str(t, "dev");
		if (have && !strcmp(have, dev))
			return true;
	}
	return false;
}

int ds_seed_inject(struct ds_node *root)
{
	struct ds_node *ci = ds_node_get(root, "cloudInit");
	struct ds_node *devices, *disks, *disk, *n;
	const char *machine, *arch, *name, *bus, *dev, *pool;
	_cleanup_free_ char *volume = NULL;
	char devbuf[8];
	struct ds_mark at;

	if (!ci || ci->kind != DS_NODE_MAP || root->kind != DS_NODE_MAP)
		return 0;
	at = ci->key_mark;
	name = raw_str(root, "name");
	if (!name || !(volume = ds_seed_volume_name(name)))
		return name ? -ENOMEM : 0; /* the walk says a name is needed */
	devices = ds_node_get(root, "devices");
	if (!devices && !(devices = raw(root, "devices", NULL, at)))
		return -ENOMEM;
	if (devices->kind != DS_NODE_MAP)
		return 0; /* the walk reports it */
	disks = ds_node_get(devices, "disk");
	if (!disks)
		disks = ds_node_get(devices, "disks");
	if (!disks) {
		if (!(disks = ds_node_new(DS_NODE_SEQ, at)))
			return -ENOMEM;
		disks->key_mark = at;
		if (!(disks->key = strdup("disk")) ||
		    ds_node_append(devices, disks) < 0) {
			ds_node_free(disks);
			return -ENOMEM;
		}
	}
	if (disks->kind == DS_NODE_MAP) {
		/* one disk given as the list's item: a list of it, as the
		 * schema walk would make it */
		struct ds_node *seq = ds_node_new(DS_NODE_SEQ, disks->mark);
		if (!seq)
			return -ENOMEM;
		seq->key = disks->key;
		seq->key_mark = disks->key_mark;
		disks->key = NULL;
		if (ds_node_append(seq, disks) < 0) {
			disks->key = seq->key;
			seq->key = NULL;
			ds_node_free(seq);
			return -ENOMEM;
		}
		for (size_t i = 0; i < devices->n_kids; i++)
			if (devices->kids[i] == disks)
				devices->kids[i] = seq;
		disks = seq;
	}
	if (disks->kind != DS_NODE_SEQ)
		return 0;
	machine = raw_str(root, "os.machine");
	arch = raw_str(root, "os.arch");
	bus = raw_str(ci, "target.bus");
	if (!bus)
		bus = arch && strcmp(arch, "x86_64") && strcmp(arch, "i686")
			  ? "scsi"
		      : machine && strstr(machine, "q35") ? "sata"
							  : "ide";
	dev = raw_str(ci, "target.dev");
	if (!dev) {
		const char *prefix = !strcmp(bus, "ide") ? "hd" : "sd";
		for (char c = 'a'; c <= 'z'; c++) {
			snprintf(devbuf, sizeof(devbuf), "%s%c", prefix, c);
			if (!dev_taken(disks, devbuf))
				break;
		}
		dev = devbuf;
	}
	/* the seed goes beside the first volume the file makes */
	pool = raw_str(ci, "pool");
	for (size_t i = 0; !pool && i < disks->n_kids; i++)
		if (ds_node_get(disks->kids[i], "volume"))
			pool = raw_str(disks->kids[i], "source.pool");
	if (!(disk = ds_node_new(DS_NODE_MAP, at)))
		return -ENOMEM;
	if (ds_node_append(disks, disk) < 0) {
		ds_node_free(disk);
		return -ENOMEM;
	}
	if (!raw(disk, "type", "volume", at) ||
	    !raw(disk, "device", "cdrom", at) ||
	    !(n = raw(disk, "driver", NULL, at)) ||
	    !raw(n, "name", "qemu", at) || !raw(n, "type", "raw", at) ||
	    !(n = raw(disk, "source", NULL, at)) ||
	    !raw(n, "pool", pool ? pool : "default", at) ||
	    !raw(n, "volume", volume, at) ||
	    !(n = raw(disk, "target", NULL, at)) || !raw(n, "dev", dev, at) ||
	    !raw(n, "bus", bus, at) || !raw(disk, "readonly", "true", at))
		return -ENOMEM;
	return 0;
}

/* ------------------------------------------------ reading */

static bool is_seed_disk(const struct ds_node *disk, const char *seed_volume)
{
	const char *v = str_at(disk, "source.volume");
	const char *dev = str_at(disk, "device");

	return seed_volume && v && !strcmp(v, seed_volume) && dev &&
	       !strcmp(dev, "cdrom");
}

static int read_volume(const struct ds_node *disk, struct ds_diags *d,
		       struct ds_volume *v)
{
	const struct ds_node *spec = ds_node_get(disk, "volume");
	const struct ds_node *bs = ds_node_get(spec, "backingStore");
	const struct ds_node *clone = ds_node_get(spec, "clone");
	const struct ds_node *cap = ds_node_get(spec, "capacity");
	const struct ds_node *base = clone ? clone : bs;
	const char *driver = str_at(disk, "driver.type");
	const char *device = str_at(disk, "device");
	int bad = 0;

	*v = (struct ds_volume){.disk = disk, .spec = spec};
	v->pool = str_at(disk, "source.pool");
	v->name = str_at(disk, "source.volume");
	v->target = str_at(disk, "target.dev");
	v->format = str_at(spec, "target.format.type");
	if (!v->pool || !v->name) {
		ds_diags_add(d, spec->key_mark,
			     "volume: makes the volume the disk names: give "
			     "source.pool and source.volume");
		bad = 1;
	}
	if (device && strcmp(device, "disk")) {
		ds_diags_add(d, spec->key_mark,
			     "volume: is for a disk of device disk, not %s",
			     device);
		bad = 1;
	}
	if (v->format && driver && strcmp(v->format, driver)) {
		ds_diags_add(d, spec->key_mark,
			     "volume.target.format %s is not the disk's "
			     "driver.type %s",
			     v->format, driver);
		bad = 1;
	}
	/* QEMU reads the disk as its driver type says, raw when it says
	 * none: a qcow2 volume read as raw shows the guest its container */
	if (v->format && !driver && strcmp(v->format, "raw")) {
		ds_diags_add(
		    d, spec->key_mark,
		    "the disk reads its volume as driver.type says (raw "
		    "when it says none): give driver.type %s",
		    v->format);
		bad = 1;
	}
	if (!v->format)
		v->format = driver ? driver : "raw";
	if (clone && bs) {
		ds_diags_add(d, clone->key_mark,
			     "volume: give backingStore (an overlay) or clone "
			     "(a full copy), not both");
		bad = 1;
	}
	v->how = clone ? DS_VOL_CLONE : bs ? DS_VOL_OVERLAY : DS_VOL_EMPTY;
	if (base) {
		v->base_path = str_at(base, "path");
		v->base_pool = str_at(base, "pool");
		v->base_volume = str_at(base, "volume");
		v->base_format = str_at(base, "format.type");
		if (!!v->base_path == !!(v->base_pool || v->base_volume) ||
		    !v->base_pool != !v->base_volume) {
			ds_diags_add(d, base->key_mark,
				     "volume.%s: give the base as path, or as "
				     "pool and volume",
				     clone ? "clone" : "backingStore");
			bad = 1;
		}
	}
	if (v->how == DS_VOL_OVERLAY && !strcmp(v->format, "raw")) {
		ds_diags_add(d, bs->key_mark,
			     "volume.backingStore: a raw volume has no backing "
			     "file; make the disk qcow2 (driver.type or "
			     "volume.target.format)");
		bad = 1;
	}
	if (cap)
		v->capacity = cap->v.u * 1024;
	else if (v->how != DS_VOL_CLONE) {
		ds_diags_add(d, spec->key_mark,
			     "volume.capacity is required (a clone alone may "
			     "take its base's)");
		bad = 1;
	}
	if (cap && !cap->v.u) {
		ds_diags_add(d, cap->mark, "volume.capacity must be above 0");
		bad = 1;
	}
	return bad ? -EINVAL : 0;
}

static int read_seed(const struct ds_node *root, const struct ds_node *ci,
		     const struct ds_volume *vols, size_t n_vols,
		     struct ds_diags *d, struct ds_seed **ret)
{
	_cleanup_free_ struct ds_seed *s = calloc(1, sizeof(*s));
	const struct ds_node *disks = ds_node_path(root, "devices.disk");
	const char *pool = str_at(ci, "pool");
	int bad = 0;

	if (!s)
		return -ENOMEM;
	s->at = ci;
	if (!pool)
		pool = n_vols ? vols[0].pool : "default";
	if (!(s->pool = strdup(pool)) ||
	    !(s->volume = ds_seed_volume_name(str_at(root, "name"))))
		goto oom;
	/* the CD-ROM ds_seed_inject() added says where it goes */
	for (size_t i = 0; disks && i < disks->n_kids; i++) {
		const struct ds_node *disk = disks->kids[i];
		if (!is_seed_disk(disk, s->volume) || s->target)
			continue;
		if ((str_at(disk, "target.dev") &&
		     !(s->target = strdup(str_at(disk, "target.dev")))))
			goto oom;
		if (str_at(disk, "source.pool")) {
			free(s->pool);
			if (!(s->pool = strdup(str_at(disk, "source.pool"))))
				goto oom;
		}
	}
	for (size_t i = 0; i < n_vols; i++)
		if (!strcmp(vols[i].name, s->volume)) {
			ds_diags_add(d, vols[i].spec->key_mark,
				     "volume %s is the name of the domain's "
				     "cloud-init seed",
				     s->volume);
			bad = 1;
		}
	s->loaded = true;
	for (size_t i = 0; i < 3; i++) {
		const struct ds_node *n = ds_node_get(ci, part_names[i]);
		struct ds_seed_part *p = &s->parts[s->n_parts];
		const char *text = str_at(n, "value");
		if (!n && i == 2)
			continue;
		s->n_parts++;
		p->name = part_names[i];
		p->node = n;
		p->file = str_at(n, "file");
		if (n && p->file && text) {
			ds_diags_add(d, n->key_mark,
				     "cloudInit.%s: give its text or a file, "
				     "not both",
				     p->name);
			bad = 1;
		}
		if (p->file) {
			size_t fl = strlen(p->file);
			s->loaded = false;
			if (strchr(p->file, '/') || p->file[0] == '.') {
				ds_diags_add(
				    d, ds_node_get(n, "file")->mark,
				    "cloudInit.%s.file %s: give the name "
				    "of a file beside this one (no '/', "
				    "not hidden)",
				    p->name, p->file);
				bad = 1;
				continue;
			}
			if ((fl > 5 && !strcmp(p->file + fl - 5, ".yaml")) ||
			    (fl > 4 && !strcmp(p->file + fl - 4, ".yml"))) {
				ds_diags_add(
				    d, ds_node_get(n, "file")->mark,
				    "cloudInit.%s.file %s: the directory's "
				    ".yaml and .yml files are domains; name it "
				    "otherwise (%s.%s)",
				    p->name, p->file,
				    str_at(root, "name") ? str_at(root, "name")
							 : "NAME",
				    p->name);
				bad = 1;
			}
			continue;
		}
		if (!(p->data = strdup(text ? text : "")))
			goto oom;
		p->len = strlen(p->data);
	}
	*ret = take_ptr(s);
	return bad ? -EINVAL : 0;
oom:
	ds_seed_free(take_ptr(s));
	return -ENOMEM;
}

void ds_seed_free(struct ds_seed *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_parts; i++)
		free(s->parts[i].data);
	free(s->pool);
	free(s->volume);
	free(s->target);
	free(s);
}

/* The place in the file of line, col of a literal block scalar's text
 * (user-data: |) that starts at at: its lines follow the indicator's, all
 * indented as the first. False for other scalars (quoted or folded: their
 * lines are not the file's). */
static bool block_place(const struct ds_diags *d, struct ds_mark at,
			unsigned line, unsigned col, struct ds_mark *ret)
{
	size_t len = 0, indent = 0;
	const char *s = ds_diags_line(d, at.line, &len);

	if (!s || at.col < 1 || at.col > len || s[at.col - 1] != '|' ||
	    !(s = ds_diags_line(d, at.line + 1, &len)))
		return false;
	while (indent < len && s[indent] == ' ')
		indent++;
	*ret = (struct ds_mark){at.line + line, (unsigned)indent + col};
	return true;
}

/* Whether meta-data (YAML, checked) gives instance-id: 1 yes; 0 no, and
 * "instance-id: UUID" may go before it (empty, or a block mapping whose
 * first key starts the first line that is not blank or a comment); -1 no,
 * and it may not; or -ENOMEM. */
static int meta_data_instance(const char *data, size_t len)
{
	struct ds_node *root = NULL;
	struct ds_diags scratch;
	const char *t = data, *end = data + len;
	int r;

	if (ds_diags_init(&scratch, "meta-data") < 0)
		return -ENOMEM;
	r = ds_yaml_load(data, len, &scratch, &root);
	ds_diags_finish(&scratch);
	if (r == 0 && ds_node_get(root, "instance-id")) {
		ds_node_free(root);
		return 1;
	}
	ds_node_free(root);
	/* the first line that says anything */
	while (t < end) {
		const char *nl = memchr(t, '\n', end - t);
		const char *e = nl ? nl : end, *c = t;
		while (c < e && (*c == ' ' || *c == '\t' || *c == '\r'))
			c++;
		if (c < e && *c != '#')
			break;
		t = nl ? nl + 1 : end;
	}
	if (t >= end)
		return 0; /* empty: instance-id is all there is */
	return isalnum((unsigned char)*t) || *t == '_' ? 0 : -1;
}

/* Checks the parts' YAML and computes the digest, once every part's bytes
 * are known. */
static int seed_finish(struct ds_seed *s, struct ds_diags *d)
{
	struct ds_seed_file files[4];
	size_t n = 0;
	int bad = 0;

	for (size_t i = 0; i < s->n_parts; i++) {
		struct ds_seed_part *p = &s->parts[i];
		unsigned line = 0, col = 0;
		char msg[256];
		const struct ds_node *v = ds_node_get(p->node, "value");
		struct ds_mark at = v         ? v->mark
				    : p->node ? p->node->mark
					      : s->at->key_mark;
		struct ds_mark in;
		if (ds_cloudinit_check(p->name, p->data, p->len, &line, &col,
				       msg, sizeof(msg)) < 0) {
			if (!p->file && line && d->text &&
			    block_place(d, at, line, col, &in))
				ds_diags_add(d, in,
					     "cloudInit.%s is not the YAML "
					     "cloud-init reads: %s",
					     p->name, msg);
			else
				ds_diags_add(d, at,
					     "cloudInit.%s is not the YAML "
					     "cloud-init reads: line %u column "
					     "%u of %s: %s",
					     p->name, line, col,
					     p->file ? p->file : "the text",
					     msg);
			bad = 1;
		}
		files[n++] = (struct ds_seed_file){p->name, p->data, p->len};
	}
	if (bad)
		return -EINVAL;
	/* meta-data without instance-id gets the domain's UUID */
	for (size_t i = 0; i < s->n_parts; i++) {
		struct ds_seed_part *p = &s->parts[i];
		int r;
		if (strcmp(p->name, "meta-data"))
			continue;
		r = meta_data_instance(p->data, p->len);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			ds_diags_add(
			    d, p->node ? p->node->mark : s->at->key_mark,
			    "cloudInit.meta-data gives no instance-id, "
			    "and the domain's UUID cannot go before "
			    "this form of it (flow style, a document "
			    "marker, a directive or an indented "
			    "mapping): give instance-id, or write it as "
			    "a block mapping from the first column");
			return -EINVAL;
		}
		s->instance_id_default = r == 0;
	}
	files[n++] = (struct ds_seed_file){
	    "instance-id-default", s->instance_id_default ? "1" : "0", 1};
	ds_seed_digest(files, n, s->digest);
	return 0;
}

int ds_seed_load(struct ds_seed *s, const struct ds_dir *dir,
		 struct ds_diags *d)
{
	for (size_t i = 0; i < s->n_parts && !s->loaded; i++) {
		struct ds_seed_part *p = &s->parts[i];
		struct ds_diags fd;
		_cleanup_free_ char *first = NULL;
		int r;
		if (!p->file)
			continue;
		if (ds_diags_init(&fd, p->file) < 0)
			return -ENOMEM;
		r = ds_dir_read(dir, p->file, &fd, &p->data, &p->len);
		if (r < 0) {
			first = ds_diags_first(&fd);
			ds_diags_add(d, ds_node_get(p->node, "file")->mark,
				     "cloudInit.%s: %s", p->name,
				     first ? first : strerror(-r));
		}
		ds_diags_finish(&fd);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return -EINVAL;
	}
	s->loaded = true;
	return seed_finish(s, d);
}

int ds_storage_read(const struct ds_node *root, struct ds_diags *d,
		    struct ds_volume **ret_vols, size_t *ret_n,
		    struct ds_seed **ret_seed)
{
	const struct ds_node *disks = ds_node_path(root, "devices.disk");
	const struct ds_node *ci = ds_node_get(root, "cloudInit");
	_cleanup_free_ struct ds_volume *vols = NULL;
	struct ds_seed *seed = NULL;
	size_t n = 0;
	int bad = 0, r;

	*ret_vols = NULL;
	*ret_n = 0;
	*ret_seed = NULL;
	for (size_t i = 0; disks && i < disks->n_kids; i++)
		n += ds_node_get(disks->kids[i], "volume") != NULL;
	if (n && !(vols = calloc(n, sizeof(*vols))))
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; disks && i < disks->n_kids; i++) {
		if (!ds_node_get(disks->kids[i], "volume"))
			continue;
		if (read_volume(disks->kids[i], d, &vols[n]) < 0) {
			bad = 1;
			continue;
		}
		for (size_t j = 0; j < n; j++)
			if (!strcmp(vols[j].pool, vols[n].pool) &&
			    !strcmp(vols[j].name, vols[n].name)) {
				ds_diags_add(d, vols[n].spec->key_mark,
					     "volume %s/%s is made by another "
					     "disk already",
					     vols[n].pool, vols[n].name);
				bad = 1;
			}
		n++;
	}
	if (ci) {
		r = read_seed(root, ci, vols, n, d, &seed);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			bad = 1;
		if (seed && seed->loaded && seed_finish(seed, d) < 0)
			bad = 1;
	}
	if (bad) {
		ds_seed_free(seed);
		return -EINVAL;
	}
	*ret_vols = take_ptr(vols);
	*ret_n = n;
	*ret_seed = seed;
	return 0;
}

void ds_pool_uuid(const char *name, char buf[37])
{
	struct ds_seed_file f = {"urn:virt-reconcile:pool", name, strlen(name)};
	char hex[33];

	ds_seed_digest(&f, 1, hex);
	/* RFC 4122: version 3 in the time's high nibble, variant 10 */
	hex[12] = '3';
	hex[16] = "89ab"[strtoul((char[]){hex[16], 0}, NULL, 16) & 3];
	snprintf(buf, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
		 hex + 16, hex + 20);
}

static char *ds_seed_meta_data(const struct ds_seed *s, const char *uuid,
			       size_t *ret_len)
{
	const struct ds_seed_part *p = NULL;
	char *out = NULL;
	int len;

	for (size_t i = 0; i < s->n_parts; i++)
		if (!strcmp(s->parts[i].name, "meta-data"))
			p = &s->parts[i];
	if (!p)
		return NULL;
	if (!s->instance_id_default)
		len = asprintf(&out, "%.*s", (int)p->len, p->data);
	else
		len = asprintf(&out, "instance-id: %s\n%.*s", uuid, (int)p->len,
			       p->data);
	if (len < 0)
		return NULL;
	*ret_len = (size_t)len;
	return out;
}

int ds_seed_image(const struct ds_seed *s, const char *uuid, uint8_t **ret,
		  size_t *ret_len, char *err, size_t errlen)
{
	struct ds_seed_file files[3];
	size_t n = 0, meta_len = 0;
	_cleanup_free_ char *meta = ds_seed_meta_data(s, uuid, &meta_len);

	if (!meta) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < s->n_parts && n < 3; i++)
		files[n++] =
		    !strcmp(s->parts[i].name, "meta-data")
			? (struct ds_seed_file){"meta-data", meta, meta_len}
			: (struct ds_seed_file){s->parts[i].name,
						s->parts[i].data,
						s->parts[i].len};
	return ds_seed_iso(files, n, ret, ret_len, err, errlen);
}
