#!/bin/sh
# A stand-in for `virt-reconcile import`, for the runner's self-test: it
# "imports" IN/NAME.xml by copying imports/NAME.yaml beside this script
# into DIR, and fails for an input it has no file for.
# usage: import-stand-in.sh import --help | import -o DIR --xml IN/NAME.xml
here=$(cd "$(dirname "$0")" && pwd)
if [ "$*" = "import --help" ]; then
  echo "usage: import [-o DIR] [--force] --xml FILE..."
  exit 0
fi
if [ $# != 5 ] || [ "$1 $2 $4" != "import -o --xml" ]; then
  echo "import-stand-in: usage: import -o DIR --xml FILE" >&2
  exit 2
fi
name=$(basename "$5" .xml)
if [ ! -f "$here/imports/$name.yaml" ]; then
  echo "import-stand-in: no file for $name" >&2
  exit 1
fi
cp "$here/imports/$name.yaml" "$3/"
