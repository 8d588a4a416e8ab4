#!/bin/bash
# Live devices on the system libvirtd with QEMU (qemu:///system): a running
# guest without an OS (TCG, ACPI, one NUMA cell, two memory slots) gets a
# virtio disk, loses it (an unplug request the guest never answers), has
# CD media inserted, changed and ejected, gets a NIC and a DIMM; a guest
# without ACPI is told why its new disk waits for a restart; files with
# more DIMMs than slots, or more memory than maxMemory, are refused before
# any call; a SCSI controller, a disk on it and a watchdog are added live;
# a VNC password and a virtio-mem device's requested size change
# live. Each step checks what libvirt reports afterwards, and that a
# second apply makes no write call. Usage: hotplug.sh PATH-TO-virt-reconcile
#
# Its domains are named vrhot-* and its image files
# /var/lib/libvirt/images/vrhot-*; they are removed at the start and at
# exit. Exit status: 0 all checks passed, 1 a check failed, 77 (skip) when
# libvirtd does not answer and cannot be started.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/real/lib.sh
. "$HERE/lib.sh"
vr_arg "$@"
START=$(date +%s)
IMAGES=/var/lib/libvirt/images

libvirtd_or_skip hotplug
one_run_at_a_time libvirt-real

umask 022
WORK=$(mktemp -d /tmp/vrhot.XXXXXX)
mkdir -p "$WORK/runs" "$WORK/d" "$WORK/noacpi"

cleanup_hot() {
	local d
	for d in $(virsh_ list --all --name 2>/dev/null | grep '^vrhot-'); do
		virsh_ destroy "$d" >/dev/null 2>&1
		virsh_ undefine "$d" >/dev/null 2>&1
	done
	rm -f "$IMAGES"/vrhot-*
}
on_exit() {
	cleanup_hot
	rm -rf "$WORK"
}
trap on_exit EXIT
trap 'exit 1' INT TERM HUP
cleanup_hot

N=vrhot-g1
F=$WORK/d/$N.yaml
qemu-img create -q -f qcow2 "$IMAGES/vrhot-data.qcow2" 64M
truncate -s 1M "$IMAGES/vrhot-a.iso" "$IMAGES/vrhot-b.iso"

# guest DEVICES...: writes the file, its devices the lines given.
guest() {
	local src=
	[ -z "${CD:-}" ] || src=", source: {file: $CD}"
	{
		cat <<EOF
name: $N
type: qemu
state: running
vcpu: 1
maxMemory: {value: 1 GiB, slots: 2}
cpu:
  numa:
    - {id: 0, cpus: 0, memory: 256 MiB}
features: [acpi]
on_crash: ${ON_CRASH:-destroy}
devices:
  disk:
    - {device: cdrom, target: {dev: hdc, bus: ide}$src}
EOF
		printf '%s\n' "$@"
	} >"$F"
}

# settled WHAT: a second apply makes no write call and plan exits 0.
settled() {
	vr apply -c "$URI" "$WORK/d"
	check "$N: $1: a second apply makes 0 libvirt write calls" \
		out_has '; 0 libvirt write calls$'
	vr plan -c "$URI" "$WORK/d"
	check_eq "$N: $1: plan exits 0" 0 "$RC"
}

live_xp() {
	virsh_ dumpxml "$N" 2>/dev/null | xmllint --xpath "$1" - 2>/dev/null
}
live_has() {
	live_xp "$1" >/dev/null
}

section "a running guest"
guest
vr apply -c "$URI" "$WORK/d"
check_eq "$N: first apply exits 0" 0 "$RC"
check_eq "$N: running" running "$(domstate "$N")"
ID=$(domid "$N")

section "a virtio disk added"
DISK="    - {source: {file: $IMAGES/vrhot-data.qcow2}, driver: {type: qcow2}, target: {dev: vdb, bus: virtio}}"
guest "$DISK"
vr apply -c "$URI" "$WORK/d"
check_eq "$N: disk added: apply exits 0" 0 "$RC"
check "$N: disk added: attached live" \
	out_has "^$N: attach-device: devices.disk vdb"
