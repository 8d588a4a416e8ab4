#!/bin/bash
# The fidelity suite: the reproducers of files libvirt 9.0 rewrote, dropped
# or refused (second applies that rewrote a domain forever, lost data, or
# reported it in sync without a change), against the system libvirtd with
# QEMU (qemu:///system). Usage: fidelity.sh PATH-TO-virt-reconcile
#
# Every file validate accepts is applied, and then a second apply must make
# no libvirt write call, plan must exit 0, and libvirt's XML must show what
# the file says. Every transition applies file A, then B (exit 0), then B
# again (no write call). Every file validate refuses must exit 1 with a
# message located at file:line:col.
#
# Every domain it makes is named vrfid-* (type qemu, at most 128 MiB,
# diskless or with image files /var/lib/libvirt/images/vrfid-*); they and
# their files are removed at the start and at exit, and a lock keeps two
# runs on one host apart. Exit status: 0 all checks passed, 1 a check
# failed, 77 (skip) when libvirtd does not answer and cannot be started.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/real/lib.sh
. "$HERE/lib.sh"
vr_arg "$@"
START=$(date +%s)
IMAGES=/var/lib/libvirt/images

libvirtd_or_skip fidelity

# One run at a time per host (every run removes all vrfid-* domains), and
# the libvirt-real suite's lock: the agent suite takes it before it kills
# and restarts libvirtd.
one_run_at_a_time libvirt-real

umask 022
WORK=$(mktemp -d /tmp/vrfid.XXXXXX)
mkdir -p "$WORK/runs"

# Destroys and undefines every vrfid-* domain (with its NVRAM), removes
# the image files.
cleanup_fid() {
	local d
	for d in $(virsh_ list --all --name 2>/dev/null | grep '^vrfid-'); do
		virsh_ destroy "$d" >/dev/null 2>&1
		virsh_ undefine --nvram "$d" >/dev/null 2>&1 ||
			virsh_ undefine "$d" >/dev/null 2>&1
	done
	rm -f "$IMAGES"/vrfid-* "$NVRAM_DIR"/vrfid-*
}
on_exit() {
	cleanup_fid
	rm -rf "$WORK"
}
trap on_exit EXIT
trap 'exit 1' INT TERM HUP
cleanup_fid
responsive_or_bail fidelity vrfid "$WORK"

# Each case has a directory of its own: the output holds its domain only.
on_failure() {
	[ -n "$LAST_CMD" ] || return 0
	echo "#   last command: $LAST_CMD"
	echo "#   exit status: $RC"
	sed 's/^/#   stdout: /' "$LAST_OUT"
	sed 's/^/#   stderr: /' "$LAST_ERR"
}

# [FILE_TYPE=T] file NAME [STATE [MEMORY]] < BODY: writes
# $WORK/NAME/vrfid-NAME.yaml, a domain of type T (qemu unless given; none
# when empty) with one vCPU, and creates the image files it names.
file() {
	local f=$WORK/$1/vrfid-$1.yaml img type=${FILE_TYPE-qemu}
	mkdir -p "$WORK/$1"
	{
		echo "name: vrfid-$1"
		[ -z "$type" ] || echo "type: $type"
		printf 'state: %s\nmemory: %s\nvcpu: 1\n' "${2:-shutoff}" "${3:-64 MiB}"
		cat
	} >"$f"
	grep -o "$IMAGES/vrfid-[A-Za-z0-9._-]*" "$f" | while read -r img; do
		[ -e "$img" ] || truncate -s 1M "$img"
	done
}

# xp NAME EXPR [--inactive]: an XPath string of the domain's XML (live by
# default, which is the persistent one while it is shut off).
xp() {
	virsh_ dumpxml ${3:+"$3"} "vrfid-$1" 2>/dev/null |
		xmllint --xpath "string($2)" - 2>/dev/null
}
xpc() {
	xp "$1" "$2" --inactive
}

# converges NAME: the first apply exits 0, the second makes no libvirt
# write call, and plan exits 0.
converges() {
	local n=vrfid-$1
	vr apply -c "$URI" "$WORK/$1"
	check_eq "$n: first apply exits 0" 0 "$RC"
	vr apply -c "$URI" "$WORK/$1"
	check_eq "$n: second apply exits 0" 0 "$RC"
	check "$n: second apply makes 0 libvirt write calls" \
		out_has '; 0 libvirt write calls$'
	cp "$LAST_OUT" "$WORK/$1/apply2.out"
	vr plan -c "$URI" "$WORK/$1"
	check_eq "$n: plan exits 0" 0 "$RC"
}

