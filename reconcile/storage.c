#include "storage.h"

#include <errno.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "schema.h"
#include "volumes.h"
#include "xmlread.h"
#include "xmltree.h"

int rc_volumes_each(const char *list,
		    int (*f)(const char *pool, const char *name, void *ctx),
		    void *ctx)
{
	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ' ');
		_cleanup_free_ char *item =
		    end ? strndup(p, end - p) : strdup(p);
		char *slash = item ? strchr(item, '/') : NULL;
		int r;
		if (!item)
			return -ENOMEM;
		p = end ? end + 1 : NULL;
		if (!slash)
			continue;
		*slash = 0;
		if ((r = f(item, slash + 1, ctx)) != 0)
			return r;
	}
	return 0;
}

bool rc_volume_listed(const char *list, const char *pool, const char *name)
{
	size_t pl = strlen(pool), nl = strlen(name);

	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == pl + 1 + nl && !strncmp(p, pool, pl) &&
		    p[pl] == '/' && !strncmp(p + pl + 1, name, nl))
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

/* libvirt's error, kept across the calls that free what a failed call
 * used (each public call clears it): the failed call's name becomes
 * "call: libvirt's message", and libvirt's error is cleared. */
static virErrorPtr keep_error(void)
{
	return virSaveLastError();
}

static int with_error(virErrorPtr err, const char **ret_call)
{
	static _Thread_local char said[1024];

	if (err) {
		snprintf(said, sizeof(said), "%s: %s", *ret_call,
			 err->message ? err->message : "failed");
		*ret_call = said;
		virFreeError(err);
	}
	virResetLastError();
	return -1;
}

/* ------------------------------------------------ observing */

struct want {
	struct rc_vol_obs *v;
	size_t n, cap;
};

static int want_add(struct want *w, const char *pool, const char *name)
{
	struct rc_vol_obs *v;

	if (!name)
		return 0;
	for (size_t i = 0; i < w->n; i++)
		if (!strcmp(w->v[i].name, name) &&
		    ((!pool && !w->v[i].pool) ||
		     (pool && w->v[i].pool && !strcmp(w->v[i].pool, pool))))
			return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 8;
		if (!(v = reallocarray(w->v, cap, sizeof(*v))))
			return -ENOMEM;
		w->v = v;
		w->cap = cap;
	}
	v = &w->v[w->n];
	*v = (struct rc_vol_obs){.pool_state = -1};
	if ((pool && !(v->pool = strdup(pool))) || !(v->name = strdup(name))) {
		free(v->pool);
		return -ENOMEM;
	}
	w->n++;
	return 0;
}

static int want_one(const char *pool, const char *name, void *w)
{
	return want_add(w, pool, name);
}

/* The items of a mark's volumes list. */
static int want_listed(struct want *w, const char *list)
{
	return rc_volumes_each(list, want_one, w);
}

static int want_domain(struct want *w, const struct ds_domain *d)
{
	for (size_t i = 0; i < d->n_volumes; i++) {
		const struct ds_volume *v = &d->volumes[i];
		if (want_add(w, v->pool, v->name) < 0 ||
		    want_add(w, v->base_pool, v->base_volume) < 0 ||
		    (v->base_path && want_add(w, NULL, v->base_path) < 0))
			return -ENOMEM;
	}
	if (d->seed && want_add(w, d->seed->pool, d->seed->volume) < 0)
		return -ENOMEM;
	return 0;
}

/* A pool looked up once per pass. */
struct pool_seen {
	char *name;
	virStoragePoolPtr pool;
	int state;
	uint64_t available;
	bool refreshed;
};

