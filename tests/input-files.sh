#!/bin/sh
# What the commands do with input that is not a plain desired-state file,
# on libvirt's test driver (no daemon): nothing may hang, die by a signal,
# or print a name's raw bytes. Every command that could block runs under
# `timeout 10`, so that a regression fails instead of hanging.
# usage: input-files.sh VIRT_RECONCILE
set -u
vr=$1
work=$(mktemp -d)
apid=
trap '[ -n "$apid" ] && kill -KILL "$apid" 2>/dev/null; rm -rf "$work"' EXIT
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

# agent DIR: runs the agent on DIR until it is ready (every file read
# once; at most 10 s), then stops it. Its log is in $work/out, its status
# in $work/status.json. Fails when it was never ready.
agent() {
  rm -f "$work/status.json"
  "$vr" run -c "$uri" --resync 3600 --status-file "$work/status.json" \
    "$1" >"$work/out" 2>&1 &
  apid=$!
  i=0
  while [ "$i" -lt 100 ] && ! grep -q 'ready:' "$work/out"; do
    sleep 0.1
    i=$((i + 1))
  done
  kill -TERM "$apid" 2>/dev/null
  i=0
  while [ "$i" -lt 50 ] && kill -0 "$apid" 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
  done
  kill -KILL "$apid" 2>/dev/null
  wait "$apid" 2>/dev/null
  apid=
  grep -q 'ready:' "$work/out"
}
# error_is FILE TEXT: the status's error for FILE begins with TEXT.
error_is() {
  python3 -c 'import json, sys
for d in json.load(open(sys.argv[1]))["domains"]:
    if d.get("file") == sys.argv[2]:
        sys.exit(not (d.get("error") or "").startswith(sys.argv[3]))
sys.exit(1)' "$work/status.json" "$1" "$2"
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

# Positions: a file as a whole has none ("FILE: message"), an empty or
# oversized file is placed at its first line; never at 0:0.
mkdir -m 700 "$work/pos"
: >"$work/pos/empty.yaml"
head -c 1100000 /dev/zero | tr '\0' '#' >"$work/pos/big.yaml"
good fine >"$work/pos/fine.yaml"
check status_is 1 validate "$work/pos/big.yaml"
check says "$work/pos/big.yaml:1:1: the file is larger than 1048576 bytes"
check status_is 1 validate "$work/pos/empty.yaml"
check says "$work/pos/empty.yaml:1:1: the file is empty"
check agent "$work/pos"
check error_is empty.yaml "$work/pos/empty.yaml:1:1: the file is empty"
check error_is big.yaml "$work/pos/big.yaml:1:1: the file is larger than"
check says "empty.yaml: $work/pos/empty.yaml:1:1: the file is empty"
check_no_zero() { ! grep -q ':0:0' "$work/status.json" "$work/out"; }
check check_no_zero

echo "input-files: $pass passed, $fail failed"
[ "$fail" = 0 ]
