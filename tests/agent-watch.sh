#!/bin/bash
# eval '…' conditions are expanded at each poll, on purpose:
# shellcheck disable=SC2016
# What the agent's watch notices at once (not at the next resync), on
# libvirt's test driver (no daemon):
# - a hard link made into the directory (ln, cp -l): read and converged;
# - a FIFO or a device node (mkfifo, mknod): refused as not a regular
#   file, and the agent goes on serving the other files;
# - a file deleted and written anew (as git rewrites a file): read once,
#   after its close, never while it is still empty;
# - a refused file made safe (chmod g-w, chown): read and converged;
# - the directory made group-writable: every file refused, an edit made
#   meanwhile converges nothing (the write counter says so), and made
#   safe again, the edit converges;
# - a burst of new files: each reconciled once (the echoes of the agent's
#   own calls queue nothing);
# - an inotify queue overflow: logged, and everything read again;
# - a second agent on the same directory and URI refuses to start.
# The agent runs with --resync 3600: whatever converges here was noticed
# by the watch.
# usage: agent-watch.sh VIRT_RECONCILE
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/agent/lib.sh
. "$HERE/agent/lib.sh"
test_driver_suite watch "$@"
on_exit() {
	[ -z "$AGENT_PID" ] || kill -CONT "$AGENT_PID" 2>/dev/null
	end_run 0 true # WORK is kept only when a check failed
}
trap on_exit EXIT

file_of() { # NAME [MEMORY]: a desired-state file's text
	printf 'name: %s\nmemory: %s\n' "$1" "${2:-64 MiB}"
}

calls() { metric virt_reconcile_libvirt_calls_total; }

# error_has FILE TEXT: the status's error for FILE holds TEXT.
error_has() {
	st file "$1" error | grep -qF -- "$2"
}

file_of vr-w-base >"$DIR/base.yaml"
agent_start --resync 3600
check "the first file converges" wait_until 10 st_is base.yaml phase in-sync

# a second agent on the same directory and URI would make calls twice
timeout 10 "$VR" run -c "$URI" --resync 3600 "$DIR" 2>"$WORK/second.log"
check_eq "a second agent on the directory refuses to start" 1 "$?"
check "and says why" grep -q "another agent on this host already converges" \
	"$WORK/second.log"

# hard links: no close follows their creation
file_of vr-w-ln >"$STAGE/ln.yaml"
ln "$STAGE/ln.yaml" "$DIR/ln.yaml"
check "ln: converged" wait_until 5 st_is ln.yaml phase in-sync
file_of vr-w-cpl >"$STAGE/cpl.yaml"
cp -l "$STAGE/cpl.yaml" "$DIR/cpl.yaml"
check "cp -l: converged" wait_until 5 st_is cpl.yaml phase in-sync

# a FIFO would block a read; a device node is no desired state
mkfifo "$DIR/fifo.yaml"
check "mkfifo: refused" wait_until 5 error_has fifo.yaml "not a regular file"
if [ "$(id -u)" = 0 ]; then
	mknod "$DIR/node.yaml" c 1 3
	check "mknod: refused" wait_until 5 error_has node.yaml \
		"not a regular file"
	rm -f "$DIR/node.yaml"
fi
file_of vr-w-after >"$DIR/after.yaml"
check "the agent still serves the others" \
	wait_until 5 st_is after.yaml phase in-sync
rm -f "$DIR/fifo.yaml"

# a file deleted and written anew, as git rewrites one (unlink, create,
# write, close): read once it is closed, never while it is empty
file_of vr-w-rw >"$DIR/rw.yaml"
check "rw: converged" wait_until 5 st_is rw.yaml phase in-sync
e=$(metric virt_reconcile_errors_total)
r=$(metric virt_reconcile_reconciles_total)
rm "$DIR/rw.yaml"
exec 3>"$DIR/rw.yaml"
sleep 0.3 # held open, empty, well past the quiet window (a few ms)
printf 'name: vr-w-rw\nmemory: 64 MiB\nautostart: true\n' >&3
exec 3>&-
check "written anew: read after its close" wait_until 5 eval \
	'st file rw.yaml last_change | grep -q "autostart false → true"'
