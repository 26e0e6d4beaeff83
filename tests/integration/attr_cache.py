"""Driver of ceph-attr-cache.sh: long-lived agents (attr_agent.py) through
pools, checked against an agent of a pool that keeps nothing (the oracle).
Usage: attr_cache.py CONFIG.json; prints ok lines, exits 1 at the first
failure."""
import os, pwd, time

import cache_driver
from cache_driver import agents, cfg, fail


class Agent(cache_driver.Agent):
    def stat(self, rel, nofollow=False):
        return self.ask("stat", self.mnt + "/" + rel, nofollow)

    def do(self, op, *a):
        a = [self.mnt + "/" + x if isinstance(x, str) and x.startswith("ac/") else x for x in a]
        return self.ask("do", op, *a)


def bare(s):
    return s if isinstance(s, str) else s[:10]  # st_dev is each pool's


def metric(pool, op="stat"):
    return cache_driver.metric(pool, op)


def warm(agent, paths):
    for rel in paths:
        for _ in range(3):
            w = agent.stat(rel)
    return {rel: agent.stat(rel) for rel in paths}


def check(what, agent, oracle, paths, before, changes=True):
    for rel in paths:
        got, want = agent.stat(rel), oracle.stat(rel)
        if bare(got) != bare(want):
            fail("%s: %s answers %s, the uncached pool %s (before: %s)" %
                 (what, rel, got, want, before[rel]))
        if changes and got == before[rel]:
            fail("%s: %s unchanged: %s" % (what, rel, got))


P, Z, T = "ac", "acz", "act"
b_uid = pwd.getpwnam("dnac_b").pw_uid

# 0. The cache serves: a loop of stats reaches the pool a few times only;
#    the pool with attr_timeout = 0 gets every one.
A, B, C = Agent("root", P), Agent("dnac_b", P), Agent("root", Z)
n0 = metric(P)
B.ask("loop", B.mnt + "/ac/d/f", 2000)
served = metric(P) - n0
if served > 5:
    fail("2000 stats of one file reached the pool %d times" % served)
n0 = metric(Z)
C.ask("loop", C.mnt + "/ac/d/f", 200)
if metric(Z) - n0 < 200:
    fail("attr_timeout = 0: 200 stats reached the pool %d times" % (metric(Z) - n0))
print("ok - 2000 stats through the cache reached the pool %d times; with attr_timeout = 0, 200 of 200"
      % served)

# 1. Changes by another process (another uid's session) are seen at once.
F, D = "ac/d/f", "ac/d"
steps = [
    (("append", F, 10), [F]), (("pwrite", F, 5, 0), [F]), (("ftruncate", F, 3), [F]),
    (("fsync", F), [F]), (("fchmod", F, 0o640), [F]), (("truncate", F, 100), [F]),
    (("chmod", F, 0o604), [F]), (("utime", F, 10**18, 10**18), [F]),
    (("setxattr", F, "user.k", "v"), [F]), (("removexattr", F, "user.k"), [F]),
    (("link", F, "ac/d/l"), [F, D]), (("unlink", "ac/d/l"), [F, D]),
    (("mkdir", "ac/d/sub"), [D]), (("rmdir", "ac/d/sub"), [D]),
    (("rename", F, "ac/d/g"), [F, "ac/d/g", D]), (("rename", "ac/d/g", F), [F, "ac/d/g", D]),
    (("symlink", "f", "ac/d/s"), [D, "ac/d/s"]), (("unlink", "ac/d/s"), [D, "ac/d/s"]),
    (("create", "ac/d/n", 0o644), [D, "ac/d/n"]), (("unlink", "ac/d/n"), [D, "ac/d/n"]),
    (("fallocate", F, 0, 8192), [F]),
    # reads change nothing a stat shows (no bump): still what the pool answers
    (("read", F), [F, D]), (("listdir", D), [F, D]),
]
UNCHANGING = ("fsync", "read", "listdir")
rounds = cfg.get("rounds", 10)
for r in range(rounds):
    if A.do("open", F) != "ok":
        fail("open " + F)
    for op, paths in steps:
        if op[0] == "chown":
            continue
        before = warm(B, paths)
        res = A.do(*op)
        changes = res == "ok" and op[0] not in UNCHANGING
        if res != "ok" and op[0] not in ("fallocate",):
            fail("round %d: %s answered %s" % (r, op, res))
        check("round %d, after another process's %s" % (r, op[0]), B, C, paths, before, changes)
    before = warm(B, [F])
    if A.do("chown", F, 1000 + r, 1000 + r) != "ok":
        fail("chown")
    check("round %d, after chown" % r, B, C, [F], before)
    A.do("close", F)
print("ok - %d rounds of %d changes by another process: every next stat answers as the uncached pool"
      % (rounds, len(steps) + 1))

