/* The agent under load: how long `virt-reconcile run` takes to converge a
 * burst of new files, single edits and drift made behind its back, beside
 * the floor (the same libvirt calls made bare by this program on its own
 * connection), and what the agent costs at rest (RSS, CPU, wake-ups).
 *
 * usage: bench-agent VR URI N [--edits K] [--idle SECONDS] [--running]
 *
 * The agent runs as a child with its stderr on a pipe that is read all the
 * time; each line is timestamped (CLOCK_MONOTONIC) when it arrives, and
 * "NAME (FILE): in-sync after ..." marks a file converged. Files are
 * written to a stage directory and renamed into the watched one; t0 is
 * taken just before the rename. Domains are named vrbench-NNNN and removed
 * before and after. Results on stdout, one line each:
 *
 *   agent burst N SECONDS FLOOR_DEFINE_SECONDS
 *   agent rss N VMRSS_KIB VMHWM_KIB RSSANON_KIB (anonymous: its own)
 *   agent idle SECONDS CPU_SECONDS WAKEUPS
 *   agent edit K MEDIAN_MS P99_MS WORST_MS CALL_MEDIAN_MS CALL_P99_MS
 *         ADDED_MEDIAN_MS ADDED_P99_MS
 *   agent drift-define K ... (the same fields)
 *   agent drift-destroy K ...
 *   agent hotplug-disk K ... (with --running on QEMU: a running guest's
 *         file saved with a device added or changed, converged live;
 *         CALL the bare virDomainAttachDeviceFlags, or
 *         virDomainUpdateDeviceFlags for hotplug-cd, on a guest of the
 *         same file)
 *   agent hotplug-cd K ... / hotplug-nic K ... / hotplug-dimm K ...
 *
 * CALL: the bare call (virDomainDefineXML; virDomainCreate for a destroyed
 * guest) timed by this program. ADDED: per sample, the latency less the
 * agent's own job time from its log line (its libvirt call and planning):
 * what detection, queueing and the quiet window added.
 *
 * Progress on stderr; on failure the agent's last lines, and exit 1. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PREFIX "virt-reconcile: "
#define TAIL 20
#define EDIT_TIMEOUT 10.0
#define FLOOR_STARTS 5
#define DESTROYS 5
#define UNEXPECTED_MAX 20

/* What the agent said about one domain: index 0 is vrbench-run,
 * 1..N are vrbench-0001..N. */
struct dom_log {
	unsigned synced; /* "in-sync after" lines */
	double first_t;  /* of the first one */
	double last_t;   /* of the last one */
	unsigned calls;  /* of the last one */
	double job_ms;   /* of the last one: the job's own time */
	unsigned other;  /* "PHASE after" lines of another phase */
};

