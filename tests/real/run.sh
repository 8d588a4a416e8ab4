#!/bin/bash
# The libvirt-real suite: virt-reconcile against the system libvirtd with
# QEMU (qemu:///system), with real, diskless guests that boot to their
# firmware. Usage: run.sh PATH-TO-virt-reconcile
#
# Every domain it makes is named vrtest-*; all of them are removed at the
# start and at exit, and a lock keeps two runs on one host apart. apply
# --prune acts on every virt-reconcile domain of the connection: its
# checks are skipped (and say why) when other programs' virt-reconcile
# domains are defined on this libvirtd. Exit status: 0 all checks passed,
# 1 a check failed, 77 (skip) when libvirtd does not answer and cannot be
# started.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/real/lib.sh
. "$HERE/lib.sh"
vr_arg "$@"
START=$(date +%s)

# ---------------------------------------------------------------- setup

libvirtd_or_skip libvirt-real

# One run at a time per host: every run removes all vrtest-* domains.
one_run_at_a_time libvirt-real

# plan and apply refuse directories and files that group or others may
# write: what this suite writes must not depend on the caller's umask.
umask 022
WORK=$(mktemp -d /tmp/vrtest.XXXXXX)
mkdir -p "$WORK/runs"
on_exit() {
	cleanup_domains
	rm -rf "$WORK"
}
trap on_exit EXIT
trap 'exit 1' INT TERM HUP
cleanup_domains
# A libvirtd that takes seconds per call (see kvm_diagnosis in tap.sh)
# would only run the suite into its timeout.
responsive_or_bail libvirt-real vrtest "$WORK"

# The agent takes the best type the connection offers (kvm, else qemu).
# When kvm is offered but cannot run guests here, the files say qemu.
probe_type vrtest "$WORK"
echo "# domain type: $TYPE; virt-reconcile: $VR"

# yaml FILE < TEXT: writes a desired-state file (with the type when kvm
# cannot be used).
yaml() {
	{
		cat
		[ -z "$TYPE_LINE" ] || echo "$TYPE_LINE"
	} >"$1"
}

# UEFI guests (q35, acpi, OVMF) always run under TCG (type: qemu): OVMF
# does not boot under nested KVM on every host (it pauses with a KVM
# internal error), and these checks are about pruning, not KVM.
uefi_yaml() {
	cat >"$1" <<EOF
name: $2
type: qemu
memory: 128 MiB
vcpu: 1
features: [acpi]
os:
  machine: q35
  loader: {value: /usr/share/OVMF/OVMF_CODE_4M.fd, readonly: true, type: pflash}
  nvram: {value: $NVRAM_DIR/$2_VARS.fd, template: /usr/share/OVMF/OVMF_VARS_4M.fd}
EOF
}

MAIN=$WORK/main
mkdir -p "$MAIN"

# ------------------------------------------- define and start real guests

section "define and start"
yaml "$MAIN/vrtest-a.yaml" <<'EOF'
name: vrtest-a
memory: 128 MiB
vcpu: {value: 4, current: 1}
EOF
yaml "$MAIN/vrtest-b.yaml" <<'EOF'
name: vrtest-b
state: shutoff
autostart: true
memory: 64 MiB
vcpu: 1
EOF
yaml "$MAIN/vrtest-m.yaml" <<'EOF'
name: vrtest-m
memory: 128 MiB
vcpu: 1
EOF
yaml "$MAIN/vrtest-r.yaml" <<'EOF'
name: vrtest-r
memory: 64 MiB
vcpu: {value: 2, current: 1}
EOF
yaml "$MAIN/vrtest-o.yaml" <<'EOF'
name: vrtest-o
title: vrtest original title
autostart: true
memory: 128 MiB
vcpu: {value: 4, current: 2}
EOF

vr plan -c "$URI" "$MAIN"
check_eq "plan before the first apply exits 2 (changes pending)" 2 "$RC"
check "plan lists define and start for vrtest-a" \
	eval 'plan_block vrtest-a | grep -q "+ define" && plan_block vrtest-a | grep -q "+ start"'
check "plan made no change (vrtest-a not defined)" eval '! defined vrtest-a'

vr apply -c "$URI" "$MAIN"
check_eq "apply defines and starts the guests: exit 0" 0 "$RC"
for d in vrtest-a vrtest-m vrtest-r vrtest-o; do
	check_eq "$d is running" running "$(domstate $d)"
	check "$d carries the virt-reconcile mark" marked $d
