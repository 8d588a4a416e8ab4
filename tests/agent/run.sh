#!/bin/bash
# eval '…' conditions are expanded at each poll, on purpose:
# shellcheck disable=SC2016
# The agent-real suite: `virt-reconcile run` against the system libvirtd
# with QEMU (qemu:///system), with real, diskless guests that boot to their
# firmware. It drops, edits and breaks files in a watched directory,
# changes the domains behind the agent's back, kills libvirtd and the agent
# itself, and reads the agent's log and status file for the verdict. It
# also measures (and only loosely bounds) latencies, memory and idle
# wake-ups. Usage: run.sh PATH-TO-virt-reconcile
#
# Every domain it makes is named vragent-*; all of them are removed at the
# start and at exit. Exit status: 0 all checks passed, 1 a check failed,
# 77 (skip) when libvirtd does not answer and cannot be started.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/agent/lib.sh
. "$HERE/lib.sh"
vr_arg "$@"
now_ms
T_START=$NOW

# ---------------------------------------------------------------- setup

libvirtd_or_skip agent-real

# One run at a time per host: every run removes all vragent-* domains.
one_run_at_a_time agent-real "the lock"

work_dirs agent
on_exit() {
	end_run $? cleanup_domains
}
trap on_exit EXIT
trap 'exit 1' INT TERM HUP
cleanup_domains
# A libvirtd that takes seconds per call (see kvm_diagnosis in tap.sh)
# would only run the suite into its timeout.
responsive_or_bail agent-real vragent "$WORK"

# The domain type: kvm when it can run guests here, else qemu (TCG).
probe_type vragent "$WORK"
note "domain type: ${TYPE_LINE:-type: kvm}; virt-reconcile: $VR; work: $WORK"

# yaml NAME STATE VCPU-CURRENT [MORE-LINES]: a desired-state file's text.
yaml() {
	echo "name: $1"
	echo "state: $2"
	echo "memory: 32 MiB"
	echo "vcpu: {value: 4, current: $3}"
	[ -z "${4:-}" ] || printf '%s\n' "$4"
	[ -z "$TYPE_LINE" ] || echo "$TYPE_LINE"
}

# The running guest most checks use. Line 5 is the title.
web() {
	yaml vragent-web running "$1" "title: ${2:-web frontend}"
}

# ======================================================= run 1: the agent
# --resync 3600: whatever is repaired within the test is repaired by an
# event (inotify, libvirt) or by SIGHUP, never by the timer.
agent_start --resync 3600
check "the status says connected" wait_until 20 st_agent_is connected true
check "the metrics file is written" wait_until 10 test -s "$METRICS"
# systemd (Type=notify) waits for READY=1, then kills a unit that never
# sends it
check "run 1, empty directory: READY=1 sent" wait_until 10 notify_has ' READY=1$'
check "… and 'ready' logged" log_has '^ready: '
check "… STATUS= sent" notify_has ' STATUS=connected; '

# ---- a dropped file becomes a running domain
now_ms
t0=$NOW
web 1 | put web.yaml
if wait_until 20 state_is vragent-web running; then
	now_ms
	ok "web.yaml dropped → vragent-web defined and running ($((NOW - t0)) ms)"
else
	not_ok "web.yaml dropped → vragent-web defined and running (state: '$(domstate vragent-web)')"
fi
check "status: web.yaml in-sync, domain vragent-web" \
	wait_until 20 eval '[ "$(st file web.yaml domain)/$(st file web.yaml phase)" = vragent-web/in-sync ]'
check_eq "vragent-web has 1 vCPU (live)" 1 "$(vcpus vragent-web --live)"
check_eq "vragent-web was defined once" 1 "$(log_count '^vragent-web \(web.yaml\): define:')"

alive_or_bail

# ---- vcpu.current changed live, the same guest
id_before=$(domid vragent-web)
web 2 | put web.yaml
check "vcpu.current 1 → 2: 2 vCPUs live" wait_until 20 vcpus_are vragent-web --live 2
check_eq "… and in the persistent config" 2 "$(vcpus vragent-web --config)"
check_eq "… on the same guest (domain id unchanged)" "$id_before" "$(domid vragent-web)"
check "… logged as a live set-vcpus" log_has '^vragent-web \(web.yaml\): set-vcpus \(live\)'

alive_or_bail

