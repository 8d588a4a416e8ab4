#include "apply.h"

#include <errno.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "connect.h"
#include "metadata.h"
#include "storage.h"
#include "workers.h"
#include "xmlpath.h"

static void fail(struct rc_domain_plan *dp, const char *call)
{
	const char *m = virGetLastErrorMessage();
	char *reason;

	dp->phase = RC_PHASE_ERROR;
	/* a call without libvirt's error says it itself ("call: why") */
	if ((virGetLastError()
		 ? asprintf(&reason, "%s: %s", call, m ? m : "failed")
		 : asprintf(&reason, "%s", call)) >= 0) {
		free(dp->reason);
		dp->reason = reason;
	}
}

static int undefine(virDomainPtr dom, bool delete_nvram)
{
	unsigned flags = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
			 VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
			 VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA;

	flags |= delete_nvram ? VIR_DOMAIN_UNDEFINE_NVRAM
			      : VIR_DOMAIN_UNDEFINE_KEEP_NVRAM;
	if (virDomainUndefineFlags(dom, flags) == 0)
		return 0;
	/* Drivers without checkpoints or NVRAM (the test driver) refuse
	 * those flags; without NVRAM there is nothing to keep. */
	if (virGetLastErrorCode() != VIR_ERR_INVALID_ARG)
		return -1;
	return virDomainUndefineFlags(
	    dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
		     VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA);
}

/* A refused live call, said: it waits for a restart. */
static void say_refused(struct rc_domain_plan *dp, const struct rc_action *a,
			const char *m)
{
	char *reason;

	dp->phase = RC_PHASE_RESTART_REQUIRED;
	if (asprintf(&reason, "restart required: %s was refused: %s", a->why,
		     m ? m : "by the hypervisor") >= 0) {
		free(dp->reason);
		dp->reason = reason;
	}
}

/* A live change the hypervisor refuses: remembered, reported, not failed. */
static void refused_live(struct rc_domain_plan *dp, const struct rc_action *a)
{
	const char *m = virGetLastErrorMessage();

	dp->live_mark.vcpus_refused = a->value;
	free(dp->live_mark.refused_reason);
	dp->live_mark.refused_reason = strdup(m ? m : "refused");
	say_refused(dp, a, m);
}

static int append_line(char **lines, const char *s, const char *sep)
{
	char *n;

	if (asprintf(&n, "%s%s%s", *lines ? *lines : "", *lines ? sep : "", s) <
	    0)
		return -1;
	free(*lines);
	*lines = n;
	return 0;
}

/* A device call the hypervisor refuses: remembered in the live mark, so
 * that it is not sent again, and reported; the config holds the change,
 * so a restart makes it. */
static void refused_device(struct rc_domain_plan *dp, const struct rc_action *a)
{
	const char *m = virGetLastErrorMessage();

	if (a->device)
		append_line(&dp->live_mark.devices_refused, a->device, "\n");
	free(dp->live_mark.device_refused_reason);
	dp->live_mark.device_refused_reason = strdup(m ? m : "refused");
	say_refused(dp, a, m);
}

/* One domain's calls: its handle once looked up or defined, and the owner
 * its mark should name before the next call that could take the domain
 * from someone else. */
struct domain_apply {
	virConnectPtr conn;
	virDomainPtr dom;
	struct rc_domain_plan *dp;
	const struct rc_apply_opts *opts;
	struct rc_apply_stats *stats;
	const struct rc_owner *expect;
	const struct rc_action **made; /* volumes made by this run */
	size_t n_made;
};