done
check_eq "vrtest-b (state: shutoff) is defined and shut off" "shut off" "$(domstate vrtest-b)"
check_eq "vrtest-b autostart enabled" enable "$(dominfo_field vrtest-b Autostart)"
check_eq "vrtest-o autostart enabled" enable "$(dominfo_field vrtest-o Autostart)"
check_eq "vrtest-a autostart disabled" disable "$(dominfo_field vrtest-a Autostart)"
check_eq "vrtest-a maximum vCPUs (config) 4" 4 "$(vcpus vrtest-a --maximum --config)"
check_eq "vrtest-a current vCPUs (live) 1" 1 "$(vcpus vrtest-a --current --live)"
check_eq "vrtest-a max memory 131072 KiB" "131072 KiB" "$(dominfo_field vrtest-a 'Max memory')"
check_eq "vrtest-a domain type" "$TYPE" "$(xpath_config vrtest-a /domain/@type)"

vr plan -c "$URI" "$MAIN"
check_eq "plan after apply exits 0 (in sync)" 0 "$RC"
for d in vrtest-a vrtest-b vrtest-m vrtest-r vrtest-o; do
	check "plan: $d in-sync" out_has "^$d: in-sync"
done

# ------------------------------------ a second apply writes nothing at all

section "idempotence"
declare -A FID ID
for d in vrtest-a vrtest-b vrtest-m vrtest-r vrtest-o; do
	FID[$d]=$(file_id "$CONF_DIR/$d.xml")
	ID[$d]=$(domid $d)
done
check_ne "config file $CONF_DIR/vrtest-a.xml exists" missing "${FID[vrtest-a]}"
vr apply -c "$URI" "$MAIN"
check_eq "second apply exits 0" 0 "$RC"
check "second apply says 0 libvirt write calls" out_has '; 0 libvirt write calls$'
check "second apply makes no call for a vrtest domain" \
	out_lacks '^vrtest-[^:]*: (define|redefine|set-|start|shutdown|undefine)'
for d in vrtest-a vrtest-b vrtest-m vrtest-r vrtest-o; do
	check_eq "$d.xml unchanged (sha256, mtime)" "${FID[$d]}" "$(file_id "$CONF_DIR/$d.xml")"
	check_eq "$d domain id unchanged" "${ID[$d]}" "$(domid $d)"
done

# ----------------------------------------------------- live vCPU hotplug

section "live vCPU hotplug"
id_a=$(domid vrtest-a)
yaml "$MAIN/vrtest-a.yaml" <<'EOF'
name: vrtest-a
memory: 128 MiB
vcpu: {value: 4, current: 3}
EOF
vr plan -c "$URI" "$MAIN"
check_eq "plan after vcpu.current 1 → 3 exits 2" 2 "$RC"
check "plan lists set-vcpus live 3" eval 'plan_block vrtest-a | grep -q "+ set-vcpus live 3"'
vr apply -c "$URI" "$MAIN"
check_eq "apply vcpu.current 3: exit 0" 0 "$RC"
check "apply made the live set-vcpus call" out_has '^vrtest-a: set-vcpus \(live\)'
check_eq "vrtest-a same domain id after hotplug" "$id_a" "$(domid vrtest-a)"
check_eq "vrtest-a current vCPUs (live) 3" 3 "$(vcpus vrtest-a --current --live)"
check_eq "vrtest-a current vCPUs (config) 3" 3 "$(vcpus vrtest-a --current --config)"
check_eq "domstats vcpu.current=3" 3 "$(domstat vrtest-a --vcpu vcpu.current)"
check_eq "dominfo CPU(s) 3" 3 "$(dominfo_field vrtest-a 'CPU(s)')"
vr plan -c "$URI" "$MAIN"
check_eq "plan after hotplug exits 0" 0 "$RC"
check "plan: vrtest-a in-sync" out_has '^vrtest-a: in-sync'

# ------------------------------- a live vCPU decrease QEMU refuses (unplug)

