/* import: existing domains (from libvirt, or their XML files) written out
 * as desired-state files that, dropped into the watched directory, take
 * their domains over without changing anything but the mark. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "connect.h"
#include "domain.h"
#include "import-domain.h"
#include "observe.h"
#include "render.h"
#include "set.h"
#include "utf8.h"

/* libvirt's domain XML is far smaller; a file larger than this is not one */
#define MAX_XML_SIZE (16 * 1024 * 1024)

struct import_opts {
	const char *uri;
	const char *dir; /* -o; NULL: standard output */
	bool all;
	bool xml; /* the operands are XML files */
	bool force;
};

struct import_run {
	const struct import_opts *o;
	int dirfd;    /* -o DIR, open */
	char **names; /* the domains written, to refuse a second of a name */
	size_t n_names;
	size_t written; /* files written */
	size_t bad;     /* of those, files with problems */
	size_t failed;  /* domains not written */
};

static const struct option import_options[] = {
    {"help", no_argument, NULL, 'h'},
    {"connect", required_argument, NULL, 'c'},
    {"output", required_argument, NULL, 'o'},
    {"all", no_argument, NULL, 'a'},
    {"xml", no_argument, NULL, 'x'},
    {"force", no_argument, NULL, 'f'},
    {0},
};

/* What the options and operands say together. Returns 0, or -1 with the
 * message printed. */
static int check_opts(int n_operands, const struct import_opts *o)
{
	const char *why = NULL;

	if (o->xml && o->uri)
		why = "--xml reads files, without libvirt: leave -c out";
	else if (o->xml && o->all)
		why = "--all imports libvirt's domains; --xml the files given";
	else if (o->all && n_operands)
		why = "give --all or domain names, not both";
	else if (!o->all && !n_operands)
		why = o->xml ? "give at least one XML file"
			     : "give domain names, --all, or --xml FILE...";
	else if (!o->dir && (o->all || n_operands > 1))
		why = "several domains are written one file each: give -o DIR "
		      "(without it, one domain goes to standard output)";
	if (!why)
		return 0;
	fprintf(stderr, "%s import: %s; see '%s import --help'\n", AG_PROG, why,
		AG_PROG);
	return -1;
}

/* The domain's file name, or NULL with the reason said. */
static char *file_name_for(const char *label, const char *name)
{
	_cleanup_free_ char *shown = ds_escape_name(name);
	char *file = NULL;
	const char *why = NULL;

	if (strchr(name, '/'))
		why = "its name holds '/'";
	else if (asprintf(&file, "%s.yaml", name) < 0)
		return NULL;
	else if (ds_name_problem(file))
		why = ds_name_problem(file);
	else if (ds_name_ignored(file))
		why = "the agent ignores files whose name begins with '.'";
	if (!why)
		return file;
	fprintf(stderr, "%s: %s: domain '%s' gets no file: %s\n", AG_PROG,
		label, shown ? shown : "?", why);
	free(file);
	return NULL;
}

/* Writes text to DIR/file atomically: a temporary file the agent ignores
 * (a leading '.'), mode 0644 (0600 when it holds a password), synced,
 * then renamed into place; without
 * --force, never over a file that exists, even one made meanwhile. */
static int write_file(struct import_run *run, const char *file,
		      const char *text, size_t len, const char *shown_path)
{
	char tmp[NAME_MAX + 1];
	_cleanup_close_ int fd = -1;
	/* a domain's passwords (graphics passwd) are for root's eyes */
	mode_t mode = strstr(text, "passwd:") ? 0600 : 0644;
	int r = 0;

	for (int tries = 0; fd < 0 && tries < 100; tries++) {
		snprintf(tmp, sizeof(tmp), ".%.200s.%ld.%d.tmp", file,
			 (long)getpid(), rand());
		fd = openat(
		    run->dirfd, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		fprintf(stderr, "%s: %s: cannot create a file in %s: %s\n",
			AG_PROG, shown_path, run->o->dir, strerror(errno));
		return -1;
	}
	/* 0644 (0600 with a password) whatever the umask: the agent reads
	 * it as root or as its user, and refuses a file group or others may
	 * write */
	for (size_t off = 0; r == 0 && off < len;) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			r = -1;
		else
			off += n;
	}
	if (r == 0 && (fchmod(fd, mode) < 0 || fsync(fd) < 0))
		r = -1;
	if (r == 0 && close(take_fd(fd)) < 0)
		r = -1;
	if (r == 0 && run->o->force)
		r = renameat(run->dirfd, tmp, run->dirfd, file);
	else if (r == 0) {
		r = renameat2(run->dirfd, tmp, run->dirfd, file,
			      RENAME_NOREPLACE);
		if (r < 0 && (errno == EINVAL || errno == ENOSYS)) {
			/* a file system without it: a link refuses to
			 * replace too */
			r = linkat(run->dirfd, tmp, run->dirfd, file, 0);
			if (r == 0)
				unlinkat(run->dirfd, tmp, 0);
		}
	}
	if (r < 0) {
		int err = errno;
		unlinkat(run->dirfd, tmp, 0);
		if (err == EEXIST)
			fprintf(stderr,
				"%s: %s exists; it is left as it is (--force "
				"overwrites it)\n",
				AG_PROG, shown_path);
		else
			fprintf(stderr, "%s: %s: cannot write it: %s\n",
				AG_PROG, shown_path, strerror(err));
		return -1;
	}
	return 0;
}

