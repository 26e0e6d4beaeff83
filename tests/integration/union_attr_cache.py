"""Driver of union-attr-cache.sh: long-lived agents (attr_agent.py) through a
local pool's union, each stat they make (maybe a kept answer) checked
against statx with AT_STATX_FORCE_SYNC, which always asks the pool, atime
included. Usage: union_attr_cache.py CONFIG.json; prints ok lines, exits 1
at the first failure."""
import json, os, pwd, time

import cache_driver
from cache_driver import agents, cfg, fail


class Agent(cache_driver.Agent):
    def __init__(self, user, pool="uc", mnt=None):
        super().__init__(user, pool, mnt)

    def path(self, rel):
        return self.mnt + "/" + rel

    def stat(self, rel, nofollow=False):
        return self.ask("stat", self.path(rel), nofollow)

    def fresh(self, rel, nofollow=False):
        return self.ask("statx_full", self.path(rel), nofollow)

    def do(self, op, *a):
        a = [self.path(x) if isinstance(x, str) and x.startswith("u/") else x for x in a]
        return self.ask("do", op, *a)


def metric(op="stat"):
    return cache_driver.metric("uc", op)


def warm(agent, keys):
    """each (path, nofollow) stat three times: from the second miss on it is kept"""
    for rel, nf in keys:
        for _ in range(3):
            agent.stat(rel, nf)
    return {k: agent.stat(*k) for k in keys}


def check(what, observers, keys, before, changes):
    """every observer's next stat is what the pool answers now; changes:
    the keys whose answer must differ from before (so the check can fail)"""
    for o in observers:
        for k in keys:
            got, want = o.stat(*k), o.fresh(*k)
            if got != want:
                fail("%s: %s (nofollow %s) answers %s, the pool %s (before: %s)" %
                     (what, k[0], k[1], got, want, before[o][k]))
            if k in changes and got == before[o][k]:
                fail("%s: %s unchanged: %s (the step changed nothing: the check cannot fail)"
                     % (what, k[0], got))


uid_b = pwd.getpwnam("dnuc_b").pw_uid
W = Agent("root")              # makes the changes
R, B = Agent("root"), Agent("dnuc_b")  # observers: another root process, another uid

# 0. The cache serves union paths, and only those: 2000 stats of a union
#    file reach the pool a few times; a direct instance's 200 all reach it.
n0 = metric()
B.ask("loop", B.path("u/t/f"), 2000)
served = metric() - n0
if served > 5:
    fail("2000 stats of a union file reached the pool %d times" % served)
D = Agent("root", mnt=cfg["data_mnt"])
n0 = metric()
D.ask("loop", D.path("x"), 200)
if metric() - n0 < 200:
    fail("a local direct instance: 200 stats reached the pool %d times" % (metric() - n0))
print("ok - 2000 stats of a union file reached the pool %d times; a direct instance's 200: %d"
      % (served, metric() - n0))

