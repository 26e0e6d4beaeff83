#!/usr/bin/env bash
# Integration (ceph): an unreachable cluster at start makes the service exit
# with a clear message after mount_timeout, not hang.
# Not covered yet: a cluster lost mid-run. libcephfs 16 puts no deadline on
# MDS requests (Client::make_request waits for ever), so the service needs a
# watchdog of its own there; see the ceph backend's report.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ceph-lib.sh"

ceph_start
# 1. Nothing listens where the conf points: exits within mount_timeout (+ slack).
sed -E 's/^mon host = .*/mon host = [v1:127.0.0.1:1]/' "$CEPH_CONF" > "$WORK/dead.conf"
real_conf=$CEPH_CONF
CEPH_CONF="$WORK/dead.conf"
t0=$SECONDS
set +e
out=$( (MOUNT_TIMEOUT=5 ceph_pool_start dead) 2>&1 )
set -e
took=$((SECONDS - t0))
CEPH_CONF=$real_conf
echo "$out" | sed 's/^/  | /'
echo "$out" | grep -q "cannot mount / as client.admin (conf $WORK/dead.conf)" ||
	fail "no clear message for an unreachable cluster"
[ $took -le 15 ] || fail "the service took ${took}s to give up (mount_timeout 5)"
pass "an unreachable cluster: the service exits after ${took}s with a clear message"

