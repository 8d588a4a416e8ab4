/* The planner: for each file, what libvirt must do, in order, and why; for
 * each domain of ours whose file is gone, whether to keep or prune it.
 * Nothing here calls libvirt. */
#include "plan.h"

#include "devices.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <libgen.h>
#include <libxml/parser.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cpuset.h"
#include "fragments.h"
#include "merge.h"
#include "metadata.h"
#include "render.h"
#include "schema.h"
#include "units.h"
#include "workers.h"
#include "xmlpath.h"

static const char *const phase_names[] = {
    "in-sync", "converging", "restart-required",
    "error",   "conflict",   "orphaned",
};

static const char *const act_names[] = {
    "define",        "redefine",           "set-mark",      "set-vcpus",
    "set-memory",    "set-autostart",      "start",         "shutdown",
    "undefine",      "set-metadata",       "destroy",       "detach-device",
    "update-device", "attach-device",      "create-volume", "resize-volume",
    "write-seed",    "delete-volume",      "define-pool",   "build-pool",
    "start-pool",    "set-pool-autostart",
};

const char *rc_phase_name(enum rc_phase p)
{
	return phase_names[p];
}

const char *rc_act_name(enum rc_act a)
{
	return act_names[a];
}

const char *rc_act_where(const struct rc_action *a)
{
	switch (a->kind) {
	case RC_ACT_SET_VCPUS:
	case RC_ACT_SET_MEMORY:
	case RC_ACT_SET_MARK:
	case RC_ACT_SET_METADATA:
		return a->live ? " (live)" : " (config)";
	default:
		return "";
	}
}

__attribute__((format(printf, 2, 3))) static int
set_reason(struct rc_domain_plan *dp, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	free(dp->reason);
	dp->reason = s;
	return 0;
}

/* Appends an action; xml is taken (freed on failure too). */
__attribute__((format(printf, 6, 7))) static int
add_action(struct rc_domain_plan *dp, enum rc_act kind, bool live,
	   uint64_t value, char *xml, const char *fmt, ...)
{
	struct rc_action *a =
	    reallocarray(dp->actions, dp->n_actions + 1, sizeof(*a));
	char *why = NULL;
	va_list ap;
	int r;

	if (!a) {
		free(xml);
		return -ENOMEM;
	}
	dp->actions = a;
	va_start(ap, fmt);
	r = vasprintf(&why, fmt, ap);
	va_end(ap);
	if (r < 0) {
		free(xml);
		return -ENOMEM;
	}
	a[dp->n_actions++] = (struct rc_action){
	    .kind = kind, .live = live, .value = value, .xml = xml, .why = why};
	return 0;
}

static const char *file_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* The raw XML fragments of a file, as one text, to notice a change. */
static char *fragments_text(const struct ds_node *root)
{
	static const char *const where[] = {"xml.domain", "xml.devices"};
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!ds_node_get(root, "xml"))
		return strdup(""); /* most files: no stream needed */
	if (!(f = open_memstream(&buf, &len)))
		return NULL;
	for (size_t w = 0; w < 2; w++) {
		const struct ds_node *list = ds_node_path(root, where[w]);
		for (size_t i = 0; list && i < list->n_kids; i++)
			fprintf(f, "%s:\n%s\n", where[w], list->kids[i]->str);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	if (!len) {
		free(buf);
		return strdup("");
	}
	return buf;
}

static bool str_eq(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static int owner_set(struct rc_owner *w, bool marked, const char *dir,
		     const char *file)
{
	*w = (struct rc_owner){.marked = marked};
	if ((dir && !(w->dir = strdup(dir))) ||
	    (file && !(w->file = strdup(file))))
		return -ENOMEM;
	return 0;
}

/* Puts the mark into <metadata>, replacing an older one of ours. */
static int put_mark(xmlNodePtr domain, const struct rc_mark *m)
{
	xmlNodePtr md = NULL, node = NULL;
	xmlNsPtr ns;

	for (xmlNodePtr c = domain->children; c && !md; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    !strcmp((const char *)c->name, "metadata"))
			md = c;
	if (!md && !(md = xmlNewChild(domain, NULL, BAD_CAST "metadata", NULL)))
		return -ENOMEM;
	for (xmlNodePtr c = md->children, next; c; c = next) {
		next = c->next;
		if (c->type == XML_ELEMENT_NODE && c->ns &&
		    !strcmp((const char *)c->ns->href, RC_MARK_URI)) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		}
	}
	node = rc_mark_node(m, domain->doc);
	if (!node || !xmlAddChild(md, node)) {
		xmlFreeNode(node);
		return -ENOMEM;
	}
	ns = xmlNewNs(node, BAD_CAST RC_MARK_URI, BAD_CAST RC_MARK_PREFIX);
	if (!ns)
		return -ENOMEM;
	xmlSetNs(node, ns);
	for (xmlNodePtr c = node->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			xmlSetNs(c, ns);
	return 0;
}

static char *doc_text(xmlDocPtr doc)
{
	return ds_render_text(doc);
}

/* Appends " prefix/word" to *s. */
static int append_word(char **s, const char *prefix, const char *word)
{
	char *n;

	if (asprintf(&n, "%s%s%s/%s", *s ? *s : "", *s ? " " : "", prefix,
		     word) < 0)
		return -ENOMEM;
	free(*s);
	*s = n;
	return 0;
}

static bool is_fragment(xmlNodePtr x)
{
	const struct ds_node *n = x->_private;

	return x->type == XML_ELEMENT_NODE && n && n->field &&
	       n->field->kind == DS_XML && n->kind == DS_NODE_SCALAR;
}

static xmlNodePtr devices_of(xmlNodePtr domain)
{
	return domain ? ds_xml_child(domain, "devices", 7) : NULL;
}

/* The elements a rendered domain's raw fragments gave, as
 * "domain/sysinfo devices/tpm". */
static int fragment_names(xmlNodePtr domain, char **ret)
{
	xmlNodePtr parents[] = {domain, devices_of(domain)};
	const char *names[] = {"domain", "devices"};
	char *s = NULL;

	for (size_t p = 0; p < 2; p++)
		for (xmlNodePtr c = parents[p] ? parents[p]->children : NULL; c;
		     c = c->next)
			if (is_fragment(c) &&
			    append_word(&s, names[p], (const char *)c->name) <
				0) {
				free(s);
				return -ENOMEM;
			}
	*ret = s;
	return 0;
}

/* Whether devices/<name> is a kind the format lists (disk): the old
 * fragments' devices of such a kind are set aside by identity, not found
 * by name. */
static bool listed_kind(size_t parent, const char *name)
{
	return parent == 1 && ds_device_list(name);
}

/* Swaps the old fragments' elements in have for the new ones of want. */
static int merge_fragments(xmlNodePtr have, xmlNodePtr want,
			   const char *old_names)
{
	xmlNodePtr hp[] = {have, devices_of(have)};
	xmlNodePtr wp[] = {want, devices_of(want)};
	const char *names[] = {"domain/", "devices/"};

	for (size_t p = 0; p < 2; p++) {
		for (xmlNodePtr c = hp[p] ? hp[p]->children : NULL, next; c;
		     c = next) {
			char word[128];
			next = c->next;
			if (c->type != XML_ELEMENT_NODE ||
			    listed_kind(p, (const char *)c->name))
				continue;
			snprintf(word, sizeof(word), "%s%s", names[p], c->name);
			const char *at =
			    old_names ? strstr(old_names, word) : NULL;
			size_t wl = strlen(word);
			if (at && (at == old_names || at[-1] == ' ') &&
			    (!at[wl] || at[wl] == ' ')) {
				xmlUnlinkNode(c);
				xmlFreeNode(c);
			}
		}
		for (xmlNodePtr c = wp[p] ? wp[p]->children : NULL; c;
		     c = c->next) {
			if (!is_fragment(c))
				continue;
			if (!hp[p] && p == 1 &&
			    !(hp[1] = xmlNewChild(have, NULL,
						  BAD_CAST "devices", NULL)))
				return -ENOMEM;
			xmlNodePtr copy = xmlDocCopyNode(c, have->doc, 1);
			if (!copy || !xmlAddChild(hp[p], copy)) {
				xmlFreeNode(copy);
				return -ENOMEM;
			}
		}
	}
	return 0;
}

/* Devices of have set aside (unlinked) while a file's fields merge. */
struct aside {
	xmlNodePtr *v;
	size_t n;
};

static int set_aside(xmlNodePtr have, const struct ds_frag_items *f,
		     struct aside *a)
{
	xmlNodePtr devices = devices_of(have);

	*a = (struct aside){0};
	if (!f || !f->n || !devices)
		return 0;
	if (!(a->v = calloc(f->n, sizeof(*a->v))))
		return -ENOMEM;
	for (size_t i = 0; i < f->n; i++) {
		size_t k = 0;
		for (xmlNodePtr c = devices->children; c; c = c->next) {
			if (c->type != XML_ELEMENT_NODE ||
			    strcmp((const char *)c->name, f->v[i].elem))
				continue;
			if (k++ == f->v[i].index) {
				a->v[a->n++] = c;
				break;
			}
		}
	}
	for (size_t i = 0; i < a->n; i++)
		xmlUnlinkNode(a->v[i]);
	return 0;
}

static int put_back(xmlNodePtr have, struct aside *a)
{
	xmlNodePtr devices = devices_of(have);

	if (a->n && !devices &&
	    !(devices = xmlNewChild(have, NULL, BAD_CAST "devices", NULL)))
		return -ENOMEM;
	for (size_t i = 0; i < a->n; i++) {
		if (!xmlAddChild(devices, a->v[i]))
			return -ENOMEM;
		a->v[i] = NULL;
	}
	a->n = 0;
	return 0;
}

static void free_aside(struct aside *a)
{
	for (size_t i = 0; i < a->n; i++)
		xmlFreeNode(a->v[i]);
	free(a->v);
	*a = (struct aside){0};
}

/* The mark a file's domain carries in its persistent config. */
static int config_mark(const struct ds_domain *d, const char *dir,
		       xmlNodePtr rendered, const struct rc_domain_plan *dp,
		       struct rc_mark *m)
{
	*m = (struct rc_mark){.present = true};
	if ((dp->mark_volumes && !(m->volumes = strdup(dp->mark_volumes))) ||
	    (dp->mark_seed && !(m->seed = strdup(dp->mark_seed))))
		return -ENOMEM;
	m->file = strdup(file_name(d->path));
	if (dir && !(m->dir = strdup(dir))) {
		rc_mark_finish(m);
		return -ENOMEM;
	}
	m->fragments = fragments_text(d->root);
	if (!m->file || !m->fragments ||
	    fragment_names(rendered, &m->fragment_names) < 0) {
		rc_mark_finish(m);
		return -ENOMEM;
	}
	if (!*m->fragments) {
		free(m->fragments);
		m->fragments = NULL;
	}
	return 0;
}

static int render_doc(const struct ds_domain *d, const char *type,
		      xmlDocPtr *ret)
{
	struct ds_diags diags = {0};
	int r = ds_render(d, type, &diags, ret);

	ds_diags_finish(&diags);
	return r;
}

/* Whether the domain o already holds the file's CPU set: then it is no
 * new request of the file's, whatever the host (an adopted domain keeps
 * what libvirt accepted). */
static bool cpuset_held(const struct ds_cpuset *want,
			const struct rc_observed *o)
{
	const struct ds_node *have =
	    o ? ds_node_path(o->config, "vcpu.cpuset") : NULL;
	struct ds_cpuset set;
	char err[96];

	return have && !ds_cpuset_parse(have->str, &set, err, sizeof(err)) &&
	       ds_cpuset_equal(want, &set);
}

/* Refusals before anything is sent: over the hypervisor's vCPU maximum, or
 * CPUs the host does not have (unless libvirt holds them already). Returns
 * 1 when refused. */
static int refuse_limits(const struct ds_domain *d, const char *type,
			 const struct rc_observed *o, const struct rc_limits *l,
			 struct rc_domain_plan *dp)
{
	const struct ds_node *machine = ds_node_path(d->root, "os.machine");
	const struct ds_node *cpuset = ds_node_path(d->root, "vcpu.cpuset");
	unsigned max =
	    type ? rc_limits_vcpus(l, type, machine ? machine->str : NULL) : 0;
	struct ds_cpuset set;
	char err[96];

	if (max && d->vcpu_max > max) {
		dp->phase = RC_PHASE_ERROR;
		return set_reason(dp,
				  "vcpu.value %u is over the hypervisor's "
				  "maximum of %u vCPUs for %s%s%s",
				  d->vcpu_max, max, type, machine ? " " : "",
				  machine ? machine->str : "") < 0
			   ? -ENOMEM
			   : 1;
	}
	if (cpuset && l->host_cpus &&
	    !ds_cpuset_parse(cpuset->str, &set, err, sizeof(err)) &&
	    (unsigned)ds_cpuset_last(&set) >= l->host_cpus &&
	    !cpuset_held(&set, o)) {
		dp->phase = RC_PHASE_ERROR;
		return set_reason(dp,
				  "vcpu.cpuset \"%s\" names CPU %d, but the "
				  "host has CPUs 0-%u",
				  cpuset->str, ds_cpuset_last(&set),
				  l->host_cpus - 1) < 0
			   ? -ENOMEM
			   : 1;
	}
	return 0;
}

struct storage_plan;
static int add_seed_then_mark(const struct ds_domain *d, const char *dir,
			      const struct storage_plan *sp,
			      xmlNodePtr rendered, struct rc_domain_plan *dp);

static int plan_new(const struct ds_domain *d, const char *type,
		    const char *dir, const struct storage_plan *sp,
		    struct rc_domain_plan *dp)
{
	xmlDocPtr doc = NULL;
	struct rc_mark m;
	char *xml = NULL;
	int r;

	if (render_doc(d, type, &doc) < 0)
		return -ENOMEM;
	r = config_mark(d, dir, xmlDocGetRootElement(doc), dp, &m);
	if (r == 0) {
		r = put_mark(xmlDocGetRootElement(doc), &m);
		rc_mark_finish(&m);
	}
	if (r == 0 && !(xml = doc_text(doc)))
		r = -ENOMEM;
	if (r < 0 ||
	    add_action(dp, RC_ACT_DEFINE, false, 0, xml, "new domain from %s",
		       file_name(d->path)) < 0 ||
	    add_seed_then_mark(d, dir, sp, xmlDocGetRootElement(doc), dp) < 0) {
		xmlFreeDoc(doc);
		return -ENOMEM;
	}
	xmlFreeDoc(doc);
	if (d->autostart && add_action(dp, RC_ACT_SET_AUTOSTART, false, 1, NULL,
				       "autostart false → true") < 0)
		return -ENOMEM;
	if (d->state == DS_STATE_RUNNING &&
	    add_action(dp, RC_ACT_START, false, 0, NULL, "state → running") < 0)
		return -ENOMEM;
	dp->phase = RC_PHASE_CONVERGING;
	return 0;
}

static bool only_live_fields(const struct ds_changes *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->items[i].path, "vcpu.current") &&
		    strcmp(c->items[i].path, "currentMemory"))
			return false;
	return true;
}

