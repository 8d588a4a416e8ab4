#!/bin/sh
# The README's first command: install what is missing, build, and run the
# program's main job on contrib/examples/.
set -eu
cd "$(dirname "$0")/../.."

contrib/scripts/deps.sh build
[ -f build/build.ninja ] || meson setup build
meson compile -C build

vr=build/agent/virt-reconcile
echo "== $vr validate contrib/examples"
$vr validate contrib/examples
echo "== $vr render contrib/examples/web01.yaml"
$vr render contrib/examples/web01.yaml
# test:///default is libvirt's built-in test hypervisor: no daemon, and its
# domains live in the process that opened it, so each command starts anew.
# A clone's files are writable by its group under a umask of 002, which
# apply refuses on a host; on the test hypervisor that does not matter.
echo "== $vr apply -c test:///default --insecure-permissions contrib/examples"
$vr apply -c test:///default --insecure-permissions contrib/examples
