/* The corpus check, without libvirt: for a desired-state file made from one
 * of libvirt's test inputs and libvirt's output for that input, whether
 *
 *   (a) the file names no `xml` key at its top level (raw fragments are a
 *       way out of the format, not a use of it),
 *   (b) it validates as `virt-reconcile validate` judges it (every
 *       problem printed),
 *   (c) its rendered XML is valid against libvirt's domain.rng, and
 *   (d) its plan against libvirt's output, taken as the persistent,
 *       inactive definition libvirt holds, is in sync: no action.
 *
 * For (d), libvirt's output gets the mark a first apply would have left:
 * an unmarked domain is a conflict for a file without 'adopt: true', and
 * with it one set-mark (plan.c, refuse_conflict and add_set_mark), so the
 * domain is observed as it is after that set-mark: <vr:managed> with this
 * file's directory and name in <metadata>.
 *
 *   corpus-check NAME FILE OUTPUT [NAME FILE OUTPUT]...
 *
 * prints one line per triple, "PASS NAME" or "FAIL NAME: REASON" (the first
 * reason), and on stderr, for a failed one, "== NAME" and what tells why:
 * the file's problems, or the plan. Each triple's stderr is written at once
 * (one write), so that runs side by side appending to one file do not
 * interleave. Exit 0 when every triple passed, 1 when one failed, 2 on
 * wrong usage. libvirt's schema is loaded once for all the triples.
 *
 *   corpus-check --inputs DIR --left-out FILE NAME FILE OUTPUT...
 *
 * also measures, for every triple that passed, what the file leaves out:
 * the places (element paths, "domain/devices/disk/source@dev") of the
 * input DIR/NAME.xml that libvirt keeps in OUTPUT but the file's rendered
 * XML lacks, appended to FILE as one line "NAME PATH..." a pair (one
 * write). The plan compares only what the file states, so a file that
 * leaves a field out is in sync all the same: this is what says so. It is
 * not judged: a pair passes or fails on (a) to (d). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <libvirt/libvirt.h>
#include <libxml/hash.h>
#include <libxml/parser.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "cleanup.h"
#include "plan.h"
#include "render.h"
#include "xmlpath.h"

/* --inputs and --left-out, or NULL and -1 */
static const char *inputs_dir;
static int left_out_fd = -1;

/* A reason longer than this is cut (the line must stay one write). */
#define REASON_MAX 400

struct result {
	char reason[REASON_MAX + 1]; /* empty: passed */
	FILE *details;               /* stderr's text for this triple */
};

__attribute__((format(printf, 2, 3))) static void fail(struct result *res,
						       const char *fmt, ...)
{
	va_list ap;

	if (*res->reason)
		return;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	/* one line: the first line of a message that has more */
	res->reason[strcspn(res->reason, "\n")] = 0;
}

/* (a): whether the first document's top-level mapping has a key "xml".
 * Returns 1, 0, or -1 when the file is no YAML (for (b) to say why). */
static int top_level_xml(const char *path)
{
	FILE *f = fopen(path, "rb");
	yaml_parser_t p;
	yaml_document_t doc;
	int found = -1;

	if (!f)
		return -1;
	if (!yaml_parser_initialize(&p)) {
		fclose(f);
		return -1;
	}
	yaml_parser_set_input_file(&p, f);
	if (yaml_parser_load(&p, &doc)) {
		yaml_node_t *root = yaml_document_get_root_node(&doc);
		found = 0;
		if (root && root->type == YAML_MAPPING_NODE)
			for (yaml_node_pair_t *pair =
				 root->data.mapping.pairs.start;
			     pair < root->data.mapping.pairs.top; pair++) {
				yaml_node_t *k =
				    yaml_document_get_node(&doc, pair->key);
				if (k && k->type == YAML_SCALAR_NODE &&
				    k->data.scalar.length == 3 &&
				    !memcmp(k->data.scalar.value, "xml", 3))
					found = 1;
			}
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&p);
	fclose(f);
	return found;
}

/* parent's first child element named name, or NULL */
static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
	return parent ? ds_xml_child(parent, name, strlen(name)) : NULL;
}

