#!/bin/bash
# The corpus on the system libvirtd (qemu:///system): each of libvirt's
# x86_64 test inputs (libvirt-9.0/in) defined as it is, imported from
# libvirt, applied, and applied again. Not registered in meson yet.
#
# usage: real.sh PATH-TO-virt-reconcile [CORPUS_DIR]
#
# For every pair NAME, the input is defined as vrcorp-NAME (its <name>
# rewritten, its <uuid> dropped, so that libvirt gives one of its own):
# which inputs libvirt and QEMU here accept is recorded (a refused one is
# said with libvirt's message; it is no failure of virt-reconcile). For
# each accepted one,
#   virt-reconcile import -c qemu:///system -o DIR vrcorp-NAME
# must write one file, then `apply -c qemu:///system DIR` must succeed and
# leave `virsh dumpxml --inactive` as it was outside <metadata> (the mark
# goes there), the domain shut off, and a second apply must make 0 libvirt
# write calls.
#
# Every domain it defines is vrcorp-*; all of them are undefined at the
# start and at exit, and the libvirt-real suites' lock keeps it apart from
# them. CORPUS_REAL_OUT=FILE keeps the results there ("defined NAME",
# "refused NAME: MESSAGE", "PASS NAME", "FAIL NAME: REASON").
# CORPUS_REAL_EVERY=K takes every K-th pair only (CI: 4, 122 inputs, about
# 3 minutes; all 486 take about 10). Exit status:
# 0 every accepted input passed, 1 one did not, 77 (skip) when libvirtd does
# not answer or virt-reconcile has no import command.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/tap.sh
. "$HERE/../tap.sh"
vr_arg "${1:-}"
CORPUS=$(realpath "${2:-$HERE/libvirt-9.0}")
START=$(date +%s)
PREFIX=vrcorp

if ! "$VR" import --help >/dev/null 2>&1; then
	echo "corpus-real: SKIP: '$VR import --help' fails: this virt-reconcile has no import command yet"
	exit 77
fi
libvirtd_or_skip corpus-real
# the lock of the suites on the system libvirtd (one of them restarts it)
one_run_at_a_time libvirt-real

umask 022 # apply refuses directories that group or others may write
WORK=$(mktemp -d "/tmp/$PREFIX.XXXXXX")
RESULTS=$WORK/results
: >"$RESULTS"

# Every vrcorp-* domain stopped (apply must not have started one, but a
# failed check must not leave a guest running) and undefined, its NVRAM
# with it.
cleanup_corpus() {
	local d
	for d in $(virsh_ list --all --name 2>/dev/null | grep "^$PREFIX-"); do
		virsh_ destroy "$d" >/dev/null 2>&1
		virsh_ undefine --nvram "$d" >/dev/null 2>&1 ||
			virsh_ undefine "$d" >/dev/null 2>&1 ||
			echo "# could not undefine $d"
	done
}
on_exit() {
	cleanup_corpus
	[ -z "${CORPUS_REAL_OUT:-}" ] || cp "$RESULTS" "$CORPUS_REAL_OUT"
	rm -rf "$WORK"
}
trap on_exit EXIT
trap 'exit 1' INT TERM HUP
cleanup_corpus
responsive_or_bail corpus-real "$PREFIX" "$WORK"

LAST=
on_failure() {
	[ -n "$LAST" ] || return 0
	sed 's/^/#   /' "$LAST" | head -40
}

# renamed IN OUT NAME: the input with its domain's <name> NAME and without
# its <uuid>: the first of each before <devices> (devices and their
# sources have names and UUIDs of their own)
renamed() {
	python3 - "$1" "$2" "$3" <<'PY'
import re, sys
src, dst, name = sys.argv[1:]
text = open(src).read()
cut = text.find("<devices")
head, tail = (text[:cut], text[cut:]) if cut >= 0 else (text, "")
head, n = re.subn(r"<name>[^<]*</name>", "<name>%s</name>" % name, head, count=1)
head = re.sub(r"[ \t]*<uuid>[^<]*</uuid>\n?", "", head, count=1)
if n != 1:
    sys.exit("no <name> before <devices> in " + src)
open(dst, "w").write(head + tail)
PY
}

