/* libvirt's rewrites of a domain's CPU settings and labels, made in a
 * tree. */
#pragma once

#include "node.h"

/* Rewrites root (a file's tree, or one read from libvirt's XML) as libvirt
 * rewrites what it is given: vCPU and IOThread schedulers one item per id,
 * NUMA distances made whole, vCPUs in no NUMA cell in cell 0, no device
 * seclabel that libvirt does not keep (see normalise.c). Returns 1 when
 * it changed the tree, 0, or -ENOMEM. */
int ds_tree_normalise_domain(struct ds_node *root);
