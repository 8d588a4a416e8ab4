/* virt-reconcile: the command line. */
#include <getopt.h>
#include <libxml/parser.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} commands[] = {
    {"validate", ag_cmd_validate,
     "Usage: " AG_PROG " validate PATH...\n"
     "\n"
     "Checks desired-state files, or every *.yaml and *.yml directly in\n"
     "each directory, without libvirt: syntax, keys, values, the rules\n"
     "between fields, and the rendered XML against libvirt's schema.\n"
     "Only regular files are read, and symlinks only to a file inside\n"
     "their directory. Every problem is printed as FILE:LINE:COL: message.\n"
     "\n"
     "Exit status: 0 when every file is valid, 1 otherwise.\n"},
    {"render", ag_cmd_render,
     "Usage: " AG_PROG " render [-c URI] FILE\n"
     "\n"
     "Prints the libvirt domain XML for one desired-state file.\n"
     "\n"
     "  -c, --connect URI  take the domain type, when the file names none,\n"
     "                     from this connection (kvm, else qemu, else its\n"
     "                     first); without it a missing type renders as kvm\n"
     "\n"
     "Exit status: 0 when the XML was printed, 1 otherwise.\n"},
    {"plan", ag_cmd_plan,
     "Usage: " AG_PROG " plan [-c URI] [--json] [--insecure-permissions] DIR\n"
     "\n"
     "Shows what apply would do for the desired-state files in DIR: per\n"
     "domain its phase, the calls to make and the fields that differ.\n"
     "Makes no change.\n"
     "\n"
     "  -c, --connect URI  libvirt's URI, as in virsh -c (default: libvirt's)\n"
     "      --json         print the plan as JSON\n"
     "      --insecure-permissions\n"
     "                     read a directory or files writable by group or\n"
     "                     others, or owned by another user\n"
     "\n"
     "Exit status: 0 in sync, 2 changes pending, 1 errors or conflicts.\n"},
    {"apply", ag_cmd_apply,
     "Usage: " AG_PROG " apply [-c URI] [--prune] [--delete-nvram]\n"
     "                      [--delete-storage] [--shutdown-timeout SECONDS]\n"
     "                      [--insecure-permissions] DIR\n"
     "\n"
     "Converges libvirt to the desired-state files in DIR once, and says\n"
     "what it did.\n"
     "\n"
     "  -c, --connect URI   libvirt's URI, as in virsh -c (default: "
     "libvirt's)\n"
     "      --prune         undefine the domains virt-reconcile made whose\n"
     "                      file is gone (stopping them first; never when\n"
     "                      DIR is empty); NVRAM files are kept\n"
     "      --delete-nvram  with --prune (required), remove their NVRAM\n"
     "                      files too\n"
     "      --delete-storage\n"
     "                      with --prune (required), remove the volumes\n"
     "                      and cloud-init seeds made for them too (never\n"
     "                      one another domain uses)\n"
     "      --shutdown-timeout SECONDS\n"
     "                      how long a graceful shutdown may take before\n"
     "                      the domain is destroyed (default 60)\n"
     "      --insecure-permissions\n"
     "                      read a directory or files writable by group or\n"
     "                      others, or owned by another user\n"
     "\n"
     "Exit status: 0 when everything converged or waits only for a\n"
     "restart, 1 when anything failed or was refused.\n"},
    {"run", ag_cmd_run,
     "Usage: " AG_PROG
     " run [-c URI] [--prune] [--delete-nvram] [--delete-storage]\n"
     "                    [--resync SECONDS]\n"
     "                    [--status-file FILE] [--metrics-file FILE]\n"
     "                    [--insecure-permissions] [--shutdown-timeout "
     "SECONDS] DIR\n"
     "\n"
     "The agent: watches DIR and keeps libvirt converged until SIGTERM or\n"
     "SIGINT (then it finishes the calls in flight and exits 0). A saved\n"
     "file is picked up at once, a burst of files after a quiet moment;\n"
     "libvirt's domain events repair drift at once; everything is read\n"
     "again every --resync seconds and on SIGHUP. Failures are retried\n"
     "with a growing delay; a lost libvirtd is reconnected.\n"
     "\n"
     "  -c, --connect URI         libvirt's URI (default: libvirt's)\n"
     "      --prune               undefine our domains whose file is gone\n"
     "      --delete-nvram        with --prune, remove their NVRAM too\n"
     "      --delete-storage      with --prune, remove their volumes too\n"
     "      --resync SECONDS      full pass interval (default 300)\n"
     "      --status-file FILE    write the state there (JSON, atomically)\n"
     "      --metrics-file FILE   write Prometheus text metrics there\n"
     "      --insecure-permissions\n"
     "                            accept a directory or files writable by\n"
     "                            group or others, or owned by another user\n"
     "      --shutdown-timeout SECONDS\n"
     "                            graceful shutdown before destroy (60)\n"},
    {"status", ag_cmd_status,
     "Usage: " AG_PROG " status [--status-file FILE] [--json]\n"
     "\n"
     "Prints the agent's last reported state: per domain its file, phase,\n"
     "last error or note and last change (default file:\n"
     "/run/virt-reconcile/status.json).\n"
     "\n"
     "      --json   print the status file as it is\n"},
    {"import", ag_cmd_import,
     "Usage: " AG_PROG " import [-c URI] [-o DIR] [--force] (--all | "
     "DOMAIN...)\n"
     "       " AG_PROG " import [-o DIR] [--force] --xml FILE...\n"
     "\n"
     "Writes existing domains out as desired-state files: libvirt's\n"
     "persistent XML of each domain (or a domain XML file) read through\n"
     "the format, with adopt: true, and from libvirt its state and\n"
     "autostart. Dropped into the watched directory, a file takes its\n"
     "domain over and changes nothing but the mark. What the format\n"
     "cannot say is kept as raw XML under xml: where it can be, and said\n"
     "on stderr either way.\n"
     "\n"
     "  -c, --connect URI  libvirt's URI, as in virsh -c (default: libvirt's)\n"
     "  -o, --output DIR   write DIR/NAME.yaml per domain (atomically, mode\n"
     "                     0644); without it, the one domain goes to\n"
     "                     standard output\n"
     "      --force        overwrite files that exist\n"
     "      --all          every defined domain of the connection\n"
     "      --xml          the operands are domain XML files (virsh\n"
     "                     dumpxml --inactive), read without libvirt; they\n"
     "                     hold no state, so the files say none (running)\n"
     "\n"
     "Exit status: 0 when every domain was written without problems, 1\n"
     "otherwise (a file that exists, a domain that does not, XML that\n"
     "does not parse, a file that would not validate).\n"},
};