section "refused live vCPU unplug"
yaml "$MAIN/vrtest-a.yaml" <<'EOF'
name: vrtest-a
memory: 128 MiB
vcpu: {value: 4, current: 2}
EOF
vr apply -c "$URI" "$MAIN"
check_eq "apply vcpu.current 3 → 2 on the running guest: exit 0" 0 "$RC"
check "apply tried the live set-vcpus" out_has '^vrtest-a: set-vcpus \(live\)'
check "apply reports vrtest-a restart-required, refused" \
	out_has '^vrtest-a: restart-required: .*refused.*: .+'
refusal=$(grep -E '^vrtest-a: restart-required' "$LAST_OUT" | head -n1)
check_eq "vrtest-a same domain id" "$id_a" "$(domid vrtest-a)"
check_eq "vrtest-a current vCPUs (live) still 3" 3 "$(vcpus vrtest-a --current --live)"
check_eq "vrtest-a current vCPUs (config) 2" 2 "$(vcpus vrtest-a --current --config)"
vr apply -c "$URI" "$MAIN"
check_eq "second apply after the refusal: exit 0" 0 "$RC"
check "second apply makes no set-vcpus call" out_lacks '^vrtest-a: set-vcpus'
check "second apply says 0 libvirt write calls" out_has '; 0 libvirt write calls$'
check "second apply still reports vrtest-a restart-required" \
	out_has '^vrtest-a: restart-required: .*refused'
vr plan -c "$URI" "$MAIN"
check_eq "plan after the refusal exits 0 (nothing pending)" 0 "$RC"
check "plan: vrtest-a restart-required" out_has '^vrtest-a: restart-required'
check "plan: vrtest-a has no actions" eval '! plan_block vrtest-a | grep -q "^  + "'
# libvirt's own reason: virsh gets the same refusal for the same call.
virsh_msg=$(virsh_ setvcpus vrtest-a 2 --live 2>&1 >/dev/null | sed -n 's/^error: //p' | tail -n1)
check_ne "virsh setvcpus --live 2 is refused too" "" "$virsh_msg"
case $refusal in
*"$virsh_msg"*) ok "the restart-required reason carries libvirt's message ($virsh_msg)" ;;
*) not_ok "the restart-required reason carries libvirt's message (expected '$virsh_msg' in '$refusal')" ;;
esac
check_eq "vrtest-a current vCPUs (live) still 3 after all" 3 "$(vcpus vrtest-a --current --live)"

# ------------------------------------------------- live memory (balloon)

section "live memory"
id_m=$(domid vrtest-m)
yaml "$MAIN/vrtest-m.yaml" <<'EOF'
name: vrtest-m
memory: 128 MiB
currentMemory: 96 MiB
vcpu: 1
EOF
vr apply -c "$URI" "$MAIN"
check_eq "apply currentMemory 96 MiB: exit 0" 0 "$RC"
check "apply sent the live balloon target" out_has '^vrtest-m: set-memory \(live\)'
check "apply set currentMemory in the config" out_has '^vrtest-m: set-memory \(config\)'
check_eq "vrtest-m config currentMemory 98304 KiB" 98304 "$(xpath_config vrtest-m /domain/currentMemory)"
check_eq "vrtest-m config memory 131072 KiB" 131072 "$(xpath_config vrtest-m /domain/memory)"
check_eq "vrtest-m same domain id" "$id_m" "$(domid vrtest-m)"
balloon=$(domstat vrtest-m --balloon balloon.current)
vr apply -c "$URI" "$MAIN"
check_eq "second apply: exit 0" 0 "$RC"
check "second apply does not re-send the balloon target" out_lacks '^vrtest-m: set-memory'
check "second apply says 0 libvirt write calls" out_has '; 0 libvirt write calls$'
if [ "$balloon" = 98304 ]; then
	check "balloon reached 96 MiB; vrtest-m reported in sync" out_lacks '^vrtest-m: '
else
	check "balloon not reached ($balloon KiB): second apply reports vrtest-m in sync, with the balloon" \
		out_has '^vrtest-m: in-sync: .*balloon'
fi
vr plan -c "$URI" "$MAIN"
check_eq "plan after the balloon target exits 0 (nothing pending)" 0 "$RC"
check "plan: vrtest-m has no set-memory action" eval '! plan_block vrtest-m | grep -q "set-memory"'
if [ "$balloon" != 98304 ]; then
	check "plan: vrtest-m in sync, the balloon said" \
		eval 'plan_block vrtest-m | grep -q "^vrtest-m: in-sync" && plan_block vrtest-m | grep -q "balloon target 96 MiB sent"'
