#!/bin/sh
# The agent follows a watched directory that is a symlink swapped to a new
# checkout (as git-sync does), on libvirt's test driver (no daemon): the new
# checkout's files converge, and a domain both checkouts give keeps being
# the agent's (the mark names the directory as given, not where it led).
# usage: agent-symlink.sh VIRT_RECONCILE
set -u
vr=$1
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
chmod 700 "$work"
mkdir -m 700 "$work/rev1" "$work/rev2"
printf 'name: one\nmemory: 64 MiB\n' >"$work/rev1/one.yaml"
printf 'name: one\nmemory: 64 MiB\n' >"$work/rev2/one.yaml"
printf 'name: two\nmemory: 64 MiB\n' >"$work/rev2/two.yaml"
ln -s rev1 "$work/current"
status=$work/status.json
"$vr" run -c test:///default --resync 3600 --status-file "$status" \
  "$work/current" 2>"$work/log" &
pid=$!

# phase_of DOMAIN: its phase in the status file, or nothing.
phase_of() {
  "$vr" status --json --status-file "$status" 2>/dev/null |
    python3 -c 'import json, sys
for d in json.load(sys.stdin)["domains"]:
    if d.get("domain") == sys.argv[1]: print(d["phase"])' "$1" 2>/dev/null
}

# wait_phase DOMAIN PHASE: up to 10 s.
wait_phase() {
  i=0
  while [ "$i" -lt 200 ]; do
    [ "$(phase_of "$1")" = "$2" ] && return 0
    sleep 0.05
    i=$((i + 1))
  done
  return 1
}

pass=0 fail=0
check() {
  if "$@"; then pass=$((pass + 1)); echo "ok - $*"
  else fail=$((fail + 1)); echo "not ok - $*"; sed 's/^/#   /' "$work/log"; fi
}
check wait_phase one in-sync
ln -s rev2 "$work/next" && mv -T "$work/next" "$work/current"
check wait_phase two in-sync
check wait_phase one in-sync
check grep -q "the directory changed" "$work/log"
if grep -q "conflict\|managed from" "$work/log"; then
  fail=$((fail + 1)); echo "not ok - no conflict after the swap"
else
  pass=$((pass + 1)); echo "ok - no conflict after the swap"
fi
# A symlinked file that points outside the directory is not read.
mkdir -m 700 "$work/elsewhere"
printf 'name: three\nmemory: 64 MiB\n' >"$work/elsewhere/three.yaml"
ln -s ../elsewhere/three.yaml "$work/rev2/three.yaml"
# error_of FILE: the error the status gives for a file.
error_of() {
  "$vr" status --json --status-file "$status" 2>/dev/null |
    python3 -c 'import json, sys
for d in json.load(sys.stdin)["domains"]:
    if d.get("file") == sys.argv[1]: print(d.get("error") or "")' "$1" 2>/dev/null
}
outside_refused() {
  i=0
  while [ "$i" -lt 200 ]; do
    case "$(error_of three.yaml)" in
    *"symlink to outside the directory"*) return 0 ;;
    esac
    sleep 0.05
    i=$((i + 1))
  done
  return 1
}
check outside_refused
check test -z "$(phase_of three)"

kill -TERM "$pid"
wait "$pid"
check test "$?" = 0
pid=
echo "agent-symlink: $pass passed, $fail failed"
[ "$fail" = 0 ]
