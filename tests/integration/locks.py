# POSIX record locks as the kernel keeps them (apps-scenarios.sh "locks"); usage: locks.py DIR
import fcntl, os, sys, struct
d = sys.argv[1]
p = os.path.join(d, "lk")
open(p, "w").write("x" * 100)
fd = os.open(p, os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)
print("parent locked")
fd2 = os.open(p, os.O_RDWR)   # same process, another fd: no conflict with itself
fcntl.lockf(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0); print("same process second fd ok")
pid = os.fork()
if pid == 0:
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0); print("child: got it (wrong)")
    except OSError as e: print("child blocked", e.errno)
    os._exit(0)
os.waitpid(pid, 0)
os.close(fd2)  # POSIX: drops all our locks on the file
pid = os.fork()
if pid == 0:
    f3 = os.open(p, os.O_RDWR)
    try:
        fcntl.lockf(f3, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0); print("child after parent close: got it")
    except OSError as e: print("child still blocked", e.errno)
    os._exit(0)
os.waitpid(pid, 0)
ro = os.open(p, os.O_RDONLY)
try: fcntl.lockf(ro, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError as e: print("write lock on read-only fd:", e.errno)
# getlk: query from another process
fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB, 5, 20)
pid = os.fork()
if pid == 0:
    f4 = os.open(p, os.O_RDWR)
    buf = struct.pack("hhqqi", fcntl.F_WRLCK, 0, 20, 5, 0)
    r = fcntl.fcntl(f4, fcntl.F_GETLK, buf)
    t = struct.unpack("hhqqi", r)
    print("getlk type", t[0] == fcntl.F_RDLCK, "start", t[2], "len", t[3])
    os._exit(0)
os.waitpid(pid, 0)
