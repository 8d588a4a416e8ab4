#!/bin/sh
# Turns the benchmark's raw lines (see run.sh and the programs it runs)
# into DIR/RESULTS.md, with the chart DIR/results.svg drawn by gnuplot,
# prints the table, and exits 1 when a goal is missed.
#
# usage: contrib/bench/report.sh RAW MACHINE.md QUICK(0|1) DIR
set -eu
raw=$1 machine=$2 quick=$3 dir=$4
md=$dir/RESULTS.md
dat=$(mktemp)
trap 'rm -f "$dat" "$dat.table"' EXIT

# The table and the verdicts. Every figure is beside its floor, measured
# in the same run; a goal row says "met" or "MISSED".
awk -v dat="$dat" -v quick="$quick" '
function row(what, n, ours, floor, ratio, goal, ok) {
  verdict = goal == "" ? "" : (ok ? "met" : "MISSED")
  if (goal != "" && !ok) missed++
  printf "| %s | %s | %s | %s | %s | %s | %s |\n", what, n, ours, floor,
    ratio, goal, verdict
}
function s(x) { return x < 1 ? sprintf("%.2f ms", x * 1000) : sprintf("%.3f s", x) }
function ms(x) { return sprintf("%.1f ms", x) }
function r(a, b) { return b > 0 ? sprintf("%.2f×", a / b) : "" }
$1 == "apply-test" {
  n = $2; fd = $3; cold = $4; fo = $5; sync = $6; w = $7; cpu = $8
  t[++nt] = n; obs[n] = fo
  row("cold `apply`, test driver", n, s(cold), s(fd) " define", r(cold, fd),
    "≤ 1.25×", cold <= 1.25 * fd)
  row("in-sync `apply`, test driver", n, s(sync) " (CPU " s(cpu) ")", s(fo) " observe",
    r(sync, fo), "≤ 2×", sync <= 2 * fo)
  row("write calls in sync, test driver", n, w, "0", "", "0", w == 0)
  printf "%d %.2f %.2f %.2f %.2f\n", n, fd / n * 1e6, cold / n * 1e6,
    fo / n * 1e6, sync / n * 1e6 >> dat
  if (n >= 100) {
    # growth of the cost per domain from any size to a larger one
    pc = cold / n; ps = sync / n
    for (k = 1; k <= ng; k++) {
      if (pc / gc[k] > growc) growc = pc / gc[k]
      if (ps / gs[k] > grows) grows = ps / gs[k]
    }
    ng++; gc[ng] = pc; gs[ng] = ps
    if (ng == 1) { from = n; growc = grows = 1 }
    lo_c = ng == 1 || pc < lo_c ? pc : lo_c; hi_c = pc > hi_c ? pc : hi_c
    lo_s = ng == 1 || ps < lo_s ? ps : lo_s; hi_s = ps > hi_s ? ps : hi_s
  }
  next
}
$1 == "apply-test-parts" {
  n = $2
  row("in sync, each part alone on one thread: the files / libvirt read / the plan, test driver",
    n, s($3) " / " s($4) " / " s($5), s(obs[n]) " observe",
    r($3, obs[n]) " / " r($4, obs[n]) " / " r($5, obs[n]), "", 1)
  next
}
$1 == "apply-real" {
  n = $2; fd = $3; cold = $4; fo = $5; sync = $6; w = $7
  realcold = cold / n
  row("cold `apply`, QEMU", n, s(cold), s(fd) " define", r(cold, fd), "≤ 1.25×",
    cold <= 1.25 * fd)
  row("in-sync `apply`, QEMU", n, s(sync), s(fo) " observe", r(sync, fo), "≤ 2×",
    sync <= 2 * fo)
  row("write calls in sync, QEMU", n, w, "0", "", "0", w == 0)
  next
}
$1 ~ /^agent-/ {
  where = $1 == "agent-test" ? "test driver" : "QEMU"
  if ($2 == "burst")
    row("`run`: burst of new files to all converged, " where, $3, s($4),
      s($5) " define", r($4, $5), "", 1)
  else if ($2 == "rss") {
    row("`run`: RSS after the burst (peak), " where, $3,
      sprintf("%.1f MiB (peak %.1f; anonymous %.1f)", $4 / 1024, $5 / 1024, $6 / 1024),
      where == "QEMU" && floorrss ? sprintf("%.1f MiB: a client that only connects", floorrss / 1024) : "",
      where == "QEMU" && floorrss ? r($4, floorrss) : "",
      where == "QEMU" && $3 >= 1000 ? "< 16 MiB" : "", $4 < 16384)
  } else if ($2 == "idle")
    row("`run`: idle " $3 " s: CPU, wake-ups, " where, "", sprintf("%.3f s, %d", $4, $5),
      "", "", "0 wake-ups", $5 == 0)
  else if ($2 ~ /^hotplug-/ && $3 > 0) {
    if ($2 == "hotplug-disk") { what = "a virtio disk added"; call = "virDomainAttachDeviceFlags" }
    else if ($2 == "hotplug-cd") { what = "CD media changed"; call = "virDomainUpdateDeviceFlags" }
    else if ($2 == "hotplug-nic") { what = "a NIC added"; call = "virDomainAttachDeviceFlags" }
    else { what = "a 128 MiB DIMM added"; call = "virDomainAttachDeviceFlags" }
    row("`run`: file saved → " what " live, " where, $3 " times",
      sprintf("p50 %s, p99 %s, worst %s; added p99 %s", ms($4), ms($5), ms($6), ms($10)),
      sprintf("%s p50 %s, p99 %s", call, ms($7), ms($8)), "",
      "p99 ≤ 1 s", $5 <= 1000)
  }
  else if ($2 ~ /^(edit|drift-define|drift-destroy)$/ && $4 != "skipped" && $3 > 0) {
    if ($2 == "edit") what = "file saved → converged"
    else if ($2 == "drift-define") what = "drift (XML redefined) → undone"
    else what = "drift (destroyed) → running again"
    call = $2 == "drift-destroy" ? "virDomainCreate" : "virDomainDefineXML"
    row("`run`: " what ", " where, $3 " times",
      sprintf("p50 %s, p99 %s, worst %s; added p99 %s", ms($4), ms($5), ms($6), ms($10)),
      sprintf("%s p50 %s, p99 %s", call, ms($7), ms($8)), "",
      "added p99 ≤ 20 ms", $10 <= 20)
  }
  next
}
$1 == "floor-rss" { floorrss = $2; next }
$1 == "peer" && $3 > 0 && $4 != "unavailable" {
  per = ($2 ~ /ansible/ ? $4 - $5 : $4) / $3
  peer[$2] = per; peern[$2] = $3; peerstart[$2] = $5
  next
}
END {
  if (ng >= 2) {
    row("cost per domain, cold, N = " from " … " t[nt] ": largest growth to a larger N", "",
      sprintf("%.0f–%.0f µs", lo_c * 1e6, hi_c * 1e6), "", sprintf("%.2f×", growc),
      "≤ 1.5×", growc <= 1.5)
    row("cost per domain, in sync, N = " from " … " t[nt] ": largest growth to a larger N", "",
      sprintf("%.0f–%.0f µs", lo_s * 1e6, hi_s * 1e6), "", sprintf("%.2f×", grows),
      "≤ 1.5×", grows <= 1.5)
  }
  split("virsh-define ansible-define ansible-insync", order, " ")
  for (k = 1; k <= 3; k++) {
    p = order[k]
    if (!(p in peer)) continue
    if (p == "virsh-define") what = "`virsh define` loop"
    else if (p == "ansible-define") what = "Ansible community.libvirt.virt define"
    else what = "Ansible, all in sync (it still redefines)"
    row("peer: " what ", per domain, QEMU", peern[p], sprintf("%.1f ms", peer[p] * 1000),
      realcold ? sprintf("virt-reconcile cold %.2f ms", realcold * 1000) : "",
      realcold ? r(peer[p], realcold) : "", "", 1)
  }
  print missed + 0 > "/dev/stderr"
}' "$raw" >"$dat.table" 2>"$dat.missed"
missed=$(cat "$dat.missed")

