/* The desired state of one domain: a checked document tree and the values
 * the reconciler acts on, read from one file. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "dir.h"
#include "node.h"
#include "volumes.h"

enum ds_state {
	DS_STATE_RUNNING,
	DS_STATE_SHUTOFF,
};

struct ds_domain {
	char *path;           /* the file it came from */
	struct ds_node *root; /* the checked tree */
	/* root as it compares with libvirt's (ds_tree_normalise), when that
	 * differs from root; else NULL */
	struct ds_node *compared;
	/* Borrowed from root: */
	const char *name;
	const char *uuid; /* NULL: libvirt generates one */
	const char *type; /* NULL: the connection's best type */
	enum ds_state state;
	bool autostart;
	bool adopt;
	uint64_t memory_kib;
	uint64_t current_memory_kib; /* = memory_kib when not given */
	uint64_t max_memory_kib;     /* 0 when not given */
	unsigned max_memory_slots;
	unsigned vcpu_max;     /* 0: the file leaves vCPUs to libvirt */
	unsigned vcpu_current; /* = vcpu_max when not given */
	/* a kind: pool file: root is a storage pool (ds_schema_pool); name,
	 * uuid, autostart and adopt are the pool's, state running means
	 * active; build: virStoragePoolBuild before its first start */
	bool pool;
	bool build;
	/* the volumes its disks make, and its cloud-init seed (NULL: none) */
	struct ds_volume *volumes;
	size_t n_volumes;
	struct ds_seed *seed;
};

/* The memory libvirt gives a domain with NUMA cells: the cells' total
 * and the memory devices' sizes (domain_postparse.c, with the ABI update
 * a define allows). Returns false, and *kib 0, when root has no cells or
 * a cell or device leaves its size out (or gives a bad one). */
bool ds_memory_derived(const struct ds_node *root, uint64_t *kib);

/* The total size of root's memory devices (KiB), of those that give
 * one. */
uint64_t ds_memory_devices(const struct ds_node *root);

/* Parses and checks one file's text. Every problem goes to d, whose text
 * should be set for excerpts. Returns 0 and a domain owned by the caller,
 * or -EINVAL when the file has problems. */
int ds_domain_parse(const char *path, const char *text, size_t len,
		    struct ds_diags *d, struct ds_domain **ret);

/* Reads the file name of dir (ds_dir_read()) and does ds_domain_parse().
 * d must be initialised with the file's path; it receives the file's
 * text. */
int ds_domain_load_at(const struct ds_dir *dir, const char *name,
		      struct ds_diags *d, struct ds_domain **ret);

/* ds_domain_load_at() for the file at path, in the directory it names
 * (whose trust is checked too, with check_perms). */
int ds_domain_load(const char *path, bool check_perms, struct ds_diags *d,
		   struct ds_domain **ret);

void ds_domain_free(struct ds_domain *dom);
DS_DEFINE_FREEP(struct ds_domain, ds_domain_free)

/* The type a disk without one has, from its source (a map node, or
 * NULL): block for a dev, volume for a pool or volume, else file. */
const char *ds_disk_type_of(const struct ds_node *source);

/* Makes libvirt's defaults explicit in a tree (a file's or one read from
 * libvirt), so that both say the same when they mean the same. Returns 0
 * or -ENOMEM. */
int ds_tree_defaults(struct ds_node *root);

/* Rewrites a tree the way libvirt rewrites what it is given, where the
 * file's own spelling must still render as written: the first console,
 * when its target is serial, is the first serial port shown twice; an
 * iSCSI source without a LUN has LUN 0; a shmem device has libvirt's
 * model, size and msi; a SPICE server without ports or autoport listens
 * nowhere (listen type none); ds_tree_respell(); and the CPU settings and
 * labels as ds_tree_normalise_domain() rewrites them. Returns 1 when it
 * changed the tree, 0, or -ENOMEM. */
int ds_tree_normalise(struct ds_node *root);

/* Reads libvirt's older spellings that its schema no longer takes as the
 * format says the same: a device's <rom file=''/> is a disabled ROM
 * (rom: {enabled: false}), as QEMU gets it from either. Returns 1 when it
 * changed the tree, 0, or -ENOMEM. */
int ds_tree_respell(struct ds_node *root);

/* The tree of d to compare with libvirt's. */
const struct ds_node *ds_domain_compared(const struct ds_domain *d);

/* Cross-field rules (limits between fields, what libvirt would refuse),
 * reported in the file's own terms. Returns 0 when all hold. */
int ds_validate(const struct ds_node *root, struct ds_diags *d);
