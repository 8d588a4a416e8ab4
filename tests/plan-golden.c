/* Golden plan tests, without libvirt: each directory under tests/plans/
 * holds desired/NAME.yaml (the files), observed/NAME.xml (what libvirt has, one
 * domain a file), and optionally limits and options; the plan printed for
 * them must equal plan.txt. VR_REGENERATE=1 rewrites plan.txt.
 *
 * observed/NAME.xml:
 *   <observed active="yes" autostart="no" vcpus="2" max-vcpus="4"
 *             memory="786432" max-memory="1048576" persistent="yes">
 *     <domain>…persistent XML…</domain>
 *     <live><domain>…live XML…</domain></live>   (default: the same)
 *   </observed>
 * limits: lines "host-cpus N", "best-type T", "vcpus TYPE [MACHINE] N",
 * "machine ARCH ALIAS CANONICAL" (the host's machine aliases, as libvirt's
 * capabilities give them: "machine x86_64 pc pc-i440fx-7.2"; without any,
 * the comparison falls back to the alias's family: pc is pc-i440fx-*),
 * "secmodel MODEL" (the capabilities' first security model: apparmor,
 * none; without it, unknown).
 * storage: what libvirt has of the pools and volumes the files and marks
 * name, lines "pool NAME [inactive] [available BYTES]", "volume POOL NAME
 * CAPACITY [ALLOCATION]" (at /pools/POOL/NAME) and "path PATH [CAPACITY
 * [pool]]" (a base image by its path; "pool": a pool's volume); "defined NAME FILE [active] [autostart]
 * [transient]" gives a pool file's pool, FILE its XML (virsh pool-dumpxml
 * --inactive); what is not listed does not exist.
 * options: words "prune", "delete-storage", "empty-dir", "dir=PATH" (the
 * directory planned
 * for, as marks name it; without it, any), "xml" (plan.txt shows the XML
 * each define and redefine sends, after the plan). */
#include <dirent.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plan.h"
#include "schema.h"
#include "xmlpath.h"
#include "xmlread.h"
#include "xmltree.h"

static unsigned long attr(xmlNodePtr x, const char *name, unsigned long def)
{
	xmlChar *v = xmlGetProp(x, BAD_CAST name);
	unsigned long r = def;

	if (v && !strcmp((char *)v, "yes"))
		r = 1;
	else if (v && !strcmp((char *)v, "no"))
		r = 0;
	else if (v)
		r = strtoul((char *)v, NULL, 10);
	xmlFree(v);
	return r;
}

/* parent's first child element named name, or NULL */
static xmlNodePtr elem(xmlNodePtr parent, const char *name)
{
	return parent ? ds_xml_child(parent, name, strlen(name)) : NULL;
}

static int load_observed(const char *path, struct rc_observed *o)
{
	xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlNodePtr cfg = elem(root, "domain");
	xmlNodePtr live = elem(elem(root, "live"), "domain");
	char *cx = cfg ? ds_xml_text(cfg) : NULL;
	char *lx = live ? ds_xml_text(live) : cx ? strdup(cx) : NULL;
	xmlChar *name = cfg ? xmlNodeGetContent(elem(cfg, "name")) : NULL;
	xmlChar *uuid = cfg ? xmlNodeGetContent(elem(cfg, "uuid")) : NULL;
	int r = -1;

	*o = (struct rc_observed){.id = -1};
	if (!cx || !name)
		goto out;
	o->name = strdup((char *)name);
	snprintf(o->uuid, sizeof(o->uuid), "%s",
		 uuid ? (char *)uuid : "00000000-0000-0000-0000-000000000000");
	o->active = attr(root, "active", 0);
	o->state = o->active ? 1 : 5;
	o->id = o->active ? 1 : -1;
	o->persistent = attr(root, "persistent", 1);
	o->autostart = attr(root, "autostart", 0);
	o->live_vcpus = attr(root, "vcpus", 1);
	o->live_max_vcpus = attr(root, "max-vcpus", o->live_vcpus);
	o->live_memory = attr(root, "memory", 0);
	o->live_max_memory = attr(root, "max-memory", o->live_memory);
	if (rc_observed_read_xml(cx, false, o) < 0 ||
	    (o->active && rc_observed_read_xml(lx, true, o) < 0))
		goto out;
	r = 0;
out:
	xmlFree(name);
	xmlFree(uuid);
	free(cx);
	free(lx);
	xmlFreeDoc(doc);
	return r;
}

