/* What import reads of one of libvirt's domains: its persistent XML, and
 * what a file says beside it (state, autostart). desired-state/import.h
 * makes the file. */
#pragma once

#include <libvirt/libvirt.h>

#include "connect.h"
#include "import.h"
#include "observe.h"

/* Reads dom: its persistent XML (inactive: what a redefine keeps), its
 * state (a paused guest is running for the file: not to be started) and
 * autostart into opts (with the mark's namespace, left out of the file),
 * and the agent's mark, which the file does not carry. Returns 0; 1 for
 * a transient domain, which has no persistent XML and which
 * virt-reconcile does not manage (nothing is read); or -1 and e. */
int rc_import_read(virDomainPtr dom, char **ret_xml,
		   struct ds_import_opts *opts, struct rc_mark *mark,
		   struct rc_err *e);
