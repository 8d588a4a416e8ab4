/* import, checked on every domain XML of the plan tests (libvirt 9.0's own,
 * tests/plans/CASE/observed/NAME.xml) and of tests/import/: the imported
 * file
 *   (a) is valid: the schema walk, the rules, and the rendered domain
 *       against libvirt's schema, as `validate` judges it;
 *   (b) adopts the very domain it came from (unmarked, as observed) with
 *       one call, the mark, and nothing else: the same plan the agent
 *       makes, with the same comparison;
 *   (c) has raw XML (xml:) exactly when the domain has an element under
 *       <domain> or <devices> that the format's table has no key for;
 *   (d) writes back the same text when read and written again (the
 *       writer and the parser agree).
 * usage: import-check DIR... (each searched for *.xml below it; err-*.xml
 * and problem-*.xml, import's failures, are import-golden.sh's) */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "import.h"
#include "parse.h"
#include "plan.h"
#include "render.h"
#include "schema.h"
#include "xmltree.h"
#include "yamlout.h"

static size_t pass, fail;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (f) {
		buf = malloc(1 << 20);
		len = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
		fclose(f);
	}
	if (buf)
		buf[len] = 0;
	return buf;
}

/* The <domain> of an observation (<observed><domain>…), or the document
 * itself; the caller frees it. Sets *active and *autostart. */
static char *domain_of(const char *text, bool *active, int *autostart)
{
	const char *start = strstr(text, "<domain");
	const char *end = strstr(text, "</domain>");
	const char *obs = strstr(text, "<observed");

	*active = obs && strstr(obs, "active=\"yes\"") &&
		  strstr(obs, "active=\"yes\"") < start;
	*autostart = obs ? strstr(obs, "autostart=\"yes\"") &&
			       strstr(obs, "autostart=\"yes\"") < start
			 : -1;
	if (!start || !end)
		return NULL;
	return strndup(start, end + strlen("</domain>") - start);
}

/* Whether the format's table has a key for element name of namespace ns
 * (or none) under <domain> (devices false) or <devices>: (c)'s own reading
 * of the table. An element of a namespace is under its prefix's key
 * (qemu.commandline), as "prefix:name". */
static bool table_knows(const char *name, const char *ns, bool devices)
{
	const struct ds_field *map = devices ? NULL : &ds_schema_domain, *f;
	const char *prefix = ns ? ds_ns_prefix(ns) : NULL;
	char qname[128];

	for (f = ds_schema_domain.kids; devices && f->key; f++)
		if (f->xml && !strcmp(f->xml, "devices"))
			map = f;
	if (ns && (!prefix || devices))
		return false;
	if (prefix) {
		map = ds_field_kid(&ds_schema_domain, prefix);
		snprintf(qname, sizeof(qname), "%s:%s", prefix, name);
		name = qname;
	}
	for (f = map ? map->kids : NULL; f && f->key; f++) {
		size_t len = f->xml ? strcspn(f->xml, "/@") : 0;
		if (len && strlen(name) == len && !strncmp(f->xml, name, len))
			return true;
	}
	return false;
}

/* Whether the domain has something the format keeps only as raw XML. */
static bool needs_raw(const char *xml)
{
	struct ds_xdoc doc;
	bool raw = false;

	if (ds_xdoc_read(NULL, xml, strlen(xml), &doc) < 0)
		return false;
	for (const struct ds_xel *c = doc.root->kids; c; c = c->next) {
		if (!c->name)
			continue;
		if (!strcmp(c->name, "devices")) {
			for (const struct ds_xel *d = c->kids; d; d = d->next)
				raw |= d->name &&
				       !table_knows(d->name, d->ns, true);
		} else {
			raw |= !table_knows(c->name, c->ns, false);
		}
	}
	ds_xdoc_finish(&doc);
	return raw;
}

static int check_valid(const char *label, const struct ds_import *im,
		       struct ds_domain **ret)
{
	struct ds_diags d;
	xmlDocPtr doc = NULL;
	struct ds_rng *rng = ds_rng_default(NULL);

	ds_diags_init(&d, "imported.yaml");
	ds_diags_set_text(&d, strdup(im->yaml), im->len);
	if (ds_domain_parse("/imported/x.yaml", im->yaml, im->len, &d, ret) ==
		0 &&
	    ds_render(*ret, "kvm", &d, &doc) == 0 && rng)
		ds_rng_check(rng, doc, &d);
	xmlFreeDoc(doc);
	if (!d.n && !d.oom) {
		ds_diags_finish(&d);
		return 0;
	}
	printf("FAIL %s: (a) the imported file is not valid:\n", label);
	ds_diags_print(&d, stdout, "  ");
	printf("%s", im->yaml);
	ds_diags_finish(&d);
	return -1;
}