static bool str_eq(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/* The calls that take a domain over, rewrite it, stop it or remove it. */
static bool needs_owner(const struct rc_action *a)
{
	return a->kind == RC_ACT_REDEFINE || a->kind == RC_ACT_SHUTDOWN ||
	       a->kind == RC_ACT_UNDEFINE ||
	       (a->kind == RC_ACT_SET_MARK && !a->live);
}

static void owner_changed(struct rc_domain_plan *dp, const char *call,
			  const struct rc_mark *now)
{
	char *reason;
	int r;

	dp->phase = RC_PHASE_CONFLICT;
	if (!now->present)
		r = asprintf(&reason,
			     "%s not made: its mark was removed since the "
			     "domain was read",
			     call);
	else
		r = asprintf(&reason,
			     "%s not made: since the domain was read, it was "
			     "marked from %s (file %s)",
			     call, now->dir ? now->dir : "no directory",
			     now->file ? now->file : "unknown");
	if (r >= 0) {
		free(dp->reason);
		dp->reason = reason;
	}
}

/* Reads the mark again just before a call that needs the domain to be
 * the plan's: another file or agent may have marked it since it was read
 * (a renamed file's job while the old name's prune waits), or someone
 * removed the mark. Returns 0 when the mark names the owner expected; 1,
 * with the phase conflict, when not; -1 with *ret_call when it cannot be
 * read. */
static int check_owner(struct domain_apply *x, const char *call,
		       const char **ret_call)
{
	_cleanup_free_ char *xml =
	    virDomainGetMetadata(x->dom, VIR_DOMAIN_METADATA_ELEMENT,
				 RC_MARK_URI, VIR_DOMAIN_AFFECT_CONFIG);
	const struct rc_owner *w = x->expect;
	struct rc_mark m = {0};
	bool same;

	*ret_call = "virDomainGetMetadata";
	if (!xml && virGetLastErrorCode() != VIR_ERR_NO_DOMAIN_METADATA)
		return -1;
	if (xml && rc_mark_parse(xml, &m) < 0)
		return -1;
	same =
	    w->marked == m.present &&
	    (!m.present || (str_eq(w->dir, m.dir) && str_eq(w->file, m.file)));
	if (!same)
		owner_changed(x->dp, call, &m);
	rc_mark_finish(&m);
	return same ? 0 : 1;
}

/* Says that a call is about to be made (the progress callback) and counts
 * it. */
static void announce(struct domain_apply *x, const struct rc_action *a)
{
	if (x->opts->progress)
		x->opts->progress(x->dp, a, x->opts->userdata);
	x->stats->writes++;
}

/* The forced end of a shutdown: a call of its own, reported and counted
 * as one, and only while the domain is still the plan's. Returns as
 * run_action does. */
static int destroy(struct domain_apply *x, const char *why,
		   const char **ret_call)
{
	struct rc_action a = {.kind = RC_ACT_DESTROY, .why = (char *)why};
	int r = check_owner(x, "destroy", ret_call);

	if (r != 0)
		return r;
	announce(x, &a);
	*ret_call = "virDomainDestroy";
	return virDomainDestroy(x->dom);
}

/* A graceful shutdown, then a destroy after the timeout. Polls the state:
 * a one-shot command has no event loop to wait on. A paused guest cannot
 * hear the request: it is destroyed at once, and no shutdown is sent. */
static int shutdown_domain(struct domain_apply *x, const struct rc_action *a,
			   const char **ret_call)
{
	struct timespec start, now, tick = {0, 100 * 1000 * 1000};
	unsigned timeout = x->opts->shutdown_timeout;
	char why[64];
	int state, reason;

	if (virDomainGetState(x->dom, &state, &reason, 0) == 0 &&
	    state != VIR_DOMAIN_RUNNING)
		return state == VIR_DOMAIN_SHUTOFF
			   ? 0
			   : destroy(x,
				     "paused, so it cannot hear a shutdown; "
				     "destroyed",
				     ret_call);
	announce(x, a);
	*ret_call = "virDomainShutdown";
	if (virDomainShutdown(x->dom) < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (virDomainGetState(x->dom, &state, &reason, 0) < 0) {
			*ret_call = "virDomainGetState";
			return -1;
		}
		if (state == VIR_DOMAIN_SHUTOFF)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= (time_t)timeout)
			break;
		nanosleep(&tick, NULL);
	}
	snprintf(why, sizeof(why), "shutdown did not finish in %u s; destroyed",
		 timeout);
	return destroy(x, why, ret_call);
}

/* An attach or update made: remembered, so that a device the live XML
 * shows otherwise than the file is not sent again and again. */
static int device_sent(struct rc_domain_plan *dp, const struct rc_action *a)
{
	return a->device
		   ? append_line(&dp->live_mark.devices_sent, a->device, "\n")
		   : 0;
}

