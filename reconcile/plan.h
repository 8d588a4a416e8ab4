/* Planning: a pure function of what the files say, what libvirt has and
 * the hypervisor's limits, giving per domain the calls to make and why.
 * It makes no libvirt call; it is tested with files alone. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "compare.h"
#include "observe.h"
#include "set.h"
#include "storage.h"

enum rc_phase {
	RC_PHASE_IN_SYNC,
	RC_PHASE_CONVERGING,       /* calls to make, or a target not reached */
	RC_PHASE_RESTART_REQUIRED, /* config written; the guest must restart */
	RC_PHASE_ERROR,            /* the file has problems, a limit is
				      exceeded, or a call failed */
	RC_PHASE_CONFLICT,         /* refused: not ours, or not this UUID */
	RC_PHASE_ORPHANED,         /* ours, but its file is gone */
};

enum rc_act {
	RC_ACT_DEFINE,        /* xml: a new domain */
	RC_ACT_REDEFINE,      /* xml: the domain's XML with the file's fields */
	RC_ACT_SET_MARK,      /* xml: the agent's mark (config or live) */
	RC_ACT_SET_VCPUS,     /* value (config or live) */
	RC_ACT_SET_MEMORY,    /* value in KiB (config or live) */
	RC_ACT_SET_AUTOSTART, /* value */
	RC_ACT_START,
	RC_ACT_SHUTDOWN, /* graceful, then destroy after a timeout */
	RC_ACT_UNDEFINE,
	RC_ACT_SET_METADATA, /* live: value RC_META_TITLE, _DESCRIPTION or
				_ELEMENT (of namespace key), xml the text
				("" removes it) */
	RC_ACT_DESTROY, /* never planned: the forced end of a shutdown, which
			   apply reports as a call of its own */
	RC_ACT_DETACH_DEVICE, /* live: xml the device's alias */
	RC_ACT_UPDATE_DEVICE, /* live: xml the device */
	RC_ACT_ATTACH_DEVICE, /* live: xml the device; value 1: an interface
				 that takes the MAC its config was given */
	/* storage: key the pool, device the volume's name */
	RC_ACT_CREATE_VOLUME, /* xml the volume; from the base of a clone
				 ("pool/name" or a path), else NULL; value:
				 a clone's capacity (bytes), 0 its base's */
	RC_ACT_RESIZE_VOLUME, /* value in bytes; live: the running guest's
				 disk target (virDomainBlockResize) */
	RC_ACT_WRITE_SEED,    /* seed: the cloud-init seed, made into an
				 image and written into the volume */
	RC_ACT_DELETE_VOLUME,
	/* a pool (key its name) */
	RC_ACT_DEFINE_POOL, /* xml: the pool, new or redefined */
	RC_ACT_BUILD_POOL,  /* value: virStoragePoolBuild's flags (never over
			       data on a device) */
	RC_ACT_START_POOL,
	RC_ACT_SET_POOL_AUTOSTART, /* value */
};

/* What a set-metadata sets: the title, the description, or an element of
 * <metadata> (one a namespace). */
enum { RC_META_TITLE, RC_META_DESCRIPTION, RC_META_ELEMENT };

struct rc_action {
	enum rc_act kind;
	bool live; /* the running guest, else the persistent config */
	uint64_t value;
	char *xml;
	char *why;    /* for people: "vcpu.current 1 → 3" */
	char *device; /* a device call: the device as the live mark names it
			 if the call is refused (rc_dev_op.key) */
	char *key;    /* RC_META_ELEMENT: its namespace URI; storage: the
			 pool */
	char *from;   /* RC_ACT_CREATE_VOLUME: a clone's base */
	char *target; /* a live resize: the disk's target */
	const struct ds_seed *seed; /* RC_ACT_WRITE_SEED: borrowed from the
				       set the plan was made from */
};

/* Who manages a domain, as its mark says: nobody (marked false), or a
 * directory (NULL in a mark from before marks named one) and a file. */
struct rc_owner {
	bool marked;
	char *dir;
	char *file;
};

