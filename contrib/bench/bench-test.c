/* virt-reconcile's own overhead on libvirt's in-process test driver,
 * beside the floor, for growing N: the floor defines N domains and fetches
 * their inactive and live XML on one connection; virt-reconcile applies N
 * new files (cold), then the same N in sync (no write call). Each run uses
 * a fresh test driver instance.
 *
 * usage: bench-test [--spread SECONDS] N...
 * prints a line per N, times in seconds, each the best of 101 runs (31
 * from N = 100, 7 from 1000, 5 from 5000; below N = 1000 spread over
 * SECONDS), for the floor and for
 * virt-reconcile alike: a shared virtual machine only ever adds time (its
 * host takes up to a sixth of the second core, vmstat's "st"), so the
 * best run is the truest. cpu: user+system of the whole process, threads
 * included, in the best in-sync pass; WRITES: write calls of all in-sync
 * passes:
 *   apply-test N FLOOR_DEFINE COLD FLOOR_OBSERVE IN_SYNC WRITES IN_SYNC_CPU */
#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
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

static double cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* The index of the smallest of v[0..n). */
static unsigned best(const double *v, unsigned n)
{
	unsigned b = 0;

	for (unsigned i = 1; i < n; i++)
		if (v[i] < v[b])
			b = i;
	return b;
}

static virConnectPtr fresh(const char *node)
{
	char uri[600];

	snprintf(uri, sizeof(uri), "test://%s", node);
	return virConnectOpen(uri);
}

/* The files are read as apply reads them, who may write them checked. */
static const struct rc_pass_opts as_apply = {0};

/* Where an in-sync pass goes, each part alone on one thread: reading
 * the files (libyaml, the checks, the defaults), reading libvirt (its
 * calls, libxml2, the format's tree), planning (rendering, comparing). */
static int parts(unsigned n, const char *node, const char *dir)
{
	virConnectPtr conn = fresh(node);
	struct rc_pass p = {0};
	struct rc_err e;
	struct rc_apply_stats st = {0};
	struct rc_apply_opts ao = {.shutdown_timeout = 1};
	struct rc_plan_opts po = {.dir_usable = true};
	struct rc_plan plan = {0};
	char why[256];
	double t, load, observe, plan_s;

	if (!conn || rc_pass_plan(conn, dir, &as_apply, &p, &e) < 0)
		return -1;
	rc_apply(conn, &p.plan, &ao, &st); /* defined: now in sync */
	rc_plan_finish(&p.plan);
	rc_observed_array_free(p.observed, p.n_observed);
	ds_set_finish(&p.set);
	p.observed = NULL;
	p.set = (struct ds_set){0};
	t = now();
	if (ds_set_add_dir(&p.set, dir, true, why, sizeof(why)) < 0)
		return -1;
	load = now() - t;
	t = now();
	if (rc_observe_all_threads(conn, 0, &p.observed, &p.n_observed, &e) < 0)
		return -1;
	observe = now() - t;
	ds_set_check_unique(&p.set);
	t = now();
	if (rc_plan(&p.set, p.observed, p.n_observed, &p.limits, &po, &plan) <
	    0)
		return -1;
	plan_s = now() - t;
	rc_plan_finish(&plan);
	rc_pass_finish(&p);
	virConnectClose(conn);
	printf("apply-test-parts %u %.6f %.6f %.6f\n", n, load, observe,
	       plan_s);
	return 0;
}

/* --spread S: the runs of N < 1000 are spread over S seconds. */
static double spread;

