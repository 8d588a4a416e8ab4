/* Watching the directory: inotify on it (and on its parent, so that a
 * symlink swapped to a new checkout is followed), and the scan that finds
 * what inotify may have missed. */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "cli.h"
#include "set.h"

/* Adds the directory's watch; the parent's too, to follow a swapped
 * symlink. */
static int watch_dir(struct ag_agent *a)
{
	char real[PATH_MAX], parent[PATH_MAX];
	const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
			      IN_CREATE | IN_DELETE | IN_DELETE_SELF |
			      IN_MOVE_SELF | IN_ONLYDIR;

	if (a->dir_wd >= 0)
		inotify_rm_watch(a->inotify_fd, a->dir_wd);
	a->dir_wd = -1;
	if (!realpath(a->opts.dir, real))
		return -errno;
	free(a->dir_real);
	a->dir_real = strdup(real);
	a->dir_wd = inotify_add_watch(a->inotify_fd, real, mask);
	if (a->dir_wd < 0)
		return -errno;
	if (a->parent_wd < 0) {
		snprintf(parent, sizeof(parent), "%s", a->opts.dir);
		a->parent_wd = inotify_add_watch(a->inotify_fd, dirname(parent),
						 IN_CREATE | IN_MOVED_TO |
						     IN_DELETE | IN_ONLYDIR);
	}
	return 0;
}

/* The directory was replaced (its symlink swapped, or it was moved):
 * watch the new one and read it all. */
static void rewatch(struct ag_agent *a)
{
	int r = watch_dir(a);

	if (r < 0) {
		ag_log(LOG_ERR,
		       "%s: cannot watch: %s; retrying at the next resync",
		       a->dir_shown, strerror(-r));
		return;
	}
	_cleanup_free_ char *now = ds_escape_name(a->dir_real);
	ag_log(LOG_INFO, "%s: the directory changed (now %s); reading it all",
	       a->dir_shown, now ? now : "?");
	a->resync_wanted = true;
	pthread_cond_signal(&a->work);
}

static void on_file_event(struct ag_agent *a, const struct inotify_event *ev)
{
	struct ag_item *it;

	if (ds_name_ignored(ev->name))
		return;
	/* A file being created is read when it is closed; a symlink has no
	 * close, so its creation is the event. */
	if (ev->mask & IN_CREATE) {
		_cleanup_free_ char *path = NULL;
		struct stat st;
		if (asprintf(&path, "%s/%s", a->opts.dir, ev->name) < 0 ||
		    lstat(path, &st) < 0 || !S_ISLNK(st.st_mode))
			return;
	}
	it = (ev->mask & (IN_DELETE | IN_MOVED_FROM))
		 ? ag_item_find(a, ev->name)
		 : ag_item_get(a, ev->name);
	if (!it)
		return;
	ag_schedule(a, it, ag_quiet_window(a));
}

static void on_inotify(int watch, int fd, int events, void *opaque)
{
	struct ag_agent *a = opaque;
	char buf[64 * 1024]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const char *base = strrchr(a->opts.dir, '/');
	ssize_t len;

	base = base ? base + 1 : a->opts.dir;
	len = read(fd, buf, sizeof(buf));
	if (len <= 0)
		return;
	pthread_mutex_lock(&a->lock);
	for (char *p = buf; p < buf + len;) {
		const struct inotify_event *ev = (const void *)p;
		p += sizeof(*ev) + ev->len;
		if (ev->mask & IN_Q_OVERFLOW) {
			a->resync_wanted = true; /* events were lost */
			pthread_cond_signal(&a->work);
		} else if (ev->wd == a->parent_wd) {
			if (ev->len && !strcmp(ev->name, base))
				rewatch(a);
		} else if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
			rewatch(a);
		} else if (ev->wd == a->dir_wd && ev->len) {
			on_file_event(a, ev);
		}
	}
	pthread_mutex_unlock(&a->lock);
}

int ag_watch_start(struct ag_agent *a)
{
	int r;

	a->dir_wd = a->parent_wd = -1;
	a->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (a->inotify_fd < 0)
		return -errno;
	r = watch_dir(a);
	if (r < 0)
		return r;
	a->inotify_watch = virEventAddHandle(
	    a->inotify_fd, VIR_EVENT_HANDLE_READABLE, on_inotify, a, NULL);
	return a->inotify_watch < 0 ? -EIO : 0;
}

int ag_scan(struct ag_agent *a, bool all)
{
	DIR *d = opendir(a->opts.dir);
	int r = 0;

	if (!d)
		return -errno;
	for (struct dirent *de; (errno = 0, de = readdir(d));) {
		struct ag_item *it;
		if (ds_name_ignored(de->d_name))
			continue;
		it = ag_item_find(a, de->d_name);
		if (!it) {
			it = ag_item_get(a, de->d_name);
			if (!it) {
				r = -ENOMEM;
				break;
			}
			ag_schedule(a, it, 0);
		} else if (all) {
			ag_schedule(a, it, 0);
		}
		it->gone = false;
	}
	closedir(d);
	/* what is no longer there: run once more, to report it orphaned */
	for (size_t i = 0; i < a->n_items && r == 0; i++) {
		_cleanup_free_ char *path = NULL;
		if (asprintf(&path, "%s/%s", a->opts.dir, a->items[i]->file) <
		    0)
			return -ENOMEM;
		if (access(path, F_OK) < 0 && errno == ENOENT)
			ag_schedule(a, a->items[i], 0);
	}
	return r;
}
