/* The agent (`run`): watches a directory and keeps libvirt converged. One
 * thread runs libvirt's event loop (inotify, signals, timers and libvirt's
 * domain events join it); a few workers run the slow libvirt calls, never
 * two on one file. Everything the workers and the loop share is guarded by
 * the agent's lock. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>
#include <time.h>

#include "pass.h"
#include "utf8.h"

#define AG_WORKERS 4
/* After SIGTERM, the workers are waited for --shutdown-timeout seconds
 * and this many more, then left behind. */
#define AG_STOP_MARGIN_S 5

/* The domain events the agent's own calls cause. */
enum {
	AG_EV_DEFINED,
	AG_EV_STARTED,
	AG_EV_STOPPED,
	AG_EV_UNDEFINED,
	AG_EV_METADATA,
	AG_EV_NONE
};
/* how long after our call its event may come */
#define AG_EXPECT_MS 2000

/* One desired-state file and what the agent knows of it. */
struct ag_item {
	char *file;   /* its name in the directory: the queue's key */
	char *shown;  /* file as logs and the status show it (escaped) */
	char *domain; /* the domain it named when last read (or that its
			 first call named), or NULL */
	char uuid[VIR_UUID_STRING_BUFLEN]; /* its domain's, or "" */
	int id;                            /* its domain's; -1: not running */
	enum rc_phase phase;
	char *error;       /* the last problem, located, or NULL */
	char *note;        /* restart-required or converging note, or NULL */
	char *last_change; /* the last call made, for people */
	char *volumes;     /* the volumes its domain's mark lists, "pool/name"
			      space-separated, or NULL */
	char *seed_files;  /* the files beside it its cloud-init seed reads,
			      space-separated, or NULL: watched for it */
	time_t changed_at; /* when last_change happened */
	time_t checked_at; /* when it was last reconciled */
	/* the queue */
	bool queued;  /* waiting for due_ms */
	bool running; /* a worker has it */
	bool again;   /* something happened while it ran: run again */
	bool gone;    /* its file is gone: drop after the run; never a clash */
	bool seen;    /* ag_scan found its file */
	uint64_t due_ms;
	unsigned failures; /* consecutive, for the backoff */
	bool owned;        /* its last job left its domain marked as ours */
	char *lost_to;     /* the directory that took its domain over, until
			      the file changes (job.c), or NULL */
	/* when each kind of event our own calls cause stops being expected
	 * (ag_now_ms; 0: not expected), by AG_EV_* */
	uint64_t expect_until[AG_EV_NONE];
};

/* A domain of this directory that no file names. */
struct ag_orphan {
	char *domain;
	char *file;                        /* the file its mark names */
	char uuid[VIR_UUID_STRING_BUFLEN]; /* "" until a pass read it */
	int id;
	enum rc_phase phase; /* orphaned, or error when prune failed */
	char *note;
};

struct ag_opts {
	const char *uri;
	const char *dir;
	const char *status_file;  /* NULL: none */
	const char *metrics_file; /* NULL: none */
	unsigned resync;          /* seconds */
	bool prune;
	bool delete_nvram;
	bool delete_storage; /* with prune: remove their volumes too */
	bool insecure;
	unsigned shutdown_timeout;
};

/* The upper bounds, in seconds, of the reconcile-duration histogram's
 * buckets (status.c); the last bucket, +Inf, is implied. */
#define AG_DURATION_BUCKETS 13

struct ag_stats {
	uint64_t reconciles;
	/* how long each job took: a count per bucket (not cumulative), the
	 * last for those beyond every bound, and their sum */
	uint64_t durations[AG_DURATION_BUCKETS + 1];
	double duration_sum;
	uint64_t errors;
	uint64_t calls; /* libvirt write calls */
	time_t last_success;
	time_t last_resync;
	time_t started;
	uint64_t orphan_passes; /* passes that looked for orphans */
};