check "$N: disk added: the live XML has vdb" \
	live_has "/domain/devices/disk/target[@dev='vdb']"
check_eq "$N: disk added: the domain id is unchanged" "$ID" "$(domid "$N")"
settled "disk added"

section "the disk removed"
guest
vr apply -c "$URI" "$WORK/d"
check_eq "$N: disk removed: apply exits 0" 0 "$RC"
check_eq "$N: disk removed: the unplug request is sent once" 1 \
	"$(grep -c "^$N: detach-device: devices.disk vdb" "$LAST_OUT")"
vr plan -c "$URI" "$WORK/d"
check "$N: disk removed: plan shows it pending" \
	out_has "^  ! devices.disk vdb: unplug requested"
check "$N: disk removed: the phase is converging" \
	out_has "^$N: converging"
vr apply -c "$URI" "$WORK/d"
check "$N: disk removed: a resync sends no second request" \
	out_has '; 0 libvirt write calls$'
check_eq "$N: disk removed: the domain id is unchanged" "$ID" "$(domid "$N")"
virsh_ destroy "$N" >/dev/null && virsh_ start "$N" >/dev/null
ID=$(domid "$N")
vr plan -c "$URI" "$WORK/d"
check_eq "$N: after a restart: plan exits 0 (in sync)" 0 "$RC"
check "$N: after a restart: vdb is gone" \
	sh -c "! virsh -q -c $URI dumpxml $N | grep -q \"dev='vdb'\""

