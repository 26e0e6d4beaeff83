#!/usr/bin/env bash
# Integration (ceph): security.sh on a pool served by a real CephFS cluster,
# where the pool, not the kernel, makes the decisions libcephfs leaves out
# (privileged xattrs, set-id clearing). lib.sh's pool_start is pointed at the
# cluster (DANAUS_TEST_CEPH_DIR); ROOT is the pool's directory through ceph-fuse.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ceph-lib.sh"

ceph_start_with_fuse
ceph_run_local security || fail "security.sh on a ceph pool"
pass "security.sh on a ceph pool"
