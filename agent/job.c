/* A file's job: what a worker does with one desired-state file (read it,
 * read its domain, plan, apply, record the outcome), and the workers'
 * loop that takes due files from the queue. */
#include <assert.h>
#include <errno.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"

/* The domain events an action of ours causes. The agent expects them and
 * does not read the domain again for them: its own define is not drift. */
static int expected_event(enum rc_act kind)
{
	switch (kind) {
	case RC_ACT_DEFINE:
	case RC_ACT_REDEFINE:
		return AG_EV_DEFINED;
	case RC_ACT_SET_MARK:
		return AG_EV_METADATA;
	case RC_ACT_START:
		return AG_EV_STARTED;
	case RC_ACT_SHUTDOWN:
	case RC_ACT_DESTROY:
		return AG_EV_STOPPED;
	case RC_ACT_UNDEFINE:
		return AG_EV_UNDEFINED;
	default:
		return AG_EV_NONE;
	}
}

void ag_progress(const struct rc_domain_plan *dp, const struct rc_action *a,
		 void *userdata)
{
	const struct ag_job_log *l = userdata;
	int ev = expected_event(a->kind);
	struct ag_item *it;

	assert(dp->name);
	if (l->agent) {
		pthread_mutex_lock(&l->agent->lock);
		it = ag_item_find(l->agent, l->file);
		/* a new file's first calls (its define) echo before its job
		 * ends: the item must know its domain to know the echo */
		if (it && !it->domain)
			it->domain = ag_xstrdup(dp->name);
		if (it && ev != AG_EV_NONE)
			it->expect_until[ev] = ag_now_ms() + AG_EXPECT_MS;
		l->agent->progress_ms = ag_now_ms(); /* for the watchdog */
		pthread_mutex_unlock(&l->agent->lock);
	}

	ag_log(LOG_NOTICE, "%s (%s): %s%s: %s", dp->name, l->shown,
	       rc_act_name(a->kind), rc_act_where(a), a->why);
}

/* Copies limits so that a worker can learn into its own. */
void ag_limits_copy(const struct rc_limits *from, struct rc_limits *to)
{
	*to = (struct rc_limits){.host_cpus = from->host_cpus,
				 .host_memory = from->host_memory};
	to->best_type = from->best_type ? ag_xstrdup(from->best_type) : NULL;
	to->vcpus = ag_xcalloc(from->n_vcpus + 1, sizeof(*to->vcpus));
	for (size_t i = 0; i < from->n_vcpus; i++) {
		to->vcpus[i].type = ag_xstrdup(from->vcpus[i].type);
		to->vcpus[i].machine = from->vcpus[i].machine
					   ? ag_xstrdup(from->vcpus[i].machine)
					   : NULL;
		to->vcpus[i].max = from->vcpus[i].max;
		to->n_vcpus++;
	}
}

/* The files a domain's seed reads beside its file, space-separated, or
 * NULL. */
static char *seed_files(const struct ds_domain *d)
{
	char *s = NULL;

	for (size_t i = 0; d && d->seed && i < d->seed->n_parts; i++) {
		const char *f = d->seed->parts[i].file;
		char *t;
		if (!f)
			continue;
		t = ag_xasprintf("%s%s%s", s ? s : "", s ? " " : "", f);
		free(s);
		s = t;
	}
	return s;
}

struct outcome {
	enum rc_phase phase;
	char *lost_to; /* the directory that took the domain over */
	char *domain;
	char uuid[VIR_UUID_STRING_BUFLEN]; /* "" when not known */
	int id;
	char *error;
	char *note;
	char *change;
	char *volumes;    /* the mark's, as the plan leaves it */
	char *seed_files; /* the files its seed reads beside it */
	bool failed;      /* retry with backoff */
	bool gone;
	bool rewritten; /* vanished, and there again: not read (job_file) */
	size_t writes;
};

static void outcome_finish(struct outcome *o)
{
	free(o->lost_to);
	free(o->domain);
	free(o->error);
	free(o->note);
	free(o->change);
	free(o->volumes);
	free(o->seed_files);
}

/* The domain's UUID and id after the job: as read, or after calls were
 * made (a define, a start), looked up again. */
static void domain_identity(virConnectPtr conn, const char *name,
			    const struct rc_pass *read, struct outcome *out)
{
	virDomainPtr dom;

	out->id = -1;
	if (read) {
		if (read->n_observed) {
			memcpy(out->uuid, read->observed[0].uuid,
			       sizeof(out->uuid));
			out->id = read->observed[0].id;
		}
		return;
	}
	if (!(dom = virDomainLookupByName(conn, name))) {
		virResetLastError();
		return;
	}
	if (virDomainGetUUIDString(dom, out->uuid) < 0)
		out->uuid[0] = '\0';
	out->id = (int)virDomainGetID(dom);
	virDomainFree(dom);
}