static struct {
	const char *vr, *uri;
	unsigned n;
	bool test;
	double t_start;
	virConnectPtr conn;
	char work[64], watch[96], stage[96];
	/* the agent */
	pid_t pid;
	int fd;
	bool eof;
	char buf[64 * 1024];
	size_t len;
	char *tail[TAIL];
	unsigned tail_next;
	bool ready;
	struct dom_log *doms;
	unsigned unexpected;
} g = {.pid = -1, .fd = -1};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* a poll() timeout covering secs */
static int ms(double secs)
{
	return secs > 0 ? (int)(secs * 1000) + 1 : 0;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench-agent: [%6.1f s] ", now() - g.t_start);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void quiet(void *userdata, virErrorPtr err) {}

/* ---- the agent's lines ---- */

static int name_index(const char *name, size_t len)
{
	unsigned v = 0;

	if (len == 11 && !memcmp(name, "vrbench-run", 11))
		return 0;
	if (len != 12 || memcmp(name, "vrbench-", 8))
		return -1;
	for (size_t i = 8; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(name[i] - '0');
	}
	return v >= 1 && v <= g.n ? (int)v : -1;
}

static bool is_action(const char *msg)
{
	static const char *const acts[] = {
	    "define",        "redefine",      "set-mark", "set-vcpus",
	    "set-memory",    "set-autostart", "start",    "shutdown",
	    "undefine",      "set-metadata",  "destroy",  "detach-device",
	    "update-device", "attach-device",
	};

	for (size_t i = 0; i < sizeof(acts) / sizeof(*acts); i++) {
		size_t l = strlen(acts[i]);
		if (!strncmp(msg, acts[i], l) &&
		    (msg[l] == ':' || msg[l] == ' '))
			return true;
	}
	return false;
}

static void on_line(char *line, double t)
{
	const char *msg, *open, *close, *after;
	unsigned calls;
	int idx;

	free(g.tail[g.tail_next]);
	g.tail[g.tail_next] = strdup(line);
	g.tail_next = (g.tail_next + 1) % TAIL;
	if (strncmp(line, PREFIX, strlen(PREFIX)))
		goto unexpected;
	msg = line + strlen(PREFIX);
	if (!strncmp(msg, "ready: ", 7)) {
		g.ready = true;
		say("agent %s", msg);
		return;
	}
	if (!strncmp(msg, "watching ", 9) || !strcmp(msg, "stopped") ||
	    strstr(msg, ": finishing the calls in flight"))
		return;
	open = strstr(msg, " (");
	close = open ? strstr(open, "): ") : NULL;
	if (!close)
		goto unexpected;
	idx = name_index(msg, (size_t)(open - msg));
	close += 3;
	if (is_action(close))
		return;
	after = strstr(close, " after ");
	if (idx < 0 || !after || sscanf(after, " after %u call", &calls) != 1)
		goto unexpected;
	if ((size_t)(after - close) == 7 && !strncmp(close, "in-sync", 7)) {
		struct dom_log *d = &g.doms[idx];
		if (!d->synced++)
			d->first_t = t;
		d->last_t = t;
		d->calls = calls;
		const char *in = strstr(after, " in ");
		d->job_ms = in ? strtod(in + 4, NULL) : 0;
		return;
	}
	g.doms[idx].other++;
unexpected:
	if (g.unexpected++ < UNEXPECTED_MAX)
		say("agent said: %s", line);
}

/* Reads what the agent wrote within timeout_ms (0: only what is there
 * now), line by line. Returns -1 once the pipe is closed. */
static int pump(int timeout_ms)
{
	struct pollfd p = {.fd = g.fd, .events = POLLIN};
	int r;

	if (g.eof || g.fd < 0)
		return -1;
	r = poll(&p, 1, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -1;
	if (r == 0)
		return 0;
	for (;;) {
		ssize_t got = read(g.fd, g.buf + g.len, sizeof(g.buf) - g.len);
		double t = now();
		char *start = g.buf, *nl;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return errno == EAGAIN ? 0 : -1;
		if (got == 0) {
			g.eof = true;
			return -1;
		}
		g.len += (size_t)got;
		while ((nl = memchr(start, '\n', g.len - (start - g.buf)))) {
			*nl = 0;
			on_line(start, t);
			start = nl + 1;
		}
		g.len -= (size_t)(start - g.buf);
		memmove(g.buf, start, g.len);
		if (g.len == sizeof(g.buf)) { /* a line this long: cut it */
			g.buf[g.len - 1] = 0;
			on_line(g.buf, t);
			g.len = 0;
		}
	}
}

static void print_tail(void)
{
	if (!g.tail[0])
		return;
	say("the agent's last lines:");
	for (unsigned i = 0; i < TAIL; i++) {
		const char *l = g.tail[(g.tail_next + i) % TAIL];
		if (l)
			fprintf(stderr, "    %s\n", l);
	}
}

/* SIGTERM, then its lines until the pipe closes (at most timeout
 * seconds, then SIGKILL). Returns its wait status, or -1. */
static int stop_agent(double timeout)
{
	double deadline = now() + timeout;
	int status = -1;

	if (g.pid < 0)
		return -1;
	kill(g.pid, SIGTERM);
	while (!g.eof && now() < deadline)
		if (pump(ms(deadline - now())) < 0)
			break;
	if (!g.eof) {
		say("the agent did not exit within %.0f s; killing it",
		    timeout);
		kill(g.pid, SIGKILL);
	}
	while (waitpid(g.pid, &status, 0) < 0 && errno == EINTR)
		;
	g.pid = -1;
	close(g.fd);
	g.fd = -1;
	return status;
}

/* ---- libvirt ---- */

/* Removes every vrbench-* domain: destroyed if active, then undefined. */
static int remove_domains(void)
{
	virDomainPtr *doms = NULL;
	int n, bad = 0;

	if (!g.conn)
		return 0;
	n = virConnectListAllDomains(g.conn, &doms, 0);
	if (n < 0) {
		say("listing domains: %s", virGetLastErrorMessage());
		return -1;
	}
	for (int i = 0; i < n; i++) {
		const char *name = virDomainGetName(doms[i]);
		if (name && !strncmp(name, "vrbench-", 8)) {
			if (virDomainIsActive(doms[i]) == 1 &&
			    virDomainDestroy(doms[i]) < 0)
				bad = 1;
			if (virDomainIsPersistent(doms[i]) == 1 &&
			    virDomainUndefine(doms[i]) < 0)
				bad = 1;
			if (bad)
				say("removing %s: %s", name,
				    virGetLastErrorMessage());
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	return bad ? -1 : 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	remove(path);
	return 0;
}

#define HOT_IMAGES "/var/lib/libvirt/images/vrbench-hot-"
#define HOT_DISKS 8
#define HOT_CDS 8
#define HOT_NICS 3
#define HOT_DIMMS 2

static void remove_images(void)
{
	char path[96];

	for (int i = 0; i < HOT_DISKS + 2; i++) {
		snprintf(path, sizeof(path), HOT_IMAGES "%d.img", i);
		unlink(path);
	}
}

static void clean_up(void)
{
	remove_domains();
	remove_images();
	if (g.work[0])
		nftw(g.work, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	g.work[0] = 0;
}

static void die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("bench-agent: FAILED: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (g.pid >= 0)
		pump(0);
	print_tail();
	int st = stop_agent(10);
	if (st >= 0 && WIFSIGNALED(st))
		say("the agent was killed by signal %d", WTERMSIG(st));
	else if (st >= 0)
		say("the agent exited with status %d", WEXITSTATUS(st));
	clean_up();
	exit(1);
}

static virDomainPtr define(const char *xml, double *secs)
{
	double t = now();
	virDomainPtr d = virDomainDefineXML(g.conn, xml);

	if (secs)
		*secs = now() - t;
	if (!d)
		die("virDomainDefineXML: %s", virGetLastErrorMessage());
	return d;
}

static void undefine(virDomainPtr d)
{
	if (virDomainUndefine(d) < 0)
		die("virDomainUndefine %s: %s", virDomainGetName(d),
		    virGetLastErrorMessage());
	virDomainFree(d);
}

static virDomainPtr lookup(const char *name)
{
	virDomainPtr d = virDomainLookupByName(g.conn, name);

	if (!d)
		die("virDomainLookupByName %s: %s", name,
		    virGetLastErrorMessage());
	return d;
}

/* The inactive XML with <memory> and <currentMemory> set to kib; all else
 * (the <metadata> mark among it) kept. */
static char *set_memory(const char *xml, unsigned long kib)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
				      XML_PARSE_NONET);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlChar *out = NULL;
	char value[32], *s;
	int len, found = 0;

	if (!root)
		die("cannot parse the domain XML");
	snprintf(value, sizeof(value), "%lu", kib);
	for (xmlNodePtr c = root->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE ||
		    (xmlStrcmp(c->name, BAD_CAST "memory") &&
		     xmlStrcmp(c->name, BAD_CAST "currentMemory")))
			continue;
		xmlNodeSetContent(c, BAD_CAST value);
		xmlSetProp(c, BAD_CAST "unit", BAD_CAST "KiB");
		found++;
	}
	if (found != 2)
		die("the domain XML has no <memory> and <currentMemory>");
	xmlDocDumpMemory(doc, &out, &len);
	xmlFreeDoc(doc);
	if (!out)
		die("cannot write the domain XML");
	s = strdup((const char *)out);
	xmlFree(out);
	return s;
}

/* ---- files ---- */

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(text);

	if (fd < 0 || fchmod(fd, 0600) < 0 ||
	    write(fd, text, len) != (ssize_t)len || close(fd) < 0)
		die("writing %s: %s", path, strerror(errno));
}

static void stage_domain(unsigned i, unsigned mib)
{
	char path[160], text[160];

	snprintf(path, sizeof(path), "%s/vrbench-%04u.yaml", g.stage, i);
	snprintf(text, sizeof(text),
		 "name: vrbench-%04u\nmemory: %u MiB\nvcpu: {value: 2, "
		 "current: 1}\nstate: shutoff\n",
		 i, mib);
	write_file(path, text);
}

/* A running guest with ACPI, a NUMA cell, memory slots and a CD-ROM, so
 * that devices hot-plug: disks vdb… (n), the CD's medium (0 none, 1 or 2),
 * interfaces and DIMMs. */
static void stage_hot(const char *file, const char *name, int disks, int cd,
		      int nics, int dimms)
{
	char path[160], *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		die("out of memory");
	fprintf(f,
		"name: %s\ntype: qemu\nvcpu: 1\nstate: running\n"
		"maxMemory: {value: 1 GiB, slots: %d}\n"
		"cpu: {numa: [{id: 0, cpus: 0, memory: 64 MiB}]}\n"
		"features: [acpi]\ndevices:\n  disk:\n"
		"    - {device: cdrom, target: {dev: hdc, bus: ide}",
		name, HOT_DIMMS);
	if (cd)
		fprintf(f, ", source: {file: " HOT_IMAGES "%d.img}",
			HOT_DISKS + cd - 1);
	fprintf(f, "}\n");
	for (int i = 0; i < disks; i++)
		fprintf(f,
			"    - {source: {file: " HOT_IMAGES
			"%d.img}, target: {dev: vd%c}}\n",
			i, 'b' + i);
	if (nics)
		fprintf(f, "  interface:\n");
	for (int i = 0; i < nics; i++)
		fprintf(f, "    - {type: user, model: virtio}\n");
	if (dimms)
		fprintf(f, "  memory:\n");
	for (int i = 0; i < dimms; i++)
		fprintf(f, "    - {model: dimm, target: {size: 128 MiB, "
			   "node: 0}}\n");
	if (fclose(f) != 0)
		die("out of memory");
	snprintf(path, sizeof(path), "%s/%s", g.stage, file);
	write_file(path, text);
	free(text);
}

static void stage_running(const char *file, const char *name)
{
	stage_hot(file, name, 0, 0, 0, 0);
}

/* The image files the hot-plugged disks (0 to HOT_DISKS - 1) and the CD's
 * two media (the next two) use: empty, 1 MiB, raw,
 * where QEMU's user may read them. */
static void make_images(void)
{
	char path[96];

	for (int i = 0; i < HOT_DISKS + 2; i++) {
		int fd;
		snprintf(path, sizeof(path), HOT_IMAGES "%d.img", i);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || ftruncate(fd, 1 << 20) < 0 || close(fd) < 0)
			die("%s: %s", path, strerror(errno));
	}
}

