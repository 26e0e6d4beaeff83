#!/usr/bin/env bash
# Integration: programs holding files of a pool go on across kill -9 of the pool and its restart.
# With DANAUS_TEST_CEPH_DIR (ceph-restart.sh) the pool is a Ceph one: then the
# files changed through ceph-fuse after the restart must not wait for the dead
# pool's MDS session, which its successor has dropped.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

# the pool's own account of the restarts, when something fails
fail() {
	echo "FAIL: $*" >&2
	[ -f "$WORK/rs/pool.log" ] && sed 's/^/  pool.log | /' "$WORK/rs/pool.log" | tail -n 40 >&2
	exit 1
}

export DANAUS_RESTART_WAIT=${DANAUS_RESTART_WAIT:-20}
pool_start rs
SYNC="$WORK/sync"
mkdir -p "$SYNC"
chmod 777 "$SYNC"

# The pool again, as pool_start ran it (same config and socket).
pool_again() {
	rm -f "$SOCK"
	"$POOL_BIN" --pool rs --config-dir "$WORK/rs/etc" --socket "$SOCK" 2>>"$WORK/rs/pool.log" 7>&- &
	PID=$!
	POOL_PIDS+=("$PID")
	for _ in $(seq 600); do [ -S "$SOCK" ] && return 0; sleep 0.05; done
	fail "the pool did not come back"
}

wait_for() { # FILE [SECONDS]
	for _ in $(seq $((${2:-20} * 20))); do [ -e "$1" ] && return 0; sleep 0.05; done
	fail "timed out waiting for $1"
}

# ---- the programs ----

cat > "$WORK/lib.py" <<'EOF'
import os, sys, time
SYNC = sys.argv[1]
MNT = sys.argv[2]
def ready(name):
    open(f"{SYNC}/ready.{name}", "w").close()
def wait(name, t=180):
    for _ in range(t * 50):
        if os.path.exists(f"{SYNC}/{name}"):
            return
        time.sleep(0.02)
    sys.exit(f"timed out waiting for {name}")
def errno_of(f):
    try:
        f()
        return 0
    except OSError as e:
        return e.errno
EOF

