#!/usr/bin/env bash
# Integration: MAP_SHARED of a pool file between processes, and two SQLite
# writers in WAL mode at once (whose wal-index is such a map). On a local
# pool maps are the kernel's own (the pool hands the file over): stores of
# one process are seen by another's map at once, and by read(2) through the
# pool, and both writers keep all their rows. On a Ceph pool maps are copies:
# a second writable one of a file is refused (EAGAIN), so the second writer
# fails loudly; on neither may a writer exit 0 and lose rows.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

command -v python3 > /dev/null || fail "python3 is needed"
command -v sqlite3 > /dev/null || fail "sqlite3 is needed (scripts/install-deps installs it)"
ceph=${DANAUS_TEST_CEPH_DIR:+yes}

pool_start m
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
if [ -n "$ceph" ]; then
	[ "$rc" = 3 ] && grep -q "map refused: Resource temporarily unavailable" "$WORK/reader.out" ||
		fail "a second writable shared map of a Ceph pool file was not refused"
	pass "ceph: a second writable shared map of a file is refused (EAGAIN), not silently stale"
else
	[ "$rc" = 0 ] || fail "the second mapper failed"
	grep -qx "reader sees b'hello'" "$WORK/reader.out" || fail "a store was not seen by another process's map"
	grep -qx "read(2) sees b'hello'" "$WORK/reader.out" || fail "read(2) through the pool did not see a map's store"
	grep -qx "writer sees b'world'" "$WORK/writer.out" || fail "the first map did not see the second's store"
	pass "local: shared maps of two processes and read(2) see each other's stores at once"
fi

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
if [ -z "$ceph" ]; then
	[ "$arc" = 0 ] && [ "$brc" = 0 ] || fail "a writer failed on a local pool"
	pass "local: two WAL writers at once keep all 600 rows"
else
	[ "$arc" = 0 ] || [ "$brc" = 0 ] || fail "both writers failed"
	pass "ceph: no writer reports success and loses rows (the second one's map is refused)"
fi
