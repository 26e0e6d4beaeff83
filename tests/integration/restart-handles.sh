#!/usr/bin/env bash
# Integration: threads keep using several open files, by their descriptors
# and through a directory's, while their pool is killed (SIGKILL, SIGTERM)
# and started again, over and over. The kernel never fails an fstat, pread,
# fstatat, pwrite or posix_fadvise on a file it keeps open:
# test-restart-handles checks each, and every byte it reads, on a kernel
# directory first (the oracle), then through the pool. A restart reopens
# each file under the handle number it had (preload/restart.c): before, the
# numbers changed, and a call that read one just before the restart sent it
# after, answering EBADF (fstat, fstatat, posix_fadvise).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

BIN="$DANAUS_BUILD/tests/integration/test-restart-handles"
ROUNDS=${RESTART_HANDLES_ROUNDS:-10}
FILES=6
export DANAUS_RESTART_WAIT=20

pool_start rh
KDIR="$WORK/kernel"
mkdir -p "$KDIR" "$WORK/ksync" "$WORK/sync"

# The pool again, as pool_start ran it (same config and socket).
pool_again() {
	rm -f "$SOCK"
	"$POOL_BIN" --pool rh --config-dir "$WORK/rh/etc" --socket "$SOCK" 2>>"$WORK/rh/pool.log" &
	PID=$!
	POOL_PIDS+=("$PID")
	for _ in $(seq 600); do [ -S "$SOCK" ] && return 0; sleep 0.05; done
	fail "the pool did not come back"
}

wait_for() { # FILE
	for _ in $(seq 1200); do [ -e "$1" ] && return 0; sleep 0.05; done
	fail "timed out waiting for $1"
}

# the oracle: the same program on a kernel directory, no restart
"$BIN" "$KDIR" $FILES "$WORK/ksync" > "$WORK/kernel.out" 2>&1 &
kpid=$!
wait_for "$WORK/ksync/ready"
sleep 0.5
touch "$WORK/ksync/stop"
wait $kpid || fail "the kernel itself: exit $?: $(cat "$WORK/kernel.out")"
[ "$(cat "$WORK/kernel.out")" = done ] || fail "the kernel itself: $(cat "$WORK/kernel.out")"

timeout -k 5 300 "$RUN_BIN" --pool rh --socket "$SOCK" --mountpoint "$MNT" -- \
	"$BIN" "$MNT" $FILES "$WORK/sync" > "$WORK/pool.out" 2>&1 &
user=$!
wait_for "$WORK/sync/ready"
for round in $(seq "$ROUNDS"); do
	sleep 0.2
	sig=$([ $((round % 2)) = 0 ] && echo TERM || echo KILL)
	kill -$sig "$PID"
	wait "$PID" 2>/dev/null || true
	sleep 1 # down a while: calls begin meanwhile, and wait
	pool_again
done
sleep 0.5
touch "$WORK/sync/stop"
rc=0
wait $user || rc=$?
out=$(cat "$WORK/pool.out")
[ $rc = 0 ] && [ "$out" = done ] || fail "through the pool, $ROUNDS restarts (exit $rc): $out"
for i in $(seq 0 $((FILES - 1))); do
	cmp -s "$KDIR/h.$i" "$ROOT/h.$i" || fail "h.$i differs from the kernel's after the restarts"
done
pass "fstat, pread, fstatat, pwrite and posix_fadvise on $FILES files across $ROUNDS restarts of the pool, as the kernel's"