/* (b): the plan for the file against its own domain, unmarked. */
static int check_adopts(const char *label, const char *xml, bool active,
			const struct ds_import *im, struct ds_domain *dom)
{
	struct rc_observed o = {.id = active ? 1 : -1};
	struct ds_set set = {0};
	struct rc_limits limits = {0};
	struct rc_plan_opts opts = {.dir_usable = true};
	struct rc_plan plan = {0};
	const struct rc_domain_plan *dp;
	char *out = NULL;
	size_t len = 0;
	int r = -1;

	o.name = strdup(im->name);
	snprintf(o.uuid, sizeof(o.uuid), "%s",
		 ds_node_get(dom->root, "uuid")
		     ? ds_node_get(dom->root, "uuid")->str
		     : "00000000-0000-0000-0000-000000000000");
	o.active = active;
	o.state = active ? 1 : 5;
	o.persistent = true;
	o.autostart = dom->autostart;
	/* what libvirt runs with is what the config says */
	o.live_vcpus = dom->vcpu_current;
	o.live_max_vcpus = dom->vcpu_max;
	o.live_memory = dom->current_memory_kib;
	o.live_max_memory = dom->memory_kib;
	if (rc_observed_read_xml(xml, false, &o) < 0 ||
	    (active && rc_observed_read_xml(xml, true, &o) < 0)) {
		printf("FAIL %s: cannot read the observation\n", label);
		goto out;
	}
	/* as it is before anyone adopts it */
	rc_mark_finish(&o.mark);
	o.mark = (struct rc_mark){0};
	rc_mark_finish(&o.live_mark);
	o.live_mark = (struct rc_mark){0};
	set.entries = calloc(1, sizeof(*set.entries));
	set.n = 1;
	ds_diags_init(&set.entries[0].diags, "/imported/x.yaml");
	set.entries[0].dom = dom;
	limits.best_type = strdup("kvm");
	if (rc_plan(&set, &o, 1, &limits, &opts, &plan) < 0)
		goto out;
	dp = plan.n == 1 ? &plan.domains[0] : NULL;
	if (dp && dp->phase == RC_PHASE_CONVERGING && dp->n_actions == 1 &&
	    dp->actions[0].kind == RC_ACT_SET_MARK && !dp->actions[0].live) {
		r = 0;
		goto out;
	}
	FILE *f = open_memstream(&out, &len);
	rc_plan_print(&plan, f);
	fclose(f);
	printf("FAIL %s: (b) adopting the file makes more than the mark:\n%s"
	       "%s",
	       label, out, im->yaml);
out:
	free(out);
	rc_plan_finish(&plan);
	rc_limits_finish(&limits);
	rc_observed_finish(&o);
	set.entries[0].dom = NULL; /* the caller's */
	ds_set_finish(&set);
	return r;
}

/* The file read back as the parser reads it, before the defaults that
 * the comparison adds. */
static struct ds_node *reparse(const struct ds_import *im)
{
	struct ds_node *root = NULL;
	struct ds_diags d;

	ds_diags_init(&d, "imported.yaml");
	if (ds_yaml_load(im->yaml, im->len, &d, &root) == 0)
		ds_parse_tree(&root, &d);
	ds_diags_finish(&d);
	return root;
}

static void check_one(const char *path)
{
	char *text = slurp(path);
	bool active = false;
	int autostart = -1;
	char *xml = text ? domain_of(text, &active, &autostart) : NULL;
	struct ds_import_opts io = {NULL, -1, false};
	struct ds_import im = {0};
	struct ds_domain *dom = NULL;
	char why[512];
	char *rewritten = NULL;
	struct ds_node *reread = NULL;
	size_t rlen;
	bool ok = false;

	if (!xml) {
		printf("FAIL %s: no <domain> in it\n", path);
		fail++;
		free(text);
		return;
	}
	/* as `import` from libvirt: the observation's state and autostart
	 * (a bare <domain>: one shut off, without autostart) */
	io.state = active ? "running" : "shutoff";
	io.autostart = autostart > 0;
	if (ds_import_xml(xml, strlen(xml), &io, &im, why, sizeof(why)) < 0) {
		printf("FAIL %s: import: %s\n", path, why);
	} else if (check_valid(path, &im, &dom) == 0 &&
		   check_adopts(path, xml, active, &im, dom) == 0) {
		bool raw = needs_raw(xml);
		bool has_xml = ds_node_get(dom->root, "xml") != NULL;
		if (raw != has_xml)
			printf("FAIL %s: (c) the file %s raw XML, but the "
			       "domain %s elements the format lacks:\n%s",
			       path, has_xml ? "has" : "has no",
			       raw ? "has" : "has no", im.yaml);
		else if (!(reread = reparse(&im)) ||
			 ds_yaml_write(reread, &ds_schema_domain, &rewritten,
				       &rlen) < 0 ||
			 rlen != im.len || memcmp(rewritten, im.yaml, rlen))
			printf("FAIL %s: (d) read and written again, the file "
			       "differs:\n%s---\n%s",
			       path, im.yaml, rewritten ? rewritten : "");
		else
			ok = true;
	}
	if (ok) {
		printf("ok   %s\n", path);
		pass++;
	} else {
		fail++;
	}
	free(rewritten);
	ds_node_free(reread);
	ds_domain_free(dom);
	ds_import_finish(&im);
	free(xml);
	free(text);
}

static void walk(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && stat(path, &st) == 0) {
			size_t len = strlen(path);
			if (S_ISDIR(st.st_mode))
				walk(path);
			else if (len > 4 && !strcmp(path + len - 4, ".xml") &&
				 strncmp(names[i]->d_name, "err-", 4) &&
				 strncmp(names[i]->d_name, "problem-", 8))
				check_one(path);
		}
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: import-check DIR...\n");
		return 1;
	}
	for (int i = 1; i < argc; i++)
		walk(argv[i]);
	printf("import-check: %zu passed, %zu failed\n", pass, fail);
	return fail || !pass;
}
