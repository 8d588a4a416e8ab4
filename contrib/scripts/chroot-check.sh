#!/bin/sh
# The bare-system check: the README's two commands on a Debian 12 that has
# nothing installed, as on CI's fresh machine. It makes a minimal Debian 12
# (debootstrap --variant=minbase bookworm) in a directory, clones this
# checkout's HEAD into its /root/virt-reconcile, and runs there, as root in
# a chroot, contrib/scripts/demo.sh and then contrib/scripts/test.sh (with
# CI=true, so that nothing may skip), timing each and printing the last
# lines of each at the end.
#
# usage (as root, on a Debian host; debootstrap and git are installed when
# missing):
#   contrib/scripts/chroot-check.sh [--worktree] [--demo-only] [--reuse] [DIR]
#     DIR          where the system goes (default
#                  /var/tmp/virt-reconcile-chroot); an earlier one is
#                  removed first
#     --worktree   copy the working tree as it is (tracked and untracked
#                  files, not ignored ones) instead of cloning HEAD
#     --demo-only  stop after demo.sh
#     --reuse      keep the system of an earlier run (faster, but no longer
#                  bare: what that run installed stays)
#   MIRROR (default http://deb.debian.org/debian) and SECURITY_MIRROR
#   (default http://deb.debian.org/debian-security) say where apt looks.
#   Logs: DIR.logs/ (debootstrap, apt-update, demo, test). Two runs on one
#   DIR take turns (DIR.lock).
#
# The chroot has a mount namespace of its own whose root is DIR (pivot_root,
# not chroot alone: libvirtd enters its guests' mount namespaces, and a
# process that enters one lands at that namespace's root, which must be
# DIR, not the host's /). In it, /proc, /sys and /dev are the host's, /run
# is a tmpfs of its own, and /dev/kvm is a node of its own, root:root 0600
# as on a fresh machine: the chroot's start-libvirtd.sh sets it root:kvm
# 0660 with the chroot's kvm group and leaves the host's /dev/kvm alone.
# The chroot's libvirtd and virtlogd use the chroot's /run: the host's
# libvirtd is neither used nor touched. Nothing is mounted in the host's
# namespace. On exit, even a failed one, every process whose root
# directory is DIR (the chroot's daemons and guests) is stopped, which ends
# the namespace and its mounts.
#
# Run it while nothing else tests on the host's libvirtd: both libvirtds
# put their guests in the same cgroup tree (/machine), where two guests of
# the same name and number would collide.
set -eu

here=$(cd "$(dirname "$0")/../.." && pwd)
worktree=0
demo_only=0
reuse=0
dir=
while [ $# -gt 0 ]; do
  case $1 in
    --worktree) worktree=1 ;;
    --demo-only) demo_only=1 ;;
    --reuse) reuse=1 ;;
    -*) sed -n '/^# usage/,/^#   Logs/p' "$0" >&2; exit 2 ;;
    *) dir=$1 ;;
  esac
  shift
done
dir=${dir:-/var/tmp/virt-reconcile-chroot}
mirror=${MIRROR:-http://deb.debian.org/debian}
security=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
if [ "$(id -u)" != 0 ]; then
  echo "$0: run it as root (debootstrap, mount namespaces, chroot)" >&2
  exit 2
fi
case $dir in
  /*) ;;
  *) dir=$(pwd)/$dir ;;
esac
dir=${dir%/}
case $dir in
  "" | *[[:space:]]*) echo "$0: DIR: not / and without spaces, please" >&2; exit 2 ;;
esac
logs=$dir.logs
mkdir -p "$logs"

say() { echo "chroot-check: $*"; }

# The processes whose root directory is DIR: the chroot's daemons, their
# guests, whatever a run left behind. The host's have another root.
chroot_pids() {
  stat -L -c '%d:%i %n' /proc/[0-9]*/root 2>/dev/null |
    awk -v id="$(stat -c %d:%i "$dir")" '$1 == id { split($2, f, "/"); print f[3] }'
}

# stop_chroot: ends them, TERM first (which ends the namespace and its
# mounts with the last of them).
stop_chroot() {
  pids=$(chroot_pids)
  [ -n "$pids" ] || return 0
  say "stopping the chroot's processes: $(for p in $pids; do
    cat "/proc/$p/comm" 2>/dev/null; done | sort | uniq -c |
    awk '{ printf "%s%s ", $2, ($1 > 1 ? " ×" $1 : "") }')"
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  for _ in $(seq 1 100); do
    [ -n "$(chroot_pids)" ] || return 0
    sleep 0.1
  done
  pids=$(chroot_pids)
  # shellcheck disable=SC2086
  [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
}