/* Checks the file as validate does (the format, the rules, libvirt's
 * schema); prints its problems. Returns the number found. */
static size_t check_file(const char *path, const struct ds_import *im)
{
	_cleanup_(ds_domain_freep) struct ds_domain *dom = NULL;
	struct ds_diags d;
	xmlDocPtr doc = NULL;
	struct ds_rng *rng = ds_rng_default(NULL);
	char *text = malloc(im->len + 1);
	size_t n;

	if (!text || ds_diags_init(&d, path) < 0) {
		free(text);
		fprintf(stderr, "%s: %s: out of memory\n", AG_PROG, path);
		return 1;
	}
	memcpy(text, im->yaml, im->len + 1);
	ds_diags_set_text(&d, text, im->len);
	if (ds_domain_parse(path, im->yaml, im->len, &d, &dom) == 0 &&
	    ds_render(dom, "kvm", &d, &doc) == 0 && rng)
		ds_rng_check(rng, doc, &d);
	xmlFreeDoc(doc);
	n = d.n + d.dropped + !!d.oom;
	ds_diags_print(&d, stderr, AG_PROG);
	ds_diags_finish(&d);
	return n;
}

/* What of the domain the file does not carry as a field. */
static void say_notes(const char *shown, const struct ds_import *im,
		      const struct ds_import_opts *io)
{
	for (size_t i = 0; i < im->n_notes; i++)
		fprintf(stderr, "%s: %s: %s\n", AG_PROG, shown ? shown : "?",
			im->notes[i]);
	if (im->notes_dropped)
		fprintf(stderr, "%s: %s: and %zu more such notes\n", AG_PROG,
			shown ? shown : "?", im->notes_dropped);
	/* an XML file says nothing of running: the file says what a define
	 * leaves */
	if (io->xml_file)
		fprintf(stderr,
			"%s: %s: its XML says nothing of running; the file "
			"says 'state: %s', as a define leaves it (make it "
			"'running' to have it started)\n",
			AG_PROG, shown ? shown : "?", io->state);
}

/* A file written (where: what it is called in messages), with its
 * problems said when it has any. */
static void count_written(struct import_run *run, size_t problems,
			  const char *where)
{
	run->written++;
	if (!problems)
		return;
	fprintf(stderr,
		"%s: %s: the file has problems (above); fix them before it is "
		"applied\n",
		AG_PROG, where ? where : "?");
	run->bad++;
}

/* Imports one domain's XML (label: the domain or the file it came
 * from). */