fi

# -------------------------------------------------------- restart required

section "restart required"
id_r=$(domid vrtest-r)
yaml "$MAIN/vrtest-r.yaml" <<'EOF'
name: vrtest-r
memory: 64 MiB
vcpu: {value: 4, current: 1}
EOF
vr plan -c "$URI" "$MAIN"
check_eq "plan vcpu.value 2 → 4 on a running guest exits 2" 2 "$RC"
vr apply -c "$URI" "$MAIN"
check_eq "apply vcpu.value 2 → 4: exit 0" 0 "$RC"
check "apply reports vrtest-r restart-required: vcpu.value 2 → 4" \
	out_has '^vrtest-r: restart-required: .*vcpu\.value 2 → 4'
check_eq "vrtest-r not restarted (same domain id)" "$id_r" "$(domid vrtest-r)"
check_eq "vrtest-r maximum vCPUs (config) 4" 4 "$(vcpus vrtest-r --maximum --config)"
check_eq "vrtest-r maximum vCPUs (live) still 2" 2 "$(vcpus vrtest-r --maximum --live)"
vr apply -c "$URI" "$MAIN"
check_eq "second apply: exit 0" 0 "$RC"
check "second apply says 0 libvirt write calls" out_has '; 0 libvirt write calls$'
check "second apply still reports vrtest-r restart-required" out_has '^vrtest-r: restart-required'
vr plan -c "$URI" "$MAIN"
check_eq "plan exits 0 while the restart is pending" 0 "$RC"
check "plan: vrtest-r restart-required" out_has '^vrtest-r: restart-required'
check "plan: vrtest-r has no actions" eval '! plan_block vrtest-r | grep -q "^  + "'

for d in vrtest-r vrtest-a; do
	virsh_ destroy $d >/dev/null 2>&1
	check "virsh start $d (after virsh destroy)" virsh_ start $d
done
check_eq "vrtest-r maximum vCPUs (live) 4 after the restart" 4 "$(vcpus vrtest-r --maximum --live)"
check_eq "vrtest-a current vCPUs (live) 2 after the restart" 2 "$(vcpus vrtest-a --current --live)"
vr plan -c "$URI" "$MAIN"
check_eq "plan after the restarts exits 0" 0 "$RC"
check "plan: vrtest-r in-sync (restart-required cleared)" out_has '^vrtest-r: in-sync'
check "plan: vrtest-a in-sync (refused unplug cleared)" out_has '^vrtest-a: in-sync'
fid_r=$(file_id "$CONF_DIR/vrtest-r.xml")
vr apply -c "$URI" "$MAIN"
check_eq "apply after the restarts: exit 0" 0 "$RC"
check "apply after the restarts says 0 libvirt write calls" out_has '; 0 libvirt write calls$'
check_eq "vrtest-r.xml unchanged by that apply" "$fid_r" "$(file_id "$CONF_DIR/vrtest-r.xml")"

# ------------------------------------------------------ state: shutoff

section "graceful shutdown, then destroy"
yaml "$MAIN/vrtest-r.yaml" <<'EOF'
name: vrtest-r
state: shutoff
memory: 64 MiB
vcpu: {value: 4, current: 1}
EOF
t0=$(date +%s)
vr apply -c "$URI" --shutdown-timeout 2 "$MAIN"
t1=$(date +%s)
check_eq "apply state: shutoff (--shutdown-timeout 2): exit 0" 0 "$RC"
check "apply shut vrtest-r down" out_has '^vrtest-r: shutdown'
check_eq "vrtest-r shut off" "shut off" "$(domstate vrtest-r)"
check "the shutdown took less than 30 s ($((t1 - t0)) s)" test $((t1 - t0)) -lt 30
vr plan -c "$URI" "$MAIN"
check_eq "plan then exits 0" 0 "$RC"
check "plan: vrtest-r in-sync" out_has '^vrtest-r: in-sync'

# ------------------------------------------ out-of-band changes undone

