#!/usr/bin/env bash
# Integration: the pool's metrics socket (issue 18). Counters per operation
# move by exactly the requests made, bytes by what was read, sessions and
# open files follow a client, the histograms count what the counters count;
# the socket answers bare text and HTTP, refuses whom [access] refuses, and
# a reader that sends nothing holds up no one; danaus-ctl status reads it.
# Each queue has its depth, 0 while nothing waits; the compat mount's
# requests (a static busybox) are counted apart, by exactly what it did.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || fail "$PY is needed"
BUSYBOX=$(command -v busybox) || fail "busybox is not installed (scripts/install-deps installs busybox-static)"
file -L "$BUSYBOX" | grep -q "statically linked" || fail "$BUSYBOX is not the static busybox (busybox-static)"
[ -c /dev/fuse ] || fail "no /dev/fuse: the compat mount's metrics cannot be tested here"
POOL_NAME=metrics
# two workers serving three queues: queue 2 is worker 0's again
WORKERS=2 POOL_SETTINGS='compat_mount = yes\nqueues = 3\n' pool_start metrics '[access]\nusers = root'
METRICS=${SOCK%.sock}.metrics
[ -S "$METRICS" ] || fail "no metrics socket at $METRICS"
mkdir -p "$ROOT/w"
head -c 10000 /dev/urandom > "$ROOT/w/f"
chmod -R a+rX "$WORK"

cat > "$WORK/get.py" << 'PY'
# get.py SOCKET [--http] KEY...: each KEY's value (0 when absent), or the
# first line of the answer when it is a refusal
import socket, sys
path, args = sys.argv[1], sys.argv[2:]
http = "--http" in args
keys = [a for a in args if a != "--http"]
s = socket.socket(socket.AF_UNIX)
s.connect(path)
if http:
    s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
data = b""
while True:
    x = s.recv(65536)
    if not x:
        break
    data += x
text = data.decode()
if http:
    head, _, text = text.partition("\r\n\r\n")
    print(head.splitlines()[0])
values = {}
for line in text.splitlines():
    if line.startswith("# not allowed"):
        print(line)
    elif line and not line.startswith("#"):
        k, _, v = line.rpartition(" ")
        values[k] = v
for k in keys:
    print(values.get(k, "0"))
PY
get() { "$PY" "$WORK/get.py" "$METRICS" "$@"; }
L='pool="metrics"'

read -r stats0 errs0 bytes0 < <(get "danaus_requests_total{$L,op=\"stat\"}" \
	"danaus_request_errors_total{$L,op=\"stat\"}" "danaus_request_bytes_total{$L,op=\"pread\"}" | xargs)
in_pool "$PY" -c '
import os, sys
for _ in range(25):
    try: os.stat(sys.argv[1] + "/missing")
    except FileNotFoundError: pass
with open(sys.argv[1] + "/f", "rb") as f: assert len(f.read()) == 10000
' "$MNT/w"
read -r stats1 errs1 bytes1 hcount < <(get "danaus_requests_total{$L,op=\"stat\"}" \
	"danaus_request_errors_total{$L,op=\"stat\"}" "danaus_request_bytes_total{$L,op=\"pread\"}" \
	"danaus_request_duration_seconds_count{$L,op=\"stat\"}" | xargs)
[ $((stats1 - stats0)) = 25 ] || fail "25 stat requests counted as $((stats1 - stats0))"
[ $((errs1 - errs0)) = 25 ] || fail "25 failed stats counted as $((errs1 - errs0)) errors"
[ $((bytes1 - bytes0)) = 10000 ] || fail "10000 bytes read counted as $((bytes1 - bytes0))"
[ "$hcount" = "$stats1" ] || fail "the stat histogram counts $hcount, the counter $stats1"
pass "requests, errors and bytes count exactly what a client did ($((stats1 - stats0)) stats)"

# the wait histogram counts what the counter counts; both workers have a busy
# time; memory is the process's, and its cgroup's exactly when it has one
read -r wcount busy0 busy1 busy2 rss cgmem < <(get "danaus_request_wait_seconds_count{$L,op=\"stat\"}" \
	"danaus_worker_busy_seconds_total{$L,worker=\"0\"}" "danaus_worker_busy_seconds_total{$L,worker=\"1\"}" \
	"danaus_worker_busy_seconds_total{$L,worker=\"2\"}" "danaus_resident_memory_bytes{$L}" \
	"danaus_cgroup_memory_bytes{$L}" | xargs)