static void import_one(struct import_run *run, const char *label,
		       const char *xml, size_t len,
		       const struct ds_import_opts *io)
{
	struct ds_import im;
	char why[512];
	_cleanup_free_ char *file = NULL, *path = NULL, *shown = NULL,
			    *shown_path = NULL,
			    *shown_label = ds_escape_name(label);
	const char *lbl = shown_label ? shown_label : "?";
	struct stat st;
	char **grown;
	size_t bad;
	int r = ds_import_xml(xml, len, io, &im, why, sizeof(why));

	if (r < 0) {
		fprintf(stderr, "%s: %s: %s\n", AG_PROG, lbl,
			r == -ENOMEM ? "out of memory" : why);
		run->failed++;
		return;
	}
	shown = ds_escape_name(im.name);
	/* on standard output the name only labels the file's problems */
	if (run->o->dir ? !(file = file_name_for(lbl, im.name))
			: asprintf(&file, "%s.yaml", im.name) < 0)
		goto failed;
	for (size_t i = 0; i < run->n_names; i++) {
		if (!strcmp(run->names[i], im.name)) {
			fprintf(stderr,
				"%s: %s: domain '%s' was imported already, "
				"from another source; not written again\n",
				AG_PROG, lbl, shown ? shown : "?");
			goto failed;
		}
	}
	if (run->o->dir &&
	    asprintf(&path, "%s%s%s", run->o->dir,
		     run->o->dir[strlen(run->o->dir) - 1] == '/' ? "" : "/",
		     file) < 0)
		goto failed;
	if (!run->o->dir) {
		say_notes(shown, &im, io);
		/* the file's problems are said as those of NAME.yaml */
		bad = check_file(file, &im);
		if (fwrite(im.yaml, 1, im.len, stdout) != im.len ||
		    fflush(stdout) != 0) {
			fprintf(stderr, "%s: standard output: %s\n", AG_PROG,
				strerror(errno));
			goto failed;
		}
		count_written(run, bad, shown);
		ds_import_finish(&im);
		return;
	}
	shown_path = ds_escape_name(path);
	if (!run->o->force &&
	    fstatat(run->dirfd, file, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		fprintf(stderr,
			"%s: %s exists; it is left as it is (--force "
			"overwrites it)\n",
			AG_PROG, shown_path ? shown_path : "?");
		goto failed;
	}
	say_notes(shown, &im, io);
	bad = check_file(path, &im);
	if (write_file(run, file, im.yaml, im.len,
		       shown_path ? shown_path : "?") < 0)
		goto failed;
	grown = reallocarray(run->names, run->n_names + 1, sizeof(*grown));
	if (grown) {
		run->names = grown;
		run->names[run->n_names++] = take_ptr(im.name);
	}
	printf("%s: wrote %s\n", shown ? shown : "?",
	       shown_path ? shown_path : "?");
	count_written(run, bad, shown_path);
	ds_import_finish(&im);
	return;
failed:
	run->failed++;
	ds_import_finish(&im);
}

/* Reads a whole XML file. Returns 0 and its text, or -1 with the reason
 * said. */
static int read_xml_file(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *shown = ds_escape_name(path);
	_cleanup_close_ int fd =
	    open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "%s: %s: %s\n", AG_PROG, shown ? shown : "?",
			strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "%s: %s: not a regular file\n", AG_PROG,
			shown ? shown : "?");
		return -1;
	}
	if (st.st_size > MAX_XML_SIZE) {
		fprintf(stderr,
			"%s: %s: larger than %d bytes; not a domain's "
			"XML\n",
			AG_PROG, shown ? shown : "?", MAX_XML_SIZE);
		return -1;
	}
	if (!(buf = malloc(st.st_size + 1)))
		return -1;
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "%s: %s: %s\n", AG_PROG,
				shown ? shown : "?", strerror(errno));
			return -1;
		}
		if (n == 0)
			break; /* shrunk meanwhile: what there is */
		len += n;
	}
	buf[len] = 0;
	*ret = take_ptr(buf);
	*ret_len = len;
	return 0;
}

static void import_files(struct import_run *run, int argc, char **argv)
{
	/* an XML file is a definition: defined, a domain is shut off (virsh
	 * define leaves it so); nor does it say autostart */
	const struct ds_import_opts io = {"shutoff", -1, true};

	for (int i = optind; i < argc; i++) {
		_cleanup_free_ char *xml = NULL;
		size_t len;
		if (read_xml_file(argv[i], &xml, &len) < 0) {
			run->failed++;
			continue;
		}
		import_one(run, argv[i], xml, len, &io);
	}
}

/* Imports one of libvirt's domains; all: it came from the list of all. */
static void import_domain(struct import_run *run, virDomainPtr dom,
			  const char *name, bool all)
{
	_cleanup_free_ char *xml = NULL, *shown = ds_escape_name(name);
	struct ds_import_opts io;
	struct rc_mark mark;
	struct rc_err e;
	int r = rc_import_read(dom, &xml, &io, &mark, &e);

	if (r < 0) {
		fprintf(stderr, "%s: %s: %s\n", AG_PROG, shown ? shown : "?",
			e.msg);
		run->failed++;
		return;
	}
	if (r > 0) {
		fprintf(stderr,
			"%s: %s: a transient domain; virt-reconcile manages "
			"defined domains only, so it is not imported\n",
			AG_PROG, shown ? shown : "?");
		if (!all)
			run->failed++;
		return;
	}
	/* the file's adopt: true takes only a domain nobody manages */
	if (mark.present)
		fprintf(stderr,
			"%s: %s: virt-reconcile manages it already, from %s "
			"(file %s); a file imported from it does not take it "
			"from there\n",
			AG_PROG, shown ? shown : "?",
			mark.dir ? mark.dir : "a directory",
			mark.file ? mark.file : "?");
	rc_mark_finish(&mark);
	import_one(run, name, xml, strlen(xml), &io);
}

