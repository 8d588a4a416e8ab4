# shellcheck shell=bash disable=SC2034
# What the suites on the system libvirtd share (tests/real, tests/agent):
# the connection, "ok - WHAT" / "not ok - WHAT" lines with their counts, and
# the domain type that runs guests here. A suite defines on_failure() to
# print, as "#" lines, what helps to understand a failed check.

URI=qemu:///system
PASS=0
FAIL=0

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

virsh_() {
	timeout 120 virsh -q -c "$URI" "$@"
}

# libvirtd_or_skip SUITE: virsh installed, the system libvirtd started
# and /dev/kvm usable (as root: start-libvirtd.sh does nothing more when
# libvirtd answers) and answering, or the suite skips (exit 77).
libvirtd_or_skip() {
	if ! command -v virsh >/dev/null; then
		echo "$1: SKIP: virsh is not installed"
		exit 77
	fi
	if [ "$(id -u)" = 0 ]; then
		"$TESTS_DIR/../contrib/scripts/start-libvirtd.sh" >&2 ||
			echo "$1: start-libvirtd.sh failed" >&2
	fi
	if ! virsh_ version >/dev/null 2>&1; then
		echo "$1: SKIP: $URI does not answer and cannot be started here"
		exit 77
	fi
}

ok() {
	PASS=$((PASS + 1))
	echo "ok - $*"
}

not_ok() {
	FAIL=$((FAIL + 1))
	echo "not ok - $*"
	on_failure
}

note() {
	echo "# $*"
}

# vr_arg ARGS...: a suite's one argument, the virt-reconcile program, as
# an absolute path in VR; any other call prints the usage and exits 2.
vr_arg() {
	if [ $# -ne 1 ] || [ ! -x "$1" ]; then
		echo "usage: $0 PATH-TO-virt-reconcile" >&2
		exit 2
	fi
	VR=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
}

# open_lock FD SUITE: opens the SUITE suite's lock file (LOCK:
# virt-reconcile-SUITE.lock in /run/lock, else in /tmp) on descriptor FD,
# 8 or 9, for flock.
open_lock() {
	LOCKDIR=/run/lock
	[ -d "$LOCKDIR" ] || LOCKDIR=/tmp
	LOCK=$LOCKDIR/virt-reconcile-$2.lock
	case $1 in
	8) exec 8>>"$LOCK" ;;
	9) exec 9>>"$LOCK" ;;
	*) return 1 ;;
	esac
}

# one_run_at_a_time SUITE [WHAT]: takes the SUITE suite's lock on
# descriptor 9, waiting for another run (saying so, WHAT naming the lock:
# its path unless given) for 7 minutes at the most; else the suite is
# skipped (exit 77).
one_run_at_a_time() {
	open_lock 9 "$1"
	local what=${2:-$LOCK}
	if ! flock -n 9; then
		echo "# another $1 run holds $what; waiting for it"
		if ! flock -w 420 9; then
			echo "$1: SKIP: another run held $what for 7 minutes"
			exit 77
		fi
	fi
}

# check WHAT COMMAND...: the command's exit status decides.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# check_eq WHAT EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1 (expected '$2', got '$3')"
	fi
}

# probe_type PREFIX DIR: TYPE is kvm when a kvm guest starts here, else qemu
# (TCG); TYPE_LINE is then the line files need ("type: qemu"), or empty.
probe_type() {
	TYPE=kvm
	TYPE_LINE=
	cat >"$2/probe.xml" <<PROBE
<domain type='kvm'>
  <name>$1-probe</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type>hvm</type></os>
</domain>
PROBE
	if virsh_ create "$2/probe.xml" >/dev/null 2>&1; then
		virsh_ destroy "$1-probe" >/dev/null 2>&1
	else
		TYPE=qemu
		TYPE_LINE="type: qemu"
	fi
}

