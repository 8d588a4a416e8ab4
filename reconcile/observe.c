#include "observe.h"

#include <errno.h>
#include <inttypes.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <stdlib.h>
#include <string.h>

#include "xmlread.h"

static char *prop(xmlNodePtr x, const char *name)
{
	xmlChar *v = xmlGetProp(x, BAD_CAST name);
	char *s = v ? strdup((const char *)v) : NULL;

	xmlFree(v);
	return s;
}

static uint64_t prop_u64(xmlNodePtr x, const char *name)
{
	_cleanup_free_ char *s = prop(x, name);

	return s ? strtoull(s, NULL, 10) : 0;
}

int rc_mark_read(xmlNodePtr domain, struct rc_mark *m)
{
	*m = (struct rc_mark){0};
	for (xmlNodePtr md = domain->children; md; md = md->next) {
		if (md->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)md->name, "metadata"))
			continue;
		for (xmlNodePtr x = md->children; x; x = x->next) {
			if (x->type != XML_ELEMENT_NODE || !x->ns ||
			    strcmp((const char *)x->ns->href, RC_MARK_URI) ||
			    strcmp((const char *)x->name, RC_MARK_ELEMENT))
				continue;
			m->present = true;
			m->file = prop(x, "file");
			m->dir = prop(x, "dir");
			m->memory_sent = prop_u64(x, "memory-sent");
			m->vcpus_refused = prop_u64(x, "vcpus-refused");
			m->refused_reason = prop(x, "refused-reason");
			m->pending = prop(x, "pending");
			m->fragment_names = prop(x, "fragment-names");
			for (xmlNodePtr c = x->children; c; c = c->next)
				if (c->type == XML_ELEMENT_NODE &&
				    !strcmp((const char *)c->name,
					    "fragments")) {
					xmlChar *t = xmlNodeGetContent(c);
					m->fragments =
					    t ? strdup((char *)t) : NULL;
					xmlFree(t);
				}
			return 0;
		}
	}
	return 0;
}

void rc_mark_finish(struct rc_mark *m)
{
	free(m->file);
	free(m->dir);
	free(m->fragments);
	free(m->refused_reason);
	free(m->pending);
	free(m->fragment_names);
	*m = (struct rc_mark){0};
}

char *rc_mark_format(const struct rc_mark *m)
{
	xmlNodePtr x = xmlNewNode(NULL, BAD_CAST RC_MARK_ELEMENT);
	xmlBufferPtr buf = xmlBufferCreate();
	char num[32];
	char *out = NULL;

	if (!x || !buf)
		goto out;
	if (m->dir)
		xmlSetProp(x, BAD_CAST "dir", BAD_CAST m->dir);
	if (m->file)
		xmlSetProp(x, BAD_CAST "file", BAD_CAST m->file);
	if (m->memory_sent) {
		snprintf(num, sizeof(num), "%" PRIu64, m->memory_sent);
		xmlSetProp(x, BAD_CAST "memory-sent", BAD_CAST num);
	}
	if (m->vcpus_refused) {
		snprintf(num, sizeof(num), "%u", m->vcpus_refused);
		xmlSetProp(x, BAD_CAST "vcpus-refused", BAD_CAST num);
	}
	if (m->refused_reason)
		xmlSetProp(x, BAD_CAST "refused-reason",
			   BAD_CAST m->refused_reason);
	if (m->pending)
		xmlSetProp(x, BAD_CAST "pending", BAD_CAST m->pending);
	if (m->fragment_names)
		xmlSetProp(x, BAD_CAST "fragment-names",
			   BAD_CAST m->fragment_names);
	if (m->fragments)
		xmlNewTextChild(x, NULL, BAD_CAST "fragments",
				BAD_CAST m->fragments);
	if (xmlNodeDump(buf, NULL, x, 0, 0) >= 0)
		out = strdup((const char *)xmlBufferContent(buf));
out:
	xmlFreeNode(x);
	xmlBufferFree(buf);
	return out;
}

void rc_observed_finish(struct rc_observed *o)
{
	free(o->name);
	xmlFreeDoc(o->config_doc);
	ds_node_free(o->config);
	ds_node_free(o->live);
	rc_mark_finish(&o->mark);
	rc_mark_finish(&o->live_mark);
	*o = (struct rc_observed){0};
}