check_eq "written anew: never read before (no error)" "$e" \
	"$(metric virt_reconcile_errors_total)"
check_eq "written anew: read once" $((r + 1)) \
	"$(metric virt_reconcile_reconciles_total)"

# a refused file made safe
file_of vr-w-perm >"$STAGE/perm.yaml"
chmod 664 "$STAGE/perm.yaml"
mv "$STAGE/perm.yaml" "$DIR/perm.yaml"
check "a group-writable file is refused" \
	wait_until 5 error_has perm.yaml "writable by its group"
chmod g-w "$DIR/perm.yaml"
check "chmod g-w: converged" wait_until 5 st_is perm.yaml phase in-sync
if [ "$(id -u)" = 0 ]; then
	file_of vr-w-own >"$STAGE/own.yaml"
	chown 4321 "$STAGE/own.yaml"
	mv "$STAGE/own.yaml" "$DIR/own.yaml"
	check "a file of another user is refused" \
		wait_until 5 error_has own.yaml "belongs to uid 4321"
	chown 0 "$DIR/own.yaml"
	check "chown: converged" wait_until 5 st_is own.yaml phase in-sync
fi

# the directory made unsafe: nothing converges from it
calls_before=$(calls)
chmod g+w "$DIR"
check "chmod g+w on the directory: its files are refused" \
	wait_until 5 error_has base.yaml "directory is writable by its group"
check "said so" log_has "the directory's mode or owner changed"
r=$(metric virt_reconcile_reconciles_total)
file_of vr-w-base "96 MiB" >"$STAGE/base.yaml"
mv "$STAGE/base.yaml" "$DIR/base.yaml"
check "the edit was read" \
	wait_until 5 metric_gt virt_reconcile_reconciles_total "$r"
check "the edit is refused" error_has base.yaml "directory is writable"
check_eq "no write call while the directory is unsafe" "$calls_before" \
	"$(calls)"
chmod g-w "$DIR"
check "chmod g-w on the directory: the edit converges" wait_until 5 eval \
	'metric_gt virt_reconcile_libvirt_calls_total "$calls_before"'
check "base is no longer refused" wait_until 5 eval \
	'[ "$(st file base.yaml error)" = null ]'

# a burst of new files: each is reconciled once; the events of its own
# define and start, which come before its job has ended, are known as its
# echoes and queue nothing
n=300
for i in $(seq 1 $n); do file_of "vr-w-x$i" >"$STAGE/x$i.yaml"; done
r=$(metric virt_reconcile_reconciles_total)
mv "$STAGE"/x*.yaml "$DIR/"
check "the burst converges" wait_until 20 eval \
	'[ "$(st phases x)" = "in-sync $n" ]'
settle
check_eq "each file of the burst reconciled once" "$((r + n))" \
	"$(metric virt_reconcile_reconciles_total)"

# an inotify queue overflow: events lost, everything read again
max=$(cat /proc/sys/fs/inotify/max_queued_events 2>/dev/null || echo 0)
if [ "$max" -gt 0 ] && [ "$max" -le 100000 ]; then
	kill -STOP "$AGENT_PID"
	# ignored names (never read), three events each: create, attrib,
	# close; then a file whose event is lost in the overflow
	(cd "$DIR" && seq -f '.junk%g' 1 $((max / 2 + 100)) | xargs touch)
	file_of vr-w-lost >"$STAGE/lost.yaml"
	mv "$STAGE/lost.yaml" "$DIR/lost.yaml"
	kill -CONT "$AGENT_PID"
	check "overflow: logged" wait_until 10 log_has \
		"inotify's queue overflowed and file events were lost"
	check "overflow: the lost file converges" \
		wait_until 10 st_is lost.yaml phase in-sync
else
	note "inotify's max_queued_events is $max: no overflow test"
fi

agent_stop TERM
check_eq "the agent exits 0" 0 "$AGENT_RC"
echo "agent-watch: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
