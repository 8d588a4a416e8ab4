#!/bin/sh
# The corpus suite's own tests: corpus-check passes a file in sync with
# libvirt's output and fails each kind of file it must fail, with its
# reason; run.sh, with a stand-in for import over a corpus of three pairs,
# keeps the ratchet (an unlisted failure, a listed pass and a stale entry
# each fail it) and skips without import.
# usage: selftest.sh CORPUS_CHECK
set -u
here=$(cd "$(dirname "$0")" && pwd)
check=$(realpath "$1")
self=$here/selftest
data=$here/libvirt-9.0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() {
  fail=$((fail + 1))
  echo "not ok - $*"
  sed 's/^/#   /' "$work/out" "$work/err" 2>/dev/null
}

# corpus_check FILE STATUS LINE: corpus-check of FILE against libvirt's
# output for minimal.xml exits STATUS and prints LINE (a prefix of it)
corpus_check() {
  mkdir -p "$work/c"
  rm -f "$work/c"/*
  cp "$1" "$work/c/QEMUGuest1.yaml"
  "$check" minimal "$work/c/QEMUGuest1.yaml" "$data/out/minimal.xml" \
    >"$work/out" 2>"$work/err"
  rc=$?
  got=$(cat "$work/out")
  case $rc:$got in
    "$2:$3"*) ok "corpus-check $(basename "$1"): $got" ;;
    *) not_ok "corpus-check $(basename "$1"): expected exit $2 and '$3...', got exit $rc and '$got'" ;;
  esac
}
corpus_check "$self/imports/minimal.yaml" 0 "PASS minimal"
corpus_check "$self/fail/memory.yaml" 1 \
  "FAIL minimal: not in sync (converging): redefine: memory 219100 KiB → 219200 KiB"
corpus_check "$self/fail/disk-bus.yaml" 1 \
  "FAIL minimal: not in sync (converging): redefine: devices.disk "
corpus_check "$self/fail/state.yaml" 1 \
  "FAIL minimal: not in sync (converging): start: state shutoff → running"
corpus_check "$self/fail/other-name.yaml" 1 "FAIL minimal: the plan has 2 domains"
corpus_check "$self/fail/uses-xml.yaml" 1 "FAIL minimal: uses xml:"
corpus_check "$self/fail/invalid.yaml" 1 \
  "FAIL minimal: does not validate: $work/c/QEMUGuest1.yaml:18:11: 'on_crash' cannot be \"explode\""
# what tells why goes to stderr: the plan, with the differing fields
corpus_check "$self/fail/memory.yaml" 1 "FAIL"
if grep -q '^  + redefine: memory 219100 KiB → 219200 KiB' "$work/err"; then
  ok "corpus-check prints the plan of a pair not in sync"
else
  not_ok "corpus-check prints the plan of a pair not in sync"
fi
# --left-out: what the hand-written file leaves out of minimal.xml that
# libvirt keeps (the controllers, the emulator), and nothing it holds
rm -f "$work/left"
"$check" --inputs "$data/in" --left-out "$work/left" \
  minimal "$self/imports/minimal.yaml" "$data/out/minimal.xml" >"$work/out" 2>"$work/err"
left=" $(cat "$work/left") "
# (the places come in libxml2's hash order, which changes from run to run)
case $left in
  " minimal "*) ;;
  *) left= ;;
esac
case $left in
  *" domain/devices/controller "*) ;;
  *) left= ;;
esac
case $left in
  *" domain/devices/emulator "*) ;;
  *) left= ;;
esac
case $left in
  "" | *" domain/memory "* | *" domain/devices/disk/source@dev "*)
    not_ok "--left-out names what minimal.yaml leaves out, only that: '$(cat "$work/left")'" ;;
  *) ok "--left-out names what minimal.yaml leaves out, only that" ;;
esac

# several triples in one run: one line each, exit 1 for the one failure
"$check" a "$self/imports/minimal.yaml" "$data/out/minimal.xml" \
  b "$self/fail/memory.yaml" "$data/out/minimal.xml" >"$work/out" 2>"$work/err"
rc=$?
if [ "$rc" = 1 ] && [ "$(cut -c1-6 "$work/out" | tr '\n' ' ')" = "PASS a FAIL b " ]; then
  ok "corpus-check of two triples: one line each, exit 1"
else
  not_ok "corpus-check of two triples: one line each, exit 1 (got exit $rc)"
fi
"$check" a "$self/imports/minimal.yaml" >"$work/out" 2>"$work/err"
if [ $? = 2 ]; then ok "corpus-check without a whole triple: exit 2"
else not_ok "corpus-check without a whole triple: exit 2"; fi

# run.sh over three pairs: minimal (the stand-in imports it: passes),
# minimal-mem (libvirt's minimal.xml with more memory: fails in sync),
# boot-cdrom (the stand-in has no file: import fails)
corpus=$work/corpus
mkdir -p "$corpus/in" "$corpus/out"
for p in minimal boot-cdrom; do
  cp "$data/in/$p.xml" "$corpus/in/"
  cp "$data/out/$p.xml" "$corpus/out/"
  echo "pair $p in/$p.xml out/$p.xml" >>"$corpus/pairs"
done
# runner LIST STATUS GREP [VR]: run.sh with expected-failures LIST
# (\n for newlines) exits STATUS and prints a line matching GREP
runner() {
  printf '%b' "$1" >"$work/expected"
  "$here/run.sh" "${4:-$self/import-stand-in.sh}" "$check" "$corpus" \
    "$work/expected" >"$work/out" 2>"$work/err"
  rc=$?
  list=$(printf '%b' "$1" | tr '\n' ';')
  if [ "$rc" = "$2" ] && grep -q "$3" "$work/out"; then
    ok "run.sh, expected-failures '$list': exit $2, '$3'"
  else
    not_ok "run.sh, expected-failures '$list': expected exit $2 and '$3', got exit $rc"
  fi
}
runner '# c\nboot-cdrom import exited 1: import-stand-in: no file for boot-cdrom\n' 0 \
  '^corpus: 2 pairs, 1 passed, 1 failed, 50.0% passing; 0 unexpected'
runner 'boot-cdrom another reason\n' 0 \
  '^# boot-cdrom fails as expected, for another reason now: import exited 1'
runner '' 1 '^not ok - boot-cdrom fails and is not in expected-failures: import exited 1'
runner 'boot-cdrom x\nminimal y\n' 1 \
  '^not ok - minimal now passes, remove it from expected-failures'
runner 'boot-cdrom x\ngone z\n' 1 '^not ok - gone is in expected-failures but is no pair'
runner 'boot-cdrom x\n' 77 '^corpus: SKIP: .* has no import command yet' /bin/false
# a file no pair lists
cp "$data/in/minimal.xml" "$corpus/in/extra.xml"
runner 'boot-cdrom x\n' 1 "^corpus: $corpus/in does not hold exactly the listed pairs' files"
rm "$corpus/in/extra.xml"
# CORPUS_WRITE_EXPECTED=1 writes the list of this run's failures
printf '# header\n\nminimal y\n' >"$work/expected"
CORPUS_WRITE_EXPECTED=1 "$here/run.sh" "$self/import-stand-in.sh" "$check" \
  "$corpus" "$work/expected" >"$work/out" 2>"$work/err"
rc=$?
if [ "$rc" = 0 ] && [ "$(cat "$work/expected")" = "# header

boot-cdrom import exited 1: import-stand-in: no file for boot-cdrom" ]; then
  ok "CORPUS_WRITE_EXPECTED=1 rewrites the list from the failures"
else
  not_ok "CORPUS_WRITE_EXPECTED=1 rewrites the list from the failures (exit $rc)"
  sed 's/^/#   /' "$work/expected"
fi

echo "corpus-selftest: $pass passed, $fail failed"
[ "$fail" = 0 ]