struct ag_agent {
	struct ag_opts opts;
	pthread_mutex_t lock;
	pthread_cond_t work; /* workers wait here for jobs */
	/* items, sorted by file name */
	struct ag_item **items;
	size_t n_items;
	struct ag_orphan *orphans;
	size_t n_orphans;
	/* the connection; NULL while libvirt is away */
	virConnectPtr conn;
	struct rc_limits limits;
	bool connected;
	bool connecting;    /* a thread is connecting (conn.c) */
	char *libvirt_note; /* why not connected, for the status; NULL */
	/* the watchdog (conn.c): while workers make calls, the last sign of
	 * progress; a probe of libvirt under way, since when; whether libvirt
	 * is reported not answering */
	int watchdog_timer;
	uint64_t progress_ms, probe_ms;
	bool probing, stalled;
	unsigned reconnects; /* failed attempts in a row */
	bool resync_wanted;
	/* the orphan pass (prune.c): wanted after a file vanished and after
	 * a resync, due once the directory was quiet for a while */
	bool orphans_wanted;
	bool orphans_running;
	uint64_t orphans_due_ms;
	uint64_t file_events; /* counted, so a pass sees what came meanwhile */
	bool quitting;
	unsigned busy;            /* workers inside a job or pass */
	unsigned workers_running; /* worker threads not yet returned */
	struct ag_stats stats;
	/* the loop */
	int status_timer; /* libvirt timeout id: write the status */
	bool status_dirty;
	/* the last write of each file: 0, or -errno (logged once a change) */
	int status_err, metrics_err;
	/* a failed write is tried again after this long (doubling), with
	 * nothing new to write: 0 while the writes succeed */
	unsigned write_retry_ms;
	char *write_error; /* the last failed write, "FILE: why", or NULL */
	time_t write_error_at;
	int resync_timer;
	int reconnect_timer;
	int inotify_fd;
	int inotify_watch;     /* id of the handle in libvirt's loop */
	int dir_wd, parent_wd; /* inotify watches: the directory, its parent */
	char *dir_shown;       /* opts.dir as logs and the status show it */
	char *dir_real;        /* where the directory resolved to */
	char *dir_id;          /* its identity in marks (rc_dir_identity) */
	uint64_t burst_start_ms;
	unsigned burst; /* file events in the current burst */
	bool ready_sent;
	int lifecycle_cb, metadata_cb, removed_cb, removal_failed_cb;
	pthread_t workers[AG_WORKERS];
};

/* util.c: allocation that never fails: the agent aborts when out of
 * memory, as libvirt and GLib do (an untested recovery path is worse). */
void *ag_xcalloc(size_t n, size_t size);
void *ag_xreallocarray(void *p, size_t n, size_t size);
char *ag_xstrdup(const char *s);
char *ag_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Replaces *slot with a copy of s (NULL: none), freeing the old one. */
void ag_set_str(char **slot, const char *s);

uint64_t ag_now_ms(void);
/* Seconds on CLOCK_MONOTONIC since t0, taken from that clock. */
double ag_seconds_since(const struct timespec *t0);

/* log.c: the one log function of the agent. priority is syslog's
 * (LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO); it reaches journald as
 * the line's "<N>" prefix when stderr is the journal's stream. */