F = lambda r, n: "u/r%d/%s" % (r, n)
obs = [R, B]
steps_done = 0
for r in range(cfg["rounds"]):
    d = "u/r%d" % r
    # (op, keys to check, keys that must change); a key: (path, nofollow)
    steps = [
        (("read", F(r, "f")), [(F(r, "f"), False)], [(F(r, "f"), False)]),
        (("listdir", F(r, "sub")), [(F(r, "sub"), False)], [(F(r, "sub"), False)]),
        (("readlink", F(r, "link")), [(F(r, "link"), True)], [(F(r, "link"), True)]),
        # a stat through the link: the union reads the link (its atime)
        (("stat_follow", F(r, "link2")), [(F(r, "link2"), True)], [(F(r, "link2"), True)]),
        (("append", F(r, "g"), 10), [(F(r, "g"), False), (d, False)], [(F(r, "g"), False)]),
        (("chmod", F(r, "h"), 0o640), [(F(r, "h"), False), (d, False)], [(F(r, "h"), False)]),
        (("truncate", F(r, "deep"), 3), [(F(r, "deep"), False)], [(F(r, "deep"), False)]),
        (("unlink", F(r, "w")), [(F(r, "w"), False), (d, False)], [(F(r, "w"), False)]),
        (("rmdir", F(r, "wd")), [(F(r, "wd"), False), (d, False)], [(F(r, "wd"), False)]),
        (("rename", F(r, "f"), F(r, "f2")), [(F(r, "f"), False), (F(r, "f2"), False), (d, False)],
         [(F(r, "f"), False), (F(r, "f2"), False)]),
        (("rename", F(r, "f2"), F(r, "f")), [(F(r, "f"), False), (F(r, "f2"), False)],
         [(F(r, "f"), False), (F(r, "f2"), False)]),
        (("read", F(r, "f")), [(F(r, "f"), False)], []),  # an upper file now
        (("exec", F(r, "prog")), [(F(r, "prog"), False)], [(F(r, "prog"), False)]),
        (("mapread", F(r, "mr")), [(F(r, "mr"), False)], [(F(r, "mr"), False)]),
        (("mapwrite", F(r, "mw"), 65), [(F(r, "mw"), False)], [(F(r, "mw"), False)]),
        # the kernel writes the map back with no request: seen as well
        (("mapwrite_again", F(r, "mw"), 66), [(F(r, "mw"), False)], [(F(r, "mw"), False)]),
        (("unmap", F(r, "mw")), [(F(r, "mw"), False)], []),
        (("mapwrite", F(r, "f"), 67), [(F(r, "f"), False)], [(F(r, "f"), False)]),
        (("mapwrite_again", F(r, "f"), 68), [(F(r, "f"), False)], [(F(r, "f"), False)]),
        (("unmap", F(r, "f")), [(F(r, "f"), False)], []),
    ]
    for op, keys, changes in steps:
        before = {o: warm(o, keys) for o in obs}
        time.sleep(0.02)  # the kernel's clock ticks (a jiffy): a time moved is another time
        if op[0] == "stat_follow":
            res = W.stat(op[1])
            res = "ok" if isinstance(res, list) else res
        else:
            res = W.do(*op)
        if res != "ok":
            fail("round %d: %s answered %s" % (r, op, res))
        check("round %d, after %s" % (r, " ".join(map(str, op))), obs, keys, before, changes)
        steps_done += 1
    # copy-up kept the number the union answered before (as overlayfs does)
    if R.stat(F(r, "h"))[1] != os.stat("%s/u/r%d/h" % (cfg["l1"], r)).st_ino:
        fail("copy-up of %s changed st_ino: %s" % (F(r, "h"), R.stat(F(r, "h"))))
print("ok - %d rounds, %d changes: every next stat of two observers (root, another uid) "
      "answers as the pool, atime included" % (cfg["rounds"], steps_done))

# Another thread of the same process, and a fork child of the changer.
T = "u/t/f"
for r in range(cfg["rounds"]):
    for op in (("read", T), ("append", T, 3), ("chmod", T, 0o600 + r % 2), ("read", T)):
        before = warm(W, [(T, False)])
        time.sleep(0.02)
        res, got = W.ask("threaded", [op[0], W.path(op[1])] + list(op[2:]), W.path(T))
        want = W.fresh(T)
        if res != "ok" or got != want:
            fail("another thread's %s: %s, stat %s, the pool %s" % (op[0], res, got, want))
        if op[0] != "read" and got == before[(T, False)]:
            fail("another thread's %s changed nothing" % op[0])
    time.sleep(0.02)
    child, res = W.ask("forked", ["read", W.path(T)], W.path(T), lines=2)
    if res != "ok" or child != W.fresh(T):
        fail("fork child after its parent's read: %s, the pool %s" % (child, W.fresh(T)))
print("ok - reads and changes by another thread and by a fork parent are seen at once (%d rounds)"
      % cfg["rounds"])

# Calls through the compat mount (programs without the library, FUSE) are
# the pool's too: this process has no library, its calls go through it.
cm = cfg["pools"]["uc"]["mnt"]
t0 = time.monotonic()
while not os.path.ismount(cm):
    if time.monotonic() - t0 > 10:
        fail("no compat mount at " + cm)
    time.sleep(0.05)
C, CD = "u/cm/f", "u/cm"


def cm_append():
    with open(cm + "/" + C, "ab") as f:
        f.write(b"x")