# ---- drift: virsh destroy, undone by the lifecycle event
# Timed from the destroy to running again, less the restarting job's own
# time (libvirt's start call): what the agent adds must stay under 2 s.
jobs0=$(log_count '^vragent-web \(web\.yaml\): in-sync after 1 call in ')
virsh_ destroy vragent-web >/dev/null 2>&1
if wait_until 20 state_is vragent-web running; then
	waited=$WAITED
	job=$(start_job_ms vragent-web web\\.yaml "$jobs0") || job=0
	if [ $((waited - job)) -lt 2000 ]; then
		ok "virsh destroy → running again in $waited ms, $((waited - job)) ms of it the agent's (< 2 s, no resync)"
	else
		not_ok "virsh destroy → running again in $waited ms, $((waited - job)) ms of it the agent's (expected < 2 s)"
	fi
else
	not_ok "virsh destroy → running again (still '$(domstate vragent-web)' after 20 s)"
fi

alive_or_bail

# ---- drift: the persistent XML edited and redefined behind its back
virsh_ dumpxml --inactive vragent-web >"$WORK/web-tampered.xml"
sed -i 's|<title>web frontend</title>|<title>tampered</title>|' "$WORK/web-tampered.xml"
if grep -q '<title>tampered</title>' "$WORK/web-tampered.xml" &&
	virsh_ define "$WORK/web-tampered.xml" >/dev/null 2>&1; then
	# it may be undone before virsh returns; the edit is not checked
	if wait_until 20 title_is vragent-web "web frontend"; then
		if [ "$WAITED" -lt 2000 ]; then
			ok "redefined with title 'tampered' → 'web frontend' again in $WAITED ms (< 2 s)"
		else
			not_ok "redefined with title 'tampered' → undone in $WAITED ms (expected < 2 s)"
		fi
	else
		not_ok "redefined with title 'tampered' → undone (title still '$(title vragent-web)')"
	fi
	check "… logged as a redefine" log_has '^vragent-web \(web.yaml\): redefine:.*title'
else
	not_ok "redefining vragent-web behind the agent's back (virsh define failed)"
fi
check_eq "vragent-web still running" running "$(domstate vragent-web)"

alive_or_bail

# ---- editor droppings are ignored
for f in .web.yaml.swp web.yaml~ x.tmp .#x; do
	n=$(echo "$f" | tr -c 'a-z\n' 'z')
	yaml "vragent-drop-$n" shutoff 1 | put "$f"
done
# a real file after them: once it is in the status, so would they be
yaml vragent-sync shutoff 1 | put sync.yaml
check "sync.yaml (written after the droppings) converges" \
	wait_until 20 st_is sync.yaml phase in-sync
for f in .web.yaml.swp web.yaml~ x.tmp .#x; do
	check "$f: no status entry" st_lacks "$f"
done
check_eq "no vragent-drop-* domain" 0 "$(count_domains '^vragent-drop-')"

alive_or_bail

# ---- drift libvirt sends no event for: undone at SIGHUP
virsh_ setvcpus vragent-web 3 --config >/dev/null 2>&1
check_eq "virsh setvcpus --config 3 took (no event for it)" 3 "$(vcpus vragent-web --config)"
kill -HUP "$AGENT_PID"
check "SIGHUP → config back to 2 vCPUs" wait_until 20 vcpus_are vragent-web --config 2
note "setvcpus --config undone $WAITED ms after SIGHUP"
check "… SIGHUP logged" log_has 'SIGHUP'
check "… the droppings still have no status entry after the rescan" \
	eval 'st_lacks .web.yaml.swp && st_lacks "web.yaml~" && st_lacks x.tmp && st_lacks ".#x"'
check_eq "… and no domain" 0 "$(count_domains '^vragent-drop-')"

alive_or_bail

# ---- malformed edits touch nothing
xml_before=$(virsh_ dumpxml --inactive vragent-web | sha256sum)
id_before=$(domid vragent-web)
{
	echo "name: vragent-web"
	echo "state: running"
	echo "memory: 32 MiB"
	echo "vcpu: {value: 4, current: 3"
	echo "title: web frontend"
	[ -z "$TYPE_LINE" ] || echo "$TYPE_LINE"
} | put web.yaml
if wait_until 20 eval 'st file web.yaml error | grep -Eq "web\.yaml:[0-9]+:[0-9]+: "'; then
	ok "YAML syntax error → status error with file:line:col: $(st file web.yaml error)"
else
	not_ok "YAML syntax error → status error with file:line:col (error: '$(st file web.yaml error)')"
