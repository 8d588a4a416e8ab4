/* run: the agent. libvirt's event loop on the main thread (inotify,
 * signalfd, timers and libvirt's own events); workers for the calls. */
#include <errno.h>
#include <getopt.h>
#include <libvirt/virterror.h>
#include <libxml/uri.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "cli.h"

static void mark_status(struct ag_agent *a)
{
	if (!a->status_dirty) {
		a->status_dirty = true;
		virEventUpdateTimeout(a->status_timer, 50);
	}
}

static bool idle(struct ag_agent *a);

static void on_status_timer(int timer, void *opaque)
{
	struct ag_agent *a = opaque;

	virEventUpdateTimeout(timer, -1);
	pthread_mutex_lock(&a->lock);
	ag_status_write(a);
	bool quiet = idle(a);
	pthread_mutex_unlock(&a->lock);
	/* after a burst of work, give what it freed back to the system */
	if (quiet)
		malloc_trim(0);
}

static void set_str(char **slot, const char *s)
{
	char *n = s ? strdup(s) : NULL;

	free(*slot);
	*slot = n;
}

struct job_log {
	const char *file;  /* the item's key */
	const char *shown; /* the file as logs show it */
	struct ag_agent *agent;
};

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
		return AG_EV_STOPPED;
	case RC_ACT_UNDEFINE:
		return AG_EV_UNDEFINED;
	default:
		return AG_EV_NONE;
	}
}

static void progress(const struct rc_domain_plan *dp, const struct rc_action *a,
		     void *userdata)
{
	const struct job_log *l = userdata;
	int ev = expected_event(a->kind);
	struct ag_item *it;

	if (l->agent && ev != AG_EV_NONE) {
		pthread_mutex_lock(&l->agent->lock);
		if ((it = ag_item_find(l->agent, l->file)))
			it->expect_until[ev] = ag_now_ms() + AG_EXPECT_MS;
		pthread_mutex_unlock(&l->agent->lock);
	}

	ag_log(LOG_NOTICE, "%s (%s): %s%s: %s", dp->name, l->shown,
	       rc_act_name(a->kind),
	       a->kind == RC_ACT_SET_VCPUS || a->kind == RC_ACT_SET_MEMORY ||
		       a->kind == RC_ACT_SET_MARK
		   ? (a->live ? " (live)" : " (config)")
		   : "",
	       a->why);
}

/* Copies limits so that a worker can learn into its own. */
static int limits_copy(const struct rc_limits *from, struct rc_limits *to)
{
	*to = (struct rc_limits){.host_cpus = from->host_cpus,
				 .host_memory = from->host_memory};
	to->best_type = from->best_type ? strdup(from->best_type) : NULL;
	to->vcpus = calloc(from->n_vcpus + 1, sizeof(*to->vcpus));
	if (!to->vcpus || (from->best_type && !to->best_type))
		return -ENOMEM;
	for (size_t i = 0; i < from->n_vcpus; i++) {
		to->vcpus[i].type = strdup(from->vcpus[i].type);
		to->vcpus[i].machine = from->vcpus[i].machine
					   ? strdup(from->vcpus[i].machine)
					   : NULL;
		to->vcpus[i].max = from->vcpus[i].max;
		to->n_vcpus++;
	}
	return 0;
}

struct outcome {
	enum rc_phase phase;
	char *domain;
	char *error;
	char *note;
	char *change;
	bool failed; /* retry with backoff */
	bool gone;
	size_t writes;
};

static void outcome_finish(struct outcome *o)
{
	free(o->domain);
	free(o->error);
	free(o->note);
	free(o->change);
}

/* A file that is gone: its domain, if ours, is orphaned (kept), or with
 * --prune undefined, unless the directory is empty. */
