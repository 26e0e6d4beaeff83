"""ceph-read-cache.sh: a file with two numbers in one pool, a union's
copy-up (its origin's number) seen through a direct instance over the
writable layer (its own): a change through either is read at once through
the other, data and stat, as one kernel file would show it.
Usage: read_union.py UNION_MNT DIRECT_MNT (DIRECT_MNT/l, /u: the layers)."""
import os, sys

U, D = sys.argv[1], sys.argv[2]
failed = False


def check(what, got, want):
    global failed
    print("%s %s: %s" % ("ok -" if got == want else "FAIL:", what, got if got == want else
                         "%r, want %r" % (got, want)))
    failed |= got != want


with open(D + "/l/f", "wb") as f:
    f.write(b"A" * 8192)
fd = os.open(U + "/f", os.O_RDWR)  # the copy-up: its number is the lower file's
os.pwrite(fd, b"B", 0)
os.close(fd)
if os.stat(U + "/f").st_ino == os.stat(D + "/u/f").st_ino:
    sys.exit("the union answers the copy-up's own number: nothing to test")
# both opened before the reads: an open for writing ends what is kept by itself
wd, wu = os.open(D + "/u/f", os.O_RDWR), os.open(U + "/f", os.O_RDWR)
ru, rd = os.open(U + "/f", os.O_RDONLY), os.open(D + "/u/f", os.O_RDONLY)
for _ in range(4):  # a re-read keeps data, the next ones use it
    os.pread(ru, 8192, 0), os.pread(rd, 8192, 0)
    os.stat(U + "/f"), os.stat(D + "/u/f")
os.pwrite(wd, b"C" * 10, 100)
check("a direct write, read through the union", os.pread(ru, 10, 100), b"C" * 10)
os.pwrite(wd, b"D" * 10, 9000)
check("a direct write past the end, the union's stat", os.stat(U + "/f").st_size, 9010)
os.pwrite(wu, b"E" * 10, 200)
check("a union write, read through the direct instance", os.pread(rd, 10, 200), b"E" * 10)
os.pwrite(wu, b"F" * 10, 10000)
check("a union write past the end, the direct stat", os.stat(D + "/u/f").st_size, 10010)
sys.exit(1 if failed else 0)