/* What the item held before the job: whether its domain was its own,
 * to which directory it lost it, and whether its file had vanished. */
struct held {
	bool owned;
	const char *lost_to;
	bool gone;
};

/* A domain the file held, or lost to another directory, now marked from
 * that directory: another agent (a file with `adopt: true`) took it. Its
 * mark's change comes to this agent as an event, and taking the domain
 * back would come to the other as one: they would take it from each
 * other for ever. So it is left to the other, and reported, until this
 * file changes. */
static bool taken_over(struct ag_agent *a, const struct rc_pass *p,
		       const struct held *held, struct outcome *out)
{
	const struct rc_observed *o = p->n_observed ? &p->observed[0] : NULL;
	const char *other = o && o->mark.present && o->mark.dir &&
				    strcmp(o->mark.dir, a->dir_id)
				? o->mark.dir
				: NULL;

	if (!other ||
	    !(held->owned || (held->lost_to && !strcmp(held->lost_to, other))))
		return false;
	out->phase = RC_PHASE_CONFLICT;
	out->error = ag_xasprintf(
	    "the domain '%s' was taken over from %s (another agent's file "
	    "with 'adopt: true'?); it is left as it is until this file "
	    "changes",
	    o->name, other);
	out->lost_to = ag_xstrdup(other);
	memcpy(out->uuid, o->uuid, sizeof(out->uuid));
	out->id = o->id;
	return true;
}

/* Reconciles one file: read it, read its domain, plan, apply. Runs
 * without the lock. */
static void job_file(struct ag_agent *a, virConnectPtr conn,
		     struct rc_limits *limits, const char *file,
		     const char *shown, const struct held *held,
		     struct outcome *out)
{
	_cleanup_free_ char *path = NULL;
	struct rc_pass p = {0};
	struct rc_err e;
	struct rc_apply_stats st = {0};
	struct ag_job_log log = {file, shown, a};
	struct rc_apply_opts ao = {.shutdown_timeout = a->opts.shutdown_timeout,
				   .delete_nvram = a->opts.delete_nvram,
				   .progress = ag_progress,
				   .userdata = &log};
	struct timespec t0;
	struct stat lst;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (asprintf(&path, "%s/%s", a->opts.dir, file) < 0)
		return;
	/* a vanished file prunes nothing: the orphan pass decides, on the
	 * whole directory, once it is quiet */
	/* lstat: a symlink to nothing is a bad file, which keeps its
	 * domain, not a file that is gone */
	if (lstat(path, &lst) < 0 && errno == ENOENT) {
		out->gone = true;
		return;
	}
	/* it vanished, and a file of that name is there again: one being
	 * written anew (git unlinks a file it rewrites, then creates,
	 * writes and closes it), maybe still empty. Its close, or its
	 * rename into place, queues it: it is read then. */
	if (held->gone) {
		out->rewritten = true;
		return;
	}
	out->phase = RC_PHASE_ERROR;
	if (!conn) {
		out->error = strdup("libvirt is unreachable; waiting for it");
		out->failed = true;
		return;
	}
	/* read as apply reads it: the trust rule (the directory's and the
	 * file's owner and mode, regular files, symlinks inside) is checked
	 * on every read */
	if (rc_pass_plan_file(conn, a->dir_id, path, a->opts.insecure, limits,
			      &p, &e) < 0) {
		out->error = strdup(e.msg);
		out->failed = true;
		rc_pass_finish(&p);
		return;
	}
	out->seed_files = seed_files(p.set.entries[0].dom);
	if (!p.set.entries[0].dom) {
		out->error = ds_diags_first(&p.set.entries[0].diags);
		rc_pass_finish(&p);
		return;
	}
	/* a pool's item is named "pool NAME", apart from domains */
	out->domain =
	    ag_xstrdup(p.set.entries[0].dom->pool ? p.plan.domains[0].name
						  : p.set.entries[0].dom->name);
	if (taken_over(a, &p, held, out)) {
		rc_pass_finish(&p);
		return;
	}
	rc_apply(conn, &p.plan, &ao, &st);
	struct rc_domain_plan *dp = &p.plan.domains[0];
	domain_identity(conn, dp->name, st.writes ? NULL : &p, out);
	if (st.writes) {
		/* what the calls came to, and how long the job took */
		ag_log(LOG_INFO, "%s (%s): %s after %zu call%s in %.1f ms",
		       dp->name, shown, rc_phase_name(dp->phase), st.writes,
		       st.writes == 1 ? "" : "s", ag_seconds_since(&t0) * 1e3);
	}
	out->phase = dp->phase;
	out->writes = st.writes;
	if (dp->phase == RC_PHASE_ERROR || dp->phase == RC_PHASE_CONFLICT) {
		out->error = dp->reason ? strdup(dp->reason) : NULL;
		out->failed = st.failed > 0 || dp->retry;
	} else if (dp->reason) {
		out->note = strdup(dp->reason);
	}
	if (dp->n_actions)
		out->change = strdup(dp->actions[dp->n_actions - 1].why);
	if (dp->mark_volumes)
		out->volumes = strdup(dp->mark_volumes);
	rc_pass_finish(&p);
}

