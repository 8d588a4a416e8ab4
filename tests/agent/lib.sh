# shellcheck shell=bash disable=SC2034,SC2016
# Helpers of the agent-real suite (tests/agent/run.sh sources this file).
# Every check prints "ok - WHAT" or "not ok - WHAT"; a failed check also
# prints, as "#" lines, the end of the running agent's log.

. "$(dirname "${BASH_SOURCE[0]}")/../tap.sh"

POLL=0.05 # seconds between two looks at a condition
# /usr/bin/python3 starts in a tenth of the time of a pyenv shim.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

on_failure() {
	if [ -n "${LOG:-}" ] && [ -s "$LOG" ]; then
		echo "#   last lines of the agent's log ($LOG):"
		grep -v -e ' (gone)' -e '^virt-reconcile: vrtest-' "$LOG" |
			tail -n 15 | sed 's/^/#     /'
	fi
}

# check_le WHAT LIMIT VALUE: integers.
check_le() {
	if [ -n "$3" ] && [ "$3" -le "$2" ]; then
		ok "$1 ($3 ≤ $2)"
	else
		not_ok "$1 (got '$3', limit $2)"
	fi
}

# Milliseconds, monotonic enough for a test (no fork).
now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	NOW=$((t / 1000))
}

# wait_until SECONDS COMMAND...: polls the command every $POLL seconds
# until it succeeds (0) or the deadline passes (1). WAITED is the time it
# took, in ms, measured from the poll.
wait_until() {
	local limit=$(($1 * 1000)) start
	shift
	now_ms
	start=$NOW
	while :; do
		if "$@"; then
			now_ms
			WAITED=$((NOW - start))
			return 0
		fi
		now_ms
		if [ $((NOW - start)) -ge "$limit" ]; then
			WAITED=$((NOW - start))
			return 1
		fi
		sleep "$POLL"
	done
}

# ------------------------------------------------------------ libvirt

domstate() {
	virsh_ domstate "$1" 2>/dev/null | head -n1
}

state_is() {
	[ "$(domstate "$1")" = "$2" ]
}

domid() {
	virsh_ domid "$1" 2>/dev/null | head -n1
}

defined() {
	virsh_ dominfo "$1" >/dev/null 2>&1
}

not_defined() {
	! defined "$1"
}

# vcpus DOMAIN --live|--config: the current vCPU count.
vcpus() {
	virsh_ vcpucount "$1" --current "$2" 2>/dev/null
}

vcpus_are() {
	[ "$(vcpus "$1" "$2")" = "$3" ]
}

# title DOMAIN: the persistent title.
title() {
	virsh_ desc "$1" --config --title 2>/dev/null | head -n1
}

title_is() {
	[ "$(title "$1")" = "$2" ]
}

# Names of the defined domains matching an ERE, one a line.
domains_matching() {
	virsh_ list --all --name 2>/dev/null | grep -E "$1"
}

count_domains() {
	domains_matching "$1" | grep -c .
}

count_domains_is() {
	[ "$(count_domains "$1")" -eq "$2" ]
}

count_domains_at_least() {
	[ "$(count_domains "$1")" -ge "$2" ]
}

# Destroys and undefines every vragent-* domain.
cleanup_domains() {
	local d
	for d in $(virsh_ list --all --name 2>/dev/null | grep '^vragent-'); do
		virsh_ destroy "$d" >/dev/null 2>&1
		virsh_ undefine --nvram --managed-save --snapshots-metadata \
			"$d" >/dev/null 2>&1 ||
			virsh_ undefine "$d" >/dev/null 2>&1
	done
}

# ------------------------------------------------------------ the agent

AGENT_PID=
AGENT_RUN=0
LOG=
NOTIFY_PID=
NOTIFY_LOG=/dev/null

# A stand-in for systemd's notification socket: every datagram's lines,
# each as "EPOCH-SECONDS LINE".
NOTIFY_PY='
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        for line in s.recv(65536).decode(errors="replace").split("\n"):
            if line:
                f.write("%.3f %s\n" % (time.time(), line))
'

notify_stop() {
	if [ -n "$NOTIFY_PID" ]; then
		kill "$NOTIFY_PID" 2>/dev/null
		wait "$NOTIFY_PID" 2>/dev/null
	fi
	NOTIFY_PID=
}

# test_driver_suite NAME ARGS...: the start of a suite on libvirt's test
# driver: VR (vr_arg ARGS), URI, WORK a new private directory
# /tmp/vrNAME.XXXXXX with the watched directory DIR and STAGE in it, and
# ST and METRICS the agent's status and metrics files there.
test_driver_suite() {
	local name=$1
	shift
	vr_arg "$@"
	URI=test:///default
	work_dirs "$name"
}

