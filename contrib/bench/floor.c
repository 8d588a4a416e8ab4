/* The floor: the libvirt calls a reconciler cannot avoid, made by the
 * smallest client on one connection, so that virt-reconcile's figures can
 * be read as ratios to it.
 *
 *   floor define URI DIR    define every DIR/NAME.xml, print the seconds
 *   floor observe URI       fetch every domain's inactive and live XML
 *   floor rss URI           the same with libvirt's event loop registered
 *                           (as an agent has it), then print VmRSS in KiB:
 *                           the memory any libvirt client starts from
 *   floor threads           what threads give on this machine: the
 *                           seconds to start and join one, and how many
 *                           times as fast two threads of allocation-heavy
 *                           work go as one
 *
 * Prints one line: "<seconds> <domains>" (rss: "<KiB> <domains>";
 * threads: "<seconds> <speed-up>"). */
#include <dirent.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, 0, f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Reads every XML first, so that only the calls are timed. */
static int define_all(virConnectPtr conn, const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort), count = 0;
	char **xml = calloc(n > 0 ? n : 1, sizeof(*xml));
	double t0;

	for (int i = 0; i < n; i++) {
		char path[4096];
		if (strstr(names[i]->d_name, ".xml")) {
			snprintf(path, sizeof(path), "%s/%s", dir,
				 names[i]->d_name);
			xml[count++] = slurp(path);
		}
		free(names[i]);
	}
	free(names);
	t0 = now();
	for (int i = 0; i < count; i++) {
		virDomainPtr d = virDomainDefineXML(conn, xml[i]);
		if (!d) {
			fprintf(stderr, "floor: %s\n",
				virGetLastErrorMessage());
			return 1;
		}
		virDomainFree(d);
	}
	printf("%.6f %d\n", now() - t0, count);
	for (int i = 0; i < count; i++)
		free(xml[i]);
	free(xml);
	return 0;
}

static int observe_all(virConnectPtr conn)
{
	virDomainPtr *doms;
	double t0 = now();
	int n = virConnectListAllDomains(conn, &doms, 0);

	for (int i = 0; i < n; i++) {
		char *a = virDomainGetXMLDesc(doms[i], VIR_DOMAIN_XML_INACTIVE);
		char *b = virDomainGetXMLDesc(doms[i], 0);
		free(a);
		free(b);
		virDomainFree(doms[i]);
	}
	printf("%.6f %d\n", now() - t0, n);
	free(doms);
	return n < 0;
}

static void *nothing(void *arg)
{
	return arg;
}

/* Allocation-heavy work, like parsing: blocks of mixed sizes made,
 * written and freed. */
static void *churn(void *arg)
{
	volatile char sink = 0;

	for (unsigned i = 0; i < 2000000; i++) {
		char *p = malloc(64 + (i & 255));
		if (p) {
			memset(p, (int)i, 32);
			sink += p[3];
		}
		free(p);
	}
	(void)sink;
	return arg;
}

/* The best of a few tries of each, so that a busy moment of the host does
 * not count. */
static int threads(void)
{
	double start = 1e9, one = 1e9, two = 1e9;

	for (int r = 0; r < 50; r++) {
		pthread_t th;
		double t = now();
		if (pthread_create(&th, NULL, nothing, NULL) != 0)
			return 1;
		pthread_join(th, NULL);
		if (now() - t < start)
			start = now() - t;
	}
	for (int r = 0; r < 5; r++) {
		pthread_t th;
		double t = now();
		churn(NULL);
		if (now() - t < one)
			one = now() - t;
		t = now();
		if (pthread_create(&th, NULL, churn, NULL) != 0)
			return 1;
		churn(NULL);
		pthread_join(th, NULL);
		if (now() - t < two)
			two = now() - t;
	}
	printf("%.6f %.2f\n", start, 2 * one / two);
	return 0;
}

static long vmrss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

int main(int argc, char **argv)
{
	virConnectPtr conn;
	int r;

	bool define = argc == 4 && !strcmp(argv[1], "define");
	bool observe = argc == 3 && !strcmp(argv[1], "observe");
	bool rss = argc == 3 && !strcmp(argv[1], "rss");

	if (argc == 2 && !strcmp(argv[1], "threads"))
		return threads();
	if (!define && !observe && !rss) {
		fprintf(stderr, "usage: floor define URI DIR | observe URI | "
				"rss URI | threads\n");
		return 2;
	}
	if (rss && virEventRegisterDefaultImpl() < 0)
		return 1;
	conn = virConnectOpen(argv[2]);
	if (!conn)
		return 1;
	if (define) {
		r = define_all(conn, argv[3]);
	} else if (observe) {
		r = observe_all(conn);
	} else {
		int n = virConnectListAllDomains(conn, NULL, 0);
		printf("%ld %d\n", vmrss_kib(), n);
		r = n < 0;
	}
	virConnectClose(conn);
	return r;
}
