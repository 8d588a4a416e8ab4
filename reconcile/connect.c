#include "connect.h"

#include <errno.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

/* The domain types offered for hvm guests of the host's architecture. */
static int best_of(xmlDocPtr doc, char **ret)
{
	static const char *const prefer[] = {"kvm", "qemu"};
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr obj = NULL;
	int r = -1;

	if (!ctx)
		return -1;
	obj = xmlXPathEvalExpression(
	    BAD_CAST "/capabilities/guest[os_type='hvm' and "
		     "arch/@name=/capabilities/host/cpu/arch]/arch/"
		     "domain/@type",
	    ctx);
	if (!obj || !obj->nodesetval || !obj->nodesetval->nodeNr) {
		xmlXPathFreeObject(obj);
		obj = xmlXPathEvalExpression(
		    BAD_CAST "/capabilities/guest/arch/domain/@type", ctx);
	}
	if (obj && obj->nodesetval && obj->nodesetval->nodeNr) {
		xmlNodeSetPtr set = obj->nodesetval;
		xmlNodePtr pick = set->nodeTab[0];
		for (size_t p = 0; p < 2 && pick == set->nodeTab[0]; p++)
			for (int i = 0; i < set->nodeNr; i++)
				if (!strcmp((char *)set->nodeTab[i]
						->children->content,
					    prefer[p])) {
					pick = set->nodeTab[i];
					break;
				}
		*ret = strdup((char *)pick->children->content);
		r = *ret ? 0 : -1;
	}
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
	return r;
}

int rc_best_type(virConnectPtr conn, char **ret, struct rc_err *e)
{
	_cleanup_free_ char *caps = virConnectGetCapabilities(conn);
	xmlDocPtr doc;
	int r;

	if (!caps) {
		rc_err_libvirt(e, "virConnectGetCapabilities");
		return -1;
	}
	doc = xmlReadMemory(caps, strlen(caps), "capabilities.xml", NULL,
			    XML_PARSE_NONET);
	r = doc ? best_of(doc, ret) : -1;
	xmlFreeDoc(doc);
	if (r < 0)
		rc_err_set(e, "the connection's capabilities offer no domain "
			      "type");
	return r;
}
