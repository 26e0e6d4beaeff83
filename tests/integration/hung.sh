#!/usr/bin/env bash
# Integration: a backend call that never returns (here a FIFO nobody writes;
# for Ceph, a lost cluster) answers its client ETIMEDOUT after the pool's
# request_timeout, other clients EIO meanwhile, and the pool serves again
# once the call comes back.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

POOL_NAME=hung
POOL_SETTINGS='request_timeout = 2' pool_start hung
mkfifo "$ROOT/fifo"
echo data > "$ROOT/f"

# A long-lived client: its request hangs in the service, times out, and the
# same process goes on with a fresh request buffer.
in_pool python3 - "$MNT" > "$WORK/py.out" 2>&1 <<'PY' &
import errno, os, sys, time
m = sys.argv[1]
t = time.monotonic()
try:
    os.open(m + "/fifo", os.O_RDONLY)
    print("fifo opened?!")
except OSError as e:
    print("fifo:", errno.errorcode[e.errno], "after", round(time.monotonic() - t) <= 10)
while True:  # the pool answers EIO until the stuck call is back
    try:
        print("f:", open(m + "/f").read().strip())
        break
    except OSError as e:
        if e.errno != errno.EIO:
            raise
        time.sleep(0.2)
PY
py=$!
sleep 1
# Another client, queued behind the stuck call: answered EIO, not left waiting.
set +e
other=$(timeout 20 "$RUN_BIN" --pool hung --socket "$SOCK" --mountpoint "$MNT" -- cat "$MNT/f" 2>&1)
rc=$?
set -e
echo "  | $other (exit $rc)"
[ $rc = 1 ] && grep -q "Input/output error" <<<"$other" || fail "a queued client was not answered EIO: $other"
sleep 3
kill -0 "$PID" || fail "the pool died"
# Release the stuck call: a writer opens the FIFO.
echo release > "$ROOT/fifo" &
wait $py || fail "the python client failed: $(cat "$WORK/py.out")"
sed 's/^/  | /' "$WORK/py.out"
grep -qx "fifo: ETIMEDOUT after True" "$WORK/py.out" || fail "no ETIMEDOUT for the stuck request"
grep -qx "f: data" "$WORK/py.out" || fail "the client could not go on after the timeout"
pass "a stuck backend call times out its client, fails the queue fast, and the pool recovers"
out=$(in_pool cat "$MNT/f")
[ "$out" = data ] || fail "the pool does not serve after recovering: $out"
grep -q "answered ETIMEDOUT" "$WORK/hung/pool.log" || fail "the pool did not log the timeout"
pass "served normally again after the stuck call returned"
