/* The full pass and the orphan pass. Whether a domain is an orphan (and,
 * with --prune, undefined) is decided on the whole directory, never on
 * one file event: a renamed file, a checkout, a `git pull` or an atomic
 * swap removes one name and adds another, and the new file takes its
 * domain over through its own job. So a vanished file's job prunes
 * nothing; the orphan pass runs once the directory has been quiet for a
 * while, when no file waits for its job, and prunes only when the
 * directory was read, holds desired-state files, and every one of them
 * is known to name its domain (a file that never parsed might name any
 * domain). docs/design.md says the same. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "cleanup.h"

static void orphan_finish(struct ag_orphan *g)
{
	free(g->domain);
	free(g->file);
	free(g->note);
}

static void orphans_clear(struct ag_agent *a)
{
	for (size_t i = 0; i < a->n_orphans; i++)
		orphan_finish(&a->orphans[i]);
	free(a->orphans);
	a->orphans = NULL;
	a->n_orphans = 0;
}

static struct ag_orphan *orphan_grow(struct ag_agent *a)
{
	struct ag_orphan *g =
	    ag_xreallocarray(a->orphans, a->n_orphans + 1, sizeof(*g));

	a->orphans = g;
	g = &a->orphans[a->n_orphans++];
	*g = (struct ag_orphan){.id = -1};
	return g;
}

void ag_orphans_forget(struct ag_agent *a, const char *domain)
{
	size_t kept = 0;

	assert(domain);
	for (size_t i = 0; i < a->n_orphans; i++) {
		if (!strcmp(a->orphans[i].domain, domain))
			orphan_finish(&a->orphans[i]);
		else
			a->orphans[kept++] = a->orphans[i];
	}
	if (kept != a->n_orphans)
		ag_status_changed(a);
	a->n_orphans = kept;
}

/* A present item that names the domain, or NULL. */
static struct ag_item *named_by(struct ag_agent *a, const char *domain)
{
	for (size_t i = 0; i < a->n_items; i++) {
		struct ag_item *it = a->items[i];
		if (!it->gone && it->domain && !strcmp(it->domain, domain))
			return it;
	}
	return NULL;
}

void ag_orphan_add(struct ag_agent *a, const struct ag_item *it)
{
	struct ag_orphan *g;

	assert(it && it->gone);
	/* a domain the file never held (a conflict, a file with problems)
	 * was never ours to orphan */
	if (!it->domain || it->phase == RC_PHASE_CONFLICT ||
	    named_by(a, it->domain))
		return;
	ag_orphans_forget(a, it->domain);
	g = orphan_grow(a);
	g->domain = ag_xstrdup(it->domain);
	g->file = ag_xstrdup(it->shown);
	memcpy(g->uuid, it->uuid, sizeof(g->uuid));
	g->id = it->id;
	g->phase = RC_PHASE_ORPHANED;
	g->note = ag_xasprintf(
	    a->opts.prune ? "its file %s is gone; it is pruned once the "
			    "directory is quiet, unless another file names it"
			  : "its file %s is gone; the domain is kept (--prune "
			    "undefines it)",
	    it->shown);
	ag_log(LOG_NOTICE, "%s: %s", g->domain, g->note);
	ag_status_changed(a);
}

void ag_orphans_later(struct ag_agent *a, uint64_t window_ms)
{
	uint64_t due =
	    ag_now_ms() +
	    (window_ms > AG_ORPHAN_QUIET_MS ? window_ms : AG_ORPHAN_QUIET_MS);

	a->orphans_wanted = true;
	if (due > a->orphans_due_ms)
		a->orphans_due_ms = due;
	pthread_cond_signal(&a->work);
}

bool ag_orphans_due(struct ag_agent *a, uint64_t now)
{
	if (!a->orphans_wanted || a->orphans_running || a->resync_wanted ||
	    now < a->orphans_due_ms)
		return false;
	/* files waiting on a retry after a failure were read already: they
	 * do not hold the pass back for minutes */
	for (size_t i = 0; i < a->n_items; i++) {
		const struct ag_item *it = a->items[i];
		if (it->running || (it->queued && !it->failures))
			return false;
	}
	return true;
}

