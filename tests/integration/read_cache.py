"""Driver of ceph-read-cache.sh: long-lived agents (read_agent.py) through
pools, checked against an agent of a pool that keeps nothing (the oracle).
Usage: read_cache.py CONFIG.json; prints ok lines, exits 1 at the first
failure."""
import hashlib, os, pwd, time

import cache_driver
from cache_driver import agents, cfg, fail


class Agent(cache_driver.Agent):
    def path(self, x):
        return self.mnt + "/" + x if isinstance(x, str) and x.startswith("rc/") else x

    def ask(self, *c, lines=1):
        return super().ask(*[self.path(x) for x in c], lines=lines)

    def do(self, op, *a):
        return self.ask("do", op, *a)


def metric(pool, op="pread"):
    return cache_driver.metric(pool, op)


P, Z, T = "rc", "rcz", "rct"
F, F2, G = "rc/f", "rc/f2", "rc/g"
b_uid = pwd.getpwnam("dnrc_b").pw_uid
rounds = cfg.get("rounds", 10)

W, R, O = Agent("root", P), Agent("dnrc_b", P), Agent("root", Z)
if W.do("create", F, 1, 300000) != "ok":
    fail("create " + F)
for a in (R, O):
    if a.ask("keep", F) != "ok":
        fail("keep " + F)

# 0. The cache serves: 2000 reads of a kept fd reach the pool a few times
#    only; the pool with attr_timeout = 0 gets every one.
n0 = metric(P)
R.ask("loop", F, 2000)
served = metric(P) - n0
if served > 5:
    fail("2000 reads of one fd reached the pool %d times" % served)
n0 = metric(Z)
O.ask("loop", F, 200)
if metric(Z) - n0 < 200:
    fail("attr_timeout = 0: 200 reads reached the pool %d times" % (metric(Z) - n0))
print("ok - 2000 reads through the cache reached the pool %d times; with attr_timeout = 0, 200 of 200"
      % served)


def compare(what, reader, before, changes=True, path=F):
    got, want = reader.ask("reads", path), O.ask("reads", path)
    if got != want:
        fail("%s: reads %s, the uncached pool %s (before: %s)" % (what, got, want, before))
    if changes and got == before:
        fail("%s: unchanged: %s" % (what, got))
    fg, fw = reader.ask("fresh", path), O.ask("fresh", path)
    if fg != fw:
        fail("%s: a fresh open reads %s, the uncached pool %s" % (what, fg, fw))


# 1. Every kind of change through the pool by another process is read at once.
for r in range(rounds):
    s = 1000 * r
    steps = [("pwrite", F, s + 1, 4096, 1000), ("pwritev", F, s + 2, 5000, 65000),
             ("append", F, s + 3, 1000), ("ftruncate", F, 250000 + r),
             ("truncate", F, 320000 + r), ("fallocate", F, 320000 + r, 9000),
             ("copy_range", F, s + 4, 5000, 100), ("sendfile", F, s + 5, 6000, 200000),
             ("splice", F, s + 6, 3000, 50), ("mmap", F, s + 7, 128000),
             ("otrunc", F, s + 8, 300000), ("rename_over", F, s + 9, 300000)]
    for op in steps:
        R.ask("reads", F)
        before = R.ask("reads", F)
        res = W.do(*op)
        if res != "ok":
            fail("round %d: %s answered %s" % (r, op, res))
        # the kept fds read the old inode after a rename over it, as on the kernel
        compare("round %d, after another process's %s" % (r, op[0]), R, before,
                op[0] != "rename_over")
        if op[0] == "rename_over":
            for a in (R, O):
                a.ask("keep", F)
print("ok - %d rounds of %d kinds of change by another process: every next read as the uncached pool"
      % (rounds, len(steps)))

# ... by another thread of the same process, and by a fork parent.
B2 = Agent("root", P)
W.do("create", F2, 2, 300000)
for a in (B2, O):
    a.ask("keep", F2)