static const char program_usage[] =
    "Usage: " AG_PROG " COMMAND [OPTION]... [ARG]...\n"
    "\n"
    "Declarative reconciliation for libvirt: one YAML file per domain.\n"
    "\n"
    "Commands:\n"
    "  validate PATH...      check files or directories; no libvirt\n"
    "  render [-c URI] FILE  print the domain XML for one file\n"
    "  plan [-c URI] [--json] DIR\n"
    "                        what apply would do; exit 0 in sync, 2 pending\n"
    "  apply [-c URI] [--prune] DIR\n"
    "                        converge once\n"
    "  run [-c URI] [--prune] [--resync SECONDS] [--status-file FILE] DIR\n"
    "                        the agent: watch and converge until SIGTERM\n"
    "  status [--status-file FILE] [--json]\n"
    "                        print the agent's last reported state\n"
    "  import [-c URI] [-o DIR] [--force] (--all | DOMAIN... | --xml FILE...)\n"
    "                        existing domains as desired-state files\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help, or a command's with COMMAND --help\n"
    "  -V, --version  show the version\n";

int ag_usage(const char *cmd, int to_stderr)
{
	FILE *out = to_stderr ? stderr : stdout;

	for (size_t i = 0; cmd && i < sizeof(commands) / sizeof(*commands);
	     i++) {
		if (!strcmp(commands[i].name, cmd)) {
			fputs(commands[i].usage, out);
			return AG_EXIT_OK;
		}
	}
	fputs(program_usage, out);
	return AG_EXIT_OK;
}

int main(int argc, char **argv)
{
	/* A write to a closed pipe or socket (a libvirtd that died under a
	 * call, a reader of the output that went away) must be an error the
	 * command reports, not a silent death by signal. */
	signal(SIGPIPE, SIG_IGN);
	/* libxml2 is used from the workers too: its globals are set up here,
	 * once, before any thread (its own rule for threaded programs) */
	xmlInitParser();
	if (argc < 2) {
		ag_usage(NULL, 1);
		return AG_EXIT_FAIL;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help"))
		return ag_usage(argc > 2 ? argv[2] : NULL, 0);
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("%s %s\n", AG_PROG, VR_VERSION);
		return AG_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if (!strcmp(commands[i].name, argv[1]))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command '%s'; see '%s --help'\n", AG_PROG,
		argv[1], AG_PROG);
	return AG_EXIT_FAIL;
}

int ag_check_prune(const char *cmd, bool prune, bool delete_nvram,
		   bool delete_storage)
{
	if (prune || (!delete_nvram && !delete_storage))
		return 0;
	fprintf(stderr,
		"%s %s: --delete-%s removes the %s of the domains --prune "
		"undefines; give --prune too, or leave it out\n",
		AG_PROG, cmd, delete_nvram ? "nvram" : "storage",
		delete_nvram ? "NVRAM" : "volumes");
	return -1;
}

int ag_parse_seconds(const char *cmd, const char *opt, const char *arg,
		     bool zero_ok, unsigned *ret)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (*end || !*arg || (!zero_ok && !v)) {
		fprintf(stderr, "%s %s: %s takes seconds%s, not '%s'\n",
			AG_PROG, cmd, opt, zero_ok ? "" : " (1 or more)", arg);
		return -1;
	}
	*ret = v;
	return 0;
}

int ag_bad_option(char **argv, int c)
{
	if (c == ':')
		fprintf(stderr,
			"%s %s: '%s' needs a value; see '%s %s --help'\n",
			AG_PROG, argv[0], argv[optind - 1], AG_PROG, argv[0]);
	else
		fprintf(stderr,
			"%s %s: unknown option '%s'; see '%s %s --help'\n",
			AG_PROG, argv[0], argv[optind - 1], AG_PROG, argv[0]);
	return AG_EXIT_FAIL;
}