/* Renames the staged file into the watched directory; returns t0, taken
 * just before. */
static double drop(const char *file)
{
	char from[160], to[160];
	double t0;

	snprintf(from, sizeof(from), "%s/%s", g.stage, file);
	snprintf(to, sizeof(to), "%s/%s", g.watch, file);
	t0 = now();
	if (rename(from, to) < 0)
		die("rename %s: %s", from, strerror(errno));
	return t0;
}

/* s, single-quoted for the shell */
static char *shell_quote(const char *s)
{
	char *q = malloc(strlen(s) * 4 + 3), *p = q;

	if (!q)
		die("out of memory");
	*p++ = '\'';
	for (; *s; s++) {
		if (*s == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = *s;
		}
	}
	*p++ = '\'';
	*p = 0;
	return q;
}

/* `VR render -c URI FILE`, the staged file */
static char *render(const char *file)
{
	char path[160], *cmd, *vr = shell_quote(g.vr),
			      *uri = shell_quote(g.uri), *qpath, *out = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", g.stage, file);
	qpath = shell_quote(path);
	if (asprintf(&cmd, "%s render -c %s %s", vr, uri, qpath) < 0)
		die("out of memory");
	f = popen(cmd, "r");
	if (!f || getdelim(&out, &cap, 0, f) < 0 || pclose(f) != 0)
		die("%s failed", cmd);
	free(cmd);
	free(vr);
	free(uri);
	free(qpath);
	return out;
}