int rc_observed_read_xml(const char *xml, bool live, struct rc_observed *o)
{
	xmlDocPtr doc = xmlReadMemory(xml, strlen(xml), "domain.xml", NULL,
				      XML_PARSE_NONET);
	struct ds_node **tree = live ? &o->live : &o->config;
	struct rc_mark *mark = live ? &o->live_mark : &o->mark;

	if (!doc || ds_tree_from_xml(xmlDocGetRootElement(doc), tree) < 0 ||
	    rc_mark_read(xmlDocGetRootElement(doc), mark) < 0) {
		xmlFreeDoc(doc);
		return -1;
	}
	if (live) {
		xmlFreeDoc(doc);
	} else {
		xmlFreeDoc(o->config_doc);
		o->config_doc = doc;
	}
	return 0;
}

/* Fetches one XML description and reads it through the format. */
static int read_xml(virDomainPtr dom, bool live, struct rc_observed *o,
		    struct rc_err *e)
{
	_cleanup_free_ char *xml =
	    virDomainGetXMLDesc(dom, live ? 0 : VIR_DOMAIN_XML_INACTIVE);

	if (!xml) {
		rc_err_libvirt(e, "virDomainGetXMLDesc");
		return -1;
	}
	if (rc_observed_read_xml(xml, live, o) < 0) {
		rc_err_set(e, "cannot read the domain XML libvirt gave");
		return -1;
	}
	return 0;
}

static int observe_live(virDomainPtr dom, struct rc_observed *o,
			struct rc_err *e)
{
	virDomainInfo info;
	int max;

	if (read_xml(dom, true, o, e) < 0)
		return -1;
	max = virDomainGetMaxVcpus(dom);
	if (max < 0 || virDomainGetInfo(dom, &info) < 0) {
		rc_err_libvirt(e, max < 0 ? "virDomainGetMaxVcpus"
					  : "virDomainGetInfo");
		return -1;
	}
	o->live_max_vcpus = max;
	o->live_vcpus = info.nrVirtCpu;
	o->live_memory = info.memory;
	o->live_max_memory = info.maxMem;
	return 0;
}

int rc_observe_domain(virDomainPtr dom, struct rc_observed *o, struct rc_err *e)
{
	int reason, autostart = 0, persistent;
	const char *name = virDomainGetName(dom);

	*o = (struct rc_observed){.id = -1};
	if (!name || !(o->name = strdup(name)) ||
	    virDomainGetUUIDString(dom, o->uuid) < 0 ||
	    virDomainGetState(dom, &o->state, &reason, 0) < 0 ||
	    (persistent = virDomainIsPersistent(dom)) < 0) {
		rc_err_libvirt(e, "virDomainGetState");
		return -1;
	}
	o->persistent = persistent;
	o->active =
	    o->state != VIR_DOMAIN_SHUTOFF && o->state != VIR_DOMAIN_CRASHED;
	o->id = o->active ? (int)virDomainGetID(dom) : -1;
	if (o->persistent && virDomainGetAutostart(dom, &autostart) < 0) {
		rc_err_libvirt(e, "virDomainGetAutostart");
		return -1;
	}
	o->autostart = autostart;
	if (read_xml(dom, false, o, e) < 0)
		return -1;
	if (o->active && observe_live(dom, o, e) < 0) {
		/* It stopped while we read it (a destroy sends its events
		 * before it is done): then it is simply shut off. */
		if (virDomainIsActive(dom) != 0)
			return -1;
		ds_node_free(o->live);
		o->live = NULL;
		rc_mark_finish(&o->live_mark);
		o->active = false;
		o->id = -1;
		o->state = VIR_DOMAIN_SHUTOFF;
		virResetLastError();
	}
	return 0;
}

void rc_observed_array_free(struct rc_observed *o, size_t n)
{
	for (size_t i = 0; o && i < n; i++)
		rc_observed_finish(&o[i]);
	free(o);
}

int rc_observe_all(virConnectPtr conn, struct rc_observed **ret, size_t *ret_n,
		   struct rc_err *e)
{
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(conn, &doms, 0);
	struct rc_observed *all;
	size_t got = 0;
	int r = 0;

