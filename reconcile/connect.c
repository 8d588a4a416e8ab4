#include "connect.h"

#include <errno.h>
#include <libvirt/virterror.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "xmltree.h"

static void ignore_error(void *opaque, virErrorPtr err) {}

void rc_init(void)
{
	virInitialize();
	virSetErrorFunc(NULL, ignore_error);
}

void rc_err_set(struct rc_err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

void rc_err_libvirt(struct rc_err *e, const char *call)
{
	const char *m = virGetLastErrorMessage();

	rc_err_set(e, "%s: %s", call, m ? m : "unknown libvirt error");
}

int rc_connect(const char *uri, virConnectPtr *ret, struct rc_err *e)
{
	virConnectPtr c = virConnectOpen(uri);

	if (!c) {
		rc_err_libvirt(e, "virConnectOpen");
		return -1;
	}
	*ret = c;
	return 0;
}

/* Whether e has a child element named name whose text is text, or (attr
 * set) whose attribute attr is text. */
static bool has_child(const struct ds_xel *e, const char *name,
		      const char *attr, const char *text)
{
	for (const struct ds_xel *c = e->kids; c && text; c = c->next) {
		_cleanup_free_ char *v = NULL;
		const char *a;
		if (!c->name || strcmp(c->name, name))
			continue;
		if (attr ? (a = ds_xel_attr(c, attr)) && !strcmp(a, text)
			 : (v = ds_xel_content(c)) && !strcmp(v, text))
			return true;
	}
	return false;
}

/* The domain types offered for hvm guests of the host's architecture
 * (any guest's when none is), in the capabilities' order: pick kvm, else
 * qemu, else the first. */
static int best_of(const struct ds_xel *caps, char **ret)
{
	static const char *const prefer[] = {"kvm", "qemu"};
	const struct ds_xel *cpu_arch =
	    ds_xel_path(ds_xel_child(caps, "host", 4), "cpu/arch", 8);
	_cleanup_free_ char *host = cpu_arch ? ds_xel_content(cpu_arch) : NULL;
	const char *pick = NULL, *first = NULL;
	int rank = 2;

	for (int any = 0; any < 2 && !first; any++)
		for (const struct ds_xel *g = caps->kids; g; g = g->next) {
			if (!g->name || strcmp(g->name, "guest") ||
			    (!any && (!has_child(g, "os_type", NULL, "hvm") ||
				      !has_child(g, "arch", "name", host))))
				continue;
			for (const struct ds_xel *a = g->kids; a; a = a->next) {
				if (!a->name || strcmp(a->name, "arch"))
					continue;
				for (const struct ds_xel *d = a->kids; d;
				     d = d->next) {
					const char *t =
					    d->name &&
						    !strcmp(d->name, "domain")
						? ds_xel_attr(d, "type")
						: NULL;
					if (!t)
						continue;
					if (!first)
						first = t;
					for (int r = 0; r < rank; r++)
						if (!strcmp(t, prefer[r])) {
							pick = t;
							rank = r;
						}
				}
			}
		}
	if (!first)
		return -1;
	*ret = strdup(pick ? pick : first);
	return *ret ? 0 : -ENOMEM;
}

int rc_best_type(virConnectPtr conn, char **ret, struct rc_err *e)
{
	_cleanup_free_ char *caps = virConnectGetCapabilities(conn);
	struct ds_xdoc doc;
	int r;

	if (!caps) {
		rc_err_libvirt(e, "virConnectGetCapabilities");
		return -1;
	}
	r = ds_xdoc_read(NULL, caps, strlen(caps), &doc);
	if (r == 0)
		r = best_of(doc.root, ret);
	ds_xdoc_finish(&doc);
	if (r < 0)
		rc_err_set(e, "the connection's capabilities offer no domain "
			      "type");
	return r;
}

char *rc_domain_xml(virDomainPtr dom, unsigned int flags)
{
	char *xml = virDomainGetXMLDesc(dom, flags | VIR_DOMAIN_XML_SECURE);

	if (!xml && virGetLastErrorCode() == VIR_ERR_OPERATION_DENIED)
		xml = virDomainGetXMLDesc(dom, flags);
	return xml;
}