/* Puts the mark into the domain's <metadata> (made where libvirt puts it,
 * after the elements that come before it, when there is none), as
 * virDomainSetMetadata leaves it: <vr:managed xmlns:vr="..."/>. */
static int add_mark(xmlNodePtr domain, const struct rc_mark *m)
{
	static const char *const before[] = {"name",  "uuid",        "genid",
					     "title", "description", NULL};
	xmlNodePtr meta = child(domain, "metadata"), mark, after = NULL;
	xmlNsPtr ns;

	if (!meta) {
		for (xmlNodePtr c = domain->children; c; c = c->next)
			for (size_t i = 0;
			     c->type == XML_ELEMENT_NODE && before[i]; i++)
				if (!strcmp((const char *)c->name, before[i]))
					after = c;
		if (!(meta = xmlNewDocNode(domain->doc, NULL,
					   BAD_CAST "metadata", NULL)))
			return -ENOMEM;
		if (after)
			xmlAddNextSibling(after, meta);
		else if (domain->children)
			xmlAddPrevSibling(domain->children, meta);
		else
			xmlAddChild(domain, meta);
	}
	if (!(mark = rc_mark_node(m, domain->doc)))
		return -ENOMEM;
	xmlAddChild(meta, mark);
	if (!(ns = xmlNewNs(mark, BAD_CAST RC_MARK_URI,
			    BAD_CAST RC_MARK_PREFIX)))
		return -ENOMEM;
	xmlSetNs(mark, ns);
	return 0;
}

/* libvirt's output as the persistent, inactive domain it holds, with the
 * mark of dir and file. */
static int observe(const char *out, const char *dir, const char *file,
		   struct rc_observed *o, struct result *res)
{
	xmlDocPtr doc = xmlReadFile(out, NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR |
					XML_PARSE_NOWARNING);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlChar *name = NULL, *uuid = NULL;
	struct rc_mark m = {
	    .present = true, .dir = (char *)dir, .file = (char *)file};
	char *text = NULL;
	int r = -1;

	*o = (struct rc_observed){.id = -1};
	if (!root || strcmp((const char *)root->name, "domain") ||
	    !child(root, "name")) {
		fail(res, "%s: no <domain> with a <name>", out);
		goto out;
	}
	name = xmlNodeGetContent(child(root, "name"));
	uuid =
	    child(root, "uuid") ? xmlNodeGetContent(child(root, "uuid")) : NULL;
	if (add_mark(root, &m) < 0 || !(text = ds_xml_text(root)) ||
	    !(o->name = strdup((const char *)name))) {
		fail(res, "out of memory");
		goto out;
	}
	snprintf(o->uuid, sizeof(o->uuid), "%s",
		 uuid ? (const char *)uuid
		      : "00000000-0000-0000-0000-000000000000");
	o->state = VIR_DOMAIN_SHUTOFF;
	o->persistent = true;
	if (rc_observed_read_xml(text, false, o) < 0) {
		fail(res, "%s: cannot be read as a domain", out);
		goto out;
	}
	r = 0;
out:
	free(text);
	xmlFree(name);
	xmlFree(uuid);
	xmlFreeDoc(doc);
	return r;
}