# transition NAME WHAT [STATE] < BODY: NAME's file as it is is applied,
# then replaced by one of BODY (and STATE): its apply exits 0 and makes the
# change WHAT (an ERE of its output); a second apply makes no write call
# and plan exits 0.
transition() {
	local n=vrfid-$1 what=$2 state=${3:-shutoff}
	vr apply -c "$URI" "$WORK/$1"
	check_eq "$n: apply of the file before exits 0" 0 "$RC"
	file "$1" "$state"
	vr apply -c "$URI" "$WORK/$1"
	check_eq "$n: apply of the new file exits 0" 0 "$RC"
	check "$n: it makes the change ($what)" out_has "^$n: $what"
	vr apply -c "$URI" "$WORK/$1"
	check_eq "$n: second apply of the new file exits 0" 0 "$RC"
	check "$n: second apply of the new file makes 0 libvirt write calls" \
		out_has '; 0 libvirt write calls$'
	cp "$LAST_OUT" "$WORK/$1/apply2.out"
	vr plan -c "$URI" "$WORK/$1"
	check_eq "$n: plan after the new file exits 0" 0 "$RC"
}

# refused NAME ERE < BODY: validate exits 1 and names the file, line and
# column, with a message matching ERE.
refused() {
	local n=vrfid-$1 f
	file "$1"
	f=$WORK/$1/$n.yaml
	vr validate "$f"
	check_eq "$n: validate refuses it (exit 1)" 1 "$RC"
	check "$n: the message names $n.yaml:LINE:COL: $2" \
		err_has "^virt-reconcile: $f:[0-9]+:[0-9]+: .*$2"
}

# ------------------------------------------------ accepted: in sync at once

section "accepted files: in sync after one apply"

file cache <<EOF
devices:
  disk:
    - {source: {file: $IMAGES/vrfid-cache.img}, target: {dev: vda, bus: virtio}, driver: {name: qemu, type: raw, cache: default}}
EOF
converges cache
check_eq "vrfid-cache: no cache attribute (libvirt drops cache='default')" \
	0 "$(xpc cache 'count(//disk/driver/@cache)')"

file desc <<<"description: ''"
converges desc
check_eq "vrfid-desc: no <description>" 0 "$(xpc desc 'count(/domain/description)')"

file descrun running <<<"description: ''"
converges descrun
check_eq "vrfid-descrun is running" running "$(domstate vrfid-descrun)"
check_eq "vrfid-descrun: no <description> (live)" 0 "$(xp descrun 'count(/domain/description)')"
check "vrfid-descrun: not restart-required" \
	out_lacks '^vrfid-descrun: restart-required'

file sercon <<EOF
devices:
  serial: [pty]
  console: [{type: pty, target: {type: virtio}}]
EOF
converges sercon
check_eq "vrfid-sercon: consoles serial then virtio" "serial virtio" \
	"$(xpc sercon 'concat(//console[1]/target/@type, " ", //console[2]/target/@type)')"

file sernocon <<EOF
devices:
  serial: [pty]
  console: []
EOF
converges sernocon
check_eq "vrfid-sernocon: one serial, its console" "1 1 serial" \
	"$(xpc sernocon 'concat(count(//serial), " ", count(//console), " ", //console/target/@type)')"

file conpty <<EOF
devices:
  serial: []
  console: [pty]
EOF
converges conpty
check_eq "vrfid-conpty: console on serial port 0, serial port 0 added" "serial 0 0" \
	"$(xpc conpty 'concat(//console/target/@type, " ", //console/target/@port, " ", //serial/target/@port)')"

file port1 <<EOF
devices:
  serial: [{type: pty, target: {port: 1}}]
  console: [{type: pty, target: {type: serial, port: 1}}]
EOF
converges port1
check_eq "vrfid-port1: serial port 1, console port 1" "1 1" \
	"$(xpc port1 'concat(//serial/target/@port, " ", //console/target/@port)')"

file hostmodel <<<"cpu: {mode: host-model, model: {value: qemu64, fallback: forbid}}"
converges hostmodel
check_eq "vrfid-hostmodel: host-model, qemu64, fallback forbid" "host-model qemu64 forbid" \
	"$(xpc hostmodel 'concat(/domain/cpu/@mode, " ", /domain/cpu/model, " ", /domain/cpu/model/@fallback)')"