void ag_log(int priority, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* queue.c: items and the keyed, timed queue. Call with the lock held. */
struct ag_item *ag_item_find(struct ag_agent *a, const char *file);
struct ag_item *ag_item_get(struct ag_agent *a, const char *file);
struct ag_item *ag_item_by_domain(struct ag_agent *a, const char *domain);
void ag_item_remove(struct ag_agent *a, struct ag_item *it);
/* Queues it to run in delay_ms (sooner wins; a running item runs again). */
void ag_schedule(struct ag_agent *a, struct ag_item *it, uint64_t delay_ms);
/* The quiet window for a file event: grows with the burst it is part of. */
uint64_t ag_quiet_window(struct ag_agent *a);
/* The retry delay after failures: exponential, capped, with jitter. */
uint64_t ag_backoff_ms(unsigned failures);
/* The next due time of any queued item, or UINT64_MAX. */
uint64_t ag_next_due(struct ag_agent *a);
/* Takes a due item for a worker, or NULL. */
struct ag_item *ag_take_due(struct ag_agent *a, uint64_t now);

/* status.c */
void ag_status_write(struct ag_agent *a); /* lock held */
/* Asks for the status to be written soon, coalescing a burst. Lock held. */
void ag_status_changed(struct ag_agent *a);
/* The status timer's callback (libvirt's loop): writes the status. */
void ag_on_status_timer(int timer, void *opaque);
/* Counts a job of that many seconds in the duration histogram. */
void ag_stats_observe(struct ag_stats *s, double seconds);
int ag_cmd_status(int argc, char **argv);

/* job.c: one file's job, and the workers. */
/* Who a job's calls are for, for ag_progress's lines and expectations
 * (agent NULL: no item to teach). */
struct ag_job_log {
	const char *file;  /* the item's key */
	const char *shown; /* the file as logs show it */
	struct ag_agent *agent;
};
/* rc_apply's progress callback: logs the call, and expects its event. */
void ag_progress(const struct rc_domain_plan *dp, const struct rc_action *a,
		 void *userdata);
/* Copies limits so that a worker can learn into its own. */
void ag_limits_copy(const struct rc_limits *from, struct rc_limits *to);
/* Whether nothing is queued, running or wanted. Lock held. */
bool ag_idle(struct ag_agent *a);
/* A worker thread: takes due files and full passes until quitting. */
void *ag_worker(void *opaque);

/* prune.c: the full pass and the orphan pass. Workers call them with the
 * lock held; they drop it while libvirt is read. */
/* Every file queued again, then an orphan pass. */
void ag_resync(struct ag_agent *a);
/* Asks for an orphan pass once the directory has been quiet for the
 * window of the last file event (at least AG_ORPHAN_QUIET_MS). */
#define AG_ORPHAN_QUIET_MS 1000
void ag_orphans_later(struct ag_agent *a, uint64_t window_ms);
/* Whether the orphan pass may run now: wanted, due, and no file waits for
 * or is in its job (a file that is not read yet may name any domain). */
bool ag_orphans_due(struct ag_agent *a, uint64_t now);
/* Every domain read; those of this directory that no present file names
 * are orphans, pruned with --prune when the directory was read, holds
 * files, and every file's domain is known. */
void ag_orphan_pass(struct ag_agent *a);
/* A file's item vanished (lock held): its domain, if it was ours and no
 * other file names it, is an orphan until the next pass says more. */
void ag_orphan_add(struct ag_agent *a, const struct ag_item *it);
/* Drops the orphan entries of a domain that a file names now. */
void ag_orphans_forget(struct ag_agent *a, const char *domain);

/* Tells systemd the agent is ready, once it is. Lock held. */
void ag_announce_ready(struct ag_agent *a);

/* events.c: callbacks of libvirt's loop. */
void ag_on_signal(int watch, int fd, int events, void *opaque);
void ag_on_resync_timer(int timer, void *opaque);
int ag_on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
		    void *opaque);
void ag_on_metadata(virConnectPtr conn, virDomainPtr dom, int type,
		    const char *nsuri, void *opaque);
void ag_on_device_removed(virConnectPtr conn, virDomainPtr dom,
			  const char *alias, void *opaque);

/* conn.c: the connection to libvirt. */
/* The reconnect timer's callback: connects (again) on a thread of its
 * own: events, limits, then a full resync. */
void ag_on_reconnect(int timer, void *opaque);
/* Workers start (by > 0) or end (by < 0) making calls: the watchdog
 * runs while any does. Lock held. */
void ag_calls_busy(struct ag_agent *a, int by);
/* The watchdog timer's callback: reports libvirt unhealthy when calls
 * make no progress and a probe gets no answer. */
void ag_on_watchdog(int timer, void *opaque);

/* watch.c */
int ag_watch_start(struct ag_agent *a);
/* Reads the directory: adds new files, marks vanished ones gone, queues
 * all (when all) or the new and vanished ones. Lock held. Returns the
 * number of desired-state files, or -errno when unreadable. */
int ag_scan(struct ag_agent *a, bool all);
/* Why the directory may not be read now (it cannot be opened or, without
 * --insecure-permissions, may not be trusted), written into buf; NULL
 * when it may. */
const char *ag_dir_problem(struct ag_agent *a, char *buf, size_t len);
