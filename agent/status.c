/* What the agent reports: a status file (JSON, written atomically) that
 * `status` prints, Prometheus text metrics for node_exporter's textfile
 * collector, and systemd's notification socket. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "cli.h"
#include "storage.h"

#define AG_DEFAULT_STATUS "/run/virt-reconcile/status.json"

static json_object *time_json(time_t t)
{
	char buf[32];
	struct tm tm;

	if (!t)
		return NULL;
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_object_new_string(buf);
}

static json_object *str_json(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* The domain's UUID and id (-1 when not running), when known. */
static void domain_json(json_object *o, const char *uuid, int id)
{
	if (!*uuid)
		return;
	json_object_object_add(o, "uuid", json_object_new_string(uuid));
	json_object_object_add(o, "id", json_object_new_int(id));
}

static int volume_json(const char *pool, const char *name, void *array)
{
	_cleanup_free_ char *item = ag_xasprintf("%s/%s", pool, name);

	json_object_array_add(array, str_json(item));
	return 0;
}

static json_object *item_json(const struct ag_item *it)
{
	json_object *o = json_object_new_object();

	/* escaped: json-c copies bytes as they are, and a name that is not
	 * UTF-8 would make the whole file invalid JSON */
	json_object_object_add(o, "file", str_json(it->shown));
	json_object_object_add(o, "domain", str_json(it->domain));
	domain_json(o, it->uuid, it->id);
	json_object_object_add(o, "phase", str_json(rc_phase_name(it->phase)));
	json_object_object_add(o, "error", str_json(it->error));
	json_object_object_add(o, "note", str_json(it->note));
	if (it->volumes) {
		/* the storage the domain's mark lists: pool/name each */
		json_object *v = json_object_new_array();
		rc_volumes_each(it->volumes, volume_json, v);
		json_object_object_add(o, "volumes", v);
	}
	json_object_object_add(o, "last_change", str_json(it->last_change));
	json_object_object_add(o, "changed_at", time_json(it->changed_at));
	json_object_object_add(o, "checked_at", time_json(it->checked_at));
	return o;
}

static json_object *status_json(struct ag_agent *a)
{
	json_object *root = json_object_new_object();
	json_object *agent = json_object_new_object();
	json_object *doms = json_object_new_array();

	json_object_object_add(agent, "pid", json_object_new_int(getpid()));
	json_object_object_add(agent, "dir", str_json(a->dir_shown));
	json_object_object_add(agent, "uri", str_json(a->opts.uri));
	json_object_object_add(agent, "connected",
			       json_object_new_boolean(a->connected));
	/* why not: connecting, unreachable, not answering */
	json_object_object_add(agent, "libvirt",
			       str_json(a->connected      ? "connected"
					: a->connecting   ? "connecting"
					: a->libvirt_note ? a->libvirt_note
							  : "not connected"));
	json_object_object_add(agent, "started", time_json(a->stats.started));
	json_object_object_add(agent, "last_resync",
			       time_json(a->stats.last_resync));
	json_object_object_add(agent, "written", time_json(time(NULL)));
	/* a write that failed before this one (the disk was full, say) */
	json_object_object_add(agent, "last_write_error",
			       str_json(a->write_error));
	json_object_object_add(agent, "last_write_error_at",
			       time_json(a->write_error_at));
	json_object_object_add(root, "agent", agent);
	for (size_t i = 0; i < a->n_items; i++)
		json_object_array_add(doms, item_json(a->items[i]));
	for (size_t i = 0; i < a->n_orphans; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "file", str_json(a->orphans[i].file));
		json_object_object_add(o, "domain",
				       str_json(a->orphans[i].domain));
		domain_json(o, a->orphans[i].uuid, a->orphans[i].id);
		json_object_object_add(
		    o, "phase", str_json(rc_phase_name(a->orphans[i].phase)));
		json_object_object_add(o, "note", str_json(a->orphans[i].note));
		json_object_array_add(doms, o);
	}
	json_object_object_add(root, "domains", doms);
	return root;
}

