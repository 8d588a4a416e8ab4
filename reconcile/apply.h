/* Applying a plan: the libvirt calls, one domain after another; one
 * domain's failure never stops the others. */
#pragma once

#include <libvirt/libvirt.h>

#include "plan.h"

struct rc_apply_opts {
	unsigned
	    shutdown_timeout; /* seconds before a shutdown becomes destroy */
	bool delete_nvram;    /* prune: remove NVRAM files too */
	/* Called before each call, for progress lines; may be NULL. */
	void (*progress)(const struct rc_domain_plan *dp,
			 const struct rc_action *a, void *userdata);
	void *userdata;
};

struct rc_apply_stats {
	size_t writes; /* libvirt calls that change something */
	size_t failed; /* domains with a failed call */
};

/* Executes dp's actions in order. On a failed call the domain's phase
 * becomes error and its reason names the call and libvirt's message; a live
 * change the hypervisor refuses becomes restart-required instead, and is
 * remembered in the live mark so that it is not sent again. */
void rc_apply_domain(virConnectPtr conn, struct rc_domain_plan *dp,
		     const struct rc_apply_opts *opts,
		     struct rc_apply_stats *stats);

/* Applies every domain of the plan. */
void rc_apply(virConnectPtr conn, struct rc_plan *p,
	      const struct rc_apply_opts *opts, struct rc_apply_stats *stats);
