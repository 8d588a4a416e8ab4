/* What a file asks of storage beside its domain: the volumes its disks
 * name with a volume: key (how the agent makes each one), and the
 * cloud-init NoCloud seed its cloudInit: key describes, which the domain
 * gets as a read-only CD-ROM. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "dir.h"
#include "node.h"

enum ds_vol_how {
	DS_VOL_EMPTY,   /* a new volume of a capacity and format */
	DS_VOL_OVERLAY, /* copy-on-write over a base (backingStore) */
	DS_VOL_CLONE,   /* a full copy of a base (clone) */
};

/* A disk's volume the agent makes. Strings are borrowed from the tree. */
struct ds_volume {
	const struct ds_node *disk; /* the disk item */
	const struct ds_node *spec; /* its volume: map */
	const char *pool, *name;    /* the disk's source.pool, source.volume */
	const char *target;         /* the disk's target.dev */
	enum ds_vol_how how;
	uint64_t capacity;  /* bytes; 0: a clone's base's */
	const char *format; /* the volume's format: its target.format,
				else the disk's driver type, else raw */
	/* the base, of an overlay or a clone: a path, or a volume of a
	 * pool; its format (an overlay's backingStore.format) or NULL */
	const char *base_path, *base_pool, *base_volume, *base_format;
};

/* One file of the seed. */
struct ds_seed_part {
	const char *name;           /* user-data, meta-data, network-config */
	const struct ds_node *node; /* its key's value in the file */
	const char *file;           /* read from this file of the directory,
				       or NULL: inline */
	char *data;                 /* its bytes (owned), once known */
	size_t len;
};

/* The cloud-init seed of a domain. */
struct ds_seed {
	const struct ds_node *at; /* the cloudInit: map */
	char *pool;               /* where the seed volume goes */
	char *volume;             /* its name: NAME-cidata.iso */
	char *target;             /* the CD-ROM's target.dev */
	struct ds_seed_part parts[3];
	size_t n_parts;
	bool loaded; /* every part's bytes are known (files read) */
	/* meta-data gives no instance-id: the domain's UUID is written as
	 * one when the seed is made */
	bool instance_id_default;
	char digest[33]; /* of the parts as given, once loaded */
};

/* The seed's volume name for a domain name: NAME-cidata.iso, with what a
 * volume name cannot hold replaced by '_'. The caller frees it. */
char *ds_seed_volume_name(const char *domain);

/* Before the schema walk: a raw tree with cloudInit: gets the seed's
 * CD-ROM as one more disk (type volume, read-only, at the cloudInit key's
 * place), on the target the file gives (cloudInit.target) or the first
 * free one of the machine's usual CD-ROM bus (sata on q35, ide on other
 * x86 machines, else scsi). Returns 0 or -ENOMEM. */
int ds_seed_inject(struct ds_node *root);

/* After the schema walk and the checks: reads the volumes and the seed a
 * checked tree asks for. Their rules are checked here, each problem
 * going to d at its place. Returns 0, -EINVAL (problems) or -ENOMEM. */
int ds_storage_read(const struct ds_node *root, struct ds_diags *d,
		    struct ds_volume **ret_vols, size_t *ret_n,
		    struct ds_seed **ret_seed);

/* Reads the seed's parts that name a file of dir, checks that they are
 * YAML where cloud-init needs YAML, and computes the digest. Problems go
 * to d at the part's place. Returns 0, -EINVAL or -ENOMEM. */
int ds_seed_load(struct ds_seed *s, const struct ds_dir *dir,
		 struct ds_diags *d);

void ds_seed_free(struct ds_seed *s);

/* The UUID the agent gives a pool it defines from a file that gives none:
 * a name-based (version 3, MD5) UUID of the pool's name in the agent's own
 * namespace, so that the pool of that name and UUID is known to be the
 * agent's (libvirt keeps no metadata on pools). buf holds 37 bytes. */
void ds_pool_uuid(const char *name, char buf[37]);

/* The seed's image (ds_seed_iso) for the domain of UUID uuid: its parts,
 * meta-data with "instance-id: UUID" first when it gives none. Returns 0
 * and the image (the caller frees it) with its length, or -1 with a
 * message in err. */
int ds_seed_image(const struct ds_seed *s, const char *uuid, uint8_t **ret,
		  size_t *ret_len, char *err, size_t errlen);