/* Queues again the other files that named its domain: they may be free of
 * a clash with it now. Lock held. */
static void rerun_sharers(struct ag_agent *a, const struct ag_item *it)
{
	for (size_t i = 0; it->domain && i < a->n_items; i++)
		if (a->items[i] != it && a->items[i]->domain &&
		    !strcmp(a->items[i]->domain, it->domain))
			ag_schedule(a, a->items[i], 0);
}

/* Records a job's outcome in its item; logs what is new. Lock held. */
static void record(struct ag_agent *a, struct ag_item *it, struct outcome *o)
{
	time_t now = time(NULL);

	a->stats.reconciles++;
	a->stats.calls += o->writes;
	it->checked_at = now;
	if (o->error && (!it->error || strcmp(it->error, o->error)))
		ag_log(o->phase == RC_PHASE_CONFLICT ? LOG_WARNING : LOG_ERR,
		       "%s%s%s: %s", it->shown, o->domain ? " → " : "",
		       o->domain ? o->domain : "", o->error);
	if (o->note && (!it->note || strcmp(it->note, o->note)))
		ag_log(LOG_NOTICE, "%s (%s): %s", o->domain ? o->domain : "?",
		       it->shown, o->note);
	if (o->domain && !it->domain) {
		/* the echoes of its first calls came before the agent knew its
		 * domain; expecting them now would swallow others' events */
		memset(it->expect_until, 0, sizeof(it->expect_until));
	}
	if (o->domain && (!it->domain || strcmp(it->domain, o->domain))) {
		/* files that shared its old name may be free of the clash */
		rerun_sharers(a, it);
		ag_set_str(&it->domain, o->domain);
	}
	if (o->domain) {
		/* a file names it now (a renamed file took it over) */
		ag_orphans_forget(a, o->domain);
		memcpy(it->uuid, o->uuid, sizeof(it->uuid));
		it->id = o->id;
	}
	it->phase = o->phase;
	it->owned = o->domain && (o->phase == RC_PHASE_IN_SYNC ||
				  o->phase == RC_PHASE_CONVERGING ||
				  o->phase == RC_PHASE_RESTART_REQUIRED);
	ag_set_str(&it->lost_to, it->owned ? NULL : o->lost_to);
	ag_set_str(&it->error, o->error);
	ag_set_str(&it->note, o->note);
	ag_set_str(&it->seed_files, o->seed_files);
	if (o->phase != RC_PHASE_ERROR && o->phase != RC_PHASE_CONFLICT)
		ag_set_str(&it->volumes, o->volumes);
	if (o->change) {
		ag_set_str(&it->last_change, o->change);
		it->changed_at = now;
	}
	if (o->error) {
		a->stats.errors++;
	} else {
		a->stats.last_success = now;
	}
	if (o->failed) {
		it->failures++;
		ag_schedule(a, it, ag_backoff_ms(it->failures));
	} else {
		it->failures = 0;
	}
}

/* Two files naming one domain are both errors. Lock held. */
static bool clashes(struct ag_agent *a, struct ag_item *it, struct outcome *o)
{
	for (size_t i = 0; o->domain && i < a->n_items; i++) {
		struct ag_item *other = a->items[i];
		/* a file that is gone names nothing, though its item
		 * waits for its job */
		if (other == it || other->gone || !other->domain ||
		    strcmp(other->domain, o->domain))
			continue;
		free(o->error);
		if (asprintf(&o->error, "domain '%s' is also given in %s",
			     o->domain, other->shown) < 0)
			o->error = NULL;
		o->phase = RC_PHASE_ERROR;
		return true;
	}
	return false;
}

