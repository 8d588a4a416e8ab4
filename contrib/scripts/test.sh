#!/bin/sh
# The README's second command, and what CI runs: install what is missing,
# then build and run every test suite twice (warnings as errors; then with
# AddressSanitizer and UndefinedBehaviorSanitizer), build the fuzzer with
# clang and run its corpus, and fail on formatting drift.
set -eu
cd "$(dirname "$0")/../.."

contrib/scripts/deps.sh test
# The libvirt-real suite drives the system libvirtd with QEMU.
if [ "$(id -u)" = 0 ]; then
  contrib/scripts/start-libvirtd.sh
fi

export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export MESON_TESTTHREADS=${MESON_TESTTHREADS:-2}
passed=0
failed=0
skipped=0

# Runs one meson build's tests (extra arguments go to meson test) and adds
# its counts to the totals.
run_suites() {
  dir=$1
  shift
  if meson test -C "$dir" --print-errorlogs "$@"; then rc=0; else rc=$?; fi
  counts=$(python3 -c '
import json, sys
ok = bad = skip = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): ok += 1
    elif r == "SKIP": skip += 1
    else: bad += 1
print(ok, bad, skip)' "$dir/meson-logs/testlog.json")
  set -- $counts
  passed=$((passed + $1))
  failed=$((failed + $2))
  skipped=$((skipped + $3))
  return $rc
}

status=0
setup() {
  dir=$1
  shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
  meson compile -C "$dir"
}

echo "== build with warnings as errors, run every suite"
setup build-ci --werror
run_suites build-ci || status=1

echo "== again with AddressSanitizer and UndefinedBehaviorSanitizer"
# The suites on the system libvirtd ran above; here everything else.
setup build-ci-asan --werror -Db_sanitize=address,undefined -Db_lundef=false
run_suites build-ci-asan --no-suite libvirt-real || status=1

echo "== the libFuzzer targets, built with clang, over their corpora"
CC=clang setup build-ci-fuzz --werror -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false
if build-ci-fuzz/tests/fuzz/fuzz-parse -runs=0 tests/fuzz/corpus tests/data >build-ci-fuzz/fuzz.log 2>&1 &&
  build-ci-fuzz/tests/fuzz/fuzz-xml -runs=0 tests/fuzz/corpus-xml >>build-ci-fuzz/fuzz.log 2>&1; then
  passed=$((passed + 1))
else
  tail -30 build-ci-fuzz/fuzz.log
  failed=$((failed + 1))
  status=1
fi

echo "== formatting (clang-format, .clang-format)"
if git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror; then
  passed=$((passed + 1))
else
  echo "formatting drift: run clang-format -i on the files above"
  failed=$((failed + 1))
  status=1
fi

echo "== the benchmark, tiny sizes, goals not enforced (so that it cannot rot)"
if [ "$(id -u)" = 0 ]; then
  if contrib/bench/run.sh --quick >build-ci/bench-quick.log 2>&1; then
    passed=$((passed + 1))
  else
    tail -40 build-ci/bench-quick.log
    failed=$((failed + 1))
    status=1
  fi
else
  echo "the benchmark needs root (qemu:///system); skipped"
  skipped=$((skipped + 1))
fi

# CI has the system libvirtd, so there nothing may skip.
if [ "${CI:-}" = true ] && [ "$skipped" -gt 0 ]; then
  echo "CI: $skipped suite(s) skipped; every suite must run here"
  status=1
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
