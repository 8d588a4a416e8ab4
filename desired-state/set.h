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

/* Loads one file into the set. Fails only when out of memory. */
int ds_set_add_file(struct ds_set *set, const char *path);

/* Loads every desired-state file directly in dir, in name order. Returns
 * -errno when the directory cannot be read (nothing is added then). */
int ds_set_add_dir(struct ds_set *set, const char *dir);

/* Marks as errors the files that name the same domain or UUID as another
 * file of the set (their domains are dropped; each keeps the name). */
void ds_set_check_unique(struct ds_set *set);

/* Number of files with problems. */
size_t ds_set_count_bad(const struct ds_set *set);

void ds_set_finish(struct ds_set *set);