[ "$wcount" = "$stats1" ] || fail "the stat wait histogram counts $wcount, the counter $stats1"
"$PY" -c 'import sys; sys.exit(not (float(sys.argv[1]) + float(sys.argv[2]) > 0))' "$busy0" "$busy1" ||
	fail "the workers were busy for $busy0 + $busy1 s after $stats1 stats"
[ "$busy2" = 0 ] || fail "a third worker's busy time ($busy2) in a pool of two"
[ "$rss" -gt 1000000 ] || fail "resident memory $rss"
cg=$(sed -n 's/^0:://p' "/proc/$PID/cgroup")
cg1=$(sed -n 's/^[0-9]*:memory://p' "/proc/$PID/cgroup")
if [ -n "$cg" ] && [ -f "/sys/fs/cgroup$cg/memory.current" ]; then
	[ "$cgmem" -gt 0 ] || fail "the pool's cgroup $cg has memory.current, its series says $cgmem"
	cgsaid="cgroup $cg: $cgmem bytes"
elif [ -n "$cg1" ] && [ -f "/sys/fs/cgroup/memory$cg1/memory.usage_in_bytes" ]; then
	# a hybrid host: the v1 memory controller's
	[ "$cgmem" -gt 0 ] || fail "the pool's v1 memory cgroup $cg1 has usage_in_bytes, its series says $cgmem"
	cgsaid="v1 memory cgroup $cg1: $cgmem bytes"
else
	[ "$cgmem" = 0 ] || fail "no memory use for the pool's cgroup '$cg', yet a series says $cgmem"
	cgsaid="no cgroup memory figures here: no series"
fi
pass "wait histogram counts every request, busy time per worker, memory ($cgsaid)"

# sessions and open files follow a client that holds a file
mkfifo "$WORK/go"
in_pool "$PY" -c '
import sys
f = open(sys.argv[1] + "/f")
open(sys.argv[2] + "/held", "w").close()
open(sys.argv[2] + "/go").read()
' "$MNT/w" "$WORK" &
holder=$!
for _ in $(seq 100); do [ -e "$WORK/held" ] && break; sleep 0.05; done
read -r sessions files < <(get "danaus_sessions{$L}" "danaus_open_files{$L}" | xargs)
[ "$sessions" = 1 ] && [ "$files" = 1 ] ||
	fail "with one client holding one file: sessions=$sessions open files=$files"
# its rings went round already (its requests came and went): nothing waits in any of them
depths=$("$PY" - "$METRICS" << 'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
data = b""
while (x := s.recv(65536)): data += x
print(" ".join(l for l in data.decode().splitlines() if l.startswith("danaus_queue_depth{")))
PY
)
want='danaus_queue_depth{pool="metrics",queue="0",worker="0"} 0 danaus_queue_depth{pool="metrics",queue="1",worker="1"} 0 danaus_queue_depth{pool="metrics",queue="2",worker="0"} 0'
[ "$depths" = "$want" ] || fail "queue depths with one idle session: $depths"
echo > "$WORK/go"
wait "$holder"
for _ in $(seq 50); do
	read -r sessions files < <(get "danaus_sessions{$L}" "danaus_open_files{$L}" | xargs)
	[ "$sessions" = 0 ] && [ "$files" = 0 ] && break
	sleep 0.1
done
[ "$sessions" = 0 ] && [ "$files" = 0 ] || fail "after the client left: sessions=$sessions files=$files"
pass "sessions and open files follow a client (1 and 1, then 0 and 0); 3 queues, 0 waiting"

# the compat mount: a static busybox, which the library never reaches, counted apart
for _ in $(seq 100); do
	[ "$(findmnt -n -o FSTYPE "$MNT" 2>/dev/null)" = fuse.danaus ] && break
	sleep 0.05
done
[ "$(findmnt -n -o FSTYPE "$MNT")" = fuse.danaus ] || fail "no compat mount at $MNT"
C="danaus_compat_requests_total{$L,op="
CE="danaus_compat_request_errors_total{$L,op="
keys=("${C}\"open\"}" "danaus_compat_request_bytes_total{$L,op=\"pread\"}" "${CE}\"pread\"}"
	"${CE}\"stat\"}" "danaus_requests_total{$L,op=\"pread\"}" "danaus_requests_total{$L,op=\"open\"}")
