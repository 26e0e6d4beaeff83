"""What the drivers of the cache tests share (attr_cache.py, read_cache.py,
union_attr_cache.py): the run's CONFIG.json (argv[1]), long-lived agents
through pools, each as a user, and the pools' request counters."""
import json, os, subprocess, sys

from pool_metrics import requests_total

cfg = json.load(open(sys.argv[1]))
agents = []


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    for a in agents:
        a.p.kill()
    sys.exit(1)


class Agent:
    """cfg["agent"] (python3, one JSON command a line, one JSON answer a
    line) through pool, as user; its paths are under mnt (the pool's own)"""

    def __init__(self, user, pool, mnt=None):
        p = cfg["pools"][pool]
        self.mnt = mnt or p["mnt"]
        cmd = [cfg["run"], "--pool", pool, "--socket", p["sock"], "--mountpoint", p["mnt"],
               "--", "python3", cfg["agent"]]
        if user != "root":
            cmd = ["setpriv", "--reuid=" + user, "--regid=" + user, "--clear-groups", "--"] + cmd
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        agents.append(self)

    def ask(self, *c, lines=1):
        if os.environ.get("CACHE_TRACE"):
            print("ask %r" % (c,), file=sys.stderr, flush=True)
        self.p.stdin.write(json.dumps(list(c)) + "\n")
        self.p.stdin.flush()
        out = [self.p.stdout.readline() for _ in range(lines)]
        if not all(out):
            fail("an agent ended: %r" % (c,))
        out = [json.loads(o) for o in out]
        return out[0] if lines == 1 else out


def metric(pool, op):
    """requests of op the pool has served, from its metrics socket"""
    return requests_total(cfg["pools"][pool]["sock"][:-len(".sock")] + ".metrics", pool, op)
