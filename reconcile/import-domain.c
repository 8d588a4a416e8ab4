#include "import-domain.h"

#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "xmltree.h"

int rc_import_read(virDomainPtr dom, char **ret_xml,
		   struct ds_import_opts *opts, struct rc_mark *mark,
		   struct rc_err *e)
{
	_cleanup_free_ char *xml = NULL;
	int persistent = virDomainIsPersistent(dom);
	int active = virDomainIsActive(dom);
	int autostart = 0;
	struct ds_xdoc doc;

	*opts = (struct ds_import_opts){NULL, -1, false};
	*mark = (struct rc_mark){0};
	if (persistent < 0 || active < 0) {
		rc_err_libvirt(e, persistent < 0 ? "virDomainIsPersistent"
						 : "virDomainIsActive");
		return -1;
	}
	if (!persistent)
		return 1;
	if (!(xml = rc_domain_xml(dom, VIR_DOMAIN_XML_INACTIVE))) {
		rc_err_libvirt(e, "virDomainGetXMLDesc");
		return -1;
	}
	opts->state = active ? "running" : "shutoff";
	/* a driver that keeps no autostart says nothing of it: neither does
	 * the file */
	if (virDomainGetAutostart(dom, &autostart) == 0)
		opts->autostart = !!autostart;
	if (ds_xdoc_read(NULL, xml, strlen(xml), &doc) == 0) {
		int r = rc_mark_read(doc.root, mark);
		ds_xdoc_finish(&doc);
		if (r < 0) {
			rc_err_set(e, "out of memory");
			return -1;
		}
	}
	*ret_xml = take_ptr(xml);
	return 0;
}
