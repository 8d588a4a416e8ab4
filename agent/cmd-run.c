/* run: the agent. libvirt's event loop on the main thread (inotify,
 * signalfd, timers and libvirt's own events); workers for the calls. */
#include <errno.h>
#include <getopt.h>
#include <libvirt/virterror.h>
#include <libxml/uri.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "cli.h"

static int parse_run_opts(int argc, char **argv, struct ag_opts *o,
			  int *ret_status)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"connect", required_argument, NULL, 'c'},
	    {"prune", no_argument, NULL, 'p'},
	    {"delete-nvram", no_argument, NULL, 'N'},
	    {"delete-storage", no_argument, NULL, 'S'},
	    {"resync", required_argument, NULL, 'r'},
	    {"status-file", required_argument, NULL, 's'},
	    {"metrics-file", required_argument, NULL, 'm'},
	    {"insecure-permissions", no_argument, NULL, 'I'},
	    {"shutdown-timeout", required_argument, NULL, 't'},
	    {0},
	};
	int c;

	*o = (struct ag_opts){.resync = 300, .shutdown_timeout = 60};
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:hc:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			*ret_status = ag_usage("run", 0);
			return -1;
		case 'c':
			o->uri = optarg;
			break;
		case 'p':
			o->prune = true;
			break;
		case 'N':
			o->delete_nvram = true;
			break;
		case 'S':
			o->delete_storage = true;
			break;
		case 's':
			o->status_file = optarg;
			break;
		case 'm':
			o->metrics_file = optarg;
			break;
		case 'I':
			o->insecure = true;
			break;
		case 'r':
			if (ag_parse_seconds("run", "--resync", optarg, false,
					     &o->resync) < 0) {
				*ret_status = AG_EXIT_FAIL;
				return -1;
			}
			break;
		case 't':
			if (ag_parse_seconds("run", "--shutdown-timeout",
					     optarg, true,
					     &o->shutdown_timeout) < 0) {
				*ret_status = AG_EXIT_FAIL;
				return -1;
			}
			break;
		default:
			*ret_status = ag_bad_option(argv, c);
			return -1;
		}
	}
	if (ag_check_prune("run", o->prune, o->delete_nvram,
			   o->delete_storage) < 0) {
		*ret_status = AG_EXIT_FAIL;
		return -1;
	}
	if (argc - optind != 1) {
		fprintf(stderr,
			"%s run: give one directory; see '%s run "
			"--help'\n",
			AG_PROG, AG_PROG);
		*ret_status = AG_EXIT_FAIL;
		return -1;
	}
	o->dir = argv[optind];
	return 0;
}

static int setup_signals(struct ag_agent *a)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -1;
	return virEventAddHandle(fd, VIR_EVENT_HANDLE_READABLE, ag_on_signal, a,
				 NULL) < 0
		   ? -1
		   : 0;
}

/* Claims the directory and URI for this agent: a second agent on both
 * would plan every change too and make many of the calls twice (two
 * agents on one directory made 32 write calls for 20 edits), and each
 * would take the other's calls for drift. The claim is an abstract
 * socket's name, a hash of the two (the kernel drops it with the
 * process); it holds on this host, not across hosts that share a
 * libvirtd. Returns 0, or -errno (-EADDRINUSE: claimed). */
static int claim(const struct ag_agent *a)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *uri = a->opts.uri ? a->opts.uri : "";
	uint64_t h = 14695981039346656037ull; /* FNV-1a */
	int fd;

	for (const char *p = a->dir_id; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h = (h ^ '\n') * 1099511628211ull;
	for (const char *p = uri; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	/* sun_path[0] is NUL: the abstract namespace */
	snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1,
		 "virt-reconcile/%016llx", (unsigned long long)h);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa,
		 offsetof(struct sockaddr_un, sun_path) + 1 +
		     strlen(sa.sun_path + 1)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return 0; /* the socket stays open as long as the agent runs */
}

static void on_tick(int timer, void *opaque) {}

/* Waits for the workers to finish the calls in flight, running the loop
 * meanwhile (libvirt's keepalive and close callback run there), but no
 * longer than a graceful shutdown may take and a margin: a libvirtd that
 * hangs must not hold a SIGTERM for ever. Returns the exit status: 0, or
 * 1 when calls were left behind. */