/* ---- waiting ---- */

/* Drains the pipe for secs. */
static void pump_for(double secs)
{
	double deadline = now() + secs, left;

	while ((left = deadline - now()) > 0)
		if (pump(ms(left)) < 0)
			die("the agent exited");
}

/* Waits for domain idx's next "in-sync after" line (after it had
 * `before`); returns its time, or dies after timeout seconds. */
static double wait_synced(int idx, unsigned before, double timeout,
			  const char *what)
{
	double deadline = now() + timeout, left;

	while (g.doms[idx].synced <= before) {
		if ((left = deadline - now()) <= 0)
			die("%s: no in-sync line within %.0f s", what, timeout);
		if (pump(ms(left)) < 0)
			die("%s: the agent exited", what);
	}
	return g.doms[idx].last_t;
}

/* ---- the agent's process ---- */

static void start_agent(void)
{
	char status[128];
	int p[2];

	snprintf(status, sizeof(status), "%s/status.json", g.work);
	if (pipe2(p, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	fcntl(p[0], F_SETPIPE_SZ, 1 << 20); /* slack; best effort */
	fflush(NULL);
	g.pid = fork();
	if (g.pid < 0)
		die("fork: %s", strerror(errno));
	if (g.pid == 0) {
		const char *argv[] = {
		    g.vr,   "run",           "-c",   g.uri,   "--resync",
		    "3600", "--status-file", status, g.watch, NULL};
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execv(g.vr, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	g.fd = p[0];
	if (fcntl(g.fd, F_SETFL, O_NONBLOCK) < 0)
		die("fcntl: %s", strerror(errno));
}

static unsigned long long proc_field(const char *path, const char *key)
{
	FILE *f = fopen(path, "r");
	char line[256];
	unsigned long long v = 0;
	size_t kl = strlen(key);

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtoull(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* utime + stime, in seconds */
static double cpu_seconds(void)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)g.pid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f))
		die("reading %s: %s", path, strerror(errno));
	fclose(f);
	p = strrchr(buf, ')');
	/* fields 14 and 15; field 3 is the first after the ')' */
	if (!p || sscanf(p + 1,
			 " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu "
			 "%llu",
			 &ut, &st) != 2)
		die("cannot parse %s", path);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

struct task {
	int tid;
	char comm[32];
	unsigned long long vol, nonvol;
};

static size_t tasks_read(struct task **out)
{
	char path[96];
	struct task *t = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)g.pid);
	if (!(d = opendir(path)))
		die("reading %s: %s", path, strerror(errno));
	while ((de = readdir(d))) {
		struct task *grown;
		FILE *f;
		if (de->d_name[0] == '.')
			continue;
		if (!(grown = reallocarray(t, n + 1, sizeof(*t))))
			die("out of memory");
		t = grown;
		t[n] = (struct task){.tid = atoi(de->d_name)};
		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm",
			 (int)g.pid, t[n].tid);
		if ((f = fopen(path, "r"))) {
			if (fgets(t[n].comm, sizeof(t[n].comm), f))
				t[n].comm[strcspn(t[n].comm, "\n")] = 0;
			fclose(f);
		}
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status",
			 (int)g.pid, t[n].tid);
		t[n].vol = proc_field(path, "voluntary_ctxt_switches");
		t[n].nonvol = proc_field(path, "nonvoluntary_ctxt_switches");
		n++;
	}
	closedir(d);
	*out = t;
	return n;
}

