#!/bin/bash
# Volumes and a cloud-init seed on the system libvirtd with QEMU
# (qemu:///system): one file makes a new VM from a base image with nothing
# downloaded. The guest (tests/real/guest: the host's kernel and a busybox
# initramfs) boots from a qcow2 overlay the agent makes over a base image,
# finds the seed the agent builds and uploads, and prints its user-data on
# a file-backed serial port. Then: a second apply writes nothing; a larger
# capacity grows the running guest's disk live; a smaller one is refused
# with the file's line; a changed user-data rewrites the seed and swaps
# the running guest's medium; a removed file keeps its volumes under
# --prune and loses them with --prune --delete-storage; a volume that is
# not the agent's, a missing base image and a full pool are refused before
# any call; a failed define removes the volume it made; a clone and an
# empty raw volume are made. Usage: storage.sh PATH-TO-virt-reconcile
#
# Its domains are named vrsto-*, its pool vrsto-pool (a directory pool,
# /var/lib/libvirt/vrsto-pool, made here and removed at exit); the guest's
# kernel and initramfs go to /var/lib/libvirt/vrsto-guest. Exit status: 0
# all checks passed, 1 a check failed, 77 (skip) when libvirtd does not
# answer and cannot be started.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/real/lib.sh
. "$HERE/lib.sh"
vr_arg "$@"
START=$(date +%s)
POOL=vrsto-pool
POOL_DIR=/var/lib/libvirt/$POOL
GUEST=/var/lib/libvirt/vrsto-guest

libvirtd_or_skip storage
one_run_at_a_time libvirt-real

umask 022
WORK=$(mktemp -d /tmp/vrsto.XXXXXX)
mkdir -p "$WORK/runs" "$WORK/d"

cleanup_sto() {
	local d
	for d in $(virsh_ list --all --name 2>/dev/null | grep '^vrsto-'); do
		virsh_ destroy "$d" >/dev/null 2>&1
		virsh_ undefine "$d" >/dev/null 2>&1
	done
	virsh_ pool-destroy "$POOL" >/dev/null 2>&1
	virsh_ pool-undefine "$POOL" >/dev/null 2>&1
	rm -rf "$POOL_DIR" "$GUEST"
}
on_exit() {
	cleanup_sto
	rm -rf "$WORK"
}
trap on_exit EXIT
trap 'exit 1' INT TERM HUP
cleanup_sto

section "the guest, and the pool from a kind: pool file"
mkdir -p "$GUEST"
if ! "$HERE/guest/mkguest.sh" "$GUEST" >"$WORK/mkguest.log" 2>&1; then
	not_ok "the test guest is built (tests/real/guest/mkguest.sh)"
	sed 's/^/#   /' "$WORK/mkguest.log"
	exit 1
fi
cat >"$WORK/d/$POOL.yaml" <<EOF
kind: pool
name: $POOL
type: dir
target: {path: $POOL_DIR}
autostart: true
EOF
vr apply -c "$URI" "$WORK/d"
check_eq "the pool file applies" 0 "$RC"
check "apply made the pool's calls in order" \
	sh -c "awk '/^pool $POOL: / { print \$3 }' '$LAST_OUT' | tr '\n' ' ' |
	       grep -qx 'define-pool: build-pool: start-pool: set-pool-autostart: '"
check_eq "the pool is active and autostarted" "running yes" \
	"$(virsh_ pool-info "$POOL" | awk '/^State:/ { s = $2 } /^Autostart:/ { a = $2 } END { print s, a }')"
check "its directory was built" test -d "$POOL_DIR"
vr apply -c "$URI" "$WORK/d"
check "a second apply makes 0 write calls" out_has '; 0 libvirt write calls$'
mv "$GUEST/base.qcow2" "$POOL_DIR/base.qcow2"

vol_exists() {
	virsh_ vol-info --pool "$POOL" "$1" >/dev/null 2>&1
}
vol_capacity() {
	virsh_ vol-dumpxml --pool "$POOL" "$1" 2>/dev/null |
		xmllint --xpath 'string(/volume/capacity)' - 2>/dev/null
}

N=vrsto-g1
F=$WORK/d/$N.yaml
CONSOLE=$GUEST/console.log
MARKER=vrsto-marker-$$

