#!/usr/bin/env bash
# Integration (ceph): a pool's memory is its cache, grown once (issue 15's
# "grows once, not ten times"). Readers one after another, each a process
# of its own, read (1 MiB reads, as dd) a file larger than the pool's
# object cache; after each, the pool's anonymous resident memory (RssAnon:
# its shared memory is apart) must have grown by the cache's clean share
# (what reads may fill) and at most the heap trimmer's slack beyond it.
# Without the fixed malloc mmap threshold (main.c), glibc's heap keeps the
# buffers libcephfs frees: this test saw the pool +188-196 MiB after
# the first reader, against 148 with it (clean share: 150).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ceph-lib.sh"

MIB=$((1 << 20))
CACHE_MIB=200 FILE_MIB=256 READERS=4
CLEAN_MIB=$((CACHE_MIB * 3 / 4)) # reads fill the clean share of the budget (svc-ceph.c)
SLACK_MIB=16 # the heap trimmer's slack (pool.c TRIM_SLACK): what may stay unreturned

ceph_start_with_fuse
mkdir -p "$FUSE/mem"
head -c $((FILE_MIB * MIB)) /dev/urandom > "$WORK/big"
cp "$WORK/big" "$FUSE/mem/big"
sync "$FUSE/mem/big"
want=$(sha256sum "$WORK/big" | cut -d' ' -f1)
rm -f "$WORK/big"

ceph_pool_start pm / admin "cache_size = ${CACHE_MIB}M"
anon_kib() { awk '$1 == "RssAnon:" { print $2 }' "/proc/$PID/status"; }

# settles its start (libcephfs's threads, the mount) before the baseline
"$RUN_BIN" --pool pm --socket "$SOCK" --mountpoint "$MNT" -- test -f "$MNT/mem/big" ||
	fail "the pool does not see mem/big"
base=$(anon_kib)
growth=()
for i in $(seq "$READERS"); do
	got=$("$RUN_BIN" --pool pm --socket "$SOCK" --mountpoint "$MNT" -- dd if="$MNT/mem/big" bs=1M status=none |
		sha256sum | cut -d' ' -f1) || fail "reader $i failed"
	[ "$got" = "$want" ] || fail "reader $i read other bytes ($got)"
	growth+=($((($(anon_kib) - base) / 1024)))
done
echo "pool's anonymous memory grown after readers 1..$READERS (MiB): ${growth[*]}; cache_size ${CACHE_MIB} MiB"

for i in "${!growth[@]}"; do
	((growth[i] <= CLEAN_MIB + SLACK_MIB)) ||
		fail "after reader $((i + 1)) the pool grew ${growth[i]} MiB, over its ${CLEAN_MIB} MiB of clean cache + ${SLACK_MIB}: ${growth[*]}"
	((growth[i] <= growth[0] + SLACK_MIB)) ||
		fail "reader $((i + 1)) grew the pool again: ${growth[*]} MiB after readers 1..$READERS"
done
# a floor: the pool did cache what it read, else the bounds above would prove nothing
((growth[0] >= CLEAN_MIB / 2)) || fail "the pool grew only ${growth[0]} MiB reading ${FILE_MIB} MiB: was its cache used?"
pass "$READERS readers of a ${FILE_MIB} MiB file: the pool grew once, within its ${CACHE_MIB} MiB cache (${growth[*]} MiB)"
