#!/usr/bin/env bash
# Integration: MAP_SHARED of a pool file between processes, a process-shared
# mutex in such a map, and two SQLite writers in WAL mode at once (whose
# wal-index is such a map). On a local pool maps are the kernel's own (the
# pool hands the file over); on a Ceph pool the pool hands over its memfd of
# the file (daemon/ceph-shm.h), which it reads and writes the file through
# and writes back. Either way, as on a kernel filesystem: stores of one
# process are seen by another's map at once, and by read(2) through the
# pool; a mutex in the map excludes across processes; a map past the end of
# a file truncated under it raises SIGBUS; both SQLite writers
# keep all their rows. On Ceph besides, as ceph-fuse would: what a map
# stored reaches another Ceph client (ceph-fuse) after msync(MS_SYNC), and
# after the last mapper closed and unmapped without msync; what another
# Ceph client wrote reaches the maps (within the pool's refresh period);
# past the maps' budget a map is a copy again, a second writable one refused.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

command -v python3 > /dev/null || fail "python3 is needed"
command -v sqlite3 > /dev/null || fail "sqlite3 is needed (scripts/install-deps installs it)"
ceph=${DANAUS_TEST_CEPH_DIR:+yes}

pool_start m
# the pool's own account, when something fails
fail() {
	echo "FAIL: $*" >&2
	[ -f "$WORK/m/pool.log" ] && tail -n 30 "$WORK/m/pool.log" | sed 's/^/  pool.log | /' >&2
	exit 1
}
cat > "$WORK/maps.py" << 'PY'
import mmap, os, sys, time

path, role = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_RDWR)
try:
    m = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
except OSError as e:
    print(role, "map refused:", os.strerror(e.errno), flush=True)
    sys.exit(3)
if role == "writer":
    m[0:5] = b"hello"  # no msync: a kernel map is seen by others at once
    print("writer stored", flush=True)
    # the reader's store, seen without msync; waited for, not timed (a
    # loaded host may take seconds to start the reader), until it is done
    for _ in range(6000):
        if m[100:105] != bytes(5) or os.path.exists(path + ".done"):
            break
        time.sleep(0.01)
    print("writer sees", bytes(m[100:105]), flush=True)
else:
    for _ in range(200):
        if m[0:5] == b"hello":
            break
        time.sleep(0.01)
    print("reader sees", bytes(m[0:5]), flush=True)
    m[100:105] = b"world"
    print("read(2) sees", os.pread(fd, 5, 0), flush=True)
PY
head -c 4096 /dev/zero > "$ROOT/shared"
in_pool python3 "$WORK/maps.py" "$MNT/shared" writer > "$WORK/writer.out" 2>&1 &
wpid=$!
# the second mapper comes once the first has its map (a slow start must not swap them)
for _ in $(seq 1200); do grep -q "writer stored" "$WORK/writer.out" 2>/dev/null && break; sleep 0.05; done
grep -q "writer stored" "$WORK/writer.out" || fail "the first mapper did not map: $(cat "$WORK/writer.out")"
rc=0
in_pool python3 "$WORK/maps.py" "$MNT/shared" reader > "$WORK/reader.out" 2>&1 || rc=$?
in_pool touch "$MNT/shared.done"
wait $wpid || fail "the first mapper failed: $(cat "$WORK/writer.out")"
cat "$WORK/writer.out" "$WORK/reader.out"
[ "$rc" = 0 ] || fail "the second mapper failed"
grep -qx "reader sees b'hello'" "$WORK/reader.out" || fail "a store was not seen by another process's map"
grep -qx "read(2) sees b'hello'" "$WORK/reader.out" || fail "read(2) through the pool did not see a map's store"
grep -qx "writer sees b'world'" "$WORK/writer.out" || fail "the first map did not see the second's store"
pass "${ceph:+ceph: }shared maps of two processes and read(2) see each other's stores at once"

# A process-shared mutex in the map, taken by three processes at once.
MUTEX_BIN="$DANAUS_BUILD/tests/integration/test-pshared-mutex"
in_pool "$MUTEX_BIN" "$MNT/mutex" init || fail "pshared-mutex init failed"
pids=
for i in 1 2 3; do
	in_pool "$MUTEX_BIN" "$MNT/mutex" run 20000 & pids="$pids $!"
done
for p in $pids; do wait "$p" || fail "a process using the shared mutex failed"; done
got=$(in_pool "$MUTEX_BIN" "$MNT/mutex" show)
echo "counter after 3 x 20000 increments under the mutex: $got"
[ "$got" = 60000 ] || fail "a process-shared mutex in a map did not exclude across processes ($got)"
pass "${ceph:+ceph: }a process-shared mutex in a map excludes across processes"

