/* Applying a plan: the libvirt calls, one domain after another; one
 * domain's failure never stops the others. */
#pragma once

#include <libvirt/libvirt.h>

#include "plan.h"

struct rc_apply_opts {
	unsigned
	    shutdown_timeout; /* seconds before a shutdown becomes destroy */
	bool delete_nvram;    /* prune: remove NVRAM files too */
	/* Called before each write call, for progress lines: with the plan's
	 * action, or with one of kind RC_ACT_DESTROY that the plan does not
	 * hold, for the destroy that ends a shutdown (paused, or not done
	 * within shutdown_timeout). May be NULL. */
	void (*progress)(const struct rc_domain_plan *dp,
			 const struct rc_action *a, void *userdata);
	void *userdata;
};

struct rc_apply_stats {
	size_t writes; /* libvirt calls that change something, a destroy
			  after a shutdown included */
	size_t failed; /* domains with a failed call */
};

/* Executes dp's actions in order. Before a redefine, a set-mark of the
 * config, a shutdown, its destroy or an undefine, it reads the domain's
 * mark again; when it no longer names dp->owner_was (or dp->owner, after
 * the plan's own define, redefine or set-mark), the domain's calls end and
 * its phase becomes conflict. On a failed call the domain's phase
 * becomes error and its reason names the call and libvirt's message; a live
 * change the hypervisor refuses becomes restart-required instead, and is
 * remembered in the live mark so that it is not sent again. */
void rc_apply_domain(virConnectPtr conn, struct rc_domain_plan *dp,
		     const struct rc_apply_opts *opts,
		     struct rc_apply_stats *stats);

/* Applies every domain of the plan. */
void rc_apply(virConnectPtr conn, struct rc_plan *p,
	      const struct rc_apply_opts *opts, struct rc_apply_stats *stats);