# ... and by another thread of the same process, and in a fork child.
B2 = Agent("root", P)
F2 = "ac/d/f2"
B2.do("create", F2, 0o644)
B2.do("open", F2)
for r in range(rounds):
    for op in (("append", F2, 7), ("ftruncate", F2, r), ("chmod", F2, 0o600 + r % 2)):
        before = warm(B2, [F2])
        res, got = B2.ask("threaded", [op[0], B2.mnt + "/" + op[1]] + list(op[2:]),
                          B2.mnt + "/" + F2)
        want = C.stat(F2)
        if res != "ok" or bare(got) != bare(want) or got == before[F2]:
            fail("another thread's %s: %s, stat %s, uncached %s" % (op[0], res, got, want))
    before = warm(B2, [F2])
    child, res = B2.ask("forked", ["chmod", B2.mnt + "/" + F2, 0o640 + r % 2], B2.mnt + "/" + F2,
                        lines=2)
    if res != "ok" or bare(child) != bare(C.stat(F2)) or child == before[F2]:
        fail("fork child after its parent's chmod: %s, uncached %s" % (child, C.stat(F2)))
print("ok - changes by another thread and by a fork parent are seen at once (%d rounds)" % rounds)

# 2. An ancestor made 0700 by its owner: another uid gets EACCES at once.
OA = Agent("dnac_a", P)
for r in range(rounds):
    for top, rel in (("ac/p", "ac/p/f"), ("ac/p", "ac/p/q/f"), ("ac/p/q", "ac/p/q/f")):
        w = warm(B, [rel, top])
        if isinstance(w[rel], str):
            fail("%s not reachable before: %s" % (rel, w[rel]))
        if OA.do("chmod", top, 0o700) != "ok":
            fail("chmod " + top)
        got = B.stat(rel)
        if got != "EACCES":
            fail("round %d: after chmod 700 of %s, another uid's stat of %s: %s" % (r, top, rel, got))
        if bare(B.stat(top)) != bare(C.stat(top)):
            fail("stat of the 0700 directory itself")
        OA.do("chmod", top, 0o755)
        if isinstance(B.stat(rel), str):
            fail("after chmod 755 of %s: %s" % (top, B.stat(rel)))
print("ok - an ancestor's chmod 700 by its owner: another uid's next stat is EACCES (%d rounds)" % rounds)

# ... and a process that changes identity keeps nothing of the old one's.
R = Agent("root", P)
OA.do("chmod", "ac/p", 0o700)
warm(R, ["ac/p/f"])
if isinstance(R.stat("ac/p/f"), str):
    fail("root's stat in the 0700 directory")
R.ask("setuid", b_uid)
got = R.stat("ac/p/f")
if got != "EACCES":
    fail("after setuid to dnac_b, the stat root had kept: %s" % got)
OA.do("chmod", "ac/p", 0o755)
print("ok - after setuid, the answers kept for root are not used")

# 3. Another client of the cluster (ceph-fuse): seen within attr_timeout;
#    with attr_timeout = 0 at once.
TT = Agent("root", T)
fuse = cfg["fuse_top"]
O = "ac/o"
for r in range(3):
    before = warm(TT, [O])[O]
    warm(C, [O])
    mode = 0o600 + r + 1
    os.chmod(os.path.join(fuse, "ac/o"), mode)
    t0 = time.monotonic()
    if C.stat(O)[0] & 0o7777 != mode:
        fail("attr_timeout = 0: ceph-fuse's chmod not seen at once: %s" % C.stat(O))
    # statx with AT_STATX_FORCE_SYNC asks for fresh attributes: never a kept one
    synced = TT.ask("statx_sync", TT.mnt + "/" + O)
    if not isinstance(synced, int) or synced & 0o7777 != mode:
        fail("statx with AT_STATX_FORCE_SYNC after ceph-fuse's chmod: %s, not %o" % (synced, mode))
    first = TT.stat(O)
    while TT.stat(O)[0] & 0o7777 != mode:
        if time.monotonic() - t0 > cfg["timeout"] + 1.5:
            fail("ceph-fuse's chmod not seen within attr_timeout = %s" % cfg["timeout"])
        time.sleep(0.05)
    print("ok - ceph-fuse's chmod seen after %.2f s (attr_timeout = %s; the first stat was %s;"
          " statx with AT_STATX_FORCE_SYNC at once)"
          % (time.monotonic() - t0, cfg["timeout"], "stale" if first == before else "fresh"))

# What ceph-fuse itself shows of the pool's change right after it (for the default).
A.do("chmod", O, 0o644)
fs = os.stat(os.path.join(fuse, "ac/o"))
print("ok - info: ceph-fuse's stat right after the pool's chmod: %s" %
      ("fresh" if fs.st_mode & 0o7777 == 0o644 else "stale"))
for a in agents:
    a.p.stdin.close()
    a.p.wait()