section "CD media inserted, changed and ejected"
for step in "inserted:$IMAGES/vrhot-a.iso" "changed:$IMAGES/vrhot-b.iso" "ejected:"; do
	what=${step%%:*}
	CD=${step#*:}
	guest
	vr apply -c "$URI" "$WORK/d"
	check "$N: CD $what: updated live" \
		out_has "^$N: update-device: devices.disk hdc"
	check_eq "$N: CD $what: the live source" "$CD" \
		"$(live_xp "string(/domain/devices/disk[target/@dev='hdc']/source/@file)")"
	check_eq "$N: CD $what: the domain id is unchanged" "$ID" "$(domid "$N")"
	settled "CD $what"
done
CD=

section "a NIC added live"
NIC="  interface:
    - {type: user, model: virtio}"
guest "$NIC"
vr apply -c "$URI" "$WORK/d"
check "$N: NIC added: attached live" \
	out_has "^$N: attach-device: devices.interface #1"
LIVE_MAC=$(live_xp "string(/domain/devices/interface/mac/@address)")
check_ne "$N: NIC added: it runs with a MAC" "" "$LIVE_MAC"
check_eq "$N: NIC added: the config has the MAC it runs with" "$LIVE_MAC" \
	"$(xpath_config "$N" /domain/devices/interface/mac/@address)"
settled "NIC added"
ON_CRASH=restart guest "$NIC"
vr apply -c "$URI" "$WORK/d"
check "$N: a later redefine" out_has "^$N: redefine: on_crash"
check_eq "$N: the MAC is kept across the redefine" "$LIVE_MAC" \
	"$(xpath_config "$N" /domain/devices/interface/mac/@address)"
check_eq "$N: NIC: the domain id is unchanged" "$ID" "$(domid "$N")"
ON_CRASH=restart
settled "redefined"

section "a DIMM added within maxMemory's slots"
MEM_BEFORE=$(live_xp "string(/domain/memory)")
DIMM="  memory:
    - {model: dimm, target: {size: 128 MiB, node: 0}}"
guest "$NIC" "$DIMM"
vr apply -c "$URI" "$WORK/d"
check "$N: DIMM added: attached live" \
	out_has "^$N: attach-device: devices.memory #1"
check_eq "$N: DIMM added: the live <memory> grows by 128 MiB" \
	$((MEM_BEFORE + 131072)) "$(live_xp "string(/domain/memory)")"
check_eq "$N: DIMM: the domain id is unchanged" "$ID" "$(domid "$N")"
settled "DIMM added"

section "DIMMs over the slots, memory over maxMemory: refused before any call"
XML_BEFORE=$(virsh_ dumpxml "$N")
guest "$NIC" "$DIMM" "    - {model: dimm, target: {size: 128 MiB, node: 0}}" \
	"    - {model: dimm, target: {size: 128 MiB, node: 0}}"
vr apply -c "$URI" "$WORK/d"
check_eq "$N: three DIMMs for two slots: apply exits 1" 1 "$RC"
check "$N: three DIMMs for two slots: the file is named with its line" \
	err_has "^virt-reconcile: $F:[0-9]+:[0-9]+: 3 memory devices, but 'maxMemory' has 2 slots"
check "$N: three DIMMs for two slots: no write call" \
	out_has '; 0 libvirt write calls$'
guest "$NIC" "  memory:" "    - {model: dimm, target: {size: 1 GiB, node: 0}}"
vr apply -c "$URI" "$WORK/d"
check_eq "$N: a DIMM over maxMemory: apply exits 1" 1 "$RC"
check "$N: a DIMM over maxMemory: the file is named with its line" \
	err_has "^virt-reconcile: $F:[0-9]+:[0-9]+: .*'maxMemory'"
check_eq "$N: refused: the domain is unchanged" "$XML_BEFORE" \
	"$(virsh_ dumpxml "$N")"

section "a guest without ACPI"
N=vrhot-g2
cat >"$WORK/noacpi/$N.yaml" <<EOF
name: $N
type: qemu
state: running
memory: 128 MiB
vcpu: 1
EOF
vr apply -c "$URI" "$WORK/noacpi"
check_eq "$N: running" running "$(domstate "$N")"
cat >>"$WORK/noacpi/$N.yaml" <<EOF
devices:
  disk:
    - {source: {file: $IMAGES/vrhot-data.qcow2}, driver: {type: qcow2}, target: {dev: vdc}}
EOF
vr plan -c "$URI" "$WORK/noacpi"
check "$N: a disk without ACPI: plan says why it waits for a restart" \
	out_has "devices.disk vdc: the running guest has no 'features.acpi'"
check "$N: a disk without ACPI: no attach is planned" \
	out_lacks "attach-device"
vr apply -c "$URI" "$WORK/noacpi"
check "$N: a disk without ACPI: restart-required" \
	out_has "^$N: restart-required"
vr apply -c "$URI" "$WORK/noacpi"
check "$N: a disk without ACPI: a second apply makes 0 write calls" \
	out_has '; 0 libvirt write calls$'

section "a VNC password changed live"
N=vrhot-g3
mkdir -p "$WORK/vnc"
vnc() {
	cat >"$WORK/vnc/$N.yaml" <<EOF
name: $N
type: qemu
state: running
memory: 128 MiB
vcpu: 1
devices:
  graphics:
    - {type: vnc, passwd: $1}
EOF
}
vnc secret1
vr apply -c "$URI" "$WORK/vnc"
check_eq "$N: running" running "$(domstate "$N")"
ID=$(domid "$N")
vr apply -c "$URI" "$WORK/vnc"
check "$N: a password in the file: a second apply makes 0 write calls" \
	out_has '; 0 libvirt write calls$'
vnc secret2
vr apply -c "$URI" "$WORK/vnc"
check "$N: password changed: updated live" \
	out_has "^$N: update-device: devices.graphics vnc"
check "$N: password changed: the output never shows it" \
	sh -c "! grep -q 'secret[12]' '$LAST_OUT' '$LAST_ERR'"
check_eq "$N: password changed: the running guest has it" secret2 \
	"$(virsh_ dumpxml --security-info "$N" |
		xmllint --xpath 'string(/domain/devices/graphics/@passwd)' -)"
check_eq "$N: password changed: the domain id is unchanged" "$ID" \
	"$(domid "$N")"
