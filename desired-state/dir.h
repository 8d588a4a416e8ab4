/* Opening desired-state files without trusting them. A directory is opened
 * once, and each of its files is opened beneath that open directory, so
 * that what is checked is what is read:
 * - only regular files are read, and opening never blocks (a FIFO named
 *   *.yaml is a problem of that file, not a hang);
 * - a symlinked file is read only when it leads to a file inside the
 *   directory;
 * - for the commands that converge (check_perms), the directory and each
 *   file must be writable by no one but root or this process's user:
 *   whoever can write them can define guests on the host. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "diag.h"

struct ds_dir {
	int fd;           /* the directory, open for reading */
	char *real;       /* its resolved path: symlinks must lead under it */
	bool check_perms; /* refuse files others may write */
};

/* Opens path as a directory of desired-state files. With check_perms, a
 * directory that group or others may write, or that belongs to neither
 * root nor this process's user, is refused. Returns 0 (close with
 * ds_dir_close()), or -errno (-EPERM: refused) with why: a whole message
 * written into buf. */
int ds_dir_open(const char *path, bool check_perms, struct ds_dir *ret,
		char *why, size_t len);

/* Opens the directory of the file at path (".", when path has no '/') and
 * points *ret_name at the file's name inside path. As ds_dir_open(). */
int ds_dir_open_parent(const char *path, bool check_perms, struct ds_dir *ret,
		       const char **ret_name, char *why, size_t len);

void ds_dir_close(struct ds_dir *dir);

/* Why st, of a directory (is_dir) or a file, may not be trusted, written
 * into buf and returned; NULL when it may be. */
const char *ds_perms_problem(const struct stat *st, bool is_dir, char *buf,
			     size_t len);

/* Reads the file name (a name in dir, without '/') whole, at most
 * DS_MAX_FILE_SIZE bytes. A file that is refused or cannot be read is a
 * problem in d: for the file as a whole (no line), or at 1:1 when it is
 * too large. Returns 0 and the text, NUL-terminated and owned by the
 * caller, with its length; or -errno. */
int ds_dir_read(const struct ds_dir *dir, const char *name, struct ds_diags *d,
		char **ret_text, size_t *ret_len);