# A writer: 4 KiB blocks, each write+fsync, before, during and after the restart.
cat > "$WORK/writer.py" <<'EOF'
exec(open(__file__.replace("writer.py", "lib.py")).read())
import errno
fd = os.open(f"{MNT}/blocks", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
i = 0
synced = 0
def block(i):
    return (b"%08d" % i) * 512
def fsync():
    # EIO: a pool whose cache died with it (Ceph) lost what was not synced:
    # write it again, as a careful program does
    global synced
    while True:
        try:
            os.fsync(fd)
            synced = i
            return
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            print("fsync EIO: blocks", synced, "to", i, "written again", flush=True)
            for k in range(synced, i):
                os.pwrite(fd, block(k), k * 4096)
while True:
    assert os.write(fd, block(i)) == 4096
    i += 1
    fsync()
    if i == 50:
        ready("writer")
    if i > 50 and os.path.exists(f"{SYNC}/go"):
        break
    time.sleep(0.005)
for _ in range(50):
    os.write(fd, block(i)); i += 1; fsync()
os.close(fd)
data = open(f"{MNT}/blocks", "rb").read()
want = b"".join(block(k) for k in range(i))
print("writer", i, "blocks", "ok" if data == want else "BAD")
EOF

# A reader: 64 KiB at a time through a file, across the restart.
cat > "$WORK/reader.py" <<'EOF'
exec(open(__file__.replace("reader.py", "lib.py")).read())
import hashlib
fd = os.open(f"{MNT}/big", os.O_RDONLY)
h = hashlib.sha256()
n = 0
while True:
    b = os.read(fd, 65536)
    if not b:
        break
    h.update(b)
    n += 1
    if n == 4:
        ready("reader")
    if n < 200:
        time.sleep(0.02)
print("reader", h.hexdigest())
EOF

# Calls in flight when the pool dies: the stopped pool never answers them.
cat > "$WORK/inflight.py" <<'EOF'
exec(open(__file__.replace("inflight.py", "lib.py")).read())
import errno, threading
kept = os.open(f"{MNT}/kept2", os.O_RDWR)
app = os.open(f"{MNT}/app", os.O_WRONLY | os.O_APPEND)
ready("inflight")
wait("stopped")
res = {}
def t_pread(): res["pread"] = os.pread(kept, 5, 0)
def t_append(): res["append"] = errno_of(lambda: os.write(app, b"appended\n"))
def t_mkdir(): res["mkdir"] = errno_of(lambda: os.mkdir(f"{MNT}/newdir"))
def t_stat(): res["stat"] = os.stat(f"{MNT}/kept2").st_size
ts = [threading.Thread(target=f) for f in (t_pread, t_append, t_mkdir, t_stat)]
for t in ts: t.start()
for t in ts: t.join()
print("inflight pread", res["pread"].decode())
print("inflight append", errno.errorcode.get(res["append"], res["append"]))
print("inflight mkdir", errno.errorcode.get(res["mkdir"], res["mkdir"]))
print("inflight stat", res["stat"])
EOF

# Python holding a working directory, a directory stream, a file opened
# relative to a directory fd, a file at an offset; files that change while
# it is away from the pool; and locks.
cat > "$WORK/holder.py" <<'EOF'
exec(open(__file__.replace("holder.py", "lib.py")).read())
import errno, fcntl
os.chdir(f"{MNT}/sub")
it = os.scandir(f"{MNT}/many")
seen = [next(it).name for _ in range(100)]
dfd = os.open(f"{MNT}/sub", os.O_RDONLY | os.O_DIRECTORY)
rel = os.open("rel", os.O_RDONLY, dir_fd=dfd)
os.close(dfd)
kept = os.open(f"{MNT}/kept", os.O_RDWR)
os.lseek(kept, 6, os.SEEK_SET)
gone = os.open(f"{MNT}/gone", os.O_RDONLY)
replaced = os.open(f"{MNT}/replaced", os.O_RDONLY)
locked = os.open(f"{MNT}/locked", os.O_RDWR)
fcntl.lockf(locked, fcntl.LOCK_EX)
flocked = os.open(f"{MNT}/flocked", os.O_RDONLY)
fcntl.flock(flocked, fcntl.LOCK_EX)
unlocked = os.open(f"{MNT}/unlocked", os.O_RDWR)
fcntl.lockf(unlocked, fcntl.LOCK_EX)
fcntl.lockf(unlocked, fcntl.LOCK_UN)
ready("holder")
wait("go")
rest = [e.name for e in it]
print("scandir", len(seen) + len(rest), len(set(seen + rest)))
print("cwd", open("here").read().strip(), os.getcwd())
print("rel", os.read(rel, 100).decode().strip())
print("kept offset", os.read(kept, 5).decode())
os.write(kept, b"!")
def en(e): return errno.errorcode.get(e, e)
print("gone read", en(errno_of(lambda: os.read(gone, 10))))
print("gone fstat", en(errno_of(lambda: os.fstat(gone))))
print("replaced read", en(errno_of(lambda: os.read(replaced, 10))))
print("locked read", en(errno_of(lambda: os.read(locked, 10))))
print("flocked read", en(errno_of(lambda: os.read(flocked, 10))))
print("unlocked read", en(errno_of(lambda: os.pread(unlocked, 10, 0))))
print("gone close", en(errno_of(lambda: os.close(gone))))
print("new open", open(f"{MNT}/kept").read())
EOF

# Who else may take the lock the holder had when the pool died.
cat > "$WORK/locker.py" <<'EOF'
exec(open(__file__.replace("locker.py", "lib.py")).read())
import fcntl
fd = os.open(f"{MNT}/locked", os.O_RDWR)
print("other lock", errno_of(lambda: fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)))
EOF

# Rights as they are now: a file made unreadable while the pool was down.
cat > "$WORK/nobody.py" <<'EOF'
exec(open(__file__.replace("nobody.py", "lib.py")).read())
import errno
fd = os.open(f"{MNT}/private", os.O_RDONLY)
fd2 = os.open(f"{MNT}/public", os.O_RDONLY)
ready("nobody")
wait("go")
e = errno_of(lambda: os.read(fd, 10))
print("private read", errno.errorcode.get(e, e))
print("public read", os.read(fd2, 10).decode().strip())
EOF

# Files a shell opened and its program inherited across exec.
cat > "$WORK/inherit.py" <<'EOF'
exec(open(__file__.replace("inherit.py", "lib.py")).read())
ready("inherit")
wait("go")
print("inherited read", os.read(3, 100).decode().strip())
os.write(4, b"after\n")
EOF

