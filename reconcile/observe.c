#include "observe.h"

#include <errno.h>
#include <inttypes.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "workers.h"
#include "xmlpath.h"
#include "xmlread.h"

static char *prop(const struct ds_xel *x, const char *name)
{
	const char *v = ds_xel_attr(x, name);

	return v ? strdup(v) : NULL;
}

static uint64_t prop_u64(const struct ds_xel *x, const char *name)
{
	const char *v = ds_xel_attr(x, name);

	return v ? strtoull(v, NULL, 10) : 0;
}

/* The mark from its element, <vr:managed>. */
static void mark_from(const struct ds_xel *x, struct rc_mark *m)
{
	m->present = true;
	m->file = prop(x, "file");
	m->dir = prop(x, "dir");
	m->memory_sent = prop_u64(x, "memory-sent");
	m->vcpus_refused = prop_u64(x, "vcpus-refused");
	m->refused_reason = prop(x, "refused-reason");
	m->pending = prop(x, "pending");
	m->unplug_sent = prop(x, "unplug-sent");
	m->devices_refused = prop(x, "devices-refused");
	m->device_refused_reason = prop(x, "device-refused-reason");
	m->devices_sent = prop(x, "devices-sent");
	m->volumes = prop(x, "volumes");
	m->seed = prop(x, "seed");
	m->fragment_names = prop(x, "fragment-names");
	for (const struct ds_xel *c = x->kids; c; c = c->next)
		if (c->name && !strcmp(c->name, "fragments")) {
			free(m->fragments);
			m->fragments = ds_xel_content(c);
		}
}

int rc_mark_read(const struct ds_xel *domain, struct rc_mark *m)
{
	*m = (struct rc_mark){0};
	for (const struct ds_xel *md = domain->kids; md; md = md->next) {
		if (!md->name || strcmp(md->name, "metadata"))
			continue;
		for (const struct ds_xel *x = md->kids; x; x = x->next) {
			if (!x->name || !x->ns || strcmp(x->ns, RC_MARK_URI) ||
			    strcmp(x->name, RC_MARK_ELEMENT))
				continue;
			mark_from(x, m);
			return 0;
		}
	}
	return 0;
}

int rc_mark_parse(const char *xml, struct rc_mark *m)
{
	struct ds_xdoc doc;
	int r = ds_xdoc_read(NULL, xml, strlen(xml), &doc);

	*m = (struct rc_mark){0};
	if (r < 0)
		return r;
	if (doc.root->name && !strcmp(doc.root->name, RC_MARK_ELEMENT))
		mark_from(doc.root, m);
	ds_xdoc_finish(&doc);
	return 0;
}

void rc_mark_finish(struct rc_mark *m)
{
	free(m->file);
	free(m->dir);
	free(m->fragments);
	free(m->refused_reason);
	free(m->pending);
	free(m->unplug_sent);
	free(m->devices_refused);
	free(m->device_refused_reason);
	free(m->devices_sent);
	free(m->volumes);
	free(m->seed);
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
	if (m->unplug_sent)
		xmlSetProp(x, BAD_CAST "unplug-sent", BAD_CAST m->unplug_sent);
	if (m->devices_refused)
		xmlSetProp(x, BAD_CAST "devices-refused",
			   BAD_CAST m->devices_refused);
	if (m->devices_sent)
		xmlSetProp(x, BAD_CAST "devices-sent",
			   BAD_CAST m->devices_sent);
	if (m->device_refused_reason)
		xmlSetProp(x, BAD_CAST "device-refused-reason",
			   BAD_CAST m->device_refused_reason);
	if (m->volumes)
		xmlSetProp(x, BAD_CAST "volumes", BAD_CAST m->volumes);
	if (m->seed)
		xmlSetProp(x, BAD_CAST "seed", BAD_CAST m->seed);
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
	char *out = x ? ds_xml_text(x) : NULL;

	xmlFreeNode(x);
	return out;
}

