#include "set.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "render.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lf = strlen(suffix);

	return ls >= lf && !strcmp(s + ls - lf, suffix);
}

bool ds_name_ignored(const char *name)
{
	static const char *const junk[] = {"~", ".swp", ".tmp", ".part"};

	if (name[0] == '.')
		return true;
	for (size_t i = 0; i < DS_ARRAY_SIZE(junk); i++)
		if (ends_with(name, junk[i]))
			return true;
	return !ends_with(name, ".yaml") && !ends_with(name, ".yml");
}

static struct ds_entry *set_grow(struct ds_set *set)
{
	struct ds_entry *e =
	    reallocarray(set->entries, set->n + 1, sizeof(*set->entries));

	if (!e)
		return NULL;
	set->entries = e;
	return &set->entries[set->n];
}

/* Adds an entry, without a domain yet, for the file at path. */
static struct ds_entry *add_entry(struct ds_set *set, const char *path)
{
	struct ds_entry *e = set_grow(set);

	if (!e || ds_diags_init(&e->diags, path) < 0)
		return NULL;
	e->dom = NULL;
	e->name = NULL;
	set->n++;
	return e;
}

/* The fragments of raw XML are checked for every file, as validate does. */
static int check_loaded(struct ds_entry *e, int r)
{
	if (r == 0 && ds_check_fragments(e->dom, &e->diags) < 0) {
		ds_domain_free(e->dom);
		e->dom = NULL;
	}
	return r == -ENOMEM ? r : 0;
}

int ds_set_add_file(struct ds_set *set, const char *path, bool check_perms)
{
	struct ds_entry *e = add_entry(set, path);

	if (!e)
		return -ENOMEM;
	return check_loaded(
	    e, ds_domain_load(path, check_perms, &e->diags, &e->dom));
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of dir's desired-state files, in name order, read from the
 * open directory itself. Returns -errno. */
static int list_names(const struct ds_dir *dir, char ***ret, size_t *ret_n)
{
	int fd = openat(dir->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	char **names = NULL;
	size_t n = 0;
	int r = 0;

	if (!d) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		return r;
	}
	for (struct dirent *de; (errno = 0, de = readdir(d));) {
		char **grown;
		if (ds_name_ignored(de->d_name))
			continue;
		grown = reallocarray(names, n + 1, sizeof(*names));
		if (!grown || !(grown[n] = strdup(de->d_name))) {
			names = grown ? grown : names;
			r = -ENOMEM;
			break;
		}
		names = grown;
		n++;
	}
	if (!r && errno)
		r = -errno;
	closedir(d);
	if (names)
		qsort(names, n, sizeof(*names), cmp_names);
	*ret = names;
	*ret_n = n;
	return r;
}

int ds_set_add_dir(struct ds_set *set, const char *path, bool check_perms,
		   char *why, size_t len)
{
	struct ds_dir dir;
	const char *sep = ends_with(path, "/") ? "" : "/";
	char **names = NULL;
	size_t n = 0;
	int r = ds_dir_open(path, check_perms, &dir, why, len);

	if (r < 0)
		return r;
	r = list_names(&dir, &names, &n);
	for (size_t i = 0; i < n && !r; i++) {
		_cleanup_free_ char *file = NULL;
		struct ds_entry *e;
		if (asprintf(&file, "%s%s%s", path, sep, names[i]) < 0 ||
		    !(e = add_entry(set, file)))
			r = -ENOMEM;
		else
			r = check_loaded(e,
					 ds_domain_load_at(&dir, names[i],
							   &e->diags, &e->dom));
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	ds_dir_close(&dir);
	if (r < 0)
		snprintf(why, len, "%s", strerror(-r));
	return r;
}

struct keyed {
	const char *key;
	size_t entry;
	bool pool; /* pools and domains are named apart */
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = x->pool != y->pool ? x->pool - y->pool : strcmp(x->key, y->key);

	return c ? c : (x->entry > y->entry) - (x->entry < y->entry);
}

/* Sorts the files by the value at key and reports each run of equals. */
static void check_key(struct ds_set *set, const char *key, const char *what,
		      bool *clash)
{
	_cleanup_free_ struct keyed *k = calloc(set->n + 1, sizeof(*k));
	size_t n = 0;

	if (!k)
		return;
	for (size_t i = 0; i < set->n; i++) {
		const struct ds_domain *d = set->entries[i].dom;
		const struct ds_node *v = d ? ds_node_get(d->root, key) : NULL;
		if (v)
			k[n++] = (struct keyed){v->str, i, d->pool};
	}
	qsort(k, n, sizeof(*k), cmp_keyed);
	for (size_t i = 0; i < n; i++) {
		bool before = i > 0 && k[i - 1].pool == k[i].pool &&
			      !strcmp(k[i - 1].key, k[i].key);
		bool after = i + 1 < n && k[i + 1].pool == k[i].pool &&
			     !strcmp(k[i + 1].key, k[i].key);
		if (!before && !after)
			continue;
		struct ds_entry *e = &set->entries[k[i].entry];
		struct ds_entry *other =
		    &set->entries[k[before ? i - 1 : i + 1].entry];
		const struct ds_node *v = ds_node_get(e->dom->root, key);
		ds_diags_add(&e->diags, v->mark, "%s '%s' is also given in %s",
			     k[i].pool && !strcmp(what, "domain name")
				 ? "pool name"
				 : what,
			     v->str, other->diags.shown);
		clash[k[i].entry] = true;
	}
}

void ds_set_check_unique(struct ds_set *set)
{
	_cleanup_free_ bool *clash = calloc(set->n + 1, sizeof(*clash));

	if (!clash)
		return;
	check_key(set, "name", "domain name", clash);
	check_key(set, "uuid", "uuid", clash);
	for (size_t i = 0; i < set->n; i++) {
		if (clash[i]) {
			struct ds_entry *e = &set->entries[i];
			/* out of memory, it holds no domain: only its file */
			e->name = strdup(e->dom->name);
			ds_domain_free(e->dom);
			e->dom = NULL;
		}
	}
}

size_t ds_set_count_bad(const struct ds_set *set)
{
	size_t bad = 0;

	for (size_t i = 0; i < set->n; i++)
		bad += set->entries[i].dom == NULL;
	return bad;
}

void ds_set_finish(struct ds_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		ds_domain_free(set->entries[i].dom);
		free(set->entries[i].name);
		ds_diags_finish(&set->entries[i].diags);
	}
	free(set->entries);
	*set = (struct ds_set){0};
}