/* "vcpu.value 4 → 6, os.machine pc → q35" */
static char *describe(const struct ds_changes *c, bool (*keep)(const char *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const char *sep = "";

	if (!f)
		return NULL;
	for (size_t i = 0; i < c->n; i++) {
		if (keep && !keep(c->items[i].path))
			continue;
		fprintf(f, "%s%s %s → %s", sep, c->items[i].path,
			c->items[i].have ? c->items[i].have : "(none)",
			c->items[i].want);
		sep = ", ";
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* What only a restart brings to a running guest: not the balloon, the
 * vCPUs online, nor the title, the description and <metadata>'s elements
 * (set live). */
static bool restart_field(const char *path)
{
	return strcmp(path, "vcpu.current") && strcmp(path, "currentMemory") &&
	       strcmp(path, "title") && strcmp(path, "description") &&
	       strncmp(path, "metadata.", strlen("metadata."));
}

/* The running guest's elements of <metadata> that the file names, set live
 * where they differ, one a namespace (virDomainSetMetadata). */
static int plan_elements(const struct ds_domain *d, const struct ds_node *live,
			 struct rc_domain_plan *dp)
{
	const struct ds_node *want = ds_node_get(d->root, "metadata");
	const struct ds_node *have = ds_node_get(live, "metadata");

	for (size_t i = 0; want && i < want->n_kids; i++) {
		const struct ds_node *w = want->kids[i];
		const struct ds_node *h = ds_node_get(have, w->key);
		_cleanup_free_ char *was = NULL, *now = NULL;
		char *text, *key;
		int r;
		if (w->bad ||
		    (h ? ds_metadata_equal(w->str, h->str) : !*w->str))
			continue;
		if ((h && !(was = ds_node_format(h))) ||
		    !(now = ds_node_format(w)) || !(key = strdup(w->key)))
			return -ENOMEM;
		if (!(text = strdup(w->str))) {
			free(key);
			return -ENOMEM;
		}
		r = add_action(dp, RC_ACT_SET_METADATA, true, RC_META_ELEMENT,
			       text, "metadata.%s %s → %s (live)", w->key,
			       was ? was : "(none)", now);
		if (r < 0) {
			free(key);
			return r;
		}
		dp->actions[dp->n_actions - 1].key = key;
	}
	return 0;
}

/* The running guest's title and description, set live where the file's
 * differ (libvirt keeps them with the domain, the guest never sees them). */
static int plan_metadata(const struct ds_domain *d, const struct ds_node *live,
			 struct rc_domain_plan *dp)
{
	static const char *const keys[] = {"title", "description"};

	for (size_t i = 0; i < 2; i++) {
		const struct ds_node *w = ds_node_get(d->root, keys[i]);
		const struct ds_node *h = ds_node_get(live, keys[i]);
		char *text;
		if (!w || !strcmp(w->str, h ? h->str : ""))
			continue;
		if (!(text = strdup(w->str)))
			return -ENOMEM;
		int r = add_action(dp, RC_ACT_SET_METADATA, true,
				   i ? RC_META_DESCRIPTION : RC_META_TITLE,
				   text, "%s %s → %s (live)", keys[i],
				   h ? h->str : "(none)",
				   *w->str ? w->str : "(none)");
		if (r < 0)
			return r;
	}
	return plan_elements(d, live, dp);
}

/* The mark alone: a domain adopted as it is, a file renamed, or a mark
 * from before marks named their directory. */
static int add_set_mark(struct rc_domain_plan *dp, const struct rc_observed *o,
			const struct ds_domain *d, const char *dir,
			const struct rc_mark *m)
{
	const char *file = file_name(d->path);
	char *xml = rc_mark_format(m);

	if (!xml)
		return -ENOMEM;
	if (!o->mark.present)
		return add_action(dp, RC_ACT_SET_MARK, false, 0, xml,
				  "adopt: mark as managed");
	if (!str_eq(o->mark.file, file))
		return add_action(dp, RC_ACT_SET_MARK, false, 0, xml,
				  "file %s → %s",
				  o->mark.file ? o->mark.file : "(none)", file);
	if (dir && !str_eq(o->mark.dir, dir))
		return add_action(dp, RC_ACT_SET_MARK, false, 0, xml,
				  "directory (none) → %s", dir);
	if (!str_eq(o->mark.seed, dp->mark_seed))
		return add_action(dp, RC_ACT_SET_MARK, false, 0, xml,
				  "cloud-init seed written");
	return add_action(dp, RC_ACT_SET_MARK, false, 0, xml, "volumes: %s",
			  dp->mark_volumes ? dp->mark_volumes : "(none)");
}

/* The persistent config: single values through their calls, everything
 * else by one redefine of the domain's own XML with the file's fields
 * (frags: the file's raw fragments as the mark records them; applied:
 * those the domain has, as the mark records them). */
static int plan_config(const struct ds_domain *d, const struct rc_observed *o,
		       const char *frags, const char *applied,
		       const struct ds_changes *c,
		       const struct ds_frag_items *frag_items, const char *dir,
		       struct rc_domain_plan *dp)
{
	bool frag_change, frag_text_change, mark_change;
	xmlDocPtr want = NULL, have = NULL;
	struct aside aside = {0};
	unsigned drops = 0;
	struct rc_mark m = {0};
	char *xml = NULL, *why;
	int r = 0;

	frag_change = frag_text_change = !str_eq(frags, applied);
	mark_change = !o->mark.present ||
		      !str_eq(o->mark.file, file_name(d->path)) ||
		      (dir && !str_eq(o->mark.dir, dir)) ||
		      !str_eq(o->mark.volumes, dp->mark_volumes) ||
		      !str_eq(o->mark.seed, dp->mark_seed);
	if (!c->n && !frag_change && !mark_change)
		return 0;
	if (render_doc(d, d->type ? d->type : "kvm", &want) < 0)
		return -ENOMEM;
	r = config_mark(d, dir, xmlDocGetRootElement(want), dp, &m);
	if (r == 0 && !frag_change && only_live_fields(c)) {
		for (size_t i = 0; i < c->n && r == 0; i++) {
			bool vcpu = !strcmp(c->items[i].path, "vcpu.current");
			r = add_action(
			    dp, vcpu ? RC_ACT_SET_VCPUS : RC_ACT_SET_MEMORY,
			    false,
			    vcpu ? d->vcpu_current : d->current_memory_kib,
			    NULL, "%s %s → %s", c->items[i].path,
			    c->items[i].have ? c->items[i].have : "(none)",
			    c->items[i].want);
		}
		if (r == 0 && mark_change)
			r = add_set_mark(dp, o, d, dir, &m);
		goto out;
	}
	/* what libvirt has, as a document only now that it is rewritten */
	if (r == 0 &&
	    !(have = xmlReadMemory(
		  o->config_xml, strlen(o->config_xml), "domain.xml", NULL,
		  XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_COMPACT)))
		r = -ENOMEM;
	/* the devices fragments gave are the fragments' to change, never
	 * the lists' to drop: set aside while the file's fields merge */
	if (r == 0) {
		drops = ds_merge_drops(xmlDocGetRootElement(have), d->root);
		/* a new machine family: the fragments go in afresh too */
		if (drops & DS_DROP_MACHINE)
			frag_change = true;
		r = set_aside(xmlDocGetRootElement(have), frag_items, &aside);
	}
	if (r == 0)
		r = ds_merge(xmlDocGetRootElement(have),
			     xmlDocGetRootElement(want), d->root);
	if (r == 0)
		r = frag_change ? merge_fragments(xmlDocGetRootElement(have),
						  xmlDocGetRootElement(want),
						  o->mark.fragment_names)
				: put_back(xmlDocGetRootElement(have), &aside);
	free_aside(&aside);
	if (r == 0)
		drops = ds_merge_drop(xmlDocGetRootElement(have), drops);
	if (r == 0)
		r = put_mark(xmlDocGetRootElement(have), &m);
	if (r == 0 && !(xml = doc_text(have)))
		r = -ENOMEM;
	why = r == 0 ? describe(c, NULL) : NULL;
	if (r == 0 && why)
		r = add_action(
		    dp, RC_ACT_REDEFINE, false, 0, xml, "%s%s%s%s%s%s%s",
		    o->mark.present ? "" : "adopt: ", why,
		    *why && frag_change && frag_text_change ? ", " : "",
		    frag_change && frag_text_change ? "raw xml" : "",
		    drops & DS_DROP_MACHINE
			? "; dropped: the controllers and device addresses "
			  "libvirt made for the old machine"
			: "",
		    drops & DS_DROP_OS_BOOT
			? "; dropped: os.boot (the devices give the boot order)"
			: "",
		    drops & DS_DROP_DEV_BOOT ? "; dropped: the devices' boot "
					       "order (os.boot gives it)"
					     : "");
	else if (r == 0)
		r = -ENOMEM;
	free(why);
out:
	rc_mark_finish(&m);
	xmlFreeDoc(want);
	xmlFreeDoc(have);
	return r;
}

/* What waits for a restart: the fields written to the config while the
 * guest runs (now, or on an earlier pass: the live mark keeps them), that
 * the running guest still has otherwise. */
static int plan_pending(const struct ds_domain *d, const struct rc_observed *o,
			const struct ds_node *live_tree,
			const struct ds_compare_ctx *ctx,
			const struct ds_changes *config, bool frag_change,
			const char *live_paths, struct rc_domain_plan *dp,
			char **ret_text)
{
	struct ds_changes live = {0};
	char *paths = NULL, *text = NULL;
	size_t tlen = 0;
	FILE *f;
	int r;

	if (live_tree && (r = ds_tree_compare_ctx(ds_domain_compared(d),
						  live_tree, ctx, &live)) < 0)
		return r;
	f = open_memstream(&text, &tlen);
	if (!f) {
		ds_changes_finish(&live);
		return -ENOMEM;
	}
	for (size_t i = 0; i < live.n; i++) {
		const char *path = live.items[i].path;
		bool changed = false;
		for (size_t j = 0; j < config->n && !changed; j++)
			changed = !strcmp(config->items[j].path, path);
		if (!restart_field(path) || rc_word_in(live_paths, path) ||
		    !(changed || rc_word_in(o->live_mark.pending, path)))
			continue;
		fprintf(f, "%s%s %s → %s", tlen ? ", " : "", path,
			live.items[i].have ? live.items[i].have : "(none)",
			live.items[i].want);
		fflush(f);
		char *p2;
		if (asprintf(&p2, "%s%s%s", paths ? paths : "",
			     paths ? " " : "", path) < 0) {
			fclose(f);
			free(text);
			free(paths);
			ds_changes_finish(&live);
			return -ENOMEM;
		}
		free(paths);
		paths = p2;
	}
	if (frag_change || rc_word_in(o->live_mark.pending, "xml")) {
		fprintf(f, "%sraw xml", tlen ? ", " : "");
		char *p2;
		if (asprintf(&p2, "%s%sxml", paths ? paths : "",
			     paths ? " " : "") >= 0) {
			free(paths);
			paths = p2;
		}
	}
	fclose(f);
	ds_changes_finish(&live);
	free(dp->live_mark.pending);
	dp->live_mark.pending = paths;
	*ret_text = text;
	return 0;
}

/* The balloon target libvirt set when the guest started: the persistent
 * currentMemory (0 when the config says none). */
static uint64_t boot_target(const struct rc_observed *o)
{
	const struct ds_node *cur = ds_node_get(o->config, "currentMemory");

	return cur ? cur->v.u : 0;
}

/* The running guest: vCPUs and balloon within the running maxima, never
 * again a value the hypervisor refused or a target already sent. */
static int plan_live(const struct ds_domain *d, const struct rc_observed *o,
		     uint64_t memory_added, struct rc_domain_plan *dp,
		     FILE *notes)
{
	unsigned cur = d->vcpu_current;
	uint64_t mem = d->current_memory_kib;
	char a[DS_SIZE_BUFLEN], b[DS_SIZE_BUFLEN];

	if (d->vcpu_max && cur != o->live_vcpus) {
		if (cur > o->live_max_vcpus)
			fprintf(notes,
				"%svcpu.current %u is over the running "
				"maximum of %u",
				ftell(notes) ? ", " : "", cur,
				o->live_max_vcpus);
		else if (o->live_mark.vcpus_refused == cur)
			fprintf(notes,
				"%svcpu.current %u → %u was refused "
				"live: %s",
				ftell(notes) ? ", " : "", o->live_vcpus, cur,
				o->live_mark.refused_reason
				    ? o->live_mark.refused_reason
				    : "by the hypervisor");
		else if (add_action(dp, RC_ACT_SET_VCPUS, true, cur, NULL,
				    "vcpu.current %u → %u (live)",
				    o->live_vcpus, cur) < 0)
			return -ENOMEM;
	}
	/* memory devices attached grow the balloon by their size */
	if (!ds_size_equal(mem, o->live_memory + memory_added)) {
		const struct ds_node *balloon =
		    ds_node_path(o->live, "devices.memballoon.model");
		ds_size_format(o->live_memory, a, sizeof(a));
		ds_size_format(mem, b, sizeof(b));
		if (balloon && balloon->str && !strcmp(balloon->str, "none"))
			/* QEMU changes a running guest's memory through its
			 * balloon only */
			fprintf(notes,
				"%scurrentMemory %s → %s: the running guest "
				"has no balloon",
				ftell(notes) ? ", " : "", a, b);
		else if (mem > o->live_max_memory + memory_added)
			fprintf(
			    notes,
			    "%scurrentMemory %s is over the running "
			    "maximum of %s",
			    ftell(notes) ? ", " : "", b,
			    ds_size_format(o->live_max_memory, a, sizeof(a)));
		else if (o->live_mark.memory_sent == mem ||
			 (!o->live_mark.memory_sent &&
			  ds_size_equal(mem, boot_target(o)))) {
			/* all that can be done is done: in sync, said */
			if (set_reason(dp,
				       "balloon target %s sent; the guest "
				       "has %s",
				       b, a) < 0)
				return -ENOMEM;
		} else if (add_action(dp, RC_ACT_SET_MEMORY, true, mem, NULL,
				      "currentMemory %s → %s (live)", a, b) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The device calls: detaches, updates, then attaches (dev's order). */
static int add_device_actions(struct rc_dev_plan *dev,
			      struct rc_domain_plan *dp)
{
	static const enum rc_act kinds[] = {
	    [RC_DEV_DETACH] = RC_ACT_DETACH_DEVICE,
	    [RC_DEV_UPDATE] = RC_ACT_UPDATE_DEVICE,
	    [RC_DEV_ATTACH] = RC_ACT_ATTACH_DEVICE,
	};

	for (size_t i = 0; i < dev->n_ops; i++) {
		struct rc_dev_op *op = &dev->ops[i];
		if (add_action(dp, kinds[op->call], true, op->needs_mac,
			       op->xml, "%s", op->why) < 0) {
			op->xml = NULL;
			return -ENOMEM;
		}
		op->xml = NULL;
		dp->actions[dp->n_actions - 1].device = op->key;
		op->key = NULL;
	}
	return 0;
}

static int plan_state(const struct ds_domain *d, const struct rc_observed *o,
		      struct rc_domain_plan *dp)
{
	if (d->state == DS_STATE_RUNNING && !o->active &&
	    add_action(dp, RC_ACT_START, false, 0, NULL,
		       "state shutoff → running") < 0)
		return -ENOMEM;
	if (d->state == DS_STATE_SHUTOFF && o->active &&
	    add_action(dp, RC_ACT_SHUTDOWN, false, 0, NULL,
		       "state running → shutoff") < 0)
		return -ENOMEM;
	if (d->autostart != o->autostart &&
	    add_action(dp, RC_ACT_SET_AUTOSTART, false, d->autostart, NULL,
		       "autostart %s → %s", o->autostart ? "true" : "false",
		       d->autostart ? "true" : "false") < 0)
		return -ENOMEM;
	return 0;
}

static int copy_mark(const struct rc_mark *from, struct rc_mark *to)
{
	*to = *from;
	to->file = from->file ? strdup(from->file) : NULL;
	to->dir = from->dir ? strdup(from->dir) : NULL;
	to->fragments = from->fragments ? strdup(from->fragments) : NULL;
	to->fragment_names =
	    from->fragment_names ? strdup(from->fragment_names) : NULL;
	to->refused_reason =
	    from->refused_reason ? strdup(from->refused_reason) : NULL;
	to->pending = from->pending ? strdup(from->pending) : NULL;
	to->unplug_sent = from->unplug_sent ? strdup(from->unplug_sent) : NULL;
	to->devices_refused =
	    from->devices_refused ? strdup(from->devices_refused) : NULL;
	to->devices_sent =
	    from->devices_sent ? strdup(from->devices_sent) : NULL;
	to->device_refused_reason = from->device_refused_reason
					? strdup(from->device_refused_reason)
					: NULL;
	to->volumes = from->volumes ? strdup(from->volumes) : NULL;
	to->seed = from->seed ? strdup(from->seed) : NULL;
	if ((from->volumes && !to->volumes) || (from->seed && !to->seed) ||
	    (from->file && !to->file) || (from->fragments && !to->fragments) ||
	    (from->fragment_names && !to->fragment_names) ||
	    (from->refused_reason && !to->refused_reason) ||
	    (from->pending && !to->pending) ||
	    (from->unplug_sent && !to->unplug_sent) ||
	    (from->devices_refused && !to->devices_refused) ||
	    (from->devices_sent && !to->devices_sent) ||
	    (from->device_refused_reason && !to->device_refused_reason)) {
		rc_mark_finish(to);
		return -ENOMEM;
	}
	return 0;
}

/* The trees to compare a file with: libvirt's, less the devices that raw
 * fragments gave where the format lists their kind (a <disk> under
 * xml.devices beside devices.disk). */
struct compared {
	struct ds_frag_items frag;
	struct ds_node *config, *live; /* copies, when fragments gave items */
};

static int compared_trees(const struct rc_observed *o, const char *applied,
			  struct compared *t)
{
	*t = (struct compared){0};
	if (!ds_fragments_list_kinds(applied))
		return 0;
	if (ds_fragment_items(o->config, applied, &t->frag) < 0 ||
	    !(t->config = ds_tree_without(o->config, &t->frag)))
		return -ENOMEM;
	if (o->live) {
		struct ds_frag_items lf;
		if (ds_fragment_items(o->live, applied, &lf) < 0)
			return -ENOMEM;
		t->live = ds_tree_without(o->live, &lf);
		ds_frag_items_finish(&lf);
		if (!t->live)
			return -ENOMEM;
	}
	return 0;
}

static void compared_finish(struct compared *t)
{
	ds_frag_items_finish(&t->frag);
	ds_node_free(t->config);
	ds_node_free(t->live);
}

/* Whether an unmarked domain that a file adopts already holds the file's
 * raw fragments (the file was imported from it): then they count as
 * applied, and the adoption writes only the mark, which records them,
 * instead of adding them a second time. */
static bool adopted_fragments_held(const struct ds_domain *d,
				   const struct rc_observed *o,
				   const char *frags)
{
	struct ds_xdoc doc;
	bool held;

	if (o->mark.present || !d->adopt || !*frags || !o->config_xml ||
	    ds_xdoc_read(NULL, o->config_xml, strlen(o->config_xml), &doc) < 0)
		return false;
	held = ds_fragments_held(doc.root, d->root);
	ds_xdoc_finish(&doc);
	return held;
}

static int plan_existing(const struct ds_domain *d, const struct rc_observed *o,
			 const char *dir, const struct rc_limits *l,
			 struct rc_domain_plan *dp)
{
	struct ds_compare_ctx ctx = rc_limits_compare_ctx(l);
	struct rc_dev_plan dev = {0};
	_cleanup_free_ char *frags = fragments_text(d->root);
	_cleanup_free_ char *pending = NULL, *notes = NULL;
	const char *applied;
	struct ds_changes c = {0};
	struct compared t;
	size_t nlen = 0;
	FILE *nf;
	int r;

	if (!frags)
		return -ENOMEM;
	applied =
	    adopted_fragments_held(d, o, frags) ? frags : o->mark.fragments;
	r = compared_trees(o, applied, &t);
	if (r == 0)
		r = ds_tree_compare_ctx(ds_domain_compared(d),
					t.config ? t.config : o->config, &ctx,
					&c);
	if (r == 0)
		r = plan_config(d, o, frags, applied, &c, &t.frag, dir, dp);
	if (r == 0 && o->active && d->state == DS_STATE_RUNNING) {
		dp->live_mark_set = true;
		r = copy_mark(&o->live_mark, &dp->live_mark);
		if (r == 0 &&
		    !(dp->live_mark_was = rc_mark_format(&o->live_mark)))
			r = -ENOMEM;
		if (r == 0)
			r = rc_plan_devices(d, t.live ? t.live : o->live,
					    &o->live_mark, &dev);
		if (r == 0) {
			free(dp->live_mark.unplug_sent);
			dp->live_mark.unplug_sent =
			    rc_unplug_still(o->live_mark.unplug_sent, o->live);
			/* what was sent and still shows otherwise stays */
			free(dp->live_mark.devices_sent);
			dp->live_mark.devices_sent = dev.sent;
			dev.sent = NULL;
		}
		if (r == 0)
			r = plan_pending(d, o, t.live ? t.live : o->live, &ctx,
					 &c, !str_eq(frags, applied),
					 dev.live_paths, dp, &pending);
		nf = r == 0 ? open_memstream(&notes, &nlen) : NULL;
		if (r == 0 && !nf)
			r = -ENOMEM;
		if (r == 0) {
			if (pending && *pending)
				fprintf(nf, "%s", pending);
			if (dev.restart && *dev.restart)
				fprintf(nf, "%s%s", ftell(nf) ? ", " : "",
					dev.restart);
			r = add_device_actions(&dev, dp);
			if (r == 0)
				r = plan_live(d, o, dev.memory_added, dp, nf);
			fclose(nf);
		}
		if (r == 0) {
			r = plan_metadata(d, t.live ? t.live : o->live, dp);
		}
	}
	if (r == 0)
		r = plan_state(d, o, dp);
	ds_changes_finish(&c);
	compared_finish(&t);
	if (r < 0) {
		rc_dev_plan_finish(&dev);
		return r;
	}
	if (notes && *notes) {
		dp->phase = RC_PHASE_RESTART_REQUIRED;
		r = set_reason(dp, "restart required: %s%s%s", notes,
			       dev.pending && *dev.pending ? "; " : "",
			       dev.pending ? dev.pending : "");
		rc_dev_plan_finish(&dev);
		return r;
	}
	if (dev.pending && *dev.pending) {
		/* an unplug the guest has yet to make: converging, said */
		dp->phase = RC_PHASE_CONVERGING;
		r = set_reason(dp, "%s", dev.pending);
		rc_dev_plan_finish(&dev);
		return r;
	}
	if (dev.said && !dp->reason && set_reason(dp, "%s", dev.said) < 0) {
		rc_dev_plan_finish(&dev);
		return -ENOMEM;
	}
	rc_dev_plan_finish(&dev);
	if (dp->n_actions)
		dp->phase = RC_PHASE_CONVERGING;
	return 0;
}

/* Ownership and identity before anything. A domain of that name that the
 * agent did not make is left alone unless the file adopts it; one that
 * another directory manages is left alone even then: adopt takes only a
 * domain nobody manages, so two directories naming one domain never take
 * it from each other back and forth. */
static int refuse_conflict(const struct ds_domain *d,
			   const struct rc_observed *o, const char *dir,
			   struct rc_domain_plan *dp)
{
	dp->phase = RC_PHASE_CONFLICT;
	if (!o->persistent)
		return set_reason(dp,
				  "a transient domain '%s' exists; "
				  "virt-reconcile leaves it alone",
				  o->name) < 0
			   ? -ENOMEM
			   : 1;
	if (o->mark.present && dir && o->mark.dir && strcmp(o->mark.dir, dir))
		return set_reason(dp,
				  "the domain '%s' is managed from another "
				  "directory, %s (file %s); it is left as it "
				  "is%s",
				  o->name, o->mark.dir,
				  o->mark.file ? o->mark.file : "unknown",
				  d->adopt ? " ('adopt: true' takes over only "
					     "a domain that no directory "
					     "manages)"
					   : "") < 0
			   ? -ENOMEM
			   : 1;
	if (!o->mark.present && !d->adopt)
		return set_reason(dp,
				  "a domain '%s' exists that virt-reconcile "
				  "did not define; it is left as it is "
				  "(set 'adopt: true' to take it over)",
				  o->name) < 0
			   ? -ENOMEM
			   : 1;
	if (d->uuid && strcasecmp(d->uuid, o->uuid))
		return set_reason(dp,
				  "the domain '%s' has UUID %s, not the "
				  "file's %s",
				  o->name, o->uuid, d->uuid) < 0
			   ? -ENOMEM
			   : 1;
	dp->phase = RC_PHASE_IN_SYNC;
	return 0;
}

static int cmp_obs(const void *a, const void *b)
{
	const struct rc_observed *x = *(const struct rc_observed *const *)a;
	const struct rc_observed *y = *(const struct rc_observed *const *)b;

	return strcmp(x->name, y->name);
}

const struct rc_observed **rc_observed_index(const struct rc_observed *o,
					     size_t n)
{
	const struct rc_observed **idx = calloc(n + 1, sizeof(*idx));

	for (size_t i = 0; idx && i < n; i++)
		idx[i] = &o[i];
	if (idx)
		qsort(idx, n, sizeof(*idx), cmp_obs);
	return idx;
}

const struct rc_observed *rc_observed_find(const struct rc_observed *const *idx,
					   size_t n, const char *name)
{
	struct rc_observed key = {.name = (char *)name};
	const struct rc_observed *kp = &key;
	const struct rc_observed *const *hit =
	    bsearch(&kp, idx, n, sizeof(*idx), cmp_obs);

	return hit ? *hit : NULL;
}

const char *rc_plan_type(const struct ds_domain *d, const struct rc_observed *o,
			 const struct rc_limits *l)
{
	const struct ds_node *t = o ? ds_node_get(o->config, "type") : NULL;

	return d->type ? d->type : t ? t->str : l->best_type;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool in_sorted(const char **v, size_t n, const char *s)
{
	return s && bsearch(&s, v, n, sizeof(*v), cmp_str);
}

static struct rc_domain_plan *grow(struct rc_plan *p)
{
	struct rc_domain_plan *d =
	    reallocarray(p->domains, p->n + 1, sizeof(*d));

	if (!d)
		return NULL;
	p->domains = d;
	d = &p->domains[p->n++];
	*d = (struct rc_domain_plan){0};
	return d;
}

/* ------------------------------------------------ storage */

/* What the storage part of a domain's plan leaves for the rest of it. */
struct storage_plan {
	bool seed_write; /* the seed is written on this pass */
	bool seed_had;   /* into a volume that exists already */
};

/* A refusal about a place in the file, before any call. Returns 1. */
__attribute__((format(printf, 4, 5))) static int
refuse_at(struct rc_domain_plan *dp, const struct ds_domain *d,
	  const struct ds_node *n, const char *fmt, ...)
{
	struct ds_mark at =
	    n ? (n->key ? n->key_mark : n->mark) : (struct ds_mark){0};
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	dp->phase = RC_PHASE_ERROR;
	if (at.line)
		r = set_reason(dp, "%s:%u:%u: %s", file_name(d->path), at.line,
			       at.col, msg);
	else
		r = set_reason(dp, "%s: %s", file_name(d->path), msg);
	return r < 0 ? -ENOMEM : 1;
}

static const char *bytes_text(uint64_t bytes, char *buf, size_t len)
{
	if (bytes % 1024)
		snprintf(buf, len, "%" PRIu64 " bytes", bytes);
	else
		ds_size_format(bytes / 1024, buf, len);
	return buf;
}

static bool volume_owned(const struct rc_observed *o, const char *pool,
			 const char *name)
{
	return o && o->mark.present &&
	       rc_volume_listed(o->mark.volumes, pool, name);
}

/* The running guest's disk that uses pool/name, or NULL. */
static const struct ds_node *live_disk(const struct rc_observed *o,
				       const char *pool, const char *name)
{
	const struct ds_node *disks =
	    o && o->active ? ds_node_path(o->live, "devices.disk") : NULL;

	for (size_t i = 0; disks && i < disks->n_kids; i++) {
		const struct ds_node *p =
		    ds_node_path(disks->kids[i], "source.pool");
		const struct ds_node *v =
		    ds_node_path(disks->kids[i], "source.volume");
		if (p && v && p->str && v->str && !strcmp(p->str, pool) &&
		    !strcmp(v->str, name))
			return disks->kids[i];
	}
	return NULL;
}

/* The volume's XML: its volume: map as the table renders it, with its
 * name, its format (the disk's, when the map gives none) and the path of
 * a base named as a pool's volume. */
static char *volume_xml(const struct ds_volume *v, const char *base_path)
{
	struct ds_field f = ds_schema_volume;
	_cleanup_free_ char *text = NULL;
	xmlDocPtr doc;
	xmlNodePtr root, n, target = NULL, bs = NULL;
	char *out = NULL;

	f.key = "volume";
	f.xml = "volume";
	if (!(text = ds_render_item(&f, v->spec)) ||
	    !(doc = xmlReadMemory(text, strlen(text), "volume.xml", NULL,
				  XML_PARSE_NONET | XML_PARSE_NOBLANKS)))
		return NULL;
	root = xmlDocGetRootElement(doc);
	for (n = root->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!xmlStrcmp(n->name, BAD_CAST "target"))
			target = n;
		if (!xmlStrcmp(n->name, BAD_CAST "backingStore"))
			bs = n;
	}
	n = xmlNewDocNode(doc, NULL, BAD_CAST "name", BAD_CAST v->name);
	if (!n)
		goto out;
	if (root->children)
		xmlAddPrevSibling(root->children, n);
	else
		xmlAddChild(root, n);
	if (!target &&
	    !(target = xmlNewChild(root, NULL, BAD_CAST "target", NULL)))
		goto out;
	for (n = target->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    !xmlStrcmp(n->name, BAD_CAST "format"))
			break;
	if (!n && (!(n = xmlNewChild(target, NULL, BAD_CAST "format", NULL)) ||
		   !xmlSetProp(n, BAD_CAST "type", BAD_CAST v->format)))
		goto out;
	if (v->how == DS_VOL_OVERLAY && base_path) {
		if (!bs && !(bs = xmlNewChild(root, NULL,
					      BAD_CAST "backingStore", NULL)))
			goto out;
		for (n = bs->children; n; n = n->next)
			if (n->type == XML_ELEMENT_NODE &&
			    !xmlStrcmp(n->name, BAD_CAST "path"))
				break;
		if (!n && !xmlNewTextChild(bs, NULL, BAD_CAST "path",
					   BAD_CAST base_path))
			goto out;
	}
	out = doc_text(doc);
out:
	xmlFreeDoc(doc);
	return out;
}

static int cmp_words(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names as "pool/name", for the mark's list. */
struct names {
	char **v;
	size_t n, cap;
};

static int names_add(struct names *w, const char *pool, const char *name)
{
	char *item;

	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 8;
		char **g = reallocarray(w->v, cap, sizeof(*g));
		if (!g)
			return -ENOMEM;
		w->v = g;
		w->cap = cap;
	}
	if (asprintf(&item, "%s/%s", pool, name) < 0)
		return -ENOMEM;
	w->v[w->n++] = item;
	return 0;
}

struct kept {
	struct names *w;
	const struct rc_storage *st;
};

/* A volume the mark listed stays listed while it exists (or while that
 * cannot be known: not looked at, its pool not active). */
static int names_keep(const char *pool, const char *name, void *ctx)
{
	struct kept *k = ctx;
	const struct rc_vol_obs *v = rc_storage_find(k->st, pool, name);

	if (v && !v->exists && v->pool_state == VIR_STORAGE_POOL_RUNNING)
		return 0;
	return names_add(k->w, pool, name);
}

/* The mark's volumes: those it listed that still exist (or were not
 * looked at), and the file's; sorted, so that the mark is stable. */
static int mark_volumes(const struct ds_domain *d, const struct rc_observed *o,
			const struct rc_storage *st, char **ret)
{
	struct names w = {0};
	struct kept k = {&w, st};
	size_t len = 0;
	FILE *f;
	int r = 0;

	*ret = NULL;
	for (size_t i = 0; i < d->n_volumes && r == 0; i++)
		r = names_add(&w, d->volumes[i].pool, d->volumes[i].name);
	if (r == 0 && d->seed)
		r = names_add(&w, d->seed->pool, d->seed->volume);
	if (r == 0 && o && o->mark.present)
		r = rc_volumes_each(o->mark.volumes, names_keep, &k);
	if (r == 0 && w.n) {
		qsort(w.v, w.n, sizeof(*w.v), cmp_words);
		if (!(f = open_memstream(ret, &len)))
			r = -ENOMEM;
		for (size_t i = 0; f && i < w.n; i++)
			if (!i || strcmp(w.v[i], w.v[i - 1]))
				fprintf(f, "%s%s", ftell(f) ? " " : "", w.v[i]);
		if (f && fclose(f) != 0)
			r = -ENOMEM;
	}
	for (size_t i = 0; i < w.n; i++)
		free(w.v[i]);
	free(w.v);
	return r;
}

/* Checks a pool a volume of the file goes into. Returns 1 when refused. */
static int check_pool(const struct ds_domain *d, const struct rc_vol_obs *vo,
		      const char *pool, const struct ds_node *at,
		      struct rc_domain_plan *dp)
{
	if (vo && vo->pool_state != VIR_STORAGE_POOL_RUNNING && vo->declared)
		return 0; /* its file makes it or starts it first */
	/* the agent plans a file alone: the pool's own file may be on its
	 * way, so this is tried again */
	dp->retry = true;
	if (!vo || vo->pool_state < 0)
		return refuse_at(dp, d, at,
				 "the storage pool '%s' does not exist", pool);
	if (vo->pool_state != VIR_STORAGE_POOL_RUNNING)
		return refuse_at(dp, d, at,
				 "the storage pool '%s' is not active", pool);
	dp->retry = false;
	return 0;
}

/* Names the pool and volume of the storage action just added. */
static int name_volume(struct rc_domain_plan *dp, const char *pool,
		       const char *name)
{
	struct rc_action *x = &dp->actions[dp->n_actions - 1];

	return (x->key = strdup(pool)) && (x->device = strdup(name)) ? 0
								     : -ENOMEM;
}

static int plan_volume(const struct ds_domain *d, const struct rc_observed *o,
		       const struct rc_storage *st, const struct ds_volume *v,
		       struct rc_domain_plan *dp)
{
	const struct rc_vol_obs *vo = rc_storage_find(st, v->pool, v->name);
	const struct ds_node *src = ds_node_get(v->disk, "source");
	const struct ds_node *cap = ds_node_get(v->spec, "capacity");
	const struct ds_node *base_at = ds_node_get(
	    v->spec, v->how == DS_VOL_CLONE ? "clone" : "backingStore");
	const struct rc_vol_obs *bo = NULL;
	_cleanup_free_ char *base = NULL; /* path, or pool/volume */
	char a[48], b[48];
	uint64_t need;
	char *xml;
	int r = check_pool(d, vo, v->pool, ds_node_get(src, "pool"), dp);

	if (r)
		return r;
	if (vo->exists) {
		if (!volume_owned(o, v->pool, v->name) && !d->adopt)
			return refuse_at(
			    dp, d, ds_node_get(src, "volume"),
			    "a volume '%s' exists in pool '%s' that "
			    "virt-reconcile did not make; it is left as it is "
			    "(set 'adopt: true' to take it for this disk)",
			    v->name, v->pool);
		if (!v->capacity || !vo->capacity)
			return 0;
		/* qemu-img rounds a size up to whole 512-byte sectors */
		if ((v->capacity + 511) / 512 * 512 < vo->capacity)
			return refuse_at(
			    dp, d, cap,
			    "volume.capacity %s is smaller than the volume "
			    "%s/%s, %s: a volume never shrinks",
			    bytes_text(v->capacity, a, sizeof(a)), v->pool,
			    v->name, bytes_text(vo->capacity, b, sizeof(b)));
		if (v->capacity <= vo->capacity)
			return 0;
		const struct ds_node *ld = live_disk(o, v->pool, v->name);
		const struct ds_node *t =
		    ld ? ds_node_path(ld, "target.dev") : NULL;
		if (add_action(dp, RC_ACT_RESIZE_VOLUME, t != NULL, v->capacity,
			       NULL, "%s/%s capacity %s → %s", v->pool, v->name,
			       bytes_text(vo->capacity, a, sizeof(a)),
			       bytes_text(v->capacity, b, sizeof(b))) < 0 ||
		    name_volume(dp, v->pool, v->name) < 0 ||
		    (t &&
		     !(dp->actions[dp->n_actions - 1].target = strdup(t->str))))
			return -ENOMEM;
		return 0;
	}
	if (v->how != DS_VOL_EMPTY) {
		if (asprintf(&base, "%s%s%s",
			     v->base_path ? v->base_path : v->base_pool,
			     v->base_path ? "" : "/",
			     v->base_path ? "" : v->base_volume) < 0) {
			base = NULL;
			return -ENOMEM;
		}
		bo = v->base_path
			 ? rc_storage_find(st, NULL, v->base_path)
			 : rc_storage_find(st, v->base_pool, v->base_volume);
		if (!bo || !bo->exists)
			return refuse_at(dp, d, base_at,
					 "the base image %s does not exist",
					 base);
		if (v->how == DS_VOL_CLONE && v->base_path && !bo->in_pool)
			return refuse_at(
			    dp, d, base_at,
			    "the base image %s is in no storage pool: libvirt "
			    "copies a pool's volume only (make a pool of its "
			    "directory, or give it as pool and volume)",
			    v->base_path);
		if (v->how == DS_VOL_OVERLAY && bo->capacity &&
		    v->capacity < bo->capacity)
			return refuse_at(
			    dp, d, cap,
			    "volume.capacity %s is smaller than its base "
			    "image's %s",
			    bytes_text(v->capacity, a, sizeof(a)),
			    bytes_text(bo->capacity, b, sizeof(b)));
	}
	/* what the new volume takes of the pool at once: a raw volume all
	 * its allocation, a copy its base's, an overlay or qcow2 little */
	need = ds_node_get(v->spec, "allocation")
		   ? ds_node_get(v->spec, "allocation")->v.u * 1024
	       : v->how == DS_VOL_CLONE
		   ? (bo->allocation ? bo->allocation : bo->capacity)
	       : !strcmp(v->format, "raw") ? v->capacity
					   : 0;
	if (need > vo->pool_available &&
	    vo->pool_state == VIR_STORAGE_POOL_RUNNING)
		return refuse_at(
		    dp, d, ds_node_get(src, "pool"),
		    "the storage pool '%s' has %s free; the volume "
		    "%s needs %s",
		    v->pool, bytes_text(vo->pool_available, a, sizeof(a)),
		    v->name, bytes_text(need, b, sizeof(b)));
	/* a clone comes at its base's size: one larger is grown at once */
	if (!(xml = volume_xml(v, bo ? bo->path : NULL)) ||
	    add_action(dp, RC_ACT_CREATE_VOLUME, false,
		       v->how == DS_VOL_CLONE ? v->capacity : 0, xml,
		       "%s/%s: %s", v->pool, v->name,
		       v->how == DS_VOL_EMPTY ? "new, empty"
		       : v->how == DS_VOL_OVERLAY
			   ? "new, over its base image"
			   : "new, a copy of its base") < 0)
		return -ENOMEM;
	/* a clone's base: libvirt copies it */
	if (v->how == DS_VOL_CLONE)
		dp->actions[dp->n_actions - 1].from = take_ptr(base);
	return name_volume(dp, v->pool, v->name);
}

/* The eject and insert that show a running guest the seed's new
 * content. */
static int plan_seed_swap(const struct ds_seed *s, const struct ds_node *ld,
			  struct rc_domain_plan *dp)
{
	const struct ds_node *bus = ds_node_path(ld, "target.bus");
	const struct ds_node *dev = ds_node_path(ld, "target.dev");
	char *eject = NULL, *insert = NULL;

	if (!dev || !bus)
		return 0;
	if (asprintf(&eject,
		     "<disk type='volume' device='cdrom'>"
		     "<driver name='qemu' type='raw'/>"
		     "<target dev='%s' bus='%s'/><readonly/></disk>",
		     dev->str, bus->str) < 0 ||
	    asprintf(&insert,
		     "<disk type='volume' device='cdrom'>"
		     "<driver name='qemu' type='raw'/>"
		     "<source pool='%s' volume='%s'/>"
		     "<target dev='%s' bus='%s'/><readonly/></disk>",
		     s->pool, s->volume, dev->str, bus->str) < 0) {
		free(eject);
		return -ENOMEM;
	}
	/* the seed's mark says it was written: nothing to remember in the
	 * live mark (no device key), and never sent twice */
	if (add_action(dp, RC_ACT_UPDATE_DEVICE, true, 0, eject,
		       "devices.disk %s: eject the old seed (live)",
		       dev->str) < 0)
		return -ENOMEM;
	return add_action(dp, RC_ACT_UPDATE_DEVICE, true, 0, insert,
			  "devices.disk %s: insert the new seed (live); "
			  "cloud-init reads it at the next boot, and runs its "
			  "first-boot steps again only if instance-id changes",
			  dev->str);
}

static int add_write_seed(const struct ds_domain *d,
			  const struct storage_plan *sp,
			  struct rc_domain_plan *dp)
{
	struct rc_action *x;

	if (add_action(dp, RC_ACT_WRITE_SEED, false, 0, NULL, "%s/%s: %s",
		       d->seed->pool, d->seed->volume,
		       sp->seed_had ? "its content changed" : "new") < 0)
		return -ENOMEM;
	x = &dp->actions[dp->n_actions - 1];
	x->seed = d->seed;
	return name_volume(dp, d->seed->pool, d->seed->volume);
}

static void drop_actions(struct rc_domain_plan *dp)
{
	for (size_t j = 0; j < dp->n_actions; j++) {
		free(dp->actions[j].xml);
		free(dp->actions[j].why);
		free(dp->actions[j].device);
		free(dp->actions[j].key);
		free(dp->actions[j].from);
		free(dp->actions[j].target);
	}
	dp->n_actions = 0;
}

/* The volumes and the seed: their checks, and the calls that come before
 * the domain's own (make, grow; the seed of a defined domain). Sets the
 * mark's storage fields in dp. Returns 1 when refused. */
static int plan_storage(const struct ds_domain *d, const struct rc_observed *o,
			const struct rc_storage *st, struct rc_domain_plan *dp,
			struct storage_plan *sp)
{
	const struct rc_vol_obs *so;
	int r;

	*sp = (struct storage_plan){0};
	if (!d->n_volumes && !d->seed) {
		/* a file without storage keeps what the mark recorded */
		if (o && o->mark.present &&
		    ((o->mark.volumes &&
		      !(dp->mark_volumes = strdup(o->mark.volumes))) ||
		     (o->mark.seed && !(dp->mark_seed = strdup(o->mark.seed)))))
			return -ENOMEM;
		return 0;
	}
	if (!st)
		return refuse_at(dp, d, NULL,
				 "its volumes and seed need the storage "
				 "pools read");
	for (size_t i = 0; i < d->n_volumes; i++)
		if ((r = plan_volume(d, o, st, &d->volumes[i], dp)) != 0) {
			/* refused: not one call, so nothing is half made */
			if (r > 0)
				drop_actions(dp);
			return r;
		}
	if (d->seed) {
		so = rc_storage_find(st, d->seed->pool, d->seed->volume);
		if ((r = check_pool(d, so, d->seed->pool,
				    ds_node_get(d->seed->at, "pool")
					? ds_node_get(d->seed->at, "pool")
					: d->seed->at,
				    dp)) != 0)
			return r;
		if (!d->seed->loaded)
			return refuse_at(dp, d, d->seed->at,
					 "the cloud-init files were not read");
		if (so->exists &&
		    !volume_owned(o, d->seed->pool, d->seed->volume) &&
		    !d->adopt)
			return refuse_at(
			    dp, d, d->seed->at,
			    "a volume '%s' exists in pool '%s' that "
			    "virt-reconcile did not make; it is left as it is "
			    "(remove it, or set 'adopt: true' to take it as "
			    "the seed)",
			    d->seed->volume, d->seed->pool);
		sp->seed_had = so->exists;
		sp->seed_write =
		    !so->exists || !o || !str_eq(o->mark.seed, d->seed->digest);
	}
	if (mark_volumes(d, o, st, &dp->mark_volumes) < 0)
		return -ENOMEM;
	if (!d->seed)
		return o && o->mark.seed &&
			       !(dp->mark_seed = strdup(o->mark.seed))
			   ? -ENOMEM
			   : 0;
	/* a defined domain's seed is written first, and its mark then says
	 * so; a new one's after its define (its UUID goes in) */
	if (o && sp->seed_write && add_write_seed(d, sp, dp) < 0)
		return -ENOMEM;
	if ((o || !sp->seed_write) &&
	    !(dp->mark_seed = strdup(d->seed->digest)))
		return -ENOMEM;
	return 0;
}

/* A kind: pool file: the pool defined (with the agent's name-based UUID,
 * unless the file gives one), built, started and autostarted as it says.
 * A pool of that name with another UUID is not the agent's: left alone
 * unless the file adopts it. The agent never stops, undefines or deletes
 * a pool. */
static int plan_pool(const struct ds_domain *d, const struct rc_storage *st,
		     struct rc_domain_plan *dp)
{
	const struct rc_pool_obs *po = rc_storage_pool(st, d->name);
	const struct ds_node *type;
	char uuid[37];
	struct ds_changes c = {0};
	_cleanup_free_ char *why = NULL;
	xmlDocPtr doc = NULL;
	xmlNodePtr u;
	char *xml;
	bool fresh = !po || !po->exists;
	bool restart = false;
	int r = 0;

	if (d->uuid)
		snprintf(uuid, sizeof(uuid), "%s", d->uuid);
	else
		ds_pool_uuid(d->name, uuid);
	if (!st)
		return refuse_at(dp, d, NULL, "the pools were not read");
	if (!fresh && strcasecmp(po->uuid, uuid) && !d->adopt) {
		dp->phase = RC_PHASE_CONFLICT;
		return set_reason(dp,
				  "a pool '%s' exists that virt-reconcile did "
				  "not define; it is left as it is (set "
				  "'adopt: true' to manage it)",
				  d->name);
	}
	if (!fresh && po->tree &&
	    (r = ds_tree_compare_as(&ds_schema_pool, d->root, po->tree, &c)) <
		0)
		return r;
	if (fresh || c.n || !po->persistent) {
		/* an adopted pool keeps its UUID */
		if (!fresh)
			snprintf(uuid, sizeof(uuid), "%s", po->uuid);
		if (ds_render_pool(d, &doc) < 0)
			return -ENOMEM;
		u = xmlNewDocNode(doc, NULL, BAD_CAST "uuid", BAD_CAST uuid);
		if (!u || !xmlAddNextSibling(
			      xmlDocGetRootElement(doc)->children, u)) {
			xmlFreeNode(u);
			xmlFreeDoc(doc);
			ds_changes_finish(&c);
			return -ENOMEM;
		}
		xml = doc_text(doc);
		xmlFreeDoc(doc);
		why = c.n ? describe(&c, NULL) : NULL;
		r = add_action(dp, RC_ACT_DEFINE_POOL, false, 0, xml, "%s",
			       fresh ? "new pool"
			       : why ? why
				     : "make it persistent");
	}
	ds_changes_finish(&c);
	/* a pool on devices (fs, logical, disk) is built never over the data
	 * there; the others' build makes a directory */
	type = ds_node_get(d->root, "type");
	if (r == 0 && fresh && d->build)
		r = add_action(dp, RC_ACT_BUILD_POOL, false,
			       type && (!strcmp(type->str, "fs") ||
					!strcmp(type->str, "logical") ||
					!strcmp(type->str, "disk"))
				   ? VIR_STORAGE_POOL_BUILD_NO_OVERWRITE
				   : 0,
			       NULL, "new pool: build it%s",
			       type && strcmp(type->str, "dir")
				   ? " (never over data)"
				   : "");
	if (r == 0 && d->state == DS_STATE_RUNNING && (fresh || !po->active))
		r = add_action(dp, RC_ACT_START_POOL, false, 0, NULL,
			       "state → active");
	if (r == 0 && d->autostart != (!fresh && po->autostart))
		r = add_action(dp, RC_ACT_SET_POOL_AUTOSTART, false,
			       d->autostart, NULL, "autostart %s → %s",
			       fresh || !po->autostart ? "false" : "true",
			       d->autostart ? "true" : "false");
	/* the file's definition, written now or on an earlier pass, and not
	 * what the running pool has: it waits for the pool's next start */
	if (r == 0 && !fresh && po->active && po->live) {
		struct ds_changes lc = {0};
		r = ds_tree_compare_as(&ds_schema_pool, d->root, po->live, &lc);
		_cleanup_free_ char *lw =
		    r == 0 && lc.n ? describe(&lc, NULL) : NULL;
		restart = r == 0 && lc.n;
		if (restart)
			r = set_reason(dp,
				       "restart required: %s (the pool's "
				       "definition takes effect when it is "
				       "started again; virt-reconcile does not "
				       "stop pools)",
				       lw ? lw : "its definition changed");
		ds_changes_finish(&lc);
	}
	if (r == 0 && d->state == DS_STATE_SHUTOFF && !fresh && po->active &&
	    !dp->reason)
		r = set_reason(dp, "the pool is active; virt-reconcile does "
				   "not stop pools");
	for (size_t i = 0; r == 0 && i < dp->n_actions; i++)
		if (!(dp->actions[i].key = strdup(d->name)))
			r = -ENOMEM;
	if (r < 0)
		return r;
	dp->phase = restart         ? RC_PHASE_RESTART_REQUIRED
		    : dp->n_actions ? RC_PHASE_CONVERGING
				    : RC_PHASE_IN_SYNC;
	return 0;
}

/* A new domain's seed, written once it is defined (its UUID goes in),
 * and then its mark, which says so. */
static int add_seed_then_mark(const struct ds_domain *d, const char *dir,
			      const struct storage_plan *sp,
			      xmlNodePtr rendered, struct rc_domain_plan *dp)
{
	struct rc_mark m;
	char *xml;
	int r;

	if (!d->seed || !sp->seed_write)
		return 0;
	if (add_write_seed(d, sp, dp) < 0 ||
	    !(dp->mark_seed = strdup(d->seed->digest)))
		return -ENOMEM;
	if ((r = config_mark(d, dir, rendered, dp, &m)) < 0)
		return r;
	xml = rc_mark_format(&m);
	rc_mark_finish(&m);
	if (!xml)
		return -ENOMEM;
	return add_action(dp, RC_ACT_SET_MARK, false, 0, xml,
			  "cloud-init seed written");
}

static int plan_file(const struct ds_entry *e,
		     const struct rc_observed *const *idx, size_t n_obs,
		     const struct rc_limits *l, const char *dir,
		     const struct rc_storage *st, struct rc_domain_plan *dp)
{
	const struct ds_domain *d = e->dom;
	const struct rc_observed *o;
	struct storage_plan sp;
	const struct ds_node *ld;
	int r;

	if (!(dp->file = strdup(e->diags.shown)))
		return -ENOMEM;
	if (!d) {
		dp->phase = RC_PHASE_ERROR;
		return set_reason(dp, "the file has problems; its domain is "
				      "left as it is");
	}
	if (d->pool) {
		dp->pool = true;
		if (asprintf(&dp->name, "pool %s", d->name) < 0) {
			dp->name = NULL;
			return -ENOMEM;
		}
		return plan_pool(d, st, dp);
	}
	if (!(dp->name = strdup(d->name)))
		return -ENOMEM;
	o = rc_observed_find(idx, n_obs, d->name);
	r = refuse_limits(d, rc_plan_type(d, o, l), o, l, dp);
	if (r != 0)
		return r < 0 ? r : 0;
	if ((o && owner_set(&dp->owner_was, o->mark.present, o->mark.dir,
			    o->mark.file) < 0) ||
	    owner_set(&dp->owner, true, dir, file_name(d->path)) < 0)
		return -ENOMEM;
	if (!o) {
		r = plan_storage(d, NULL, st, dp, &sp);
		if (r != 0)
			return r < 0 ? r : 0;
		return plan_new(d, d->type ? d->type : l->best_type, dir, &sp,
				dp);
	}
	r = refuse_conflict(d, o, dir, dp);
	if (r == 0)
		r = plan_storage(d, o, st, dp, &sp);
	if (r != 0)
		return r < 0 ? r : 0;
	if ((r = plan_existing(d, o, dir, l, dp)) < 0)
		return r;
	/* a running guest sees the rewritten seed as a new medium */
	ld = d->seed && sp.seed_write && sp.seed_had &&
		     d->state == DS_STATE_RUNNING
		 ? live_disk(o, d->seed->pool, d->seed->volume)
		 : NULL;
	if (ld && (r = plan_seed_swap(d->seed, ld, dp)) < 0)
		return r;
	if (dp->n_actions && dp->phase == RC_PHASE_IN_SYNC)
		dp->phase = RC_PHASE_CONVERGING;
	return 0;
}

/* prune --delete-storage: a pruned domain's volume goes after it */
static int add_delete(const char *pool, const char *name, void *ctx)
{
	struct rc_domain_plan *dp = ctx;

	if (add_action(dp, RC_ACT_DELETE_VOLUME, false, 0, NULL,
		       "prune --delete-storage: %s/%s", pool, name) < 0)
		return -ENOMEM;
	return name_volume(dp, pool, name);
}

static int plan_orphan(const struct rc_observed *o,
		       const struct rc_plan_opts *opts,
		       struct rc_domain_plan *dp)
{
	if (!(dp->name = strdup(o->name)) ||
	    owner_set(&dp->owner_was, true, o->mark.dir, o->mark.file) < 0 ||
	    owner_set(&dp->owner, true, o->mark.dir, o->mark.file) < 0)
		return -ENOMEM;
	dp->phase = RC_PHASE_ORPHANED;
	if (!opts->prune)
		return set_reason(dp,
				  "its file %s is gone; the domain is kept "
				  "(--prune undefines it)",
				  o->mark.file ? o->mark.file : "");
	if (!opts->dir_usable)
		return set_reason(dp,
				  "its file %s is gone, but the directory "
				  "is empty or unreadable: nothing is "
				  "pruned",
				  o->mark.file ? o->mark.file : "");
	if (o->active && add_action(dp, RC_ACT_SHUTDOWN, false, 0, NULL,
				    "prune: its file %s is gone",
				    o->mark.file ? o->mark.file : "") < 0)
		return -ENOMEM;
	if (add_action(dp, RC_ACT_UNDEFINE, false, 0, NULL,
		       "prune: its file %s is gone%s",
		       o->mark.file ? o->mark.file : "",
		       o->mark.volumes && !opts->delete_storage
			   ? "; its volumes stay (--delete-storage removes "
			     "them)"
			   : "") < 0)
		return -ENOMEM;
	return opts->delete_storage
		   ? rc_volumes_each(o->mark.volumes, add_delete, dp)
		   : 0;
}

/* The files' domains are planned by a few threads: each plan reads only
 * its file, its observation and the limits, and writes only its own. */
#define PLAN_THREADS 3
#define PLAN_PER_THREAD 32

struct plan_job {
	const struct ds_set *desired;
	const struct rc_observed *const *idx;
	size_t n_obs;
	const struct rc_limits *limits;
	const char *dir;
	struct rc_domain_plan *domains;
	atomic_int r; /* the first failure, or 0 */
	const struct rc_storage *storage;
};

static void plan_one(void *opaque, size_t i, void *unused)
{
	struct plan_job *j = opaque;
	int r;

	(void)unused;
	r = plan_file(&j->desired->entries[i], j->idx, j->n_obs, j->limits,
		      j->dir, j->storage, &j->domains[i]);
	if (r < 0)
		atomic_store(&j->r, r);
}

int rc_plan(const struct ds_set *desired, const struct rc_observed *observed,
	    size_t n_observed, const struct rc_limits *limits,
	    const struct rc_plan_opts *opts, struct rc_plan *ret)
{
	const struct rc_observed **own =
	    opts->index ? NULL : rc_observed_index(observed, n_observed);
	const struct rc_observed *const *idx = opts->index ? opts->index : own;
	const char **names = calloc(desired->n + 1, sizeof(*names));
	const char **files = calloc(desired->n + 1, sizeof(*files));
	struct rc_plan p = {.domains =
				calloc(desired->n + 1, sizeof(*p.domains))};
	struct plan_job j = {desired,   idx,       n_observed, limits,
			     opts->dir, p.domains, 0,          opts->storage};
	size_t n_names = 0, n_files = 0;
	int r = 0;

	if (!idx || !names || !files || !p.domains) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < desired->n; i++) {
		const struct ds_entry *e = &desired->entries[i];
		/* a file that cannot be read still holds its domain: bad
		 * input touches nothing, not even by pruning */
		if (e->dom && !e->dom->pool)
			names[n_names++] = e->dom->name;
		else if (e->dom)
			continue; /* a pool's file holds no domain */
		else
			files[n_files++] = file_name(e->diags.path);
		if (!e->dom && e->name) /* one of two files naming it */
			names[n_names++] = e->name;
	}
	p.n = opts->orphans_only ? 0 : desired->n;
	rc_workers_run(&(struct rc_workers){.n = p.n,
					    .threads = PLAN_THREADS,
					    .per_thread = PLAN_PER_THREAD,
					    .cpu_bound = true,
					    .item = plan_one,
					    .ctx = &j});
	r = atomic_load(&j.r);
	qsort(names, n_names, sizeof(*names), cmp_str);
	qsort(files, n_files, sizeof(*files), cmp_str);
	for (size_t i = 0; i < n_observed && r == 0; i++) {
		const struct rc_observed *o = idx[i];
		struct rc_domain_plan *dp;
		/* a domain managed from another directory is not ours to
		 * orphan or prune */
		if (!o->mark.present || in_sorted(names, n_names, o->name) ||
		    in_sorted(files, n_files, o->mark.file) ||
		    (opts->dir && !str_eq(o->mark.dir, opts->dir)))
			continue;
		dp = grow(&p);
		r = dp ? plan_orphan(o, opts, dp) : -ENOMEM;
	}
out:
	free(own);
	free(names);
	free(files);
	if (r < 0) {
		rc_plan_finish(&p);
		return r;
	}
	*ret = p;
	return 0;
}

void rc_plan_finish(struct rc_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct rc_domain_plan *dp = &p->domains[i];
		drop_actions(dp);
		free(dp->actions);
		free(dp->name);
		free(dp->file);
		free(dp->reason);
		rc_mark_finish(&dp->live_mark);
		free(dp->live_mark_was);
		free(dp->owner_was.dir);
		free(dp->owner_was.file);
		free(dp->owner.dir);
		free(dp->owner.file);
		free(dp->mark_volumes);
		free(dp->mark_seed);
	}
	free(p->domains);
	*p = (struct rc_plan){0};
}

size_t rc_plan_count_actions(const struct rc_plan *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += p->domains[i].n_actions;
	return n;
}

static void print_action(const struct rc_action *a, FILE *out)
{
	char size[DS_SIZE_BUFLEN];

	fprintf(out, "  + %s", rc_act_name(a->kind));
	switch (a->kind) {
	case RC_ACT_SET_VCPUS:
		fprintf(out, " %s %" PRIu64, a->live ? "live" : "config",
			a->value);
		break;
	case RC_ACT_SET_MEMORY:
		fprintf(out, " %s %s", a->live ? "live" : "config",
			ds_size_format(a->value, size, sizeof(size)));
		break;
	case RC_ACT_SET_MARK:
	case RC_ACT_SET_METADATA:
		fprintf(out, " %s", a->live ? "live" : "config");
		break;
	case RC_ACT_SET_AUTOSTART:
	case RC_ACT_SET_POOL_AUTOSTART:
		fprintf(out, " %s", a->value ? "on" : "off");
		break;
	case RC_ACT_RESIZE_VOLUME:
		if (a->live)
			fprintf(out, " live %s", a->target);
		break;
	default:
		break;
	}
	fprintf(out, ": %s\n", a->why);
}

void rc_plan_print_count(const struct rc_plan *p, FILE *out)
{
	size_t pools = 0;

	for (size_t i = 0; i < p->n; i++)
		pools += p->domains[i].pool;
	if (pools)
		fprintf(out, "%zu pool%s, ", pools, pools == 1 ? "" : "s");
	fprintf(out, "%zu domain%s:", p->n - pools,
		p->n - pools == 1 ? "" : "s");
}

void rc_plan_print(const struct rc_plan *p, FILE *out)
{
	size_t count[RC_PHASE_ORPHANED + 1] = {0};

	/* pools first, as apply makes them first */
	for (size_t k = 0; k < 2 * p->n; k++) {
		const struct rc_domain_plan *dp = &p->domains[k % p->n];
		if (dp->pool != (k < p->n))
			continue;
		count[dp->phase]++;
		fprintf(out, "%s: %s", dp->name ? dp->name : dp->file,
			rc_phase_name(dp->phase));
		if (dp->name && dp->file)
			fprintf(out, " (%s)", dp->file);
		fputc('\n', out);
		for (size_t j = 0; j < dp->n_actions; j++)
			print_action(&dp->actions[j], out);
		if (dp->reason)
			fprintf(out, "  ! %s\n", dp->reason);
	}
	rc_plan_print_count(p, out);
	for (size_t ph = 0; ph <= RC_PHASE_ORPHANED; ph++)
		if (count[ph])
			fprintf(out, " %zu %s", count[ph], rc_phase_name(ph));
	fprintf(out, "; %zu change%s pending\n", rc_plan_count_actions(p),
		rc_plan_count_actions(p) == 1 ? "" : "s");
}

static json_object *action_json(const struct rc_action *a)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "action",
			       json_object_new_string(rc_act_name(a->kind)));
	if (*rc_act_where(a))
		json_object_object_add(o, "live",
				       json_object_new_boolean(a->live));
	if (a->kind == RC_ACT_SET_METADATA) {
		static const char *const fields[] = {"title", "description",
						     "metadata"};
		json_object_object_add(
		    o, "field", json_object_new_string(fields[a->value]));
		if (a->key)
			json_object_object_add(o, "namespace",
					       json_object_new_string(a->key));
		json_object_object_add(o, "text",
				       json_object_new_string(a->xml));
	}
	if (a->kind == RC_ACT_SET_VCPUS || a->kind == RC_ACT_SET_AUTOSTART)
		json_object_object_add(o, "value",
				       json_object_new_int64(a->value));
	if (a->kind == RC_ACT_SET_MEMORY)
		json_object_object_add(o, "kib",
				       json_object_new_int64(a->value));
	if (a->kind == RC_ACT_DETACH_DEVICE)
		json_object_object_add(o, "alias",
				       json_object_new_string(a->xml));
	if (a->kind == RC_ACT_UPDATE_DEVICE || a->kind == RC_ACT_ATTACH_DEVICE)
		json_object_object_add(o, "device",
				       json_object_new_string(a->xml));
	if (a->kind >= RC_ACT_DEFINE_POOL) {
		json_object_object_add(o, "pool",
				       json_object_new_string(a->key));
		if (a->xml)
			json_object_object_add(o, "xml",
					       json_object_new_string(a->xml));
		if (a->kind == RC_ACT_SET_POOL_AUTOSTART)
			json_object_object_add(o, "value",
					       json_object_new_int64(a->value));
	} else if (a->kind >= RC_ACT_CREATE_VOLUME) {
		json_object_object_add(o, "pool",
				       json_object_new_string(a->key));
		json_object_object_add(o, "volume",
				       json_object_new_string(a->device));
	}
	if (a->kind == RC_ACT_CREATE_VOLUME) {
		json_object_object_add(o, "xml",
				       json_object_new_string(a->xml));
		if (a->from)
			json_object_object_add(o, "from",
					       json_object_new_string(a->from));
	}
	if (a->kind == RC_ACT_RESIZE_VOLUME) {
		json_object_object_add(o, "bytes",
				       json_object_new_int64(a->value));
		if (a->target)
			json_object_object_add(
			    o, "target", json_object_new_string(a->target));
	}
	if (a->kind == RC_ACT_WRITE_SEED && a->seed)
		json_object_object_add(o, "digest",
				       json_object_new_string(a->seed->digest));
	json_object_object_add(o, "why", json_object_new_string(a->why));
	return o;
}

void rc_plan_print_json(const struct rc_plan *p, FILE *out)
{
	json_object *root = json_object_new_object();
	json_object *doms = json_object_new_array();

	for (size_t i = 0; i < p->n; i++) {
		const struct rc_domain_plan *dp = &p->domains[i];
		json_object *d = json_object_new_object();
		json_object *acts = json_object_new_array();
		json_object_object_add(
		    d, "name",
		    dp->name ? json_object_new_string(dp->name) : NULL);
		json_object_object_add(
		    d, "kind",
		    json_object_new_string(dp->pool ? "pool" : "domain"));
		json_object_object_add(
		    d, "file",
		    dp->file ? json_object_new_string(dp->file) : NULL);
		json_object_object_add(
		    d, "phase",
		    json_object_new_string(rc_phase_name(dp->phase)));
		json_object_object_add(
		    d, "reason",
		    dp->reason ? json_object_new_string(dp->reason) : NULL);
		for (size_t j = 0; j < dp->n_actions; j++)
			json_object_array_add(acts,
					      action_json(&dp->actions[j]));
		json_object_object_add(d, "actions", acts);
		json_object_array_add(doms, d);
	}
	json_object_object_add(root, "domains", doms);
	json_object_object_add(root, "changes",
			       json_object_new_int64(rc_plan_count_actions(p)));
	fputs(
	    json_object_to_json_string_ext(
		root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE),
	    out);
	fputc('\n', out);
	json_object_put(root);
}