# work_dirs NAME: WORK, a private directory /tmp/vrNAME.*, and in it DIR
# (the watched directory), STAGE (where files are written before they
# are moved in), ST (the status file) and METRICS (the metrics file).
work_dirs() {
	WORK=$(mktemp -d "/tmp/vr$1.XXXXXX")
	chmod 700 "$WORK"
	DIR=$WORK/watch
	STAGE=$WORK/stage
	ST=$WORK/status.json
	METRICS=$WORK/metrics.prom
	mkdir -m 0700 "$DIR" "$STAGE"
}

# end_run RC CLEANUP: a suite's end (RC its exit status): kills the agent,
# stops the notify listener, runs CLEANUP (which removes the suite's
# domains), and removes WORK, unless a check failed or RC is not 0: then
# it says it keeps it.
end_run() {
	local rc=$1
	if [ -n "$AGENT_PID" ]; then
		kill -KILL "$AGENT_PID" 2>/dev/null
		wait "$AGENT_PID" 2>/dev/null
	fi
	notify_stop
	"$2"
	if [ "$FAIL" -gt 0 ] || [ "$rc" -ne 0 ]; then
		echo "# logs and files kept in $WORK"
	else
		rm -rf "$WORK"
	fi
}

# Copies lines, each prefixed with the time it was read.
stamp() {
	local l
	while IFS= read -r l; do
		printf '%s %s\n' "$EPOCHREALTIME" "$l"
	done
}

# agent_start OPTIONS...: starts `run` in the background on $DIR with the
# status file $ST, metrics $METRICS, a new log $WORK/agent-N.log ($LOG;
# $LOG.ts has each line with the time it came) and a notification socket
# whose messages go to $WORK/notify-N.log ($NOTIFY_LOG).
agent_start() {
	local sock
	AGENT_RUN=$((AGENT_RUN + 1))
	LOG=$WORK/agent-$AGENT_RUN.log
	NOTIFY_LOG=$WORK/notify-$AGENT_RUN.log
	sock=$WORK/notify-$AGENT_RUN.sock
	: >"$LOG"
	: >"$NOTIFY_LOG"
	rm -f "$ST" "$METRICS" # no stale answers from an earlier run
	notify_stop
	# (the suite's lock files are not passed on: fds 8 and 9)
	"$PY" -c "$NOTIFY_PY" "$sock" "$NOTIFY_LOG" 8>&- 9>&- &
	NOTIFY_PID=$!
	wait_until 10 test -S "$sock"
	NOTIFY_SOCKET=$sock "$VR" run -c "$URI" --status-file "$ST" \
		--metrics-file "$METRICS" --shutdown-timeout 2 "$@" "$DIR" \
		2> >(tee "$LOG" | stamp >"$LOG.ts") 8>&- 9>&- &
	AGENT_PID=$!
	note "agent run $AGENT_RUN: pid $AGENT_PID, $* (log $LOG)"
}