void rc_observed_finish(struct rc_observed *o)
{
	free(o->name);
	free(o->config_xml);
	ds_node_free(o->config);
	ds_node_free(o->live);
	rc_mark_finish(&o->mark);
	rc_mark_finish(&o->live_mark);
	*o = (struct rc_observed){0};
}

/* Reads xml into o; the persistent XML's text is kept (*xml taken) for a
 * redefine to start from. r: a reader to reuse (a thread reading many
 * domains), or NULL. */
static int read_doc(struct ds_xreader *r, char **xml, bool live,
		    struct rc_observed *o)
{
	struct ds_node **tree = live ? &o->live : &o->config;
	struct rc_mark *mark = live ? &o->live_mark : &o->mark;
	struct ds_xdoc doc;
	int ret = ds_xdoc_read(r, *xml, strlen(*xml), &doc);

	if (ret == 0 && (ds_tree_from_xml(doc.root, tree) < 0 ||
			 rc_mark_read(doc.root, mark) < 0))
		ret = -1;
	ds_xdoc_finish(&doc);
	if (ret < 0)
		return -1;
	if (!live) {
		free(o->config_xml);
		o->config_xml = take_ptr(*xml);
	}
	return 0;
}

int rc_observed_read_xml(const char *xml, bool live, struct rc_observed *o)
{
	_cleanup_free_ char *copy = strdup(xml);

	return copy ? read_doc(NULL, &copy, live, o) : -1;
}

/* Fetches one XML description and reads it through the format. */
static int read_xml(struct ds_xreader *r, virDomainPtr dom, bool live,
		    struct rc_observed *o, struct rc_err *e)
{
	_cleanup_free_ char *xml =
	    rc_domain_xml(dom, live ? 0 : VIR_DOMAIN_XML_INACTIVE);

	if (!xml) {
		rc_err_libvirt(e, "virDomainGetXMLDesc");
		return -1;
	}
	if (read_doc(r, &xml, live, o) < 0) {
		rc_err_set(e, "cannot read the domain XML libvirt gave");
		return -1;
	}
	return 0;
}

