/* The connection to libvirt and what it offers. */
#pragma once

#include <libvirt/libvirt.h>

#include "cleanup.h"

static inline void rc_conn_closep(virConnectPtr *c)
{
	if (*c)
		virConnectClose(*c);
}
static inline void rc_domain_freep(virDomainPtr *d)
{
	if (*d)
		virDomainFree(*d);
}
#define _cleanup_conn_ _cleanup_(rc_conn_closep)
#define _cleanup_domain_ _cleanup_(rc_domain_freep)

/* Keeps libvirt from printing its errors itself: the agent reports them
 * once, with context. Call once before any other libvirt call. */
void rc_init(void);

/* An error of this layer: one message, complete, ready to show. */
struct rc_err {
	char msg[1024];
};

__attribute__((format(printf, 2, 3))) void rc_err_set(struct rc_err *e,
						      const char *fmt, ...);
/* Fills e with "CALL: libvirt's message for its last error". */
void rc_err_libvirt(struct rc_err *e, const char *call);

/* A domain's XML with its secrets (graphics passwords): a redefine made
 * from XML without them would drop them, and a file that gives one would
 * never compare equal. A read-only connection may not have them: then
 * the XML without. NULL with libvirt's error on failure. */
char *rc_domain_xml(virDomainPtr dom, unsigned int flags);

/* Opens uri (NULL: libvirt's default). Returns 0 and the connection, or -1
 * and e. */
int rc_connect(const char *uri, virConnectPtr *ret, struct rc_err *e);

/* The best domain type the connection offers for the host's architecture:
 * kvm, else qemu, else the first. Returns 0 and a string the caller frees,
 * or -1 and e. */
int rc_best_type(virConnectPtr conn, char **ret, struct rc_err *e);
