#!/bin/sh
# Keeps the README true: its file-format example must validate.
# usage: readme.sh VIRT_RECONCILE README.md
set -eu
prog=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/^## Desired-state files/ { on = 1 }
     on && /^```yaml/ { grab = 1; next }
     grab && /^```/ { exit }
     grab { print }' "$2" >"$tmp/readme-example.yaml"
[ -s "$tmp/readme-example.yaml" ] || { echo "no yaml example in $2"; exit 1; }
"$prog" validate "$tmp/readme-example.yaml"
"$prog" render "$tmp/readme-example.yaml" >/dev/null
echo "readme: 1 passed, 0 failed"