/* (d): the plan of the one file against the one domain. */
static void check_plan(const char *name, const struct ds_set *set,
		       const char *out, struct result *res)
{
	const char *path = set->entries[0].diags.path;
	_cleanup_free_ char *copy = strdup(path), *file_copy = strdup(path);
	char dir[PATH_MAX];
	struct rc_observed o;
	struct rc_limits limits = {0};
	struct rc_plan plan = {0};
	struct rc_plan_opts opts = {.dir_usable = true};

	if (!copy || !file_copy || !realpath(dirname(copy), dir)) {
		fail(res, "%s: %s", path, strerror(errno));
		return;
	}
	if (observe(out, dir, basename(file_copy), &o, res) < 0)
		goto out;
	/* The hypervisor's limits stay unknown (0: not checked): the corpus
	 * is about the format, not this host. The host's security model is
	 * that of libvirt's tests: their QEMU driver has the "none" driver
	 * alone (tests/testutilsqemu.c, qemuTestDriverInit), as a real host
	 * without SELinux and AppArmor has it first, so that a seclabel
	 * without a model is of type none there. */
	if (!(limits.best_type = strdup("kvm")) ||
	    !(limits.secmodel = strdup("none"))) {
		fail(res, "out of memory");
		goto out;
	}
	limits.caps_read = true;
	opts.dir = dir;
	if (rc_plan(set, &o, 1, &limits, &opts, &plan) < 0) {
		fail(res, "cannot plan: out of memory");
		goto out;
	}
	if (plan.n != 1) {
		fail(res,
		     "the plan has %zu domains, not 1 (the file names "
		     "another domain than libvirt's output?)",
		     plan.n);
	} else if (plan.domains[0].phase != RC_PHASE_IN_SYNC ||
		   plan.domains[0].n_actions) {
		const struct rc_domain_plan *dp = &plan.domains[0];
		const struct rc_action *a = dp->n_actions ? dp->actions : NULL;
		fail(res, "not in sync (%s): %s%s%s", rc_phase_name(dp->phase),
		     a ? rc_act_name(a->kind) : "", a ? ": " : "",
		     a && a->why  ? a->why
		     : dp->reason ? dp->reason
				  : "");
	}
	if (*res->reason) {
		fprintf(res->details, "the plan against %s for %s:\n", out,
			name);
		rc_plan_print(&plan, res->details);
	}
	rc_plan_finish(&plan);
out:
	rc_limits_finish(&limits);
	rc_observed_finish(&o);
}

/* Adds the places of x and everything under it to set: "P" for an
 * element, "P@NAME" for its attributes (by local name). */
static void places(xmlNodePtr x, const char *parent, xmlHashTablePtr set)
{
	char path[1024];

	if (x->type != XML_ELEMENT_NODE)
		return;
	snprintf(path, sizeof(path), "%s%s%s", parent, *parent ? "/" : "",
		 (const char *)x->name);
	xmlHashAddEntry(set, BAD_CAST path, (void *)1);
	for (xmlAttrPtr a = x->properties; a; a = a->next) {
		char at[1100];
		snprintf(at, sizeof(at), "%s@%s", path, (const char *)a->name);
		xmlHashAddEntry(set, BAD_CAST at, (void *)1);
	}
	for (xmlNodePtr c = x->children; c; c = c->next)
		places(c, path, set);
}

static void collect(void *payload, void *data, const xmlChar *name)
{
	xmlHashTablePtr *sets = data;

	(void)payload;
	if (xmlHashLookup(sets[0], name) && !xmlHashLookup(sets[1], name))
		xmlHashAddEntry(sets[2], name, (void *)1);
}

static void append_name(void *payload, void *data, const xmlChar *name)
{
	(void)payload;
	fprintf(data, " %s", (const char *)name);
}

/* The places of the input libvirt keeps in out that rendered lacks, as
 * one line of --left-out. */
static void left_out(const char *name, const char *out, xmlDocPtr rendered,
		     struct result *res)
{
	char path[PATH_MAX];
	xmlDocPtr in, kept;
	xmlHashTablePtr have = xmlHashCreate(64), outs = xmlHashCreate(64),
			ins = xmlHashCreate(64), left = xmlHashCreate(16);
	char *line = NULL;
	size_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.xml", inputs_dir, name);
	in = xmlReadFile(path, NULL,
			 XML_PARSE_NONET | XML_PARSE_NOERROR |
			     XML_PARSE_NOWARNING);
	kept = xmlReadFile(out, NULL,
			   XML_PARSE_NONET | XML_PARSE_NOERROR |
			       XML_PARSE_NOWARNING);
	if (!in || !kept || !have || !outs || !ins || !left) {
		fail(res, "--left-out: cannot read %s or %s", path, out);
		goto out;
	}
	places(xmlDocGetRootElement(in), "", ins);
	places(xmlDocGetRootElement(kept), "", outs);
	places(xmlDocGetRootElement(rendered), "", have);
	/* in the input, kept by libvirt, and not in the rendering */
	xmlHashTablePtr sets[3] = {outs, have, left};
	xmlHashScan(ins, collect, sets);
	if (!(f = open_memstream(&line, &len))) {
		fail(res, "out of memory");
		goto out;
	}
	fputs(name, f);
	xmlHashScan(left, append_name, f);
	fputc('\n', f);
	fclose(f);
	if (write(left_out_fd, line, len) != (ssize_t)len)
		fail(res, "--left-out: %s", strerror(errno));
out:
	free(line);
	xmlHashFree(have, NULL);
	xmlHashFree(outs, NULL);
	xmlHashFree(ins, NULL);
	xmlHashFree(left, NULL);
	xmlFreeDoc(in);
	xmlFreeDoc(kept);
}

