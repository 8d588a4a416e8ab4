#!/bin/sh
# Times `apply` against the floor on one libvirt connection: N new domains
# defined (the floor: virDomainDefineXML per domain; virt-reconcile: a cold
# apply of N files), then N domains in sync (the floor: each domain's
# inactive and live XML fetched; virt-reconcile: apply, which must make no
# write call). Domains are diskless, shut off and named vrbench-NNNN; they
# are removed before and after.
#
# usage: contrib/bench/apply.sh BUILD_DIR URI N
# prints: apply-real N FLOOR_DEFINE COLD FLOOR_OBSERVE IN_SYNC WRITES
# (seconds; WRITES: libvirt write calls of the in-sync apply)
set -eu
# apply refuses files that group or others may write: the files written
# here must not depend on the caller's umask
umask 022
build=$1 uri=$2 n=$3
vr=$build/agent/virt-reconcile
floor=$build/contrib/bench/floor
work=$(mktemp -d)
chmod 700 "$work"

since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.6f", b - a }'; }

cleanup() {
  for d in $(virsh -c "$uri" list --all --name 2>/dev/null | grep '^vrbench-'); do
    virsh -c "$uri" undefine "$d" >/dev/null 2>&1 || true
  done
}
trap 'cleanup; rm -rf "$work"' EXIT
cleanup

"$(dirname "$0")/files.sh" "$vr" "$uri" "$n" "$work/yaml" "$work/xml"
floor_define=$("$floor" define "$uri" "$work/xml" | cut -d' ' -f1)
floor_observe=$("$floor" observe "$uri" | cut -d' ' -f1)
cleanup
start=$(date +%s.%N)
"$vr" apply -c "$uri" "$work/yaml" >"$work/cold.log"
cold=$(since "$start")
start=$(date +%s.%N)
"$vr" apply -c "$uri" "$work/yaml" >"$work/sync.log"
sync=$(since "$start")
writes=$(tail -1 "$work/sync.log" | sed -n 's/.*; \([0-9]*\) libvirt write call.*/\1/p')

echo "apply-real $n $floor_define $cold $floor_observe $sync $writes"