{
  echo "# virt-reconcile benchmark results"
  echo
  [ "$quick" = 1 ] && echo "**Quick run (tiny sizes): goals not enforced.**" && echo
  echo "Made by \`contrib/bench/run.sh\` (see the README). Each figure is beside its"
  echo "floor, measured in the same run: the floor is \`floor.c\`, the smallest client"
  echo "making only the libvirt calls (define N; fetch N inactive and live XMLs);"
  echo "for the agent, the libvirt call's own time."
  echo
  echo "## Machine"
  echo
  cat "$machine"
  echo
  echo "## Results"
  echo
  echo "| measure | N | virt-reconcile | floor | ratio | goal | verdict |"
  echo "|---|---|---|---|---|---|---|"
  cat "$dat.table"
  echo
  echo "Goals missed: $missed."
  echo
  echo "![cost per domain against N](results.svg)"
  notes=$(dirname "$0")/NOTES.md
  [ "$quick" = 1 ] || [ ! -f "$notes" ] || { echo; cat "$notes"; }
} >"$md"

gnuplot <<EOF
set terminal svg size 760,420 dynamic font "sans,12"
set output "$dir/results.svg"
set title "apply on libvirt's test driver: cost per domain"
set xlabel "domains (N)"
set ylabel "µs per domain"
set logscale x
set key outside right
set grid
plot "$dat" using 1:2 with linespoints title "floor: define", \
     "$dat" using 1:3 with linespoints title "apply, cold", \
     "$dat" using 1:4 with linespoints title "floor: observe", \
     "$dat" using 1:5 with linespoints title "apply, in sync"
EOF

cat "$dat.table"
echo "goals missed: $missed"
[ "$missed" = 0 ]