fi
check_eq "… phase error" error "$(st file web.yaml phase)"
check "… the agent is alive" agent_alive
{
	echo "name: vragent-web"
	echo "state: running"
	echo "memory: 32 MiB"
	echo "vcpu: {value: 4, current: 3}"
	echo "vcpuz: 3"
	[ -z "$TYPE_LINE" ] || echo "$TYPE_LINE"
} | put web.yaml
if wait_until 20 eval 'st file web.yaml error | grep -q "web\.yaml:5:1: "'; then
	ok "unknown key on line 5 → status error web.yaml:5:1: $(st file web.yaml error | sed 's/.*web\.yaml:5:1: //')"
else
	not_ok "unknown key on line 5 → status error web.yaml:5:1: … (error: '$(st file web.yaml error)')"
fi
check "… logged with file:line:col" log_has 'web\.yaml:5:1: '
check "… the agent is alive" agent_alive
check_eq "… vragent-web untouched: 2 vCPUs live" 2 "$(vcpus vragent-web --live)"
check_eq "… the same guest" "$id_before" "$(domid vragent-web)"
check_eq "… its persistent XML unchanged" "$xml_before" "$(virsh_ dumpxml --inactive vragent-web | sha256sum)"
web 3 | put web.yaml
check "the fixed file converges: 3 vCPUs live" wait_until 20 vcpus_are vragent-web --live 3
check "… status in-sync, no error" \
	wait_until 20 eval '[ "$(st file web.yaml phase)/$(st file web.yaml error)" = in-sync/null ]'
check_eq "… still the same guest" "$id_before" "$(domid vragent-web)"

alive_or_bail

# ---- 100 files at once
for i in $(seq -w 1 100); do
	yaml "vragent-b$i" shutoff 1 >"$STAGE/b$i.yaml"
done
rec0=$(metric virt_reconcile_reconciles_total)
lines0=$(wc -l <"$LOG")
now_ms
t0=$NOW
mv "$STAGE"/b*.yaml "$DIR"/
if wait_until 60 eval 'count_domains_is "^vragent-b[0-9]+$" 100 && st_all_in_sync b 100'; then
	now_ms
	ok "100 files moved in at once → 100 domains defined, all in-sync ($((NOW - t0)) ms)"
else
	not_ok "100 files → 100 domains in-sync ($(count_domains '^vragent-b[0-9]+$') defined; status: $(st phases b | tr '\n' ' '))"
fi
tail -n +"$((lines0 + 1))" "$LOG" >"$WORK/burst.log"
check_eq "the log lines of the burst are whole (one message a line)" 0 "$(log_garbled "$WORK/burst.log")"
defines=$(log_count '^vragent-b[0-9]+ \(b[0-9]+\.yaml\): define:' "$WORK/burst.log")
twice=$(msgs "$WORK/burst.log" | grep -Eo '^vragent-b[0-9]+ \(b[0-9]+\.yaml\): define:' |
	sort | uniq -d | wc -l)
check_eq "the log shows 100 defines for the burst" 100 "$defines"
check_eq "no domain of the burst defined twice" 0 "$twice"
check_eq "no other call for the burst's domains" 0 \
	"$(msgs "$WORK/burst.log" | grep -E '^vragent-b[0-9]+ ' |
		grep -v ': define:' | grep -Evc ': in-sync after 1 call in [0-9.]+ ms$')"
check_eq "the log shows each define's outcome: in-sync after 1 call" 100 \
	"$(log_count '^vragent-b[0-9]+ \(b[0-9]+\.yaml\): in-sync after 1 call in [0-9.]+ ms$' "$WORK/burst.log")"
# the metrics are written with the status; give the trailing events time
wait_until 5 eval '[ "$(metric virt_reconcile_reconciles_total)" != "$rec0" ]'
rec1=$(metric virt_reconcile_reconciles_total)
note "burst: $((rec1 - rec0)) reconciles for 100 files (metrics), $defines defines in the log"
check_le "burst: at most 3 reconciles per file" 300 "$((rec1 - rec0))"

alive_or_bail

# ---- in sync, nothing is written again: SIGHUP, then count the calls
calls0=$(metric virt_reconcile_libvirt_calls_total)
rec0=$(metric virt_reconcile_reconciles_total)
lines0=$(wc -l <"$LOG")
kill -HUP "$AGENT_PID"
check "SIGHUP: every file reconciled again" \
	wait_until 30 eval '[ "$(metric virt_reconcile_reconciles_total)" -ge $((rec0 + 100)) ]'