# g1 CAPACITY MARKER [EXTRA-LINE]: the guest's file.
g1() {
	cat >"$F" <<EOF
name: $N
type: qemu
memory: 256 MiB
vcpu: 1
features: [acpi]
${3:-}
os:
  type: hvm
  arch: x86_64
  machine: pc
  kernel: $GUEST/vmlinuz
  initrd: $GUEST/initrd.img
  cmdline: console=ttyS0 quiet
on_reboot: destroy
devices:
  disks:
    - source: {pool: $POOL, volume: $N.qcow2}
      driver: {name: qemu, type: qcow2}
      target: {dev: vda, bus: virtio}
      volume:
        capacity: $1
        backingStore: {path: $POOL_DIR/base.qcow2, format: qcow2}
  serials:
    - type: file
      source: {path: $CONSOLE}
  memballoon: {model: none}
cloudInit:
  user-data: |
    #cloud-config
    write_files: [{path: /etc/marker, content: $2}]
EOF
}

section "a new VM from one file"
g1 "256 MiB" "$MARKER"
vr validate "$F"
check_eq "$N: the file validates" 0 "$RC"
vr plan -c "$URI" "$WORK/d"
check "$N: plan makes the volume, then defines, writes the seed, starts" \
	sh -c "plan=\$(awk '/^  \\+/ { sub(/:\$/, \"\", \$2); print \$2 }' '$LAST_OUT' | tr '\n' ' ');
	       [ \"\$plan\" = 'create-volume define write-seed set-mark start ' ]"
T0=$(date +%s)
vr apply -c "$URI" "$WORK/d"
check_eq "$N: apply exits 0" 0 "$RC"
check "$N: the overlay volume exists" vol_exists "$N.qcow2"
check "$N: the seed volume exists" vol_exists "$N-cidata.iso"
check_eq "$N: the overlay's backing store is the base image" \
	"$POOL_DIR/base.qcow2" \
	"$(virsh_ vol-dumpxml --pool "$POOL" "$N.qcow2" |
		xmllint --xpath 'string(/volume/backingStore/path)' -)"
check_eq "$N: running" running "$(domstate "$N")"
check "$N: the marker is on the serial console within 60 s" \
	wait_for 60 grep -q "$MARKER" "$CONSOLE"
note "marker seen $(($(date +%s) - T0)) s after apply began"
check "$N: the guest read the seed's meta-data (instance-id is the UUID)" \
	grep -q "instance-id: $(virsh_ domuuid "$N")" "$CONSOLE"
vr apply -c "$URI" "$WORK/d"
check "$N: a second apply makes 0 write calls" \
	out_has '; 0 libvirt write calls$'

section "growing the disk of the running guest"
ID=$(domid "$N")
g1 "512 MiB" "$MARKER"
vr apply -c "$URI" "$WORK/d"
check "$N: the volume is grown live (virDomainBlockResize)" \
	out_has "^$N: resize-volume: $POOL/$N.qcow2 capacity 256 MiB → 512 MiB"
check_eq "$N: domblkinfo shows the new capacity" 536870912 \
	"$(virsh_ domblkinfo "$N" vda | awk '/^Capacity:/ { print $2 }')"
check_eq "$N: the domain id is unchanged" "$ID" "$(domid "$N")"
check "$N: the guest sees its disk grown" \
	wait_for 20 grep -q "vr-guest: vda 536870912" "$CONSOLE"
vr apply -c "$URI" "$WORK/d"
check "$N: a second apply makes 0 write calls" \
	out_has '; 0 libvirt write calls$'

section "a smaller capacity"
g1 "128 MiB" "$MARKER"
LINE=$(grep -n 'capacity:' "$F" | cut -d: -f1)
vr plan -c "$URI" "$WORK/d"
check_eq "$N: plan exits 1" 1 "$RC"
check "$N: the refusal names the file, its line and 'never shrinks'" \
	out_has "$N.yaml:$LINE:[0-9]+: volume.capacity 128 MiB is smaller .* never shrinks"
vr apply -c "$URI" "$WORK/d"
check_eq "$N: apply exits 1" 1 "$RC"
check "$N: apply makes no call" out_has '; 0 libvirt write calls$'
check_eq "$N: the volume keeps its capacity" 536870912 "$(vol_capacity "$N.qcow2")"

section "a changed seed"
g1 "512 MiB" "$MARKER-two"
vr plan -c "$URI" "$WORK/d"
check "$N: plan rewrites the seed" \
	out_has "^  \\+ write-seed: $POOL/$N-cidata.iso: its content changed"
check "$N: plan swaps the running guest's medium and says when cloud-init reads it" \
	out_has "insert the new seed \\(live\\); cloud-init reads it at the next boot"