cleanup() {
  rc=$?
  trap - EXIT INT TERM
  stop_chroot
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------ the system

need=
command -v debootstrap >/dev/null || need="$need debootstrap"
command -v git >/dev/null || need="$need git"
if [ -n "$need" ]; then
  say "installing on the host:$need"
  apt-get update -q
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need
fi

# One run at a time per DIR (the lock is not passed on to the chroot).
exec 9>>"$dir.lock"
if ! flock -n 9; then
  say "another run uses $dir (it holds $dir.lock); waiting for it"
  flock 9
fi
stop_chroot # what an earlier run left
if awk -v p="$dir" '$5 == p || index($5, p "/") == 1 { f = 1 } END { exit !f }' \
  /proc/self/mountinfo; then
  say "something is mounted under $dir; unmount it first"
  exit 1
fi
if [ -e "$dir" ] && { [ "$reuse" = 0 ] || [ ! -f "$dir/etc/debian_version" ] ||
  [ -d "$dir/debootstrap" ]; }; then
  say "removing the earlier $dir"
  rm -rf --one-file-system "$dir"
fi

t0=$(date +%s)
if [ ! -e "$dir" ]; then
  say "debootstrap --variant=minbase bookworm $dir $mirror (log: $logs/debootstrap.log)"
  if ! debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$logs/debootstrap.log" 2>&1; then
    tail -n 20 "$logs/debootstrap.log"
    say "debootstrap failed"
    exit 1
  fi
fi
t_system=$(($(date +%s) - t0))
say "the system: $t_system s"

# apt as on a fresh Debian 12: the release, its updates, its security
# updates; DNS as the host has it.
rm -f "$dir/etc/apt/sources.list"
cat >"$dir/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
cp -L /etc/resolv.conf "$dir/etc/resolv.conf"

# /dev/kvm as a fresh machine has it, on the chroot's own node
rm -f "$dir/.kvm"
if [ -c /dev/kvm ]; then
  mknod -m 0600 "$dir/.kvm" c "$((0x$(stat -c %t /dev/kvm)))" "$((0x$(stat -c %T /dev/kvm)))"
fi

# ------------------------------------------------------------ the clone

repo=$dir/root/virt-reconcile
rm -rf "$repo"
if [ "$worktree" = 1 ]; then
  say "copying the working tree of $here"
  mkdir -p "$repo"
  (cd "$here" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
    tar --null -T - -cf -) | tar -xf - -C "$repo"
else
  say "cloning $here at $(git -C "$here" rev-parse --short HEAD)"
  git clone -q --no-local "$here" "$repo"
fi

# ------------------------------------------------------------ the runs

# What runs in the chroot: apt-get update, then each phase with its output
# shown and kept in /root/chroot-check/NAME.log, its time and exit status
# in NAME.end.
mkdir -p "$dir/root/chroot-check"
rm -f "$dir"/root/chroot-check/*
cat >"$dir/root/chroot-check/run" <<'EOF'
#!/bin/sh
set -u
out=/root/chroot-check
cd /root/virt-reconcile
echo "chroot-check: apt-get update in the chroot"
if ! apt-get update -q >$out/apt-update.log 2>&1; then
  tail -n 20 $out/apt-update.log
  echo "chroot-check: apt-get update does not work in the chroot"
  echo 1 >$out/apt-update.end
  exit 1
fi
for phase in "$@"; do
  echo "chroot-check: == $phase: contrib/scripts/$phase.sh"
  t=$(date +%s)
  { contrib/scripts/$phase.sh 2>&1; echo "$?" >$out/$phase.rc; } | tee $out/$phase.log
  echo "$(cat $out/$phase.rc) $(($(date +%s) - t))" >$out/$phase.end
done
EOF
chmod +x "$dir/root/chroot-check/run"
phases=demo
[ "$demo_only" = 1 ] || phases="demo test"

# A mount namespace whose root is DIR; the host's tree is let go of.
# shellcheck disable=SC2016,SC2086
unshare --mount --propagation private --fork sh -c '
  set -eu
  dir=$1
  shift
  mount --bind "$dir" "$dir"
  mount -t proc proc "$dir/proc"
  mount --rbind /sys "$dir/sys"
  mount --rbind /dev "$dir/dev"
  mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$dir/run"
  mkdir -m 1777 "$dir/run/lock"
  [ ! -c "$dir/.kvm" ] || mount --bind "$dir/.kvm" "$dir/dev/kvm"
  cd "$dir"
  mkdir -p .host
  pivot_root . .host
  cd /
  umount -l /.host
  rmdir /.host
  exec chroot / /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin CI=true \
    /root/chroot-check/run "$@"
' sh "$dir" $phases 9>&- || true
cp "$dir"/root/chroot-check/*.log "$logs/" 2>/dev/null || true

# ------------------------------------------------------------ the summary

status=0
echo
echo "== the system (debootstrap --variant=minbase bookworm): $t_system s"
[ ! -f "$dir/root/chroot-check/apt-update.end" ] || status=1
for phase in $phases; do
  end=$dir/root/chroot-check/$phase.end
  if [ ! -f "$end" ]; then
    echo "== $phase.sh: did not run to its end"
    status=1
    continue
  fi
  read -r rc secs <"$end"
  [ "$rc" = 0 ] || status=1
  echo "== $phase.sh: $secs s, exit status $rc; its last lines:"
  tail -n 12 "$dir/root/chroot-check/$phase.log"
done
exit "$status"
