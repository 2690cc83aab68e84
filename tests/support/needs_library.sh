#!/bin/sh
# needs_library.sh NAME BINARY...: fails, naming the binary, if a BINARY's dynamic
# section does not list a library whose file name starts with NAME.
set -u
name="$1"
shift
rc=0
for b in "$@"; do
  if ! readelf -d "$b" | grep -q "(NEEDED).*\[$name"; then
    echo "$b: not linked with $name" >&2
    rc=1
  fi
done
[ "$rc" -eq 0 ] && echo "all $# binaries are linked with $name"
exit "$rc"