static int load_limits(struct rc_limits *l)
{
	FILE *f = fopen("limits", "r");
	char line[256];

	*l = (struct rc_limits){.best_type = strdup("kvm"), .host_cpus = 8};
	while (f && fgets(line, sizeof(line), f)) {
		char a[64], b[64], c[64], d[64];
		int n = sscanf(line, "%63s %63s %63s %63s", a, b, c, d);
		if (n == 2 && !strcmp(a, "host-cpus"))
			l->host_cpus = strtoul(b, NULL, 10);
		else if (n == 2 && !strcmp(a, "best-type")) {
			free(l->best_type);
			l->best_type = strdup(b);
		} else if (n == 2 && !strcmp(a, "secmodel")) {
			free(l->secmodel);
			l->secmodel = strdup(b);
			l->caps_read = true;
		} else if (n == 4 && !strcmp(a, "machine")) {
			l->aliases =
			    realloc(l->aliases,
				    (l->n_aliases + 1) * sizeof(*l->aliases));
			l->aliases[l->n_aliases++] = (struct ds_machine_alias){
			    strdup(b), strdup(c), strdup(d)};
			l->caps_read = true;
		} else if (n >= 3 && !strcmp(a, "vcpus")) {
			l->vcpus = realloc(l->vcpus, (l->n_vcpus + 1) *
							 sizeof(*l->vcpus));
			l->vcpus[l->n_vcpus++] = (struct rc_vcpu_limit){
			    strdup(b), n == 4 ? strdup(c) : NULL,
			    strtoul(n == 4 ? d : c, NULL, 10)};
		}
	}
	if (f)
		fclose(f);
	return 0;
}

/* The storage file, over what the plan would look up. */
static int load_storage(const struct ds_set *set, const struct rc_observed *obs,
			size_t n_obs, struct rc_storage *st)
{
	FILE *f;
	char line[512];

	if (rc_storage_want(set, obs, n_obs, st) < 0)
		return -1;
	if (!(f = fopen("storage", "r")))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char a[128], b[128], c[256], d[64], e[64];
		int n =
		    sscanf(line, "%127s %127s %255s %63s %63s", a, b, c, d, e);
		for (size_t i = 0;
		     n >= 3 && !strcmp(a, "defined") && i < st->n_pools; i++) {
			struct rc_pool_obs *po = &st->pools[i];
			char *xml = NULL;
			size_t len = 0;
			FILE *x;
			if (strcmp(po->name, b) || !(x = fopen(c, "r")))
				continue;
			xml = calloc(1, 65536);
			len = fread(xml, 1, 65535, x);
			fclose(x);
			po->exists = true;
			po->active = strstr(line, " active") != NULL;
			po->autostart = strstr(line, " autostart") != NULL;
			po->persistent = !strstr(line, " transient");
			struct ds_xdoc doc;
			if (ds_xdoc_read(NULL, xml, len, &doc) == 0) {
				for (const struct ds_xel *k = doc.root->kids; k;
				     k = k->next)
					if (k->name &&
					    !strcmp(k->name, "uuid")) {
						char *u = ds_xel_content(k);
						snprintf(po->uuid,
							 sizeof(po->uuid), "%s",
							 u ? u : "");
						free(u);
					}
				ds_item_from_xml(doc.root, &ds_schema_pool,
						 &po->tree);
				/* an active pool runs that definition */
				if (po->active)
					po->live = ds_node_copy(po->tree);
				ds_xdoc_finish(&doc);
			}
			free(xml);
		}
		for (size_t i = 0; i < st->n; i++) {
			struct rc_vol_obs *v = &st->vols[i];
			if (n >= 2 && !strcmp(a, "pool") && v->pool &&
			    !strcmp(v->pool, b)) {
				v->pool_state = n >= 3 && !strcmp(c, "inactive")
						    ? VIR_STORAGE_POOL_INACTIVE
						    : VIR_STORAGE_POOL_RUNNING;
				v->pool_available = 1ULL << 40;
				if (n >= 4 && !strcmp(c, "available"))
					v->pool_available =
					    strtoull(d, NULL, 10);
			}
			if (n >= 4 && !strcmp(a, "volume") && v->pool &&
			    !strcmp(v->pool, b) && !strcmp(v->name, c)) {
				v->exists = true;
				v->capacity = strtoull(d, NULL, 10);
				v->allocation =
				    n >= 5 ? strtoull(e, NULL, 10) : 0;
				if (asprintf(&v->path, "/pools/%s/%s", b, c) <
				    0)
					v->path = NULL;
			}
			if (n >= 2 && !strcmp(a, "path") && !v->pool &&
			    !strcmp(v->name, b)) {
				v->exists = true;
				v->pool_state = VIR_STORAGE_POOL_RUNNING;
				v->capacity =
				    n >= 3 ? strtoull(c, NULL, 10) : 0;
				v->in_pool = n >= 4 && !strcmp(d, "pool");
				v->path = strdup(b);
			}
		}
	}
	fclose(f);
	return 0;
}