static void job_gone(struct ag_agent *a, virConnectPtr conn,
		     const struct rc_limits *limits, const char *file,
		     const char *shown, const char *domain, bool prune,
		     struct outcome *out)
{
	struct rc_observed o;
	struct rc_err e;
	struct ds_set none = {0};
	struct rc_plan plan;
	struct rc_plan_opts po = {
	    .prune = prune, .dir_usable = true, .dir = a->dir_id};
	struct rc_apply_stats st = {0};
	struct job_log log = {file, shown, a};
	struct rc_apply_opts ao = {.shutdown_timeout = a->opts.shutdown_timeout,
				   .delete_nvram = a->opts.delete_nvram,
				   .progress = progress,
				   .userdata = &log};
	virDomainPtr dom;

	out->gone = true;
	out->phase = RC_PHASE_ORPHANED;
	if (!domain || !conn || !(dom = virDomainLookupByName(conn, domain)))
		return;
	if (rc_observe_domain(dom, &o, &e) < 0 || !o.mark.present ||
	    strcmp(o.mark.file ? o.mark.file : "", file)) {
		rc_observed_finish(&o);
		virDomainFree(dom);
		return;
	}
	virDomainFree(dom);
	if (rc_plan(&none, &o, 1, limits, &po, &plan) == 0) {
		rc_apply(conn, &plan, &ao, &st);
		if (plan.n) {
			out->phase = plan.domains[0].phase;
			out->note = plan.domains[0].reason
					? strdup(plan.domains[0].reason)
					: NULL;
		}
		out->writes = st.writes;
		rc_plan_finish(&plan);
	}
	out->domain = strdup(domain);
	rc_observed_finish(&o);
}

/* Reconciles one file: read it, read its domain, plan, apply. Runs
 * without the lock. */
