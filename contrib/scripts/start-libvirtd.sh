#!/bin/sh
# Starts the system libvirtd with QEMU on a machine without systemd (CI,
# containers): what Debian's packages expect, then virtlogd and libvirtd.
# Does nothing when qemu:///system already answers. Run as root.
set -eu

if virsh -c qemu:///system version >/dev/null 2>&1; then
  exit 0
fi
getent group kvm >/dev/null || groupadd --system kvm
getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
getent passwd libvirt-qemu >/dev/null ||
  useradd --system --gid libvirt-qemu --groups kvm --home-dir /var/lib/libvirt \
    --no-create-home --shell /usr/sbin/nologin libvirt-qemu
mkdir -p /var/log/libvirt/qemu /run/libvirt /var/lib/libvirt/qemu/nvram \
  /var/lib/libvirt/images /var/cache/libvirt
pgrep -x virtlogd >/dev/null || virtlogd -d
pgrep -x libvirtd >/dev/null || libvirtd -d
for _ in $(seq 1 100); do
  virsh -c qemu:///system version >/dev/null 2>&1 && exit 0
  sleep 0.1
done
echo "libvirtd did not answer on qemu:///system" >&2
exit 1
