#!/bin/sh
# A stand-in for `virt-reconcile import`, for the runner's self-test: it
# "imports" IN/NAME.xml by copying imports/NAME.yaml beside this script
# into DIR, and fails for an input it has no file for.
# usage: import-stand-in.sh import --help | import --xml IN/NAME.xml -o DIR
here=$(cd "$(dirname "$0")" && pwd)
if [ "$*" = "import --help" ]; then
  echo "usage: import [-o DIR] [--force] --xml FILE..."
  exit 0
fi
if [ $# != 5 ] || [ "$1 $2 $4" != "import --xml -o" ]; then
  echo "import-stand-in: usage: import --xml FILE -o DIR" >&2
  exit 2
fi
name=$(basename "$3" .xml)
if [ ! -f "$here/imports/$name.yaml" ]; then
  echo "import-stand-in: no file for $name" >&2
  exit 1
fi
cp "$here/imports/$name.yaml" "$5/"
