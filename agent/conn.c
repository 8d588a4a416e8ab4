/* The connection to libvirt: made (again) on a thread of its own, noticed
 * lost through the close callback, and watched while calls are made.
 *
 * A libvirtd that hangs (stopped, or stuck) keeps its socket open, so
 * nothing tells the agent: a call to it never returns, and neither does a
 * connect (the kernel accepts the socket for it). So:
 * - while workers make calls, a watchdog timer looks at their progress
 *   once a second; when none came for a while, it asks libvirt for its
 *   version on a thread of its own, and when that gets no answer either,
 *   the connection is reported unhealthy (connected false, and why) until
 *   it answers. The watchdog is off while the agent is idle: an idle
 *   agent wakes up for nothing. libvirt's own keepalive would fail the
 *   calls in flight, but it cannot be turned on and off with the work
 *   (libvirt sets its interval once per connection), and always on it
 *   wakes an idle agent every interval (docs/design.md has the numbers);
 * - connecting happens on a thread, never on the loop's, so that a
 *   connect that hangs blocks neither the loop nor SIGTERM, which waits
 *   for calls in flight only so long (cmd-run.c). */
#include <assert.h>
#include <libvirt/virterror.h>
#include <libxml/uri.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "cleanup.h"

/* No progress for this long while calls are made: ask libvirt whether
 * it answers; no answer for this long: unhealthy. */
#define STALL_MS 4000
#define PROBE_MS 4000
#define WATCHDOG_TICK_MS 1000

/* Whether the URI names no host: a local socket, whose loss the kernel
 * reports at once. */
static bool uri_local(virConnectPtr conn)
{
	_cleanup_free_ char *uri = virConnectGetURI(conn);
	xmlURIPtr u = uri ? xmlParseURI(uri) : NULL;
	bool local = u && (!u->server || !*u->server);

	xmlFreeURI(u);
	return local;
}

/* libvirt pings the daemon every 5 s to notice a peer that vanished
 * without closing the socket. On a local socket the kernel tells at once
 * (the close callback fires), so the pings there only wake the agent. */
static void quiet_keepalive(virConnectPtr conn)
{
	if (uri_local(conn) && virConnectSetKeepAlive(conn, 0, 0) < 0)
		virResetLastError();
}

void ag_calls_busy(struct ag_agent *a, int by)
{
	assert(by > 0 || a->busy >= (unsigned)-by);
	a->busy += by;
	if (by > 0 && a->busy == (unsigned)by) {
		a->progress_ms = ag_now_ms();
		virEventUpdateTimeout(a->watchdog_timer, WATCHDOG_TICK_MS);
	} else if (!a->busy) {
		virEventUpdateTimeout(a->watchdog_timer, -1);
	}
}

struct probe {
	struct ag_agent *agent;
	virConnectPtr conn;
};

/* Asks libvirt for its version: an answer says it lives. */
static void *probe_thread(void *opaque)
{
	struct probe *p = opaque;
	struct ag_agent *a = p->agent;
	unsigned long version;
	int r = virConnectGetLibVersion(p->conn, &version);

	if (r < 0)
		virResetLastError();
	pthread_mutex_lock(&a->lock);
	a->probing = false;
	a->progress_ms = ag_now_ms();
	if (r == 0 && a->stalled && a->conn == p->conn) {
		a->stalled = false;
		a->connected = true;
		ag_set_str(&a->libvirt_note, NULL);
		ag_log(LOG_INFO, "libvirt answers again");
		ag_status_changed(a);
	}
	pthread_mutex_unlock(&a->lock);
	virConnectClose(p->conn);
	free(p);
	return NULL;
}

/* Starts a probe, detached: one that hangs is left behind. Lock held. */
static void probe(struct ag_agent *a)
{
	struct probe *p = ag_xcalloc(1, sizeof(*p));
	pthread_attr_t attr;
	pthread_t t;

	p->agent = a;
	p->conn = a->conn;
	virConnectRef(p->conn);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, probe_thread, p) == 0) {
		a->probing = true;
		a->probe_ms = ag_now_ms();
	} else {
		virConnectClose(p->conn);
		free(p);
	}
	pthread_attr_destroy(&attr);
}

void ag_on_watchdog(int timer, void *opaque)
{
	struct ag_agent *a = opaque;
	uint64_t now = ag_now_ms();

	pthread_mutex_lock(&a->lock);
	if (!a->busy || !a->conn) {
		if (!a->busy)
			virEventUpdateTimeout(timer, -1);
	} else if (a->probing) {
		if (now - a->probe_ms >= PROBE_MS && !a->stalled &&
		    a->connected) {
			a->stalled = true;
			a->connected = false;
			free(a->libvirt_note);
			a->libvirt_note = ag_xasprintf(
			    "not answering: a call has waited %llu s",
			    (unsigned long long)(now - a->progress_ms) / 1000);
			ag_log(LOG_WARNING, "libvirt is %s; waiting for it",
			       a->libvirt_note);
			ag_status_changed(a);
		}
	} else if (now - a->progress_ms >= STALL_MS) {
		probe(a);
	}
	pthread_mutex_unlock(&a->lock);
}