/* A detach sent: remembered, so that it is not sent again, and said. */
static int unplug_requested(struct rc_domain_plan *dp,
			    const struct rc_action *a)
{
	char *reason;

	if (append_line(&dp->live_mark.unplug_sent, a->xml, " ") < 0)
		return -1;
	if (dp->phase == RC_PHASE_RESTART_REQUIRED)
		return 0; /* the reason says more already */
	if (asprintf(&reason,
		     "%s%s%s: requested; the guest must agree (a "
		     "restart finishes it)",
		     dp->reason ? dp->reason : "", dp->reason ? "; " : "",
		     a->why) < 0)
		return -1;
	free(dp->reason);
	dp->reason = reason;
	return 0;
}

/* The MAC libvirt gave an interface's config but not yet the running
 * guest: a new interface, attached live with the same MAC so that it
 * keeps it across a restart. Returns the device's XML with that MAC, or
 * NULL when there is none (libvirt then makes one). */
static char *with_config_mac(virDomainPtr dom, const char *device)
{
	_cleanup_free_ char *cfg = rc_domain_xml(dom, VIR_DOMAIN_XML_INACTIVE);
	_cleanup_free_ char *live = rc_domain_xml(dom, 0);
	xmlDocPtr c = NULL, l = NULL, dev = NULL;
	xmlXPathContextPtr cx = NULL, lx = NULL;
	xmlXPathObjectPtr cm = NULL;
	char *out = NULL;

	if (!cfg || !live)
		return NULL;
	c = xmlReadMemory(cfg, strlen(cfg), NULL, NULL, XML_PARSE_NONET);
	l = xmlReadMemory(live, strlen(live), NULL, NULL, XML_PARSE_NONET);
	dev =
	    xmlReadMemory(device, strlen(device), NULL, NULL, XML_PARSE_NONET);
	if (c && l && dev && (cx = xmlXPathNewContext(c)) &&
	    (lx = xmlXPathNewContext(l)) &&
	    (cm = xmlXPathEvalExpression(
		 BAD_CAST "/domain/devices/interface/mac/@address", cx))) {
		for (int i = 0;
		     cm->nodesetval && !out && i < cm->nodesetval->nodeNr;
		     i++) {
			_cleanup_free_ xmlChar *mac =
			    xmlNodeGetContent(cm->nodesetval->nodeTab[i]);
			_cleanup_free_ char *q = NULL;
			xmlXPathObjectPtr held;
			if (!mac ||
			    asprintf(&q,
				     "/domain/devices/interface/mac[@address="
				     "'%s']",
				     (const char *)mac) < 0)
				break;
			held = xmlXPathEvalExpression(BAD_CAST q, lx);
			/* an empty node set may be NULL */
			if (held && (!held->nodesetval ||
				     held->nodesetval->nodeNr == 0)) {
				xmlNodePtr root = xmlDocGetRootElement(dev);
				xmlNodePtr m = xmlNewChild(
				    root, NULL, BAD_CAST "mac", NULL);
				if (m && xmlSetProp(m, BAD_CAST "address", mac))
					out = ds_xml_text(root);
			}
			xmlXPathFreeObject(held);
		}
	}
	xmlXPathFreeObject(cm);
	xmlXPathFreeContext(cx);
	xmlXPathFreeContext(lx);
	xmlFreeDoc(c);
	xmlFreeDoc(l);
	xmlFreeDoc(dev);
	return out;
}

/* An element of <metadata>, as virDomainSetMetadata takes it: without its
 * namespace, which libvirt gives it again under the prefix it is told
 * ('' removes it). */
static int set_element(virDomainPtr dom, const struct rc_action *a,
		       unsigned where)
{
	_cleanup_free_ char *xml = NULL;
	_cleanup_free_ char *prefix = NULL;

	if (*a->xml && ds_metadata_for_set(a->xml, a->key, &xml, &prefix) < 0)
		return -1;
	return virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, xml,
				    prefix, a->key, where);
}

/* A pruned domain's volume, unless a domain other than it uses the
 * volume (a copy of the file's, another tool's): then it stays, said. */
static int delete_volume(struct domain_apply *x, const struct rc_action *a,
			 const char **ret_call)
{
	_cleanup_free_ char *user =
	    rc_volume_user(x->conn, x->dp->name, a->key, a->device);
	char *reason;

	if (!user)
		return rc_volume_delete(x->conn, a->key, a->device, ret_call);
	if (asprintf(&reason, "%s%svolume %s/%s kept: the domain %s uses it",
		     x->dp->reason ? x->dp->reason : "",
		     x->dp->reason ? "; " : "", a->key, a->device, user) >= 0) {
		free(x->dp->reason);
		x->dp->reason = reason;
	}
	return 0;
}

