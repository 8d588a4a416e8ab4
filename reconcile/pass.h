/* One pass of the reconciler over a directory: read the files, read
 * libvirt, plan. apply (and the agent) then execute the plan. */
#pragma once

#include "apply.h"
#include "observe.h"
#include "plan.h"
#include "set.h"

struct rc_pass {
	struct ds_set set;
	struct rc_limits limits;
	struct rc_observed *observed;
	size_t n_observed;
	struct rc_plan plan;
};

/* Reads dir and libvirt, and plans. Returns 0; -1 with e when libvirt
 * failed; or -errno when dir cannot be read (e says so). The files'
 * problems are in p->set, for the caller to report. */
int rc_pass_plan(virConnectPtr conn, const char *dir, bool prune,
		 struct rc_pass *p, struct rc_err *e);
void rc_pass_finish(struct rc_pass *p);
