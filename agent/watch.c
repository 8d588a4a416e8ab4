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
#include "devices.h"
#include "dir.h"
#include "set.h"

const char *ag_dir_problem(struct ag_agent *a, char *buf, size_t len)
{
	struct ds_dir dir;

	if (ds_dir_open(a->opts.dir, !a->opts.insecure, &dir, buf, len) < 0)
		return buf;
	ds_dir_close(&dir);
	return NULL;
}

/* Adds the directory's watch; the parent's too, to follow a swapped
 * symlink. */
static int watch_dir(struct ag_agent *a)
{
	char real[PATH_MAX], parent[PATH_MAX];
	/* IN_ATTRIB: a file or the directory whose mode or owner changed
	 * (a refused file made safe, or the directory made unsafe), and a
	 * file's new hard link */
	const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
			      IN_CREATE | IN_ATTRIB | IN_DELETE |
			      IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

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

/* Whether a file just created is whole: a file being written is read
 * when it is closed, but a symlink, a hard link to a written file
 * (ln, cp -l) and a FIFO or device node (mkfifo, mknod) are never
 * closed after a write. */
static bool created_whole(struct ag_agent *a, const char *name)
{
	_cleanup_free_ char *path = ag_xasprintf("%s/%s", a->opts.dir, name);
	struct stat st;

	if (lstat(path, &st) < 0)
		return false;
	return !S_ISREG(st.st_mode) || st.st_nlink > 1;
}

static void on_file_event(struct ag_agent *a, const struct inotify_event *ev)
{
	bool vanished = ev->mask & (IN_DELETE | IN_MOVED_FROM);
	struct ag_item *it;
	uint64_t window;

	if (ds_name_ignored(ev->name)) {
		/* not a desired-state file: a file a cloud-init seed reads? */
		if (!(ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE |
				  IN_MOVED_FROM)))
			return;
		for (size_t i = 0; i < a->n_items; i++)
			if (a->items[i]->seed_files &&
			    rc_word_in(a->items[i]->seed_files, ev->name))
				ag_schedule(a, a->items[i], ag_quiet_window(a));
		return;
	}
	if ((ev->mask & IN_CREATE) && !created_whole(a, ev->name))
		return;
	it = vanished ? ag_item_find(a, ev->name) : ag_item_get(a, ev->name);
	a->file_events++;
	window = ag_quiet_window(a);
	/* a move, a checkout or a swap removes one name and adds another:
	 * the orphans are looked for once the directory is quiet; with
	 * --prune, again after any change while there are orphans: a file
	 * that had problems may be read now (without, a file that names an
	 * orphan drops its entry by itself) */
	if (vanished || a->orphans_wanted || (a->n_orphans && a->opts.prune))
		ag_orphans_later(a, window);
	if (!it)
		return;
	it->gone = vanished;
	/* a changed file may take back a domain another agent took */
	ag_set_str(&it->lost_to, NULL);
	ag_schedule(a, it, window);
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
			ag_log(LOG_WARNING,
			       "%s: inotify's queue overflowed and file events "
			       "were lost; reading everything again",
			       a->dir_shown);
			a->resync_wanted = true;
			pthread_cond_signal(&a->work);
		} else if (ev->wd == a->parent_wd) {
			if (ev->len && !strcmp(ev->name, base))
				rewatch(a);
		} else if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
			rewatch(a);
		} else if (ev->wd == a->dir_wd && (ev->mask & IN_ATTRIB) &&
			   !ev->len) {
			/* its mode or owner: whether its files may be read
			 * is decided again, for each */
			ag_log(LOG_INFO,
			       "%s: the directory's mode or owner changed; "
			       "reading it all",
			       a->dir_shown);
			a->resync_wanted = true;
			pthread_cond_signal(&a->work);
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
	int n = 0;

	if (!d)
		return -errno;
	for (size_t i = 0; i < a->n_items; i++)
		a->items[i]->seen = false;
	for (struct dirent *de; (errno = 0, de = readdir(d));) {
		struct ag_item *it;
		if (ds_name_ignored(de->d_name))
			continue;
		n++;
		it = ag_item_find(a, de->d_name);
		if (!it || it->gone || all)
			ag_schedule(a, it ? it : ag_item_get(a, de->d_name), 0);
		it = ag_item_find(a, de->d_name);
		it->seen = true;
		it->gone = false;
	}
	int r = errno ? -errno : n;
	closedir(d);
	if (r < 0)
		return r;
	/* what is no longer there: its job drops it */
	for (size_t i = 0; i < a->n_items; i++) {
		struct ag_item *it = a->items[i];
		if (!it->seen && !it->gone) {
			it->gone = true;
			ag_schedule(a, it, 0);
		}
	}
	return r;
}
