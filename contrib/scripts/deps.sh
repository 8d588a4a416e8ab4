#!/bin/sh
# Installs the Debian packages a group of tasks needs, only those missing.
# usage: deps.sh build|test|bench
set -eu

build="gcc pkg-config meson ninja-build libyaml-dev libxml2-dev libvirt-dev libjson-c-dev"
test="$build libcmocka-dev libxml2-utils clang clang-format libclang-rt-14-dev
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86
  qemu-utils ovmf python3"
# The benchmark: its chart, and the peer it times (Ansible's libvirt module
# needs the Python bindings, which the ansible package does not pull in).
bench="$test gnuplot-nox ansible python3-libvirt python3-lxml"

case "${1:-build}" in
  build) want=$build ;;
  test) want=$test ;;
  bench) want=$bench ;;
  *) echo "usage: $0 build|test|bench" >&2; exit 1 ;;
esac

missing=""
for p in $want; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in
    *" installed") ;;
    *) missing="$missing $p" ;;
  esac
done
[ -z "$missing" ] && exit 0

sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
echo "deps: installing$missing" >&2
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
