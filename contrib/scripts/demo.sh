#!/bin/sh
# The README's first command: install what is missing, build, and run the
# program's main job on contrib/examples/.
set -eu
cd "$(dirname "$0")/../.."

contrib/scripts/deps.sh build
[ -f build/build.ninja ] || meson setup build
meson compile -C build

vr=build/agent/virt-reconcile
echo "== $vr validate contrib/examples"
$vr validate contrib/examples
for f in contrib/examples/*.yaml; do
  echo "== $vr render $f"
  $vr render "$f"
done
