# Blocking lock waits as the kernel answers them (apps-scenarios.sh "lock-waits"): a
# process waiting in flock(LOCK_EX) or F_SETLKW gets the lock once its holder lets go
# (unlock, or a close that drops it), never before; usage: lock-waits.py DIR
import fcntl, os, sys

d = sys.argv[1]


def say(*a):
    print(*a)
    sys.stdout.flush()


def wait_for(kind, take, release):
    """The child waits for the parent's lock; the parent marks the file, then lets go."""
    p = os.path.join(d, "lw-" + kind)
    open(p, "w").write("x" * 16)
    mark = p + ".released"
    h = os.open(p, os.O_RDWR)
    take(h, False)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.close(h)  # its copy would keep the parent's flock (one open file) alive
        c = os.open(p, os.O_RDWR)
        os.write(w, b"w")
        take(c, True)  # blocks until the parent lets go
        say(kind, "child got the lock; released first:", os.path.exists(mark))
        os._exit(0)
    os.close(w)
    os.read(r, 1)
    os.close(r)
    open(mark, "w").close()
    release(h)
    _, st = os.waitpid(pid, 0)
    say(kind, "child exit", os.waitstatus_to_exitcode(st))


def flock_take(fd, wait):
    fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))


def lockf_take(fd, wait):
    fcntl.lockf(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB, 8, 0)


wait_for("flock", flock_take, lambda h: fcntl.flock(h, fcntl.LOCK_UN))
wait_for("lockf", lockf_take, lambda h: fcntl.lockf(h, fcntl.LOCK_UN, 8, 0))
# a lock dropped by a close, which the pool's unlock count does not see: the wait ends anyway
wait_for("flock-close", flock_take, os.close)
wait_for("lockf-close", lockf_take, os.close)
# several waiters on one lock: each gets it in turn
p = os.path.join(d, "lw-many")
open(p, "w").write("x")
h = os.open(p, os.O_RDWR)
fcntl.flock(h, fcntl.LOCK_EX)
kids = []
for i in range(4):
    pid = os.fork()
    if pid == 0:
        os.close(h)
        c = os.open(p, os.O_RDWR)
        fcntl.flock(c, fcntl.LOCK_EX)
        with open(p, "a") as f:
            f.write("k")
        fcntl.flock(c, fcntl.LOCK_UN)
        os._exit(0)
    kids.append(pid)
fcntl.flock(h, fcntl.LOCK_UN)
codes = [os.waitstatus_to_exitcode(os.waitpid(k, 0)[1]) for k in kids]
say("many waiters exit", codes, "appended", open(p).read())
