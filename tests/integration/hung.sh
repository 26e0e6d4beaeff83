#!/usr/bin/env bash
# Integration: a backend call that never returns (here a FUSE mount below the
# pool's root that answers nothing; for Ceph, a lost cluster: ceph-lost.sh)
# answers its client ETIMEDOUT after the pool's request_timeout; a new
# thread takes the stuck worker's place, so the clients queued behind it are
# served; the stuck thread ends once its call returns.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

[ -c /dev/fuse ] || fail "no /dev/fuse: this test needs FUSE to make a backend call that hangs"
STALLER=
stop_staller() {
	local rc=$?
	[ -z "$STALLER" ] || kill "$STALLER" 2> /dev/null || true
	set +e # or (exit 1) would end this trap before cleanup stops the pool
	(exit $rc)
	cleanup
}
trap stop_staller EXIT

POOL_NAME=hung
POOL_SETTINGS='request_timeout = 2' pool_start hung
echo data > "$ROOT/f"
mkdir "$ROOT/stall"
python3 "$HERE/fuse-stall.py" "$ROOT/stall" "$WORK/stall.ready" &
STALLER=$!
for _ in $(seq 100); do [ -e "$WORK/stall.ready" ] && break; sleep 0.05; done
[ -e "$WORK/stall.ready" ] || fail "the stalling FUSE mount did not come up"

# A long-lived client: its request hangs in the service, times out, and the
# same process goes on with a fresh request buffer.
in_pool python3 - "$MNT" > "$WORK/py.out" 2>&1 <<'PY' &
import errno, os, sys, time
m = sys.argv[1]
t = time.monotonic()
try:
    os.stat(m + "/stall/x")
    print("stat answered?!")
except OSError as e:
    print("stall:", errno.errorcode[e.errno], "after", round(time.monotonic() - t) <= 10)
print("f:", open(m + "/f").read().strip())
PY
py=$!
sleep 0.5
# Another client, queued behind the stuck call on the pool's one worker:
# served once a new thread takes the worker's place, not failed.
set +e
other=$(timeout 20 "$RUN_BIN" --pool hung --socket "$SOCK" --mountpoint "$MNT" -- cat "$MNT/f" 2>&1)
rc=$?
set -e
echo "  | $other (exit $rc)"
[ $rc = 0 ] && [ "$other" = data ] || fail "a client queued behind a stuck call was not served: $other"
wait $py || fail "the python client failed: $(cat "$WORK/py.out")"
sed 's/^/  | /' "$WORK/py.out"
grep -qx "stall: ETIMEDOUT after True" "$WORK/py.out" || fail "no ETIMEDOUT for the stuck request"
grep -qx "f: data" "$WORK/py.out" || fail "the client could not go on after the timeout"
grep -q "a new thread serves its queue" "$WORK/hung/pool.log" || fail "the pool did not log the replacement"
pass "a stuck backend call times out its client, and a new thread serves the queue behind it"

# Release the stuck call (the FUSE connection aborts): the stuck thread ends,
# the pool goes on serving and stops cleanly.
kill "$STALLER"
wait "$STALLER" 2> /dev/null || true
STALLER=
out=$(in_pool cat "$MNT/f")
[ "$out" = data ] || fail "the pool does not serve after the stuck call returned: $out"
kill -TERM "$PID"
for _ in $(seq 100); do kill -0 "$PID" 2> /dev/null || break; sleep 0.05; done
kill -0 "$PID" 2> /dev/null && fail "the pool did not stop on SIGTERM"
pass "served normally after the stuck call returned, and stopped on SIGTERM"