/* The full pass: every file queued again; the orphan pass follows once
 * they are done. Lock held. */
void ag_resync(struct ag_agent *a)
{
	int r;

	a->resync_wanted = false;
	r = ag_scan(a, true);
	if (r < 0)
		ag_log(LOG_ERR,
		       "%s: cannot read the directory: %s; nothing is changed",
		       a->dir_shown, strerror(-r));
	a->stats.last_resync = time(NULL);
	a->orphans_wanted = true;
	a->orphans_due_ms = 0; /* at once, once the files are done */
	ag_status_changed(a);
}

/* What the pass found out about the directory before reading libvirt. */
struct dir_view {
	bool usable;     /* read, and holds desired-state files */
	const char *why; /* why not usable */
	char why_buf[512];
	char *unknown;      /* a present file whose domain is not known */
	uint64_t events_at; /* a->file_events when it was looked at */
};

static void dir_view_finish(struct dir_view *v)
{
	free(v->unknown);
}

/* Reads the directory again; false when that queued a file (the pass
 * waits for it). Lock held. */
static bool look_at_dir(struct ag_agent *a, struct dir_view *v)
{
	int n = ag_scan(a, false);

	*v = (struct dir_view){.events_at = a->file_events};
	for (size_t i = 0; i < a->n_items; i++)
		if (a->items[i]->queued && !a->items[i]->failures)
			return false;
	v->usable = n > 0;
	v->why = n < 0    ? "the directory cannot be read"
		 : n == 0 ? "the directory holds no desired-state file"
			  : NULL;
	/* an unsafe directory converges nothing, and prunes nothing */
	if (v->usable &&
	    (v->why = ag_dir_problem(a, v->why_buf, sizeof(v->why_buf))))
		v->usable = false;
	for (size_t i = 0; v->usable && i < a->n_items; i++)
		if (!a->items[i]->gone && !a->items[i]->domain) {
			v->unknown = ag_xstrdup(a->items[i]->file);
			break;
		}
	return true;
}

/* Whether a present file stands for this domain: it names it, or the
 * domain's mark names the file. Lock held. */
static bool claimed(struct ag_agent *a, const struct rc_observed *o)
{
	const struct ag_item *by_file =
	    o->mark.file ? ag_item_find(a, o->mark.file) : NULL;

	return named_by(a, o->name) || (by_file && !by_file->gone);
}

/* The note of an orphan the pass keeps although --prune was given. */
static char *kept_note(const struct rc_observed *o, const struct dir_view *v)
{
	const char *file = o->mark.file ? o->mark.file : "";

	if (v->usable)
		return ag_xasprintf("its file %s is gone, but %s has not been "
				    "read (it might name this domain): "
				    "nothing is pruned",
				    file, v->unknown);
	return ag_xasprintf("its file %s is gone, but %s: nothing is pruned",
			    file,
			    v->why ? v->why : "the directory is unusable");
}

/* The observation of that name among n. */
static const struct rc_observed *find_obs(const struct rc_observed *o, size_t n,
					  const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(o[i].name, name))
			return &o[i];
	return NULL;
}

/* Records the pass's plan as the orphans. Lock held. */
static void record_orphans(struct ag_agent *a, const struct rc_plan *plan,
			   const struct rc_observed *mine, size_t n_mine,
			   const struct dir_view *v)
{
	orphans_clear(a);
	for (size_t i = 0; i < plan->n; i++) {
		const struct rc_domain_plan *dp = &plan->domains[i];
		/* the plan's order is the names', not the observations' */
		const struct rc_observed *o = find_obs(mine, n_mine, dp->name);
		const char *file = o && o->mark.file ? o->mark.file : NULL;
		struct ag_orphan *g;
		assert(o);
		if (dp->phase == RC_PHASE_IN_SYNC) {
			ag_log(LOG_NOTICE, "%s: its file %s is gone; pruned",
			       dp->name, file ? file : "");
			continue;
		}
		g = orphan_grow(a);
		g->domain = ag_xstrdup(dp->name);
		g->file = file ? ag_xstrdup(file) : NULL;
		memcpy(g->uuid, o->uuid, sizeof(g->uuid));
		g->id = o->id;
		g->phase = dp->phase;
		if (a->opts.prune && dp->phase == RC_PHASE_ORPHANED &&
		    (!v->usable || v->unknown))
			g->note = kept_note(o, v);
		else
			g->note = dp->reason ? ag_xstrdup(dp->reason) : NULL;
	}
}

