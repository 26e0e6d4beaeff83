#!/usr/bin/env bash
# Integration (ceph): identity-race.sh on a pool served by a real CephFS
# cluster, where a shared map is a copy the library writes back itself: a
# signal handler's munmap of one, inside a call that a switch of the session
# waits for, must neither fail nor wait for that switch.
#
# Before, it failed in about 2 of 5 runs with ENOTCONN: every call waiting
# for a set*id gave up once one had waited a second, and a handler's call
# that interrupted its thread's first one, while a switch held the list of
# threads, gave up at once. Now a thread the set*id has not reached is
# served by the old session, and a thread is listed with signals blocked
# (preload/client.c); only a handler's call stuck two seconds inside glibc's
# SIGSETXID handler would still answer ENOTCONN.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ceph-lib.sh"

ceph_start_with_fuse
t0=$SECONDS
rc=0
ceph_run_local identity-race || rc=$?
[ "$rc" = 0 ] || fail "identity-race.sh on a ceph pool (exit $rc, $((SECONDS - t0)) s)"
pass "identity-race.sh on a ceph pool ($((SECONDS - t0)) s)"
