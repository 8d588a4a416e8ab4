# shellcheck shell=bash disable=SC2034
# What the suites on the system libvirtd share (tests/real, tests/agent):
# the connection, "ok - WHAT" / "not ok - WHAT" lines with their counts, and
# the domain type that runs guests here. A suite defines on_failure() to
# print, as "#" lines, what helps to understand a failed check.

URI=qemu:///system
PASS=0
FAIL=0

virsh_() {
	timeout 120 virsh -q -c "$URI" "$@"
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