static void run_job(struct ag_agent *a, struct ag_item *it)
{
	_cleanup_free_ char *file = ag_xstrdup(it->file);
	_cleanup_free_ char *shown = ag_xstrdup(it->shown);
	_cleanup_free_ char *lost_to =
	    it->lost_to ? ag_xstrdup(it->lost_to) : NULL;
	struct held held = {it->owned, lost_to, it->gone};
	struct outcome o = {0};
	struct rc_limits limits;
	virConnectPtr conn = a->conn;
	struct timespec t0;

	if (conn)
		virConnectRef(conn);
	ag_limits_copy(&a->limits, &limits);
	pthread_mutex_unlock(&a->lock);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	job_file(a, conn, &limits, file, shown, &held, &o);
	double seconds = ag_seconds_since(&t0);
	if (conn)
		virConnectClose(conn);
	pthread_mutex_lock(&a->lock);
	a->progress_ms = ag_now_ms(); /* for the watchdog */
	ag_stats_observe(&a->stats, seconds);
	if (limits.n_vcpus > a->limits.n_vcpus) {
		rc_limits_finish(&a->limits);
		a->limits = limits; /* what this job learnt */
	} else {
		rc_limits_finish(&limits);
	}
	it->running = false;
	if (o.gone && !it->again) {
		it->gone = true; /* its deletion's event may still be queued */
		/* its domain is kept; the orphan pass decides, after a quiet
		 * moment, whether another file took it over */
		ag_orphan_add(a, it);
		rerun_sharers(a, it);
		ag_orphans_later(a, 0);
		ag_item_remove(a, it);
	} else if (o.gone) {
		ag_schedule(a, it, 0);
	} else if (o.rewritten) {
		/* nothing learnt: it stays as it was until it is read */
		if (it->again)
			ag_schedule(a, it, 0);
	} else {
		clashes(a, it, &o);
		record(a, it, &o);
		if (it->again)
			ag_schedule(a, it, 0);
	}
	outcome_finish(&o);
	ag_status_changed(a);
}

bool ag_idle(struct ag_agent *a)
{
	if (a->resync_wanted || a->orphans_running ||
	    (a->orphans_wanted && a->orphans_due_ms != UINT64_MAX))
		return false;
	for (size_t i = 0; i < a->n_items; i++)
		if (a->items[i]->queued || a->items[i]->running)
			return false;
	return true;
}

/* Tells systemd the agent is ready once every file was reconciled once
 * (or there was none) after the first full pass, or at once when libvirt
 * is unreachable: the agent then waits for it, and its STATUS= says so;
 * failing the start would only restart it into the same wait. Lock
 * held. */
void ag_announce_ready(struct ag_agent *a)
{
	if (a->ready_sent || !a->stats.last_resync || a->connecting ||
	    (a->connected && !ag_idle(a)))
		return;
	a->ready_sent = true;
	ag_status_write(a);
	sd_notify(0, "READY=1");
	ag_log(LOG_INFO, "ready: %zu files, %zu orphaned", a->n_items,
	       a->n_orphans);
}

/* Waits for work until next (ag_now_ms; UINT64_MAX: until signalled).
 * Lock held. */
static void wait_for_work(struct ag_agent *a, uint64_t now, uint64_t next)
{
	struct timespec ts;
	uint64_t ms = next - now;

	if (next == UINT64_MAX) {
		pthread_cond_wait(&a->work, &a->lock);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&a->work, &a->lock, &ts);
}

/* What a worker does next, lock held: false when there was nothing. */
static bool work_once(struct ag_agent *a, uint64_t now)
{
	struct ag_item *it;

	if (a->resync_wanted) {
		ag_resync(a);
		return true;
	}
	/* while a connect is under way, calls would only fail */
	if (!a->conn && a->connecting)
		return false;
	if (ag_orphans_due(a, now)) {
		ag_calls_busy(a, 1);
		ag_orphan_pass(a);
		ag_calls_busy(a, -1);
		return true;
	}
	if (!(it = ag_take_due(a, now)))
		return false;
	ag_calls_busy(a, 1);
	run_job(a, it);
	ag_calls_busy(a, -1);
	return true;
}

void *ag_worker(void *opaque)
{
	struct ag_agent *a = opaque;

	pthread_mutex_lock(&a->lock);
	while (!a->quitting) {
		uint64_t now = ag_now_ms(), next;
		if (work_once(a, now)) {
			ag_announce_ready(a);
			continue;
		}
		next = a->conn || !a->connecting ? ag_next_due(a) : UINT64_MAX;
		/* a pass held back by a job is looked at again when the job
		 * ends */
		if (a->orphans_wanted && a->orphans_due_ms > now &&
		    a->orphans_due_ms < next)
			next = a->orphans_due_ms;
		wait_for_work(a, now, next);
	}
	a->workers_running--;
	pthread_cond_broadcast(&a->work);
	pthread_mutex_unlock(&a->lock);
	return NULL;
}
