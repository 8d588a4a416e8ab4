#!/bin/sh
# What the commands do with input that is not a plain desired-state file,
# on libvirt's test driver (no daemon): nothing may hang, die by a signal,
# or print a name's raw bytes. Every command that could block runs under
# `timeout 10`, so that a regression fails instead of hanging.
# usage: input-files.sh VIRT_RECONCILE
set -u
vr=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 022
chmod 700 "$work"
uri=test:///default

pass=0 fail=0
check() {
  if "$@"; then pass=$((pass + 1)); echo "ok - $*"
  else fail=$((fail + 1)); echo "not ok - $*"; sed 's/^/#   /' "$work/out"; fi
}
: >"$work/out"

# run CMD...: runs the program (at most 10 s), output in $work/out, the
# exit status in $rc.
run() {
  timeout 10 "$vr" "$@" >"$work/out" 2>&1
  rc=$?
}
# status_is N CMD...
status_is() {
  want=$1
  shift
  run "$@"
  [ "$rc" = "$want" ]
}
# says TEXT: the last run printed a line holding TEXT.
says() {
  grep -qF -- "$1" "$work/out"
}

good() {
  printf 'name: %s\nmemory: 64 MiB\n' "$1"
}

# A reader that went away: the command gets EPIPE, not SIGPIPE (exit 141).
# SIGPIPE is set back to its default, as a test harness may ignore it.
mkdir -m 700 "$work/pipe"
good piped >"$work/pipe/piped.yaml"
# no_sigpipe CMD...
no_sigpipe() {
  { sleep 0.3; env --default-signal=PIPE timeout 10 "$vr" "$@" 2>/dev/null
    echo $? >"$work/rc"; } | true
  echo "exit status $(cat "$work/rc")" >"$work/out"
  [ "$(cat "$work/rc")" != 141 ] && [ "$(cat "$work/rc")" != 124 ]
}
if env --default-signal=PIPE true 2>/dev/null; then
  check no_sigpipe validate "$work/pipe"
  check no_sigpipe plan -c "$uri" "$work/pipe"
  check no_sigpipe apply -c "$uri" "$work/pipe"
else
  echo "# skipped the SIGPIPE checks: env has no --default-signal"
fi

echo "input-files: $pass passed, $fail failed"
[ "$fail" = 0 ]
