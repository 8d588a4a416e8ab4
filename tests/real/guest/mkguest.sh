#!/bin/sh
# Builds the test guest of the libvirt-real suite from the host's Debian
# packages, nothing downloaded: the guests that suite starts under QEMU
# (TCG is enough) boot this kernel directly, with no disk OS and no
# network, and report on their first serial port what they see (the
# cloud-init NoCloud seed's files, their block devices' sizes; see
# tests/real/guest/init). Usage: mkguest.sh OUTDIR
#
# Writes into OUTDIR (made if missing):
#   vmlinuz     a copy of the newest installed kernel, /boot/vmlinuz-*
#               (linux-image-amd64)
#   initrd.img  a gzipped newc initramfs: busybox (busybox-static), the
#               kernel modules for virtio disks, IDE (i440fx), SATA (q35)
#               and virtio-scsi CD-ROMs, ISO 9660 and FAT file systems, and
#               tests/real/guest/init as /init
#   base.qcow2  an empty 64 MiB qcow2 image, a backing file for overlays
#
# Runs in a few seconds and may run again: a file whose content would not
# change is left as it is (a running guest keeps its kernel and initrd, an
# overlay keeps its backing file). Exit status: 0 done, 1 a tool or the
# kernel is missing (the message names the package) or a step failed.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)

# The modules /init loads, by name: their dependencies come from the
# kernel's modules.dep. virtio_pci finds virtio devices; ata_piix is the
# IDE controller of i440fx (machine pc), ahci the SATA one of q35; sr_mod
# makes CD-ROMs of the SCSI devices libata and virtio-scsi give, sd_mod
# disks; isofs and vfat read the seeds cloud-init accepts (ISO 9660 or FAT
# labelled cidata), nls_cp437 and nls_ascii are vfat's default character
# sets.
MODULES="virtio_pci virtio_blk virtio_scsi ata_piix ahci sr_mod sd_mod
isofs vfat nls_cp437 nls_ascii"

