/* Storage beside domains: what libvirt has of the pools and volumes the
 * files name (observed once per pass), and the calls that make, grow,
 * fill and remove volumes. */
#pragma once

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdint.h>

#include "connect.h"
#include "observe.h"
#include "set.h"

/* One volume, or a base image named by its path (pool NULL). */
struct rc_vol_obs {
	char *pool; /* NULL: name is a path */
	char *name;
	int pool_state;          /* virStoragePoolState; -1: no such pool */
	uint64_t pool_available; /* bytes */
	bool exists;
	char *path;          /* where it is, when it exists */
	uint64_t capacity;   /* bytes; 0 when unknown (a path outside pools) */
	uint64_t allocation; /* bytes */
	bool in_pool;        /* a path that is a pool's volume */
	bool declared; /* a pool file of the directory names its pool: made
			  or started before the domains */
};

/* A pool a kind: pool file names. */
struct rc_pool_obs {
	char *name;
	bool exists, active, autostart, persistent;
	char uuid[VIR_UUID_STRING_BUFLEN];
	struct ds_node *tree; /* its inactive XML, read through the format */
	struct ds_node *live; /* its running definition, when active */
};

struct rc_storage {
	struct rc_vol_obs *vols;
	size_t n;
	struct rc_pool_obs *pools;
	size_t n_pools;
	bool observed; /* false: nothing was looked up (no file asks) */
};

/* Looks up every pool, volume and base the set's files name, and the
 * volumes the marks of their domains list.
 * A pool is refreshed once when a volume is not found in it, so that a
 * file made behind libvirt's back is seen. Returns 0, or -1 and e. */
int rc_storage_observe(virConnectPtr conn, const struct ds_set *set,
		       const struct rc_observed *obs, size_t n_obs,
		       struct rc_storage *ret, struct rc_err *e);
void rc_storage_finish(struct rc_storage *s);

/* rc_storage_observe() without libvirt: every volume it would look up, as
 * not found in a pool that does not exist, for the caller to fill in (the
 * plan's tests). Returns 0 or -ENOMEM. */
int rc_storage_want(const struct ds_set *set, const struct rc_observed *obs,
		    size_t n_obs, struct rc_storage *ret);

/* The observation of pool/name (pool NULL: a path), or NULL when it was
 * not looked up. */
const struct rc_vol_obs *rc_storage_find(const struct rc_storage *s,
					 const char *pool, const char *name);

/* The observation of the pool a pool file names, or NULL. */
const struct rc_pool_obs *rc_storage_pool(const struct rc_storage *s,
					  const char *name);

/* The pool calls, for apply (as the volume calls below). */
int rc_pool_define(virConnectPtr conn, const char *xml, const char **ret_call);
int rc_pool_build(virConnectPtr conn, const char *name, unsigned flags,
		  const char **ret_call);
int rc_pool_start(virConnectPtr conn, const char *name, const char **ret_call);
int rc_pool_autostart(virConnectPtr conn, const char *name, bool on,
		      const char **ret_call);

/* Calls f with the pool and name of each pool/name item of a
 * space-separated list (a mark's volumes), until one returns non-zero,
 * which it returns; -ENOMEM when out of memory; else 0. */
int rc_volumes_each(const char *list,
		    int (*f)(const char *pool, const char *name, void *ctx),
		    void *ctx);

/* Whether the space-separated list of pool/name items holds one. */
bool rc_volume_listed(const char *list, const char *pool, const char *name);

/* The calls, for apply. Each returns 0, or -1 with *ret_call naming the
 * failed call (libvirt's error is set). */
/* from: a clone's base, made capacity bytes large when its base is
 * smaller (0: the base's size) */
int rc_volume_create(virConnectPtr conn, const char *pool, const char *xml,
		     const char *from, uint64_t capacity,
		     const char **ret_call);
int rc_volume_resize(virConnectPtr conn, const char *pool, const char *name,
		     uint64_t bytes, const char **ret_call);
int rc_volume_delete(virConnectPtr conn, const char *pool, const char *name,
		     const char **ret_call);
/* Builds the seed's ISO image (meta-data with the domain's UUID when it
 * gives no instance-id) and writes it into its volume, made or grown as
 * needed. */
int rc_seed_write(virConnectPtr conn, virDomainPtr dom,
		  const struct ds_seed *seed, const char **ret_call);
/* A domain other than self whose persistent or live XML uses the volume
 * (by pool and name, or by path): its name, which the caller frees, or
 * NULL. */
char *rc_volume_user(virConnectPtr conn, const char *self, const char *pool,
		     const char *name);
