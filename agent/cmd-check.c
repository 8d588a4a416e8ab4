/* validate and render: the commands that judge files alone. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "cli.h"
#include "connect.h"
#include "render.h"
#include "set.h"
#include "utf8.h"

/* Parses the options every command shares: --help and, where allowed,
 * --connect. Returns the index of the first operand, or -1 to exit with
 * *ret_status. */
static int parse_common(int argc, char **argv, const char **ret_uri,
			int *ret_status)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"connect", required_argument, NULL, 'c'},
	    {0},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ret_uri ? "+:hc:" : "+:h", opts,
				NULL)) != -1) {
		switch (c) {
		case 'h':
			*ret_status = ag_usage(argv[0], 0);
			return -1;
		case 'c':
			if (ret_uri) {
				*ret_uri = optarg;
				break;
			}
			__attribute__((fallthrough));
		default:
			*ret_status = ag_bad_option(argv, c);
			return -1;
		}
	}
	return optind;
}

/* Loads libvirt's schema once; a missing schema is said once, then the
 * check is skipped (validate and render run where libvirt is absent). */
static struct ds_rng *schema(void)
{
	static bool told;
	const char *err = NULL;
	struct ds_rng *rng = ds_rng_default(&err);

	if (!rng && !told) {
		told = true;
		fprintf(stderr,
			"%s: %s; skipping the check against libvirt's schema\n",
			AG_PROG, err);
	}
	return rng;
}

/* Renders a valid domain and checks it against the schema; problems go to
 * the entry's diagnostics and drop its domain. */
static void check_rendered(struct ds_entry *e)
{
	xmlDocPtr doc = NULL;
	struct ds_rng *rng = schema();

	if (ds_render(e->dom, "kvm", &e->diags, &doc) == 0 && rng)
		ds_rng_check(rng, doc, &e->diags);
	xmlFreeDoc(doc);
	if (e->diags.n || e->diags.dropped || e->diags.oom) {
		ds_domain_free(e->dom);
		e->dom = NULL;
	}
}

/* Adds a file, or a directory's files, to the set; says what is wrong
 * with a path that cannot be read or holds no file, and returns -1. */
static int add_path(struct ds_set *set, const char *path)
{
	_cleanup_free_ char *shown = ds_escape_name(path);
	size_t before = set->n;
	struct stat st;
	char why[256] = "";
	/* files are judged alone, wherever they are checked out: who may
	 * write them is for the commands that converge */
	int r = stat(path, &st) == 0 && S_ISDIR(st.st_mode)
		    ? ds_set_add_dir(set, path, false, why, sizeof(why))
		    : ds_set_add_file(set, path, false);

	if (r < 0) {
		fprintf(stderr, "%s: %s: %s\n", AG_PROG, shown ? shown : "?",
			*why ? why : strerror(-r));
		return -1;
	}
	if (set->n == before) {
		/* a path that checks nothing is a mistake (a wrong directory
		 * in a CI job), not a pass */
		fprintf(stderr,
			"%s: %s: no desired-state files (*.yaml, *.yml) in "
			"it\n",
			AG_PROG, shown ? shown : "?");
		return -1;
	}
	return 0;
}

int ag_cmd_validate(int argc, char **argv)
{
	struct ds_set set = {0};
	int status = AG_EXIT_OK;
	int first = parse_common(argc, argv, NULL, &status);

	if (first < 0)
		return status;
	if (first == argc) {
		fprintf(stderr,
			"%s validate: give at least one file or "
			"directory; see '%s validate --help'\n",
			AG_PROG, AG_PROG);
		return AG_EXIT_FAIL;
	}
	for (int i = first; i < argc; i++)
		if (add_path(&set, argv[i]) < 0)
			status = AG_EXIT_FAIL;
	/* a pool's XML was checked as it was read */
	for (size_t i = 0; i < set.n; i++)
		if (set.entries[i].dom && !set.entries[i].dom->pool)
			check_rendered(&set.entries[i]);
	ds_set_check_unique(&set);
	for (size_t i = 0; i < set.n; i++)
		ds_diags_print(&set.entries[i].diags, stderr, AG_PROG);
	size_t bad = ds_set_count_bad(&set);
	printf("%zu file%s checked, %zu with problems\n", set.n,
	       set.n == 1 ? "" : "s", bad);
	if (bad)
		status = AG_EXIT_FAIL;
	ds_set_finish(&set);
	return status;
}

/* The type for a file that names none: the connection's best, or kvm. */
static int default_type(const char *uri, char **ret)
{
	_cleanup_conn_ virConnectPtr conn = NULL;
	struct rc_err e;

	if (!uri)
		return (*ret = strdup("kvm")) ? 0 : -ENOMEM;
	rc_init();
	if (rc_connect(uri, &conn, &e) < 0 || rc_best_type(conn, ret, &e) < 0) {
		fprintf(stderr, "%s: %s: %s\n", AG_PROG, uri, e.msg);
		return -1;
	}
	return 0;
}

int ag_cmd_render(int argc, char **argv)
{
	_cleanup_(ds_domain_freep) struct ds_domain *dom = NULL;
	_cleanup_free_ char *type = NULL, *text = NULL;
	struct ds_diags d;
	xmlDocPtr doc = NULL;
	const char *uri = NULL;
	int status = AG_EXIT_OK;
	int first = parse_common(argc, argv, &uri, &status);

	if (first < 0)
		return status;
	if (argc - first != 1) {
		fprintf(stderr,
			"%s render: give exactly one file; see '%s "
			"render --help'\n",
			AG_PROG, AG_PROG);
		return AG_EXIT_FAIL;
	}
	if (ds_diags_init(&d, argv[first]) < 0)
		return AG_EXIT_FAIL;
	if (ds_domain_load(argv[first], false, &d, &dom) == 0 && dom->pool)
		ds_render_pool(dom, &doc); /* its schema is checked already */
	else if (dom && (dom->type || default_type(uri, &type) == 0) &&
		 ds_render(dom, type, &d, &doc) == 0 && schema())
		ds_rng_check(schema(), doc, &d);
	if (doc && !d.n && !d.dropped && !d.oom && (text = ds_render_text(doc)))
		fputs(text, stdout);
	else
		status = AG_EXIT_FAIL;
	ds_diags_print(&d, stderr, AG_PROG);
	ds_diags_finish(&d);
	xmlFreeDoc(doc);
	return status;
}
