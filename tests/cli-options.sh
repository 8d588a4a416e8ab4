#!/bin/sh
# Each command takes its own options and refuses the others, with a message
# that names them; the ones it takes work. Every case names libvirt's test
# driver (no daemon), so that an option taken by mistake never reaches a
# real libvirtd.
# usage: cli-options.sh VIRT_RECONCILE EXAMPLES_DIR
set -u
vr=$1
examples=$2
pass=0
fail=0
export LIBVIRT_DEFAULT_URI=test:///default
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# expect STATUS TEXT ARGS...: the command exits STATUS and says TEXT.
expect() {
  want=$1
  text=$2
  shift 2
  cmd=$1
  shift
  "$vr" "$cmd" -c test:///default "$@" >"$out" 2>&1
  got=$?
  if [ "$got" = "$want" ] && grep -qF -- "$text" "$out"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL: virt-reconcile $cmd $*: exit $got (want $want), said:"
    sed 's/^/    /' "$out"
    echo "    (want: $text)"
  fi
}

expect 1 "plan: unknown option '--shutdown-timeout'" \
  plan --shutdown-timeout 5 "$examples"
expect 1 "plan: unknown option '--prune'" plan --prune "$examples"
expect 1 "plan: unknown option '--delete-nvram'" plan --delete-nvram "$examples"
expect 1 "apply: unknown option '--json'" apply --json "$examples"
expect 1 "apply: --delete-nvram removes the NVRAM of the domains --prune undefines" \
  apply --delete-nvram "$examples"
expect 1 "apply: --shutdown-timeout takes seconds, not 'soon'" \
  apply --shutdown-timeout soon "$examples"
expect 1 "plan: give one directory" plan
expect 1 "apply: give one directory" apply "$examples" "$examples"
expect 1 "import: unknown option '--prune'" import --prune test
expect 1 "import: --xml reads files, without libvirt: leave -c out" \
  import --xml "$examples/web01.yaml"
# what each takes
expect 2 '"changes"' plan --json "$examples"
expect 0 "name: test" import --force test
expect 0 "libvirt write calls" apply --prune \
  --delete-nvram --shutdown-timeout 5 "$examples"

echo "cli-options: $pass passed, $fail failed"
[ "$fail" = 0 ]