static void look_up(virConnectPtr conn, struct pool_seen *seen, size_t *n_seen,
		    bool local, struct rc_vol_obs *v)
{
	struct pool_seen *ps = NULL;
	virStorageVolPtr vol = NULL;
	virStorageVolInfo info;

	if (!v->pool) {
		/* a base named by its path: a pool's volume, else a file of
		 * this host */
		struct stat st;
		vol = virStorageVolLookupByPath(conn, v->name);
		v->in_pool = vol != NULL;
		if (!vol && local && stat(v->name, &st) == 0) {
			v->exists = true;
			v->path = strdup(v->name);
		}
		v->pool_state = VIR_STORAGE_POOL_RUNNING;
	} else {
		for (size_t i = 0; i < *n_seen && !ps; i++)
			if (!strcmp(seen[i].name, v->pool))
				ps = &seen[i];
		if (!ps) {
			ps = &seen[(*n_seen)++];
			*ps = (struct pool_seen){.name = v->pool, .state = -1};
			ps->pool = virStoragePoolLookupByName(conn, v->pool);
			virStoragePoolInfo pi;
			if (ps->pool &&
			    virStoragePoolGetInfo(ps->pool, &pi) == 0) {
				ps->state = pi.state;
				ps->available = pi.available;
			}
		}
		v->pool_state = ps->state;
		v->pool_available = ps->available;
		if (ps->state != VIR_STORAGE_POOL_RUNNING)
			return;
		vol = virStorageVolLookupByName(ps->pool, v->name);
		if (!vol && !ps->refreshed) {
			/* made behind libvirt's back: a refresh shows it */
			ps->refreshed = true;
			virStoragePoolRefresh(ps->pool, 0);
			vol = virStorageVolLookupByName(ps->pool, v->name);
		}
	}
	virResetLastError();
	if (!vol)
		return;
	v->exists = true;
	v->path = virStorageVolGetPath(vol);
	if (virStorageVolGetInfo(vol, &info) == 0) {
		v->capacity = info.capacity;
		v->allocation = info.allocation;
	}
	virStorageVolFree(vol);
	virResetLastError();
}

int rc_storage_want(const struct ds_set *set, const struct rc_observed *obs,
		    size_t n_obs, struct rc_storage *ret)
{
	struct want w = {0};
	size_t n_pools = 0;

	*ret = (struct rc_storage){0};
	for (size_t i = 0; i < set->n; i++)
		n_pools += set->entries[i].dom && set->entries[i].dom->pool;
	if (n_pools && !(ret->pools = calloc(n_pools, sizeof(*ret->pools))))
		return -ENOMEM;
	for (size_t i = 0; i < set->n; i++) {
		const struct ds_domain *d = set->entries[i].dom;
		if (d && d->pool) {
			struct rc_pool_obs *p = &ret->pools[ret->n_pools];
			if (!(p->name = strdup(d->name)))
				goto oom;
			ret->n_pools++;
			continue;
		}
		if (!d || (!d->n_volumes && !d->seed))
			continue;
		if (want_domain(&w, d) < 0)
			goto oom;
		/* what its mark lists, to keep listing what still exists */
		for (size_t j = 0; j < n_obs; j++)
			if (!strcmp(obs[j].name, d->name) &&
			    obs[j].mark.present &&
			    want_listed(&w, obs[j].mark.volumes) < 0)
				goto oom;
	}
	ret->vols = w.v;
	ret->n = w.n;
	ret->observed = true;
	for (size_t i = 0; i < ret->n; i++)
		ret->vols[i].declared =
		    ret->vols[i].pool &&
		    rc_storage_pool(ret, ret->vols[i].pool) != NULL;
	return 0;
oom:
	ret->vols = w.v;
	ret->n = w.n;
	rc_storage_finish(ret);
	return -ENOMEM;
}

/* A pool file's pool: whether it exists, its state and its definition. */
static int look_up_pool(virConnectPtr conn, struct rc_pool_obs *p)
{
	virStoragePoolPtr pool = virStoragePoolLookupByName(conn, p->name);
	_cleanup_free_ char *xml = NULL;
	struct ds_xdoc doc;
	int autostart = 0, r = 0;

	if (!pool) {
		virResetLastError();
		return 0;
	}
	p->exists = true;
	p->active = virStoragePoolIsActive(pool) == 1;
	p->persistent = virStoragePoolIsPersistent(pool) == 1;
	p->autostart =
	    virStoragePoolGetAutostart(pool, &autostart) == 0 && autostart;
	virStoragePoolGetUUIDString(pool, p->uuid);
	xml = virStoragePoolGetXMLDesc(pool, VIR_STORAGE_XML_INACTIVE);
	if (xml && ds_xdoc_read(NULL, xml, strlen(xml), &doc) == 0) {
		r = ds_item_from_xml(doc.root, &ds_schema_pool, &p->tree);
		ds_xdoc_finish(&doc);
	}
	free(xml);
	xml = p->active && r == 0 ? virStoragePoolGetXMLDesc(pool, 0) : NULL;
	if (xml && ds_xdoc_read(NULL, xml, strlen(xml), &doc) == 0) {
		r = ds_item_from_xml(doc.root, &ds_schema_pool, &p->live);
		ds_xdoc_finish(&doc);
	}
	virStoragePoolFree(pool);
	virResetLastError();
	return r;
}

