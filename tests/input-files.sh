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

# agent_start DIR [OPTION...]: starts the agent on DIR; its log goes to
# $work/out, its status to $work/status.json.
agent_start() {
  dir=$1
  shift
  rm -f "$work/status.json"
  "$vr" run -c "$uri" --resync 3600 --status-file "$work/status.json" \
    "$@" "$dir" >"$work/out" 2>&1 &
  apid=$!
}
# wait_for TEST...: until TEST passes, at most 10 s.
wait_for() {
  i=0
  while [ "$i" -lt 100 ]; do
    "$@" 2>/dev/null && return 0
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}
ready() {
  grep -q 'ready:' "$work/out"
}
# agent_stop: SIGTERM, then SIGKILL after 5 s (a worker stuck in a read
# never finishes its job).
agent_stop() {
  kill -TERM "$apid" 2>/dev/null
  i=0
  while [ "$i" -lt 50 ] && kill -0 "$apid" 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
  done
  kill -KILL "$apid" 2>/dev/null
  wait "$apid" 2>/dev/null
  apid=
}
# agent DIR [OPTION...]: runs the agent on DIR until it is ready (every
# file read once), then stops it. Fails when it was never ready.
agent() {
  agent_start "$@"
  wait_for ready
  agent_stop
  ready
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

# Not regular files: each is a problem of its own, at once (before, the
# first read of the FIFO waited for a writer forever).
odd=$work/odd
mkdir -m 700 "$odd" "$odd/dir.yaml"
good fine >"$odd/fine.yaml"
mkfifo "$odd/fifo.yaml"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
  "$odd/socket.yaml"
check status_is 1 validate "$odd/fifo.yaml"
check says "$odd/fifo.yaml: not a regular file but a FIFO"
check status_is 1 render "$odd/fifo.yaml"
check says "$odd/fifo.yaml: not a regular file but a FIFO"
check status_is 1 validate "$odd"
check says "$odd/dir.yaml: not a regular file but a directory"
check says "$odd/socket.yaml: not a regular file but a socket"
check says "4 files checked, 3 with problems"
check status_is 1 plan -c "$uri" "$odd"
check says "fine: converging"
check status_is 1 apply -c "$uri" "$odd"
check says "fine: start: state → running"
check says "$odd/fifo.yaml: not a regular file but a FIFO"
check agent "$odd"
check error_is fifo.yaml "$odd/fifo.yaml: not a regular file but a FIFO"
check error_is dir.yaml "$odd/dir.yaml: not a regular file but a directory"

# Symlinks: read when they lead to a file inside the directory; one that
# leads outside or loops is a problem that says which, in every command.
sym=$work/sym
mkdir -m 700 "$sym" "$sym/sub" "$work/elsewhere"
good inside >"$sym/sub/inside.yaml"
ln -s sub/inside.yaml "$sym/inside.yaml"
good outside >"$work/elsewhere/outside.yaml"
ln -s ../elsewhere/outside.yaml "$sym/outside.yaml"
ln -s loop.yaml "$sym/loop.yaml"
check status_is 1 validate "$sym"
check says "$sym/outside.yaml: a symlink to outside the directory"
check says "$sym/loop.yaml: a symlink loop"
check says "3 files checked, 2 with problems"
check status_is 1 validate "$sym/outside.yaml"
check says "$sym/outside.yaml: a symlink to outside the directory"
check status_is 1 render "$sym/outside.yaml"
check status_is 1 apply -c "$uri" "$sym"
check says "inside: define: new domain from inside.yaml"
check says "$sym/outside.yaml: a symlink to outside the directory"
no_outside() { ! grep -q "^outside:" "$work/out"; }
check no_outside
check agent "$sym"
check error_is loop.yaml "$sym/loop.yaml: a symlink loop"
check error_is outside.yaml "$sym/outside.yaml: a symlink to outside"

# Permissions: plan and apply refuse what others may write, file by file
# (the others converge) or the whole directory; validate judges the file
# alone; --insecure-permissions reads it all.
perm=$work/perm
mkdir -m 700 "$perm"
good trusted >"$perm/trusted.yaml"
good shared >"$perm/shared.yaml"
chmod 666 "$perm/shared.yaml"
check status_is 0 validate "$perm"
check status_is 1 plan -c "$uri" "$perm"
check says "$perm/shared.yaml: the file is writable by others"
check status_is 1 apply -c "$uri" "$perm"
check says "trusted: define: new domain from trusted.yaml"
no_shared() { ! grep -q "^shared:" "$work/out"; }
check no_shared
check status_is 2 plan -c "$uri" --insecure-permissions "$perm"
check status_is 0 apply -c "$uri" --insecure-permissions "$perm"
check says "shared: define: new domain from shared.yaml"
chmod 644 "$perm/shared.yaml"
chmod 770 "$perm"
check status_is 1 apply -c "$uri" "$perm"
check says "$perm: the directory is writable by its group"
nothing_done() { ! grep -q ": define: " "$work/out"; }
check nothing_done
check status_is 1 run -c "$uri" "$perm"
check says "$perm: the directory is writable by its group"
chmod 700 "$perm"
if [ "$(id -u)" = 0 ]; then
  chown nobody "$perm/shared.yaml"
  check status_is 1 plan -c "$uri" "$perm"
  check says "$perm/shared.yaml: the file belongs to uid"
  chown 0 "$perm/shared.yaml"
fi
# The agent checks on every read, not only at its start.
agent_start "$perm"
check wait_for ready
chmod 666 "$perm/shared.yaml"
touch "$perm/shared.yaml"
check wait_for error_is shared.yaml "$perm/shared.yaml: the file is writable by others"
chmod 770 "$perm"
touch "$perm/trusted.yaml"
check wait_for error_is trusted.yaml "$perm/trusted.yaml: the directory is writable by its group"
agent_stop
chmod 700 "$perm"

# File names that are not UTF-8 (or hold a control character): refused
# by validate and by every command that reads the set, and shown escaped
# everywhere: diagnostics, plan, logs and the status file, which stays
# valid JSON.
names=$work/names
mkdir -m 700 "$names"
latin1=$(printf 'caf\351')
good cafe >"$names/$latin1.yaml"
good ctl >"$names/$(printf 'c\001tl').yaml"
good plain >"$names/plain.yaml"
# raw_free FILE: FILE holds none of the names' raw bytes.
raw_free() {
  ! LC_ALL=C grep -q "$(printf '[\001\351]')" "$1"
}
# no_raw: nor does the last output.
no_raw() {
  raw_free "$work/out"
}
check status_is 1 validate "$names"
check says "$names/caf\xe9.yaml: the file name is not valid UTF-8"
check says "$names/c\x01tl.yaml: the file name holds a control character"
check says "3 files checked, 2 with problems"
check no_raw
check status_is 1 validate "$names/$latin1.yaml"
check says "$names/caf\xe9.yaml: the file name is not valid UTF-8"
check status_is 1 plan -c "$uri" "$names"
check says "$names/caf\xe9.yaml: error"
check no_raw
# json_plan DIR: plan --json prints valid JSON without raw bytes.
json_plan() {
  timeout 10 "$vr" plan -c "$uri" --json "$1" 2>/dev/null >"$work/out"
  python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$work/out" &&
    no_raw
}
check json_plan "$names"
check status_is 1 apply -c "$uri" "$names"
check says "plain: define: new domain from plain.yaml"
no_define_cafe() { ! grep -q "^cafe:" "$work/out"; }
check no_define_cafe
check no_raw
check agent "$names"
check python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$work/status.json"
check raw_free "$work/status.json"
check error_is 'caf\xe9.yaml' "$names/caf\xe9.yaml: the file name is not valid UTF-8"
# refused once, not retried: no define was tried
no_define_tried() { ! grep -q "cafe (" "$work/out"; }
check no_define_tried

echo "input-files: $pass passed, $fail failed"
[ "$fail" = 0 ]
