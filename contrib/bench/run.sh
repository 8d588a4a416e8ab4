#!/bin/sh
# The benchmark, in one run: virt-reconcile beside the floor (the libvirt
# calls themselves, made by the smallest client: floor.c) and beside the
# tools people script today (peers.sh: a virsh define loop, Ansible's
# community.libvirt.virt), on libvirt's test driver (our own overhead,
# nothing else) and on the system libvirtd with QEMU.
#
#   apply, test driver   N = 10, 100, 1000, 5000 (bench-test, in-process)
#   apply, QEMU          N = 500 (apply.sh: the virt-reconcile command)
#   run, both            the agent: a burst of N files, RSS, a minute
#                        idle, single edits, drift undone (bench-agent)
#   peers, QEMU          virsh loop on N = 500, Ansible on N = 50
#
# Writes the report (markdown, with a gnuplot chart) and prints its table;
# exits 1 when a goal is missed (2 when something could not be measured).
# --quick: tiny sizes, goals reported but not enforced; CI runs it so
# that the benchmark cannot rot.
#
# usage: contrib/bench/run.sh [--quick] [--out DIR]
#        (as root, or a user that may use qemu:///system; DIR defaults to
#        contrib/bench, which holds RESULTS.md and results.svg, and to
#        build-bench/quick with --quick)
set -eu
cd "$(dirname "$0")/../.."
root=$(pwd)

quick=0
out=
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out) out=$2; shift ;;
    *) echo "usage: $0 [--quick] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
# the quick run must not overwrite the committed report
[ -n "$out" ] || { [ "$quick" = 1 ] && out=build-bench/quick || out=contrib/bench; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ "$quick" = 1 ]; then
  test_sizes="10 40"; spread=0; real_n=10; agent_test_n=20; agent_real_n=20
  edits=20; idle=3; virsh_n=5; ansible_n=2
else
  test_sizes="10 100 1000 5000"; spread=20; real_n=500; agent_test_n=1000
  agent_real_n=1000; edits=200; idle=60; virsh_n=500; ansible_n=50
fi
uri=qemu:///system
say() { echo "bench: $*" >&2; }

say "packages"
contrib/scripts/deps.sh bench
if ! virsh -c "$uri" version >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  say "starting libvirtd"
  contrib/scripts/start-libvirtd.sh
fi
virsh -c "$uri" version >/dev/null 2>&1 || { say "$uri does not answer"; exit 2; }

build=build-bench
say "building an optimised build in $build"
if [ -f "$build/build.ninja" ]; then
  meson setup --reconfigure "$build" --buildtype=release >/dev/null
else
  meson setup "$build" --buildtype=release >/dev/null
fi
meson compile -C "$build" >/dev/null
vr=$root/$build/agent/virt-reconcile

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
raw=$work/raw.txt
: >"$raw"
# the host's share of this machine's CPU time over the run ("steal")
stat0=$(head -1 /proc/stat)

say "apply on the test driver, N = $test_sizes"
# shellcheck disable=SC2086
"$build/contrib/bench/bench-test" --spread "$spread" $test_sizes >>"$raw"

say "apply on $uri, N = $real_n"
contrib/bench/apply.sh "$build" "$uri" "$real_n" >>"$raw"

# the memory any libvirt client starts from, for the agent's RSS
echo "floor-rss $("$build/contrib/bench/floor" rss "$uri")" >>"$raw"

say "the agent on the test driver, N = $agent_test_n"
"$build/contrib/bench/bench-agent" "$vr" test:///default "$agent_test_n" \
  --edits "$edits" --idle "$idle" | sed 's/^agent /agent-test /' >>"$raw"

say "the agent on $uri, N = $agent_real_n"
"$build/contrib/bench/bench-agent" "$vr" "$uri" "$agent_real_n" \
  --edits "$edits" --idle "$idle" --running | sed 's/^agent /agent-real /' >>"$raw"

say "peers on $uri"
contrib/bench/files.sh "$vr" "$uri" "$virsh_n" "$work/yaml" "$work/xml"
contrib/bench/peers.sh "$uri" "$virsh_n" "$work/xml" "$ansible_n" >>"$raw"

say "the report"
machine() {
  echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores$(
    v=$(systemd-detect-virt 2>/dev/null) && echo ", a virtual machine ($v)")"
  echo "- threads: $("$build/contrib/bench/floor" threads | awk '{ printf "starting and joining one takes %.2f ms; two threads of allocation-heavy work go %.2f times as fast as one (`floor threads`)", $1 * 1000, $2 }')"
  echo "$stat0" | awk -v now="$(head -1 /proc/stat)" '{
    split(now, b, " "); total = 0
    for (i = 2; i <= 9; i++) total += b[i] - $i
    if (total > 0) printf "- CPU time taken by the host during the run (steal): %.1f%%\n", 100 * (b[9] - $9) / total }'
  echo "- memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "- system: $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
  echo "- libvirt $(virsh -c "$uri" version 2>/dev/null | sed -n 's/^Running hypervisor: QEMU /QEMU /p; s/^Using library: libvirt //p' | paste -sd' ' -)"
  echo "- virt-reconcile $(git rev-parse --short HEAD 2>/dev/null || echo '?'), built --buildtype=release"
  echo "- $(date -u '+%Y-%m-%d %H:%M UTC')"
}
machine >"$work/machine.md"
status=0
contrib/bench/report.sh "$raw" "$work/machine.md" "$quick" "$out" || status=$?
cp "$raw" "$out/results.txt"
say "report: $out/RESULTS.md"
[ "$quick" = 1 ] && [ "$status" = 1 ] && status=0
exit "$status"
