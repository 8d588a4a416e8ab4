/* A running guest's devices: which of the file's device changes QEMU can
 * make live (hotplug, unplug, media changes) and with what calls, and
 * which must wait for a restart, and why. A pure function of the file, the
 * live XML read through the format, and the live mark; it makes no call. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "domain.h"
#include "observe.h"

enum rc_dev_call {
	RC_DEV_DETACH, /* virDomainDetachDeviceAlias (live): xml is the alias */
	RC_DEV_UPDATE, /* virDomainUpdateDeviceFlags (live): xml the device */
	RC_DEV_ATTACH, /* virDomainAttachDeviceFlags (live): xml the device */
};

struct rc_dev_op {
	enum rc_dev_call call;
	char *xml;
	char *key;      /* the device as the live mark names it when refused */
	char *why;      /* for people: "devices.disk vdb: {…}" */
	bool needs_mac; /* an interface the file gives no MAC: apply takes the
			   one the config was given */
};

struct rc_dev_plan {
	struct rc_dev_op *ops; /* detaches, then updates, then attaches */
	size_t n_ops;
	/* the device lists ("devices.disk") whose every change is made
	 * live or is pending an unplug, space-separated: not restart-required */
	char *live_paths;
	char *restart; /* why other device changes wait for a restart, "; " */
	char *pending; /* unplugs requested that the guest has not made */
	uint64_t memory_added; /* KiB the memory devices attached bring */
	/* attaches and updates made on an earlier pass that the live XML
	 * still shows otherwise: not made again (the live mark's
	 * devices-sent to keep), and said */
	char *sent;
	char *said;
};

/* Plans the device changes of d on its running guest (live: its live XML
 * read through the format; mark: the live mark). Returns 0 or -ENOMEM. */
int rc_plan_devices(const struct ds_domain *d, const struct ds_node *live,
		    const struct rc_mark *mark, struct rc_dev_plan *ret);
void rc_dev_plan_finish(struct rc_dev_plan *p);

/* The aliases of sent (space-separated) that the live tree still has:
 * the unplugs still pending. NULL when none (or out of memory). */
char *rc_unplug_still(const char *sent, const struct ds_node *live);

/* Whether a space-separated list holds the word w. */
bool rc_word_in(const char *words, const char *w);

/* Whether a newline-separated list holds the line s. */
bool rc_line_in(const char *lines, const char *s);