if [ -n "$ceph" ]; then
	# Another Ceph client (ceph-fuse, ROOT) sees a map's stores: after msync
	# at once, while the mapper still has the file open; after the last
	# close and unmap, without msync.
	cat > "$WORK/sync.py" << 'PY'
import mmap, os, subprocess, sys
path, root, how = sys.argv[1:4]
fd = os.open(path, os.O_RDWR)
m = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
m[200:206] = how.encode()[:6].ljust(6, b".")
if how == "msync":
    m.flush()  # msync(MS_SYNC)
    # O_DIRECT: ceph-fuse's client, not the kernel's page cache of it
    # (which is not told of every change of another client's)
    out = subprocess.run(["dd", "if=" + root, "iflag=direct", "bs=4096", "count=1"],
                         capture_output=True, check=True).stdout
    print("other client sees", out[200:206], flush=True)
m.close()
os.close(fd)
PY
	in_pool python3 "$WORK/sync.py" "$MNT/shared" "$ROOT/shared" msync > "$WORK/sync.out" 2>&1 ||
		fail "the msync mapper failed: $(cat "$WORK/sync.out")"
	cat "$WORK/sync.out"
	grep -qx "other client sees b'msync.'" "$WORK/sync.out" ||
		fail "another Ceph client did not see a store after msync(MS_SYNC)"
	in_pool python3 "$WORK/sync.py" "$MNT/shared" "$ROOT/shared" closed > "$WORK/sync.out" 2>&1 ||
		fail "the closing mapper failed: $(cat "$WORK/sync.out")"
	seen=$(in_pool dd if="$MNT/shared" bs=1 skip=200 count=6 2> /dev/null)
	[ "$seen" = closed ] || fail "read(2) through the pool did not see a store after the last close ($seen)"
	# The pool wrote it back at the close, into its Ceph client's cache
	# (as a kernel client's close leaves dirty pages to write-back): a later
	# fsync of the file, with no map left, sends it on to the cluster (and
	# to ceph-fuse's client, read past its kernel page cache).
	in_pool python3 -c 'import os, sys; os.fsync(os.open(sys.argv[1], os.O_RDONLY))' "$MNT/shared" ||
		fail "fsync through the pool failed"
	seen=$(dd if="$ROOT/shared" iflag=direct bs=4096 count=1 2> /dev/null | dd bs=1 skip=200 count=6 2> /dev/null)
	echo "other client sees after the last close: $seen"
	[ "$seen" = closed ] || fail "another Ceph client did not see a store after the last close ($seen)"
	pass "ceph: a map's stores reach another Ceph client after msync and after the last close"

	# Another Ceph client's write (ceph-fuse, synced) reaches a map in the
	# pool and read(2) through the pool, as ceph-fuse's page cache is
	# invalidated: within the pool's refresh period (a second), waited for.
	cat > "$WORK/theirs.py" << 'PY'
import mmap, os, sys, time
path = sys.argv[1]
fd = os.open(path, os.O_RDWR)
m = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
m[400:404] = b"mine"
print("mapped", flush=True)
for _ in range(300):
    if m[300:305] == b"fuse!":
        break
    time.sleep(0.05)
print("map sees", bytes(m[300:305]), "read(2) sees", os.pread(fd, 5, 300), flush=True)
m.close()
PY
	in_pool python3 "$WORK/theirs.py" "$MNT/shared" > "$WORK/theirs.out" 2>&1 &
	tpid=$!
	for _ in $(seq 1200); do grep -q mapped "$WORK/theirs.out" 2>/dev/null && break; sleep 0.05; done
	printf 'fuse!' | dd of="$ROOT/shared" bs=1 seek=300 conv=notrunc,fsync 2> /dev/null
	wait $tpid || fail "the mapper failed: $(cat "$WORK/theirs.out")"
	cat "$WORK/theirs.out"
	grep -qx "map sees b'fuse!' read(2) sees b'fuse!'" "$WORK/theirs.out" ||
		fail "another Ceph client's write did not reach a map in the pool"
	seen=$(in_pool dd if="$MNT/shared" bs=1 skip=400 count=4 2> /dev/null)
	[ "$seen" = mine ] || fail "the map's own store was lost taking another client's write ($seen)"
	pass "ceph: another Ceph client's write reaches a map and read(2), the map's own stores kept"
fi