read -r copen0 cbytes0 cperr0 cserr0 spread0 sopen0 < <(get "${keys[@]}" | xargs)
[ "$("$BUSYBOX" cat "$MNT/w/f" | wc -c)" = 10000 ] || fail "static busybox read $MNT/w/f wrong"
for _ in 1 2 3 4 5; do "$BUSYBOX" stat "$MNT/w/missing" > /dev/null 2>&1 && fail "stat of a missing file succeeded"; done
read -r copen1 cbytes1 cperr1 cserr1 spread1 sopen1 chist < <(get "${keys[@]}" \
	"danaus_compat_request_duration_seconds_count{$L,op=\"pread\"}" | xargs)
[ $((copen1 - copen0)) = 1 ] || fail "busybox cat's one open counted as $((copen1 - copen0)) compat opens"
[ $((cbytes1 - cbytes0)) = 10000 ] || fail "10000 bytes read through the mount counted as $((cbytes1 - cbytes0))"
[ "$cperr1" = "$cperr0" ] || fail "busybox cat's reads counted as errors"
[ $((cserr1 - cserr0)) -ge 5 ] || fail "5 failed stats through the mount counted as $((cserr1 - cserr0)) errors"
[ "$spread1" = "$spread0" ] && [ "$sopen1" = "$sopen0" ] ||
	fail "compat requests counted as shared-memory ones (pread $spread0 -> $spread1, open $sopen0 -> $sopen1)"
[ "$chist" -ge 1 ] || fail "the compat pread histogram counts nothing"
pass "compat mount requests counted apart: 1 open, 10000 bytes, $((cserr1 - cserr0)) failed stats; shm series unmoved"

# HTTP for scrapers; a refusal for whom [access] refuses; a silent reader holds up no one
[ "$(get --http | head -1)" = "HTTP/1.0 200 OK" ] || fail "no HTTP answer: $(get --http | head -3)"
refused=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" "$WORK/get.py" "$METRICS" --http)
echo "$refused" | grep -q '^HTTP/1.0 403' && echo "$refused" | grep -q 'not allowed' ||
	fail "nobody, whom [access] refuses, read the metrics: $refused"
"$PY" -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(5)' "$METRICS" &
silent=$!
sleep 0.2
start=$(date +%s%N)
[ "$(get "danaus_sessions{$L}")" = 0 ] || fail "a second reader got no answer"
in_pool stat "$MNT/w/f" > /dev/null || fail "the pool stalled behind a silent metrics reader"
took=$((($(date +%s%N) - start) / 1000000))
kill "$silent" 2>/dev/null || true
wait "$silent" 2>/dev/null || true
pass "HTTP answers, nobody is refused (403), a silent reader held up no one (next answers in ${took} ms)"

out=$("$DANAUS_BUILD/run/danaus-ctl" status --socket "$SOCK" --interval 0.2) ||
	fail "danaus-ctl status failed: $out"
echo "$out"
echo "$out" | grep -q "^pool .* (local at $MNT): up " || fail "danaus-ctl status has no pool line"
echo "$out" | grep -qE '^stat +[0-9]+ +[0-9]+ +[0-9]+ ' || fail "danaus-ctl status lists no stat line"
echo "$out" | grep -q ' 0 waiting in 3 queues (at most 0 in one)$' || fail "danaus-ctl status shows no queue depths"
echo "$out" | grep -qE '^compat mount: [0-9]+/s over the interval; [0-9]+ since start, [0-9]+ errors$' ||
	fail "danaus-ctl status shows no compat mount line"
echo "$out" | sed -n '/^compat mount:/,$p' | grep -qE '^pread +[0-9]+ +[1-9][0-9]* +0 ' ||
	fail "danaus-ctl status lists no compat pread line"
"$DANAUS_BUILD/run/danaus-ctl" status --metrics "$WORK/nowhere" 2> "$WORK/ctl.err" &&
	fail "danaus-ctl status succeeded without a pool"
grep -q "cannot reach the pool's metrics at $WORK/nowhere" "$WORK/ctl.err" ||
	fail "danaus-ctl status without a pool said: $(cat "$WORK/ctl.err")"
pass "danaus-ctl status summarizes the pool, and says so when it cannot reach one"