check_eq "… with no libvirt write call" "$calls0" "$(metric virt_reconcile_libvirt_calls_total)"
check_eq "… and no call in the log" "" \
	"$(tail -n +"$((lines0 + 1))" "$LOG" | msgs - | grep -E '^vragent-' | head -n 3)"

alive_or_bail

# ---- latency: file saved → virsh shows it (50 edits on a stopped guest)
yaml vragent-lat shutoff 1 | put lat.yaml
check "lat.yaml → vragent-lat defined" wait_until 20 defined vragent-lat
wait_until 20 st_is lat.yaml phase in-sync
: >"$WORK/lat.ms"
late=0
for i in $(seq 1 50); do
	want=$((i % 4 + 1))
	yaml vragent-lat shutoff "$want" >"$STAGE/lat.yaml"
	now_ms
	t0=$NOW
	mv -f "$STAGE/lat.yaml" "$DIR/lat.yaml"
	if wait_until 20 vcpus_are vragent-lat --config "$want"; then
		now_ms
		echo $((NOW - t0)) >>"$WORK/lat.ms"
	else
		late=$((late + 1))
	fi
done
read -r lat_med lat_max < <(median_worst <"$WORK/lat.ms")
note "file renamed into place → virsh shows vcpu.current: median $lat_med ms, worst $lat_max ms (50 edits, ~50 ms poll)"
check_eq "50 edits of vcpu.current all converged" 0 "$late"
check_le "edit latency median (ms, generous bound)" 1000 "$lat_med"
check_le "edit latency worst (ms, generous bound)" 5000 "$lat_max"

alive_or_bail

# ---- latency: drift (virsh destroy) → running again, 5 times
# From the moment virsh destroy returns (the destroy itself takes a while:
# QEMU is stopped gracefully first); the agent settles between two.
: >"$WORK/drift.ms"
: >"$WORK/destroy.ms"
: >"$WORK/startjob.ms"
slow=0
errors0=$(log_count 'web\.yaml: ')
for i in 1 2 3 4 5; do
	settle
	now_ms
	t0=$NOW
	jobs0=$(log_count '^vragent-web \(web\.yaml\): in-sync after 1 call in ')
	virsh_ destroy vragent-web >/dev/null 2>&1
	now_ms
	t1=$NOW
	echo $((t1 - t0)) >>"$WORK/destroy.ms"
	if wait_until 20 state_is vragent-web running; then
		now_ms
		t2=$NOW
		echo $((t2 - t1)) >>"$WORK/drift.ms"
		# less the restarting job's own time (libvirt's start call)
		job=$(start_job_ms vragent-web web\\.yaml "$jobs0") || job=0
		echo "$job" >>"$WORK/startjob.ms"
		[ $((t2 - t1 - job)) -lt 2000 ] || slow=$((slow + 1))
	else
		slow=$((slow + 1))
	fi
done
read -r drift_med drift_max < <(median_worst <"$WORK/drift.ms")
read -r destroy_med destroy_max < <(median_worst <"$WORK/destroy.ms")
note "virsh destroy returned → running again: median $drift_med ms, worst $drift_max ms ($(tr '\n' ' ' <"$WORK/drift.ms")ms), of which the restarting job ($(tr '\n' ' ' <"$WORK/startjob.ms")ms); virsh destroy itself took median $destroy_med ms, worst $destroy_max ms"
check_eq "every destroy undone within 2 s of virsh destroy returning, beside the restarting job's own time" 0 "$slow"
check_eq "no error logged for web.yaml during the drills" "$errors0" "$(log_count 'web\.yaml: ')"

alive_or_bail

# ---- memory, and wake-ups while idle
n_mine=$(count_domains '^vragent-')
rss_kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$AGENT_PID/status")
note "agent RSS: $rss_kib KiB with $n_mine vragent-* domains ($(st phases '' | tr '\n' ' '))"
check_le "agent RSS (KiB, generous bound)" 262144 "$rss_kib"