static bool has_option(const char *word)
{
	FILE *f = fopen("options", "r");
	char w[64];
	bool found = false;

	while (f && fscanf(f, "%63s", w) == 1)
		found |= !strcmp(w, word);
	if (f)
		fclose(f);
	return found;
}

/* The value of the option word "key=VALUE", or NULL; the caller frees it. */
static char *option_value(const char *key)
{
	FILE *f = fopen("options", "r");
	size_t len = strlen(key);
	char w[256], *v = NULL;

	while (f && !v && fscanf(f, "%255s", w) == 1)
		if (!strncmp(w, key, len) && w[len] == '=')
			v = strdup(w + len + 1);
	if (f)
		fclose(f);
	return v;
}

static int run_case(const char *dir)
{
	struct ds_set set = {0};
	char why[256];
	struct rc_observed obs[64];
	size_t n_obs = 0;
	struct rc_limits limits;
	struct rc_plan plan;
	struct rc_plan_opts opts;
	struct rc_storage storage = {0};
	char *out = NULL, *want = NULL, *plan_dir = NULL;
	size_t out_len = 0, want_len = 0;
	DIR *d;
	int r = -1;

	if (chdir(dir) < 0)
		return -1;
	plan_dir = option_value("dir");
	ds_set_add_dir(&set, "desired", false, why, sizeof(why));
	ds_set_check_unique(&set);
	d = opendir("observed");
	for (struct dirent *de; d && (de = readdir(d)) && n_obs < 64;) {
		char path[512];
		if (!strstr(de->d_name, ".xml"))
			continue;
		snprintf(path, sizeof(path), "observed/%s", de->d_name);
		if (load_observed(path, &obs[n_obs]) < 0) {
			printf("FAIL %s: cannot read %s\n", dir, path);
			goto out;
		}
		n_obs++;
	}
	load_limits(&limits);
	if (load_storage(&set, obs, n_obs, &storage) < 0)
		goto out;
	opts = (struct rc_plan_opts){.prune = has_option("prune"),
				     .delete_storage =
					 has_option("delete-storage"),
				     .dir_usable = !has_option("empty-dir"),
				     .dir = plan_dir,
				     .storage = &storage};
	if (rc_plan(&set, obs, n_obs, &limits, &opts, &plan) < 0)
		goto out;
	FILE *f = open_memstream(&out, &out_len);
	for (size_t i = 0; i < set.n; i++)
		ds_diags_print(&set.entries[i].diags, f, "virt-reconcile");
	rc_plan_print(&plan, f);
	for (size_t i = 0; has_option("xml") && i < plan.n; i++) {
		const struct rc_domain_plan *dp = &plan.domains[i];
		for (size_t j = 0; j < dp->n_actions; j++)
			if (dp->actions[j].kind == RC_ACT_DEFINE ||
			    dp->actions[j].kind == RC_ACT_REDEFINE ||
			    dp->actions[j].kind == RC_ACT_CREATE_VOLUME)
				fprintf(f, "%s: %s sends:\n%s", dp->name,
					rc_act_name(dp->actions[j].kind),
					dp->actions[j].xml);
	}
	fclose(f);
	rc_plan_finish(&plan);
	rc_limits_finish(&limits);
	if (getenv("VR_REGENERATE") && !strcmp(getenv("VR_REGENERATE"), "1")) {
		FILE *w = fopen("plan.txt", "w");
		fputs(out, w);
		fclose(w);
	}
	f = fopen("plan.txt", "r");
	if (f) {
		want = calloc(1, 65536);
		want_len = fread(want, 1, 65535, f);
		fclose(f);
	}
	if (!want || want_len != out_len || memcmp(want, out, out_len)) {
		printf("FAIL %s: the plan differs from plan.txt:\n%s", dir,
		       out);
		goto out;
	}
	printf("ok   %s\n", dir);
	r = 0;
out:
	if (d)
		closedir(d);
	for (size_t i = 0; i < n_obs; i++)
		rc_observed_finish(&obs[i]);
	rc_storage_finish(&storage);
	ds_set_finish(&set);
	free(out);
	free(want);
	free(plan_dir);
	return r;
}

int main(int argc, char **argv)
{
	struct dirent **names;
	size_t pass = 0, fail = 0;
	int n;

	if (argc != 2 || chdir(argv[1]) < 0) {
		fprintf(stderr, "usage: plan-golden PLANS_DIR\n");
		return 1;
	}
	n = scandir(".", &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			if (run_case(names[i]->d_name) == 0)
				pass++;
			else
				fail++;
			if (chdir(argv[1]) < 0)
				return 1;
		}
		free(names[i]);
	}
	free(names);
	printf("plan-golden: %zu passed, %zu failed\n", pass, fail);
	return fail || !pass;
}
