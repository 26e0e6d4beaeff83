#!/usr/bin/env bash
# Integration (ceph): what Danaus writes and fsyncs, ceph-fuse on the same
# cluster reads back identically, and the other way round.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ceph-lib.sh"

ceph_start_with_fuse
mkdir -p "$FUSE/pools/c"
POOL_NAME=c
ceph_pool_start c /pools/c

head -c 5242883 /dev/urandom > "$WORK/a.bin"
head -c 300000 /dev/urandom > "$WORK/b.bin"
sum() { sha256sum < "$1" | cut -d' ' -f1; }

# 1. Danaus writes (and fsyncs), ceph-fuse reads.
in_pool dd if="$WORK/a.bin" of="$MNT/from-danaus.bin" bs=64k conv=fsync status=none ||
	fail "dd through Danaus failed"
in_pool bash -c "printf 'line 1\n' > '$MNT/log.txt'; printf 'line 2\n' >> '$MNT/log.txt'; sync '$MNT/log.txt'"
[ "$(sum "$FUSE/pools/c/from-danaus.bin")" = "$(sum "$WORK/a.bin")" ] ||
	fail "ceph-fuse reads other bytes than Danaus wrote"
[ "$(cat "$FUSE/pools/c/log.txt")" = "$(printf 'line 1\nline 2')" ] ||
	fail "ceph-fuse sees another log.txt: $(cat "$FUSE/pools/c/log.txt")"
pass "a file written and fsync'd through Danaus reads back identically through ceph-fuse"

# 2. ceph-fuse writes, Danaus reads (and sees the new size and the change).
cp "$WORK/b.bin" "$FUSE/pools/c/from-fuse.bin"
sync "$FUSE/pools/c/from-fuse.bin"
got=$(in_pool sha256sum "$MNT/from-fuse.bin" | cut -d' ' -f1)
[ "$got" = "$(sum "$WORK/b.bin")" ] || fail "Danaus reads other bytes than ceph-fuse wrote"
printf 'line 3\n' >> "$FUSE/pools/c/log.txt"
sync "$FUSE/pools/c/log.txt"
[ "$(in_pool cat "$MNT/log.txt")" = "$(printf 'line 1\nline 2\nline 3')" ] ||
	fail "Danaus does not see ceph-fuse's append: $(in_pool cat "$MNT/log.txt")"
[ "$(in_pool stat -c %s "$MNT/from-fuse.bin")" = 300000 ] || fail "Danaus sees a wrong size"
pass "a file written through ceph-fuse is seen through Danaus (content, size, appends)"

# 3. Overwrite in place through Danaus, visible through ceph-fuse at once.
in_pool dd if="$WORK/b.bin" of="$MNT/from-danaus.bin" bs=4k count=3 seek=100 conv=notrunc,fsync status=none
cp "$WORK/a.bin" "$WORK/expect.bin"
dd if="$WORK/b.bin" of="$WORK/expect.bin" bs=4k count=3 seek=100 conv=notrunc status=none
[ "$(sum "$FUSE/pools/c/from-danaus.bin")" = "$(sum "$WORK/expect.bin")" ] ||
	fail "an in-place overwrite through Danaus is not what ceph-fuse reads"
# and the namespace: renames and unlinks on one side are seen on the other
in_pool mv "$MNT/from-danaus.bin" "$MNT/renamed.bin"
[ -e "$FUSE/pools/c/renamed.bin" ] && [ ! -e "$FUSE/pools/c/from-danaus.bin" ] ||
	fail "ceph-fuse does not see Danaus's rename"
rm "$FUSE/pools/c/from-fuse.bin"
if in_pool test -e "$MNT/from-fuse.bin"; then fail "Danaus still sees a file ceph-fuse removed"; fi
pass "overwrites, renames and unlinks are seen across both clients"

# 4. Many readers at once: with reads queued behind each other, workers hand
# them to the pool's offload threads (daemon/offload.h); every 4 KiB piece
# is still the file's own, in processes and in threads.
head -c 8388608 /dev/urandom > "$WORK/c.bin"
cp "$WORK/c.bin" "$FUSE/pools/c/many.bin"
sync "$FUSE/pools/c/many.bin"
in_pool python3 - "$MNT/many.bin" "$WORK/c.bin" <<'PY' || fail "concurrent 4 KiB reads through Danaus returned other bytes"
import os, random, sys, threading
path, ref_path = sys.argv[1], sys.argv[2]
ref = open(ref_path, 'rb').read()
def reader(seed, out):
    rnd = random.Random(seed)
    fd = os.open(path, os.O_RDONLY)
    for _ in range(400):
        off = rnd.randrange(0, len(ref) // 4096) * 4096
        if os.pread(fd, 4096, off) != ref[off:off + 4096]:
            out.append(off)
    os.close(fd)
bad = []
pids = []
for p in range(4):
    pid = os.fork()
    if pid == 0:
        ts = [threading.Thread(target=reader, args=(p * 10 + t, bad)) for t in range(4)]
        [t.start() for t in ts]
        [t.join() for t in ts]
        os._exit(1 if bad else 0)
    pids.append(pid)
sys.exit(1 if any(os.waitpid(pid, 0)[1] for pid in pids) else 0)
PY
pass "16 readers (4 processes x 4 threads) at once read every piece right"
