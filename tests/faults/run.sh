#!/bin/bash
# eval '…' conditions are expanded at each poll, on purpose, and use
# variables set only for them:
# shellcheck disable=SC2016,SC2034
# The agent when libvirt misbehaves, on real daemons:
# - a libvirtd that hangs (SIGSTOP) under a call: the status and metrics
#   say it is not answering within seconds, say it answers again once it
#   does (the call then completes: one write, the same UUID), and SIGTERM
#   exits within --shutdown-timeout and its margin although a call still
#   waits (exit status 1). The daemon is a private session libvirtd
#   started here (as nobody when run as root), never the system's;
# - two agents, two directories, each file with `adopt: true` on one
#   domain of the system libvirtd: they do not take it from each other in
#   a loop: one keeps it (in-sync), the other reports conflict, and their
#   write counters stay put over their resyncs.
# Every domain it makes is named vragent-fault-*, and removed at exit.
# Usage: run.sh PATH-TO-virt-reconcile. Exit status: 0 all checks passed,
# 1 a check failed, 77 (skip) when neither daemon can be had.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/agent/lib.sh
. "$HERE/../agent/lib.sh"
vr_arg "$@"
SYSTEM_URI=qemu:///system
RAN=0

WORK=$(mktemp -d /tmp/vrfaults.XXXXXX)
chmod 711 "$WORK" # the private daemon's user passes through
DAEMON_PID=
PIDS=
on_exit() {
	local p
	for p in $AGENT_PID $PIDS; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	notify_stop
	if [ -n "$DAEMON_PID" ]; then
		kill -CONT "$DAEMON_PID" 2>/dev/null
		kill -TERM "$DAEMON_PID" 2>/dev/null
	fi
	if [ "$RAN" = 2 ]; then
		for p in $(URI=$SYSTEM_URI domains_matching '^vragent-fault-'); do
			URI=$SYSTEM_URI virsh_ undefine "$p" >/dev/null 2>&1
		done
	fi
	if [ "$FAIL" -gt 0 ]; then
		echo "# logs and files kept in $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap on_exit EXIT
trap 'exit 1' INT TERM HUP

# file NAME MEMORY [MORE]: a desired-state file for a domain that stays
# shut off (the daemons need no KVM for it)
file() {
	printf 'name: %s\ntype: qemu\nstate: shutoff\nmemory: %s\n%s' \
		"$1" "$2" "${3:-}"
}

# ------------------------------------------------ a libvirtd that hangs
# start_daemon: a session libvirtd of its own; URI then reaches it.
start_daemon() {
	local run=$WORK/sess/run as=()
	mkdir -p "$WORK/sess/home" "$run"
	chmod 700 "$run"
	if [ "$(id -u)" = 0 ]; then
		chown -R nobody "$WORK/sess"
		as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	fi
	"${as[@]}" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME="$WORK/sess/home" XDG_RUNTIME_DIR="$run" \
		XDG_CONFIG_HOME="$WORK/sess/home/.config" \
		XDG_CACHE_HOME="$WORK/sess/home/.cache" \
		libvirtd --timeout 0 >"$WORK/sess/daemon.log" 2>&1 &
	DAEMON_PID=$!
	URI="qemu+unix:///session?socket=$run/libvirt/libvirt-sock"
	wait_until 15 virsh_ version >/dev/null 2>&1
}

hung_daemon() {
	DIR=$WORK/hung
	ST=$WORK/hung-status.json
	METRICS=$WORK/hung-metrics.prom
	mkdir -m 0700 "$DIR"
	file vragent-fault-hung "64 MiB" >"$DIR/hung.yaml"
	agent_start --resync 3600
	check "hung: the file converges" \
		wait_until 20 st_is hung.yaml phase in-sync
	local uuid calls
	uuid=$(st file hung.yaml uuid)
	calls=$(metric virt_reconcile_libvirt_calls_total)

	kill -STOP "$DAEMON_PID"
	file vragent-fault-hung "96 MiB" >"$DIR/hung.yaml"
	check "hung: the status says libvirt is not answering" wait_until 20 \
		eval 'st agent libvirt | grep -q "^not answering"'
	check_le "hung: noticed within (ms)" 12000 "$WAITED"
	check_eq "hung: connected false" false "$(st agent connected)"
	check_eq "hung: the metric says so" 0 \
		"$(metric virt_reconcile_connected)"

	kill -CONT "$DAEMON_PID"
	check "resumed: answering again" wait_until 15 \
		st_agent_is libvirt connected
	check "resumed: the edit converges" wait_until 15 eval \
		'[ "$(st file hung.yaml phase)" = in-sync ] &&
		 [ "$(metric virt_reconcile_libvirt_calls_total)" = $((calls + 1)) ]'
	check_eq "resumed: the same UUID" "$uuid" "$(st file hung.yaml uuid)"
	check_eq "resumed: connected" 1 "$(metric virt_reconcile_connected)"
	check "resumed: said so" log_has "^libvirt answers again"

	# SIGTERM while a call waits: exits all the same
	kill -STOP "$DAEMON_PID"
	file vragent-fault-hung "128 MiB" >"$DIR/hung.yaml"
	check "hung again: noticed" wait_until 20 \
		eval 'st agent libvirt | grep -q "^not answering"'
	now_ms
	local t0=$NOW
	agent_stop TERM
	now_ms
	# --shutdown-timeout 2 (agent_start) and the 5 s margin, and 2 s
	check_le "SIGTERM: exits within (ms)" 9000 $((NOW - t0))
	check_eq "SIGTERM: exit status 1 (a call was left waiting)" 1 \
		"$AGENT_RC"
	check "SIGTERM: the last status says why" eval \
		'st agent libvirt | grep -q "left waiting at exit"'
	kill -CONT "$DAEMON_PID"
	virsh_ undefine vragent-fault-hung >/dev/null 2>&1
}

if ! command -v libvirtd >/dev/null || ! command -v virsh >/dev/null; then
	note "SKIP a libvirtd that hangs: libvirtd or virsh is not installed"
elif ! start_daemon; then
	note "SKIP a libvirtd that hangs: a session libvirtd did not start"
	tail -n 5 "$WORK/sess/daemon.log" | sed 's/^/#   /'
else
	RAN=1
	hung_daemon
fi

# ------------------------------------------------ two agents, one domain
URI=$SYSTEM_URI
# start_two: agents A and B, each on its directory; their status, metrics
# and log files are $WORK/A.* and $WORK/B.*.
start_two() {
	local n
	for n in A B; do
		"$VR" run -c "$URI" --resync 5 --status-file "$WORK/$n.json" \
			--metrics-file "$WORK/$n.prom" "$WORK/$n" \
			2>"$WORK/$n.log" &
		PIDS="$PIDS $!"
	done
}

# of N WHAT...: runs a helper of lib.sh on agent N's files.
of() {
	local n=$1
	shift
	ST=$WORK/$n.json METRICS=$WORK/$n.prom LOG=$WORK/$n.log "$@"
}

settled_apart() {
	local a b
	a=$(of A st file shared.yaml phase)
	b=$(of B st file shared.yaml phase)
	[ "$a/$b" = "in-sync/conflict" ] || [ "$a/$b" = "conflict/in-sync" ]
}

writes() {
	echo $(($(of A metric virt_reconcile_libvirt_calls_total) +
		$(of B metric virt_reconcile_libvirt_calls_total)))
}

passes_past() { # A B: both agents made more orphan passes than these
	of A metric_gt virt_reconcile_orphan_passes_total "$1" &&
		of B metric_gt virt_reconcile_orphan_passes_total "$2"
}

two_agents() {
	local xml=$WORK/shared.xml uuid pa pb w keeper
	cat >"$xml" <<'XML'
<domain type='qemu'>
  <name>vragent-fault-shared</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type>hvm</type></os>
</domain>
XML
	virsh_ define "$xml" >/dev/null
	uuid=$(virsh_ domuuid vragent-fault-shared)
	mkdir -m 0700 "$WORK/A" "$WORK/B"
	file vragent-fault-shared "64 MiB" "adopt: true
" >"$WORK/A/shared.yaml"
	cp "$WORK/A/shared.yaml" "$WORK/B/shared.yaml"
	start_two
	check "two agents: one keeps the domain, the other reports conflict" \
		wait_until 30 settled_apart
	LOG=$WORK/A.log
	check "two agents: the metrics say conflict too" eval \
		'[ $(($(of A metric "virt_reconcile_domains{phase=\"conflict\"}") +
		     $(of B metric "virt_reconcile_domains{phase=\"conflict\"}"))) = 1 ]'
	w=$(writes)
	pa=$(of A metric virt_reconcile_orphan_passes_total)
	pb=$(of B metric virt_reconcile_orphan_passes_total)
	# two resyncs each (every 5 s), and the events of any write between
	check "two agents: both resync twice" wait_until 30 eval \
		'passes_past $((pa + 1)) $((pb + 1))'
	check_eq "two agents: no write since they settled" "$w" "$(writes)"
	check_le "two agents: write calls in all" 4 "$(writes)"
	check_eq "two agents: the same UUID" "$uuid" \
		"$(virsh_ domuuid vragent-fault-shared)"
	keeper=A
	[ "$(of A st file shared.yaml phase)" = in-sync ] || keeper=B
	check "two agents: the mark names the keeper's directory" eval \
		'virsh_ metadata vragent-fault-shared urn:virt-reconcile:domain:1 |
		 grep -q "dir=\"$WORK/$keeper\""'
	for w in $PIDS; do
		kill -TERM "$w"
		wait "$w"
		check_eq "two agents: exit status" 0 "$?"
	done
	PIDS=
}

if ! virsh_ version >/dev/null 2>&1; then
	note "SKIP two agents: $URI does not answer"
else
	# the agent-real suite removes every vragent-* domain: not while it
	# runs, and it waits for this
	open_lock 9 agent-real
	if ! flock -w 120 9; then
		note "SKIP two agents: another run held the lock for 2 minutes"
	else
		RAN=2
		two_agents
	fi
fi

if [ "$RAN" = 0 ]; then
	echo "faults: SKIP: no libvirtd could be had"
	exit 77
fi
echo "faults: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
