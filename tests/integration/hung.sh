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
	touch "$WORK/late.done" # a client waiting for it ends
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

# An open that times out, then succeeds after all: its client never learns
# the handle, so the pool closes the file at once (its open-file count, the
# uid's quota, and its descriptors come back), not when the session ends.
METRICS=${SOCK%.sock}.metrics
open_files() {
	curl -sf --unix-socket "$METRICS" http://pool/metrics |
		awk '$1 == "danaus_open_files{pool=\"hung\"}" { print $2 }'
}
pool_fds() { ls "/proc/$PID/fd" | wc -l; }
wait_for() { for _ in $(seq 300); do [ -e "$1" ] && return 0; sleep 0.05; done; return 1; }
python3 "$HERE/fuse-stall.py" "$ROOT/stall" "$WORK/late.mounted" "$WORK/stall.go" "$WORK/stall.log" &
STALLER=$!
wait_for "$WORK/late.mounted" || fail "the stalling FUSE mount did not come up again"
in_pool python3 - "$MNT" "$WORK" > "$WORK/late.out" 2>&1 <<'PY' &
import errno, os, sys, time
m, work = sys.argv[1], sys.argv[2]
def wait_for(name):
    for _ in range(1200):
        if os.path.exists(work + "/" + name):
            return
        time.sleep(0.05)
    sys.exit("waited for %s in vain" % name)
os.stat(m + "/f")  # attached: the session lives till this process ends
open(work + "/late.attached", "w").close()
wait_for("late.go")
try:
    os.open(m + "/stall/x", os.O_RDONLY)
    print("late open answered?!")
except OSError as e:
    print("late open:", errno.errorcode[e.errno])
sys.stdout.flush()
open(work + "/late.timedout", "w").close()
wait_for("late.done")
PY
late=$!
wait_for "$WORK/late.attached" || fail "the client did not attach: $(cat "$WORK/late.out")"
files0=$(open_files) fds0=$(pool_fds)
[ -n "$files0" ] || fail "no danaus_open_files in the pool's metrics"
touch "$WORK/late.go"
wait_for "$WORK/late.timedout" || fail "the open below the stalled mount was not answered"
grep -qx "late open: ETIMEDOUT" "$WORK/late.out" || fail "no ETIMEDOUT: $(cat "$WORK/late.out")"
touch "$WORK/stall.go" # the stuck open completes
for _ in $(seq 100); do grep -qx RELEASE "$WORK/stall.log" 2> /dev/null && break; sleep 0.05; done
files=$(open_files) fds=$(pool_fds)
echo "  | FUSE answered: $(xargs < "$WORK/stall.log"); open files $files0 -> $files, pool fds $fds0 -> $fds"
grep -qx OPEN "$WORK/stall.log" || fail "the stuck open never completed in the backend"
[ "$files" = "$files0" ] && [ "$fds" = "$fds0" ] && grep -qx RELEASE "$WORK/stall.log" ||
	fail "the timed-out open's late handle stays open in the pool: open files $files0 -> $files, fds $fds0 -> $fds"
touch "$WORK/late.done"
wait $late || fail "the client of the late open failed: $(cat "$WORK/late.out")"
kill "$STALLER"
wait "$STALLER" 2> /dev/null || true
STALLER=
pass "an open answered ETIMEDOUT that then succeeds leaves no file open in the pool"

kill -TERM "$PID"
for _ in $(seq 100); do kill -0 "$PID" 2> /dev/null || break; sleep 0.05; done
kill -0 "$PID" 2> /dev/null && fail "the pool did not stop on SIGTERM"
pass "served normally after the stuck call returned, and stopped on SIGTERM"
