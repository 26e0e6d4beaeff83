#!/usr/bin/env bash
# Integration (ceph): union-diff.sh's differential on a pool with backend =
# ceph. The layers and the upper are directories of CephFS (built and read
# back as root through ceph-lib's admin ceph-fuse mount); the oracle is
# still the kernel's overlayfs over the same layers on a local directory.
#
# Arguments go to union_diff.py run, as for union-diff.sh.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ceph-lib.sh"
. "$HERE/union-diff-lib.sh"

ceph_start_with_fuse

# union_pool_side RUN: the layers in CephFS at /udRUN, a pool rooted there
union_pool_side() {
	POOL_NAME=ud$1
	local proot="$FUSE/ud$1"
	mkdir -p "$proot/containers/c1"
	chmod 755 "$proot" "$proot/containers" "$proot/containers/c1"
	python3 "$HERE/union_diff.py" layers --oci "$proot/layers"
	touch -h -d @400000000.123456789 "$proot/containers/c1"
	ceph_pool_start "$POOL_NAME" "/ud$1" admin "$UD_INI"
	UD_POOL_ARGS=(--mount "$MNT" --socket "$SOCK" --pool "$POOL_NAME" --run-bin "$RUN_BIN"
		--pool-upper "$proot/containers/c1" --pool-layers "$proot/layers")
}

# one seed by default: each call is a round trip to the cluster
union_diff_seeds "1" --known "$HERE/union-diff.known" --known "$HERE/ceph-union-diff.known" "$@"