# kvm_diagnosis: why a libvirtd may answer slowly, as far as /dev/kvm goes.
# libvirtd caches QEMU's capabilities with the KVM access its QEMU user
# had; while that user cannot open /dev/kvm, every call finds the cache
# stale and probes QEMU again (seconds each; minutes for a UEFI define).
kvm_diagnosis() {
	local perm user group
	if [ ! -e /dev/kvm ]; then
		echo "there is no /dev/kvm here, so KVM access is not the cause; see libvirtd's log and the machine's load"
		return
	fi
	perm=$(stat -c '%U:%G %#a' /dev/kvm)
	user=$(sed -n 's/^[[:space:]]*user[[:space:]]*=[[:space:]]*"\(.*\)".*/\1/p' \
		/etc/libvirt/qemu.conf 2>/dev/null | tail -n1)
	group=$(sed -n 's/^[[:space:]]*group[[:space:]]*=[[:space:]]*"\(.*\)".*/\1/p' \
		/etc/libvirt/qemu.conf 2>/dev/null | tail -n1)
	user=${user:-libvirt-qemu}
	group=${group:-libvirt-qemu}
	if [ "$(id -u)" = 0 ] && id "$user" >/dev/null 2>&1 &&
		setpriv --reuid="$user" --regid="$group" --init-groups \
			test -r /dev/kvm -a -w /dev/kvm 2>/dev/null; then
		echo "/dev/kvm is $perm and $user (libvirtd's QEMU user) can open it, so KVM access is not the cause; see libvirtd's log and the machine's load"
	elif [ "$(id -u)" = 0 ] && id "$user" >/dev/null 2>&1; then
		echo "/dev/kvm is $perm and $user (libvirtd's QEMU user) cannot open it, so libvirtd probes QEMU's capabilities anew on every call. Debian's udev rule makes it root:kvm 0660 (with $user in group kvm), but that rule has not run here (a container, CI, a fresh VM). Fix, as root: contrib/scripts/start-libvirtd.sh (it sets root:kvm 0660; libvirtd needs no restart)"
	else
		case $perm in
		*:kvm\ 066?) echo "/dev/kvm is $perm, as Debian's udev rule makes it, so KVM access is likely not the cause (unless $user is not in group kvm); see libvirtd's log and the machine's load" ;;
		*) echo "/dev/kvm is $perm, not root:kvm 0660 as Debian's udev rule makes it: libvirtd's QEMU user cannot open it, so libvirtd probes QEMU's capabilities anew on every call. Fix, as root: contrib/scripts/start-libvirtd.sh (it sets root:kvm 0660; libvirtd needs no restart)" ;;
		esac
	fi
}

# responsive_or_bail SUITE PREFIX DIR: libvirtd must define a tiny diskless
# domain (PREFIX-responds) and undefine it within 10 s, or the suite ends
# here as failed, saying why: its hundreds of calls would each be as slow,
# and the suite would run into its timeout. (It skips only when libvirtd
# cannot be reached at all.)
responsive_or_bail() {
	local suite=$1 name=$2-responds xml=$3/responds.xml err=$3/responds.err
	local t0 ms pid rc why
	cat >"$xml" <<XML
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type>hvm</type></os>
</domain>
XML
	t0=${EPOCHREALTIME/[.,]/}
	{
		timeout 300 virsh -q -c "$URI" define "$xml" >/dev/null &&
			timeout 300 virsh -q -c "$URI" undefine "$name" >/dev/null
	} 2>"$err" 8>&- 9>&- &
	pid=$!
	ms=0
	while kill -0 "$pid" 2>/dev/null && [ "$ms" -lt 10000 ]; do
		sleep 0.05
		ms=$(((${EPOCHREALTIME/[.,]/} - t0) / 1000))
	done
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid"
		rc=$?
		if [ "$rc" = 0 ]; then
			ok "libvirtd defines and undefines a diskless domain within 10 s ($ms ms)"
			return 0
		fi
		not_ok "libvirtd defines and undefines a diskless domain within 10 s (virsh failed after $ms ms: $(tr '\n' ' ' <"$err"))"
		why="libvirtd refuses a define of a diskless domain; see the error above and libvirtd's log"
	else
		not_ok "libvirtd defines and undefines a diskless domain within 10 s (no answer after 10 s)"
		why=$(kvm_diagnosis)
		note "waiting for the define to end, to undefine $name"
		wait "$pid"
		ms=$(((${EPOCHREALTIME/[.,]/} - t0) / 1000))
		note "the define and undefine took $ms ms in all"
	fi
	virsh_ undefine "$name" >/dev/null 2>&1
	echo "Bail out! libvirtd on $URI is too slow to test on: $why"
	echo "$suite: $PASS passed, $FAIL failed"
	exit 1
}