/* Our domains that no present file stands for. Lock held. */
static struct rc_observed *unclaimed(struct ag_agent *a,
				     struct rc_observed *obs, size_t n_obs,
				     size_t *ret_n)
{
	struct rc_observed *mine = ag_xcalloc(n_obs + 1, sizeof(*mine));
	size_t n = 0;

	for (size_t i = 0; i < n_obs; i++) {
		if (obs[i].mark.present && !claimed(a, &obs[i])) {
			mine[n++] = obs[i];
			obs[i] = (struct rc_observed){0};
		}
	}
	*ret_n = n;
	return mine;
}

/* Plans and applies: the orphans are kept, or pruned. Lock not held. */
static void settle_orphans(struct ag_agent *a, virConnectPtr conn,
			   struct rc_observed *mine, size_t n_mine, bool prune,
			   const struct dir_view *v, struct rc_plan *plan,
			   struct rc_apply_stats *st)
{
	struct rc_limits limits;
	struct ds_set none = {0};
	struct rc_plan_opts po = {.prune = prune,
				  .delete_storage = a->opts.delete_storage,
				  .dir_usable = v->usable,
				  .dir = a->dir_id};
	struct ag_job_log log = {"(gone)", "(gone)", NULL};
	struct rc_apply_opts ao = {.shutdown_timeout = a->opts.shutdown_timeout,
				   .delete_nvram = a->opts.delete_nvram,
				   .progress = ag_progress,
				   .userdata = &log};

	pthread_mutex_lock(&a->lock);
	ag_limits_copy(&a->limits, &limits);
	/* a file event since the directory was looked at: decide again */
	bool moved = a->file_events != v->events_at;
	pthread_mutex_unlock(&a->lock);
	if (rc_plan(&none, mine, n_mine, &limits, &po, plan) == 0 && !moved)
		rc_apply(conn, plan, &ao, st);
	rc_limits_finish(&limits);
}

void ag_orphan_pass(struct ag_agent *a)
{
	struct rc_observed *obs = NULL, *mine;
	size_t n_obs = 0, n_mine = 0;
	struct rc_plan plan = {0};
	struct rc_apply_stats st = {0};
	struct dir_view v;
	struct rc_err e;
	virConnectPtr conn = a->conn;
	int r;

	a->orphans_wanted = false;
	if (!conn) {
		a->orphans_wanted = true; /* after the reconnect's resync */
		a->orphans_due_ms = UINT64_MAX;
		return;
	}
	if (!look_at_dir(a, &v)) {
		a->orphans_wanted = true;
		return;
	}
	a->orphans_running = true;
	virConnectRef(conn);
	pthread_mutex_unlock(&a->lock);
	r = rc_observe_all(conn, &obs, &n_obs, &e);
	pthread_mutex_lock(&a->lock);
	if (r < 0) {
		ag_log(LOG_ERR, "reading libvirt's domains: %s", e.msg);
	} else {
		bool prune = a->opts.prune && v.usable && !v.unknown;
		mine = unclaimed(a, obs, n_obs, &n_mine);
		pthread_mutex_unlock(&a->lock);
		settle_orphans(a, conn, mine, n_mine, prune, &v, &plan, &st);
		pthread_mutex_lock(&a->lock);
		if (a->file_events != v.events_at) {
			ag_orphans_later(a, 0); /* what it saw is stale */
		} else {
			record_orphans(a, &plan, mine, n_mine, &v);
			a->stats.orphan_passes++;
		}
		a->stats.calls += st.writes;
		rc_plan_finish(&plan);
		rc_observed_array_free(mine, n_mine);
	}
	rc_observed_array_free(obs, n_obs);
	dir_view_finish(&v);
	virConnectClose(conn);
	a->orphans_running = false;
	ag_status_changed(a);
}
