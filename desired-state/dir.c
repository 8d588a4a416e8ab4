#include "dir.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "node.h"
#include "utf8.h"

const char *ds_perms_problem(const struct stat *st, bool is_dir, char *buf,
			     size_t len)
{
	const char *what = is_dir ? "directory" : "file";

	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(buf, len,
			 "the %s is writable by %s: whoever can write it can "
			 "define guests on this host (chmod go-w, or "
			 "--insecure-permissions)",
			 what, st->st_mode & S_IWOTH ? "others" : "its group");
		return buf;
	}
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		snprintf(buf, len,
			 "the %s belongs to uid %u, neither root nor the user "
			 "running this command (chown it, or "
			 "--insecure-permissions)",
			 what, (unsigned)st->st_uid);
		return buf;
	}
	return NULL;
}

int ds_dir_open(const char *path, bool check_perms, struct ds_dir *ret,
		char *why, size_t len)
{
	_cleanup_free_ char *real = realpath(path, NULL);
	_cleanup_close_ int fd = -1;
	struct stat st;

	/* Resolved once: a symlinked file is judged against the directory
	 * that is open, even when path is a symlink swapped meanwhile. */
	if (!real ||
	    (fd = open(real, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) <
		0 ||
	    fstat(fd, &st) < 0) {
		int r = -errno;
		snprintf(why, len, "%s", strerror(-r));
		return r;
	}
	if (check_perms && ds_perms_problem(&st, true, why, len))
		return -EPERM;
	*ret = (struct ds_dir){.fd = take_fd(fd),
			       .real = take_ptr(real),
			       .check_perms = check_perms};
	return 0;
}

int ds_dir_open_parent(const char *path, bool check_perms, struct ds_dir *ret,
		       const char **ret_name, char *why, size_t len)
{
	const char *slash = strrchr(path, '/');
	_cleanup_free_ char *parent = !slash ? strdup(".")
				      : slash == path
					  ? strdup("/")
					  : strndup(path, slash - path);
	int r;

	if (!parent) {
		snprintf(why, len, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	r = ds_dir_open(parent, check_perms, ret, why, len);
	if (r == 0)
		*ret_name = slash ? slash + 1 : path;
	return r;
}

void ds_dir_close(struct ds_dir *dir)
{
	if (dir->fd >= 0)
		close(dir->fd);
	free(dir->real);
	*dir = (struct ds_dir){.fd = -1};
}

static int cannot_read(struct ds_diags *d, int r)
{
	ds_diags_add(d, (struct ds_mark){0}, "cannot read: %s", strerror(-r));
	return r;
}

static int not_regular(struct ds_diags *d, mode_t mode)
{
	ds_diags_add(d, (struct ds_mark){0},
		     "not a regular file but %s; only regular files are read",
		     S_ISDIR(mode)    ? "a directory"
		     : S_ISFIFO(mode) ? "a FIFO"
		     : S_ISSOCK(mode) ? "a socket"
		     : S_ISCHR(mode)  ? "a character device"
		     : S_ISBLK(mode)  ? "a block device"
				      : "something else");
	return -EINVAL;
}

/* Where the symlink name leads, as a path under dir (its resolved form:
 * no symlink, "." or ".." in it). realpath() follows the whole chain, so
 * that a link to a link inside the directory is fine, and says ELOOP for a
 * chain that never ends. */
static int resolve(const struct ds_dir *dir, const char *name,
		   struct ds_diags *d, char **ret)
{
	_cleanup_free_ char *path = NULL, *real = NULL;
	size_t dl = strcmp(dir->real, "/") ? strlen(dir->real) : 0;

	if (asprintf(&path, "%s/%s", dir->real, name) < 0)
		return -ENOMEM;
	real = realpath(path, NULL);
	if (!real && errno == ELOOP) {
		ds_diags_add(d, (struct ds_mark){0},
			     "a symlink loop: following it never ends in a "
			     "file");
		return -ELOOP;
	}
	if (!real && errno == ENOENT) {
		ds_diags_add(d, (struct ds_mark){0},
			     "a symlink to a file that does not exist");
		return -ENOENT;
	}
	if (!real)
		return cannot_read(d, -errno);
	if (strncmp(real, dir->real, dl) || (real[dl] && real[dl] != '/')) {
		ds_diags_add(d, (struct ds_mark){0},
			     "a symlink to outside the directory; only files "
			     "inside it are read");
		return -EXDEV;
	}
	*ret = strdup(real[dl] ? real + dl + 1 : ".");
	return *ret ? 0 : -ENOMEM;
}

/* Opens rel, a resolved path under dirfd, following no symlink on the
 * way: a symlink found now was put there since rel was resolved, and
 * following it could leave the directory, so the open fails (ELOOP or
 * ENOTDIR) instead. O_NONBLOCK: a FIFO or device swapped in meanwhile
 * must not block the open; fstat() then refuses it. */
static int open_resolved(int dirfd, const char *rel)
{
	_cleanup_close_ int at = -1;
	char part[NAME_MAX + 1];
	size_t n;

	for (; rel[n = strcspn(rel, "/")]; rel += n + 1) {
		int next;
		if (n > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(part, rel, n);
		part[n] = 0;
		next = openat(at >= 0 ? at : dirfd, part,
			      O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			return -errno;
		if (at >= 0)
			close(at);
		at = next;
	}
	int fd =
	    openat(at >= 0 ? at : dirfd, rel,
		   O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}

/* Opens a file of dir for reading: a regular file in it, or one that a
 * symlink in it leads to inside it. What is not a regular file is not
 * even opened (opening a device can have effects of its own). Returns the
 * fd, with its fstat() in *st, or -errno with the problem in d. */
static int open_file(const struct ds_dir *dir, const char *name,
		     struct ds_diags *d, struct stat *st)
{
	_cleanup_free_ char *target = NULL;
	const char *rel = name;
	int fd, r;

	if (fstatat(dir->fd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
		return cannot_read(d, -errno);
	if (S_ISLNK(st->st_mode)) {
		if ((r = resolve(dir, name, d, &target)) < 0)
			return r;
		rel = target;
		if (fstatat(dir->fd, rel, st, AT_SYMLINK_NOFOLLOW) < 0)
			return cannot_read(d, -errno);
	}
	if (!S_ISREG(st->st_mode))
		return not_regular(d, st->st_mode);
	fd = open_resolved(dir->fd, rel);
	if (fd < 0)
		return cannot_read(d, fd);
	/* the fstat of what is open decides: the file may have been
	 * replaced since the look before */
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		r = errno;
		close(fd);
		return S_ISREG(st->st_mode) ? cannot_read(d, -r)
					    : not_regular(d, st->st_mode);
	}
	return fd;
}

/* Reads what fd holds, up to size bytes (the file may change under us:
 * what is there is read, never more than the limit). */
static int read_all(int fd, size_t size, struct ds_diags *d, char **ret,
		    size_t *ret_len)
{
	_cleanup_free_ char *buf = malloc(size + 1);
	size_t len = 0;

	if (!buf)
		return -ENOMEM;
	while (len < size) {
		ssize_t n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cannot_read(d, -errno);
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = 0;
	*ret = take_ptr(buf);
	*ret_len = len;
	return 0;
}

int ds_dir_read(const struct ds_dir *dir, const char *name, struct ds_diags *d,
		char **ret_text, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	const char *bad;
	struct stat st;
	char why[256];

	assert(!strchr(name, '/')); /* a name in dir, not a path */
	/* the name goes into the domain's mark, libvirt's XML: refused
	 * here, the file fails in validate, not in a define retried for
	 * ever */
	if ((bad = ds_name_problem(name))) {
		ds_diags_add(d, (struct ds_mark){0},
			     "the file name %s; rename the file (libvirt's XML "
			     "records the name)",
			     bad);
		return -EILSEQ;
	}
	fd = open_file(dir, name, d, &st);
	if (fd < 0)
		return fd;
	if (dir->check_perms &&
	    ds_perms_problem(&st, false, why, sizeof(why))) {
		ds_diags_add(d, (struct ds_mark){0}, "%s", why);
		return -EPERM;
	}
	if (st.st_size > DS_MAX_FILE_SIZE) {
		ds_diags_add(d, (struct ds_mark){1, 1},
			     "the file is larger than %d bytes",
			     DS_MAX_FILE_SIZE);
		return -EFBIG;
	}
	return read_all(fd, st.st_size, d, ret_text, ret_len);
}
