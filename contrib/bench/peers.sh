#!/bin/sh
# Times the tools people use today to define N libvirt domains, so that
# contrib/bench results can put virt-reconcile beside them:
#
#   virsh-define    `virsh -c URI define FILE` once per file, N files, timed
#                   as a whole (one virsh process per domain).
#   ansible-define  one ansible-playbook run on localhost whose single task
#                   loops community.libvirt.virt (command: define,
#                   xml: lookup('file', item)) over ANSIBLE_N files.
#   ansible-insync  the same playbook again with every domain already
#                   defined (the module still calls virDomainDefineXML per
#                   item; it reports "changed" only when the XML differs).
#
# STARTUP is the wall time of the same playbook with zero loop items:
# ansible's fixed cost, so per domain = (SECONDS - STARTUP) / ANSIBLE_N.
# XMLDIR holds the rendered domain XML files vrbench-NNNN.xml (diskless,
# shut off; see apply.sh). Every vrbench-* domain on URI is removed before,
# between runs and on exit. Progress goes to stderr; stdout gets one line
# per measurement (seconds, 4 decimals):
#
#   peer virsh-define N SECONDS
#   peer ansible-define ANSIBLE_N SECONDS STARTUP_SECONDS
#   peer ansible-insync ANSIBLE_N SECONDS STARTUP_SECONDS
#
# or `peer ansible-define 0 unavailable` (and ansible-insync) when
# ansible-playbook, the community.libvirt collection or its libvirt Python
# bindings are missing. Nothing is installed by this script.
#
# usage: contrib/bench/peers.sh URI N XMLDIR [ANSIBLE_N]   (ANSIBLE_N
#        defaults to min(N, 100))
set -eu
[ $# -ge 3 ] || { echo "usage: $0 URI N XMLDIR [ANSIBLE_N]" >&2; exit 2; }
uri=$1 n=$2 xmldir=$(cd "$3" && pwd)
an=${4:-$((n < 100 ? n : 100))}
case "$n$an" in *[!0-9]*) echo "$0: N and ANSIBLE_N must be numbers" >&2; exit 2 ;; esac
[ "$an" -le "$n" ] || { echo "$0: ANSIBLE_N ($an) exceeds N ($n)" >&2; exit 2; }
work=$(mktemp -d)

say() { echo "peers: $*" >&2; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b - a }'; }
cleanup() {
  for d in $(virsh -c "$uri" list --all --name 2>/dev/null | grep '^vrbench-'); do
    virsh -c "$uri" undefine "$d" >/dev/null 2>&1 || true
  done
}
# test:///default gives every virsh or ansible process its own fresh test
# driver, so nothing a run defines is visible afterwards: no count to check.
check_count() {
  case "$uri" in test:*) return 0 ;; esac
  got=$(virsh -c "$uri" list --all --name | grep -c '^vrbench-' || true)
  [ "$got" -eq "$1" ] || { say "FAILED: $2 left $got vrbench-* domains, expected $1"; exit 1; }
}
trap 'cleanup; rm -rf "$work"' EXIT
cleanup

# The first N files, one absolute path per line.
printf '%s\n' "$xmldir"/vrbench-*.xml | head -n "$n" >"$work/files"
[ "$(wc -l <"$work/files")" -eq "$n" ] || { say "$xmldir holds fewer than $n vrbench-*.xml"; exit 1; }

# Peer 1: a shell loop of virsh define.
say "virsh define loop: $n domains on $uri"
start=$(now)
while read -r f; do
  virsh -c "$uri" define "$f" >/dev/null
done <"$work/files"
t=$(secs "$start" "$(now)")
check_count "$n" "virsh define loop"
echo "peer virsh-define $n $t"
cleanup

# Peer 2: Ansible. One playbook, run with a vars file giving the items.
unavailable() {
  say "ansible unavailable: $*; skipping it"
  echo "peer ansible-define 0 unavailable"
  echo "peer ansible-insync 0 unavailable"
  exit 0
}
cat >"$work/define.yml" <<'EOF'
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: define domains
      community.libvirt.virt:
        command: define
        xml: "{{ lookup('file', item) }}"
        uri: "{{ uri }}"
      loop: "{{ files }}"
EOF
# YAML vars: single-quoted scalars, quotes doubled.
yvars() {
  printf "uri: '%s'\nfiles:\n" "$(printf %s "$uri" | sed "s/'/''/g")"
  head -n "$1" "$work/files" | sed "s/'/''/g; s/.*/  - '&'/"
}
yvars 0 | sed 's/^files:$/files: []/' >"$work/none.yml"
yvars "$an" >"$work/some.yml"
play() { (cd "$work" && ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 \
  ansible-playbook -i localhost, -e @"$1" define.yml) >"$work/play.log" 2>&1; }

command -v ansible-playbook >/dev/null 2>&1 || unavailable "no ansible-playbook in PATH"
# Probe: the module, its libvirt bindings and the connection (also warms
# the page cache so the no-op run below is not a cold start).
sed 's/command: define/command: list_vms/; /xml:/d; /loop:/d' "$work/define.yml" >"$work/probe.yml"
if ! (cd "$work" && ansible-playbook -i localhost, -e @none.yml probe.yml) >"$work/probe.log" 2>&1; then
  grep -m1 -E 'ERROR|msg' "$work/probe.log" >&2 || true
  unavailable "community.libvirt.virt did not run"
fi

say "ansible start-up: the playbook with zero items"
start=$(now)
play none.yml || { cat "$work/play.log" >&2; say "FAILED: no-op playbook"; exit 1; }
startup=$(secs "$start" "$(now)")

for run in define insync; do
  say "ansible $run: $an domains on $uri"
  start=$(now)
  play some.yml || { cat "$work/play.log" >&2; say "FAILED: ansible $run"; exit 1; }
  t=$(secs "$start" "$(now)")
  say "ansible $run: $(grep -c "^changed: .*(item=" "$work/play.log" || true) of $an items changed"
  check_count "$an" "ansible $run"
  echo "peer ansible-$run $an $t $startup"
done