# ---- the files ----
head -c $((8 << 20)) /dev/urandom > "$ROOT/big"
mkdir "$ROOT/sub" "$ROOT/many"
echo here > "$ROOT/sub/here"
echo relative > "$ROOT/sub/rel"
for i in $(seq 300); do : > "$ROOT/many/e$i"; done
printf 'hello world' > "$ROOT/kept"
printf 'hello world' > "$ROOT/kept2"
for f in gone replaced locked flocked unlocked app; do echo "$f" > "$ROOT/$f"; done
echo private > "$ROOT/private"
echo public > "$ROOT/public"
echo inherited > "$ROOT/inherited"
echo before > "$ROOT/appended"
printf 'line1\n' > "$ROOT/log"

# exec: a program started with `run ... &` is the job itself, which the end kills
run() { exec "$RUN_BIN" --pool rs --socket "$SOCK" --mountpoint "$MNT" -- "$@"; }
restart_cleanup() {
	local rc=$? job
	for job in $(jobs -p); do kill "$job" 2>/dev/null || true; done
	set +e # or (exit 1) would end this trap before cleanup stops the pool
	(exit $rc)
	cleanup
}
trap restart_cleanup EXIT

run python3 "$WORK/writer.py" "$SYNC" "$MNT" > "$WORK/writer.out" 2>&1 &
writer=$!
run python3 "$WORK/reader.py" "$SYNC" "$MNT" > "$WORK/reader.out" 2>&1 &
reader=$!
run python3 "$WORK/holder.py" "$SYNC" "$MNT" > "$WORK/holder.out" 2>&1 &
holder=$!
run python3 "$WORK/inflight.py" "$SYNC" "$MNT" > "$WORK/inflight.out" 2>&1 &
inflight=$!
setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$RUN_BIN" --pool rs --socket "$SOCK" --mountpoint "$MNT" --no-cgroup -- \
	python3 "$WORK/nobody.py" "$SYNC" "$MNT" > "$WORK/nobody.out" 2>&1 &
nobody=$!
run tail -n +1 -f "$MNT/log" > "$WORK/tail.out" 2>&1 &
tailpid=$!
run sh -c "exec python3 '$WORK/inherit.py' '$SYNC' '$MNT' 3< '$MNT/inherited' 4>> '$MNT/appended'" \
	> "$WORK/inherit.out" 2>&1 &
inherit=$!
mkfifo "$WORK/sql.in"
run sqlite3 "$MNT/db" < "$WORK/sql.in" > "$WORK/sql.out" 2>&1 &
sqlpid=$!
exec 7> "$WORK/sql.in"
echo "create table t(x); insert into t values (1), (2), (3);" >&7
echo "select 'before', count(*) from t;" >&7

for p in writer reader holder inflight nobody inherit; do wait_for "$SYNC/ready.$p" 120; done
for _ in $(seq 100); do grep -q before "$WORK/sql.out" 2>/dev/null && break; sleep 0.05; done
grep -q "before|3" "$WORK/sql.out" || fail "sqlite3 did not start: $(cat "$WORK/sql.out")"
for _ in $(seq 100); do grep -q line1 "$WORK/tail.out" && break; sleep 0.05; done
grep -q line1 "$WORK/tail.out" || fail "tail -f did not start"

# Stopped, so calls are in flight when it dies; then killed, and started again.
kill -STOP "$PID"
touch "$SYNC/stopped"
sleep 1
kill -KILL "$PID"
wait "$PID" 2>/dev/null || true
sleep 1
pool_again
# Before the holders call again: one file goes, one is replaced by another
# inode, one is no longer readable. (On Ceph only now: the dead pool's MDS
# session holds caps on them until the new pool has it dropped.)
t0=$SECONDS
rm "$ROOT/gone"
echo other > "$ROOT/replaced.new" && mv "$ROOT/replaced.new" "$ROOT/replaced"
chmod 600 "$ROOT/private"
[ $((SECONDS - t0)) -lt 10 ] || fail "changing files the dead pool held took $((SECONDS - t0)) s"
touch "$SYNC/go"
echo "line2" >> "$ROOT/log"

echo "insert into t values (4); select 'after', count(*) from t; pragma integrity_check;" >&7
echo ".quit" >&7
exec 7>&-
rc=0
wait "$sqlpid" || rc=$?
[ $rc = 0 ] || fail "sqlite3 failed ($rc): $(cat "$WORK/sql.out")"
for p in writer reader holder inflight nobody inherit; do
	wait "${!p}" || rc=$?
	[ $rc = 0 ] || { cat "$WORK/$p.out" >&2; fail "$p failed ($rc)"; }
done
for _ in $(seq 200); do grep -q line2 "$WORK/tail.out" && break; sleep 0.05; done
kill "$tailpid" 2>/dev/null || true

sed 's/^/  writer | /' "$WORK/writer.out"
grep -q "blocks ok" "$WORK/writer.out" || fail "the writer's blocks are not each there once, in order"
pass "write+fsync across kill -9 and restart: every block once, in order"