# inactive DOMAIN: its persistent XML without <metadata> (the mark's place)
inactive() {
	virsh_ dumpxml --inactive "$1" 2>&1 |
		sed -e '/^  <metadata>$/,/^  <\/metadata>$/d' -e '/^  <metadata\/>$/d'
}

# vr_run LOG ARGS...: virt-reconcile ARGS, its output in LOG
vr_run() {
	local log=$1
	shift
	LAST=$log
	echo "\$ virt-reconcile $*" >"$log"
	timeout 180 "$VR" "$@" >>"$log" 2>&1
}

# result VERDICT NAME [REASON]
result() {
	if [ "$1" = PASS ]; then
		echo "PASS $2" >>"$RESULTS"
		ok "$2"
	else
		echo "FAIL $2: $3" >>"$RESULTS"
		not_ok "$2: $3"
	fi
}

n=0 refused=0 k=0
while read -r _ name _; do
	k=$((k + 1))
	[ $(((k - 1) % ${CORPUS_REAL_EVERY:-1})) = 0 ] || continue
	n=$((n + 1))
	dom=$PREFIX-$name
	dir=$WORK/files/$name
	mkdir -p "$WORK/xml" "$WORK/log"
	LAST=
	if ! renamed "$CORPUS/in/$name.xml" "$WORK/xml/$name.xml" "$dom" \
		>"$WORK/log/$name.define" 2>&1 ||
		! virsh_ define "$WORK/xml/$name.xml" >>"$WORK/log/$name.define" 2>&1; then
		refused=$((refused + 1))
		echo "refused $name: $(grep -m1 . "$WORK/log/$name.define")" >>"$RESULTS"
		note "libvirt refuses $name: $(grep -m1 . "$WORK/log/$name.define")"
		continue
	fi
	echo "defined $name" >>"$RESULTS"
	inactive "$dom" >"$WORK/xml/$name.before"
	mkdir -p "$dir"
	if ! vr_run "$WORK/log/$name.import" import -c "$URI" -o "$dir" "$dom"; then
		result FAIL "$name" "import failed"
	elif [ "$(find "$dir" -name '*.yaml' | wc -l)" != 1 ]; then
		result FAIL "$name" "import wrote $(find "$dir" -type f | wc -l) files, not one YAML file"
	elif ! vr_run "$WORK/log/$name.apply" apply -c "$URI" "$dir"; then
		result FAIL "$name" "apply failed"
	elif ! inactive "$dom" | diff "$WORK/xml/$name.before" - >"$WORK/log/$name.diff"; then
		LAST=$WORK/log/$name.diff
		result FAIL "$name" "apply changed the inactive XML outside <metadata>"
	elif [ "$(virsh_ domstate "$dom" 2>/dev/null | head -n1)" != "shut off" ]; then
		result FAIL "$name" "apply left the domain $(virsh_ domstate "$dom" 2>&1 | head -n1), not shut off"
	elif ! vr_run "$WORK/log/$name.apply2" apply -c "$URI" "$dir"; then
		result FAIL "$name" "second apply failed"
	elif ! grep -q '; 0 libvirt write calls$' "$WORK/log/$name.apply2"; then
		result FAIL "$name" "second apply made libvirt write calls"
	else
		result PASS "$name"
	fi
	# one domain at a time: the host keeps none of them
	virsh_ destroy "$dom" >/dev/null 2>&1
	virsh_ undefine --nvram "$dom" >/dev/null 2>&1 ||
		virsh_ undefine "$dom" >/dev/null 2>&1
done <"$CORPUS/pairs"

echo "corpus-real: $n inputs, $((n - refused)) defined ($refused refused by libvirt" \
	"or QEMU here), $(grep -c '^PASS' "$RESULTS") passed," \
	"$(grep -c '^FAIL' "$RESULTS") failed ($(($(date +%s) - START)) s)"
[ "$FAIL" = 0 ]
