#!/bin/bash
# eval '…' conditions are expanded at each poll, on purpose:
# shellcheck disable=SC2016
# The agent's status and metrics files after a failed write, on libvirt's
# test driver (no daemon): a write that failed is tried again by itself
# (1 s, doubling), so the files catch up without any further change, and
# the status then says what failed and when.
# - the files' directory missing at start, then made;
# - as root, a full file system (ENOSPC) and a read-only one (EROFS) on a
#   small tmpfs, each freed again while nothing else changes.
# usage: agent-status.sh VIRT_RECONCILE
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/agent/lib.sh
. "$HERE/agent/lib.sh"
test_driver_suite status "$@"
MOUNTED=
unmount() {
	[ -z "$MOUNTED" ] || umount "$MOUNTED"
}
on_exit() {
	end_run 0 unmount # WORK is kept only when a check failed
}
trap on_exit EXIT

file_of() { # NAME: a desired-state file's text
	printf 'name: %s\nmemory: 64 MiB\n' "$1"
}

put_file() { # NAME: a new file NAME.yaml for vr-s-NAME, renamed into place
	file_of "vr-s-$1" >"$STAGE/$1.yaml"
	mv "$STAGE/$1.yaml" "$DIR/$1.yaml"
}

# the failure the status reports once it is written again
reported() { # TEXT
	st agent last_write_error | grep -qF -- "$1" &&
		[ "$(st agent last_write_error_at)" != null ]
}

# ------------------------------------------------ the directory missing
ST=$WORK/reports/status.json
METRICS=$WORK/reports/metrics.prom
file_of vr-s-one >"$DIR/one.yaml"
agent_start --resync 3600
check "the failed write is logged" wait_until 10 log_has \
	"reports/status.json: cannot write the status file: No such file"
check "converged meanwhile" wait_until 10 log_has "^vr-s-one .*in-sync after"
mkdir -m 0700 "$WORK/reports"
# nothing changes from here on: the retry alone writes the files
check "the status is written without any change" wait_until 5 \
	st_is one.yaml phase in-sync
check "the metrics too" wait_until 5 test -s "$METRICS"
check "the status says what failed" reported "No such file or directory"
check "its recovery is logged" log_has "status.json: the status file is written again"
agent_stop TERM
check_eq "the agent exits 0" 0 "$AGENT_RC"

if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=256k,mode=0700 tmpfs \
	"$WORK/reports" 2>/dev/null; then
	note "not root, or no tmpfs: no ENOSPC and EROFS tests"
	echo "agent-status: $PASS passed, $FAIL failed"
	[ "$FAIL" = 0 ]
	exit
fi
MOUNTED=$WORK/reports

# ------------------------------------------------ ENOSPC
agent_start --resync 3600
check "written on the small file system" wait_until 10 \
	st_is one.yaml phase in-sync
dd if=/dev/zero of="$MOUNTED/fill" bs=4k 2>/dev/null
put_file two
check "ENOSPC: logged" wait_until 10 log_has \
	"cannot write the status file: No space left on device"
check "ENOSPC: two converged meanwhile" wait_until 10 log_has \
	"^vr-s-two .*in-sync after"
check_eq "ENOSPC: the status is stale" absent "$(st file two.yaml phase)"
rm -f "$MOUNTED/fill"
check "ENOSPC freed: the status catches up without any change" \
	wait_until 5 st_is two.yaml phase in-sync
check "ENOSPC freed: the status says what failed" \
	reported "No space left on device"

# ------------------------------------------------ EROFS
mount -o remount,ro "$MOUNTED"
put_file three
check "EROFS: logged" wait_until 10 log_has \
	"cannot write the status file: Read-only file system"
check "EROFS: three converged meanwhile" wait_until 10 log_has \
	"^vr-s-three .*in-sync after"
mount -o remount,rw "$MOUNTED"
check "EROFS lifted: the status catches up without any change" \
	wait_until 5 st_is three.yaml phase in-sync
check "EROFS lifted: the status says what failed" \
	reported "Read-only file system"
agent_stop TERM
check_eq "the agent exits 0" 0 "$AGENT_RC"

echo "agent-status: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