/* ---- statistics ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct summary {
	double median, p99, worst;
};

static struct summary summarize(double *v, size_t n)
{
	struct summary s = {0};

	if (!n)
		return s;
	qsort(v, n, sizeof(*v), cmp_double);
	s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s.p99 = v[(99 * n + 99) / 100 - 1] /* ceil(0.99 n) - 1 */;
	s.worst = v[n - 1];
	return s;
}

/* job: per sample, the agent's own time for the job (its libvirt call and
 * its planning, from its log): latency - job is what the agent added. */
static void print_latency(const char *what, size_t k, double *lat, double *call,
			  size_t n_call, const double *job)
{
	double *over = calloc(k ? k : 1, sizeof(*over));

	if (!over)
		die("out of memory");
	for (size_t i = 0; i < k; i++)
		over[i] = lat[i] - job[i];
	struct summary l = summarize(lat, k), c = summarize(call, n_call),
		       o = summarize(over, k);
	printf("agent %s %zu %.2f %.2f %.2f %.2f %.2f %.2f %.2f\n", what, k,
	       l.median * 1e3, l.p99 * 1e3, l.worst * 1e3, c.median * 1e3,
	       c.p99 * 1e3, o.median * 1e3, o.p99 * 1e3);
	fflush(stdout);
	free(over);
}

/* the first and last few samples, in the order taken, for the log */
static void show_trend(const char *what, const double *v, size_t n)
{
	char line[512];
	size_t len = 0;

	for (size_t i = 0; i < n && len < sizeof(line) - 32; i++) {
		if (n > 10 && i == 5) {
			len += snprintf(line + len, sizeof(line) - len, " ...");
			i = n - 5;
		}
		len += snprintf(line + len, sizeof(line) - len, " %.1f",
				v[i] * 1e3);
	}
	say("%s, ms in order:%s", what, line);
}

/* ---- the measurements ---- */

static void usage(void)
{
	fprintf(stderr, "usage: bench-agent VR URI N [--edits K] [--idle "
			"SECONDS] [--running]\n");
	exit(1);
}

