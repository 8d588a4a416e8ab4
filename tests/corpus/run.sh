#!/bin/sh
# The corpus suite: libvirt 9.0's own x86_64 test pairs (libvirt-9.0/, see
# its README) through `import` and the format. For every pair,
#   virt-reconcile import -o WORK/NAME/ --xml in/NAME.xml
# must write one file, and corpus-check must pass it against out/NAME.xml:
# no xml: key, valid, rendered XML valid against domain.rng, and in sync
# with libvirt's output as the domain libvirt holds. Being in sync says
# nothing of what a file leaves out (the plan compares what it states):
# the places of their inputs that passing files leave out are counted
# too, and printed, not judged.
#
# usage: run.sh VIRT_RECONCILE CORPUS_CHECK [CORPUS_DIR [EXPECTED]]
#
# CORPUS_DIR (default libvirt-9.0 beside this script) holds pairs ("pair
# NAME IN OUT" lines), in/ and out/; EXPECTED (default expected-failures
# beside it) lists the pairs expected to fail, "NAME reason" a line ("#"
# comments). It is a ratchet: the suite fails when a pair fails that is
# not listed, and when a listed pair passes (remove it from the list), so
# the list only shrinks. CORPUS_WRITE_EXPECTED=1 rewrites EXPECTED from
# this run's failures (for a change that makes pairs pass, or fail on
# purpose: review the diff). CORPUS_KEEP=DIR keeps the files, results,
# details and left-out (corpus-check --left-out) there.
#
# Exit 0: every pair as expected; 1: not, or the corpus is inconsistent;
# 77 (skip) while VIRT_RECONCILE has no import command (until the import
# branch is merged; CI allows no skipped suite).
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 2 ] || [ $# -gt 4 ]; then
  echo "usage: $0 VIRT_RECONCILE CORPUS_CHECK [CORPUS_DIR [EXPECTED]]" >&2
  exit 2
fi
vr=$(realpath "$1")
check=$(realpath "$2")
corpus=$(realpath "${3:-$here/libvirt-9.0}")
expected=$(realpath "${4:-$here/expected-failures}")

if ! "$vr" import --help >/dev/null 2>&1; then
  echo "corpus: SKIP: '$vr import --help' fails: this virt-reconcile has no import command yet"
  exit 77
fi

if [ -n "${CORPUS_KEEP:-}" ]; then
  work=$CORPUS_KEEP
  rm -rf "$work"
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
trap 'exit 1' INT TERM HUP
mkdir "$work/files" "$work/import"
start=$(date +%s)
status=0

# The corpus as its list says: every listed pair has its two files, and
# every file is a listed pair's (a file left over or missing is a mistake
# of whoever regenerated it, not a pair to skip).
awk '$1 == "pair" { print $2 }' "$corpus/pairs" >"$work/names"
n=$(wc -l <"$work/names")
if [ "$n" = 0 ]; then
  echo "corpus: $corpus/pairs lists no pair"
  exit 1
fi
for d in in out; do
  (cd "$corpus/$d" && ls) | sed 's/\.xml$//' | sort >"$work/$d.files"
  if ! sort "$work/names" | cmp -s - "$work/$d.files"; then
    echo "corpus: $corpus/$d does not hold exactly the listed pairs' files:"
    sort "$work/names" | diff - "$work/$d.files" | sed -n 's/^[<>]/#  &/p'
    status=1
  fi
done
[ "$status" = 0 ] || exit 1

# import, one process a pair, as many at once as there are CPUs; each
# writes into a directory of its own (the domains of libvirt's tests
# share names: most are QEMUGuest1).
jobs=$(nproc 2>/dev/null || echo 2)
export vr corpus work
# shellcheck disable=SC2016 # expanded by the inner shell
xargs -P "$jobs" -n 1 sh -c '
  mkdir "$work/files/$1"
  "$vr" import -o "$work/files/$1/" --xml "$corpus/in/$1.xml" \
    >"$work/import/$1.out" 2>"$work/import/$1.err"
  echo $? >"$work/import/$1.rc"' sh <"$work/names"

# the file each import wrote, or why there is none
: >"$work/triples"
: >"$work/results"
while read -r name; do
  rc=$(cat "$work/import/$name.rc" 2>/dev/null || echo "?")
  set -- "$work/files/$name"/*.yaml
  if [ "$rc" != 0 ]; then
    # the file's first problem, else import's first word
    why=$(grep -m1 '\.yaml:[0-9]*:[0-9]*: ' "$work/import/$name.err" |
      sed 's/^virt-reconcile: [^ ]*\.yaml:[0-9:]* //' | cut -c1-300)
    [ -n "$why" ] || why=$(grep -m1 . "$work/import/$name.err" | cut -c1-300)
    echo "FAIL $name: import exited $rc: ${why:-no message}" >>"$work/results"
  elif [ $# != 1 ] || [ ! -f "$1" ]; then
    echo "FAIL $name: import wrote $(find "$work/files/$name" -mindepth 1 | wc -l) files, not one YAML file" >>"$work/results"
  else
    printf '%s\n%s\n%s\n' "$name" "$1" "$corpus/out/$name.xml" >>"$work/triples"
  fi
done <"$work/names"

# corpus-check in batches (libvirt's schema is loaded once a batch), side
# by side; each line and each pair's details are written at once, and so
# is each passing pair's line of what its file leaves out
per=$(((n / jobs / 4 + 1) * 3))
: >"$work/left-out"
xargs -r -d '\n' -P "$jobs" -n "$per" "$check" --inputs "$corpus/in" \
  --left-out "$work/left-out" <"$work/triples" \
  >>"$work/results" 2>>"$work/details"
sort -k2,2 "$work/results" >"$work/results.sorted"
if [ "$(wc -l <"$work/results.sorted")" != "$n" ] ||
  [ "$(grep -cv '^\(PASS\|FAIL\) ' "$work/results.sorted")" != 0 ]; then
  echo "corpus: $n pairs but these results:"
  sed 's/^/#  /' "$work/results.sorted"
  sed 's/^/#  /' "$work/details" 2>/dev/null
  exit 1
fi
cat "$work/results.sorted"

# the ratchet: each result against the list, then the list's names that
# are no pair (renamed or dropped)
grep -v '^[[:space:]]*\(#\|$\)' "$expected" 2>/dev/null >"$work/expected"
[ -f "$work/details" ] || : >"$work/details"
awk -v names="$work/names" -v details="$work/details" '
  FILENAME == ARGV[1] { n = $1; $1 = ""; want[n] = substr($0, 2); next }
  FILENAME == ARGV[2] {
    name = $2; sub(/:$/, "", name)
    reason = $0; sub(/^[A-Z]+ [^ ]* ?/, "", reason)
    seen[name] = 1
    if ($1 == "FAIL" && !(name in want)) {
      print "not ok - " name " fails and is not in expected-failures: " reason
      bad[name] = 1; unexpected++
    } else if ($1 == "PASS" && (name in want)) {
      print "not ok - " name " now passes, remove it from expected-failures"
      now++
    } else if ($1 == "FAIL" && want[name] != reason) {
      print "# " name " fails as expected, for another reason now: " reason
    }
    next
  }
  END {
    for (n in want)
      if (!(n in seen)) {
        print "not ok - " n " is in expected-failures but is no pair"
        stale++
      }
    # what tells why each unexpected failure failed
    while ((getline line < details) > 0) {
      if (line ~ /^== /) { cur = substr(line, 4); continue }
      if (cur in bad) print "#   " line
    }
    printf "%d %d %d\n", unexpected, now, stale > "/dev/stderr"
  }' "$work/expected" "$work/results.sorted" 2>"$work/counts"
read -r unexpected now_passing stale <"$work/counts"

passed=$(grep -c '^PASS ' "$work/results.sorted")
failed=$((n - passed))
# Not judged: the plan compares what a file states, so a file that leaves
# a field out passes all the same. What passing files leave out of their
# input (and libvirt keeps) says how much of the input the format holds.
partial=$(awk 'NF > 1' "$work/left-out" | wc -l)
if [ "$partial" != 0 ]; then
  echo "# not judged: $partial of the $passed passing pairs leave out places of their input that libvirt keeps; most often:"
  awk '{ for (i = 2; i <= NF; i++) c[$i]++ }
    END { for (p in c) print c[p], p }' "$work/left-out" |
    sort -k1,1nr -k2 | head -n 15 | sed 's/^/#   /'
fi
if [ "${CORPUS_WRITE_EXPECTED:-}" = 1 ]; then
  {
    sed -n '1,/^$/{/^#/p}' "$expected" 2>/dev/null
    echo
    sed -n 's/^FAIL \([^:]*\): /\1 /p' "$work/results.sorted"
  } >"$expected.new"
  mv "$expected.new" "$expected"
  echo "# wrote $expected: $failed pairs"
fi
echo "corpus: $n pairs, $passed passed, $failed failed," \
  "$(awk -v p="$passed" -v n="$n" 'BEGIN { printf "%.1f%%", 100 * p / n }') passing;" \
  "$unexpected unexpected failures, $now_passing now passing, $stale stale entries" \
  "($(($(date +%s) - start)) s)"
if [ "${CORPUS_WRITE_EXPECTED:-}" != 1 ] &&
  [ $((unexpected + now_passing + stale)) != 0 ]; then
  exit 1
fi
exit 0
