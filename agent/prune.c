/* The full pass: every file queued again, and every domain read to find
 * the orphans, whose file is gone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "cleanup.h"

static void orphans_clear(struct ag_agent *a)
{
	for (size_t i = 0; i < a->n_orphans; i++) {
		free(a->orphans[i].domain);
		free(a->orphans[i].file);
		free(a->orphans[i].note);
	}
	free(a->orphans);
	a->orphans = NULL;
	a->n_orphans = 0;
}

/* Whether an item of the agent stands for this domain. Lock held. */
static bool claimed(struct ag_agent *a, const struct rc_observed *o)
{
	return ag_item_by_domain(a, o->name) ||
	       (o->mark.file && ag_item_find(a, o->mark.file));
}

/* The full pass: every file queued again, and every domain read to find
 * those whose file is gone. Called by a worker, lock held; drops it while
 * libvirt is read. */
void ag_resync(struct ag_agent *a)
{
	struct rc_observed *obs = NULL, *mine;
	size_t n_obs = 0, n_mine = 0;
	struct rc_err e;
	virConnectPtr conn = a->conn;
	int r;

	a->resync_wanted = false;
	a->resync_running = true;
	r = ag_scan(a, true);
	if (r < 0)
		ag_log(LOG_ERR,
		       "%s: cannot read the directory: %s; nothing is changed",
		       a->opts.dir, strerror(-r));
	a->stats.last_resync = time(NULL);
	if (!conn || r < 0) {
		a->resync_running = false;
		return;
	}
	virConnectRef(conn);
	pthread_mutex_unlock(&a->lock);
	r = rc_observe_all(conn, &obs, &n_obs, &e);
	pthread_mutex_lock(&a->lock);
	if (r < 0) {
		ag_log(LOG_ERR, "reading libvirt's domains: %s", e.msg);
		virConnectClose(conn);
		a->resync_running = false;
		return;
	}
	mine = calloc(n_obs + 1, sizeof(*mine));
	for (size_t i = 0; mine && i < n_obs; i++) {
		if (obs[i].mark.present && !claimed(a, &obs[i])) {
			mine[n_mine++] = obs[i];
			obs[i] = (struct rc_observed){0};
		}
	}
	bool prune = a->opts.prune && a->n_items > 0;
	struct rc_limits limits;
	if (ag_limits_copy(&a->limits, &limits) < 0)
		prune = false;
	pthread_mutex_unlock(&a->lock);
	struct ds_set none = {0};
	struct rc_plan plan = {0};
	struct rc_plan_opts po = {
	    .prune = prune, .dir_usable = true, .dir = a->dir_id};
	struct rc_apply_stats st = {0};
	struct ag_job_log log = {"(gone)", NULL};
	struct rc_apply_opts ao = {.shutdown_timeout = a->opts.shutdown_timeout,
				   .delete_nvram = a->opts.delete_nvram,
				   .progress = ag_progress,
				   .userdata = &log};
	if (mine && rc_plan(&none, mine, n_mine, &limits, &po, &plan) == 0)
		rc_apply(conn, &plan, &ao, &st);
	rc_limits_finish(&limits);
	pthread_mutex_lock(&a->lock);
	orphans_clear(a);
	for (size_t i = 0; i < plan.n; i++) {
		struct rc_domain_plan *dp = &plan.domains[i];
		struct ag_orphan *g;
		if (dp->phase == RC_PHASE_IN_SYNC)
			continue; /* pruned */
		g = reallocarray(a->orphans, a->n_orphans + 1, sizeof(*g));
		if (!g)
			break;
		a->orphans = g;
		g[a->n_orphans++] = (struct ag_orphan){
		    strdup(dp->name),
		    mine[i].mark.file ? strdup(mine[i].mark.file) : NULL,
		    dp->phase, dp->reason ? strdup(dp->reason) : NULL};
	}
	a->stats.calls += st.writes;
	rc_plan_finish(&plan);
	rc_observed_array_free(obs, n_obs);
	rc_observed_array_free(mine, n_mine);
	virConnectClose(conn);
	a->resync_running = false;
	ag_status_changed(a);
}
