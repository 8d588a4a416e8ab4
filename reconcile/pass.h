/* One pass of the reconciler over a directory: read the files, read
 * libvirt, plan. apply (and the agent) then execute the plan. */
#pragma once

#include "apply.h"
#include "observe.h"
#include "plan.h"
#include "set.h"
#include "storage.h"

struct rc_pass {
	struct ds_set set;
	struct rc_limits limits;
	struct rc_observed *observed;
	size_t n_observed;
	struct rc_plan plan;
	struct rc_storage storage;
};

struct rc_pass_opts {
	bool prune; /* plan undefining our domains whose file is gone */
	bool delete_storage; /* and removing the volumes their marks list */
	bool insecure;       /* read a directory and files that others may write
			  (--insecure-permissions) */
};

/* Reads dir and libvirt, and plans. With prune, the domains of dir whose
 * file is gone are undefined, unless dir holds no desired-state file.
 * Returns 0; -1 with e when libvirt failed; or -errno when dir cannot be
 * read or may not be trusted (e says so; nothing is planned). The files'
 * problems are in p->set, for the caller to report. */
int rc_pass_plan(virConnectPtr conn, const char *dir,
		 const struct rc_pass_opts *o, struct rc_pass *p,
		 struct rc_err *e);
void rc_pass_finish(struct rc_pass *p);

/* Plans one file alone, of the directory whose identity is dir: its domain
 * is looked up by name and observed; no other domain is read (orphans are
 * found by full passes). The file and its directory are read as
 * rc_pass_plan() reads them (insecure: as --insecure-permissions); a
 * refused file is an entry with problems. p->set.entries[0] is the file
 * and p->plan.domains[0] its plan. When the domain's mark names another
 * file of the directory that still exists and names the same domain, that
 * file is entries[1], and both are errors, as in a full pass: the file
 * does not take the domain from it. limits are the caller's (read once);
 * what the file needs is learnt into them. Returns 0; -1 with e when
 * libvirt failed. */
int rc_pass_plan_file(virConnectPtr conn, const char *dir, const char *path,
		      bool insecure, struct rc_limits *limits,
		      struct rc_pass *p, struct rc_err *e);

/* Plans what the removal of file from dir (whose identity is dir_id)
 * means for domain, the domain the file named (NULL: unknown, nothing is
 * planned): dir is read again (as rc_pass_plan() reads it), as a removal
 * is rare and the directory is the only truth, and only that domain is
 * observed. The domain is an
 * orphan (undefined with prune) only when its mark names this directory
 * and file, no file of dir names it or carries the mark's file name, and
 * dir holds a desired-state file; a file that names it now (a rename)
 * keeps it, and nothing is pruned from an empty directory. p->plan holds
 * that domain's plan or nothing, never a file's. Returns 0; -1 with e when
 * libvirt failed; -errno with e when dir cannot be read (nothing is
 * planned). */
int rc_pass_plan_gone(virConnectPtr conn, const char *dir, const char *dir_id,
		      const char *file, const char *domain,
		      const struct rc_pass_opts *o, struct rc_pass *p,
		      struct rc_err *e);

/* The identity of a desired-state directory, as marks record it: its
 * absolute path, made lexically ("." and ".." resolved, symlinks not
 * followed, so that a checkout swapped behind a symlink stays the same
 * directory). Returns 0 or -errno: -EILSEQ when it is not valid UTF-8 or
 * holds a control character, which libvirt's XML cannot record. */
int rc_dir_identity(const char *dir, char *buf, size_t len);

/* What rc_dir_identity()'s failure r means, for people. */
const char *rc_dir_identity_strerror(int r);