static void job_file(struct ag_agent *a, virConnectPtr conn,
		     struct rc_limits *limits, const char *file,
		     const char *shown, const char *old_domain,
		     struct outcome *out)
{
	_cleanup_free_ char *path = NULL;
	struct rc_pass p = {0};
	struct rc_err e;
	struct rc_apply_stats st = {0};
	struct job_log log = {file, shown, a};
	struct rc_apply_opts ao = {.shutdown_timeout = a->opts.shutdown_timeout,
				   .delete_nvram = a->opts.delete_nvram,
				   .progress = progress,
				   .userdata = &log};
	struct timespec t0;
	struct stat lst;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (asprintf(&path, "%s/%s", a->opts.dir, file) < 0)
		return;
	/* lstat: a symlink to nothing is a bad file, which keeps its
	 * domain, not a file that is gone */
	if (lstat(path, &lst) < 0 && errno == ENOENT) {
		job_gone(a, conn, limits, file, shown, old_domain,
			 a->opts.prune, out);
		return;
	}
	out->phase = RC_PHASE_ERROR;
	if (!conn) {
		out->error = strdup("libvirt is unreachable; waiting for it");
		out->failed = true;
		return;
	}
	/* read as apply reads it, the trust rule checked on every read */
	if (rc_pass_plan_file(conn, a->dir_id, path, a->opts.insecure, limits,
			      &p, &e) < 0) {
		out->error = strdup(e.msg);
		out->failed = true;
		rc_pass_finish(&p);
		return;
	}
	if (!p.set.entries[0].dom) {
		out->error = ds_diags_first(&p.set.entries[0].diags);
		rc_pass_finish(&p);
		return;
	}
	out->domain = strdup(p.set.entries[0].dom->name);
	rc_apply(conn, &p.plan, &ao, &st);
	struct rc_domain_plan *dp = &p.plan.domains[0];
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
		out->failed = st.failed > 0;
	} else if (dp->reason) {
		out->note = strdup(dp->reason);
	}
	if (dp->n_actions)
		out->change = strdup(dp->actions[dp->n_actions - 1].why);
	rc_pass_finish(&p);
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
		for (size_t i = 0; it->domain && i < a->n_items; i++)
			if (a->items[i] != it && a->items[i]->domain &&
			    !strcmp(a->items[i]->domain, it->domain))
				ag_schedule(a, a->items[i], 0);
		set_str(&it->domain, o->domain);
	}
	it->phase = o->phase;
	set_str(&it->error, o->error);
	set_str(&it->note, o->note);
	if (o->change) {
		set_str(&it->last_change, o->change);
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
		if (other == it || !other->domain ||
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
	_cleanup_free_ char *file = strdup(it->file);
	_cleanup_free_ char *shown = strdup(it->shown);
	_cleanup_free_ char *domain = it->domain ? strdup(it->domain) : NULL;
	struct outcome o = {0};
	struct rc_limits limits;
	virConnectPtr conn = a->conn;
	struct timespec t0;

	if (conn)
		virConnectRef(conn);
	if (limits_copy(&a->limits, &limits) < 0 || !file || !shown) {
		it->running = false;
		return;
	}
	pthread_mutex_unlock(&a->lock);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	job_file(a, conn, &limits, file, shown, domain, &o);
	double seconds = ag_seconds_since(&t0);
	if (conn)
		virConnectClose(conn);
	pthread_mutex_lock(&a->lock);
	ag_stats_observe(&a->stats, seconds);
	if (limits.n_vcpus > a->limits.n_vcpus) {
		rc_limits_finish(&a->limits);
		a->limits = limits; /* what this job learnt */
	} else {
		rc_limits_finish(&limits);
	}
	it->running = false;
	if (o.gone && !it->again) {
		if (o.domain && o.phase == RC_PHASE_ORPHANED) {
			struct ag_orphan *g = reallocarray(
			    a->orphans, a->n_orphans + 1, sizeof(*g));
			if (g) {
				a->orphans = g;
				g[a->n_orphans++] = (struct ag_orphan){
				    strdup(o.domain), strdup(shown),
				    RC_PHASE_ORPHANED,
				    o.note ? strdup(o.note) : NULL};
				ag_log(LOG_NOTICE, "%s: %s", o.domain,
				       o.note ? o.note : "orphaned");
			}
		} else if (o.domain) {
			ag_log(LOG_NOTICE, "%s: its file %s is gone; pruned",
			       o.domain, shown);
		}
		ag_item_remove(a, it);
	} else {
		clashes(a, it, &o);
		record(a, it, &o);
		if (it->again)
			ag_schedule(a, it, 0);
	}
	outcome_finish(&o);
	mark_status(a);
}

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
static void resync(struct ag_agent *a)
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
		       a->dir_shown, strerror(-r));
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
	if (limits_copy(&a->limits, &limits) < 0)
		prune = false;
	pthread_mutex_unlock(&a->lock);
	struct ds_set none = {0};
	struct rc_plan plan = {0};
	struct rc_plan_opts po = {
	    .prune = prune, .dir_usable = true, .dir = a->dir_id};
	struct rc_apply_stats st = {0};
	struct job_log log = {"(gone)", "(gone)", NULL};
	struct rc_apply_opts ao = {.shutdown_timeout = a->opts.shutdown_timeout,
				   .delete_nvram = a->opts.delete_nvram,
				   .progress = progress,
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
	mark_status(a);
}