file spiceauto <<EOF
devices:
  graphics: [{type: spice, autoport: true, port: -1}]
EOF
converges spiceauto
check_eq "vrfid-spiceauto: spice, autoport, no port attribute" "spice yes 0" \
	"$(xpc spiceauto 'concat(//graphics/@type, " ", //graphics/@autoport, " ", count(//graphics/@port))')"

file spice <<EOF
devices:
  graphics: [{type: spice}]
EOF
converges spice
check_eq "vrfid-spice: one spice graphics" "1 spice" \
	"$(xpc spice 'concat(count(//graphics), " ", //graphics/@type)')"

file vnc5907 <<EOF
devices:
  graphics: [{type: vnc, autoport: false, port: 5907}]
EOF
converges vnc5907
check_eq "vrfid-vnc5907: vnc port 5907, autoport no" "5907 no" \
	"$(xpc vnc5907 'concat(//graphics/@port, " ", //graphics/@autoport)')"

file nofeat <<<"features: []"
converges nofeat
check_eq "vrfid-nofeat: no <features>" 0 "$(xpc nofeat 'count(/domain/features)')"

file noboot <<<"os: {boot: []}"
converges noboot
check_eq "vrfid-noboot: <boot dev='hd'/>" hd "$(xpc noboot '/domain/os/boot/@dev')"

file hdhd <<<"os: {boot: [hd, hd]}"
converges hdhd
check_eq "vrfid-hdhd: two <boot dev='hd'/>" 2 "$(xpc hdhd "count(/domain/os/boot[@dev='hd'])")"

file rawdisk <<EOF
devices:
  disk:
    - {source: {file: $IMAGES/vrfid-rawdisk-a.img}, target: {dev: vda, bus: virtio}}
xml:
  devices: "<disk type='file' device='disk'><source file='$IMAGES/vrfid-rawdisk-b.img'/><target dev='vdb' bus='virtio'/></disk>"
EOF
converges rawdisk
check_eq "vrfid-rawdisk: the raw vdb disk is there after the second apply" \
	"$IMAGES/vrfid-rawdisk-b.img" "$(xpc rawdisk "//disk[target/@dev='vdb']/source/@file")"
check_eq "vrfid-rawdisk: and vda" "$IMAGES/vrfid-rawdisk-a.img" \
	"$(xpc rawdisk "//disk[target/@dev='vda']/source/@file")"

file balloon running "128 MiB" <<<"currentMemory: 96 MiB"
converges balloon
check_eq "vrfid-balloon is running" running "$(domstate vrfid-balloon)"
check_eq "vrfid-balloon: persistent currentMemory 96 MiB" 98304 \
	"$(xpc balloon /domain/currentMemory)"
check "vrfid-balloon: the second apply sent no set-memory" \
	eval "! grep -q '^vrfid-balloon: set-memory' '$WORK/balloon/apply2.out'"
check "vrfid-balloon: plan notes the target sent" \
	out_has '^  ! balloon target 96 MiB sent'

# the rest of the lab's accepted files
file efi <<EOF
features: [acpi]
os: {machine: q35, firmware: efi}
EOF
converges efi
check_eq "vrfid-efi: firmware efi" efi "$(xpc efi /domain/os/@firmware)"

file loader <<EOF
features: [acpi]
os: {machine: q35, loader: {value: /usr/share/OVMF/OVMF_CODE_4M.fd, readonly: true, type: pflash}}
EOF
converges loader
check_eq "vrfid-loader: the loader given" /usr/share/OVMF/OVMF_CODE_4M.fd \
	"$(xpc loader /domain/os/loader)"

file clockvar <<<"clock: {offset: variable}"
converges clockvar
file clockvar2 <<<"clock: {offset: variable, adjustment: 3600, basis: localtime}"
converges clockvar2
check_eq "vrfid-clockvar2: variable 3600 localtime" "variable 3600 localtime" \
	"$(xpc clockvar2 'concat(/domain/clock/@offset, " ", /domain/clock/@adjustment, " ", /domain/clock/@basis)')"
file clocktz <<<"clock: {offset: timezone, timezone: Europe/Paris}"
converges clocktz
check_eq "vrfid-clocktz: timezone Europe/Paris" Europe/Paris "$(xpc clocktz /domain/clock/@timezone)"

for a in preserve coredump-destroy coredump-restart; do
	file "crash-$a" <<<"on_crash: $a"
	converges "crash-$a"
	check_eq "vrfid-crash-$a: on_crash $a" "$a" "$(xpc "crash-$a" /domain/on_crash)"
