# O_DIRECT reads and writes with buffers, offsets and lengths at every alignment
# (stranger2.sh): printed, for a run on a kernel directory to compare with
import os, sys, mmap, fcntl
p = sys.argv[1] + "/od"
with open(p, "wb") as f:
    f.write(bytes(range(256)) * 256)  # 64 KiB
    f.truncate(1 << 20)                # a hole after it
fd = os.open(p, os.O_RDWR | os.O_DIRECT)
m = mmap.mmap(-1, 1 << 21)
mv = memoryview(m)
def t(name, fn):
    try:
        r = fn()
        print(name, r)
    except OSError as e:
        print(name, e.strerror)
for boff in (0, 1, 512, 4095):
    for off in (0, 1, 512, 4096):
        for n in (100, 512, 4096, 65536 + 4096):
            t("read buf+%d off %d len %d" % (boff, off, n), lambda: os.preadv(fd, [mv[boff:boff + n]], off))
    t("read buf+%d in the hole" % boff, lambda: os.preadv(fd, [mv[boff:boff + 4096]], 1 << 19))
    t("read buf+%d at the end" % boff, lambda: os.preadv(fd, [mv[boff:boff + 4096]], 1 << 20))
    t("write buf+%d" % boff, lambda: os.pwritev(fd, [mv[boff:boff + 4096]], 8192))
t("read 1 MiB aligned", lambda: os.preadv(fd, [mv[0:1 << 20]], 0))
print("data", bytes(mv[0:65536]) == bytes(range(256)) * 256 or bytes(mv[0:16]))
mv[4096:4096 + 8192] = b"z" * 8192
t("write 1 MiB aligned", lambda: os.pwritev(fd, [mv[4096:4096 + (1 << 20)]], 4096))
t("readv aligned", lambda: os.preadv(fd, [mv[0:4096], mv[8192:12288]], 0))
t("readv second unaligned", lambda: os.preadv(fd, [mv[0:4096], mv[8193:12289]], 0))
t("writev aligned", lambda: os.pwritev(fd, [mv[0:4096], mv[8192:12288]], 0))
t("writev second unaligned", lambda: os.pwritev(fd, [mv[0:4096], mv[8193:12289]], 0))
t("writev second short", lambda: os.pwritev(fd, [mv[0:4096], mv[8192:8292]], 0))
fd2 = os.open(p, os.O_RDWR)
fl = fcntl.fcntl(fd2, fcntl.F_GETFL)
t("plain read unaligned", lambda: os.preadv(fd2, [mv[1:4097]], 1))
fcntl.fcntl(fd2, fcntl.F_SETFL, fl | os.O_DIRECT)
t("F_SETFL O_DIRECT", lambda: bool(fcntl.fcntl(fd2, fcntl.F_GETFL) & os.O_DIRECT))
t("then read unaligned", lambda: os.preadv(fd2, [mv[1:4097]], 0))
t("then read unaligned offset", lambda: os.preadv(fd2, [mv[0:4096]], 1))
t("then write unaligned", lambda: os.pwritev(fd2, [mv[1:4097]], 0))
fcntl.fcntl(fd2, fcntl.F_SETFL, fl)
t("cleared: read unaligned", lambda: os.preadv(fd2, [mv[1:4097]], 1))
t("cleared: write unaligned", lambda: os.pwritev(fd2, [mv[1:101]], 1))
t("O_DIRECT fd still", lambda: os.preadv(fd, [mv[1:4097]], 0))
with open(p, "rb") as f:
    import hashlib
    print("content", hashlib.sha1(f.read()).hexdigest())