static bool idle(struct ag_agent *a)
{
	if (a->resync_wanted || a->resync_running)
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
static void announce_ready(struct ag_agent *a)
{
	if (a->ready_sent || !a->stats.last_resync ||
	    (a->connected && !idle(a)))
		return;
	a->ready_sent = true;
	ag_status_write(a);
	sd_notify(0, "READY=1");
	ag_log(LOG_INFO, "ready: %zu files, %zu orphaned", a->n_items,
	       a->n_orphans);
}

static void *worker(void *opaque)
{
	struct ag_agent *a = opaque;

	pthread_mutex_lock(&a->lock);
	while (!a->quitting) {
		uint64_t now = ag_now_ms(), next;
		struct ag_item *it;
		if (a->resync_wanted && !a->resync_running) {
			resync(a);
			announce_ready(a);
			continue;
		}
		it = ag_take_due(a, now);
		if (!it) {
			next = ag_next_due(a);
			if (next == UINT64_MAX) {
				pthread_cond_wait(&a->work, &a->lock);
			} else {
				struct timespec ts;
				clock_gettime(CLOCK_MONOTONIC, &ts);
				uint64_t ms = next - now;
				ts.tv_sec += ms / 1000;
				ts.tv_nsec += (ms % 1000) * 1000000;
				if (ts.tv_nsec >= 1000000000) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000;
				}
				pthread_cond_timedwait(&a->work, &a->lock, &ts);
			}
			continue;
		}
		a->busy++;
		run_job(a, it);
		a->busy--;
		announce_ready(a);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

static void on_signal(int watch, int fd, int events, void *opaque)
{
	struct ag_agent *a = opaque;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	pthread_mutex_lock(&a->lock);
	if (si.ssi_signo == SIGHUP) {
		ag_log(LOG_INFO, "SIGHUP: reading everything again");
		a->resync_wanted = true;
		pthread_cond_signal(&a->work);
	} else {
		ag_log(LOG_INFO,
		       "%s: finishing the calls in flight, then exiting",
		       strsignal(si.ssi_signo));
		a->quitting = true;
		pthread_cond_broadcast(&a->work);
	}
	pthread_mutex_unlock(&a->lock);
}

static void on_resync_timer(int timer, void *opaque)
{
	struct ag_agent *a = opaque;

	pthread_mutex_lock(&a->lock);
	a->resync_wanted = true;
	pthread_cond_signal(&a->work);
	pthread_mutex_unlock(&a->lock);
}

/* An event of kind (AG_EV_*; AG_EV_NONE for one the agent never causes)
 * for dom: drift to repair now, unless it is the echo of our own call. */
static void on_domain_event(struct ag_agent *a, virDomainPtr dom, int kind)
{
	const char *name = virDomainGetName(dom);
	struct ag_item *it;

	pthread_mutex_lock(&a->lock);
	it = name ? ag_item_by_domain(a, name) : NULL;
	if (it && kind != AG_EV_NONE && ag_now_ms() < it->expect_until[kind])
		it->expect_until[kind] = 0; /* ours: one echo per call */
	else if (it)
		ag_schedule(a, it, 0);
	pthread_mutex_unlock(&a->lock);
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event,
			int detail, void *opaque)
{
	int kind = AG_EV_NONE;

	if (event == VIR_DOMAIN_EVENT_DEFINED)
		kind = AG_EV_DEFINED;
	else if (event == VIR_DOMAIN_EVENT_STARTED)
		kind = AG_EV_STARTED;
	else if (event == VIR_DOMAIN_EVENT_STOPPED)
		kind = AG_EV_STOPPED;
	else if (event == VIR_DOMAIN_EVENT_UNDEFINED)
		kind = AG_EV_UNDEFINED;
	on_domain_event(opaque, dom, kind);
	return 0;
}

static void on_metadata(virConnectPtr conn, virDomainPtr dom, int type,
			const char *nsuri, void *opaque)
{
	on_domain_event(opaque, dom, AG_EV_METADATA);
}

static void on_close(virConnectPtr conn, int reason, void *opaque)
{
	struct ag_agent *a = opaque;

	pthread_mutex_lock(&a->lock);
	if (conn == a->conn && a->connected) {
		a->connected = false;
		ag_log(LOG_WARNING,
		       "lost the connection to libvirt; reconnecting");
		virEventUpdateTimeout(a->reconnect_timer, 500);
		mark_status(a);
	}
	pthread_mutex_unlock(&a->lock);
}

/* Connects (again): events, limits, then a full resync. Loop thread. */
/* libvirt pings the daemon every 5 s to notice a peer that vanished
 * without closing the socket. On a local socket the kernel tells at once
 * (the close callback fires), so the pings there only wake the agent. */
static void quiet_keepalive(virConnectPtr conn)
{
	_cleanup_free_ char *uri = virConnectGetURI(conn);
	xmlURIPtr u = uri ? xmlParseURI(uri) : NULL;

	if (u && (!u->server || !*u->server) &&
	    virConnectSetKeepAlive(conn, 0, 0) < 0)
		virResetLastError();
	xmlFreeURI(u);
}

static void on_reconnect(int timer, void *opaque)
{
	struct ag_agent *a = opaque;
	virConnectPtr conn = NULL, old;
	struct rc_limits limits;
	struct rc_err e;

	virEventUpdateTimeout(timer, -1);
	pthread_mutex_lock(&a->lock);
	old = a->conn;
	a->conn = NULL;
	a->connected = false;
	pthread_mutex_unlock(&a->lock);
	if (old) {
		virConnectDomainEventDeregisterAny(old, a->lifecycle_cb);
		virConnectDomainEventDeregisterAny(old, a->metadata_cb);
		virConnectUnregisterCloseCallback(old, on_close);
		virConnectClose(old);
	}
	if (rc_connect(a->opts.uri, &conn, &e) < 0 ||
	    rc_limits_read(conn, &limits, &e) < 0) {
		if (conn)
			virConnectClose(conn);
		unsigned delay = 1000u
				 << (a->reconnects < 6 ? a->reconnects : 6);
		if (!a->reconnects++)
			ag_log(LOG_ERR, "libvirt is unreachable: %s; retrying",
			       e.msg);
		virEventUpdateTimeout(timer, delay);
		return;
	}
	quiet_keepalive(conn);
	virConnectRegisterCloseCallback(conn, on_close, a, NULL);
	a->lifecycle_cb = virConnectDomainEventRegisterAny(
	    conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
	    VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), a, NULL);
	a->metadata_cb = virConnectDomainEventRegisterAny(
	    conn, NULL, VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
	    VIR_DOMAIN_EVENT_CALLBACK(on_metadata), a, NULL);
	pthread_mutex_lock(&a->lock);
	rc_limits_finish(&a->limits);
	a->limits = limits;
	a->conn = conn;
	a->connected = true;
	if (a->reconnects)
		ag_log(LOG_INFO, "connected to libvirt again");
	a->reconnects = 0;
	a->resync_wanted = true;
	pthread_cond_signal(&a->work);
	mark_status(a);
	pthread_mutex_unlock(&a->lock);
}

static int parse_run_opts(int argc, char **argv, struct ag_opts *o,
			  int *ret_status)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"connect", required_argument, NULL, 'c'},
	    {"prune", no_argument, NULL, 'p'},
	    {"delete-nvram", no_argument, NULL, 'N'},
	    {"resync", required_argument, NULL, 'r'},
	    {"status-file", required_argument, NULL, 's'},
	    {"metrics-file", required_argument, NULL, 'm'},
	    {"insecure-permissions", no_argument, NULL, 'I'},
	    {"shutdown-timeout", required_argument, NULL, 't'},
	    {0},
	};
	char *end;
	int c;

	*o = (struct ag_opts){.resync = 300, .shutdown_timeout = 60};
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:hc:", opts, NULL)) != -1) {
		unsigned long v;
		switch (c) {
		case 'h':
			*ret_status = ag_usage("run", 0);
			return -1;
		case 'c':
			o->uri = optarg;
			break;
		case 'p':
			o->prune = true;
			break;
		case 'N':
			o->delete_nvram = true;
			break;
		case 's':
			o->status_file = optarg;
			break;
		case 'm':
			o->metrics_file = optarg;
			break;
		case 'I':
			o->insecure = true;
			break;
		case 'r':
		case 't':
			v = strtoul(optarg, &end, 10);
			if (*end || !*optarg || (c == 'r' && !v)) {
				fprintf(stderr,
					"%s run: %s takes a number of seconds, "
					"not '%s'\n",
					AG_PROG, argv[optind - 1], optarg);
				*ret_status = AG_EXIT_FAIL;
				return -1;
			}
			if (c == 'r')
				o->resync = v;
			else
				o->shutdown_timeout = v;
			break;
		default:
			*ret_status = ag_bad_option(argv, c);
			return -1;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr,
			"%s run: give one directory; see '%s run "
			"--help'\n",
			AG_PROG, AG_PROG);
		*ret_status = AG_EXIT_FAIL;
		return -1;
	}
	o->dir = argv[optind];
	return 0;
}

