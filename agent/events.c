/* What comes to the agent's loop from outside: signals, the resync
 * timer, libvirt's domain events and the connection's close, and the
 * (re)connection to libvirt. */
#include <libvirt/virterror.h>
#include <libxml/uri.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"

void ag_on_signal(int watch, int fd, int events, void *opaque)
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

void ag_on_resync_timer(int timer, void *opaque)
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
		ag_status_changed(a);
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

void ag_on_reconnect(int timer, void *opaque)
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
	ag_status_changed(a);
	pthread_mutex_unlock(&a->lock);
}