	if (n < 0) {
		rc_err_libvirt(e, "virConnectListAllDomains");
		return -1;
	}
	all = calloc(n ? n : 1, sizeof(*all));
	for (int i = 0; i < n; i++) {
		if (all && r == 0) {
			struct rc_err de;
			/* A domain that stops, starts or goes while it is read
			 * is read once more; one undefined is simply gone. */
			int tries = 2, code = VIR_ERR_OK;
			while (tries--) {
				if (rc_observe_domain(doms[i], &all[got],
						      &de) == 0)
					break;
				code = virGetLastErrorCode();
				rc_observed_finish(&all[got]);
				if (code == VIR_ERR_NO_DOMAIN)
					break;
			}
			if (tries >= 0 && code != VIR_ERR_NO_DOMAIN)
				got++;
			else if (code != VIR_ERR_NO_DOMAIN) {
				const char *name = virDomainGetName(doms[i]);
				rc_err_set(e, "%s: %s", name ? name : "?",
					   de.msg);
				r = -1;
			}
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	if (!all) {
		rc_err_set(e, "out of memory");
		return -1;
	}
	if (r < 0) {
		rc_observed_array_free(all, got);
		return -1;
	}
	*ret = all;
	*ret_n = got;
	return 0;
}

unsigned rc_limits_vcpus(const struct rc_limits *l, const char *type,
			 const char *machine)
{
	for (size_t i = 0; i < l->n_vcpus; i++)
		if (!strcmp(l->vcpus[i].type, type) &&
		    !(machine ? !l->vcpus[i].machine ||
				    strcmp(l->vcpus[i].machine, machine)
			      : l->vcpus[i].machine != NULL))
			return l->vcpus[i].max;
	return 0;
}

/* <vcpu max='N'/> of the domain capabilities. */
static unsigned caps_max_vcpus(const char *caps)
{
	xmlDocPtr doc = xmlReadMemory(caps, strlen(caps), "domcaps.xml", NULL,
				      XML_PARSE_NONET);
	unsigned max = 0;

	for (xmlNodePtr c = doc ? xmlDocGetRootElement(doc)->children : NULL; c;
	     c = c->next) {
		if (c->type == XML_ELEMENT_NODE &&
		    !strcmp((const char *)c->name, "vcpu"))
			max = prop_u64(c, "max");
	}
	xmlFreeDoc(doc);
	return max;
}

int rc_limits_learn(virConnectPtr conn, struct rc_limits *l, const char *type,
		    const char *machine, struct rc_err *e)
{
	struct rc_vcpu_limit *grown;
	_cleanup_free_ char *caps = NULL;
	unsigned max;

	if (rc_limits_vcpus(l, type, machine))
		return 0;
	caps =
	    virConnectGetDomainCapabilities(conn, NULL, NULL, machine, type, 0);
	max = caps ? caps_max_vcpus(caps) : 0;
	if (!max) {
		int m = virConnectGetMaxVcpus(conn, type);
		max = m > 0 ? (unsigned)m : 0;
	}
	if (!max) {
		virResetLastError(); /* unknown: the define call will judge */
		return 0;
	}
	grown = reallocarray(l->vcpus, l->n_vcpus + 1, sizeof(*grown));
	if (!grown) {
		rc_err_set(e, "out of memory");
		return -1;
	}
	l->vcpus = grown;
	grown[l->n_vcpus] = (struct rc_vcpu_limit){
	    strdup(type), machine ? strdup(machine) : NULL, max};
	l->n_vcpus++;
	return 0;
}

int rc_limits_read(virConnectPtr conn, struct rc_limits *l, struct rc_err *e)
{
	virNodeInfo info;

	*l = (struct rc_limits){0};
	if (virNodeGetInfo(conn, &info) < 0) {
		rc_err_libvirt(e, "virNodeGetInfo");
		return -1;
	}
	l->host_cpus = info.cpus;
	l->host_memory = info.memory;
	return rc_best_type(conn, &l->best_type, e);
}

void rc_limits_finish(struct rc_limits *l)
{
	for (size_t i = 0; i < l->n_vcpus; i++) {
		free(l->vcpus[i].type);
		free(l->vcpus[i].machine);
	}
	free(l->vcpus);
	free(l->best_type);
	*l = (struct rc_limits){0};
}
