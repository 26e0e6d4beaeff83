# LMDB (python3-lmdb), which reads through a read-only shared map of its
# data file and writes with pwrite: each round rewrites every record in one
# transaction and reads them all back in the next; the counts it prints
# must be the kernel's (all good). A map that does not show the process's
# own writes at once reads stale pages.
import lmdb, sys

d = sys.argv[1]
env = lmdb.open(d, map_size=64 << 20)
N = 3000
for r in range(3):
    with env.begin(write=True) as t:
        for i in range(N):
            t.put(b"k%06d" % i, (b"v%d-%06d" % (r, i)) * 20)
    with env.begin() as t:
        bad = sum(1 for i in range(N) if t.get(b"k%06d" % i) != (b"v%d-%06d" % (r, i)) * 20)
    print("round", r, "stale records", bad)
env.close()
env = lmdb.open(d, map_size=64 << 20)
with env.begin() as t:
    print("after reopening:", t.stat()["entries"], "records")
