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
	char *domain; /* the domain it named when last read, or NULL */
	enum rc_phase phase;
	char *error;       /* the last problem, located, or NULL */
	char *note;        /* restart-required or converging note, or NULL */
	char *last_change; /* the last call made, for people */
	time_t changed_at; /* when last_change happened */
	time_t checked_at; /* when it was last reconciled */
	/* the queue */
	bool queued;  /* waiting for due_ms */
	bool running; /* a worker has it */
	bool again;   /* something happened while it ran: run again */
	bool gone;    /* its file is gone: drop after the run */
	uint64_t due_ms;
	unsigned failures; /* consecutive, for the backoff */
	/* when each kind of event our own calls cause stops being expected
	 * (ag_now_ms; 0: not expected), by AG_EV_* */
	uint64_t expect_until[AG_EV_NONE];
};

struct ag_orphan {
	char *domain;
	char *file;
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
	unsigned reconnects; /* failed attempts in a row */
	bool resync_running;
	bool resync_wanted;
	bool quitting;
	unsigned busy; /* workers inside a job */
	struct ag_stats stats;
	/* the loop */
	int status_timer; /* libvirt timeout id: write the status */
	bool status_dirty;
	/* the last write of each file: 0, or -errno (logged once a change) */
	int status_err, metrics_err;
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
	int lifecycle_cb, metadata_cb;
	pthread_t workers[AG_WORKERS];
};

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
/* Counts a job of that many seconds in the duration histogram. */
void ag_stats_observe(struct ag_stats *s, double seconds);
int ag_cmd_status(int argc, char **argv);

/* watch.c */
int ag_watch_start(struct ag_agent *a);
/* Reads the directory: adds new files, drops vanished ones, queues all
 * (when all) or the new ones. Lock held. Returns -errno when unreadable. */
int ag_scan(struct ag_agent *a, bool all);