/* After a failed define, the volumes this run made for it go again:
 * nothing is left half made. */
static void unmake(struct domain_apply *x)
{
	const char *call;

	for (size_t i = x->n_made; i-- > 0;) {
		if (x->opts->progress) {
			struct rc_action undo = {
			    .kind = RC_ACT_DELETE_VOLUME,
			    .key = x->made[i]->key,
			    .device = x->made[i]->device,
			    .why = "the define failed; the volume made for "
				   "it goes"};
			x->opts->progress(x->dp, &undo, x->opts->userdata);
		}
		x->stats->writes++;
		rc_volume_delete(x->conn, x->made[i]->key, x->made[i]->device,
				 &call);
	}
	x->n_made = 0;
}

/* One action, reported and counted as it is made; returns 0, 1 when the
 * domain's calls end without a failure (its mark changed: the phase says
 * so), or -1 with *ret_call naming the failed call. */
static int run_action(struct domain_apply *x, const struct rc_action *a,
		      const char **ret_call)
{
	unsigned where =
	    a->live ? VIR_DOMAIN_AFFECT_LIVE : VIR_DOMAIN_AFFECT_CONFIG;
	virDomainPtr dom = x->dom;
	int r =
	    needs_owner(a) ? check_owner(x, rc_act_name(a->kind), ret_call) : 0;

	if (r != 0)
		return r;
	if (a->kind != RC_ACT_SHUTDOWN) /* it says what it makes itself */
		announce(x, a);
	switch (a->kind) {
	case RC_ACT_DEFINE:
	case RC_ACT_REDEFINE: {
		*ret_call = "virDomainDefineXMLFlags";
		virDomainPtr d = virDomainDefineXMLFlags(x->conn, a->xml, 0);
		if (!d)
			return -1;
		if (x->dom)
			virDomainFree(x->dom);
		x->dom = d;
		return 0;
	}
	case RC_ACT_SET_MARK:
		*ret_call = "virDomainSetMetadata";
		return virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
					    a->xml, RC_MARK_PREFIX, RC_MARK_URI,
					    where);
	case RC_ACT_SET_VCPUS:
		*ret_call = "virDomainSetVcpusFlags";
		return virDomainSetVcpusFlags(dom, a->value, where);
	case RC_ACT_SET_MEMORY:
		*ret_call = "virDomainSetMemoryFlags";
		if (virDomainSetMemoryFlags(dom, a->value, where) < 0)
			return -1;
		if (a->live)
			x->dp->live_mark.memory_sent = a->value;
		return 0;
	case RC_ACT_SET_AUTOSTART:
		*ret_call = "virDomainSetAutostart";
		return virDomainSetAutostart(dom, a->value != 0);
	case RC_ACT_START:
		*ret_call = "virDomainCreate";
		return virDomainCreate(dom);
	case RC_ACT_SHUTDOWN:
		return shutdown_domain(x, a, ret_call);
	case RC_ACT_DESTROY:
		return destroy(x, a->why, ret_call);
	case RC_ACT_UNDEFINE:
		*ret_call = "virDomainUndefineFlags";
		return undefine(dom, x->opts->delete_nvram);
	case RC_ACT_DETACH_DEVICE:
		*ret_call = "virDomainDetachDeviceAlias";
		/* asynchronous: the guest is asked, the event or the live XML
		 * tells when it agreed */
		if (virDomainDetachDeviceAlias(dom, a->xml, where) < 0)
			return -1;
		return unplug_requested(x->dp, a);
	case RC_ACT_UPDATE_DEVICE:
		*ret_call = "virDomainUpdateDeviceFlags";
		if (virDomainUpdateDeviceFlags(dom, a->xml, where) < 0)
			return -1;
		return device_sent(x->dp, a);
	case RC_ACT_ATTACH_DEVICE: {
		_cleanup_free_ char *xml = NULL;
		*ret_call = "virDomainAttachDeviceFlags";
		if (a->value)
			xml = with_config_mac(dom, a->xml);
		if (virDomainAttachDeviceFlags(dom, xml ? xml : a->xml, where) <
		    0)
			return -1;
		return device_sent(x->dp, a);
	}
	case RC_ACT_CREATE_VOLUME:
		if (rc_volume_create(x->conn, a->key, a->xml, a->from, a->value,
				     ret_call) < 0)
			return -1;
		x->made[x->n_made++] = a;
		return 0;
	case RC_ACT_RESIZE_VOLUME:
		if (a->live) {
			*ret_call = "virDomainBlockResize";
			return virDomainBlockResize(
			    dom, a->target, a->value,
			    VIR_DOMAIN_BLOCK_RESIZE_BYTES);
		}
		return rc_volume_resize(x->conn, a->key, a->device, a->value,
					ret_call);
	case RC_ACT_WRITE_SEED:
		return rc_seed_write(x->conn, dom, a->seed, ret_call);
	case RC_ACT_DELETE_VOLUME:
		return delete_volume(x, a, ret_call);
	case RC_ACT_DEFINE_POOL:
		return rc_pool_define(x->conn, a->xml, ret_call);
	case RC_ACT_BUILD_POOL:
		return rc_pool_build(x->conn, a->key, a->value, ret_call);
	case RC_ACT_START_POOL:
		return rc_pool_start(x->conn, a->key, ret_call);
	case RC_ACT_SET_POOL_AUTOSTART:
		return rc_pool_autostart(x->conn, a->key, a->value != 0,
					 ret_call);
	case RC_ACT_SET_METADATA:
		*ret_call = "virDomainSetMetadata";
		if (a->value == RC_META_ELEMENT)
			return set_element(dom, a, where);
		return virDomainSetMetadata(
		    dom,
		    a->value == RC_META_TITLE ? VIR_DOMAIN_METADATA_TITLE
					      : VIR_DOMAIN_METADATA_DESCRIPTION,
		    *a->xml ? a->xml : NULL, NULL, NULL, where);
	}
	return 0;
}