vr apply -c "$URI" "$WORK/d"
check_eq "$N: apply exits 0" 0 "$RC"
check "$N: the seed holds the new user-data" \
	grep -aq "$MARKER-two" "$POOL_DIR/$N-cidata.iso"
check_eq "$N: the running guest's CD-ROM has the seed" "$N-cidata.iso" \
	"$(virsh_ dumpxml "$N" | xmllint --xpath 'string(//disk[@device="cdrom"]/source/@volume)' -)"
check_eq "$N: the domain id is unchanged" "$ID" "$(domid "$N")"
vr apply -c "$URI" "$WORK/d"
check "$N: a second apply makes 0 write calls" \
	out_has '; 0 libvirt write calls$'

section "a removed file: --prune keeps the volumes"
mv "$F" "$WORK/$N.yaml"
# a file stays, so that the directory is not empty (nothing is pruned then)
cat >"$WORK/d/vrsto-keep.yaml" <<EOF
name: vrsto-keep
type: qemu
memory: 64 MiB
vcpu: 1
state: shutoff
EOF
vr apply -c "$URI" --prune --shutdown-timeout 1 "$WORK/d"
check "$N: --prune undefines the domain" sh -c "! virsh -q -c '$URI' dominfo '$N' >/dev/null 2>&1"
check "$N: its volume stays" vol_exists "$N.qcow2"
check "$N: its seed stays" vol_exists "$N-cidata.iso"

section "volumes that are not the agent's"
mv "$WORK/$N.yaml" "$F"
vr plan -c "$URI" "$WORK/d"
check "$N: a volume the domain's mark does not list is refused" \
	out_has "a volume '$N.qcow2' exists in pool '$POOL' that virt-reconcile did not make"
g1 "512 MiB" "$MARKER-two" "adopt: true"
vr apply -c "$URI" "$WORK/d"
check_eq "$N: adopt: true takes them" 0 "$RC"
check_eq "$N: running again" running "$(domstate "$N")"

section "--prune --delete-storage"
# another program's domain uses the seed: that volume stays
cat >"$WORK/other.xml" <<EOF
<domain type='qemu'><name>vrsto-other</name><memory>65536</memory>
<os><type arch='x86_64'>hvm</type></os><devices>
<disk type='file' device='cdrom'><source file='$POOL_DIR/$N-cidata.iso'/>
<target dev='hdc' bus='ide'/><readonly/></disk></devices></domain>
EOF
virsh_ define "$WORK/other.xml" >/dev/null
rm "$F"
vr apply -c "$URI" --prune --delete-storage --shutdown-timeout 1 "$WORK/d"
check_eq "$N: apply exits 0" 0 "$RC"
check "$N: the domain is gone" sh -c "! virsh -q -c '$URI' dominfo '$N' >/dev/null 2>&1"
check "$N: its volume is gone" sh -c "! virsh -q -c '$URI' vol-info --pool '$POOL' '$N.qcow2' >/dev/null 2>&1"
check "$N: its seed, which another domain uses, stays" vol_exists "$N-cidata.iso"
check "$N: apply says why" \
	sh -c "grep -q 'volume $POOL/$N-cidata.iso kept: the domain vrsto-other uses it' '$LAST_OUT' '$LAST_ERR'"
virsh_ undefine vrsto-other >/dev/null
virsh_ vol-delete --pool "$POOL" "$N-cidata.iso" >/dev/null
check "the base image stays" vol_exists base.qcow2

section "refused before any call"
M=vrsto-g2
F2=$WORK/d/$M.yaml
# g2 VOLUME-LINES...: a shut-off domain with one disk made as said.
g2() {
	{
		cat <<EOF
name: $M
type: qemu
memory: 64 MiB
vcpu: 1
state: shutoff
devices:
  disks:
    - source: {pool: $POOL, volume: $M.img}
      target: {dev: vda, bus: virtio}
EOF
		printf '      %s\n' "$@"
	} >"$F2"
}
g2 "driver: {name: qemu, type: qcow2}" "volume:" \
	"  capacity: 64 MiB" "  backingStore: {path: $POOL_DIR/nothing.qcow2}"
vr apply -c "$URI" "$WORK/d"
check "$M: a missing base image is refused with its line" \
	err_has "$M.yaml:13:[0-9]+: the base image $POOL_DIR/nothing.qcow2 does not exist"