static int run(unsigned n, const char *tmp, bool print)
{
	char dir[512], node[512], path[600];
	char **xml = calloc(n, sizeof(*xml));
	virConnectPtr conn;
	virDomainPtr *doms;
	struct rc_pass p = {0};
	struct rc_err e;
	struct rc_apply_stats st = {0};
	struct rc_apply_opts ao = {.shutdown_timeout = 1};
	double t, c, floor_define, floor_observe, cold, sync, sync_cpu;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/files-%u", tmp, n);
	snprintf(node, sizeof(node), "%s/node.xml", tmp);
	snprintf(path, sizeof(path), "mkdir -p %s", dir);
	if (system(path) != 0)
		return 1;
	for (unsigned i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/vm%05u.yaml", dir, i);
		f = fopen(path, "w");
		fprintf(f,
			"name: vm%05u\nmemory: 64 MiB\nvcpu: {value: 2, "
			"current: 1}\nstate: shutoff\n",
			i);
		fclose(f);
	}
	/* The floor works on the same domains: the XML virt-reconcile
	 * defines for these files, its mark included, as libvirt keeps it. */
	conn = fresh(node);
	if (!conn || rc_pass_plan(conn, dir, &as_apply, &p, &e) < 0)
		return 1;
	rc_apply(conn, &p.plan, &ao, &st);
	rc_pass_finish(&p);
	for (unsigned i = 0; i < n; i++) {
		virDomainPtr dom;
		snprintf(path, sizeof(path), "vm%05u", i);
		if (!(dom = virDomainLookupByName(conn, path)) ||
		    !(xml[i] =
			  virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE)))
			return 1;
		virDomainFree(dom);
	}
	virConnectClose(conn);
	st = (struct rc_apply_stats){0};
	/* Each side several times, alternating, on fresh drivers; the best
	 * run of each is reported, so that a stray load moves no figure. With
	 * --spread, the runs of small N are spread over seconds: the host's
	 * busy moments last seconds, and would otherwise hold all of them. */
	unsigned reps = n >= 5000 ? 5 : n >= 1000 ? 7 : n >= 100 ? 31 : 101;
	double fd[101], fo[101], co[101], sy[101], sc[101];
	double gap = print && n < 1000 ? spread / reps : 0;
	size_t writes = 0;
	for (unsigned r = 0; r < reps; r++) {
		if (r && gap > 0)
			nanosleep(&(struct timespec){0, (long)(gap * 1e9)},
				  NULL);
		/* the floor */
		conn = fresh(node);
		t = now();
		for (unsigned i = 0; i < n; i++)
			virDomainFree(virDomainDefineXML(conn, xml[i]));
		fd[r] = now() - t;
		t = now();
		int got = virConnectListAllDomains(conn, &doms, 0);
		for (int i = 0; i < got; i++) {
			free(virDomainGetXMLDesc(doms[i],
						 VIR_DOMAIN_XML_INACTIVE));
			free(virDomainGetXMLDesc(doms[i], 0));
			virDomainFree(doms[i]);
		}
		free(doms);
		fo[r] = now() - t;
		virConnectClose(conn);
		/* virt-reconcile */
		conn = fresh(node);
		t = now();
		if (rc_pass_plan(conn, dir, &as_apply, &p, &e) < 0)
			return 1;
		rc_apply(conn, &p.plan, &ao, &st);
		rc_pass_finish(&p);
		co[r] = now() - t;
		st = (struct rc_apply_stats){0};
		t = now();
		c = cpu();
		if (rc_pass_plan(conn, dir, &as_apply, &p, &e) < 0)
			return 1;
		rc_apply(conn, &p.plan, &ao, &st);
		rc_pass_finish(&p);
		sy[r] = now() - t;
		sc[r] = cpu() - c;
		writes += st.writes;
		virConnectClose(conn);
	}
	floor_define = fd[best(fd, reps)];
	floor_observe = fo[best(fo, reps)];
	cold = co[best(co, reps)];
	sync = sy[best(sy, reps)];
	sync_cpu = sc[best(sy, reps)];
	if (print)
		printf("apply-test %u %.6f %.6f %.6f %.6f %zu %.6f\n", n,
		       floor_define, cold, floor_observe, sync, writes,
		       sync_cpu);
	if (print && parts(n, node, dir) < 0)
		return 1;
	fflush(stdout);
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
	umask(022); /* files others may write would be refused, unmeasured */
	if (!mkdtemp(tmp))
		return 1;
	snprintf(path, sizeof(path), "%s/node.xml", tmp);
	f = fopen(path, "w");
	fputs("<node></node>\n", f); /* no domain but ours */
	fclose(f);
	/* once unmeasured: the first calls of a process pay for its start
	 * (symbols bound, pages touched, libraries set up), both sides */
	r = run(20, tmp, false);
	for (int i = 1; i < argc && r == 0; i++) {
		if (!strcmp(argv[i], "--spread") && i + 1 < argc) {
			spread = strtod(argv[++i], NULL);
			continue;
		}
		r = run(strtoul(argv[i], NULL, 10), tmp, true);
	}
	snprintf(path, sizeof(path), "rm -rf %s", tmp);
	if (system(path) != 0)
		r = 1;
	return r;
}