/* Leaves the live mark on the running guest when it changed. */
static void write_live_mark(virDomainPtr dom, struct rc_domain_plan *dp,
			    struct rc_apply_stats *stats)
{
	_cleanup_free_ char *now = NULL;

	if (!dp->live_mark_set || dp->phase == RC_PHASE_ERROR || !dom)
		return;
	now = rc_mark_format(&dp->live_mark);
	if (!now || (dp->live_mark_was && !strcmp(now, dp->live_mark_was)))
		return;
	stats->writes++;
	if (virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, now,
				 RC_MARK_PREFIX, RC_MARK_URI,
				 VIR_DOMAIN_AFFECT_LIVE) < 0)
		fail(dp, "virDomainSetMetadata");
}

/* Runs the actions in order; returns false when the domain's calls end
 * early (a failed call, or a mark no longer the one expected). */
static bool run_actions(struct domain_apply *x)
{
	struct rc_domain_plan *dp = x->dp;

	for (size_t i = 0; i < dp->n_actions; i++) {
		const struct rc_action *a = &dp->actions[i];
		const char *call = NULL;
		int r = run_action(x, a, &call);
		if (r == 0) {
			if (a->kind == RC_ACT_DEFINE ||
			    a->kind == RC_ACT_REDEFINE ||
			    (a->kind == RC_ACT_SET_MARK && !a->live))
				x->expect = &dp->owner; /* ours now */
			continue;
		}
		if (r > 0)
			return false;
		if (a->kind == RC_ACT_SET_VCPUS && a->live) {
			refused_live(dp, a);
			continue;
		}
		if (a->kind == RC_ACT_ATTACH_DEVICE ||
		    a->kind == RC_ACT_UPDATE_DEVICE ||
		    a->kind == RC_ACT_DETACH_DEVICE) {
			if (a->kind == RC_ACT_DETACH_DEVICE)
				append_line(&dp->live_mark.unplug_sent, a->xml,
					    " ");
			refused_device(dp, a);
			continue;
		}
		fail(dp, call);
		x->stats->failed++;
		if (a->kind == RC_ACT_DEFINE || a->kind == RC_ACT_REDEFINE)
			unmake(x);
		return false;
	}
	return true;
}

static void domain_apply_finish(struct domain_apply *x)
{
	rc_domain_freep(&x->dom);
	free(x->made);
}

/* Whether the plan defines the domain (else it exists: looked up). */
static bool defines(const struct rc_domain_plan *dp)
{
	for (size_t i = 0; i < dp->n_actions; i++)
		if (dp->actions[i].kind == RC_ACT_DEFINE)
			return true;
	return false;
}