const struct rc_pool_obs *rc_storage_pool(const struct rc_storage *s,
					  const char *name)
{
	for (size_t i = 0; s && i < s->n_pools; i++)
		if (!strcmp(s->pools[i].name, name))
			return &s->pools[i];
	return NULL;
}

int rc_storage_observe(virConnectPtr conn, const struct ds_set *set,
		       const struct rc_observed *obs, size_t n_obs,
		       struct rc_storage *ret, struct rc_err *e)
{
	struct pool_seen *seen;
	size_t n_seen = 0;
	_cleanup_free_ char *uri = NULL;
	bool local;

	if (rc_storage_want(set, obs, n_obs, ret) < 0) {
		rc_err_set(e, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < ret->n_pools; i++)
		if (look_up_pool(conn, &ret->pools[i]) < 0) {
			rc_storage_finish(ret);
			rc_err_set(e, "out of memory");
			return -1;
		}
	if (!ret->n)
		return 0;
	/* paths are looked at here only when libvirt runs here */
	uri = virConnectGetURI(conn);
	local = uri && (!strstr(uri, "://") || strstr(uri, ":///"));
	if (!(seen = calloc(ret->n, sizeof(*seen)))) {
		rc_storage_finish(ret);
		rc_err_set(e, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < ret->n; i++)
		look_up(conn, seen, &n_seen, local, &ret->vols[i]);
	for (size_t i = 0; i < n_seen; i++)
		if (seen[i].pool)
			virStoragePoolFree(seen[i].pool);
	free(seen);
	return 0;
}

void rc_storage_finish(struct rc_storage *s)
{
	for (size_t i = 0; i < s->n_pools; i++) {
		free(s->pools[i].name);
		ds_node_free(s->pools[i].tree);
		ds_node_free(s->pools[i].live);
	}
	free(s->pools);
	for (size_t i = 0; i < s->n; i++) {
		free(s->vols[i].pool);
		free(s->vols[i].name);
		free(s->vols[i].path);
	}
	free(s->vols);
	*s = (struct rc_storage){0};
}

const struct rc_vol_obs *rc_storage_find(const struct rc_storage *s,
					 const char *pool, const char *name)
{
	for (size_t i = 0; s && name && i < s->n; i++)
		if (!strcmp(s->vols[i].name, name) &&
		    ((!pool && !s->vols[i].pool) ||
		     (pool && s->vols[i].pool &&
		      !strcmp(s->vols[i].pool, pool))))
			return &s->vols[i];
	return NULL;
}

/* ------------------------------------------------ the calls */

static virStoragePoolPtr pool_of(virConnectPtr conn, const char *pool,
				 const char **ret_call)
{
	virStoragePoolPtr p = virStoragePoolLookupByName(conn, pool);

	if (!p)
		*ret_call = "virStoragePoolLookupByName";
	return p;
}

static virStorageVolPtr vol_in(virConnectPtr conn, const char *pool,
			       const char *name, const char **ret_call)
{
	virStoragePoolPtr p = pool_of(conn, pool, ret_call);
	virStorageVolPtr v;

	if (!p)
		return NULL;
	if (!(v = virStorageVolLookupByName(p, name))) {
		virErrorPtr err = keep_error();
		*ret_call = "virStorageVolLookupByName";
		virStoragePoolFree(p);
		with_error(err, ret_call);
		return NULL;
	}
	virStoragePoolFree(p);
	return v;
}

/* A volume by "pool/name" or by path. */
static virStorageVolPtr vol_of(virConnectPtr conn, const char *ref,
			       const char **ret_call)
{
	_cleanup_free_ char *pool = NULL;
	const char *slash = strchr(ref, '/');
	virStorageVolPtr v;

	if (ref[0] == '/') {
		if (!(v = virStorageVolLookupByPath(conn, ref)))
			*ret_call = "virStorageVolLookupByPath";
		return v;
	}
	if (!slash || !(pool = strndup(ref, slash - ref)))
		return NULL;
	return vol_in(conn, pool, slash + 1, ret_call);
}

int rc_pool_define(virConnectPtr conn, const char *xml, const char **ret_call)
{
	virStoragePoolPtr p = virStoragePoolDefineXML(conn, xml, 0);

	*ret_call = "virStoragePoolDefineXML";
	if (!p)
		return -1;
	virStoragePoolFree(p);
	return 0;
}

/* Calls f on the pool named name. */
static int on_pool(virConnectPtr conn, const char *name,
		   int (*f)(virStoragePoolPtr, unsigned), unsigned arg,
		   const char *call, const char **ret_call)
{
	virStoragePoolPtr p = pool_of(conn, name, ret_call);
	int r;

	if (!p)
		return -1;
	*ret_call = call;
	r = f(p, arg);
	virErrorPtr err = r < 0 ? keep_error() : NULL;
	virStoragePoolFree(p);
	return r < 0 ? with_error(err, ret_call) : 0;
}

static int set_autostart(virStoragePoolPtr p, unsigned on)
{
	return virStoragePoolSetAutostart(p, (int)on);
}

int rc_pool_build(virConnectPtr conn, const char *name, unsigned flags,
		  const char **ret_call)
{
	return on_pool(conn, name, virStoragePoolBuild, flags,
		       "virStoragePoolBuild", ret_call);
}

int rc_pool_start(virConnectPtr conn, const char *name, const char **ret_call)
{
	return on_pool(conn, name, virStoragePoolCreate, 0,
		       "virStoragePoolCreate", ret_call);
}

int rc_pool_autostart(virConnectPtr conn, const char *name, bool on,
		      const char **ret_call)
{
	return on_pool(conn, name, set_autostart, on,
		       "virStoragePoolSetAutostart", ret_call);
}

int rc_volume_create(virConnectPtr conn, const char *pool, const char *xml,
		     const char *from, uint64_t capacity, const char **ret_call)
{
	virStoragePoolPtr p = pool_of(conn, pool, ret_call);
	virStorageVolPtr base = NULL, v = NULL;

	if (!p)
		return -1;
	if (from && !(base = vol_of(conn, from, ret_call))) {
		virErrorPtr err = keep_error();
		virStoragePoolFree(p);
		return with_error(err, ret_call);
	}
	*ret_call =
	    from ? "virStorageVolCreateXMLFrom" : "virStorageVolCreateXML";
	v = from ? virStorageVolCreateXMLFrom(p, xml, base, 0)
		 : virStorageVolCreateXML(p, xml, 0);
	virErrorPtr err = v ? NULL : keep_error();
	virStorageVolInfo info;
	int r = 0;
	if (base)
		virStorageVolFree(base);
	virStoragePoolFree(p);
	if (!v)
		return with_error(err, ret_call);
	/* libvirt copies a base at its own size: a larger one is grown */
	if (capacity && virStorageVolGetInfo(v, &info) == 0 &&
	    info.capacity < capacity) {
		*ret_call = "virStorageVolResize";
		r = virStorageVolResize(v, capacity, 0);
		err = r < 0 ? keep_error() : NULL;
		if (r < 0) /* nothing half made */
			virStorageVolDelete(v, 0);
	}
	virStorageVolFree(v);
	return r < 0 ? with_error(err, ret_call) : 0;
}

int rc_volume_resize(virConnectPtr conn, const char *pool, const char *name,
		     uint64_t bytes, const char **ret_call)
{
	virStorageVolPtr v = vol_in(conn, pool, name, ret_call);
	int r;

	if (!v)
		return -1;
	*ret_call = "virStorageVolResize";
	r = virStorageVolResize(v, bytes, 0);
	virErrorPtr err = r < 0 ? keep_error() : NULL;
	virStorageVolFree(v);
	return r < 0 ? with_error(err, ret_call) : 0;
}

int rc_volume_delete(virConnectPtr conn, const char *pool, const char *name,
		     const char **ret_call)
{
	virStorageVolPtr v = vol_in(conn, pool, name, ret_call);
	int r;

	if (!v) {
		/* gone already: nothing to remove */
		if (virGetLastErrorCode() == VIR_ERR_NO_STORAGE_VOL) {
			virResetLastError();
			return 0;
		}
		return -1;
	}
	*ret_call = "virStorageVolDelete";
	r = virStorageVolDelete(v, 0);
	virErrorPtr err = r < 0 ? keep_error() : NULL;
	virStorageVolFree(v);
	return r < 0 ? with_error(err, ret_call) : 0;
}

static int upload(virConnectPtr conn, virStorageVolPtr v, const uint8_t *buf,
		  size_t len, const char **ret_call)
{
	virStreamPtr st = virStreamNew(conn, 0);
	size_t done = 0;

	*ret_call = "virStorageVolUpload";
	if (!st)
		return -1;
	if (virStorageVolUpload(v, st, 0, len, 0) < 0) {
		virErrorPtr err = keep_error();
		virStreamFree(st);
		return with_error(err, ret_call);
	}
	*ret_call = "virStreamSend";
	while (done < len) {
		int n = virStreamSend(st, (const char *)buf + done,
				      len - done > 65536 ? 65536 : len - done);
		if (n < 0) {
			virErrorPtr err = keep_error();
			virStreamAbort(st);
			virStreamFree(st);
			return with_error(err, ret_call);
		}
		done += (size_t)n;
	}
	*ret_call = "virStreamFinish";
	if (virStreamFinish(st) < 0) {
		virErrorPtr err = keep_error();
		virStreamFree(st);
		return with_error(err, ret_call);
	}
	virStreamFree(st);
	return 0;
}

int rc_seed_write(virConnectPtr conn, virDomainPtr dom,
		  const struct ds_seed *seed, const char **ret_call)
{
	char uuid[VIR_UUID_STRING_BUFLEN], why_iso[256];
	_cleanup_free_ char *xml = NULL;
	_cleanup_free_ uint8_t *iso = NULL;
	size_t iso_len = 0;
	virStoragePoolPtr p;
	virStorageVolPtr v;
	virStorageVolInfo info;
	int r = -1;

	*ret_call = "virDomainGetUUIDString";
	if (virDomainGetUUIDString(dom, uuid) < 0)
		return -1;
	if (ds_seed_image(seed, uuid, &iso, &iso_len, why_iso,
			  sizeof(why_iso)) < 0) {
		static _Thread_local char why[320];
		snprintf(why, sizeof(why), "making the seed image: %s",
			 why_iso);
		virResetLastError();
		*ret_call = why;
		return -1;
	}
	if (!(p = pool_of(conn, seed->pool, ret_call)))
		return -1;
	v = virStorageVolLookupByName(p, seed->volume);
	if (!v) {
		virResetLastError();
		if (asprintf(&xml,
			     "<volume><name>%s</name>"
			     "<capacity unit='bytes'>%zu</capacity>"
			     "<target><format type='raw'/></target></volume>",
			     seed->volume, iso_len) < 0) {
			virStoragePoolFree(p);
			return -1;
		}
		*ret_call = "virStorageVolCreateXML";
		v = virStorageVolCreateXML(p, xml, 0);
	} else if (virStorageVolGetInfo(v, &info) == 0 &&
		   info.capacity < iso_len) {
		*ret_call = "virStorageVolResize";
		if (virStorageVolResize(v, iso_len, 0) < 0) {
			virErrorPtr err = keep_error();
			virStorageVolFree(v);
			virStoragePoolFree(p);
			return with_error(err, ret_call);
		}
	}
	if (!v) {
		virErrorPtr err = keep_error();
		virStoragePoolFree(p);
		return with_error(err, ret_call);
	}
	virStoragePoolFree(p);
	r = upload(conn, v, iso, iso_len, ret_call);
	virStorageVolFree(v); /* upload's error is kept in *ret_call */
	return r;
}

/* Whether a domain's XML uses the volume: by pool and name, or by path. */
static bool xml_uses(const char *xml, const char *pool, const char *name,
		     const char *path)
{
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

	if (!xml)
		return false;
	if (asprintf(&a, "pool='%s' volume='%s'", pool, name) < 0 ||
	    (path && asprintf(&b, "file='%s'", path) < 0) ||
	    (path && asprintf(&c, "dev='%s'", path) < 0))
		return true; /* unsure: keep the volume */
	return strstr(xml, a) || (b && strstr(xml, b)) || (c && strstr(xml, c));
}

char *rc_volume_user(virConnectPtr conn, const char *self, const char *pool,
		     const char *name)
{
	const char *call;
	virStorageVolPtr v = vol_in(conn, pool, name, &call);
	_cleanup_free_ char *path = v ? virStorageVolGetPath(v) : NULL;
	virDomainPtr *doms = NULL;
	char *user = NULL;
	int n;

	if (v)
		virStorageVolFree(v);
	virResetLastError();
	n = virConnectListAllDomains(conn, &doms, 0);
	for (int i = 0; i < n; i++) {
		const char *dn = virDomainGetName(doms[i]);
		if (!user && dn && strcmp(dn, self)) {
			_cleanup_free_ char *inactive = virDomainGetXMLDesc(
			    doms[i], VIR_DOMAIN_XML_INACTIVE);
			_cleanup_free_ char *live =
			    virDomainIsActive(doms[i]) == 1
				? virDomainGetXMLDesc(doms[i], 0)
				: NULL;
			if (xml_uses(inactive, pool, name, path) ||
			    xml_uses(live, pool, name, path))
				user = strdup(dn);
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	if (n < 0)
		return strdup("(the domains could not be listed)");
	return user;
}