/* (b), (c), (d) as `validate` and `plan` read the file. */
static void check(const char *name, const char *file, const char *out,
		  struct ds_rng *rng, struct result *res)
{
	struct ds_set set = {0};
	struct ds_entry *e;
	xmlDocPtr doc = NULL;
	char *first = NULL;

	int xml = top_level_xml(file);
	if (xml == 1) {
		fail(res, "uses xml:");
		return;
	}
	if (ds_set_add_file(&set, file, false) < 0 || set.n != 1) {
		fail(res, "out of memory");
		goto out;
	}
	e = &set.entries[0];
	if (!e->dom) {
		first = ds_diags_first(&e->diags);
		fail(res, "does not validate: %s", first ? first : "?");
		ds_diags_print(&e->diags, res->details, "virt-reconcile");
		goto out;
	}
	/* the type validate renders a file without one with */
	if (ds_render(e->dom, "kvm", &e->diags, &doc) == 0)
		ds_rng_check(rng, doc, &e->diags);
	if (e->diags.n || e->diags.dropped || e->diags.oom) {
		first = ds_diags_first(&e->diags);
		fail(res, "rendered XML not valid against domain.rng: %s",
		     first ? first : "?");
		ds_diags_print(&e->diags, res->details, "virt-reconcile");
		goto out;
	}
	check_plan(name, &set, out, res);
	if (!*res->reason && left_out_fd >= 0)
		left_out(name, out, doc, res);
out:
	free(first);
	xmlFreeDoc(doc);
	ds_set_finish(&set);
}

int main(int argc, char **argv)
{
	const char *err = NULL;
	struct ds_rng *rng;
	int status = 0;

	if (argc > 4 && !strcmp(argv[1], "--inputs") &&
	    !strcmp(argv[3], "--left-out")) {
		inputs_dir = argv[2];
		left_out_fd = open(
		    argv[4], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (left_out_fd < 0) {
			fprintf(stderr, "corpus-check: %s: %s\n", argv[4],
				strerror(errno));
			return 2;
		}
		argv += 4;
		argc -= 4;
	}
	if (argc < 4 || (argc - 1) % 3) {
		fprintf(stderr,
			"usage: corpus-check [--inputs DIR --left-out FILE] "
			"NAME FILE OUTPUT [NAME FILE OUTPUT]...\n");
		return 2;
	}
	/* every line one write, whoever else writes to the same pipe */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!(rng = ds_rng_default(&err))) {
		/* not a skip: without the schema, (c) cannot be judged */
		for (int i = 1; i < argc; i += 3)
			printf("FAIL %s: libvirt's schema %s: %s\n", argv[i],
			       DS_LIBVIRT_SCHEMA, err ? err : "not loaded");
		return 1;
	}
	for (int i = 1; i < argc; i += 3) {
		struct result res = {0};
		char *details = NULL;
		size_t len = 0;

		if (!(res.details = open_memstream(&details, &len)))
			return 2;
		fprintf(res.details, "== %s\n", argv[i]);
		check(argv[i], argv[i + 1], argv[i + 2], rng, &res);
		fclose(res.details);
		if (*res.reason) {
			printf("FAIL %s: %s\n", argv[i], res.reason);
			fwrite(details, 1, len, stderr);
			fflush(stderr);
			status = 1;
		} else {
			printf("PASS %s\n", argv[i]);
		}
		free(details);
	}
	return status;
}
