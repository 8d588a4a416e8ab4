#!/bin/sh
# What the agent reports, on libvirt's test driver (no daemon):
# - its metrics file passes `promtool check metrics` and holds the build
#   info, the reconcile-duration histogram (as many jobs as reconciles)
#   and the time of the last resync;
# - a metrics file it cannot write is logged once, and again when it can;
# - with libvirt unreachable it tells systemd it is ready, and why not
#   converged;
# - under systemd (JOURNAL_STREAM names stderr) every log line starts with
#   its syslog priority, "<3>" for a failure; elsewhere no line does.
# usage: agent-report.sh VIRT_RECONCILE
set -u
vr=$1
command -v promtool >/dev/null || {
  echo "promtool (Debian's prometheus) is not installed"
  exit 77
}
work=$(mktemp -d)
pid= npid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$npid" ] && kill "$npid" 2>/dev/null; rm -rf "$work"' EXIT
chmod 700 "$work"
mkdir -m 700 "$work/dir"
printf 'name: good\nmemory: 64 MiB\n' >"$work/dir/good.yaml"
printf 'name: bad\nmemroy: 64 MiB\n' >"$work/dir/bad.yaml"
metrics=$work/vr.prom

pass=0 fail=0
check() {
  if "$@"; then pass=$((pass + 1)); echo "ok - $*"
  else fail=$((fail + 1)); echo "not ok - $*"; sed 's/^/#   /' "$work/log"; fi
}

# metric NAME: its value in the metrics file (the first sample so named).
metric() {
  awk -v n="$1" '$1 == n { print $2; exit }' "$metrics" 2>/dev/null
}

# start [JOURNAL_STREAM]: runs the agent, stderr to $work/log, and waits
# (up to 10 s) until it has reconciled both files.
start() {
  : >"$work/log"
  rm -f "$metrics"
  JOURNAL_STREAM=$1 "$vr" run -c test:///default --resync 3600 \
    --metrics-file "$metrics" "$work/dir" 2>>"$work/log" &
  pid=$!
  i=0
  while [ "$i" -lt 200 ]; do
    [ "$(metric virt_reconcile_reconciles_total)" = 2 ] && return 0
    sleep 0.05
    i=$((i + 1))
  done
  return 1
}

stop() {
  kill -TERM "$pid" && wait "$pid"
  rc=$?
  pid=
  return $rc
}

journal=$(stat -c '%d:%i' "$work/log" 2>/dev/null || true)
[ -n "$journal" ] || { : >"$work/log"; journal=$(stat -c '%d:%i' "$work/log"); }
check start "$journal"
check promtool check metrics <"$metrics"
check test "$(metric 'virt_reconcile_build_info{version="'"$("$vr" --version | awk '{print $NF}')"'"}')" = 1
count=$(metric virt_reconcile_reconcile_duration_seconds_count)
check test "$count" = "$(metric virt_reconcile_reconciles_total)"
check test "$(metric 'virt_reconcile_reconcile_duration_seconds_bucket{le="+Inf"}')" = "$count"
check test "$(metric virt_reconcile_last_resync_timestamp_seconds)" -gt 0
check stop
# the bad file is a failure (err), the define a change (notice), the
# start of watching news (info); no line without a priority
check grep -q '^<3>virt-reconcile: bad.yaml: .*/bad.yaml:1:1: ' "$work/log"
check grep -q '^<5>virt-reconcile: good (good.yaml): define' "$work/log"
check grep -q '^<6>virt-reconcile: watching ' "$work/log"
check test -z "$(grep -v '^<[0-7]>virt-reconcile: ' "$work/log")"

# not the journal's stream: plain lines
check start "1:1"
check stop
check grep -q '^virt-reconcile: bad.yaml: ' "$work/log"
check test -z "$(grep '^<' "$work/log")"

# a metrics file that cannot be written (node_exporter's directory
# missing) is said once, not at every write, and its recovery is said
status=$work/status.json
metrics=$work/missing/vr.prom
: >"$work/log"
"$vr" run -c test:///default --resync 3600 --status-file "$status" \
  --metrics-file "$metrics" "$work/dir" 2>>"$work/log" &
pid=$!
# written: waits (up to 10 s) for the status file to be replaced after an
# edit of good.yaml (each write renames a new file into place)
written() {
  before=$(stat -c %i "$status" 2>/dev/null || echo none)
  echo "# edit" >>"$work/dir/good.yaml"
  i=0
  while [ "$i" -lt 200 ]; do
    now=$(stat -c %i "$status" 2>/dev/null || echo none)
    [ "$now" != none ] && [ "$now" != "$before" ] && return 0
    sleep 0.05
    i=$((i + 1))
  done
  return 1
}
check written
check written
check written
check test "$(grep -c 'vr.prom: cannot write the metrics file: No such file' "$work/log")" = 1
mkdir -m 700 "$work/missing"
check written
# the metrics file is written after the status file: its line may follow
logged() {
  i=0
  while [ "$i" -lt 200 ]; do
    grep -q "$1" "$work/log" && return 0
    sleep 0.05
    i=$((i + 1))
  done
  return 1
}
check logged 'vr.prom: the metrics file is written again'
check test -s "$metrics"
check stop

# libvirt unreachable from the start: READY=1 all the same (the agent is
# up and waiting for it; systemd would only restart it into the same
# wait), and STATUS= says libvirt is unreachable
sock=$work/notify.sock
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as log:
    while True:
        log.write(s.recv(4096).decode() + "\n")
        log.flush()' "$sock" "$work/notify" &
npid=$!
i=0
while [ ! -S "$sock" ] && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
: >"$work/log"
NOTIFY_SOCKET=$sock "$vr" run -c "qemu+unix:///system?socket=$work/none.sock" \
  --resync 3600 "$work/dir" 2>>"$work/log" &
pid=$!
# notified TEXT: waits (up to 10 s) for a notification line with TEXT
notified() {
  i=0
  while [ "$i" -lt 200 ]; do
    grep -q "$1" "$work/notify" 2>/dev/null && return 0
    sleep 0.05
    i=$((i + 1))
  done
  return 1
}
check notified '^READY=1'
check notified '^STATUS=libvirt unreachable'
check stop
kill "$npid"
npid=

echo "agent-report: $pass passed, $fail failed"
[ "$fail" = 0 ]
