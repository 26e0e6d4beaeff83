#!/usr/bin/env bash
# Integration: fsx.py (an fsx-style exerciser: writes, reads, truncates,
# fallocates, copy_file_range, maps kept open across other calls, msync or
# not, fsyncs, reopens) in lockstep on a pool file and a kernel file, for
# several seeds; every result and the whole file after every call must be
# the same. On a union (DANAUS_TEST_UNION) the pool's file starts in the
# lower layer, so the first write copies it up; on Ceph (DANAUS_TEST_CEPH_DIR)
# the kernel's side is a file of the same cluster through ceph-fuse.
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
# a Ceph pool's shared map is a copy, written back at msync and munmap
# (README, Limits): not coherent with read/write while it stays mapped
[ -n "${DANAUS_TEST_CEPH_DIR:-}" ] && extra+=(--no-kept-maps)

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
[ -n "${DANAUS_TEST_CEPH_DIR:-}" ] && rm -rf "$kdir"
[ "$failed" = 0 ] || fail "fsx: the pool's file and the kernel's differ (above)"
pass "fsx: seeds $seeds, every call and the file after it as on the kernel"