section "out-of-band changes"
uuid_o=$(virsh_ domuuid vrtest-o)
id_o=$(domid vrtest-o)
virsh_ setvcpus vrtest-o 1 --config >/dev/null 2>&1
check_eq "out of band: virsh setvcpus --config 1 took" 1 "$(vcpus vrtest-o --current --config)"
vr apply -c "$URI" "$MAIN"
check_eq "apply: exit 0" 0 "$RC"
check_eq "vrtest-o current vCPUs (config) back to 2" 2 "$(vcpus vrtest-o --current --config)"
check_eq "vrtest-o current vCPUs (live) 2" 2 "$(vcpus vrtest-o --current --live)"
check_eq "vrtest-o same domain id" "$id_o" "$(domid vrtest-o)"

virsh_ autostart --disable vrtest-o >/dev/null 2>&1
check_eq "out of band: virsh autostart --disable took" disable "$(dominfo_field vrtest-o Autostart)"
vr apply -c "$URI" "$MAIN"
check_eq "apply: exit 0" 0 "$RC"
check_eq "vrtest-o autostart enabled again" enable "$(dominfo_field vrtest-o Autostart)"

virsh_ destroy vrtest-o >/dev/null 2>&1
check_eq "out of band: virsh destroy took" "shut off" "$(domstate vrtest-o)"
vr apply -c "$URI" "$MAIN"
check_eq "apply: exit 0" 0 "$RC"
check_eq "vrtest-o running again" running "$(domstate vrtest-o)"
check_eq "vrtest-o current vCPUs (live) 2 after the start" 2 "$(vcpus vrtest-o --current --live)"

virsh_ dumpxml --inactive --security-info vrtest-o >"$WORK/o.xml"
sed -e 's|<title>vrtest original title</title>|<title>vrtest edited title</title>|' \
	-e 's|<memory unit=.KiB.>131072</memory>|<memory unit="KiB">196608</memory>|' \
	-e 's|<currentMemory unit=.KiB.>131072</currentMemory>|<currentMemory unit="KiB">196608</currentMemory>|' \
	"$WORK/o.xml" >"$WORK/o-edited.xml"
virsh_ define "$WORK/o-edited.xml" >/dev/null 2>&1
check_eq "out of band: redefined title took" "vrtest edited title" "$(xpath_config vrtest-o /domain/title)"
check_eq "out of band: redefined memory took" 196608 "$(xpath_config vrtest-o /domain/memory)"
vr apply -c "$URI" "$MAIN"
check_eq "apply: exit 0" 0 "$RC"
check_eq "vrtest-o title restored" "vrtest original title" "$(xpath_config vrtest-o /domain/title)"
check_eq "vrtest-o memory restored to 131072 KiB" 131072 "$(xpath_config vrtest-o /domain/memory)"
check_eq "vrtest-o currentMemory restored to 131072 KiB" 131072 "$(xpath_config vrtest-o /domain/currentMemory)"
check_eq "vrtest-o keeps its UUID" "$uuid_o" "$(virsh_ domuuid vrtest-o)"
check "vrtest-o keeps the mark" marked vrtest-o
vr plan -c "$URI" "$MAIN"
check_eq "plan after the out-of-band repairs exits 0" 0 "$RC"
check "plan: vrtest-o in-sync" out_has '^vrtest-o: in-sync'

# --------------------------------- an unmanaged domain of the same name

section "conflict"
CONFLICT=$WORK/conflict
mkdir -p "$CONFLICT"
cat >"$WORK/u.xml" <<EOF
<domain type='$TYPE'>
  <name>vrtest-u</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type>hvm</type></os>
</domain>
EOF
# shellcheck disable=SC2016
check "virsh define vrtest-u (no mark)" eval 'virsh_ define "$WORK/u.xml" >/dev/null'
yaml "$CONFLICT/vrtest-u.yaml" <<'EOF'
name: vrtest-u
memory: 128 MiB
vcpu: 2
autostart: true
EOF
virsh_ dumpxml --inactive --security-info vrtest-u >"$WORK/u-before.xml"
fid_u=$(file_id "$CONF_DIR/vrtest-u.xml")
vr plan -c "$URI" "$CONFLICT"
check_eq "plan with a conflict exits 1" 1 "$RC"
check "plan: vrtest-u conflict" out_has '^vrtest-u: conflict'
vr apply -c "$URI" "$CONFLICT"
check_eq "apply with a conflict exits 1" 1 "$RC"
check "apply reports vrtest-u on stderr" err_has 'vrtest-u'
check "apply counts 1 conflict" out_has '^[0-9]+ domains?:.* 1 conflict'
check "apply makes no call for vrtest-u" out_lacks '^vrtest-u: (define|redefine|set-|start|shutdown|undefine)'
virsh_ dumpxml --inactive --security-info vrtest-u >"$WORK/u-after.xml"
check "vrtest-u XML byte-for-byte identical" cmp -s "$WORK/u-before.xml" "$WORK/u-after.xml"
check_eq "vrtest-u.xml unchanged (sha256, mtime)" "$fid_u" "$(file_id "$CONF_DIR/vrtest-u.xml")"
check_eq "vrtest-u still shut off" "shut off" "$(domstate vrtest-u)"
check_eq "vrtest-u autostart still disabled" disable "$(dominfo_field vrtest-u Autostart)"
check "vrtest-u still unmarked" eval '! marked vrtest-u'

