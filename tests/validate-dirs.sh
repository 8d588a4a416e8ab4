#!/bin/sh
# validate on directories: one without desired-state files is an error
# that names it (a CI job pointed at the wrong place must not pass), and
# the command contrib/gitops/README.md gives a repository's CI checks every
# host's files.
# usage: validate-dirs.sh VIRT_RECONCILE SOURCE_ROOT
set -u
vr=$(realpath "$1")
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/empty" "$work/ignored"
# only names an agent ignores: a dot file and an editor's backup
printf 'name: a\nmemory: 64 MiB\n' >"$work/ignored/.a.yaml"
printf 'name: a\nmemory: 64 MiB\n' >"$work/ignored/a.yaml~"

pass=0 fail=0
check() {
  if "$@"; then pass=$((pass + 1)); echo "ok - $*"
  else fail=$((fail + 1)); echo "not ok - $*"; sed 's/^/#   /' "$work/out"; fi
}
# refused DIR: validate exits 1 and says DIR holds no files
refused() {
  "$vr" validate "$1" >"$work/out" 2>&1
  [ $? = 1 ] && grep -q "^virt-reconcile: $1: no desired-state files" "$work/out"
}
check refused "$work/empty"
check refused "$work/ignored"

# the CI command of contrib/gitops/README.md, run in that directory
cmd=$(sed -n 's/^CI of the repository can run `\(.*\)` without libvirt.*/\1/p' \
  "$root/contrib/gitops/README.md")
# counted: as many files as the layout has checked, and all fine
counted() {
  n=$(find "$root/contrib/gitops/hosts" -name '*.yaml' | wc -l)
  (cd "$root/contrib/gitops" && eval "\"$vr\" ${cmd#virt-reconcile }") >"$work/out" 2>&1 &&
    grep -qx "$n files checked, 0 with problems" "$work/out" && [ "$n" -gt 0 ]
}
check test -n "$cmd"
check counted

echo "validate-dirs: $pass passed, $fail failed"
[ "$fail" = 0 ]