void rc_apply_domain(virConnectPtr conn, struct rc_domain_plan *dp,
		     const struct rc_apply_opts *opts,
		     struct rc_apply_stats *stats)
{
	_cleanup_(domain_apply_finish) struct domain_apply x = {
	    .conn = conn,
	    .dp = dp,
	    .opts = opts,
	    .stats = stats,
	    .expect = &dp->owner_was};

	if (!dp->n_actions && !dp->live_mark_set)
		return;
	if (!(x.made = calloc(dp->n_actions + 1, sizeof(*x.made)))) {
		dp->phase = RC_PHASE_ERROR;
		free(dp->reason);
		dp->reason = strdup("out of memory");
		stats->failed++;
		return;
	}
	if (dp->n_actions && !dp->pool && !defines(dp) &&
	    !(x.dom = virDomainLookupByName(conn, dp->name))) {
		fail(dp, "virDomainLookupByName");
		stats->failed++;
		return;
	}
	if (!run_actions(&x))
		return;
	if (!x.dom && dp->live_mark_set)
		x.dom = virDomainLookupByName(conn, dp->name);
	write_live_mark(x.dom, dp, stats);
	if (dp->phase == RC_PHASE_ERROR)
		stats->failed++;
	else if (dp->phase == RC_PHASE_CONVERGING && !dp->reason)
		dp->phase = RC_PHASE_IN_SYNC; /* every call made */
	else if (dp->phase == RC_PHASE_ORPHANED && dp->n_actions)
		dp->phase = RC_PHASE_IN_SYNC; /* pruned */
}

/* Domains are independent of each other: with many to change, a few
 * threads on the one connection keep libvirt busy while others plan,
 * format or wait for a reply. Each domain's own calls stay in order. */
#define APPLY_THREADS 3
#define APPLY_PER_THREAD 8

struct apply_job {
	virConnectPtr conn;
	struct rc_plan *p;
	const struct rc_apply_opts
	    *opts; /* progress: through locked_progress */
	struct rc_apply_opts locked;
	struct rc_apply_stats *stats;
	pthread_mutex_t lock; /* over progress and stats */
};

static void locked_progress(const struct rc_domain_plan *dp,
			    const struct rc_action *a, void *userdata)
{
	struct apply_job *j = userdata;

	pthread_mutex_lock(&j->lock);
	j->opts->progress(dp, a, j->opts->userdata);
	pthread_mutex_unlock(&j->lock);
}

static void apply_one(void *opaque, size_t i, void *unused)
{
	struct apply_job *j = opaque;
	struct rc_apply_stats st = {0};

	(void)unused;
	if (j->p->domains[i].pool)
		return; /* applied before */
	rc_apply_domain(j->conn, &j->p->domains[i], &j->locked, &st);
	pthread_mutex_lock(&j->lock);
	j->stats->writes += st.writes;
	j->stats->failed += st.failed;
	pthread_mutex_unlock(&j->lock);
}

void rc_apply(virConnectPtr conn, struct rc_plan *p,
	      const struct rc_apply_opts *opts, struct rc_apply_stats *stats)
{
	struct apply_job j = {conn,  p,     opts,
			      *opts, stats, PTHREAD_MUTEX_INITIALIZER};
	struct rc_workers w = {.n = p->n,
			       .threads = APPLY_THREADS,
			       .per_thread = APPLY_PER_THREAD,
			       .item = apply_one,
			       .ctx = &j};

	/* pools first: the domains' volumes go into them */
	for (size_t i = 0; i < p->n; i++)
		if (p->domains[i].pool)
			rc_apply_domain(conn, &p->domains[i], opts, stats);
	for (size_t i = 0; i < p->n; i++)
		w.busy += !p->domains[i].pool && (p->domains[i].n_actions ||
						  p->domains[i].live_mark_set);
	if (w.busy <= APPLY_PER_THREAD) {
		for (size_t i = 0; i < p->n; i++)
			if (!p->domains[i].pool)
				rc_apply_domain(conn, &p->domains[i], opts,
						stats);
		return;
	}
	if (opts->progress) {
		j.locked.progress = locked_progress;
		j.locked.userdata = &j;
	}
	rc_workers_run(&w);
}
