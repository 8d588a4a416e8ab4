#include "pass.h"

#include <errno.h>
#include <libvirt/virterror.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "compare.h"
#include "normalise.h"
#include "utf8.h"
#include "workers.h"

/* Whether libvirt holds o with at least the vCPUs d asks for, on the same
 * type and machine: then it has accepted that many, and the maximum need
 * not be asked for (the domain capabilities are a large reply). */
static bool vcpus_accepted(const struct ds_domain *d,
			   const struct rc_observed *o, const char *type,
			   const struct ds_node *machine,
			   const struct rc_limits *l)
{
	struct ds_compare_ctx ctx = rc_limits_compare_ctx(l);
	const struct ds_node *had =
	    o ? ds_node_path(o->config, "vcpu.value") : NULL;
	const struct ds_node *otype = o ? ds_node_get(o->config, "type") : NULL;
	const struct ds_node *omachine =
	    o ? ds_node_path(o->config, "os.machine") : NULL;

	return had && otype && type && !strcmp(type, otype->str) &&
	       (int64_t)d->vcpu_max <= had->v.i &&
	       (!machine ||
		(omachine &&
		 ds_machine_equal(&ctx, NULL, machine->str, omachine->str)));
}

/* Learns the vCPU maximum of the type and machine planning d takes (o:
 * its domain, or NULL), when d asks for more vCPUs than libvirt holds it
 * with. The connection's best type is asked for only when a file without
 * a type has no domain yet. */
static int learn_limits(virConnectPtr conn, const struct ds_domain *d,
			const struct rc_observed *o, struct rc_limits *l,
			struct rc_err *e)
{
	const struct ds_node *m = ds_node_path(d->root, "os.machine");
	const char *type = rc_plan_type(d, o, l);

	if (!type && rc_best_type(conn, &l->best_type, e) < 0)
		return -1;
	/* an alias (pc, q35) is compared with what it names on this host,
	 * a seclabel without a model with the host's */
	if (o &&
	    ((m && !ds_machine_versioned(m->str)) ||
	     ds_tree_wants_secmodel(d->root)) &&
	    rc_limits_learn_caps(conn, l, e) < 0)
		return -1;
	if (!d->vcpu_max || vcpus_accepted(d, o, type, m, l))
		return 0;
	return rc_limits_learn(conn, l, type ? type : l->best_type,
			       m ? m->str : NULL, e);
}

