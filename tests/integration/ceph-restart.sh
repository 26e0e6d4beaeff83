#!/usr/bin/env bash
# Integration (ceph): restart.sh on a pool served by a real CephFS cluster. The
# pool started in place of the killed one takes over its MDS session
# (CEPH_RECLAIM_RESET), so caps and locks the dead one held are released at
# once, and what its cache lost shows as EIO at the next fsync.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ceph-lib.sh"

ceph_start_with_fuse
t0=$SECONDS
rc=0
ceph_run_local restart || rc=$?
[ "$rc" = 0 ] || fail "restart.sh on a ceph pool (exit $rc, $((SECONDS - t0)) s)"
pass "restart.sh on a ceph pool ($((SECONDS - t0)) s)"
