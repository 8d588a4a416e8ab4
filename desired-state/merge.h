/* Redefining without losing what libvirt made: the file's fields are
 * written into the domain's existing XML, so that its UUID, MAC addresses,
 * PCI addresses, aliases and every element the file does not manage stay
 * as they are. */
#pragma once

#include <libxml/tree.h>

#include "node.h"

/* Writes into have (libvirt's persistent <domain>) every field that tree
 * (a file's checked tree) gives, taking the values from want (the same
 * tree rendered by ds_render). Lists the file gives are made to match it:
 * items are paired by identity (a disk by target, an interface by MAC, a
 * NUMA cell by id, else by position), so that what libvirt added to an item
 * is kept. Returns 0 or -ENOMEM. */
int ds_merge(xmlNodePtr have, xmlNodePtr want, const struct ds_node *tree);

/* What a redefine must drop of libvirt's own so that libvirt takes the
 * file's change instead of refusing it. */
enum {
	DS_DROP_MACHINE = 1,  /* controllers and device addresses made for
				another machine family (pc ↔ q35) */
	DS_DROP_OS_BOOT = 2,  /* <os><boot>: the file gives device orders */
	DS_DROP_DEV_BOOT = 4, /* devices' <boot order>: the file gives
				 os.boot */
};

/* Which of those the file's change needs, judged before ds_merge (have:
 * libvirt's domain as it is). */
unsigned ds_merge_drops(xmlNodePtr have, const struct ds_node *tree);

/* Drops them from have (after ds_merge); returns those it found. */
unsigned ds_merge_drop(xmlNodePtr have, unsigned drops);

/* A machine type's family: pc-i440fx for pc and pc-i440fx-7.2, pc-q35
 * for q35 and pc-q35-5.2; else the name less a trailing version. Writes
 * into buf. */
const char *ds_machine_family(const char *machine, char *buf, size_t len);
