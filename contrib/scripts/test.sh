#!/bin/sh
# The README's second command, and what CI runs: install what is missing,
# then build and run every test suite twice (warnings as errors; then with
# AddressSanitizer and UndefinedBehaviorSanitizer), build the fuzzers with
# clang and run their corpora, fail on formatting drift, and run the
# benchmark at tiny sizes.
#
# The suites on the system libvirtd (suite libvirt-real) run in the
# foreground, then the benchmark, one at a time (they share libvirtd);
# they spend their time waiting for QEMU and timers, not computing. The
# other steps run beside the suites, in a session of their own at the
# lowest CPU priority, its autogroup's too: Linux shares the CPU between
# sessions first, and would otherwise give libvirtd's QEMU half a core,
# which the suites' timed checks would feel. Their output is printed when
# they are done. Each step says how long it took; the logs stay in
# build-ci-logs/.
set -eu
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/../.."
logs=build-ci-logs

# setup DIR OPTIONS...: configures a build directory, anew or again.
setup() {
  if [ -f "$1/build.ninja" ]; then
    meson setup --reconfigure "$@" >/dev/null
  else
    meson setup "$@" >/dev/null
  fi
}

# suites NAME DIR ARGS...: runs a build's suites (ARGS go to meson test);
# the counts of their results go to $logs/NAME.counts.
suites() {
  name=$1 dir=$2
  shift 2
  if meson test -C "$dir" --print-errorlogs --logbase "$name" "$@"; then rc=0; else rc=$?; fi
  [ -f "$dir/meson-logs/$name.json" ] || return 1
  python3 -c '
import json, sys
ok = bad = skip = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): ok += 1
    elif r == "SKIP": skip += 1
    else: bad += 1
print(ok, bad, skip)' "$dir/meson-logs/$name.json" >"$logs/$name.counts" || return 1
  return "$rc"
}

# step [-b] NAME COMMAND...: runs one step; its exit status and time go to
# $logs/NAME.end. A step that counts its results writes them to
# $logs/NAME.counts ("PASSED FAILED SKIPPED"); one that does not is one
# result itself, or with -b (a build) only when it fails. A step that
# failed without a failed result (a build error) counts as one failure.
step() {
  step_build=0
  [ "$1" != -b ] || { step_build=1; shift; }
  step_name=$1
  step_t=$(date +%s)
  shift
  if "$@"; then step_rc=0; else step_rc=$?; fi
  if [ ! -f "$logs/$step_name.counts" ]; then
    if [ "$step_rc" != 0 ]; then echo "0 1 0"
    elif [ "$step_build" = 1 ]; then echo "0 0 0"
    else echo "1 0 0"; fi >"$logs/$step_name.counts"
  elif [ "$step_rc" != 0 ]; then
    read -r p f s <"$logs/$step_name.counts"
    [ "$f" -gt 0 ] || echo "$p 1 $s" >"$logs/$step_name.counts"
  fi
  echo "$step_rc $(($(date +%s) - step_t))" >"$logs/$step_name.end"
  return "$step_rc"
}

# ------------------------------------------------------------ the steps

# What the suites on the system libvirtd run: the program, and the
# generative suite's dump of the format's table.
werror_build() {
  setup build-ci --werror &&
    meson compile -C build-ci agent/virt-reconcile tests/gen/schema-dump
}
# Everything else of the build with warnings as errors, every suite but
# those on the system libvirtd.
werror_suites() {
  meson compile -C build-ci && suites werror-suites build-ci --no-suite libvirt-real
}
real_suites() {
  suites real-suites build-ci --no-rebuild --suite libvirt-real
}
# The same suites under the sanitizers (meson test builds only what they
# run); those on the system libvirtd ran above.
asan_suites() {
  setup build-ci-asan --werror -Db_sanitize=address,undefined -Db_lundef=false &&
    suites asan-suites build-ci-asan --no-suite libvirt-real
}
# The libFuzzer targets (only they) with clang, over their corpora.
fuzz() {
  CC=clang setup build-ci-fuzz --werror -Dfuzz=true -Dtests=disabled \
    -Db_sanitize=address,undefined -Db_lundef=false &&
    meson compile -C build-ci-fuzz fuzz-parse fuzz-xml fuzz-import \
      fuzz-corpus-gen || return 1
  build-ci-fuzz/tests/fuzz/fuzz-parse -runs=0 tests/fuzz/corpus tests/data \
    build-ci-fuzz/tests/gen/corpus-gen \
    >build-ci-fuzz/fuzz.log 2>&1 &&
    build-ci-fuzz/tests/fuzz/fuzz-xml -runs=0 tests/fuzz/corpus-xml \
      >>build-ci-fuzz/fuzz.log 2>&1 &&
    build-ci-fuzz/tests/fuzz/fuzz-import -runs=0 tests/fuzz/corpus-xml \
      tests/import >>build-ci-fuzz/fuzz.log 2>&1 && return 0
  tail -30 build-ci-fuzz/fuzz.log
  return 1
}
# Formatting (.clang-format) of every C file; without git (a bare copy of
# the tree), every C file outside the build directories.
sources() {
  git ls-files '*.c' '*.h' 2>/dev/null ||
    find . \( -path './build*' -o -path ./.git \) -prune -o -name '*.[ch]' -print
}
format() {
  sources >"$logs/format.files"
  [ -s "$logs/format.files" ] || { echo "no C files found"; return 1; }
  xargs clang-format --dry-run --Werror <"$logs/format.files" && return 0
  echo "formatting drift: run clang-format -i on the files above"
  return 1
}
# The benchmark's optimised build (contrib/bench/run.sh builds it too, and
# finds nothing left to do).
bench_build() {
  setup build-bench --buildtype=release -Dtests=disabled && meson compile -C build-bench
}
bench() {
  if [ "$(id -u)" != 0 ]; then
    echo "the benchmark needs root (qemu:///system); skipped"
    echo "0 0 1" >"$logs/bench.counts"
    return 0
  fi
  contrib/bench/run.sh --quick >"$logs/bench.log" 2>&1 && return 0
  tail -40 "$logs/bench.log"
  return 1
}