vr apply -c "$URI" "$WORK/vnc"
check "$N: password changed: a second apply makes 0 write calls" \
	out_has '; 0 libvirt write calls$'

section "a virtio-mem device's requested size changed live"
N=vrhot-g4
mkdir -p "$WORK/vmem"
vmem() {
	cat >"$WORK/vmem/$N.yaml" <<EOF
name: $N
type: qemu
state: running
vcpu: 1
maxMemory: {value: 2 GiB, slots: 2}
cpu:
  numa:
    - {id: 0, cpus: 0, memory: 256 MiB}
features: [acpi]
devices:
  memory:
    - {model: virtio-mem, target: {size: 256 MiB, node: 0, block: 2 MiB, requested: $1}}
EOF
}
vmem "64 MiB"
vr apply -c "$URI" "$WORK/vmem"
check_eq "$N: running" running "$(domstate "$N")"
ID=$(domid "$N")
vr apply -c "$URI" "$WORK/vmem"
check "$N: virtio-mem: a second apply makes 0 write calls" \
	out_has '; 0 libvirt write calls$'
vmem "128 MiB"
vr apply -c "$URI" "$WORK/vmem"
check "$N: requested size changed: updated live" \
	out_has "^$N: update-device: devices.memory #1"
check_eq "$N: requested size changed: the running guest has it" 131072 \
	"$(virsh_ dumpxml "$N" |
		xmllint --xpath 'string(/domain/devices/memory/target/requested)' -)"
check_eq "$N: requested size changed: the domain id is unchanged" "$ID" \
	"$(domid "$N")"
vr apply -c "$URI" "$WORK/vmem"
check "$N: requested size changed: a second apply makes 0 write calls" \
	out_has '; 0 libvirt write calls$'

section "a SCSI controller, a disk on it and a watchdog added live"
N=vrhot-g5
mkdir -p "$WORK/scsi"
qemu-img create -q -f qcow2 "$IMAGES/vrhot-scsi.qcow2" 16M
scsi() {
	cat >"$WORK/scsi/$N.yaml" <<EOF
name: $N
type: qemu
state: running
memory: 128 MiB
vcpu: 1
features: [acpi]
devices:
  controller:
    - {type: usb, index: 0, model: qemu-xhci}
EOF
	[ -z "${1:-}" ] || cat >>"$WORK/scsi/$N.yaml" <<EOF
    - {type: scsi, index: 0, model: virtio-scsi}
  disk:
    - {source: {file: $IMAGES/vrhot-scsi.qcow2}, driver: {type: qcow2}, target: {dev: sda, bus: scsi}}
  watchdog: {model: i6300esb, action: reset}
EOF
}
scsi
vr apply -c "$URI" "$WORK/scsi"
check_eq "$N: running" running "$(domstate "$N")"
ID=$(domid "$N")
scsi more
vr apply -c "$URI" "$WORK/scsi"
check "$N: the controller is attached before its disk" \
	sh -c "grep -n 'attach-device' '$LAST_OUT' | head -n1 | grep -q 'devices.controller'"
check "$N: the SCSI disk attached live" \
	out_has "^$N: attach-device: devices.disk sda"
check "$N: the watchdog attached live" \
	out_has "^$N: attach-device: devices.watchdog"
check_eq "$N: the running guest has the three" "1 1 1" \
	"$(virsh_ dumpxml "$N" | xmllint --xpath 'concat(count(//controller[@type="scsi"]), " ", count(//disk/target[@dev="sda"]), " ", count(//watchdog))' -)"
check_eq "$N: the domain id is unchanged" "$ID" "$(domid "$N")"
vr apply -c "$URI" "$WORK/scsi"
check "$N: a second apply makes 0 write calls" \
	out_has '; 0 libvirt write calls$'

echo "hotplug: $PASS passed, $FAIL failed ($(($(date +%s) - START)) s)"
[ "$FAIL" -eq 0 ]