check "$M: nothing was made" sh -c "! virsh -q -c '$URI' dominfo '$M' >/dev/null 2>&1 && ! virsh -q -c '$URI' vol-info --pool '$POOL' '$M.img' >/dev/null 2>&1"
g2 "driver: {name: qemu, type: raw}" "volume: {capacity: 1000 TiB}"
vr apply -c "$URI" "$WORK/d"
check "$M: a full pool is refused" \
	err_has "$M.yaml:[0-9]+:[0-9]+: the storage pool '$POOL' has .* free; the volume $M.img needs 1000 TiB"
check "$M: nothing was made" sh -c "! virsh -q -c '$URI' vol-info --pool '$POOL' '$M.img' >/dev/null 2>&1"
virsh_ vol-create-as "$POOL" "$M.img" 1M >/dev/null
g2 "driver: {name: qemu, type: raw}" "volume: {capacity: 16 MiB}"
vr apply -c "$URI" "$WORK/d"
check "$M: a name taken by a volume that is not ours is refused" \
	err_has "a volume '$M.img' exists in pool '$POOL' that virt-reconcile did not make"
check_eq "$M: that volume is untouched" 1048576 "$(vol_capacity "$M.img")"
virsh_ vol-delete --pool "$POOL" "$M.img" >/dev/null

section "a failed define removes the volume it made"
g2 "driver: {name: qemu, type: raw}" "volume: {capacity: 16 MiB}"
sed -i 's/^vcpu: 1$/vcpu: 1\nos: {type: hvm, machine: pc-i440fx-0.0}/' "$F2"
vr apply -c "$URI" "$WORK/d"
check_eq "$M: apply exits 1" 1 "$RC"
check "$M: the define failed" err_has "$M: virDomainDefineXMLFlags: "
check "$M: the volume made for it is gone again" \
	sh -c "! virsh -q -c '$URI' vol-info --pool '$POOL' '$M.img' >/dev/null 2>&1"

section "an empty raw volume and a clone"
g2 "driver: {name: qemu, type: raw}" "volume: {capacity: 16 MiB}"
cat >>"$F2" <<EOF
    - source: {pool: $POOL, volume: $M-copy.qcow2}
      driver: {name: qemu, type: qcow2}
      target: {dev: vdb, bus: virtio}
      volume:
        clone: {pool: $POOL, volume: base.qcow2}
EOF
vr apply -c "$URI" "$WORK/d"
check_eq "$M: apply exits 0" 0 "$RC"
check_eq "$M: the empty volume has its capacity" 16777216 "$(vol_capacity "$M.img")"
check_eq "$M: the clone has its base's capacity" "$(vol_capacity base.qcow2)" \
	"$(vol_capacity "$M-copy.qcow2")"
check_eq "$M: the clone has no backing store" "" \
	"$(virsh_ vol-dumpxml --pool "$POOL" "$M-copy.qcow2" |
		xmllint --xpath 'string(/volume/backingStore/path)' - 2>/dev/null)"
vr apply -c "$URI" "$WORK/d"
check "$M: a second apply makes 0 write calls" \
	out_has '; 0 libvirt write calls$'

section "the agent follows a seed's file beside the YAML file"
K=vrsto-g3
cat >"$WORK/d/$K.yaml" <<EOF
name: $K
type: qemu
memory: 64 MiB
vcpu: 1
state: shutoff
cloudInit:
  pool: $POOL
  user-data: {file: $K.user-data}
EOF
printf '#cloud-config\nhostname: first\n' >"$WORK/d/$K.user-data"
chmod 755 "$WORK/d"
timeout 120 "$VR" run -c "$URI" --status-file "$WORK/status.json" "$WORK/d" \
	>"$WORK/agent.log" 2>&1 &
AGENT=$!
check "$K: the agent writes the seed" \
	wait_for 30 grep -q "$K (.*): set-mark (config): cloud-init seed written" "$WORK/agent.log"
printf '#cloud-config\nhostname: second\n' >"$WORK/d/$K.user-data.new"
mv "$WORK/d/$K.user-data.new" "$WORK/d/$K.user-data"
check "$K: a changed seed file is picked up at once" \
	wait_for 30 grep -q "$K (.*): write-seed: $POOL/$K-cidata.iso: its content changed" "$WORK/agent.log"
check "$K: the seed holds the file's new content" \
	wait_for 10 grep -aq "hostname: second" "$POOL_DIR/$K-cidata.iso"
kill "$AGENT" 2>/dev/null
wait "$AGENT" 2>/dev/null

echo "storage: $PASS passed, $FAIL failed ($(($(date +%s) - START)) s)"
[ "$FAIL" -eq 0 ]
