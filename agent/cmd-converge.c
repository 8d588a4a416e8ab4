/* plan and apply: one pass of the reconciler over a directory. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "cleanup.h"
#include "cli.h"
#include "connect.h"
#include "pass.h"
#include "plan.h"
#include "set.h"

struct converge_opts {
	const char *uri;
	const char *dir;
	bool json;
	bool prune;
	bool delete_nvram;
	bool delete_storage;
	bool insecure;
	unsigned shutdown_timeout;
};

/* Each command takes its own options, and no other: one it does not use
 * is refused, not ignored. */
static const struct option plan_options[] = {
    {"help", no_argument, NULL, 'h'},
    {"connect", required_argument, NULL, 'c'},
    {"json", no_argument, NULL, 'j'},
    {"insecure-permissions", no_argument, NULL, 'I'},
    {0},
};

static const struct option apply_options[] = {
    {"help", no_argument, NULL, 'h'},
    {"connect", required_argument, NULL, 'c'},
    {"prune", no_argument, NULL, 'p'},
    {"delete-nvram", no_argument, NULL, 'N'},
    {"delete-storage", no_argument, NULL, 'S'},
    {"shutdown-timeout", required_argument, NULL, 't'},
    {"insecure-permissions", no_argument, NULL, 'I'},
    {0},
};

/* What the options and operands say together. Returns 0, or -1 with the
 * message printed. */
static int check_opts(int argc, char **argv, const struct converge_opts *o)
{
	if (ag_check_prune(argv[0], o->prune, o->delete_nvram,
			   o->delete_storage) < 0)
		return -1;
	if (argc - optind != 1) {
		fprintf(stderr,
			"%s %s: give one directory; see '%s %s --help'\n",
			AG_PROG, argv[0], AG_PROG, argv[0]);
		return -1;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, bool apply,
		      struct converge_opts *o, int *ret_status)
{
	int c;

	*o = (struct converge_opts){.shutdown_timeout = 60};
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv,
				"+:hc:", apply ? apply_options : plan_options,
				NULL)) != -1) {
		switch (c) {
		case 'h':
			*ret_status = ag_usage(argv[0], 0);
			return -1;
		case 'c':
			o->uri = optarg;
			break;
		case 'j':
			o->json = true;
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
		case 'I':
			o->insecure = true;
			break;
		case 't':
			if (ag_parse_seconds(argv[0], "--shutdown-timeout",
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
	if (check_opts(argc, argv, o) < 0) {
		*ret_status = AG_EXIT_FAIL;
		return -1;
	}
	o->dir = argv[optind];
	return 0;
}

struct pass {
	virConnectPtr conn;
	struct rc_pass rc;
};

static void pass_finish(struct pass *p)
{
	rc_pass_finish(&p->rc);
	if (p->conn)
		virConnectClose(p->conn);
}

static int pass_run(struct pass *p, const struct converge_opts *o)
{
	struct rc_err e;
	int r;

	rc_init();
	if (rc_connect(o->uri, &p->conn, &e) < 0) {
		fprintf(stderr, "%s: %s: %s\n", AG_PROG,
			o->uri ? o->uri : "libvirt", e.msg);
		return -1;
	}
	r = rc_pass_plan(
	    p->conn, o->dir,
	    &(struct rc_pass_opts){.prune = o->prune,
				   .delete_storage = o->delete_storage,
				   .insecure = o->insecure},
	    &p->rc, &e);
	for (size_t i = 0; i < p->rc.set.n; i++)
		ds_diags_print(&p->rc.set.entries[i].diags, stderr, AG_PROG);
	if (r < 0)
		fprintf(stderr, "%s: %s\n", AG_PROG, e.msg);
	return r < 0 ? -1 : 0;
}

static bool has_phase(const struct rc_plan *p, enum rc_phase a, enum rc_phase b)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->domains[i].phase == a || p->domains[i].phase == b)
			return true;
	return false;
}

int ag_cmd_plan(int argc, char **argv)
{
	struct converge_opts o;
	struct pass p = {0};
	int status = AG_EXIT_OK;

	if (parse_opts(argc, argv, false, &o, &status) < 0)
		return status;
	if (pass_run(&p, &o) < 0) {
		pass_finish(&p);
		return AG_EXIT_FAIL;
	}
	if (o.json)
		rc_plan_print_json(&p.rc.plan, stdout);
	else
		rc_plan_print(&p.rc.plan, stdout);
	if (has_phase(&p.rc.plan, RC_PHASE_ERROR, RC_PHASE_CONFLICT))
		status = AG_EXIT_FAIL;
	else if (rc_plan_count_actions(&p.rc.plan))
		status = AG_EXIT_PENDING;
	pass_finish(&p);
	return status;
}

static void progress(const struct rc_domain_plan *dp, const struct rc_action *a,
		     void *userdata)
{
	printf("%s: %s%s: %s\n", dp->name, rc_act_name(a->kind),
	       rc_act_where(a), a->why);
	fflush(stdout);
}

int ag_cmd_apply(int argc, char **argv)
{
	struct converge_opts o;
	struct pass p = {0};
	struct rc_apply_stats stats = {0};
	int status = AG_EXIT_OK;

	if (parse_opts(argc, argv, true, &o, &status) < 0)
		return status;
	if (pass_run(&p, &o) < 0) {
		pass_finish(&p);
		return AG_EXIT_FAIL;
	}
	struct rc_apply_opts ao = {.shutdown_timeout = o.shutdown_timeout,
				   .delete_nvram = o.delete_nvram,
				   .progress = progress};
	rc_apply(p.conn, &p.rc.plan, &ao, &stats);
	size_t count[RC_PHASE_ORPHANED + 1] = {0};
	for (size_t i = 0; i < p.rc.plan.n; i++) {
		const struct rc_domain_plan *dp = &p.rc.plan.domains[i];
		count[dp->phase]++;
		if (dp->phase == RC_PHASE_ERROR ||
		    dp->phase == RC_PHASE_CONFLICT)
			fprintf(stderr, "%s: %s: %s\n", AG_PROG,
				dp->name ? dp->name : dp->file, dp->reason);
		else if (dp->reason)
			printf("%s: %s: %s\n", dp->name,
			       rc_phase_name(dp->phase), dp->reason);
	}
	rc_plan_print_count(&p.rc.plan, stdout);
	for (size_t ph = 0; ph <= RC_PHASE_ORPHANED; ph++)
		if (count[ph])
			printf(" %zu %s", count[ph], rc_phase_name(ph));
	printf("; %zu libvirt write call%s\n", stats.writes,
	       stats.writes == 1 ? "" : "s");
	if (count[RC_PHASE_ERROR] || count[RC_PHASE_CONFLICT])
		status = AG_EXIT_FAIL;
	pass_finish(&p);
	return status;
}