def cm_read():
    with open(cm + "/" + C, "rb") as f:
        f.read()


for r in range(cfg["rounds"]):
    steps = [("append", cm_append, True), ("read", cm_read, False),
             ("chmod", lambda: os.chmod(cm + "/" + C, 0o600 + r % 2), True),
             ("listdir", lambda: os.listdir(cm + "/" + CD), False)]
    for name, fn, changes in steps:
        keys = [(C, False), (CD, False)]
        before = {o: warm(o, keys) for o in obs}
        time.sleep(0.02)
        fn()
        check("round %d, after the compat mount's %s" % (r, name), obs, keys, before,
              [(C, False)] if changes else [])
print("ok - changes and reads through the compat mount are seen by the next stat (%d rounds)"
      % cfg["rounds"])

# Concurrent readers in other processes while observers stat.
readers = [Agent("root") for _ in range(2)]
for r in range(cfg["rounds"]):
    for a in readers:
        a.p.stdin.write(json.dumps(["do", "read", a.path("u/c/f")]) + "\n")
        a.p.stdin.flush()
    for _ in range(20):
        B.stat("u/c/f")
    for a in readers:
        if json.loads(a.p.stdout.readline()) != "ok":
            fail("a concurrent reader")
    got, want = B.stat("u/c/f"), B.fresh("u/c/f")
    if got != want:
        fail("after concurrent reads: %s, the pool %s" % (got, want))
    W.do("append", "u/c/f", 1)  # atime older than mtime again: the next read moves it
print("ok - stats beside concurrent readers answer as the pool (%d rounds)" % cfg["rounds"])

# An ancestor made 0700 by its owner: another uid gets EACCES at once.
OA = Agent("dnuc_a")
for r in range(cfg["rounds"]):
    for top, rel in (("u/p", "u/p/f"), ("u/p", "u/p/q/f"), ("u/p/q", "u/p/q/f")):
        w = warm(B, [(rel, False), (top, False)])
        if isinstance(w[(rel, False)], str):
            fail("%s not reachable before: %s" % (rel, w[(rel, False)]))
        if OA.do("chmod", top, 0o700) != "ok":
            fail("chmod " + top)
        got = B.stat(rel)
        if got != "EACCES":
            fail("round %d: after chmod 700 of %s, another uid's stat of %s: %s" % (r, top, rel, got))
        OA.do("chmod", top, 0o755)
        if isinstance(B.stat(rel), str):
            fail("after chmod 755 of %s: %s" % (top, B.stat(rel)))
print("ok - an ancestor's chmod 700 by its owner (a copy-up): another uid's next stat is EACCES")

# A process that changes identity keeps nothing of the old one's.
OA.do("chmod", "u/p", 0o700)
RR = Agent("root")
warm(RR, [("u/p/f", False)])
RR.ask("setuid", uid_b)
if RR.stat("u/p/f") != "EACCES":
    fail("after setuid, the stat root had kept: %s" % RR.stat("u/p/f"))
OA.do("chmod", "u/p", 0o755)
print("ok - after setuid, the answers kept for root are not used")

# A host process's change to a layer behind the pool: seen within the timeout.
host = cfg["host_upper"] + "/hostf"
H = "hostf"
with open(host, "w") as f:
    f.write("x")
os.chmod(host, 0o644)
R = Agent("root", "uh")
if not isinstance(R.stat(H), list):
    fail("a host process's file in the writable layer, before the pool looked: %s" % R.stat(H))
warm(R, [(H, False)])
os.chmod(host, 0o600)
t0 = time.monotonic()
first = R.stat(H)
while R.stat(H)[0] & 0o777 != 0o600:
    if time.monotonic() - t0 > cfg["host_timeout"] + 1.5:
        fail("a host process's chmod in the writable layer not seen within attr_timeout")
    time.sleep(0.05)
print("ok - a host process's chmod in the writable layer: seen after %.2f s (the timeout: %s s;"
      " the first stat was %s)" % (time.monotonic() - t0, cfg["host_timeout"],
                                   "stale" if first[0] & 0o777 != 0o600 else "fresh"))
for a in agents:
    a.p.stdin.close()
    a.p.wait()
