#!/usr/bin/env bash
# Integration: a preloaded program waiting on a pool that gets killed sees an error.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

pool_start robust2
echo data > "$ROOT/f"
start=$(date +%s)
set +e
# The shell attaches, then freezes the pool; its cat (same session, across
# fork and exec) is left waiting on a request when the pool is killed, and
# waits a second for it to come back (restart.sh), in vain.
out=$(DANAUS_RESTART_WAIT=1 timeout 20 "$RUN_BIN" --pool robust2 --socket "$SOCK" --mountpoint "$MNT" -- \
	bash -c "read line < '$MNT/f' && kill -STOP $PID && exec cat '$MNT/f'" 2>&1 &
      sleep 1; kill -KILL "$PID"; wait)
set -e
echo "$out" | grep -q "handshake" && fail "cat was not attached when the pool died"
echo "$out" | sed 's/^/  | /'
echo "$out" | grep -q "Transport endpoint is not connected" || fail "cat did not get ENOTCONN"
[ $(( $(date +%s) - start )) -lt 15 ] || fail "cat hung on the dead pool"
pass "a program waiting on a killed pool gets ENOTCONN"

# Children killed mid-call: one killed between taking a queue slot and
# filling it must not leave the requests behind the slot unserved (the
# program fails on a statfs unanswered for 10 s; it hung within ~1300
# rounds before the worker skipped such slots).
pool_start kills
mkdir "$ROOT/d"
chmod 777 "$ROOT/d"
out=$(timeout -k 5 300 "$RUN_BIN" --pool kills --socket "$SOCK" --mountpoint "$MNT" -- \
	"$DANAUS_BUILD/tests/integration/test-kill-mid-call" "$MNT/d" 2000 2>&1) ||
	fail "a session's children killed mid-call: $out"
pass "children killed mid-call leave their session served ($out)"

# A quick restart: the new pool binds the socket path while the old one is
# still stopping; the old one must leave the new socket in place.
pool_start restart
old_pid=$PID
"$POOL_BIN" --pool restart --config-dir "$WORK/restart/etc" --socket "$SOCK" \
	2> "$WORK/restart/pool2.log" &
new_pid=$!
POOL_PIDS+=("$new_pid")
for _ in $(seq 100); do grep -q serving "$WORK/restart/pool2.log" && break; sleep 0.05; done
kill -TERM "$old_pid"
for _ in $(seq 100); do kill -0 "$old_pid" 2> /dev/null || break; sleep 0.05; done
[ -S "$SOCK" ] || fail "the stopping pool removed its successor's socket"
echo x > "$ROOT/f"
[ "$("$RUN_BIN" --pool restart --socket "$SOCK" --mountpoint "$MNT" -- cat "$MNT/f")" = x ] ||
	fail "the restarted pool does not serve"
pass "a pool that stops leaves a newer pool's socket in place"
