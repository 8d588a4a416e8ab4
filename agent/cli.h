/* The commands of virt-reconcile. Each takes the arguments after its name
 * (argv[0] is the command) and returns the process exit status. */
#pragma once

#include <stdbool.h>

#define AG_PROG "virt-reconcile"

/* Exit statuses of the contract (README.md, docs/design.md). */
enum {
	AG_EXIT_OK = 0,
	AG_EXIT_FAIL = 1,
	AG_EXIT_PENDING = 2, /* plan: changes pending */
};

int ag_cmd_validate(int argc, char **argv);
int ag_cmd_render(int argc, char **argv);
int ag_cmd_plan(int argc, char **argv);
int ag_cmd_apply(int argc, char **argv);
int ag_cmd_run(int argc, char **argv);
int ag_cmd_status(int argc, char **argv);
int ag_cmd_import(int argc, char **argv);

/* Prints a command's usage; returns AG_EXIT_OK. */
int ag_usage(const char *cmd, int to_stderr);

/* Says what is wrong with the option getopt_long() just refused (c is ':'
 * for a missing value, else '?') for command argv[0]; returns
 * AG_EXIT_FAIL. */
int ag_bad_option(char **argv, int c);

/* --delete-nvram and --delete-storage say what --prune removes beside a
 * domain: without --prune they are refused, not ignored. Returns 0, or -1
 * with the message printed. */
int ag_check_prune(const char *cmd, bool prune, bool delete_nvram,
		   bool delete_storage);

/* Reads the value arg of option opt (e.g. "--resync") of command cmd: a
 * whole number of seconds, 0 only if zero_ok. Returns 0 with *ret set, or
 * -1 with the message printed. */
int ag_parse_seconds(const char *cmd, const char *opt, const char *arg,
		     bool zero_ok, unsigned *ret);
