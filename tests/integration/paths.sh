#!/usr/bin/env bash
# Integration: paths resolved as the kernel resolves them (issues 13 and 14).
# ".", ".." and trailing slashes in every call (paths.py), "sub/.." past a
# directory the caller may not search, and renames that fail: the same
# script on a kernel directory and through a pool must answer alike and
# leave the same trees.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (runs a part as nobody)"; exit 77; }

POOL_NAME=paths
pool_start paths
PLAIN="$WORK/plain"
mkdir -p "$PLAIN" "$ROOT/d"
chmod 755 "$PLAIN" "$ROOT/d"
. "$HERE/paths-lib.sh"
paths_compare "$PLAIN" "$MNT/d"
