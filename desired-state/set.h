/* A set of desired-state files: a watched directory, or the paths given to
 * `validate`. Each file is loaded on its own, so one bad file never hides
 * the others; names shared by two files are errors in both. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "domain.h"

struct ds_entry {
	struct ds_diags diags; /* problems, with the path */
	struct ds_domain *dom; /* NULL when the file has problems */
	char *name; /* with dom NULL, the domain it names when that is known
		       (a name another file gives too), else NULL: a file
		       with problems still holds its domain */
};

struct ds_set {
	struct ds_entry *entries;
	size_t n;
};

/* True for names the agent never reads: not *.yaml or *.yml, or editor and
 * atomic-writer droppings (".*", "*~", "*.swp", "*.tmp", "*.part"). */
bool ds_name_ignored(const char *name);

/* Loads one file into the set, read as ds_dir_read() says; check_perms
 * for the commands that converge. A file refused or unreadable, or whose
 * directory is, is an entry with problems. Fails only when out of
 * memory. */
int ds_set_add_file(struct ds_set *set, const char *path, bool check_perms);

/* Loads every desired-state file directly in dir, in name order, each as
 * ds_set_add_file() does. Returns -errno with why (a whole message, in
 * buf) when the directory cannot be read or, with check_perms, may not be
 * trusted (-EPERM); nothing is added then. */
int ds_set_add_dir(struct ds_set *set, const char *dir, bool check_perms,
		   char *why, size_t len);

/* Marks as errors the files that name the same domain or UUID as another
 * file of the set (their domains are dropped; each keeps the name). */
void ds_set_check_unique(struct ds_set *set);

/* Number of files with problems. */
size_t ds_set_count_bad(const struct ds_set *set);

void ds_set_finish(struct ds_set *set);
