#!/usr/bin/env bash
# Integration (compat mount): perm-diff.sh with the pool side's agents as plain
# processes -- no danaus-run, no preload library -- on the pool's FUSE compat
# mount (compat_mount = yes), so every call reaches the pool through the kernel
# as a static binary's would. The kernel checks (default_permissions), then the
# libservice as the FUSE request's caller: each answer must be the kernel's
# own. compat-perm-diff.known adds to perm-diff.known what FUSE
# itself answers differently.
#
# Arguments go to perm-diff.py: a mismatch's reproducer line is
#   DANAUS_BUILD=build tests/integration/compat-perm-diff.sh --seed S --segment K -v
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/perm-diff-lib.sh"

[ -r /dev/fuse ] && [ -w /dev/fuse ] ||
	fail "no usable /dev/fuse: the compat mount cannot be tested here"

perm_users_add
POOL_NAME=cpd
POOL_SETTINGS='compat_mount = yes\n' pool_start cpd
# the socket comes first; the mount follows once FUSE is set up
for _ in $(seq 100); do
	mountpoint -q "$MNT" && break
	kill -0 "$PID" 2>/dev/null || { cat "$WORK/cpd/pool.log" >&2; fail "pool cpd exited"; }
	sleep 0.05
done
mountpoint -q "$MNT" || { cat "$WORK/cpd/pool.log" >&2; fail "the pool did not mount $MNT (compat_mount)"; }
KDIR="$WORK/kernel"
mkdir "$KDIR"
chmod 755 "$KDIR"
perm_diff --backend local --pool-side kernel --known "$HERE/perm-diff.known" \
	--known "$HERE/compat-perm-diff.known" --kernel-dir "$KDIR" --pool-dir "$ROOT" "$@"
