/* libvirt's rewrites of a domain's CPU settings and labels, made in a
 * tree. */
#pragma once

#include <stdbool.h>

#include "node.h"

/* Rewrites root (a file's tree, or one read from libvirt's XML) as libvirt
 * rewrites what it is given: vCPU and IOThread schedulers one item per id,
 * NUMA distances made whole, vCPUs in no NUMA cell in cell 0, no device
 * seclabel that libvirt does not keep (see normalise.c). Returns 1 when
 * it changed the tree, 0, or -ENOMEM. */
int ds_tree_normalise_domain(struct ds_node *root);

/* Whether root has the one seclabel without a model that libvirt gives
 * the host's security model (domain_conf.c, virSecurityLabelDefsParseXML):
 * of type none, or dynamic without a base label. */
bool ds_tree_wants_secmodel(const struct ds_node *root);

/* Rewrites root as libvirt does on a host whose first security driver is
 * secmodel (its capabilities' first <secmodel>; NULL: unknown, nothing is
 * rewritten): that seclabel takes the model, and with model none it is of
 * type none, without relabelling. Returns 1 when it changed the tree, 0,
 * or -ENOMEM. */
int ds_tree_normalise_host(struct ds_node *root, const char *secmodel);
