#!/usr/bin/env bash
# Integration: the union libservice against the kernel's overlayfs. The same
# four image layers in OCI form under a pool's [union] and in overlayfs form
# under a kernel overlay mount; union_diff.py runs the same seeded operations
# as root and two users on both (copy-up, whiteouts, opaque directories,
# EXDEV renames, ENOTEMPTY rmdirs...), compares every answer and the merged
# tree after each change, then the upper layers (whiteout forms mapped) and
# a directory read in many getdents calls while names come and go.
#
# Arguments go to union_diff.py run: a mismatch's reproducer line is
#   DANAUS_BUILD=build tests/integration/union-diff.sh --seed S --steps N -v
# UNION_DIFF_POOL_IS_KERNEL=1 puts a second kernel overlay where the pool
# goes (a check of the harness itself: it must find no difference).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

. "$HERE/union-diff-lib.sh"

# union_pool_side RUN: the layers under a fresh local pool's root (as
# pool_start makes it), there before it starts
union_pool_side() {
	POOL_NAME=ud$1
	local proot="$WORK/$POOL_NAME/root"
	mkdir -p "$proot/containers/c1"
	chmod 755 "$WORK/$POOL_NAME" "$proot" "$proot/containers" "$proot/containers/c1"
	python3 "$HERE/union_diff.py" layers --oci "$proot/layers"
	touch -h -d @400000000.123456789 "$proot/containers/c1"
	pool_start "$POOL_NAME" "$UD_INI"
	[ "$ROOT" = "$proot" ] || fail "pool_start put the pool's root at $ROOT, not $proot"
	UD_POOL_ARGS=(--mount "$MNT" --socket "$SOCK" --pool "$POOL_NAME" --run-bin "$RUN_BIN"
		--pool-upper "$proot/containers/c1" --pool-layers "$proot/layers")
}

union_diff_seeds "1 2 3" --known "$HERE/union-diff.known" "$@"