# ------------------------------------------------------- limits refused

section "limits"
LIMITS=$WORK/limits
mkdir -p "$LIMITS"
yaml "$LIMITS/vrtest-big.yaml" <<'EOF'
name: vrtest-big
memory: 64 MiB
vcpu: 1000
EOF
vr plan -c "$URI" "$LIMITS"
check_eq "plan with vcpu.value 1000 exits 1" 1 "$RC"
check "plan: vrtest-big error" out_has '^vrtest-big: error'
vr apply -c "$URI" "$LIMITS"
check_eq "apply with vcpu.value 1000 exits 1" 1 "$RC"
check "apply names the hypervisor's maximum" err_has 'vrtest-big: .*1000.*maximum'
check "apply made no call" out_has '; 0 libvirt write calls$'
check "vrtest-big not defined" eval '! defined vrtest-big'

# ----------------------------------------------------------------- prune

section "prune"
cleanup_domains
PRUNE=$WORK/prune
EMPTY=$WORK/empty
GONE=$WORK/gone
mkdir -p "$PRUNE" "$EMPTY" "$GONE"
yaml "$PRUNE/vrtest-keep.yaml" <<'EOF'
name: vrtest-keep
state: shutoff
memory: 64 MiB
vcpu: 1
EOF
yaml "$PRUNE/vrtest-p1.yaml" <<'EOF'
name: vrtest-p1
memory: 64 MiB
vcpu: 1
features: [acpi]
EOF
yaml "$PRUNE/vrtest-p2.yaml" <<'EOF'
name: vrtest-p2
state: shutoff
memory: 64 MiB
vcpu: 1
EOF
yaml "$PRUNE/vrtest-p3.yaml" <<'EOF'
name: vrtest-p3
memory: 64 MiB
vcpu: 1
EOF
uefi_yaml "$PRUNE/vrtest-uefi.yaml" vrtest-uefi
vr apply -c "$URI" "$PRUNE"
check_eq "apply the prune set: exit 0" 0 "$RC"
check_eq "vrtest-p1 running" running "$(domstate vrtest-p1)"
check_eq "vrtest-uefi (q35, OVMF) running" running "$(domstate vrtest-uefi)"
check_eq "vrtest-uefi loader" /usr/share/OVMF/OVMF_CODE_4M.fd "$(xpath_config vrtest-uefi /domain/os/loader)"
check "vrtest-uefi NVRAM file created" test -f "$NVRAM_DIR/vrtest-uefi_VARS.fd"
check "vrtest-p2 defined" defined vrtest-p2
check "virsh suspend vrtest-p3 (a paused guest to prune)" eval 'virsh_ suspend vrtest-p3 >/dev/null'
check_eq "vrtest-p3 paused" paused "$(domstate vrtest-p3)"
id_p1=$(domid vrtest-p1)

mv "$PRUNE/vrtest-p1.yaml" "$PRUNE/vrtest-p2.yaml" "$PRUNE/vrtest-p3.yaml" \
	"$PRUNE/vrtest-uefi.yaml" "$GONE/"
vr apply -c "$URI" "$PRUNE"
check_eq "apply without --prune, files removed: exit 0" 0 "$RC"
for d in vrtest-p1 vrtest-p2 vrtest-p3 vrtest-uefi; do
	check "$d reported orphaned" out_has "^$d: orphaned"
	check "$d kept" defined $d
done
check_eq "vrtest-p1 still running, same id" "$id_p1" "$(domid vrtest-p1)"
check "apply without --prune says 0 libvirt write calls" out_has '; 0 libvirt write calls$'

