#!/usr/bin/env bash
# Integration (ceph, containers): two podman containers of one image on a
# Ceph pool, each with its own writable layer (DANAUS_CONTAINER): their
# writes stay private, the image's files are stored once in CephFS (no
# copy per container), and cached once in the pool: the second container's
# read of an image file costs the OSD no reads, where the first's did.
# ceph-fuse is the independent client that checks what is in CephFS.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ceph-lib.sh"

for tool in podman runc; do
	command -v "$tool" > /dev/null || fail "$tool is not installed (scripts/install-deps installs it)"
done
. "$HERE/bullseye-image.sh"
PODMAN=(podman --runtime "$(command -v runc)" --cgroup-manager=cgroupfs --events-backend=file)

# The stored image: a motd and a 32 MiB file (8 CephFS objects), from podman.
DATA=localhost/danaus-test-cc-data:$$
mkdir -p "$WORK/data/etc" "$WORK/data/data"
echo "from the image" > "$WORK/data/etc/motd"
head -c $((32 << 20)) /dev/urandom > "$WORK/data/data/blob"
sum=$(md5sum < "$WORK/data/data/blob")
tar -C "$WORK/data" -c . | "${PODMAN[@]}" import - "$DATA" > /dev/null || fail "podman import failed"
"${PODMAN[@]}" save --format oci-dir -o "$WORK/oci" "$DATA" 2> /dev/null
"${PODMAN[@]}" rmi -f "$DATA" > /dev/null 2>&1
[ -f "$WORK/oci/index.json" ] || fail "podman save wrote no OCI layout"

ceph_start_with_fuse
P="cc$$"
SPEC=/run/cdi/danaus-pool-$P.json
trap 'rc=$?; set +e; rm -f "$SPEC"; (exit $rc); ceph_cleanup' EXIT
mkdir -p "$FUSE/cc/containers"
CDI_DIR=/run/cdi ceph_pool_start "$P" /cc admin "[union]\ncontainers = /containers"
"$DANAUS_BUILD/image/danaus-image" --pool "$P" --socket "$SOCK" --mountpoint "$MNT" \
	import "$WORK/oci" data:1 > "$WORK/import.log" 2>&1 || fail "import: $(cat "$WORK/import.log")"
# The pool that wrote the image holds it in its cache: a new one starts cold.
kill -TERM "$PID"
for _ in $(seq 100); do kill -0 "$PID" 2> /dev/null || break; sleep 0.05; done
CDI_DIR=/run/cdi ceph_pool_start "$P" /cc admin "[union]\ncontainers = /containers"

# uc NAME SCRIPT: a container of pool P in its own union of data:1
uc() {
	"${PODMAN[@]}" run --rm --network=none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
		--device "danaus.io/pool=$P" -e DANAUS_CONTAINER="$1" -e DANAUS_IMAGE=data:1 \
		"$IMAGE" sh -c "$2" 2> "$WORK/uc.err"
}
osd_reads() {
	ceph --admin-daemon "$CEPH_DIR/run/ceph-osd.0.asok" perf dump |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["osd"]["op_r"])'
}

r0=$(osd_reads)
out=$(uc web1 "md5sum < $MNT/data/blob; echo one > $MNT/etc/state") || fail "container web1: $(cat "$WORK/uc.err")"
[ "$out" = "$sum" ] || fail "web1 read the image's file as $out, not $sum"
r1=$(osd_reads)
out=$(uc web2 "md5sum < $MNT/data/blob; cat $MNT/etc/state 2>&1; echo two > $MNT/etc/state; cat $MNT/etc/state") ||
	fail "container web2: $(cat "$WORK/uc.err")"
r2=$(osd_reads)
case "$out" in "$sum"*"No such file or directory"*two) ;; *) fail "web2 printed: $out" ;; esac
out=$(uc web1 "cat $MNT/etc/state; cat $MNT/etc/motd") || fail "container web1 again: $(cat "$WORK/uc.err")"
[ "$out" = "one
from the image" ] || fail "web1 again printed: $out"
pass "two containers of one image on a Ceph pool: each writes its own layer, neither sees the other's"

# In CephFS: each writable layer holds its own file and no copy of the image's.
[ "$(cat "$FUSE/cc/containers/web1/etc/state")" = one ] && [ "$(cat "$FUSE/cc/containers/web2/etc/state")" = two ] ||
	fail "the writable layers in CephFS: $(ls -R "$FUSE/cc/containers")"
[ -e "$FUSE/cc/containers/web1/data/blob" ] || [ -e "$FUSE/cc/containers/web2/data/blob" ] &&
	fail "a container's layer holds a copy of the image's file"
blobs=$(find "$FUSE/cc/images" -name blob -type f | wc -l)
[ "$blobs" = 1 ] || fail "the image's file is stored $blobs times in CephFS"
pass "the image's files are stored once in CephFS, the layers hold only the containers' writes"

# Cached once: web1's cold read went to the OSD (8 objects at least), web2's
# read of the same file through its own union did not.
((r1 - r0 >= 8)) || fail "web1's cold read of 32 MiB made $((r1 - r0)) OSD reads: the check sees nothing"
((r2 - r1 <= 2)) || fail "web2 read the image's file again from the OSD: $((r2 - r1)) reads (web1: $((r1 - r0)))"
pass "the pool caches the image once for both containers (OSD reads: web1 $((r1 - r0)), web2 $((r2 - r1)))"
