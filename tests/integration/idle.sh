#!/usr/bin/env bash
# Integration: an idle pool costs no CPU, also right after a burst of requests
# that arrived close together (which grows the workers' poll window, idle.h).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

pool_start idle
echo data > "$ROOT/f"
# Requests ~1 ms apart: each one wakes a worker that had just gone to sleep.
"$RUN_BIN" --pool idle --socket "$SOCK" --mountpoint "$MNT" -- python3 -c "
import time
for _ in range(300):
    open('$MNT/f').read()
    time.sleep(0.0008)
"
# utime + stime of the whole pool, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
sleep 1
before=$(cpu_ticks)
sleep 3
used=$(( $(cpu_ticks) - before ))
hz=$(getconf CLK_TCK)
echo "pool CPU over 3 s idle: $used ticks of 1/$hz s"
# A worker that never went back to sleep would use ~3 s here; bookkeeping
# wake-ups (the watchdog's tick, the workers' bounded sleeps) a few ms.
(( used * 1000 / hz <= 100 )) || fail "the idle pool used $((used * 1000 / hz)) ms of CPU in 3 s"
pass "an idle pool sleeps after a burst of requests (CPU $((used * 1000 / hz)) ms in 3 s)"
