/* virt-reconcile's own overhead on libvirt's in-process test driver,
 * beside the floor, for growing N: the floor defines N domains and fetches
 * their inactive and live XML on one connection; virt-reconcile applies N
 * new files (cold), then the same N in sync (no write call). Each run uses
 * a fresh test driver instance.
 *
 * usage: bench-test N...
 * prints: N floor_define cold ratio floor_observe in_sync ratio writes */
#include <libvirt/libvirt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pass.h"
#include "render.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static virConnectPtr fresh(const char *node)
{
	char uri[600];

	snprintf(uri, sizeof(uri), "test://%s", node);
	return virConnectOpen(uri);
}

static int run(unsigned n, const char *tmp)
{
	char dir[512], node[512], path[600];
	char **xml = calloc(n, sizeof(*xml));
	virConnectPtr conn;
	virDomainPtr *doms;
	struct rc_pass p = {0};
	struct rc_err e;
	struct rc_apply_stats st = {0};
	struct rc_apply_opts ao = {.shutdown_timeout = 1};
	double t, floor_define, floor_observe, cold, sync;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/files-%u", tmp, n);
	snprintf(node, sizeof(node), "%s/node.xml", tmp);
	snprintf(path, sizeof(path), "mkdir -p %s", dir);
	if (system(path) != 0)
		return 1;
	for (unsigned i = 0; i < n; i++) {
		struct ds_diags d;
		struct ds_domain *dom = NULL;
		xmlDocPtr doc = NULL;
		snprintf(path, sizeof(path), "%s/vm%05u.yaml", dir, i);
		f = fopen(path, "w");
		fprintf(f,
			"name: vm%05u\nmemory: 64 MiB\nvcpu: {value: 2, "
			"current: 1}\nstate: shutoff\n",
			i);
		fclose(f);
		ds_diags_init(&d, path);
		if (ds_domain_load(path, &d, &dom) < 0 ||
		    ds_render(dom, "test", &d, &doc) < 0)
			return 1;
		xml[i] = ds_render_text(doc);
		xmlFreeDoc(doc);
		ds_domain_free(dom);
		ds_diags_finish(&d);
	}
	/* the floor */
	conn = fresh(node);
	t = now();
	for (unsigned i = 0; i < n; i++)
		virDomainFree(virDomainDefineXML(conn, xml[i]));
	floor_define = now() - t;
	t = now();
	int got = virConnectListAllDomains(conn, &doms, 0);
	for (int i = 0; i < got; i++) {
		free(virDomainGetXMLDesc(doms[i], VIR_DOMAIN_XML_INACTIVE));
		free(virDomainGetXMLDesc(doms[i], 0));
		virDomainFree(doms[i]);
	}
	free(doms);
	floor_observe = now() - t;
	virConnectClose(conn);
	/* virt-reconcile */
	conn = fresh(node);
	t = now();
	if (rc_pass_plan(conn, dir, false, &p, &e) < 0)
		return 1;
	rc_apply(conn, &p.plan, &ao, &st);
	rc_pass_finish(&p);
	cold = now() - t;
	st = (struct rc_apply_stats){0};
	t = now();
	if (rc_pass_plan(conn, dir, false, &p, &e) < 0)
		return 1;
	rc_apply(conn, &p.plan, &ao, &st);
	rc_pass_finish(&p);
	sync = now() - t;
	virConnectClose(conn);
	printf(
	    "%6u %10.4f %10.4f %6.2f %10.4f %10.4f %6.2f %6zu %10.1f %10.1f\n",
	    n, floor_define, cold, cold / floor_define, floor_observe, sync,
	    sync / floor_observe, st.writes, cold / n * 1e6, sync / n * 1e6);
	for (unsigned i = 0; i < n; i++)
		free(xml[i]);
	free(xml);
	return 0;
}

int main(int argc, char **argv)
{
	char tmp[] = "/tmp/vr-bench-XXXXXX", path[256];
	FILE *f;
	int r = 0;

	rc_init();
	if (!mkdtemp(tmp))
		return 1;
	snprintf(path, sizeof(path), "%s/node.xml", tmp);
	f = fopen(path, "w");
	fputs("<node><domain type='test'><name>test</name><memory>8192</memory>"
	      "<vcpu>1</vcpu><os><type>hvm</type></os></domain></node>\n",
	      f);
	fclose(f);
	printf("%6s %10s %10s %6s %10s %10s %6s %6s %10s %10s\n", "N",
	       "floor-def", "cold", "ratio", "floor-obs", "in-sync", "ratio",
	       "writes", "cold-us/d", "sync-us/d");
	for (int i = 1; i < argc && r == 0; i++)
		r = run(strtoul(argv[i], NULL, 10), tmp);
	snprintf(path, sizeof(path), "rm -rf %s", tmp);
	if (system(path) != 0)
		r = 1;
	return r;
}
