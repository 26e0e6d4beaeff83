#!/usr/bin/env bash
# Integration (ceph): paths.sh on a pool with backend = ceph, whose walk is
# its own (svc-ceph.c): ".", ".." and trailing slashes as the kernel
# resolves them, "sub/.." past a directory the caller may not search, and
# renames that fail, which must leave no later call hanging (issue 14).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ceph-lib.sh"

command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

ceph_start_with_fuse
mkdir -p "$FUSE/pools/paths"
chmod 755 "$FUSE/pools/paths"

POOL_NAME=paths
ceph_pool_start paths /pools/paths
PLAIN="$WORK/plain"
mkdir "$PLAIN"
chmod 755 "$PLAIN"
. "$HERE/paths-lib.sh"
paths_compare "$PLAIN" "$MNT"

# cmake's compiler check (issue 14: it hung in a Ceph pool)
command -v cmake >/dev/null && command -v cc >/dev/null ||
	fail "cmake and cc are needed (scripts/install-deps installs them)"
mkdir -p "$FUSE/pools/paths/cm"
printf 'cmake_minimum_required(VERSION 3.10)\nproject(probe C)\n' > "$FUSE/pools/paths/cm/CMakeLists.txt"
timeout 300 "$RUN_BIN" --pool "$POOL_NAME" --socket "$SOCK" --mountpoint "$MNT" -- \
	cmake -S "$MNT/cm" -B "$MNT/cm/build" > "$WORK/cmake.log" 2>&1 ||
	{ tail -20 "$WORK/cmake.log" >&2; fail "cmake's configure in the pool failed or hung"; }
pass "cmake configures a C project in the pool"
