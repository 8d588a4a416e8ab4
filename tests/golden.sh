#!/bin/sh
# Golden tests: for every tests/data/NAME.yaml, `virt-reconcile render`
# must print NAME.xml (valid against libvirt's domain.rng, or its
# storagepool.rng for a <pool>) and exit 0, or
# `virt-reconcile validate` must print NAME.err and exit 1.
# VR_REGENERATE=1 rewrites the expected files from what the program does.
#
# usage: golden.sh VIRT_RECONCILE DATA_DIR [SCHEMA]
set -u
prog=$(realpath "$1")
data=$2
schema=${3:-/usr/share/libvirt/schemas/domain.rng}
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$data" || exit 1
for yaml in *.yaml; do
  name=${yaml%.yaml}
  if [ -f "$name.err" ]; then
    "$prog" validate "$yaml" >/dev/null 2>"$tmp/out"
    rc=$?
    want_rc=1
    expected=$name.err
  else
    "$prog" render "$yaml" >"$tmp/out" 2>"$tmp/stderr"
    rc=$?
    want_rc=0
    expected=$name.xml
  fi
  if [ "${VR_REGENERATE:-}" = 1 ]; then
    cp "$tmp/out" "$expected"
  fi
  problem=""
  if [ "$rc" != "$want_rc" ]; then
    problem="exit status $rc, expected $want_rc"
  elif [ ! -f "$expected" ]; then
    problem="no $expected (write NAME.xml or NAME.err, or run with VR_REGENERATE=1)"
  elif ! diff -u "$expected" "$tmp/out" >"$tmp/diff"; then
    problem="output differs from $expected:
$(cat "$tmp/diff")"
  elif [ "$want_rc" = 0 ] && rng=$schema &&
    { ! grep -q '^<pool' "$expected" || rng=$(dirname "$schema")/storagepool.rng; } &&
    ! xmllint --noout --relaxng "$rng" "$expected" 2>"$tmp/rng"; then
    problem="$expected is not valid against $rng:
$(cat "$tmp/rng")"
  fi
  if [ -n "$problem" ]; then
    echo "FAIL $name: $problem"
    [ -s "$tmp/stderr" ] && cat "$tmp/stderr"
    fail=$((fail + 1))
  else
    echo "ok   $name"
    pass=$((pass + 1))
  fi
  rm -f "$tmp/stderr"
done
echo "golden: $pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
