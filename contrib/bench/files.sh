#!/bin/sh
# Writes the benchmark's N desired-state files, vrbench-0001.yaml …
# (diskless, shut off), into YAMLDIR and their domain XML, rendered by
# virt-reconcile for URI, into XMLDIR (for the floor and the peers).
#
# usage: contrib/bench/files.sh VR URI N YAMLDIR XMLDIR
set -eu
vr=$1 uri=$2 n=$3 yamldir=$4 xmldir=$5
mkdir -p "$yamldir" "$xmldir"
i=1
while [ "$i" -le "$n" ]; do
  name=$(printf 'vrbench-%04d' "$i")
  printf 'name: %s\nmemory: 64 MiB\nvcpu: {value: 2, current: 1}\nstate: shutoff\n' \
    "$name" >"$yamldir/$name.yaml"
  "$vr" render -c "$uri" "$yamldir/$name.yaml" >"$xmldir/$name.xml"
  i=$((i + 1))
done