die() {
	echo "mkguest.sh: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: mkguest.sh OUTDIR"
OUT=$1

# need TOOL PACKAGE: TOOL is on PATH, or the script stops naming PACKAGE.
need() {
	command -v "$1" >/dev/null 2>&1 ||
		die "$1 is missing (Debian package $2)"
}

need busybox busybox-static
need cpio cpio
need gzip gzip
need qemu-img qemu-utils
need awk mawk
# The initramfs has no C library: a busybox linked dynamically (Debian's
# busybox package, which replaces busybox-static) cannot run there.
BUSYBOX=$(command -v busybox)
if command -v ldd >/dev/null 2>&1 && ldd "$BUSYBOX" >/dev/null 2>&1; then
	die "$BUSYBOX is linked dynamically (install busybox-static)"
fi

# The newest kernel in /boot, by version, and its modules.
KERNEL=$(find /boot -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n 1)
if [ -z "$KERNEL" ] || [ ! -r "$KERNEL" ]; then
	die "no readable kernel /boot/vmlinuz-* (Debian package linux-image-amd64)"
fi
KVER=${KERNEL#/boot/vmlinuz-}
MODDIR=/lib/modules/$KVER
[ -r "$MODDIR/modules.dep" ] ||
	die "$MODDIR/modules.dep is missing (Debian package linux-image-$KVER)"

umask 022
mkdir -p "$OUT"
STAGE=$(mktemp -d "$OUT/.mkguest.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
trap 'exit 1' INT TERM HUP

# replace NEW FILE: NEW becomes FILE unless FILE has the same content
# (then NEW goes). The rename keeps readers of the old file whole.
replace() {
	if cmp -s "$1" "$2"; then
		rm -f "$1"
	else
		mv -f "$1" "$2"
	fi
}

cp "$KERNEL" "$STAGE/vmlinuz"
replace "$STAGE/vmlinuz" "$OUT/vmlinuz"

# The modules' files (relative to MODDIR) in load order, each after the
# ones it needs. modules.dep gives a module's dependencies, all of them,
# each after the ones needing it (modprobe loads them from last to first).
# A module built into the kernel (modules.builtin) needs no file.
ORDER=$STAGE/order
awk -v want="$MODULES" '
	function norm(s) {
		sub(/.*\//, "", s)
		sub(/\.ko(\.[a-z]+)?:?$/, "", s)
		gsub(/-/, "_", s)
		return s
	}
	function emit(p) {
		if (!(p in done)) {
			done[p] = 1
			print p
		}
	}
	FILENAME ~ /modules\.builtin$/ { builtin[norm($1)] = 1; next }
	{
		m = norm($1)
		file[m] = substr($1, 1, length($1) - 1)
		deps[m] = ""
		for (i = NF; i >= 2; i--)
			deps[m] = deps[m] " " $i
	}
	END {
		n = split(want, w, /[ \n]+/)
		for (i = 1; i <= n; i++) {
			m = norm(w[i])
			if (m == "")
				continue
			if (!(m in file)) {
				if (m in builtin)
					continue
				print "module " m " is not in modules.dep" > "/dev/stderr"
				exit 1
			}
			k = split(deps[m], d, " ")
			for (j = 1; j <= k; j++)
				emit(d[j])
			emit(file[m])
		}
	}
' "$MODDIR/modules.builtin" "$MODDIR/modules.dep" >"$ORDER" ||
	die "cannot resolve the modules of $KVER"

# The initramfs tree: busybox and a link per applet in /bin, the modules
# uncompressed in /lib/modules (busybox's insmod may not read compressed
# ones) and their names in load order in /etc/modules.
ROOT=$STAGE/root
mkdir -p "$ROOT/bin" "$ROOT/dev" "$ROOT/proc" "$ROOT/sys" "$ROOT/etc" \
	"$ROOT/cidata" "$ROOT/lib/modules"
cp "$BUSYBOX" "$ROOT/bin/busybox"
for a in $("$BUSYBOX" --list); do
	[ "$a" = busybox ] || ln -s busybox "$ROOT/bin/$a"
done
cp "$HERE/init" "$ROOT/init"
chmod 755 "$ROOT/init"
: >"$ROOT/etc/modules"
while read -r rel; do
	src=$MODDIR/$rel
	[ -r "$src" ] || die "$src is missing (Debian package linux-image-$KVER)"
	base=${rel##*/}
	case $base in
	*.ko.xz)
		need xz xz-utils
		xz -dc "$src" >"$ROOT/lib/modules/${base%.xz}"
		base=${base%.xz} ;;
	*.ko.zst)
		need zstd zstd
		zstd -qdc "$src" >"$ROOT/lib/modules/${base%.zst}"
		base=${base%.zst} ;;
	*.ko.gz)
		gzip -dc "$src" >"$ROOT/lib/modules/${base%.gz}"
		base=${base%.gz} ;;
	*.ko)
		cp "$src" "$ROOT/lib/modules/$base" ;;
	*)
		die "$src: not a kernel module" ;;
	esac
	echo "$base" >>"$ROOT/etc/modules"
done <"$ORDER"

# Files owned by root with a fixed date, in a fixed order, and gzip
# without a name or date: the same inputs give the same initrd.img.
find "$ROOT" -exec touch -h -d @0 {} +
(cd "$ROOT" && find . | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -6n >"$STAGE/initrd.img"
replace "$STAGE/initrd.img" "$OUT/initrd.img"

# An existing qcow2 base stays: overlays on it would no longer match a
# new one.
if ! qemu-img info -U --output=json "$OUT/base.qcow2" 2>/dev/null |
	grep -q '"format": "qcow2"'; then
	qemu-img create -q -f qcow2 "$STAGE/base.qcow2" 64M
	mv -f "$STAGE/base.qcow2" "$OUT/base.qcow2"
fi

echo "mkguest.sh: $OUT: kernel $KVER, $(wc -l <"$ROOT/etc/modules") modules"