ctxsw() {
	cat /proc/"$AGENT_PID"/task/*/status 2>/dev/null |
		awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n + 0 }'
}
# idle: no file event, no call in flight, the status written
settle
st_mtime0=$(stat -c %Y.%y "$ST")
threads=$(find /proc/"$AGENT_PID"/task -mindepth 1 -maxdepth 1 | wc -l)
cs0=$(ctxsw)
rec0=$(metric virt_reconcile_reconciles_total)
# a measurement window, not a wait for a condition; it catches a busy
# loop (the benchmark's bench-agent --idle measures wake-ups closely)
idle_s=20
sleep "$idle_s"
cs1=$(ctxsw)
note "idle $idle_s s (--resync 3600): $((cs1 - cs0)) context switches over $threads threads ($(((cs1 - cs0) / idle_s)).$((((cs1 - cs0) % idle_s) * 10 / idle_s))/s)"
check_le "idle wake-ups in $idle_s s (generous bound: 10 a second)" $((idle_s * 10)) "$((cs1 - cs0))"
check_eq "no reconcile while idle" "$rec0" "$(metric virt_reconcile_reconciles_total)"
check_eq "the status file was not rewritten while idle" "$st_mtime0" "$(stat -c %Y.%y "$ST")"

alive_or_bail

# ---- libvirtd killed and restarted under the agent
# The libvirt-real suite (tests/real) holds this lock for its whole run;
# taking it keeps libvirtd from being killed under that suite's feet.
open_lock 8 libvirt-real
libvirtd_pid() {
	local p
	p=$(cat /run/libvirtd.pid 2>/dev/null)
	if [ -n "$p" ] && [ "$(cat /proc/"$p"/comm 2>/dev/null)" = libvirtd ]; then
		echo "$p"
	else
		pgrep -x libvirtd | head -n1
	fi
}
if [ "$(id -u)" != 0 ]; then
	note "SKIP libvirtd restart: not root"
elif ! flock -w 240 8; then
	note "SKIP libvirtd restart: the libvirt-real lock stayed taken"
elif [ -z "$(libvirtd_pid)" ]; then
	note "SKIP libvirtd restart: no libvirtd process (socket-activated daemons?)"
else
	lpid=$(libvirtd_pid)
	kill -TERM "$lpid"
	if ! wait_until 20 eval '! kill -0 "$lpid" 2>/dev/null'; then
		kill -KILL "$lpid" 2>/dev/null
		wait_until 10 eval '! kill -0 "$lpid" 2>/dev/null'
	fi
	check "libvirtd killed → status connected=false" \
		wait_until 20 st_agent_is connected false
	check "… logged" log_has 'lost the connection to libvirt'
	check "… STATUS= says so" wait_until 10 notify_has ' STATUS=libvirt unreachable'
	yaml vragent-lat shutoff 3 "title: changed while libvirtd was away" | put lat.yaml
	check "… the file changed meanwhile: status not in-sync (libvirt unreachable)" \
		wait_until 20 eval '[ "$(st file lat.yaml phase)" != in-sync ]'
	note "lat.yaml while libvirtd is away: $(st file lat.yaml phase): $(st file lat.yaml error)"
	check "… the agent is alive" agent_alive
	# not with this suite's lock files open: a daemon would hold them
	(cd / && setsid libvirtd -d </dev/null >/dev/null 2>&1 8>&- 9>&-)
	check "libvirtd -d answers again" wait_until 30 eval 'virsh_ version >/dev/null 2>&1'
	if wait_until 60 st_agent_is connected true; then
		ok "… status connected=true again ($WAITED ms after libvirtd answered)"
	else
		not_ok "… status connected=true again"
	fi
	check "… logged" log_has 'connected to libvirt again'
	check "the file changed meanwhile converges afterwards" \
		wait_until 30 eval 'title_is vragent-lat "changed while libvirtd was away" && vcpus_are vragent-lat --config 3'
	check "… status in-sync" wait_until 20 st_is lat.yaml phase in-sync
	check_eq "vragent-web running after the restart" running "$(domstate vragent-web)"
	flock -u 8
fi
exec 8>&-

alive_or_bail

# ---- SIGTERM: finish, exit 0
agent_stop TERM
check_eq "SIGTERM → run 1 exits 0" 0 "$AGENT_RC"
check "… logged 'stopped'" log_has '^stopped$'
check "… STOPPING=1 sent" wait_until 5 notify_has ' STOPPING=1$'

# ======================================== runs 2 and 3: SIGKILL mid-burst
N_K=60
for i in $(seq -w 1 $N_K); do
	yaml "vragent-k$i" shutoff 1 >"$STAGE/k$i.yaml"
done
agent_start --resync 3600
check "run 2 is connected" wait_until 20 st_agent_is connected true
check "run 2, 103 files all in sync: READY=1 sent" wait_until 10 notify_has ' READY=1$'
LOG2=$LOG
mv "$STAGE"/k*.yaml "$DIR"/
# kill it once a few defines are logged
POLL=0.005 wait_until 20 eval '[ "$(log_count "^vragent-k[0-9]+ .*: define:")" -ge 5 ]'
agent_stop KILL 2>/dev/null # (not bash's "Killed" line)
done_at_kill=$(domains_matching '^vragent-k[0-9]+$' | sort)
n_at_kill=$(printf '%s' "$done_at_kill" | grep -c .)
logged_at_kill=$(log_count '^vragent-k[0-9]+ .*: define:' "$LOG2")
note "SIGKILL with $n_at_kill of $N_K defined ($logged_at_kill defines logged)"
if [ "$n_at_kill" -lt "$N_K" ]; then
	ok "the SIGKILL came mid-burst ($n_at_kill of $N_K defined)"
else
	not_ok "the SIGKILL came mid-burst (all $N_K were already defined; the check below proves less)"
fi

# run 3 with a short resync, for the resync check after it
agent_start --resync 3
check "run 3: all $N_K domains defined, all in-sync" \
	wait_until 60 eval 'count_domains_is "^vragent-k[0-9]+$" $N_K && st_all_in_sync k $N_K'
check_eq "… each domain once in libvirt" "" \
	"$(domains_matching '^vragent-k[0-9]+$' | sort | uniq -d)"
redefined=$(for d in $done_at_kill; do
	msgs | grep -q "^$d (.*): define:" && echo "$d"
done)
check_eq "run 3 defines none of the domains run 2 defined" "" "$(echo "$redefined" | tr '\n' ' ' | sed 's/ *$//')"
check_eq "run 3 defines exactly the other $((N_K - n_at_kill))" "$((N_K - n_at_kill))" \
	"$(log_count '^vragent-k[0-9]+ .*: define:')"
check_eq "run 3 reports no conflict or error for them" "" \
	"$(msgs | grep -E '^(vragent-)?k[0-9]+' | grep -v ': define:' |
		grep -Ev ': in-sync after 1 call in [0-9.]+ ms$' | head -n 3)"
check_eq "run 3's log lines are whole (one message a line)" 0 "$(log_garbled)"
check "the earlier domains are in-sync too" \
	wait_until 20 eval 'st_is web.yaml phase in-sync && st_is lat.yaml phase in-sync && st_all_in_sync b 100'

alive_or_bail

# ---- drift libvirt sends no event for: undone by the resync timer
settle
virsh_ setvcpus vragent-web 4 --config >/dev/null 2>&1
check_eq "virsh setvcpus --config 4 took" 4 "$(vcpus vragent-web --config)"
if wait_until 20 vcpus_are vragent-web --config 3; then
	ok "--resync 3 → config back to 3 vCPUs in $WAITED ms, no SIGHUP"
else
	not_ok "--resync 3 → config back to 3 vCPUs (still $(vcpus vragent-web --config))"
fi
check "… no SIGHUP was involved" eval '! log_has SIGHUP'

agent_stop TERM
check_eq "SIGTERM → run 3 exits 0" 0 "$AGENT_RC"

# ============================================= permissions of the directory
WW=$WORK/ww
mkdir "$WW"
chmod 0777 "$WW"
yaml vragent-ww shutoff 1 >"$WW/ww.yaml"
chmod 0644 "$WW/ww.yaml"
timeout 20 "$VR" run -c "$URI" --status-file "$WORK/ww-status.json" \
	--shutdown-timeout 2 "$WW" >"$WORK/ww.out" 2>"$WORK/ww.err"
rc=$?
check_eq "a world-writable directory is refused: exit 1" 1 "$rc"
check "… with a message saying so" grep -q 'writable by others' "$WORK/ww.err"
note "message: $(head -n1 "$WORK/ww.err")"
check_eq "… and nothing defined" 0 "$(count_domains '^vragent-ww$')"

SAVED_DIR=$DIR
DIR=$WW
agent_start --insecure-permissions --resync 3600
check "--insecure-permissions accepts it: vragent-ww defined" wait_until 20 defined vragent-ww
check "… in-sync" wait_until 20 st_is ww.yaml phase in-sync
check "… READY=1 sent (one new file)" wait_until 10 notify_has ' READY=1$'
agent_stop TERM
check_eq "… SIGTERM → exit 0" 0 "$AGENT_RC"
DIR=$SAVED_DIR

# ================================================================== done
now_ms
note "timings: edit → converged median $lat_med ms worst $lat_max ms; destroy returned → running median $drift_med ms worst $drift_max ms; RSS $rss_kib KiB; idle $((cs1 - cs0)) context switches/${idle_s} s"
note "agent-real took $(((NOW - T_START) / 1000)) s"
echo "agent-real: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
