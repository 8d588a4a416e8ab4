#include "pass.h"

#include <errno.h>
#include <string.h>

/* Learns the vCPU maximum of every type and machine the files use. */
static int learn_limits(virConnectPtr conn, struct rc_pass *p, struct rc_err *e)
{
	for (size_t i = 0; i < p->set.n; i++) {
		const struct ds_domain *d = p->set.entries[i].dom;
		const struct ds_node *m;
		if (!d)
			continue;
		m = ds_node_path(d->root, "os.machine");
		if (rc_limits_learn(conn, &p->limits,
				    d->type ? d->type : p->limits.best_type,
				    m ? m->str : NULL, e) < 0)
			return -1;
	}
	return 0;
}

int rc_pass_plan(virConnectPtr conn, const char *dir, bool prune,
		 struct rc_pass *p, struct rc_err *e)
{
	struct rc_plan_opts po = {.prune = prune};
	int r = ds_set_add_dir(&p->set, dir);

	if (r < 0) {
		rc_err_set(e, "%s: %s", dir, strerror(-r));
		return r;
	}
	ds_set_check_unique(&p->set);
	po.dir_usable = p->set.n > 0;
	if (rc_limits_read(conn, &p->limits, e) < 0 ||
	    learn_limits(conn, p, e) < 0 ||
	    rc_observe_all(conn, &p->observed, &p->n_observed, e) < 0)
		return -1;
	if (rc_plan(&p->set, p->observed, p->n_observed, &p->limits, &po,
		    &p->plan) < 0) {
		rc_err_set(e, "out of memory");
		return -1;
	}
	return 0;
}

void rc_pass_finish(struct rc_pass *p)
{
	rc_plan_finish(&p->plan);
	rc_observed_array_free(p->observed, p->n_observed);
	rc_limits_finish(&p->limits);
	ds_set_finish(&p->set);
	*p = (struct rc_pass){0};
}