static unsigned long number(const char *s, unsigned long max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || !v || v > max)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	unsigned edits = 200, idle = 60, n;
	bool running = false;

	g.t_start = now();

	if (argc < 4)
		usage();
	g.vr = argv[1];
	g.uri = argv[2];
	g.n = n = (unsigned)number(argv[3], 9999);
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--edits") && i + 1 < argc)
			edits = (unsigned)number(argv[++i], 1000000);
		else if (!strcmp(argv[i], "--idle") && i + 1 < argc)
			idle = (unsigned)number(argv[++i], 86400);
		else if (!strcmp(argv[i], "--running"))
			running = true;
		else
			usage();
	}
	g.test = !strncmp(g.uri, "test:", 5);
	if (!(g.doms = calloc(n + 1, sizeof(*g.doms))))
		die("out of memory");
	signal(SIGPIPE, SIG_IGN);
	virSetErrorFunc(NULL, quiet);

	snprintf(g.work, sizeof(g.work), "/tmp/bench-agent.XXXXXX");
	if (!mkdtemp(g.work)) {
		g.work[0] = 0;
		die("mkdtemp: %s", strerror(errno));
	}
	snprintf(g.watch, sizeof(g.watch), "%s/watch", g.work);
	snprintf(g.stage, sizeof(g.stage), "%s/stage", g.work);
	if (mkdir(g.watch, 0700) < 0 || chmod(g.watch, 0700) < 0 ||
	    mkdir(g.stage, 0700) < 0)
		die("mkdir: %s", strerror(errno));

	say("connecting to %s", g.uri);
	if (!(g.conn = virConnectOpen(g.uri)))
		die("virConnectOpen %s: %s", g.uri, virGetLastErrorMessage());
	if (remove_domains() < 0)
		die("cannot remove the old vrbench-* domains");

	/* 1. the floor */
	char path[160];
	say("floor: rendering %u files", n);
	char **xml = calloc(n, sizeof(*xml));
	char file[64];
	if (!xml)
		die("out of memory");
	for (unsigned i = 1; i <= n; i++) {
		stage_domain(i, 64);
		snprintf(file, sizeof(file), "vrbench-%04u.yaml", i);
		xml[i - 1] = render(file);
	}
	say("floor: defining %u domains", n);
	virDomainPtr *defined = calloc(n, sizeof(*defined));
	if (!defined)
		die("out of memory");
	double t = now();
	for (unsigned i = 0; i < n; i++)
		defined[i] = define(xml[i], NULL);
	double floor_define = now() - t;
	for (unsigned i = 0; i < n; i++) {
		undefine(defined[i]);
		free(xml[i]);
	}
	free(defined);
	free(xml);

	say("floor: %u redefines of vrbench-floor", edits);
	char *floor_xml[2];
	double *call = calloc(edits, sizeof(*call));
	if (!call)
		die("out of memory");
	/* defined from the rendered file once; then redefined from its own
	 * inactive XML (its UUID kept), as the agent does */
	snprintf(path, sizeof(path), "%s/floor.yaml", g.stage);
	write_file(path, "name: vrbench-floor\nmemory: 64 MiB\nvcpu: {value: "
			 "2, current: 1}\nstate: shutoff\n");
	char *x = render("floor.yaml");
	virDomainPtr d = define(x, NULL);
	free(x);
	if (!(x = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE)))
		die("virDomainGetXMLDesc vrbench-floor: %s",
		    virGetLastErrorMessage());
	virDomainFree(d);
	floor_xml[0] = set_memory(x, 64 * 1024);
	floor_xml[1] = set_memory(x, 96 * 1024);
	free(x);
	for (unsigned k = 0; k < edits; k++) {
		d = define(floor_xml[(k + 1) % 2], &call[k]);
		virDomainFree(d);
	}
	undefine(lookup("vrbench-floor"));
	free(floor_xml[0]);
	free(floor_xml[1]);

	double start_call[FLOOR_STARTS];
	if (running && !g.test) {
		say("floor: %d starts of vrbench-flrun", FLOOR_STARTS);
		stage_running("flrun.yaml", "vrbench-flrun");
		x = render("flrun.yaml");
		d = define(x, NULL);
		free(x);
		for (int k = 0; k < FLOOR_STARTS; k++) {
			t = now();
			if (virDomainCreate(d) < 0)
				die("virDomainCreate vrbench-flrun: %s",
				    virGetLastErrorMessage());
			start_call[k] = now() - t;
			if (virDomainDestroy(d) < 0)
				die("virDomainDestroy vrbench-flrun: %s",
				    virGetLastErrorMessage());
		}
		undefine(d);
	}

	/* the bare device calls, on a guest of the same file */
	double hot_call[4][HOT_DISKS];
	if (running && !g.test) {
		static const char *const nic =
		    "<interface type='user'><model type='virtio'/></interface>";
		static const char *const dimm =
		    "<memory model='dimm'><target><size unit='MiB'>128</size>"
		    "<node>0</node></target></memory>";
		char dev[256];
		say("floor: device calls on vrbench-flhot");
		make_images();
		stage_hot("flhot.yaml", "vrbench-flhot", 0, 0, 0, 0);
		x = render("flhot.yaml");
		d = define(x, NULL);
		free(x);
		if (virDomainCreate(d) < 0)
			die("virDomainCreate vrbench-flhot: %s",
			    virGetLastErrorMessage());
		for (int k = 0; k < HOT_DISKS; k++) {
			snprintf(dev, sizeof(dev),
				 "<disk type='file' device='disk'><source "
				 "file='" HOT_IMAGES
				 "%d.img'/><target dev='vd%c' "
				 "bus='virtio'/></disk>",
				 k, 'b' + k);
			t = now();
			if (virDomainAttachDeviceFlags(
				d, dev, VIR_DOMAIN_AFFECT_LIVE) < 0)
				die("attaching a disk to vrbench-flhot: %s",
				    virGetLastErrorMessage());
			hot_call[0][k] = now() - t;
		}
		for (int k = 0; k < HOT_CDS; k++) {
			snprintf(dev, sizeof(dev),
				 "<disk type='file' device='cdrom'><source "
				 "file='" HOT_IMAGES
				 "%d.img'/><target dev='hdc' "
				 "bus='ide'/><readonly/></disk>",
				 HOT_DISKS + k % 2);
			t = now();
			if (virDomainUpdateDeviceFlags(
				d, dev, VIR_DOMAIN_AFFECT_LIVE) < 0)
				die("changing vrbench-flhot's CD: %s",
				    virGetLastErrorMessage());
			hot_call[1][k] = now() - t;
		}
		for (int k = 0; k < HOT_NICS; k++) {
			t = now();
			if (virDomainAttachDeviceFlags(
				d, nic, VIR_DOMAIN_AFFECT_LIVE) < 0)
				die("attaching a NIC to vrbench-flhot: %s",
				    virGetLastErrorMessage());
			hot_call[2][k] = now() - t;
		}
		for (int k = 0; k < HOT_DIMMS; k++) {
			t = now();
			if (virDomainAttachDeviceFlags(
				d, dimm, VIR_DOMAIN_AFFECT_LIVE) < 0)
				die("attaching a DIMM to vrbench-flhot: %s",
				    virGetLastErrorMessage());
			hot_call[3][k] = now() - t;
		}
		virDomainDestroy(d);
		undefine(d);
	}

	/* 2. the agent, on an empty directory */
	say("starting the agent on %s", g.watch);
	start_agent();
	double deadline = now() + 60;
	while (!g.ready) {
		if (now() > deadline)
			die("no ready line within 60 s");
		if (pump(ms(deadline - now())) < 0)
			die("the agent exited before it was ready");
	}

	/* 3. the burst */
	say("burst: %u files", n);
	double t0 = 0, last = 0, timeout = 60 + 0.2 * n;
	for (unsigned i = 1; i <= n; i++) {
		snprintf(file, sizeof(file), "vrbench-%04u.yaml", i);
		t = drop(file);
		if (i == 1)
			t0 = t;
		if (pump(0) < 0)
			die("burst: the agent exited");
	}
	deadline = t0 + timeout;
	for (unsigned i = 1; i <= n; i++) {
		double left;
		while (!g.doms[i].synced) {
			if ((left = deadline - now()) <= 0)
				die("burst: vrbench-%04u not in sync within "
				    "%.0f s",
				    i, timeout);
			if (pump(ms(left)) < 0)
				die("burst: the agent exited");
		}
		if (g.doms[i].first_t > last)
			last = g.doms[i].first_t;
	}
	printf("agent burst %u %.4f %.4f\n", n, last - t0, floor_define);
	fflush(stdout);

	/* the burst's tail (the status write 50 ms after the last job, the
	 * memory handed back), before memory and rest are measured */
	pump_for(1);

	/* 4. memory */
	snprintf(path, sizeof(path), "/proc/%d/status", (int)g.pid);
	printf("agent rss %u %llu %llu %llu\n", n, proc_field(path, "VmRSS"),
	       proc_field(path, "VmHWM"), proc_field(path, "RssAnon"));
	fflush(stdout);

	/* 5. at rest */
	say("idle: %u s", idle);
	struct task *before, *after;
	size_t n_before = tasks_read(&before), n_after;
	double cpu0 = cpu_seconds(), ti = now();
	pump_for(idle);
	double cpu1 = cpu_seconds(), idle_secs = now() - ti;
	unsigned long long wakeups = 0;
	n_after = tasks_read(&after);
	for (size_t i = 0; i < n_after; i++) {
		unsigned long long v0 = 0, n0 = 0, dv, dn;
		bool known = false;
		for (size_t j = 0; j < n_before; j++)
			if (before[j].tid == after[i].tid) {
				v0 = before[j].vol;
				n0 = before[j].nonvol;
				known = true;
			}
		dv = after[i].vol - v0;
		dn = after[i].nonvol - n0;
		wakeups += dv + dn;
		if (dv + dn)
			say("idle: thread %d (%s%s%s) woke %llu times "
			    "(%llu voluntary, %llu involuntary)",
			    after[i].tid, after[i].comm,
			    after[i].tid == g.pid ? ", main" : "",
			    known ? "" : ", new", dv + dn, dv, dn);
	}
	if (n_after != n_before)
		say("idle: %zu threads before, %zu after", n_before, n_after);
	free(before);
	free(after);
	printf("agent idle %.4f %.4f %llu\n", idle_secs, cpu1 - cpu0, wakeups);
	fflush(stdout);

	/* 6. edits */
	say("edits: %u", edits);
	double *lat = calloc(edits, sizeof(*lat));
	double *job = calloc(edits, sizeof(*job));
	bool *big = calloc(n + 1, sizeof(*big));
	unsigned many_calls = 0;
	if (!lat || !job || !big)
		die("out of memory");
	for (unsigned k = 0; k < edits; k++) {
		unsigned i = k % n + 1, had = g.doms[i].synced;
		char what[64];
		big[i] = !big[i];
		stage_domain(i, big[i] ? 96 : 64);
		snprintf(file, sizeof(file), "vrbench-%04u.yaml", i);
		snprintf(what, sizeof(what), "edit %u (vrbench-%04u)", k + 1,
			 i);
		t0 = drop(file);
		lat[k] = wait_synced((int)i, had, EDIT_TIMEOUT, what) - t0;
		if (g.doms[i].calls != 1)
			many_calls++;
		job[k] = g.doms[i].job_ms / 1e3;
		pump_for(0.005);
	}
	show_trend("edits", lat, edits);
	if (many_calls)
		say("edits: %u made more than one call", many_calls);
	print_latency("edit", edits, lat, call, edits, job);
	struct summary js = summarize(job, edits);
	say("edits: the agent's job took %.2f ms median, %.2f ms p99 (its "
	    "own figure)",
	    js.median * 1e3, js.p99 * 1e3);
	free(job);

	/* 7. drift: redefined behind the agent's back */
	if (g.test) {
		printf("agent drift-define 0 skipped\n");
		fflush(stdout);
	} else {
		unsigned k_drift = edits / 4 < 20 ? 20 : edits / 4;
		double *dlat = calloc(k_drift, sizeof(*dlat));
		double *dcall = calloc(k_drift, sizeof(*dcall));
		double *djob = calloc(k_drift, sizeof(*djob));
		if (!dlat || !dcall || !djob)
			die("out of memory");
		say("drift: %u redefines behind the agent's back", k_drift);
		for (unsigned k = 0; k < k_drift; k++) {
			unsigned i = k % n + 1, had;
			char name[32], what[64], *y;
			snprintf(name, sizeof(name), "vrbench-%04u", i);
			snprintf(what, sizeof(what), "drift %u (%s)", k + 1,
				 name);
			d = lookup(name);
			if (!(x = virDomainGetXMLDesc(d,
						      VIR_DOMAIN_XML_INACTIVE)))
				die("virDomainGetXMLDesc %s: %s", name,
				    virGetLastErrorMessage());
			y = set_memory(x, 131072);
			virDomainFree(d);
			had = g.doms[i].synced;
			d = define(y, &dcall[k]);
			t0 = now();
			virDomainFree(d);
			free(x);
			free(y);
			dlat[k] =
			    wait_synced((int)i, had, EDIT_TIMEOUT, what) - t0;
			djob[k] = g.doms[i].job_ms / 1e3;
			pump_for(0.005);
		}
		show_trend("drift", dlat, k_drift);
		print_latency("drift-define", k_drift, dlat, dcall, k_drift,
			      djob);
		free(dlat);
		free(dcall);
		free(djob);
	}

	/* 8. a running guest destroyed behind the agent's back */
	if (running && g.test) {
		printf("agent drift-destroy 0 skipped\n");
		fflush(stdout);
	} else if (running) {
		double rlat[DESTROYS], rjob[DESTROYS];
		say("destroy: vrbench-run");
		stage_running("vrbench-run.yaml", "vrbench-run");
		t0 = drop("vrbench-run.yaml");
		t = wait_synced(0, 0, 60, "vrbench-run") - t0;
		say("destroy: vrbench-run started in %.0f ms after %u calls",
		    t * 1e3, g.doms[0].calls);
		for (int k = 0; k < DESTROYS; k++) {
			unsigned had = g.doms[0].synced;
			char what[32];
			int state = 0, reason;
			snprintf(what, sizeof(what), "destroy %d", k + 1);
			d = lookup("vrbench-run");
			if (virDomainDestroy(d) < 0)
				die("virDomainDestroy vrbench-run: %s",
				    virGetLastErrorMessage());
			t0 = now();
			rlat[k] = wait_synced(0, had, EDIT_TIMEOUT, what) - t0;
			rjob[k] = g.doms[0].job_ms / 1e3;
			deadline = now() + EDIT_TIMEOUT;
			while (virDomainGetState(d, &state, &reason, 0) == 0 &&
			       state != VIR_DOMAIN_RUNNING) {
				if (now() > deadline)
					die("%s: not running again", what);
				pump_for(0.01);
			}
			if (state != VIR_DOMAIN_RUNNING)
				die("virDomainGetState vrbench-run: %s",
				    virGetLastErrorMessage());
			virDomainFree(d);
			pump_for(0.2);
		}
		show_trend("destroy", rlat, DESTROYS);
		print_latency("drift-destroy", DESTROYS, rlat, start_call,
			      FLOOR_STARTS, rjob);
	}

	/* 8b. live devices on vrbench-run: each file saved, converged live */
	if (running && !g.test) {
		static const char *const kinds[] = {"hotplug-disk",
						    "hotplug-cd", "hotplug-nic",
						    "hotplug-dimm"};
		static const int counts[] = {HOT_DISKS, HOT_CDS, HOT_NICS,
					     HOT_DIMMS};
		int disks = 0, cd = 0, nics = 0, dimms = 0;
		for (int kind = 0; kind < 4; kind++) {
			double hlat[HOT_DISKS], hjob[HOT_DISKS];
			say("%s: %d files saved", kinds[kind], counts[kind]);
			for (int k = 0; k < counts[kind]; k++) {
				unsigned had = g.doms[0].synced;
				char what[48];
				if (kind == 0)
					disks++;
				else if (kind == 1)
					cd = cd == 1 ? 2 : 1;
				else if (kind == 2)
					nics++;
				else
					dimms++;
				snprintf(what, sizeof(what), "%s %d",
					 kinds[kind], k + 1);
				stage_hot("vrbench-run.yaml", "vrbench-run",
					  disks, cd, nics, dimms);
				t0 = drop("vrbench-run.yaml");
				hlat[k] =
				    wait_synced(0, had, EDIT_TIMEOUT, what) -
				    t0;
				hjob[k] = g.doms[0].job_ms / 1e3;
				pump_for(0.05);
			}
			show_trend(kinds[kind], hlat, counts[kind]);
			print_latency(kinds[kind], counts[kind], hlat,
				      hot_call[kind], counts[kind], hjob);
		}
	}

	/* 9. the end */
	say("stopping the agent");
	t = now();
	int status = stop_agent(30);
	say("the agent exited in %.2f s", now() - t);
	if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("the agent's exit status is %d (signal %d), not 0",
		    status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		    status >= 0 && WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	if (g.unexpected > UNEXPECTED_MAX)
		say("%u unexpected agent lines in all", g.unexpected);
	for (unsigned i = 0; i <= n; i++) {
		char name[32];
		if (!g.doms[i].other)
			continue;
		if (i)
			snprintf(name, sizeof(name), "vrbench-%04u", i);
		else
			snprintf(name, sizeof(name), "vrbench-run");
		say("%s: %u lines with a phase other than in-sync", name,
		    g.doms[i].other);
	}
	clean_up();
	virConnectClose(g.conn);
	free(lat);
	free(big);
	free(call);
	say("done in %.1f s", now() - g.t_start);
	return 0;
}