want=$(sha256sum < "$ROOT/big" | cut -d' ' -f1)
grep -q "reader $want" "$WORK/reader.out" || fail "the reader read something else: $(cat "$WORK/reader.out")"
pass "a reader goes on at its offset across the restart"

grep -q line2 "$WORK/tail.out" || fail "tail -f saw nothing after the restart: $(cat "$WORK/tail.out")"
pass "tail -f follows its file across the restart"

sed 's/^/  sqlite3 | /' "$WORK/sql.out"
grep -q "after|4" "$WORK/sql.out" && grep -qx ok "$WORK/sql.out" ||
	fail "sqlite3 lost rows or its database"
pass "sqlite3 keeps its database open across the restart"

sed 's/^/  inflight | /' "$WORK/inflight.out"
sed 's/^/  holder | /' "$WORK/holder.out"
expect() { grep -qx "$1" "$WORK/holder.out" "$WORK/inflight.out" || fail "expected '$1'"; }
expect "inflight pread hello"
expect "inflight stat 11"
expect "inflight append EIO"
expect "inflight mkdir EIO"
[ "$(cat "$ROOT/app")" = app ] || fail "the append in flight was done after all"
[ ! -e "$ROOT/newdir" ] || fail "the mkdir in flight was done after all"
pass "calls in flight: pread and stat sent again; append and mkdir answer EIO, not done twice"
expect "scandir 300 300"
pass "a directory stream goes on where it was"
expect "cwd here $MNT/sub"
expect "rel relative"
pass "the working directory and a file opened relative to a directory fd"
expect "kept offset world"
[ "$(cat "$ROOT/kept")" = "hello world!" ] || fail "kept: $(cat "$ROOT/kept")"
pass "an open file keeps its offset"
expect "gone read ESTALE"
expect "gone fstat ESTALE"
expect "gone close 0"
expect "replaced read ESTALE"
pass "a file unlinked or replaced while the pool was down answers ESTALE, on that fd only"
expect "locked read ESTALE"
expect "flocked read ESTALE"
expect "unlocked read 0"
out=$(run python3 "$WORK/locker.py" "$SYNC" "$MNT")
[ "$out" = "other lock 0" ] || fail "locker: $out"
pass "fds that held locks answer ESTALE (the locks are gone: another process takes them)"

sed 's/^/  inherit | /' "$WORK/inherit.out"
grep -qx "inherited read inherited" "$WORK/inherit.out" || fail "a file inherited across exec"
[ "$(cat "$ROOT/appended")" = "$(printf 'before\nafter')" ] || fail "appended: $(cat "$ROOT/appended")"
pass "files a program inherited across exec are reopened too"

sed 's/^/  nobody | /' "$WORK/nobody.out"
grep -qx "private read ESTALE" "$WORK/nobody.out" || fail "a file no longer readable was reopened"
grep -qx "public read public" "$WORK/nobody.out" || fail "nobody's other file"
pass "a reopen runs with the caller's rights now: no longer permitted is ESTALE"

# Not back in time: ENOTCONN after the wait, and a later call attaches again.
DANAUS_RESTART_WAIT=1 run python3 -c "
import os, sys, time, errno
fd = os.open('$MNT/kept', os.O_RDONLY)
open('$SYNC/ready.late', 'w').close()
while not os.path.exists('$SYNC/dead'): time.sleep(0.02)
try:
    os.pread(fd, 5, 0); print('read?')
except OSError as e:
    print(errno.errorcode[e.errno])
sys.stdout.flush()
open('$SYNC/tried', 'w').close()
while not os.path.exists('$SYNC/back'): time.sleep(0.02)
print(os.pread(fd, 5, 0).decode())
" > "$WORK/late.out" 2>&1 &
late=$!
wait_for "$SYNC/ready.late"
kill -KILL "$PID"
wait "$PID" 2>/dev/null || true
touch "$SYNC/dead"
# back only once the program has tried (and waited its second): a sleep
# here would race a program slowed down by a loaded machine
wait_for "$SYNC/tried"
pool_again
touch "$SYNC/back"
wait "$late" || true
sed 's/^/  late | /' "$WORK/late.out"
grep -qx ENOTCONN "$WORK/late.out" || fail "a pool not back within the wait: no ENOTCONN"
grep -qx hello "$WORK/late.out" || fail "a pool back later was not attached again"
pass "a pool not back within DANAUS_RESTART_WAIT: ENOTCONN, then attached again once it is"