for r in range(rounds):
    for op in (("pwrite", F2, 5000 + r, 4096, 70000), ("ftruncate", F2, 200000 + r),
               ("append", F2, 6000 + r, 777)):
        before = B2.ask("reads", F2)
        res, got = B2.ask("threaded", [op[0], B2.path(op[1])] + list(op[2:]), F2)
        want = O.ask("reads", F2)
        if res != "ok" or got != want or got == before:
            fail("another thread's %s: %s, read %s, uncached %s" % (op[0], res, got, want))
    before = B2.ask("reads", F2)
    child, res = B2.ask("forked", ["pwrite", B2.path(F2), 7000 + r, 3000, 1], F2, lines=2)
    want = O.ask("reads", F2)
    if res != "ok" or child != want or child == before:
        fail("fork child after its parent's pwrite: %s, uncached %s" % (child, want))
print("ok - changes by another thread and by a fork parent are read at once (%d rounds)" % rounds)

# ... and a process that changes identity uses nothing kept before.
X = Agent("root", P)
X.ask("keep", F)
X.ask("loop", F, 10)
n0 = metric(P)
X.ask("loop", F, 10)
if metric(P) != n0:
    fail("kept reads reached the pool")
X.ask("setuid", b_uid)
n0 = metric(P)
X.ask("loop", F, 1)
if metric(P) == n0:
    fail("after setuid, a read was served from what root kept")
print("ok - after setuid, the data kept for root is not used")

# 2. Another client of the cluster (ceph-fuse): seen within attr_timeout,
#    at once after an open or a lock, and at once with attr_timeout = 0.
fuse = os.path.join(cfg["fuse_top"], "rc/g")


def fuse_write(seed):
    fd = os.open(fuse, os.O_WRONLY)
    os.pwrite(fd, hashlib.sha256(b"%d" % seed).digest() * 128, 8192)
    os.fsync(fd)
    os.close(fd)


TT = Agent("root", T)
for a in (TT, O):
    a.ask("keep", G)
seed = 0
for r in range(3):
    seed += 1
    TT.ask("reads", G)
    before = TT.ask("reads", G)
    fuse_write(seed)
    want = O.ask("reads", G)
    if want == before:
        fail("attr_timeout = 0: ceph-fuse's write not read at once: %s" % want)
    t0 = time.monotonic()  # the cluster answers the new data: the cache's time starts
    first = TT.ask("reads", G)
    while True:
        n0 = metric(T)
        got = TT.ask("reads", G)
        if got == want:
            break
        if time.monotonic() - t0 > cfg["timeout"] + 1.5:
            fail("ceph-fuse's write not read within attr_timeout = %s: %s, uncached %s, before %s,"
                 " first %s; %d reads reached the pool" % (cfg["timeout"], got, want, before, first,
                                                           metric(T) - n0))
        time.sleep(0.05)
    print("ok - ceph-fuse's write read after %.2f s (attr_timeout = %s; the first read was %s)"
          % (time.monotonic() - t0, cfg["timeout"], "stale" if first == before else "fresh"))
# With attr_timeout = 600 only the open or the lock can make the read fresh.
L = Agent("root", P)
L.ask("keep", G)
for r in range(3):
    for how in ("open", "posix", "ofd", "flock"):
        seed += 1
        L.ask("reads", G)
        before = L.ask("reads", G)
        fuse_write(seed)
        want = O.ask("reads", G)
        if L.ask("reads", G) != before:
            fail("attr_timeout = 600: ceph-fuse's write read at once without an open or lock"
                 " (nothing kept?)")
        n0 = metric(P)
        if how == "open":
            L.ask("keep", G)
            got = L.ask("reads", G)
        else:
            got = L.ask("lock", G, how)
        if got != want or got == before:
            fail("after %s, ceph-fuse's write: read %s, uncached %s (before %s; %d reads reached"
                 " the pool)" % (how, got, want, before, metric(P) - n0))
print("ok - ceph-fuse's write is read at once after an open, a POSIX, OFD or flock lock"
      " (stale before it, attr_timeout = 600)")
for a in agents:
    a.p.stdin.close()
    a.p.wait()