/* Writes text to path atomically: a temp file beside it, then rename, so
 * that a reader sees the old state or the new, whole. No fsync: the file
 * is rewritten after every change and at start, so a crash loses nothing
 * that matters, and a sync on the event loop's thread (tens of ms on a
 * busy disk) would delay the next file event or drift repair. */
static int write_atomic(const char *path, const char *text)
{
	_cleanup_free_ char *tmp = NULL;
	size_t len = strlen(text);
	int fd, r = 0;

	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len && r == 0;) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n > 0)
			off += n;
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

static void count_phases(struct ag_agent *a, size_t *count)
{
	for (size_t i = 0; i <= RC_PHASE_ORPHANED; i++)
		count[i] = 0;
	for (size_t i = 0; i < a->n_items; i++)
		count[a->items[i]->phase]++;
	for (size_t i = 0; i < a->n_orphans; i++)
		count[a->orphans[i].phase]++;
}

/* From a quick in-sync job (a file read, a domain read) to a graceful
 * shutdown that runs into its timeout. */
static const double duration_bounds[AG_DURATION_BUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60,
};

void ag_stats_observe(struct ag_stats *s, double seconds)
{
	size_t i = 0;

	while (i < AG_DURATION_BUCKETS && seconds > duration_bounds[i])
		i++;
	s->durations[i]++;
	s->duration_sum += seconds;
}

/* The histogram in Prometheus' text form: cumulative buckets, then the
 * sum and the count. */
static void metrics_durations(FILE *f, const struct ag_stats *s)
{
	uint64_t total = 0;

	fputs("# HELP virt_reconcile_reconcile_duration_seconds How long "
	      "each file's reconcile took.\n"
	      "# TYPE virt_reconcile_reconcile_duration_seconds histogram\n",
	      f);
	for (size_t i = 0; i < AG_DURATION_BUCKETS; i++) {
		total += s->durations[i];
		fprintf(f,
			"virt_reconcile_reconcile_duration_seconds_bucket"
			"{le=\"%g\"} %llu\n",
			duration_bounds[i], (unsigned long long)total);
	}
	total += s->durations[AG_DURATION_BUCKETS];
	fprintf(f,
		"virt_reconcile_reconcile_duration_seconds_bucket{le=\"+Inf\"} "
		"%llu\n"
		"virt_reconcile_reconcile_duration_seconds_sum %.6f\n"
		"virt_reconcile_reconcile_duration_seconds_count %llu\n",
		(unsigned long long)total, s->duration_sum,
		(unsigned long long)total);
}