# A map past the end of a file truncated under it: SIGBUS, as the kernel's
# page cache gives (on Ceph the memfd follows the file's size); the page
# that is left keeps its bytes.
cat > "$WORK/bus.py" << 'PY'
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.ftruncate(fd, 8192)
m = mmap.mmap(fd, 8192, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
m[0:4] = b"kept"
m[5000:5004] = b"gone"
os.ftruncate(fd, 4096)
print("left", bytes(m[0:4]), flush=True)
print("past the end", m[5000], flush=True)
PY
rc=0
in_pool python3 "$WORK/bus.py" "$MNT/bus" > "$WORK/bus.out" 2>&1 || rc=$?
cat "$WORK/bus.out"
[ "$rc" = 135 ] && grep -qx "left b'kept'" "$WORK/bus.out" && ! grep -q "past the end" "$WORK/bus.out" ||
	fail "a map past the end of a truncated file did not raise SIGBUS (exit $rc)"
pass "${ceph:+ceph: }a map past the end of a file truncated under it raises SIGBUS"

# Two SQLite writers in WAL mode at once, 300 transactions each.
db="$MNT/wal.db"
in_pool sqlite3 "$db" "pragma journal_mode=wal; create table t(w text, i int);" > /dev/null
writer() {
	local w=$1
	{
		for i in $(seq 300); do echo "insert into t values('$w', $i);"; done
	} | in_pool sqlite3 -cmd ".timeout 30000" -bail "$db" > "$WORK/$w.out" 2>&1
}
writer A & apid=$!
writer B & bpid=$!
arc=0 brc=0
wait $apid || arc=$?
wait $bpid || brc=$?
counts=$(in_pool sqlite3 -cmd ".timeout 30000" "$db" \
	"select w || '=' || count(*) from t group by w; pragma integrity_check;")
echo "writers exit A=$arc B=$brc; rows: $(echo $counts)"
for w in A B; do
	eval "wrc=\$${w,,}rc"
	n=$(echo "$counts" | sed -n "s/^$w=//p")
	if [ "$wrc" = 0 ] && [ "${n:-0}" != 300 ]; then
		fail "writer $w exited 0 but only ${n:-0} of its 300 rows are in the database"
	fi
	[ "$wrc" = 0 ] || echo "writer $w failed visibly: $(tail -1 "$WORK/$w.out")"
done
echo "$counts" | grep -qx ok || fail "integrity_check: $counts"
[ "$arc" = 0 ] && [ "$brc" = 0 ] || fail "a writer failed"
pass "${ceph:+ceph: }two WAL writers at once keep all 600 rows"

if [ -n "$ceph" ]; then
	# Past the budget ([ceph] cache_size 16M: memfd and shadow 8 MiB each)
	# a map is a copy again: a second writable one of the file through
	# another process is refused (EAGAIN) rather than silently stale; a
	# small file is still shared.
	POOL_ROOT_OF=m pool_start mb 'cache_size = 16M'
	head -c $((12 << 20)) /dev/zero > "$ROOT/big"
	in_pool python3 "$WORK/maps.py" "$MNT/big" writer > "$WORK/bwriter.out" 2>&1 &
	wpid=$!
	for _ in $(seq 1200); do grep -q "writer stored" "$WORK/bwriter.out" 2>/dev/null && break; sleep 0.05; done
	rc=0
	in_pool python3 "$WORK/maps.py" "$MNT/big" reader > "$WORK/breader.out" 2>&1 || rc=$?
	in_pool touch "$MNT/big.done"
	wait $wpid || fail "the first mapper of a file past the budget failed: $(cat "$WORK/bwriter.out")"
	cat "$WORK/breader.out"
	[ "$rc" = 3 ] && grep -q "map refused: Resource temporarily unavailable" "$WORK/breader.out" ||
		fail "a second writable map of a file past the budget was not refused"
	head -c 4096 /dev/zero > "$ROOT/small"
	in_pool python3 "$WORK/maps.py" "$MNT/small" writer > "$WORK/swriter.out" 2>&1 &
	wpid=$!
	for _ in $(seq 1200); do grep -q "writer stored" "$WORK/swriter.out" 2>/dev/null && break; sleep 0.05; done
	in_pool python3 "$WORK/maps.py" "$MNT/small" reader > "$WORK/sreader.out" 2>&1 ||
		fail "a small file's second map failed in a pool with a small budget: $(cat "$WORK/sreader.out")"
	in_pool touch "$MNT/small.done"
	wait $wpid || fail "the first mapper failed: $(cat "$WORK/swriter.out")"
	grep -qx "reader sees b'hello'" "$WORK/sreader.out" && grep -qx "writer sees b'world'" "$WORK/swriter.out" ||
		fail "a small file's maps are not shared: $(cat "$WORK/sreader.out" "$WORK/swriter.out")"
	pass "ceph: past the maps' budget a map is a copy, a second writable one refused (EAGAIN)"
fi