static int observe_live(struct ds_xreader *ctxt, virDomainPtr dom,
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
 * -1 where unknown. Listings filtered by flag tell which are running,
 * autostarted or transient in one call each instead of one call per
 * domain. */
struct known {
	int inactive, autostart, persistent;
	struct ds_xreader *ctxt; /* to reuse, or NULL */
};

static int observe_into(virDomainPtr dom, const struct known *k,
			struct rc_observed *o, struct rc_err *e)
{
	int reason, autostart = k->autostart, persistent = k->persistent;
	const char *name = virDomainGetName(dom);
	const struct ds_node *uuid;

	*o = (struct rc_observed){.id = -1, .state = VIR_DOMAIN_SHUTOFF};
	if (!name || !(o->name = strdup(name)) ||
	    (k->inactive != 1 &&
	     virDomainGetState(dom, &o->state, &reason, 0) < 0) ||
	    (persistent < 0 && (persistent = virDomainIsPersistent(dom)) < 0)) {
		rc_err_libvirt(e, "virDomainGetState");
		return -1;
	}
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
	/* the UUID as libvirt writes it, from its XML */
	uuid = ds_node_get(o->config, "uuid");
	if (uuid && strlen(uuid->str) < sizeof(o->uuid))
		strcpy(o->uuid, uuid->str);
	else if (virDomainGetUUIDString(dom, o->uuid) < 0) {
		rc_err_libvirt(e, "virDomainGetUUIDString");
		return -1;
	}
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

/* Reads one domain into o; on failure o holds nothing (what was read
 * before the failing call is freed). */
static int observe(virDomainPtr dom, const struct known *k,
		   struct rc_observed *o, struct rc_err *e)
{
	int r = observe_into(dom, k, o, e);

	if (r < 0)
		rc_observed_finish(o);
	return r;
}

int rc_observe_domain(virDomainPtr dom, struct rc_observed *o, struct rc_err *e)
{
	return observe(dom, &(struct known){-1, -1, -1, NULL}, o, e);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the domains a filtered listing gives, sorted (names are
 * unique on a connection, and reading one costs libvirt nothing). */
struct names {
	char **v;
	int n;
};

static void names_finish(struct names *u)
{
	for (int i = 0; i < u->n; i++)
		free(u->v[i]);
	free(u->v);
}

static int list_names(virConnectPtr conn, unsigned flags, struct names *u)
{
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(conn, &doms, flags);
	bool ok = n >= 0;

	*u = (struct names){0};
	if (!ok)
		return -1;
	u->v = calloc(n ? n : 1, sizeof(*u->v));
	for (int i = 0; i < n; i++) {
		const char *name = virDomainGetName(doms[i]);
		if (u->v && name && (u->v[u->n] = strdup(name)))
			u->n++;
		else
			ok = false;
		virDomainFree(doms[i]);
	}
	free(doms);
	if (!ok) {
		names_finish(u);
		return -1;
	}
	qsort(u->v, u->n, sizeof(*u->v), cmp_name);
	return 0;
}

static bool in_names(const struct names *u, const char *name)
{
	return bsearch(&name, u->v, u->n, sizeof(*u->v), cmp_name);
}

void rc_observed_array_free(struct rc_observed *o, size_t n)
{
	for (size_t i = 0; o && i < n; i++)
		rc_observed_finish(&o[i]);
	free(o);
}

/* One observation: the domains of a listing, read by a few threads that
 * take the next one in turn. */
struct rc_observe_job {
	virDomainPtr *doms;
	int n;
	atomic_int next;
	struct rc_observed *all;
	bool *gone; /* undefined while it was read */
	int failed; /* the first domain that failed, or n */
	struct rc_err err;
	struct names active, autostart, transient;
	bool lists;
	pthread_mutex_t lock; /* over failed and err */
};

static void observe_one(struct rc_observe_job *j, int i, struct ds_xreader *r)
{
	/* A domain that stops, starts or goes while it is read is read once
	 * more, asking it everything; one undefined is simply gone. */
	int tries = 2, code = VIR_ERR_OK;
	struct known k = {-1, -1, -1, r};
	const char *name = virDomainGetName(j->doms[i]);
	struct rc_err e;

	if (j->lists && name) {
		k.inactive = !in_names(&j->active, name);
		k.autostart = in_names(&j->autostart, name);
		k.persistent = !in_names(&j->transient, name);
	}
	while (tries--) {
		if (observe(j->doms[i], &k, &j->all[i], &e) == 0)
			return;
		k = (struct known){-1, -1, -1, r};
		code = virGetLastErrorCode();
		if (code == VIR_ERR_NO_DOMAIN) {
			j->gone[i] = true;
			return;
		}
	}
	pthread_mutex_lock(&j->lock);
	if (i < j->failed) {
		j->failed = i;
		rc_err_set(&j->err, "%s: %s", name ? name : "?", e.msg);
	}
	pthread_mutex_unlock(&j->lock);
}

bool rc_observe_next(struct rc_observe_job *j, struct ds_xreader *r)
{
	int i = atomic_fetch_add(&j->next, 1);

	if (i >= j->n)
		return false;
	observe_one(j, i, r);
	return true;
}

struct rc_observe_job *rc_observe_begin(virConnectPtr conn, struct rc_err *e)
{
	struct rc_observe_job *j = calloc(1, sizeof(*j));

	if (!j) {
		rc_err_set(e, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&j->lock, NULL);
	j->n = virConnectListAllDomains(conn, &j->doms, 0);
	if (j->n < 0) {
		rc_err_libvirt(e, "virConnectListAllDomains");
		pthread_mutex_destroy(&j->lock);
		free(j);
		return NULL;
	}
	j->lists = list_names(conn, VIR_CONNECT_LIST_DOMAINS_ACTIVE,
			      &j->active) == 0 &&
		   list_names(conn, VIR_CONNECT_LIST_DOMAINS_AUTOSTART,
			      &j->autostart) == 0 &&
		   list_names(conn, VIR_CONNECT_LIST_DOMAINS_TRANSIENT,
			      &j->transient) == 0;
	if (!j->lists) /* then each domain is asked */
		virResetLastError();
	j->all = calloc(j->n ? j->n : 1, sizeof(*j->all));
	j->gone = calloc(j->n ? j->n : 1, sizeof(*j->gone));
	j->failed = j->n;
	if (!j->all || !j->gone) {
		rc_err_set(e, "out of memory");
		rc_observe_end(j, NULL, NULL, NULL);
		return NULL;
	}
	return j;
}

int rc_observe_end(struct rc_observe_job *j, struct rc_observed **ret,
		   size_t *ret_n, struct rc_err *e)
{
	int r = ret ? 0 : -1;
	size_t got = 0;

	if (r == 0 && j->failed < j->n) {
		*e = j->err;
		r = -1;
	}
	/* in the listing's order, without the domains that went */
	for (int i = 0; i < j->n; i++) {
		if (j->all && j->gone && !j->gone[i])
			j->all[got++] = j->all[i];
		virDomainFree(j->doms[i]);
	}
	free(j->doms);
	names_finish(&j->active);
	names_finish(&j->autostart);
	names_finish(&j->transient);
	free(j->gone);
	pthread_mutex_destroy(&j->lock);
	if (r < 0) {
		rc_observed_array_free(j->all, got);
	} else {
		*ret = j->all;
		*ret_n = got;
	}
	free(j);
	return r;
}

/* An item of the pool: the next domain, whichever it is (threads outside
 * the pool may take some too). */
static void observe_item(void *opaque, size_t i, void *reader)
{
	(void)i;
	rc_observe_next(opaque, reader);
}

static void *new_reader(void *unused)
{
	(void)unused;
	return ds_xreader_new();
}

static void free_reader(void *reader)
{
	ds_xreader_free(reader);
}

void rc_observe_run(struct rc_observe_job *j, int threads)
{
	rc_workers_run(&(struct rc_workers){
	    .n = j->n,
	    .threads = threads,
	    .per_thread = 16,
	    .cpu_bound = true,
	    .stack = 512 * 1024,
	    .start = new_reader,
	    .stop = free_reader,
	    .item = observe_item,
	    .ctx = j,
	});
}

/* Threads beside the caller's, no more than the CPUs allow: reading a
 * domain is waiting for libvirt (a remote call) and parsing its XML. */
#define OBSERVE_THREADS 3

int rc_observe_all(virConnectPtr conn, struct rc_observed **ret, size_t *ret_n,
		   struct rc_err *e)
{
	return rc_observe_all_threads(conn, OBSERVE_THREADS, ret, ret_n, e);
}

int rc_observe_all_threads(virConnectPtr conn, int threads,
			   struct rc_observed **ret, size_t *ret_n,
			   struct rc_err *e)
{
	struct rc_observe_job *j = rc_observe_begin(conn, e);

	if (!j)
		return -1;
	rc_observe_run(j,
		       threads < OBSERVE_THREADS ? threads : OBSERVE_THREADS);
	return rc_observe_end(j, ret, ret_n, e);
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
	struct ds_xdoc doc;
	unsigned max = 0;

	if (ds_xdoc_read(NULL, caps, strlen(caps), &doc) == 0)
		max = prop_u64(ds_xel_child(doc.root, "vcpu", 4), "max");
	ds_xdoc_finish(&doc);
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

int rc_limits_read_host(virConnectPtr conn, struct rc_limits *l,
			struct rc_err *e)
{
	virNodeInfo info;

	*l = (struct rc_limits){0};
	if (virNodeGetInfo(conn, &info) < 0) {
		rc_err_libvirt(e, "virNodeGetInfo");
		return -1;
	}
	l->host_cpus = info.cpus;
	l->host_memory = info.memory;
	return 0;
}

int rc_limits_read(virConnectPtr conn, struct rc_limits *l, struct rc_err *e)
{
	return rc_limits_read_host(conn, l, e) < 0 ||
		       rc_best_type(conn, &l->best_type, e) < 0
		   ? -1
		   : 0;
}

/* <guest><arch name='x86_64'><machine canonical='pc-i440fx-7.2'>pc</machine>
 * of the capabilities, every arch and domain type, each alias once. */
static int read_aliases(const struct ds_xel *caps, struct rc_limits *l)
{
	for (const struct ds_xel *g = caps->kids; g; g = g->next) {
		const struct ds_xel *a = g->name && !strcmp(g->name, "guest")
					     ? ds_xel_child(g, "arch", 4)
					     : NULL;
		const char *arch = a ? ds_xel_attr(a, "name") : NULL;
		for (const struct ds_xel *m = arch ? a->kids : NULL; m;
		     m = m->next) {
			const char *canon =
			    m->name && !strcmp(m->name, "machine")
				? ds_xel_attr(m, "canonical")
				: NULL;
			_cleanup_free_ char *alias =
			    canon ? ds_xel_content(m) : NULL;
			bool seen = false;
			if (!alias)
				continue;
			for (size_t i = 0; i < l->n_aliases && !seen; i++)
				seen = !strcmp(l->aliases[i].arch, arch) &&
				       !strcmp(l->aliases[i].alias, alias);
			if (seen)
				continue;
			struct ds_machine_alias *grown = reallocarray(
			    l->aliases, l->n_aliases + 1, sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			l->aliases = grown;
			grown[l->n_aliases] = (struct ds_machine_alias){
			    strdup(arch), take_ptr(alias), strdup(canon)};
			if (!grown[l->n_aliases].arch ||
			    !grown[l->n_aliases].canonical) {
				free((char *)grown[l->n_aliases].arch);
				free((char *)grown[l->n_aliases].alias);
				free((char *)grown[l->n_aliases].canonical);
				return -ENOMEM;
			}
			l->n_aliases++;
		}
	}
	return 0;
}

/* <host><secmodel><model>apparmor</model> of the capabilities: the first
 * is the driver libvirt gives a seclabel without a model (qemu_driver.c,
 * qemuStateInitialize: defsecmodel). */
static int read_secmodel(const struct ds_xel *caps, struct rc_limits *l)
{
	const struct ds_xel *host = ds_xel_child(caps, "host", 4);
	const struct ds_xel *sec =
	    host ? ds_xel_child(host, "secmodel", 8) : NULL;
	const struct ds_xel *model = sec ? ds_xel_child(sec, "model", 5) : NULL;

	if (model && !(l->secmodel = ds_xel_content(model)))
		return -ENOMEM;
	return 0;
}

int rc_limits_learn_caps(virConnectPtr conn, struct rc_limits *l,
			 struct rc_err *e)
{
	_cleanup_free_ char *caps = NULL;
	struct ds_xdoc doc;
	int r;

	if (l->caps_read)
		return 0;
	if (!(caps = virConnectGetCapabilities(conn))) {
		rc_err_libvirt(e, "virConnectGetCapabilities");
		return -1;
	}
	r = ds_xdoc_read(NULL, caps, strlen(caps), &doc);
	if (r == 0)
		r = read_aliases(doc.root, l);
	if (r == 0)
		r = read_secmodel(doc.root, l);
	ds_xdoc_finish(&doc);
	if (r < 0) {
		rc_err_set(e, "out of memory");
		return -1;
	}
	l->caps_read = true;
	return 0;
}

struct ds_compare_ctx rc_limits_compare_ctx(const struct rc_limits *l)
{
	return (struct ds_compare_ctx){l ? l->aliases : NULL,
				       l ? l->n_aliases : 0,
				       l ? l->secmodel : NULL};
}

void rc_limits_finish(struct rc_limits *l)
{
	for (size_t i = 0; i < l->n_aliases; i++) {
		free((char *)l->aliases[i].arch);
		free((char *)l->aliases[i].alias);
		free((char *)l->aliases[i].canonical);
	}
	free(l->aliases);
	free(l->secmodel);
	for (size_t i = 0; i < l->n_vcpus; i++) {
		free(l->vcpus[i].type);
		free(l->vcpus[i].machine);
	}
	free(l->vcpus);
	free(l->best_type);
	*l = (struct rc_limits){0};
}