done

for bus in virtio scsi usb; do
	dev=sda
	[ $bus = virtio ] && dev=vda
	file "ro-$bus" <<EOF
devices:
  disk:
    - {source: {file: $IMAGES/vrfid-ro-$bus.img}, target: {dev: $dev, bus: $bus}, driver: {name: qemu, type: raw}, readonly: true}
EOF
	converges "ro-$bus"
	check_eq "vrfid-ro-$bus: read-only $bus disk" 1 "$(xpc "ro-$bus" 'count(//disk/readonly)')"
done

for m in pc q35; do
	for bus in sata scsi; do
		file "cd-$bus-$m" <<EOF
os: {machine: $m}
devices:
  disk:
    - {device: cdrom, source: {file: $IMAGES/vrfid-cd-$bus-$m.iso}, target: {dev: sdc, bus: $bus}}
EOF
		converges "cd-$bus-$m"
	done
done

file shared <<EOF
devices:
  disk:
    - {source: {file: $IMAGES/vrfid-shared.img}, target: {dev: vda, bus: virtio}, shareable: true}
EOF
converges shared
file sharedraw <<EOF
devices:
  disk:
    - {source: {file: $IMAGES/vrfid-sharedraw.img}, target: {dev: vda, bus: virtio}, driver: {name: qemu, type: raw}, shareable: true}
EOF
converges sharedraw
check_eq "vrfid-sharedraw: shareable" 1 "$(xpc sharedraw 'count(//disk/shareable)')"

# a block disk by its source alone (shut off: the device need not exist)
file blockdev <<EOF
devices:
  disk:
    - {source: {dev: /dev/vrfid-none}, target: {dev: vda, bus: virtio}}
EOF
converges blockdev
check_eq "vrfid-blockdev: type block" "block /dev/vrfid-none" \
	"$(xpc blockdev 'concat(//disk/@type, " ", //disk/source/@dev)')"

for t in -1 32767; do
	file "reboot$t" <<<"os: {bios: {rebootTimeout: $t}}"
	converges "reboot$t"
	check_eq "vrfid-reboot$t: rebootTimeout $t" "$t" "$(xpc "reboot$t" /domain/os/bios/@rebootTimeout)"
done

# ------------------------------------------------------------ transitions

section "transitions"

