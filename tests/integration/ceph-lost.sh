#!/usr/bin/env bash
# Integration (ceph): an unreachable cluster at start makes the service exit
# with a clear message after mount_timeout, not hang; a cluster lost mid-run
# makes requests fail in bounded time (libcephfs 16 puts no deadline on MDS
# requests: the pool's request_timeout watchdog answers them) and the
# service survives and stops on SIGTERM.
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


# 2. The cluster goes away under a serving pool.
POOL_SETTINGS='request_timeout = 5' ceph_pool_start lost
run() { timeout 60 "$RUN_BIN" --pool lost --socket "$SOCK" --mountpoint "$MNT" -- "$@"; }
run sh -c "echo before > '$MNT/f' && cat '$MNT/f'" | grep -qx before || fail "the pool did not serve"
"$CEPH_LOCAL" stop "$CEPH_DIR" > /dev/null 2>&1
t0=$SECONDS
set +e
out=$(run sh -c "echo after > '$MNT/g'; sync '$MNT/g'; stat '$MNT/f'" 2>&1)
rc=$?
set -e
took=$((SECONDS - t0))
echo "$out" | sed 's/^/  | /'
[ $rc -ne 124 ] || fail "requests hung for 60 s after the cluster was lost"
echo "$out" | grep -qE "timed out|Input/output error" || fail "no ETIMEDOUT/EIO: $out"
kill -0 "$PID" || fail "the pool died when the cluster was lost"
pass "cluster lost mid-run: requests failed after ${took}s, the pool survives"
t0=$SECONDS
kill -TERM "$PID"
for _ in $(seq 200); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PID" 2>/dev/null && fail "the pool did not stop on SIGTERM with its cluster gone"
pass "and it stops on SIGTERM ($((SECONDS - t0))s)"