agent_alive() {
	[ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null
}

agent_dead() {
	! agent_alive
}

# agent_stop SIGNAL: sends it, waits up to 20 s for the exit; AGENT_RC is
# the exit status (or "timeout" after a SIGKILL of its own).
agent_stop() {
	AGENT_RC=
	[ -n "$AGENT_PID" ] || return 0
	kill -"$1" "$AGENT_PID" 2>/dev/null
	if wait_until 20 agent_dead; then
		wait "$AGENT_PID" 2>/dev/null
		AGENT_RC=$?
	else
		kill -KILL "$AGENT_PID" 2>/dev/null
		wait "$AGENT_PID" 2>/dev/null
		AGENT_RC=timeout
	fi
	AGENT_PID=
}

# alive_or_bail: the agent must still be running. When it died, says how
# (exit status, the end of its log) and ends the suite: every check after
# it would only wait for its deadline.
alive_or_bail() {
	local rc
	agent_alive && return 0
	wait "$AGENT_PID" 2>/dev/null
	rc=$?
	AGENT_PID=
	FAIL=$((FAIL + 1))
	echo "not ok - agent run $AGENT_RUN is still running (it died: exit status $rc)"
	tail -n 40 "$LOG" | sed 's/^/#     /'
	echo "Bail out! agent run $AGENT_RUN died"
	echo "agent-real: $PASS passed, $FAIL failed"
	exit 1
}

notify_has() {
	grep -Eq -- "$1" "$NOTIFY_LOG"
}

# settle: waits until the agent has made no reconcile for half a second.
settle() {
	local r
	r=$(metric virt_reconcile_reconciles_total)
	wait_until 20 eval '[ "$r" = "$(sleep 0.5; metric virt_reconcile_reconciles_total)" ] || { r=$(metric virt_reconcile_reconciles_total); false; }'
}

# msgs [FILE]: the messages of a log (default $LOG; "-": stdin), one a
# line, without the program's prefix. Lines that threads wrote into each
# other ("virt-reconcile: virt-reconcile: A", "B"; or "Avirt-reconcile: B"
# and an empty line) come apart here again; log_garbled counts them.
msgs() {
	sed 's/virt-reconcile: /\n/g' "${1:-${LOG:-/dev/null}}" | grep -v '^$'
}

log_garbled() {
	awk '!/^virt-reconcile: / || /.virt-reconcile: / { n++ }
	     END { print n + 0 }' "${1:-$LOG}"
}

# log_has ERE: a message matches (anchor on the message, not the prefix).
log_has() {
	msgs | grep -Eq -- "$1"
}

# log_count ERE [LOG]: messages of the log matching.
log_count() {
	msgs "${2:-$LOG}" | grep -Ec -- "$1"
}

# start_job_ms DOMAIN FILE N: waits (up to 10 s) for the agent's (N+1)th
# "in-sync after 1 call in X ms" line for them, and prints X rounded: how
# long the job that restarted the domain took, libvirt's start call (a
# second or more for QEMU on a busy machine) most of it.
start_job_ms() {
	local sj_re="^$1 \\($2\\): in-sync after 1 call in " sj_n=$3
	wait_until 10 eval '[ "$(log_count "$sj_re")" -gt "$sj_n" ]' || return 1
	msgs "$LOG" | grep -E -- "$sj_re" | tail -n1 |
		sed -E 's/.* in ([0-9]+)(\.[0-9]+)? ms$/\1/'
}

# The status as `status --json` prints it, queried:
#   st agent KEY              a key of "agent"
#   st file FILE KEY          a key of the entry of that file ("absent")
#   st has FILE               exit 0 when there is an entry for FILE
#   st domain NAME KEY        a key of the first entry of that domain
#   st entries NAME           how many entries name that domain
#   st phases PREFIX          "PHASE COUNT" lines for files starting so
st() {
	"$VR" status --json --status-file "$ST" 2>/dev/null |
		"$PY" -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    sys.exit(2)
def show(v):
    if v is None: return "null"
    if v is True: return "true"
    if v is False: return "false"
    return str(v)
q = sys.argv[1]
doms = d.get("domains") or []
if q == "agent":
    print(show(d["agent"].get(sys.argv[2])))
elif q == "file":
    e = [x for x in doms if x.get("file") == sys.argv[2]]
    print(show(e[0].get(sys.argv[3])) if e else "absent")
elif q == "domain":
    e = [x for x in doms if x.get("domain") == sys.argv[2]]
    print(show(e[0].get(sys.argv[3])) if e else "absent")
elif q == "entries":
    print(len([x for x in doms if x.get("domain") == sys.argv[2]]))
elif q == "has":
    sys.exit(0 if any(x.get("file") == sys.argv[2] for x in doms) else 1)
elif q == "phases":
    c = {}
    for x in doms:
        if (x.get("file") or "").startswith(sys.argv[2]):
            c[x.get("phase")] = c.get(x.get("phase"), 0) + 1
    for k in sorted(c): print(k, c[k])
' "$@"
}

# st_lacks FILE: the status was read and has no entry for FILE.
st_lacks() {
	st has "$1"
	[ $? -eq 1 ]
}

st_is() {
	[ "$(st file "$1" "$2")" = "$3" ]
}

st_agent_is() {
	[ "$(st agent "$1")" = "$2" ]
}

# st_all_in_sync PREFIX N: N files starting with PREFIX, all in-sync.
st_all_in_sync() {
	[ "$(st phases "$1")" = "in-sync $2" ]
}

# A value of the Prometheus text metrics (written with the status).
metric() {
	awk -v k="$1" '$1 == k { print $2 }' "$METRICS" 2>/dev/null
}

# metric_gt NAME VALUE: the metric is there and above VALUE.
metric_gt() {
	local v
	v=$(metric "$1")
	[ -n "$v" ] && [ "$v" -gt "$2" ]
}

# ------------------------------------------------------------ files

# put NAME < TEXT: writes a desired-state file beside the watched
# directory, then renames it into place (as editors and git do).
put() {
	cat >"$STAGE/$1"
	mv -f "$STAGE/$1" "$DIR/$1"
}

# median and worst of numbers, one a line on stdin: "MEDIAN WORST".
median_worst() {
	sort -n | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- -"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2)
		print m, v[NR] }'
}