static void import_libvirt(struct import_run *run, int argc, char **argv)
{
	_cleanup_conn_ virConnectPtr conn = NULL;
	struct rc_err e;

	rc_init();
	if (rc_connect(run->o->uri, &conn, &e) < 0) {
		fprintf(stderr, "%s: %s: %s\n", AG_PROG,
			run->o->uri ? run->o->uri : "libvirt", e.msg);
		run->failed++;
		return;
	}
	if (run->o->all) {
		virDomainPtr *doms = NULL;
		int n = virConnectListAllDomains(conn, &doms, 0);
		if (n < 0) {
			rc_err_libvirt(&e, "virConnectListAllDomains");
			fprintf(stderr, "%s: %s\n", AG_PROG, e.msg);
			run->failed++;
			return;
		}
		for (int i = 0; i < n; i++) {
			const char *name = virDomainGetName(doms[i]);
			if (name)
				import_domain(run, doms[i], name, true);
			virDomainFree(doms[i]);
		}
		free(doms);
		if (!n)
			fprintf(stderr, "%s: %s: no domains to import\n",
				AG_PROG, run->o->uri ? run->o->uri : "libvirt");
		return;
	}
	for (int i = optind; i < argc; i++) {
		_cleanup_domain_ virDomainPtr dom =
		    virDomainLookupByName(conn, argv[i]);
		_cleanup_free_ char *shown = ds_escape_name(argv[i]);
		if (!dom) {
			virErrorPtr err = virGetLastError();
			fprintf(stderr, "%s: %s: %s\n", AG_PROG,
				shown ? shown : "?",
				err && err->code == VIR_ERR_NO_DOMAIN
				    ? "no such domain"
				: err && err->message ? err->message
						      : "cannot look it up");
			run->failed++;
			continue;
		}
		import_domain(run, dom, argv[i], false);
	}
}

int ag_cmd_import(int argc, char **argv)
{
	struct import_opts o = {0};
	struct import_run run = {.o = &o, .dirfd = -1};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:hc:o:", import_options, NULL)) !=
	       -1) {
		switch (c) {
		case 'h':
			return ag_usage(argv[0], 0);
		case 'c':
			o.uri = optarg;
			break;
		case 'o':
			o.dir = optarg;
			break;
		case 'a':
			o.all = true;
			break;
		case 'x':
			o.xml = true;
			break;
		case 'f':
			o.force = true;
			break;
		default:
			return ag_bad_option(argv, c);
		}
	}
	if (check_opts(argc - optind, &o) < 0)
		return AG_EXIT_FAIL;
	if (o.dir && !*o.dir) {
		fprintf(stderr, "%s import: -o takes a directory\n", AG_PROG);
		return AG_EXIT_FAIL;
	}
	if (o.dir &&
	    (run.dirfd = open(o.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		_cleanup_free_ char *shown = ds_escape_name(o.dir);
		fprintf(stderr, "%s: %s: cannot write files there: %s\n",
			AG_PROG, shown ? shown : "?",
			errno == ENOTDIR ? "not a directory" : strerror(errno));
		return AG_EXIT_FAIL;
	}
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	if (o.xml)
		import_files(&run, argc, argv);
	else
		import_libvirt(&run, argc, argv);
	if (run.dirfd >= 0)
		close(run.dirfd);
	for (size_t i = 0; i < run.n_names; i++)
		free(run.names[i]);
	free(run.names);
	if (o.dir)
		printf("%zu file%s written, %zu with problems; %zu domain%s "
		       "not written\n",
		       run.written, run.written == 1 ? "" : "s", run.bad,
		       run.failed, run.failed == 1 ? "" : "s");
	return run.failed || run.bad ? AG_EXIT_FAIL : AG_EXIT_OK;
}
