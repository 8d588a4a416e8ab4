#!/bin/sh
# Golden tests of import: for every tests/import/NAME.xml,
# `virt-reconcile import --xml NAME.xml` must print NAME.yaml on stdout and
# NAME.err on stderr (none: nothing), and exit 0; the file it prints must
# pass `validate`. NAME err-* (XML that is no domain's) and problem-* (a
# domain whose file validate refuses) exit 1 instead.
# VR_REGENERATE=1 rewrites the expected files from what the program does.
#
# usage: import-golden.sh VIRT_RECONCILE DIR
set -u
prog=$(realpath "$1")
data=$2
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$data" || exit 1
for xml in *.xml; do
  name=${xml%.xml}
  case $name in
  err-* | problem-*) want_rc=1 ;;
  *) want_rc=0 ;;
  esac
  "$prog" import --xml "$xml" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ "${VR_REGENERATE:-}" = 1 ]; then
    cp "$tmp/out" "$name.yaml"
    if [ -s "$tmp/err" ]; then cp "$tmp/err" "$name.err"; else rm -f "$name.err"; fi
    [ -s "$name.yaml" ] || rm -f "$name.yaml"
  fi
  [ -f "$name.yaml" ] && cp "$name.yaml" "$tmp/want-out" || : >"$tmp/want-out"
  [ -f "$name.err" ] && cp "$name.err" "$tmp/want-err" || : >"$tmp/want-err"
  problem=""
  if [ "$rc" != "$want_rc" ]; then
    problem="exit status $rc, expected $want_rc"
  elif ! diff -u "$tmp/want-out" "$tmp/out" >"$tmp/diff"; then
    problem="standard output differs from $name.yaml:
$(cat "$tmp/diff")"
  elif ! diff -u "$tmp/want-err" "$tmp/err" >"$tmp/diff"; then
    problem="standard error differs from $name.err:
$(cat "$tmp/diff")"
  elif [ "$want_rc" = 0 ]; then
    mkdir -p "$tmp/v" && cp "$tmp/out" "$tmp/v/$name.yaml"
    if ! "$prog" validate "$tmp/v/$name.yaml" >"$tmp/validate" 2>&1; then
      problem="validate refuses what it printed:
$(cat "$tmp/validate")"
    fi
    rm -rf "$tmp/v"
  fi
  if [ -n "$problem" ]; then
    echo "FAIL $name: $problem"
    fail=$((fail + 1))
  else
    echo "ok   $name"
    pass=$((pass + 1))
  fi
done
echo "import-golden: $pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