static char *metrics_text(struct ag_agent *a)
{
	size_t count[RC_PHASE_ORPHANED + 1];
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	count_phases(a, count);
	fputs("# HELP virt_reconcile_build_info The running version.\n"
	      "# TYPE virt_reconcile_build_info gauge\n"
	      "virt_reconcile_build_info{version=\"" VR_VERSION "\"} 1\n",
	      f);
	fputs("# HELP virt_reconcile_domains Domains by phase.\n"
	      "# TYPE virt_reconcile_domains gauge\n",
	      f);
	for (size_t i = 0; i <= RC_PHASE_ORPHANED; i++)
		fprintf(f, "virt_reconcile_domains{phase=\"%s\"} %zu\n",
			rc_phase_name(i), count[i]);
	fprintf(f,
		"# HELP virt_reconcile_reconciles_total Files reconciled.\n"
		"# TYPE virt_reconcile_reconciles_total counter\n"
		"virt_reconcile_reconciles_total %llu\n"
		"# HELP virt_reconcile_errors_total Reconciles that failed.\n"
		"# TYPE virt_reconcile_errors_total counter\n"
		"virt_reconcile_errors_total %llu\n"
		"# HELP virt_reconcile_libvirt_calls_total libvirt write "
		"calls made.\n"
		"# TYPE virt_reconcile_libvirt_calls_total counter\n"
		"virt_reconcile_libvirt_calls_total %llu\n"
		"# HELP virt_reconcile_orphan_passes_total Passes over every "
		"domain that looked for orphans.\n"
		"# TYPE virt_reconcile_orphan_passes_total counter\n"
		"virt_reconcile_orphan_passes_total %llu\n"
		"# HELP virt_reconcile_connected Whether libvirt answers.\n"
		"# TYPE virt_reconcile_connected gauge\n"
		"virt_reconcile_connected %d\n"
		"# HELP virt_reconcile_last_success_timestamp_seconds The "
		"last reconcile that succeeded.\n"
		"# TYPE virt_reconcile_last_success_timestamp_seconds gauge\n"
		"virt_reconcile_last_success_timestamp_seconds %lld\n"
		"# HELP virt_reconcile_last_resync_timestamp_seconds The "
		"last full pass over the directory and libvirt.\n"
		"# TYPE virt_reconcile_last_resync_timestamp_seconds gauge\n"
		"virt_reconcile_last_resync_timestamp_seconds %lld\n",
		(unsigned long long)a->stats.reconciles,
		(unsigned long long)a->stats.errors,
		(unsigned long long)a->stats.calls,
		(unsigned long long)a->stats.orphan_passes,
		a->connected ? 1 : 0, (long long)a->stats.last_success,
		(long long)a->stats.last_resync);
	metrics_durations(f, &a->stats);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Logs a report file's failed write once, not on every write (a host
 * without node_exporter's directory would fill the journal), and its
 * recovery; remembers the failure for the status. */
static void report_written(struct ag_agent *a, const char *path,
			   const char *what, int r, int *last)
{
	if (r < 0 && r != *last)
		ag_log(LOG_ERR, "%s: cannot write the %s: %s", path, what,
		       strerror(-r));
	else if (r == 0 && *last < 0)
		ag_log(LOG_INFO, "%s: the %s is written again", path, what);
	if (r < 0) {
		free(a->write_error);
		a->write_error = ag_xasprintf("%s: %s", path, strerror(-r));
		a->write_error_at = time(NULL);
	}
	*last = r;
}

/* A failed write is tried again, 1 s later and doubling to a minute:
 * nothing else may change for long, and a status that says what was
 * true when the disk filled up misleads whoever reads it. */
#define WRITE_RETRY_FIRST_MS 1000
#define WRITE_RETRY_MAX_MS 60000

static void retry_writes(struct ag_agent *a)
{
	if (a->status_err == 0 && a->metrics_err == 0) {
		a->write_retry_ms = 0;
		return;
	}
	a->write_retry_ms =
	    a->write_retry_ms ? a->write_retry_ms * 2 : WRITE_RETRY_FIRST_MS;
	if (a->write_retry_ms > WRITE_RETRY_MAX_MS)
		a->write_retry_ms = WRITE_RETRY_MAX_MS;
	virEventUpdateTimeout(a->status_timer, a->write_retry_ms);
}

void ag_status_changed(struct ag_agent *a)
{
	if (!a->status_dirty) {
		a->status_dirty = true;
		virEventUpdateTimeout(a->status_timer, 50);
	}
}

void ag_on_status_timer(int timer, void *opaque)
{
	struct ag_agent *a = opaque;

	virEventUpdateTimeout(timer, -1);
	pthread_mutex_lock(&a->lock);
	ag_status_write(a); /* which sets the timer again to retry a failure */
	bool quiet = ag_idle(a);
	pthread_mutex_unlock(&a->lock);
	/* after a burst of work, give what it freed back to the system */
	if (quiet)
		malloc_trim(0);
}

void ag_status_write(struct ag_agent *a)
{
	size_t count[RC_PHASE_ORPHANED + 1];
	char line[256];
	size_t off = 0;

	a->status_dirty = false;
	if (a->opts.status_file) {
		json_object *j = status_json(a);
		int r =
		    write_atomic(a->opts.status_file,
				 json_object_to_json_string_ext(
				     j, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
		report_written(a, a->opts.status_file, "status file", r,
			       &a->status_err);
	}
	if (a->opts.metrics_file) {
		_cleanup_free_ char *m = metrics_text(a);
		int r = m ? write_atomic(a->opts.metrics_file, m) : -ENOMEM;
		report_written(a, a->opts.metrics_file, "metrics file", r,
			       &a->metrics_err);
	}
	retry_writes(a);
	count_phases(a, count);
	off += snprintf(line, sizeof(line), "STATUS=%s; %zu domains:",
			a->connected ? "connected"
			: a->stalled ? "libvirt not answering"
				     : "libvirt unreachable",
			a->n_items + a->n_orphans);
	for (size_t i = 0; i <= RC_PHASE_ORPHANED && off < sizeof(line); i++)
		if (count[i])
			off += snprintf(line + off, sizeof(line) - off,
					" %zu %s", count[i], rc_phase_name(i));
	sd_notify(0, line);
}

/* status: prints the agent's last report. */
static void print_people(json_object *root)
{
	json_object *agent = NULL, *doms = NULL, *v;

	json_object_object_get_ex(root, "agent", &agent);
	json_object_object_get_ex(root, "domains", &doms);
#define S(obj, key)                                   \
	(json_object_object_get_ex(obj, key, &v) && v \
	     ? json_object_get_string(v)              \
	     : "-")
	printf("agent: pid %s, %s %s, watching %s\n", S(agent, "pid"),
	       json_object_object_get_ex(agent, "connected", &v) &&
		       json_object_get_boolean(v)
		   ? "connected to"
		   : "NOT connected to",
	       S(agent, "uri"), S(agent, "dir"));
	if (json_object_object_get_ex(agent, "connected", &v) &&
	    !json_object_get_boolean(v))
		printf("libvirt: %s\n", S(agent, "libvirt"));
	printf("started %s, last resync %s, written %s\n", S(agent, "started"),
	       S(agent, "last_resync"), S(agent, "written"));
	printf("\n%-24s %-18s %-22s %s\n", "DOMAIN", "PHASE", "FILE",
	       "LAST CHANGE / NOTE");
	for (size_t i = 0; doms && i < json_object_array_length(doms); i++) {
		json_object *d = json_object_array_get_idx(doms, i);
		const char *err = S(d, "error"), *note = S(d, "note");
		printf("%-24s %-18s %-22s %s\n", S(d, "domain"), S(d, "phase"),
		       S(d, "file"),
		       strcmp(err, "-")    ? err
		       : strcmp(note, "-") ? note
					   : S(d, "last_change"));
		if (json_object_object_get_ex(d, "volumes", &v)) {
			printf("%-24s volumes:", "");
			for (size_t k = 0; k < json_object_array_length(v); k++)
				printf(" %s",
				       json_object_get_string(
					   json_object_array_get_idx(v, k)));
			printf("\n");
		}
	}
#undef S
}

int ag_cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"status-file", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {0},
	};
	const char *path = AG_DEFAULT_STATUS;
	bool json = false;
	json_object *root;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (c == 'h')
			return ag_usage("status", 0);
		if (c == 's')
			path = optarg;
		else if (c == 'j')
			json = true;
		else
			return ag_bad_option(argv, c);
	}
	if (optind != argc) {
		fprintf(stderr, "%s status: see '%s status --help'\n", AG_PROG,
			AG_PROG);
		return AG_EXIT_FAIL;
	}
	root = json_object_from_file(path);
	if (!root) {
		fprintf(stderr,
			"%s: %s: no status to read (is the agent "
			"running with --status-file %s?)\n",
			AG_PROG, path, path);
		return AG_EXIT_FAIL;
	}
	if (json)
		puts(json_object_to_json_string_ext(
		    root,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		print_people(root);
	json_object_put(root);
	return AG_EXIT_OK;
}
