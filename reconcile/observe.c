#include "observe.h"

#include <errno.h>
#include <inttypes.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "workers.h"
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

xmlNodePtr rc_mark_node(const struct rc_mark *m, xmlDocPtr doc)
{
	xmlNodePtr x = xmlNewDocNode(doc, NULL, BAD_CAST RC_MARK_ELEMENT, NULL);
	char num[32];

	if (!x)
		return NULL;
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
	return x;
}

char *rc_mark_format(const struct rc_mark *m)
{
	xmlNodePtr x = rc_mark_node(m, NULL);
	xmlBufferPtr buf = xmlBufferCreate();
	char *out = NULL;

	if (x && buf && xmlNodeDump(buf, NULL, x, 0, 0) >= 0)
		out = strdup((const char *)xmlBufferContent(buf));
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

/* ctxt: a parser context to reuse (a thread reading many domains), or
 * NULL. */
static int read_doc(xmlParserCtxtPtr ctxt, const char *xml, bool live,
		    struct rc_observed *o)
{
	const int opts =
	    XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_COMPACT;
	xmlDocPtr doc =
	    ctxt ? xmlCtxtReadMemory(ctxt, xml, strlen(xml), "domain.xml", NULL,
				     opts)
		 : xmlReadMemory(xml, strlen(xml), "domain.xml", NULL, opts);
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

int rc_observed_read_xml(const char *xml, bool live, struct rc_observed *o)
{
	return read_doc(NULL, xml, live, o);
}

/* Fetches one XML description and reads it through the format. */
static int read_xml(xmlParserCtxtPtr ctxt, virDomainPtr dom, bool live,
		    struct rc_observed *o, struct rc_err *e)
{
	_cleanup_free_ char *xml =
	    virDomainGetXMLDesc(dom, live ? 0 : VIR_DOMAIN_XML_INACTIVE);

	if (!xml) {
		rc_err_libvirt(e, "virDomainGetXMLDesc");
		return -1;
	}
	if (read_doc(ctxt, xml, live, o) < 0) {
		rc_err_set(e, "cannot read the domain XML libvirt gave");
		return -1;
	}
	return 0;
}

static int observe_live(xmlParserCtxtPtr ctxt, virDomainPtr dom,
			struct rc_observed *o, struct rc_err *e)
{
	virDomainInfo info;
	int max;

	if (read_xml(ctxt, dom, true, o, e) < 0)
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

/* What a listing already told of a domain, so that it is not asked again:
 * -1 where unknown. A handle from a listing carries its id (-1 when it was
 * shut off), and listings filtered by flag tell which are autostarted or
 * transient in one call instead of one call per domain. */
struct known {
	int inactive, autostart, persistent;
	const unsigned char *uuid; /* raw, or NULL */
	xmlParserCtxtPtr ctxt;     /* to reuse, or NULL */
};

static void uuid_text(const unsigned char *raw, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < VIR_UUID_BUFLEN; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*out++ = '-';
		*out++ = hex[raw[i] >> 4];
		*out++ = hex[raw[i] & 15];
	}
	*out = 0;
}

static int observe(virDomainPtr dom, const struct known *k,
		   struct rc_observed *o, struct rc_err *e)
{
	int reason, autostart = k->autostart, persistent = k->persistent;
	const char *name = virDomainGetName(dom);
	unsigned char raw[VIR_UUID_BUFLEN];

	*o = (struct rc_observed){.id = -1, .state = VIR_DOMAIN_SHUTOFF};
	if (k->uuid)
		memcpy(raw, k->uuid, sizeof(raw));
	if (!name || !(o->name = strdup(name)) ||
	    (!k->uuid && virDomainGetUUID(dom, raw) < 0) ||
	    (k->inactive != 1 &&
	     virDomainGetState(dom, &o->state, &reason, 0) < 0) ||
	    (persistent < 0 && (persistent = virDomainIsPersistent(dom)) < 0)) {
		rc_err_libvirt(e, "virDomainGetState");
		return -1;
	}
	uuid_text(raw, o->uuid);
	o->persistent = persistent;
	o->active =
	    o->state != VIR_DOMAIN_SHUTOFF && o->state != VIR_DOMAIN_CRASHED;
	o->id = o->active ? (int)virDomainGetID(dom) : -1;
	if (!o->persistent)
		autostart = 0;
	else if (autostart < 0 && virDomainGetAutostart(dom, &autostart) < 0) {
		rc_err_libvirt(e, "virDomainGetAutostart");
		return -1;
	}
	o->autostart = autostart;
	if (read_xml(k->ctxt, dom, false, o, e) < 0)
		return -1;
	if (o->active && observe_live(k->ctxt, dom, o, e) < 0) {
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

int rc_observe_domain(virDomainPtr dom, struct rc_observed *o, struct rc_err *e)
{
	return observe(dom, &(struct known){-1, -1, -1, NULL, NULL}, o, e);
}

static int cmp_uuid(const void *a, const void *b)
{
	return memcmp(a, b, VIR_UUID_BUFLEN);
}

/* The raw UUIDs of the domains a filtered listing gives, sorted. */
struct uuids {
	unsigned char (*v)[VIR_UUID_BUFLEN];
	int n;
};

static int list_uuids(virConnectPtr conn, unsigned flags, struct uuids *u)
{
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(conn, &doms, flags);

	*u = (struct uuids){0};
	if (n < 0)
		return -1;
	u->v = calloc(n ? n : 1, sizeof(*u->v));
	for (int i = 0; i < n; i++) {
		if (u->v)
			virDomainGetUUID(doms[i], u->v[i]);
		virDomainFree(doms[i]);
	}
	free(doms);
	if (!u->v)
		return -1;
	u->n = n;
	qsort(u->v, n, sizeof(*u->v), cmp_uuid);
	return 0;
}

static bool in_uuids(const struct uuids *u, const unsigned char *raw)
{
	return bsearch(raw, u->v, u->n, sizeof(*u->v), cmp_uuid);
}

void rc_observed_array_free(struct rc_observed *o, size_t n)
{
	for (size_t i = 0; o && i < n; i++)
		rc_observed_finish(&o[i]);
	free(o);
}

/* One observation job: the domains of a listing, read by a few threads
 * that take the next index in turn. */
struct observe_job {
	virDomainPtr *doms;
	int n;
	struct rc_observed *all;
	bool *gone; /* undefined while it was read */
	int failed; /* the first domain that failed, or n */
	struct rc_err err;
	struct uuids autostart, transient;
	bool lists;
	pthread_mutex_t lock; /* over failed and err */
};

static void observe_one(void *opaque, size_t n, void *ctxt)
{
	struct observe_job *j = opaque;
	int i = (int)n;
	/* A domain that stops, starts or goes while it is read is read once
	 * more, asking it everything; one undefined is simply gone. */
	int tries = 2, code = VIR_ERR_OK;
	struct known k = {-1, -1, -1, NULL, ctxt};
	unsigned char raw[VIR_UUID_BUFLEN];
	struct rc_err e;

	if (j->lists && virDomainGetUUID(j->doms[i], raw) == 0) {
		k.uuid = raw;
		k.inactive = virDomainGetID(j->doms[i]) == (unsigned)-1;
		k.autostart = in_uuids(&j->autostart, raw);
		k.persistent = !in_uuids(&j->transient, raw);
	}
	while (tries--) {
		if (observe(j->doms[i], &k, &j->all[i], &e) == 0)
			return;
		k = (struct known){-1, -1, -1, NULL, ctxt};
		code = virGetLastErrorCode();
		rc_observed_finish(&j->all[i]);
		if (code == VIR_ERR_NO_DOMAIN) {
			j->gone[i] = true;
			return;
		}
	}
	pthread_mutex_lock(&j->lock);
	if (i < j->failed) {
		const char *name = virDomainGetName(j->doms[i]);
		j->failed = i;
		rc_err_set(&j->err, "%s: %s", name ? name : "?", e.msg);
	}
	pthread_mutex_unlock(&j->lock);
}

static void *new_ctxt(void *unused)
{
	(void)unused;
	return xmlNewParserCtxt();
}

static void free_ctxt(void *ctxt)
{
	xmlFreeParserCtxt(ctxt);
}

/* Threads beside the caller's: reading a domain is mostly waiting for
 * libvirt (a remote call) or parsing its XML, and both overlap well. */
#define OBSERVE_THREADS 3
#define OBSERVE_PER_THREAD 16

int rc_observe_all(virConnectPtr conn, struct rc_observed **ret, size_t *ret_n,
		   struct rc_err *e)
{
	return rc_observe_all_threads(conn, OBSERVE_THREADS, ret, ret_n, e);
}

int rc_observe_all_threads(virConnectPtr conn, int threads,
			   struct rc_observed **ret, size_t *ret_n,
			   struct rc_err *e)
{
	struct observe_job j = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct rc_workers w = {
	    .threads = threads < OBSERVE_THREADS ? threads : OBSERVE_THREADS,
	    .per_thread = OBSERVE_PER_THREAD,
	    .stack = 512 * 1024,
	    .start = new_ctxt,
	    .stop = free_ctxt,
	    .item = observe_one,
	    .ctx = &j,
	};
	int r = 0;
	size_t got = 0;

	j.n = virConnectListAllDomains(conn, &j.doms, 0);
	if (j.n < 0) {
		rc_err_libvirt(e, "virConnectListAllDomains");
		return -1;
	}
	j.lists = list_uuids(conn, VIR_CONNECT_LIST_DOMAINS_AUTOSTART,
			     &j.autostart) == 0 &&
		  list_uuids(conn, VIR_CONNECT_LIST_DOMAINS_TRANSIENT,
			     &j.transient) == 0;
	if (!j.lists) /* then each domain is asked */
		virResetLastError();
	j.all = calloc(j.n ? j.n : 1, sizeof(*j.all));
	j.gone = calloc(j.n ? j.n : 1, sizeof(*j.gone));
	j.failed = j.n;
	w.n = j.n;
	if (j.all && j.gone)
		rc_workers_run(&w);
	if (!j.all || !j.gone) {
		rc_err_set(e, "out of memory");
		r = -1;
	} else if (j.failed < j.n) {
		*e = j.err;
		r = -1;
	}
	/* in the listing's order, without the domains that went */
	for (int i = 0; i < j.n; i++) {
		if (j.all && j.gone && !j.gone[i])
			j.all[got++] = j.all[i];
		virDomainFree(j.doms[i]);
	}
	free(j.doms);
	free(j.autostart.v);
	free(j.transient.v);
	free(j.gone);
	if (r < 0) {
		rc_observed_array_free(j.all, got);
		return -1;
	}
	*ret = j.all;
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
