#!/usr/bin/env bash
# Integration: fsx.py (an fsx-style exerciser: writes, reads, truncates,
# fallocates, copy_file_range, maps kept open across other calls, msync or
# not, fsyncs, reopens) in lockstep on a pool file and a kernel file, for
# several seeds; every result and the whole file after every call must be
# the same. On a union (DANAUS_TEST_UNION) the pool's file starts in the
# lower layer, so the first write copies it up; on Ceph (DANAUS_TEST_CEPH_DIR)
# the kernel's side is a file of the same cluster through ceph-fuse.
# Then LMDB (python3-lmdb) on both sides, whose reads go through a shared map.
#   FSX_SEEDS="1 2 3" FSX_OPS=2000 tests/integration/fsx.sh
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

command -v python3 >/dev/null || fail "python3 is missing: install it (scripts/install-deps)"

seeds=${FSX_SEEDS:-1 2 3 4}
kdir=$WORK/kernel
[ -n "${DANAUS_TEST_CEPH_DIR:-}" ] && kdir=$DANAUS_TEST_CEPH_FUSE/pools/fsx-kernel-$$
mkdir -p "$kdir"
head -c 150000 /dev/urandom > "$WORK/start"
extra=()
[ -n "${DANAUS_TEST_UNION:-}" ] && extra+=(--keep)
# a Ceph pool's shared map is a copy (README, Limits): its stores reach the
# file at msync, and a second open file of it may not map it while the
# first's map is there; the process's own writes reach the map at once
[ -n "${DANAUS_TEST_CEPH_DIR:-}" ] && extra+=(--copied-maps)

failed=0
for s in $seeds; do
	POOL_NAME=fsx$s
	if [ -n "${DANAUS_TEST_UNION:-}" ]; then
		lower=$(union_lower "$POOL_NAME")
		mkdir -p "$lower"
		cp "$WORK/start" "$lower/f"
		cp "$WORK/start" "$kdir/f$s"
	fi
	pool_start "$POOL_NAME"
	if ! in_pool python3 "$HERE/fsx.py" "$kdir/f$s" "$MNT/f" --seed "$s" --ops "${FSX_OPS:-2000}" \
		"${extra[@]}"; then
		echo "reproduce: DANAUS_BUILD=$DANAUS_BUILD FSX_SEEDS=$s $0 (python3 fsx.py -v for every call)" >&2
		failed=1
	fi
done
# LMDB: reads through a read-only shared map, writes with pwrite
mkdir -p "$kdir/lmdb"
/usr/bin/python3 -c 'import lmdb' 2>/dev/null ||
	fail "python3-lmdb is missing: install it (scripts/install-deps)"
/usr/bin/python3 "$HERE/lmdb_check.py" "$kdir/lmdb" > "$WORK/lmdb.kernel"
in_pool /usr/bin/python3 "$HERE/lmdb_check.py" "$MNT/lmdb" > "$WORK/lmdb.pool" || true
if ! diff -u "$WORK/lmdb.kernel" "$WORK/lmdb.pool"; then
	echo "LMDB on the pool read other records than on the kernel (above)" >&2
	failed=1
fi
[ -n "${DANAUS_TEST_CEPH_DIR:-}" ] && rm -rf "$kdir"
[ "$failed" = 0 ] || fail "fsx: the pool's file and the kernel's differ (above)"
pass "fsx: seeds $seeds, every call and the file after it as on the kernel; LMDB too"