static const char *close_reason(int reason)
{
	switch (reason) {
	case VIR_CONNECT_CLOSE_REASON_KEEPALIVE:
		return "libvirt stopped answering (its keepalive pings went "
		       "unanswered)";
	case VIR_CONNECT_CLOSE_REASON_EOF:
		return "libvirt closed the connection";
	case VIR_CONNECT_CLOSE_REASON_ERROR:
		return "the connection failed";
	default:
		return "the connection was closed";
	}
}

static void on_close(virConnectPtr conn, int reason, void *opaque)
{
	struct ag_agent *a = opaque;

	pthread_mutex_lock(&a->lock);
	if (conn == a->conn && (a->connected || a->stalled)) {
		a->connected = false;
		a->stalled = false;
		ag_set_str(&a->libvirt_note, close_reason(reason));
		ag_log(LOG_WARNING,
		       "lost the connection to libvirt: %s; "
		       "reconnecting",
		       a->libvirt_note);
		virEventUpdateTimeout(a->reconnect_timer, 500);
		ag_status_changed(a);
	}
	pthread_mutex_unlock(&a->lock);
}

/* Drops the connection the agent had. */
static void drop(struct ag_agent *a)
{
	virConnectPtr old;

	pthread_mutex_lock(&a->lock);
	old = a->conn;
	a->conn = NULL;
	a->connected = false;
	pthread_mutex_unlock(&a->lock);
	if (!old)
		return;
	virConnectDomainEventDeregisterAny(old, a->lifecycle_cb);
	virConnectDomainEventDeregisterAny(old, a->metadata_cb);
	virConnectDomainEventDeregisterAny(old, a->removed_cb);
	virConnectDomainEventDeregisterAny(old, a->removal_failed_cb);
	virConnectUnregisterCloseCallback(old, on_close);
	virConnectClose(old);
	virResetLastError();
}

static void failed(struct ag_agent *a, const struct rc_err *e)
{
	unsigned delay = 1000u << (a->reconnects < 6 ? a->reconnects : 6);

	if (!a->reconnects++)
		ag_log(LOG_ERR, "libvirt is unreachable: %s; retrying", e->msg);
	free(a->libvirt_note);
	a->libvirt_note = ag_xasprintf("unreachable: %s", e->msg);
	a->connecting = false;
	virEventUpdateTimeout(a->reconnect_timer, delay);
	pthread_cond_broadcast(&a->work);
	ag_announce_ready(a);
	ag_status_changed(a);
}

/* Connects: events, limits, then a full resync. */
static void *connect_thread(void *opaque)
{
	struct ag_agent *a = opaque;
	virConnectPtr conn = NULL;
	struct rc_limits limits;
	struct rc_err e;

	drop(a);
	if (rc_connect(a->opts.uri, &conn, &e) < 0 ||
	    rc_limits_read(conn, &limits, &e) < 0) {
		if (conn)
			virConnectClose(conn);
		pthread_mutex_lock(&a->lock);
		failed(a, &e);
		pthread_mutex_unlock(&a->lock);
		return NULL;
	}
	quiet_keepalive(conn);
	virConnectRegisterCloseCallback(conn, on_close, a, NULL);
	a->lifecycle_cb = virConnectDomainEventRegisterAny(
	    conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
	    VIR_DOMAIN_EVENT_CALLBACK(ag_on_lifecycle), a, NULL);
	a->metadata_cb = virConnectDomainEventRegisterAny(
	    conn, NULL, VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
	    VIR_DOMAIN_EVENT_CALLBACK(ag_on_metadata), a, NULL);
	a->removed_cb = virConnectDomainEventRegisterAny(
	    conn, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
	    VIR_DOMAIN_EVENT_CALLBACK(ag_on_device_removed), a, NULL);
	a->removal_failed_cb = virConnectDomainEventRegisterAny(
	    conn, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED,
	    VIR_DOMAIN_EVENT_CALLBACK(ag_on_device_removed), a, NULL);
	pthread_mutex_lock(&a->lock);
	rc_limits_finish(&a->limits);
	a->limits = limits;
	a->conn = conn;
	a->connected = true;
	a->stalled = false;
	a->connecting = false;
	ag_set_str(&a->libvirt_note, NULL);
	if (a->reconnects)
		ag_log(LOG_INFO, "connected to libvirt again");
	a->reconnects = 0;
	a->resync_wanted = true;
	pthread_cond_broadcast(&a->work);
	ag_status_changed(a);
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

void ag_on_reconnect(int timer, void *opaque)
{
	struct ag_agent *a = opaque;
	pthread_attr_t attr;
	pthread_t t;
	bool started;

	virEventUpdateTimeout(timer, -1);
	pthread_mutex_lock(&a->lock);
	if (a->connecting || a->quitting) {
		pthread_mutex_unlock(&a->lock);
		return;
	}
	a->connecting = true;
	pthread_mutex_unlock(&a->lock);
	/* detached: a connect that hangs is left behind at exit */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	started = pthread_create(&t, &attr, connect_thread, a) == 0;
	pthread_attr_destroy(&attr);
	if (!started) {
		struct rc_err e = {"cannot start a thread to connect"};
		pthread_mutex_lock(&a->lock);
		failed(a, &e);
		pthread_mutex_unlock(&a->lock);
	}
}
