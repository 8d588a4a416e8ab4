/* What comes to the agent's loop from outside: signals, the resync timer
 * and libvirt's domain events. */
#include <libvirt/virterror.h>
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

int ag_on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
		    void *opaque)
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

void ag_on_metadata(virConnectPtr conn, virDomainPtr dom, int type,
		    const char *nsuri, void *opaque)
{
	on_domain_event(opaque, dom, AG_EV_METADATA);
}

/* An unplug the guest agreed to, or refused: the device list to read
 * again (a pending unplug is then done, or stays said). */
void ag_on_device_removed(virConnectPtr conn, virDomainPtr dom,
			  const char *alias, void *opaque)
{
	on_domain_event(opaque, dom, AG_EV_NONE);
}
