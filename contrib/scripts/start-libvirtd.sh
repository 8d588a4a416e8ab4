#!/bin/sh
# Starts the system libvirtd with QEMU on a machine without systemd (CI,
# containers, a chroot): what Debian's packages and udev would have set up,
# then virtlogd and libvirtd. Run as root.
#
# /dev/kvm gets what Debian's udev rule gives it, root:kvm 0660, also when
# libvirtd already runs. Where that rule has not run (containers, CI, fresh
# VMs) it is root:root 0600: libvirtd's QEMU user cannot open it, and
# libvirtd then probes QEMU's capabilities anew on every call (a define
# takes half a minute, a UEFI one minutes). A running libvirtd needs no
# restart after the fix: its next call finds its cached capabilities valid.
#
# Whether libvirtd runs is decided by whether qemu:///system answers on
# this root's socket (/run/libvirt): in a chroot, pgrep also sees the
# host's daemons. Does nothing more when it answers.
set -eu

getent group kvm >/dev/null || groupadd --system kvm
if [ -c /dev/kvm ]; then
  [ "$(stat -c %G /dev/kvm)" = kvm ] || chgrp kvm /dev/kvm
  case $(stat -c %A /dev/kvm) in
    ????rw*) ;;
    *) chmod g+rw /dev/kvm ;;
  esac
fi

answers() {
  virsh -c qemu:///system version >/dev/null 2>&1
}
answers && exit 0

getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
getent passwd libvirt-qemu >/dev/null ||
  useradd --system --gid libvirt-qemu --groups kvm --home-dir /var/lib/libvirt \
    --no-create-home --shell /usr/sbin/nologin libvirt-qemu
mkdir -p /var/log/libvirt/qemu /run/libvirt /var/lib/libvirt/qemu/nvram \
  /var/lib/libvirt/images /var/cache/libvirt

# runs_here NAME: a process of that name runs with this root directory
# (those of a host or of another chroot do not count).
runs_here() {
  for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null)" = "$1" ] &&
      [ "$(stat -L -c %d:%i "$p/root" 2>/dev/null)" = "$(stat -c %d:%i /)" ] &&
      return 0
  done
  return 1
}
runs_here virtlogd || virtlogd -d
runs_here libvirtd || libvirtd -d
for _ in $(seq 1 300); do
  answers && exit 0
  sleep 0.1
done
echo "libvirtd did not answer on qemu:///system" >&2
exit 1