static int stop(struct ag_agent *a)
{
	uint64_t deadline =
	    ag_now_ms() + (a->opts.shutdown_timeout + AG_STOP_MARGIN_S) * 1000;
	int tick = virEventAddTimeout(100, on_tick, NULL, NULL);
	unsigned left;

	for (;;) {
		pthread_mutex_lock(&a->lock);
		left = a->workers_running;
		pthread_mutex_unlock(&a->lock);
		if (!left || ag_now_ms() >= deadline ||
		    virEventRunDefaultImpl() < 0)
			break;
	}
	virEventRemoveTimeout(tick);
	pthread_mutex_lock(&a->lock);
	left = a->workers_running;
	if (left) {
		a->connected = false;
		free(a->libvirt_note);
		a->libvirt_note =
		    ag_xasprintf("not answering: %u job%s left waiting at exit",
				 left, left == 1 ? "" : "s");
		ag_log(LOG_ERR,
		       "%u job%s still wait%s for libvirt after %us; exiting "
		       "without them",
		       left, left == 1 ? "" : "s", left == 1 ? "s" : "",
		       a->opts.shutdown_timeout + AG_STOP_MARGIN_S);
	}
	ag_status_write(a);
	pthread_mutex_unlock(&a->lock);
	if (left) {
		/* the workers are inside libvirt: no exit handlers run under
		 * them */
		fflush(stderr);
		_exit(AG_EXIT_FAIL);
	}
	for (int i = 0; i < AG_WORKERS; i++)
		pthread_join(a->workers[i], NULL);
	ag_log(LOG_INFO, "stopped");
	return AG_EXIT_OK;
}

int ag_cmd_run(int argc, char **argv)
{
	static struct ag_agent agent;
	struct ag_agent *a = &agent;
	char why[512];
	int status = AG_EXIT_OK, r;

	if (parse_run_opts(argc, argv, &a->opts, &status) < 0)
		return status;
	/* One malloc arena for all threads: the workers mostly wait on
	 * libvirt, and an arena each would keep megabytes they freed. */
	mallopt(M_ARENA_MAX, 1);
	if (!(a->dir_shown = ds_escape_name(a->opts.dir)))
		return AG_EXIT_FAIL;
	/* said at once, not per file: every job checks again */
	if (ag_dir_problem(a, why, sizeof(why))) {
		ag_log(LOG_ERR, "%s: %s", a->dir_shown, why);
		return AG_EXIT_FAIL;
	}
	char id[PATH_MAX];
	if ((r = rc_dir_identity(a->opts.dir, id, sizeof(id))) < 0 ||
	    !(a->dir_id = strdup(id))) {
		ag_log(LOG_ERR, "%s: %s", a->dir_shown,
		       rc_dir_identity_strerror(r < 0 ? r : -ENOMEM));
		return AG_EXIT_FAIL;
	}
	if ((r = claim(a)) == -EADDRINUSE) {
		ag_log(LOG_ERR,
		       "%s: another agent on this host already converges this "
		       "directory to %s; two would make calls twice",
		       a->dir_shown,
		       a->opts.uri ? a->opts.uri : "libvirt's default URI");
		return AG_EXIT_FAIL;
	} else if (r < 0) {
		ag_log(LOG_WARNING,
		       "%s: cannot claim the directory (%s): a second agent on "
		       "it would not be refused, continuing",
		       a->dir_shown, strerror(-r));
	}
	a->stats.started = time(NULL);
	srand(getpid() ^ time(NULL));
	pthread_mutex_init(&a->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->work, &ca);
	if (virEventRegisterDefaultImpl() < 0) {
		ag_log(LOG_ERR, "cannot start libvirt's event loop");
		return AG_EXIT_FAIL;
	}
	rc_init();
	if (setup_signals(a) < 0 || (r = ag_watch_start(a)) < 0) {
		ag_log(LOG_ERR, "%s: cannot watch the directory: %s",
		       a->dir_shown, strerror(errno));
		return AG_EXIT_FAIL;
	}
	a->status_timer = virEventAddTimeout(-1, ag_on_status_timer, a, NULL);
	a->resync_timer = virEventAddTimeout(a->opts.resync * 1000,
					     ag_on_resync_timer, a, NULL);
	a->reconnect_timer = virEventAddTimeout(-1, ag_on_reconnect, a, NULL);
	a->watchdog_timer = virEventAddTimeout(-1, ag_on_watchdog, a, NULL);
	ag_log(LOG_INFO, "watching %s (%s), resync every %us%s", a->dir_shown,
	       a->opts.uri ? a->opts.uri : "libvirt's default URI",
	       a->opts.resync, a->opts.prune ? ", pruning" : "");
	ag_on_reconnect(a->reconnect_timer, a); /* connect, then resync */
	pthread_mutex_lock(&a->lock);
	a->resync_wanted = true;
	a->workers_running = AG_WORKERS;
	pthread_mutex_unlock(&a->lock);
	for (int i = 0; i < AG_WORKERS; i++)
		pthread_create(&a->workers[i], NULL, ag_worker, a);
	while (!a->quitting)
		if (virEventRunDefaultImpl() < 0)
			break;
	sd_notify(0, "STOPPING=1");
	return stop(a);
}