struct rc_domain_plan {
	char *name; /* the domain ("pool NAME" for a pool), or NULL when the
		       file names none */
	bool pool;  /* a kind: pool file's pool */
	bool retry; /* refused for what another file's job may change soon
		       (a pool its directory declares, not made yet): the
		       agent tries again with its backoff */
	char *file; /* the file's path as shown (ds_escape_name()), or NULL
		       for an orphan */
	enum rc_phase phase;
	char *reason; /* conflict, error, restart or converging note */
	struct rc_action *actions;
	size_t n_actions;
	struct rc_mark live_mark; /* the live mark to leave on the running
				     guest (apply writes it if it changed) */
	bool live_mark_set;
	char *live_mark_was; /* the live mark libvirt has, formatted */
	/* The owner the domain's mark named when it was read, and the one
	 * the plan's define, redefine or set-mark leaves. apply reads the
	 * mark again before a call that takes, rewrites, stops or removes the
	 * domain, and makes none if it is no longer the one expected. */
	struct rc_owner owner_was, owner;
	/* the volumes and seed digest its mark is to record (planning
	 * only) */
	char *mark_volumes, *mark_seed;
};

struct rc_plan {
	struct rc_domain_plan *domains;
	size_t n;
};

/* What the planner needs beside the two sides. */
struct rc_plan_opts {
	bool prune; /* undefine our domains whose file is gone */
	/* The directory was read just now and holds at least one
	 * desired-state file, so that a domain no file names is truly
	 * orphaned. Without it nothing is pruned: an empty, unreadable or
	 * missing directory (a checkout half done, a mount not there, a
	 * typo) must not undefine every domain it ever made. Set it from a
	 * read of the directory, never as a constant: rc_pass_plan and
	 * rc_pass_plan_gone do. */
	bool dir_usable;
	const char *dir; /* the directory, resolved: marks name it, and only
			    domains marked with it are orphans here; NULL:
			    any */
	/* Plan only the orphans: the files only hold their domains (by the
	 * name they give, or by their file name when they have problems),
	 * for a caller that observed only the domains it asks about. */
	bool orphans_only;
	/* the pools and volumes the files and marks name, or NULL: a file
	 * that makes volumes or a seed is then an error */
	const struct rc_storage *storage;
	bool delete_storage; /* prune: remove the volumes marks list too */
	/* the observations sorted by name (rc_observed_index), or NULL */
	const struct rc_observed *const *index;
};

/* Pointers to the n observations, sorted by name; the caller frees the
 * array. NULL when out of memory. */
const struct rc_observed **rc_observed_index(const struct rc_observed *o,
					     size_t n);
/* The observation named name in such an index, or NULL. */
const struct rc_observed *
rc_observed_find(const struct rc_observed *const *index, size_t n,
		 const char *name);

/* The domain type the plan takes for d: the file's own, else that of its
 * domain o (NULL: not defined), else the connection's best. */
const char *rc_plan_type(const struct ds_domain *d, const struct rc_observed *o,
			 const struct rc_limits *l);

/* Plans every file of desired against observed. Returns 0 and a plan
 * owned by the caller (rc_plan_finish), or -ENOMEM. */
int rc_plan(const struct ds_set *desired, const struct rc_observed *observed,
	    size_t n_observed, const struct rc_limits *limits,
	    const struct rc_plan_opts *opts, struct rc_plan *ret);
void rc_plan_finish(struct rc_plan *p);

const char *rc_phase_name(enum rc_phase p);
const char *rc_act_name(enum rc_act a);
/* " (live)" or " (config)" for the calls that may go either way, else "". */
const char *rc_act_where(const struct rc_action *a);

/* Number of actions in the plan (libvirt write calls apply would make). */
size_t rc_plan_count_actions(const struct rc_plan *p);

/* "N domains:", or "N pools, M domains:" when the plan has pools. */
void rc_plan_print_count(const struct rc_plan *p, FILE *out);

/* Prints the plan for people, or as JSON. */
void rc_plan_print(const struct rc_plan *p, FILE *out);
void rc_plan_print_json(const struct rc_plan *p, FILE *out);
