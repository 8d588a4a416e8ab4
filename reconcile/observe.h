/* What libvirt has: each domain's state, its persistent and live XML read
 * back into the format's tree, and the agent's mark; and the hypervisor's
 * limits. */
#pragma once

#include <libvirt/libvirt.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stdint.h>

#include "compare.h"
#include "connect.h"
#include "node.h"
#include "schema.h"
#include "xmltree.h"

/* The namespace of the agent's mark in a domain's <metadata>. */
#define RC_MARK_URI DS_AGENT_NS
#define RC_MARK_PREFIX "vr"
#define RC_MARK_ELEMENT "managed"

/* The agent's mark: present on the domains it defined or adopted. The live
 * mark also remembers what was sent to the running guest, so that a target
 * the guest does not reach is not sent again on every pass. */
struct rc_mark {
	bool present;
	char *dir;            /* the directory it is managed from */
	char *file;           /* the desired-state file, by name */
	char *fragments;      /* the raw XML fragments last applied */
	char *fragment_names; /* their elements: "devices/tpm domain/sysinfo" */
	uint64_t memory_sent; /* live: balloon target sent, KiB; 0 none */
	unsigned vcpus_refused; /* live: vCPU count the hypervisor refused */
	char *refused_reason;   /* live: libvirt's reason for the refusal */
	char *pending;          /* live: fields written to the config that wait
				   for a restart, space-separated */
	char *unplug_sent;      /* live: aliases of the devices whose unplug
				   was requested, space-separated */
	char *devices_refused;  /* live: devices whose attach or update the
				   hypervisor refused (rc_device_key),
				   space-separated */
	char *device_refused_reason; /* live: libvirt's reason, the last */
	char *volumes;      /* the volumes the agent made or took for the
			  domain, "pool/name" space-separated: its own to
			  grow, rewrite and (with --delete-storage) remove */
	char *seed;         /* the digest of the cloud-init seed last written */
	char *devices_sent; /* live: devices attached or updated (as
			       rc_dev_op.key) that the live XML still shows
			       otherwise: not sent again, newline-separated */
};

struct rc_observed {
	char *name;
	char uuid[VIR_UUID_STRING_BUFLEN];
	int id;      /* -1 when not running */
	int state;   /* virDomainState */
	bool active; /* running or paused */
	bool persistent;
	bool autostart;
	char *config_xml; /* persistent XML (inactive), as libvirt gave it */
	struct ds_node *config; /* the same, read through the format */
	struct ds_node *live;   /* live XML read through the format, or NULL */
	struct rc_mark mark;    /* from the persistent XML */
	struct rc_mark live_mark; /* from the live XML */
	unsigned live_vcpus;      /* vCPUs online now */
	unsigned live_max_vcpus;  /* the running maximum */
	uint64_t live_memory;     /* balloon now, KiB */
	uint64_t live_max_memory; /* the running maximum, KiB */
};

/* The most vCPUs a domain type and machine can have. */
struct rc_vcpu_limit {
	char *type;
	char *machine; /* NULL: the type's default machine */
	unsigned max;
};

struct rc_limits {
	char *best_type;      /* kvm, else qemu, else the first */
	unsigned host_cpus;   /* CPUs the host has (virNodeGetInfo) */
	uint64_t host_memory; /* KiB */
	struct rc_vcpu_limit *vcpus;
	size_t n_vcpus;
	/* read from the capabilities once a file names a machine alias or
	 * leaves its seclabel's model to the host, for an existing domain:
	 * the host's machine aliases (pc → pc-i440fx-7.2), and the model of
	 * its first security driver (apparmor, selinux, none; NULL when it
	 * names none) */
	struct ds_machine_alias *aliases;
	size_t n_aliases;
	char *secmodel;
	bool caps_read;
};

/* Reads a domain's persistent (live false) or live XML into o: its tree,
 * its mark, and for the persistent XML its text. Returns 0 or -1. */
int rc_observed_read_xml(const char *xml, bool live, struct rc_observed *o);

/* Reads one domain. Returns 0, or -1 and e; on failure ret holds nothing
 * to free. */
int rc_observe_domain(virDomainPtr dom, struct rc_observed *ret,
		      struct rc_err *e);
void rc_observed_finish(struct rc_observed *o);

/* Reads every domain of the connection. Returns 0 and an array the caller
 * frees with rc_observed_array_free, or -1 and e. */
int rc_observe_all(virConnectPtr conn, struct rc_observed **ret, size_t *ret_n,
		   struct rc_err *e);
/* The same with at most threads threads beside the caller's (0: none). */
int rc_observe_all_threads(virConnectPtr conn, int threads,
			   struct rc_observed **ret, size_t *ret_n,
			   struct rc_err *e);
void rc_observed_array_free(struct rc_observed *o, size_t n);

/* The same in steps, so that a thread with other work first can help:
 * begin lists the domains (NULL and e on failure); run reads them with
 * the caller's thread and up to threads more; any thread may meanwhile
 * read the next unread one with rc_observe_next (false when none is
 * left), with a reader of its own; end, once every such thread is done,
 * hands over the observations as rc_observe_all does and frees the job. */
struct rc_observe_job;
struct rc_observe_job *rc_observe_begin(virConnectPtr conn, struct rc_err *e);
void rc_observe_run(struct rc_observe_job *j, int threads);
bool rc_observe_next(struct rc_observe_job *j, struct ds_xreader *r);
int rc_observe_end(struct rc_observe_job *j, struct rc_observed **ret,
		   size_t *ret_n, struct rc_err *e);

/* Reads the hypervisor's limits. Returns 0, or -1 and e. */
int rc_limits_read(virConnectPtr conn, struct rc_limits *ret, struct rc_err *e);
/* The same without the best type (rc_best_type: the capabilities, for
 * when a file names no type and its domain is not defined yet). */
int rc_limits_read_host(virConnectPtr conn, struct rc_limits *ret,
			struct rc_err *e);
void rc_limits_finish(struct rc_limits *l);

/* Learns the vCPU maximum of a type and machine (domain capabilities,
 * else virConnectGetMaxVcpus), once. Returns 0, or -1 and e. */
int rc_limits_learn(virConnectPtr conn, struct rc_limits *l, const char *type,
		    const char *machine, struct rc_err *e);

/* Reads the host's machine aliases and security model into l, once.
 * Returns 0, or -1 and e. */
int rc_limits_learn_caps(virConnectPtr conn, struct rc_limits *l,
			 struct rc_err *e);
/* The comparison's view of l. */
struct ds_compare_ctx rc_limits_compare_ctx(const struct rc_limits *l);

/* The vCPU maximum learnt for a type and machine, or 0 if unknown. */
unsigned rc_limits_vcpus(const struct rc_limits *l, const char *type,
			 const char *machine);

/* Reads the agent's mark from a <domain>; absent leaves m->present false. */
int rc_mark_read(const struct ds_xel *domain, struct rc_mark *m);
/* Reads the mark from its element alone, as virDomainGetMetadata gives it
 * (its namespace is implied). Returns 0, or -EINVAL for XML that is not
 * well-formed, or -ENOMEM; an element of another name leaves
 * m->present false. */
int rc_mark_parse(const char *xml, struct rc_mark *m);
void rc_mark_finish(struct rc_mark *m);
/* The mark as XML for virDomainSetMetadata or a <metadata> element. */
char *rc_mark_format(const struct rc_mark *m);
/* The mark as an element of doc (not linked yet), without its namespace. */
xmlNodePtr rc_mark_node(const struct rc_mark *m, xmlDocPtr doc);