# ------------------------------------------------------------ the order

# run_step NAME: the step of that name (its function: NAME with _ for -),
# its output to $logs/NAME.log.
run_step() {
  case $1 in
    *-build) step -b "$1" "$(echo "$1" | tr - _)" ;;
    *) step "$1" "$(echo "$1" | tr - _)" ;;
  esac >"$logs/$1.log" 2>&1
}

# test.sh --background LIST...: how test.sh runs the steps beside the
# suites: each LIST the names of steps (comma-separated) run one after the
# other, the lists side by side; in a session of its own (setsid), at the
# lowest priority.
if [ "${1:-}" = --background ]; then
  shift
  echo 19 >/proc/self/autogroup 2>/dev/null || true
  renice -n 19 -p $$ >/dev/null
  for list in "$@"; do
    (
      # split the list on commas only, so that the steps read their
      # counts ("P F S") with the usual field separators
      IFS=,
      # shellcheck disable=SC2086
      set -- $list
      unset IFS
      for s in "$@"; do
        run_step "$s" || true
      done
    ) &
  done
  wait
  exit 0
fi

contrib/scripts/deps.sh test
# The libvirt-real suites drive the system libvirtd with QEMU.
if [ "$(id -u)" = 0 ]; then
  contrib/scripts/start-libvirtd.sh
fi

export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export MESON_TESTTHREADS="${MESON_TESTTHREADS:-$(nproc)}"
rm -rf "$logs"
mkdir "$logs"
begin=$(date +%s)

# kill_tree PID: ends a process and everything it started (so that an
# interrupted run leaves nothing behind).
kill_tree() {
  for c in $(awk -v p="$1" '{ sub(/.*\) /, "") } $2 == p {
      f = FILENAME; gsub(/[^0-9]/, "", f); print f }' /proc/[0-9]*/stat 2>/dev/null); do
    kill_tree "$c"
  done
  kill -TERM "$1" 2>/dev/null || true
}
background=
trap 'for p in $background; do kill_tree "$p"; done; exit 130' INT TERM

echo "== build with warnings as errors: virt-reconcile"
built=0
step -b werror-build werror_build && built=1

# The benchmark's build alone, so that the benchmark waits for nothing else.
setsid -w "$self" --background bench-build &
bench_build=$!
if [ "$built" = 1 ]; then
  setsid -w "$self" --background werror-suites,asan-suites fuzz,format &
else
  setsid -w "$self" --background asan-suites fuzz,format &
fi
others=$!
background="$bench_build $others"
if [ "$built" = 1 ]; then
  echo "== the suites on the system libvirtd (libvirt-real)"
  step real-suites real_suites || true
fi
wait "$bench_build" || true
echo "== the benchmark, tiny sizes, goals not enforced (so that it cannot rot)"
step bench bench || true
wait "$others" || true
background=

# ------------------------------------------------------------ the verdict

status=0
passed=0
failed=0
skipped=0
times=
for s in werror-build:"build with warnings as errors, virt-reconcile" \
  real-suites:"the suites on the system libvirtd" \
  bench:"the benchmark, tiny sizes" \
  bench-build:"the benchmark's optimised build" \
  werror-suites:"build with warnings as errors, every other suite" \
  asan-suites:"AddressSanitizer and UndefinedBehaviorSanitizer, every suite but libvirt-real" \
  fuzz:"the libFuzzer targets, built with clang, over their corpora" \
  format:"formatting (clang-format, .clang-format)"; do
  name=${s%%:*}
  if [ ! -f "$logs/$name.end" ]; then
    case $built:$name in
      0:werror-suites | 0:real-suites) continue ;; # not run: nothing to run
    esac
    echo "== ${s#*:}: did not finish"
    cat "$logs/$name.log" 2>/dev/null || true
    failed=$((failed + 1))
    status=1
    continue
  fi
  read -r rc secs <"$logs/$name.end"
  read -r p f k <"$logs/$name.counts"
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + k))
  [ "$rc" = 0 ] || status=1
  times="$times $name ${secs}s"
  case $name in
    werror-build | real-suites | bench) ;; # printed as they ran
    *)
      echo "== ${s#*:} ($secs s)"
      cat "$logs/$name.log"
      ;;
  esac
done
echo "== times:$times; in all $(($(date +%s) - begin))s"

# CI has the system libvirtd, so there nothing may skip.
if [ "${CI:-}" = true ] && [ "$skipped" -gt 0 ]; then
  echo "CI: $skipped suite(s) skipped; every suite must run here"
  status=1
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