file machine <<EOF
os: {machine: pc}
features: [acpi]
EOF
transition machine 'redefine: os.machine .* → q35; dropped: the controllers' <<EOF
os: {machine: q35}
features: [acpi]
EOF
check_eq "vrfid-machine: pc → q35 gives pc-q35-7.2" pc-q35-7.2 "$(xpc machine /domain/os/type/@machine)"
check_eq "vrfid-machine: with a pcie-root" 1 "$(xpc machine "count(//controller[@model='pcie-root'])")"
transition machine 'redefine: os.machine .* → pc; dropped: the controllers' <<EOF
os: {machine: pc}
features: [acpi]
EOF
check_eq "vrfid-machine: q35 → pc gives pc-i440fx-7.2" pc-i440fx-7.2 "$(xpc machine /domain/os/type/@machine)"
check_eq "vrfid-machine: with a pci-root" 1 "$(xpc machine "count(//controller[@model='pci-root'])")"

# q35 is pc-q35-7.2 on this host: a domain of an older q35 is not in sync.
file q35old <<EOF
os: {machine: pc-q35-5.2}
features: [acpi]
EOF
vr apply -c "$URI" "$WORK/q35old"
check_eq "vrfid-q35old: apply of machine pc-q35-5.2 exits 0" 0 "$RC"
file q35old <<EOF
os: {machine: q35}
features: [acpi]
EOF
vr apply -c "$URI" "$WORK/q35old"
check_eq "vrfid-q35old: apply of machine q35 exits 0" 0 "$RC"
check "vrfid-q35old: pc-q35-5.2 → q35 is redefined (the host's q35 is pc-q35-7.2)" \
	out_has '^vrfid-q35old: redefine: os.machine pc-q35-5.2 → q35'

file bootorder <<EOF
os: {boot: [hd]}
devices:
  disk:
    - {source: {file: $IMAGES/vrfid-bootorder.img}, target: {dev: vda, bus: virtio}}
EOF
transition bootorder 'redefine: .*dropped: os.boot' <<EOF
devices:
  disk:
    - {source: {file: $IMAGES/vrfid-bootorder.img}, target: {dev: vda, bus: virtio}, boot: 1}
EOF
check_eq "vrfid-bootorder: disk boot order 1, no <boot dev>" "1 0" \
	"$(xpc bootorder 'concat(//disk/boot/@order, " ", count(/domain/os/boot))')"
transition bootorder 'redefine: os.boot' <<EOF
os: {boot: [hd]}
devices:
  disk:
    - {source: {file: $IMAGES/vrfid-bootorder.img}, target: {dev: vda, bus: virtio}}
EOF
check_eq "vrfid-bootorder: <boot dev='hd'/> again, no disk boot order" "hd 0" \
	"$(xpc bootorder 'concat(/domain/os/boot/@dev, " ", count(//disk/boot))')"

for st in shutoff running; do
	n=eject-$st
	file $n $st <<EOF
os: {machine: pc}
devices:
  disk:
    - {device: cdrom, source: {file: $IMAGES/vrfid-$n.iso}, target: {dev: hdc, bus: ide}}
EOF
	transition $n 'redefine: devices.disk' $st <<EOF
os: {machine: pc}
devices:
  disk:
    - {device: cdrom, target: {dev: hdc, bus: ide}}
EOF
	check_eq "vrfid-$n: the cdrom has no <source> after the eject" 0 \
		"$(xpc $n "count(//disk[@device='cdrom']/source)")"
	check_eq "vrfid-$n: the cdrom is still there" 1 \
		"$(xpc $n "count(//disk[@device='cdrom'])")"
done
check_eq "vrfid-eject-running is still running" running "$(domstate vrfid-eject-running)"
check "vrfid-eject-running: ejected live (update-device), in sync" \
	out_has '^vrfid-eject-running: in-sync'
check_eq "vrfid-eject-running: the running guest's cdrom has no medium" "" \
	"$(xp eject-running "string(//disk[@device='cdrom']/source/@file)")"

# ---------------------------------------------------- refused by validate

section "refused by validate"

refused cdromrw "a cdrom is always read-only" <<EOF
os: {machine: pc}
devices:
  disk:
    - {device: cdrom, source: {file: $IMAGES/vrfid-cdromrw.iso}, target: {dev: hdc, bus: ide}, readonly: false}
EOF
refused conport1 "give a serial port 1" <<EOF
devices:
  console: [{type: pty, target: {type: serial, port: 1}}]
EOF
refused match-host-model "'cpu.match' applies to mode custom" <<<"cpu: {mode: host-model, match: exact}"
refused match-maximum "'cpu.match' applies to mode custom" <<<"cpu: {mode: maximum, match: exact}"
refused match-passthrough "'cpu.match' applies to mode custom" <<<"cpu: {mode: host-passthrough, match: minimum}"
refused model-passthrough "'cpu.model' does not apply to mode host-passthrough" <<<"cpu: {mode: host-passthrough, model: qemu64}"
refused menu-timeout "'timeout' applies to a boot menu that is enabled" <<<"os: {bootmenu: {enable: false, timeout: 3000}}"
refused vnc-auto-5905 "autoport: true" <<EOF
devices:
  graphics: [{type: vnc, autoport: true, port: 5905}]
EOF
refused vnc-noauto-1 "'autoport: false' needs a port" <<EOF
devices:
  graphics: [{type: vnc, autoport: false, port: -1}]
EOF
refused vnc-5000 "5900 to 65535" <<EOF
devices:
  graphics: [{type: vnc, autoport: false, port: 5000}]
EOF
refused boot5 "at most 4 devices" <<<"os: {boot: [hd, cdrom, network, fd, hd]}"
refused check-full "'cpu.check' needs a 'cpu.model'" <<<"cpu: {check: full}"
refused check-partial "'cpu.check' needs a 'cpu.model'" <<<"cpu: {check: partial}"
refused efi-loader "with 'firmware: efi' libvirt picks the loader" <<EOF
features: [acpi]
os: {machine: q35, firmware: efi, loader: {value: /usr/share/OVMF/OVMF_CODE_4M.fd, readonly: true, type: pflash}}
EOF
refused efi-loader-ro "with 'firmware: efi' libvirt picks the loader" <<EOF
features: [acpi]
os: {machine: q35, firmware: efi, loader: {readonly: true}}
EOF
refused efi-loader-type "with 'firmware: efi' libvirt picks the loader" <<EOF
features: [acpi]
os: {machine: q35, firmware: efi, loader: {type: pflash}}
EOF
refused efi-loader-path "with 'firmware: efi' libvirt picks the loader" <<EOF
features: [acpi]
os: {machine: q35, firmware: efi, loader: /usr/share/OVMF/OVMF_CODE_4M.fd}
EOF
refused clock-tz "'offset: timezone' needs 'clock.timezone'" <<<"clock: {offset: timezone}"
refused clock-abs "'offset: absolute' needs 'clock.start'" <<<"clock: {offset: absolute}"
refused clock-tz-utc "'clock.timezone' applies to 'offset: timezone'" <<<"clock: {offset: utc, timezone: Europe/Paris}"
for ev in on_poweroff:preserve on_reboot:preserve on_poweroff:rename-restart \
	on_reboot:rename-restart on_crash:rename-restart; do
	e=${ev%%:*}
	a=${ev#*:}
	refused "$e-$a" "no '$a' action for '$e'" <<<"$e: $a"
	# without a type (kvm or qemu: libvirt's QEMU driver either way)
	FILE_TYPE='' refused "$e-$a-notype" "no '$a' action for '$e'" <<<"$e: $a"
done
for bd in sata:sda ide:hda; do
	bus=${bd%:*}
	refused "ro-$bus" "QEMU has no read-only $bus disks" <<EOF
os: {machine: pc}
devices:
  disk:
    - {source: {file: $IMAGES/vrfid-ro-$bus.img}, target: {dev: ${bd#*:}, bus: $bus}, driver: {name: qemu, type: raw}, readonly: true}
EOF
done
for m in pc q35; do
	refused "cd-virtio-$m" "a cdrom cannot be on virtio" <<EOF
os: {machine: $m}
devices:
  disk:
    - {device: cdrom, source: {file: $IMAGES/vrfid-cd-virtio.iso}, target: {dev: vdc, bus: virtio}}
EOF
done
refused ide-disk-q35 "machine q35 has no IDE bus" <<EOF
os: {machine: q35}
devices:
  disk:
    - {source: {file: $IMAGES/vrfid-ide-q35.img}, target: {dev: hda, bus: ide}, driver: {name: qemu, type: raw}}
EOF
refused ide-cdrom-q35 "machine q35 has no IDE bus" <<EOF
os: {machine: q35}
devices:
  disk:
    - {device: cdrom, source: {file: $IMAGES/vrfid-ide-q35.iso}, target: {dev: hdc, bus: ide}}
EOF
refused shared-qcow2 "QEMU shares only raw disks" <<EOF
devices:
  disk:
    - {source: {file: $IMAGES/vrfid-shared-qcow2.img}, target: {dev: vda, bus: virtio}, driver: {name: qemu, type: qcow2}, shareable: true}
EOF
for t in 32768 65535; do
	refused "reboot$t" "from -1 to 32767" <<<"os: {bios: {rebootTimeout: $t}}"
done
for f in ps2 ras async-teardown; do
	refused "feature-$f" "unknown key '$f' in 'features'" <<<"features: [$f]"
done
# ---------------------------------------------------------------- everyday guests
# The examples of a Linux cloud guest and a Windows 11 guest, as
# virt-install and virt-manager make them, without xml:
echo "# everyday guests (at $(($(date +%s) - START)) s)"
for ex in cloud01 win11; do
	mkdir -p "$WORK/$ex"
	sed "s/^name: .*/name: vrfid-$ex/" "$HERE/../../contrib/examples/$ex.yaml" \
		>"$WORK/$ex/vrfid-$ex.yaml"
	converges "$ex"
done
check_eq "vrfid-cloud01: the guest agent's channel" org.qemu.guest_agent.0 \
	"$(xpc cloud01 /domain/devices/channel/target/@name)"
check_eq "vrfid-cloud01: the RNG's source" /dev/urandom \
	"$(xpc cloud01 /domain/devices/rng/backend)"
check_eq "vrfid-win11: the TPM" tpm-crb "$(xpc win11 /domain/devices/tpm/@model)"
check_eq "vrfid-win11: secure boot asked for" yes \
	"$(xpc win11 "/domain/os/firmware/feature[@name='secure-boot']/@enabled")"
check_eq "vrfid-win11: Hyper-V's spinlocks" 8191 \
	"$(xpc win11 /domain/features/hyperv/spinlocks/@retries)"

# ---------------------------------------------------------------- summary

echo "# took $(($(date +%s) - START)) s"
echo "fidelity: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
