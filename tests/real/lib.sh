# shellcheck shell=bash disable=SC2034
# Helpers of the libvirt-real suite (tests/real/run.sh sources this file).
# Every check prints "ok - WHAT" or "not ok - WHAT"; a failed check also
# prints, as "#" lines, the last virt-reconcile command and its output.

. "$(dirname "${BASH_SOURCE[0]}")/../tap.sh"

MARK_URI=urn:virt-reconcile:domain:1
CONF_DIR=/etc/libvirt/qemu
NVRAM_DIR=/var/lib/libvirt/qemu/nvram
SKIP=0
SKIPPED=
LAST_CMD=
LAST_OUT=/dev/null
LAST_ERR=/dev/null
RC=0
RUN_N=0

# Lines of another program's domains (other virt-reconcile domains on a
# shared host show up as orphaned) are left out of the failure dumps.
filter_output() {
	awk '/^[^ ]/ { keep = ($0 ~ /^vrtest-/ || $0 ~ /^virt-reconcile:/ ||
			   $0 ~ /^[0-9]+ domains?:/ ||
			   $0 !~ /^[A-Za-z0-9_.+-]+: /) }
	     keep' "$1"
}

dump_last() {
	[ -n "$LAST_CMD" ] || return 0
	echo "#   last command: $LAST_CMD"
	echo "#   exit status: $RC"
	filter_output "$LAST_OUT" | sed 's/^/#   stdout: /'
	filter_output "$LAST_ERR" | sed 's/^/#   stderr: /'
}

section() {
	echo "# $* (at $(($(date +%s) - START)) s)"
}

on_failure() {
	dump_last
}

skip() {
	SKIP=$((SKIP + 1))
	SKIPPED="$SKIPPED
#   $1: $2"
	echo "ok - $1 # SKIP $2"
}

# check_ne WHAT UNEXPECTED ACTUAL
check_ne() {
	if [ "$2" != "$3" ]; then
		ok "$1"
	else
		not_ok "$1 (got '$3')"
	fi
}

# vr ARGS...: runs virt-reconcile; exit status in RC, output in LAST_OUT
# and LAST_ERR (kept under $WORK/runs for the failure dumps).
vr() {
	RUN_N=$((RUN_N + 1))
	LAST_OUT=$WORK/runs/$RUN_N.out
	LAST_ERR=$WORK/runs/$RUN_N.err
	LAST_CMD="virt-reconcile $*"
	timeout 180 "$VR" "$@" >"$LAST_OUT" 2>"$LAST_ERR"
	RC=$?
}

# The stdout of the last run contains a line matching the ERE.
out_has() {
	grep -Eq -- "$1" "$LAST_OUT"
}

err_has() {
	grep -Eq -- "$1" "$LAST_ERR"
}

out_lacks() {
	! grep -Eq -- "$1" "$LAST_OUT"
}

# The block of one domain in plan output: its heading line and the
# indented lines under it.
plan_block() {
	awk -v d="$1: " '/^[^ ]/ { inb = (index($0, d) == 1) } inb' "$LAST_OUT"
}

# The first call the last apply made for a domain: "shutdown" from
# "vrtest-p1: shutdown: prune: ...".
first_call() {
	awk -v d="$1: " 'index($0, d) == 1 {
		sub(/^[^:]*: /, ""); sub(/[: (].*/, ""); print; exit }' "$LAST_OUT"
}

# Field of virsh dominfo ("CPU(s)", "Max memory", "Autostart", ...).
dominfo_field() {
	virsh_ dominfo "$1" 2>/dev/null | awk -F': *' -v f="$2" '$1 == f { print $2 }'
}

domstate() {
	virsh_ domstate "$1" 2>/dev/null | head -n1
}

domid() {
	virsh_ domid "$1" 2>/dev/null | head -n1
}

# vcpus DOMAIN --maximum|--current --live|--config
vcpus() {
	virsh_ vcpucount "$1" "$2" "$3" 2>/dev/null
}

domstat() {
	virsh_ domstats "$2" "$1" 2>/dev/null | sed -n "s/^ *$3=//p"
}

# xpath DOMAIN EXPR: a string from the persistent (inactive) XML.
xpath_config() {
	virsh_ dumpxml --inactive "$1" 2>/dev/null |
		xmllint --xpath "string($2)" - 2>/dev/null
}

defined() {
	virsh_ dominfo "$1" >/dev/null 2>&1
}

marked() {
	virsh_ metadata "$1" "$MARK_URI" --config 2>/dev/null | grep -q 'file='
}

# File identity: content hash and modification time with nanoseconds.
file_id() {
	if [ -e "$1" ]; then
		echo "$(sha256sum <"$1" | cut -d' ' -f1) $(stat -c %y "$1")"
	else
		echo "missing"
	fi
}

# wait_for SECONDS COMMAND...: polls until the command succeeds or the
# deadline passes.
wait_for() {
	local deadline=$(($(date +%s) + $1))
	shift
	while ! "$@"; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

state_is() {
	[ "$(domstate "$1")" = "$2" ]
}

# Destroys and undefines every vrtest-* domain, removes their NVRAM files.
cleanup_domains() {
	local d
	for d in $(virsh_ list --all --name 2>/dev/null | grep '^vrtest-'); do
		virsh_ destroy "$d" >/dev/null 2>&1
		virsh_ undefine --nvram --managed-save --snapshots-metadata \
			"$d" >/dev/null 2>&1 ||
			virsh_ undefine "$d" >/dev/null 2>&1
	done
	rm -f "$NVRAM_DIR"/vrtest-*
}

# prune_guard DIR: apply --prune on DIR would prune the domains plan lists
# as orphaned. On a shared host other programs' virt-reconcile domains may
# exist; they must never be pruned by this suite. Prints their names and
# fails when there are any.
prune_guard() {
	local out
	out=$(timeout 180 "$VR" plan -c "$URI" "$1" 2>/dev/null |
		awk '/^[^ ][^:]*: orphaned/ { sub(/:.*/, ""); print }' |
		grep -v '^vrtest-' |
		awk '{ n++ } n <= 5 { printf "%s ", $0 }
		     END { if (n > 5) printf "and %d more", n - 5 }')
	if [ -n "$out" ]; then
		echo "$out"
		return 1
	fi
	return 0
}