int rc_dir_identity(const char *dir, char *buf, size_t len)
{
	char joined[PATH_MAX * 2], cwd[PATH_MAX];
	size_t out = 0;

	if (dir[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		return -errno;
	if (snprintf(joined, sizeof(joined), "%s/%s", dir[0] == '/' ? "" : cwd,
		     dir) >= (int)sizeof(joined))
		return -ENAMETOOLONG;
	/* lexically: "." goes, ".." takes the last part off; symlinks are
	 * not followed, so a swapped checkout keeps its identity */
	for (char *save = NULL, *part = strtok_r(joined, "/", &save); part;
	     part = strtok_r(NULL, "/", &save)) {
		if (!strcmp(part, "."))
			continue;
		if (!strcmp(part, "..")) {
			while (out > 0 && buf[--out] != '/')
				;
			continue;
		}
		if (out + strlen(part) + 2 > len)
			return -ENAMETOOLONG;
		out += sprintf(buf + out, "/%s", part);
	}
	if (!out)
		buf[out++] = '/';
	buf[out] = 0;
	return ds_name_problem(buf) ? -EILSEQ : 0;
}

const char *rc_dir_identity_strerror(int r)
{
	return r == -EILSEQ
		   ? "the directory's path is not valid UTF-8 or holds "
		     "a control character; libvirt's XML records it "
		     "in every domain's mark (rename the directory)"
		   : strerror(-r);
}

/* Fills e with "PATH: why", the path escaped as names are shown. */
static void path_err(struct rc_err *e, const char *path, const char *why)
{
	_cleanup_free_ char *shown = ds_escape_name(path);

	rc_err_set(e, "%s: %s", shown ? shown : "?", why);
}

/* The files are read by a thread of their own while libvirt is; when it
 * is done it reads domains too, as reading them is most of a pass. */
struct loader {
	struct ds_set *set;
	const char *dir;
	bool check_perms;
	int r;
	char why[256];                        /* when r < 0 */
	_Atomic(struct rc_observe_job *) job; /* set once listed */
};

static void *load_dir(void *opaque)
{
	struct loader *l = opaque;
	struct rc_observe_job *job;
	struct ds_xreader *reader;

	l->r = ds_set_add_dir(l->set, l->dir, l->check_perms, l->why,
			      sizeof(l->why));
	if (!(job = atomic_load(&l->job)) || !(reader = ds_xreader_new()))
		return NULL;
	while (rc_observe_next(job, reader))
		;
	ds_xreader_free(reader);
	return NULL;
}

int rc_pass_plan(virConnectPtr conn, const char *dir,
		 const struct rc_pass_opts *o, struct rc_pass *p,
		 struct rc_err *e)
{
	struct rc_plan_opts po = {.prune = o->prune,
				  .delete_storage = o->delete_storage};
	struct loader l = {
	    .set = &p->set, .dir = dir, .check_perms = !o->insecure};
	struct rc_observe_job *job;
	const struct rc_observed **idx;
	char real[PATH_MAX];
	pthread_t th;
	bool threaded;
	int r;

	if ((r = rc_dir_identity(dir, real, sizeof(real))) < 0) {
		path_err(e, dir, rc_dir_identity_strerror(r));
		return r;
	}
	threaded = pthread_create(&th, NULL, load_dir, &l) == 0;
	if (!threaded)
		load_dir(&l);
	job = rc_limits_read_host(conn, &p->limits, e) < 0
		  ? NULL
		  : rc_observe_begin(conn, e);
	if (job) {
		atomic_store(&l.job, job);
		rc_observe_run(job, 3);
	}
	if (threaded)
		pthread_join(th, NULL);
	r = job ? rc_observe_end(job, &p->observed, &p->n_observed, e) : -1;
	if (l.r < 0) {
		path_err(e, dir, l.why);
		return l.r;
	}
	if (r < 0)
		return -1;
	po.dir = real;
	ds_set_check_unique(&p->set);
	po.dir_usable = p->set.n > 0;
	if (!(idx = rc_observed_index(p->observed, p->n_observed))) {
		rc_err_set(e, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < p->set.n && r == 0; i++) {
		const struct ds_domain *d = p->set.entries[i].dom;
		if (d && !d->pool)
			r = learn_limits(
			    conn, d,
			    rc_observed_find(idx, p->n_observed, d->name),
			    &p->limits, e);
	}
	po.index = idx;
	if (r == 0)
		r = rc_storage_observe(conn, &p->set, p->observed,
				       p->n_observed, &p->storage, e);
	po.storage = &p->storage;
	if (r == 0 && rc_plan(&p->set, p->observed, p->n_observed, &p->limits,
			      &po, &p->plan) < 0) {
		rc_err_set(e, "out of memory");
		r = -1;
	}
	free(idx);
	return r;
}

/* A pass's three parts are freed side by side when it is large. */
static void finish_part(void *opaque, size_t i, void *unused)
{
	struct rc_pass *p = opaque;

	(void)unused;
	if (i == 0)
		rc_observed_array_free(p->observed, p->n_observed);
	else if (i == 1)
		ds_set_finish(&p->set);
	else
		rc_plan_finish(&p->plan);
}

void rc_pass_finish(struct rc_pass *p)
{
	rc_workers_run(&(struct rc_workers){.n = 3,
					    .busy = p->n_observed + p->set.n,
					    .threads = 2,
					    .per_thread = 256,
					    .cpu_bound = true,
					    .item = finish_part,
					    .ctx = p});
	rc_limits_finish(&p->limits);
	rc_storage_finish(&p->storage);
	*p = (struct rc_pass){0};
}

/* When o's mark names another file of path's directory that still exists
 * and names o too, that file joins the set, so that both are errors as in
 * a full pass (two files naming one domain) and neither takes the domain
 * from the other. A file that is gone, or that names another domain now,
 * does not: path takes its domain over (a rename). Returns 0 or -ENOMEM. */
static int add_mark_file(struct ds_set *set, const char *path,
			 const struct rc_observed *o, const char *dir,
			 bool check_perms)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	_cleanup_free_ char *other = NULL;
	struct ds_entry *e;

	if (!o->mark.present || !o->mark.file ||
	    (dir && o->mark.dir && strcmp(o->mark.dir, dir)) ||
	    !strcmp(o->mark.file, base) || strchr(o->mark.file, '/') ||
	    ds_name_ignored(o->mark.file))
		return 0;
	if (asprintf(&other, "%.*s%s", (int)(base - path), path, o->mark.file) <
	    0)
		return -ENOMEM;
	if (access(other, F_OK) < 0)
		return 0;
	if (ds_set_add_file(set, other, check_perms) < 0)
		return -ENOMEM;
	e = &set->entries[set->n - 1];
	if (e->dom && !strcmp(e->dom->name, o->name)) {
		ds_set_check_unique(set);
		return 0;
	}
	ds_domain_free(e->dom);
	free(e->name);
	ds_diags_finish(&e->diags);
	set->n--;
	return 0;
}

int rc_pass_plan_file(virConnectPtr conn, const char *dir, const char *path,
		      bool insecure, struct rc_limits *limits,
		      struct rc_pass *p, struct rc_err *e)
{
	/* no orphans here (a full pass or rc_pass_plan_gone finds them): a
	 * directory read one file at a time is not known to be usable */
	struct rc_plan_opts po = {.dir = dir};
	const struct ds_domain *d;
	virDomainPtr dom;

	if (ds_set_add_file(&p->set, path, !insecure) < 0) {
		rc_err_set(e, "out of memory");
		return -1;
	}
	d = p->set.entries[0].dom;
	p->observed = calloc(1, sizeof(*p->observed));
	if (!p->observed) {
		rc_err_set(e, "out of memory");
		return -1;
	}
	dom = d && !d->pool ? virDomainLookupByName(conn, d->name) : NULL;
	if (dom) {
		int r = rc_observe_domain(dom, &p->observed[0], e);
		virDomainFree(dom);
		if (r < 0)
			return -1;
		p->n_observed = 1;
	} else if (d && !d->pool &&
		   virGetLastErrorCode() != VIR_ERR_NO_DOMAIN) {
		rc_err_libvirt(e, "virDomainLookupByName");
		return -1;
	}
	if (p->n_observed &&
	    add_mark_file(&p->set, path, &p->observed[0], dir, !insecure) < 0) {
		rc_err_set(e, "out of memory");
		return -1;
	}
	d = p->set.entries[0].dom; /* NULL now if the mark's file names it */
	if (d && !d->pool &&
	    learn_limits(conn, d, p->n_observed ? p->observed : NULL, limits,
			 e) < 0)
		return -1;
	if (rc_storage_observe(conn, &p->set, p->observed, p->n_observed,
			       &p->storage, e) < 0)
		return -1;
	po.storage = &p->storage;
	if (rc_plan(&p->set, p->observed, p->n_observed, limits, &po,
		    &p->plan) < 0) {
		rc_err_set(e, "out of memory");
		return -1;
	}
	return 0;
}

int rc_pass_plan_gone(virConnectPtr conn, const char *dir, const char *dir_id,
		      const char *file, const char *domain,
		      const struct rc_pass_opts *o, struct rc_pass *p,
		      struct rc_err *e)
{
	struct rc_plan_opts po = {.prune = o->prune,
				  .delete_storage = o->delete_storage,
				  .dir = dir_id,
				  .orphans_only = true};
	virDomainPtr dom;
	char why[512];
	int r;

	if ((r = ds_set_add_dir(&p->set, dir, !o->insecure, why, sizeof(why))) <
	    0) {
		path_err(e, dir, why);
		return r;
	}
	ds_set_check_unique(&p->set);
	po.dir_usable = p->set.n > 0;
	if (!(p->observed = calloc(1, sizeof(*p->observed)))) {
		rc_err_set(e, "out of memory");
		return -1;
	}
	dom = domain ? virDomainLookupByName(conn, domain) : NULL;
	if (domain && !dom && virGetLastErrorCode() != VIR_ERR_NO_DOMAIN) {
		rc_err_libvirt(e, "virDomainLookupByName");
		return -1;
	}
	if (dom) {
		r = rc_observe_domain(dom, &p->observed[0], e);
		virDomainFree(dom);
		if (r < 0)
			return -1;
		/* marked with another file since: that file's, not an orphan */
		if (p->observed[0].mark.file &&
		    !strcmp(p->observed[0].mark.file, file))
			p->n_observed = 1;
		else
			rc_observed_finish(&p->observed[0]);
	}
	if (rc_plan(&p->set, p->observed, p->n_observed, &p->limits, &po,
		    &p->plan) < 0) {
		rc_err_set(e, "out of memory");
		return -1;
	}
	return 0;
}