if foreign=$(prune_guard "$EMPTY"); then
	vr apply -c "$URI" --prune --shutdown-timeout 2 "$EMPTY"
	check_eq "apply --prune on an empty directory: exit 0" 0 "$RC"
	check "apply --prune on an empty directory says 0 libvirt write calls" \
		out_has '; 0 libvirt write calls$'
	for d in vrtest-keep vrtest-p1 vrtest-p2 vrtest-p3 vrtest-uefi; do
		check "$d kept by apply --prune on an empty directory" defined $d
	done
	check_eq "vrtest-p1 still running, same id" "$id_p1" "$(domid vrtest-p1)"
	vr apply -c "$URI" --prune --shutdown-timeout 2 "$WORK/missing"
	check_eq "apply --prune on a missing directory exits 1" 1 "$RC"
	for d in vrtest-keep vrtest-p1 vrtest-p2 vrtest-p3 vrtest-uefi; do
		check "$d kept by apply --prune on a missing directory" defined $d
	done
else
	skip "apply --prune on an empty or missing directory" \
		"other virt-reconcile domains on this libvirtd would be pruned if it failed: $foreign"
fi

if foreign=$(prune_guard "$PRUNE"); then
	t0=$(date +%s)
	vr apply -c "$URI" --prune --shutdown-timeout 2 "$PRUNE"
	t1=$(date +%s)
	check_eq "apply --prune: exit 0" 0 "$RC"
	check_eq "apply --prune shut the running vrtest-p1 down first" shutdown "$(first_call vrtest-p1)"
	check_eq "apply --prune shut the running vrtest-uefi down first" shutdown "$(first_call vrtest-uefi)"
	for d in vrtest-p1 vrtest-p2 vrtest-p3 vrtest-uefi; do
		check "$d undefined (and not left running)" eval "! defined $d"
	done
	check "vrtest-keep kept" defined vrtest-keep
	check "vrtest-uefi NVRAM file kept" test -f "$NVRAM_DIR/vrtest-uefi_VARS.fd"
	check "apply --prune took less than 30 s ($((t1 - t0)) s)" test $((t1 - t0)) -lt 30
	vr plan -c "$URI" "$PRUNE"
	check_eq "plan after the prune exits 0" 0 "$RC"
	check "plan: no vrtest domain orphaned" out_lacks '^vrtest-[^:]*: orphaned'
else
	skip "apply --prune undefines orphaned domains, keeps NVRAM" \
		"other virt-reconcile domains on this libvirtd would be pruned: $foreign"
fi
# What a failed prune left behind must not fail the next step as well.
for d in vrtest-p1 vrtest-p2 vrtest-p3 vrtest-uefi; do
	if defined $d; then
		virsh_ destroy $d >/dev/null 2>&1
		virsh_ undefine --keep-nvram $d >/dev/null 2>&1
	fi
done

uefi_yaml "$PRUNE/vrtest-uefi2.yaml" vrtest-uefi2
vr apply -c "$URI" "$PRUNE"
check_eq "apply vrtest-uefi2: exit 0" 0 "$RC"
check "vrtest-uefi2 NVRAM file created" test -f "$NVRAM_DIR/vrtest-uefi2_VARS.fd"
mv "$PRUNE/vrtest-uefi2.yaml" "$GONE/"
if foreign=$(prune_guard "$PRUNE"); then
	vr apply -c "$URI" --prune --delete-nvram --shutdown-timeout 2 "$PRUNE"
	check_eq "apply --prune --delete-nvram: exit 0" 0 "$RC"
	check "vrtest-uefi2 undefined" eval '! defined vrtest-uefi2'
	check "vrtest-uefi2 NVRAM file removed" test ! -e "$NVRAM_DIR/vrtest-uefi2_VARS.fd"
	check "vrtest-keep kept" defined vrtest-keep
else
	skip "apply --prune --delete-nvram removes the NVRAM file" \
		"other virt-reconcile domains on this libvirtd would be pruned: $foreign"
fi

# ---------------------------------------------------------------- summary

echo "# took $(($(date +%s) - START)) s"
if [ "$SKIP" -gt 0 ]; then
	echo "# $SKIP skipped:$SKIPPED"
fi
echo "libvirt-real: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