static int setup_signals(struct ag_agent *a)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -1;
	return virEventAddHandle(fd, VIR_EVENT_HANDLE_READABLE, on_signal, a,
				 NULL) < 0
		   ? -1
		   : 0;
}

int ag_cmd_run(int argc, char **argv)
{
	static struct ag_agent agent;
	struct ag_agent *a = &agent;
	struct ds_dir dir;
	char why[256];
	int status = AG_EXIT_OK, r;

	if (parse_run_opts(argc, argv, &a->opts, &status) < 0)
		return status;
	/* One malloc arena for all threads: the workers mostly wait on
	 * libvirt, and an arena each would keep megabytes they freed. */
	mallopt(M_ARENA_MAX, 1);
	if (!(a->dir_shown = ds_escape_name(a->opts.dir)))
		return AG_EXIT_FAIL;
	/* said at once, not per file: every job checks again */
	if (ds_dir_open(a->opts.dir, !a->opts.insecure, &dir, why,
			sizeof(why)) < 0) {
		ag_log(LOG_ERR, "%s: %s", a->dir_shown, why);
		return AG_EXIT_FAIL;
	}
	ds_dir_close(&dir);
	char id[PATH_MAX];
	if ((r = rc_dir_identity(a->opts.dir, id, sizeof(id))) < 0 ||
	    !(a->dir_id = strdup(id))) {
		ag_log(LOG_ERR, "%s: %s", a->dir_shown,
		       rc_dir_identity_strerror(r < 0 ? r : -ENOMEM));
		return AG_EXIT_FAIL;
	}
	a->stats.started = time(NULL);
	srand(getpid() ^ time(NULL));
	pthread_mutex_init(&a->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->work, &ca);
	if (virEventRegisterDefaultImpl() < 0) {
		ag_log(LOG_ERR, "cannot start libvirt's event loop");
		return AG_EXIT_FAIL;
	}
	rc_init();
	if (setup_signals(a) < 0 || (r = ag_watch_start(a)) < 0) {
		ag_log(LOG_ERR, "%s: cannot watch the directory: %s",
		       a->dir_shown, strerror(errno));
		return AG_EXIT_FAIL;
	}
	a->status_timer = virEventAddTimeout(-1, on_status_timer, a, NULL);
	a->resync_timer =
	    virEventAddTimeout(a->opts.resync * 1000, on_resync_timer, a, NULL);
	a->reconnect_timer = virEventAddTimeout(-1, on_reconnect, a, NULL);
	ag_log(LOG_INFO, "watching %s (%s), resync every %us%s", a->dir_shown,
	       a->opts.uri ? a->opts.uri : "libvirt's default URI",
	       a->opts.resync, a->opts.prune ? ", pruning" : "");
	on_reconnect(a->reconnect_timer, a); /* connect, then resync */
	pthread_mutex_lock(&a->lock);
	a->resync_wanted = true;
	pthread_mutex_unlock(&a->lock);
	for (int i = 0; i < AG_WORKERS; i++)
		pthread_create(&a->workers[i], NULL, worker, a);
	while (!a->quitting)
		if (virEventRunDefaultImpl() < 0)
			break;
	for (int i = 0; i < AG_WORKERS; i++)
		pthread_join(a->workers[i], NULL);
	sd_notify(0, "STOPPING=1");
	pthread_mutex_lock(&a->lock);
	ag_status_write(a);
	pthread_mutex_unlock(&a->lock);
	ag_log(LOG_INFO, "stopped");
	return status;
}
