"""Read-cache test agent: runs one command per stdin line (JSON) through
whatever pool the process is attached to, answers one JSON line each.
Reads answer [length, sha256] of the bytes read (or the errno's name).
Commands: ["keep", path]: opens path for reading and keeps the fd;
["reads", path]: the kept fd's reads (a 4 KiB pread at 0, a 200 KiB pread
at 4000 (streamed), a 1 MiB pread at 0 (to the end), read() from the start
in 64 KiB calls), as a list; ["fresh", path]: open, read all, close;
["do", op, args...]: a change through this process; ["threaded", op,
path]: one thread changes, another reads the kept fd right after;
["forked", op, path]: the child of a fork reads its inherited kept fd
after the parent's change (the parent read first: the child inherits what
was kept): two lines, the child's then the op's; ["lock", path, kind]:
takes a lock (posix, ofd, flock) on the kept fd, reads, unlocks;
["loop", path, n]: n 4 KiB preads of the kept fd; ["setuid", uid]."""
import errno, fcntl, hashlib, json, mmap, os, struct, sys

import agent_race  # copied beside this file

FDS = {}


def digest(b):
    return [len(b), hashlib.sha256(b).hexdigest()[:16]]


def guard(fn):
    try:
        return fn()
    except OSError as e:
        return errno.errorcode[e.errno]


def reads(path):
    fd = FDS[path]

    def seq():
        os.lseek(fd, 0, os.SEEK_SET)
        out = b""
        while True:
            b = os.read(fd, 65536)
            if not b:
                return out
            out += b
    return [guard(lambda: digest(os.pread(fd, 4096, 0))),
            guard(lambda: digest(os.pread(fd, 200 << 10, 4000))),
            guard(lambda: digest(os.pread(fd, 1 << 20, 0))),
            guard(lambda: digest(seq()))]


def fresh(path):
    def f():
        with open(path, "rb") as f:
            return digest(f.read())
    return guard(f)


def data(seed, n):
    out, i = b"", 0
    while len(out) < n:
        out += hashlib.sha256(b"%d/%d" % (seed, i)).digest()
        i += 1
    return out[:n]


def do(op, *a):
    def run():
        p = a[0]
        if op == "pwrite":
            fd = os.open(p, os.O_WRONLY)
            os.pwrite(fd, data(a[1], a[2]), a[3])
            os.close(fd)
        elif op == "pwritev":
            fd = os.open(p, os.O_RDWR)
            os.pwritev(fd, [data(a[1], 100), data(a[1] + 1, a[2])], a[3])
            os.close(fd)
        elif op == "append":
            fd = os.open(p, os.O_WRONLY | os.O_APPEND)
            os.write(fd, data(a[1], a[2]))
            os.close(fd)
        elif op == "ftruncate":
            fd = os.open(p, os.O_WRONLY)
            os.ftruncate(fd, a[1])
            os.close(fd)
        elif op == "truncate":
            os.truncate(p, a[1])
        elif op == "fallocate":
            fd = os.open(p, os.O_RDWR)
            os.posix_fallocate(fd, a[1], a[2])
            os.close(fd)
        elif op == "otrunc":
            fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
            os.write(fd, data(a[1], a[2]))
            os.close(fd)
        elif op == "copy_range":
            src = p + ".src"
            with open(src, "wb") as f:
                f.write(data(a[1], a[2]))
            i, o = os.open(src, os.O_RDONLY), os.open(p, os.O_WRONLY)
            n = os.copy_file_range(i, o, a[2], 0, a[3])
            os.close(i), os.close(o)
            os.unlink(src)
            if n != a[2]:
                return "short copy %d" % n
        elif op == "sendfile":
            src = p + ".src"
            with open(src, "wb") as f:
                f.write(data(a[1], a[2]))
            i, o = os.open(src, os.O_RDONLY), os.open(p, os.O_WRONLY)
            os.lseek(o, a[3], os.SEEK_SET)
            n = os.sendfile(o, i, 0, a[2])
            os.close(i), os.close(o)
            os.unlink(src)
            if n != a[2]:
                return "short sendfile %d" % n
        elif op == "splice":
            r, w = os.pipe()
            os.write(w, data(a[1], a[2]))
            os.close(w)
            o = os.open(p, os.O_WRONLY)
            n = os.splice(r, o, a[2], offset_dst=a[3])
            os.close(r), os.close(o)
            if n != a[2]:
                return "short splice %d" % n
        elif op == "mmap":
            fd = os.open(p, os.O_RDWR)
            m = mmap.mmap(fd, 0)
            m[a[2]:a[2] + 64] = data(a[1], 64)
            m.flush()
            m.close()
            os.close(fd)
        elif op == "rename_over":
            tmp = p + ".new"
            with open(tmp, "wb") as f:
                f.write(data(a[1], a[2]))
            os.rename(tmp, p)
        elif op == "create":
            with open(p, "wb") as f:
                f.write(data(a[1], a[2]))
        else:
            return "unknown op " + op
        return "ok"
    return guard(run)


def lock(path, kind):
    fd = FDS[path]
    if kind == "posix":
        fcntl.lockf(fd, fcntl.LOCK_SH)
    elif kind == "ofd":
        fcntl.fcntl(fd, 37, struct.pack("hhqqi", fcntl.F_RDLCK, 0, 0, 0, 0))  # F_OFD_SETLK
    else:
        fcntl.flock(fd, fcntl.LOCK_SH)
    got = reads(path)
    if kind == "posix":
        fcntl.lockf(fd, fcntl.LOCK_UN)
    elif kind == "ofd":
        fcntl.fcntl(fd, 37, struct.pack("hhqqi", fcntl.F_UNLCK, 0, 0, 0, 0))
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
    return got


for line in sys.stdin:
    c = json.loads(line)
    if c[0] == "keep":
        if c[1] in FDS:
            os.close(FDS.pop(c[1]))
        out = guard(lambda: FDS.__setitem__(c[1], os.open(c[1], os.O_RDONLY)) or "ok")
    elif c[0] == "reads":
        out = reads(c[1])
    elif c[0] == "fresh":
        out = fresh(c[1])
    elif c[0] == "do":
        out = do(*c[1:])
    elif c[0] == "threaded":
        out = agent_race.threaded(reads, do, c[1], c[2])
    elif c[0] == "forked":
        out = agent_race.forked(reads, do, c[1], c[2])  # after the child's own line
    elif c[0] == "lock":
        out = guard(lambda: lock(c[1], c[2]))
    elif c[0] == "loop":
        for _ in range(c[2]):
            os.pread(FDS[c[1]], 4096, 0)
        out = "ok"
    elif c[0] == "setuid":
        os.setresuid(c[1], c[1], c[1])
        out = "ok"
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
