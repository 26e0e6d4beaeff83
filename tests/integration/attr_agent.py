"""Attribute-cache test agent: runs one command per stdin line (JSON) through
whatever pool the process is attached to, answers one JSON line each.
Commands: ["stat", path, nofollow], ["do", opname, args...], ["threaded",
[op...], path]: one thread does the op, another stats path right after it
returned, ["setuid", uid], ["statx_sync", path]: statx with
AT_STATX_FORCE_SYNC, its mode, ["statx_full", path, nofollow]: the same,
as stat answers, ["forked", [op...], path]: the child of a fork stats
path after the parent's op (the parent stats first, so the child inherits a
kept answer): two lines, the child's then the op's; ["loop", path, n]."""
import errno, json, os, sys

import agent_race  # copied beside this file

FDS = {}
MAPS = {}


def st(path, nofollow=False):
    try:
        s = os.stat(path, follow_symlinks=not nofollow)
    except OSError as e:
        return errno.errorcode[e.errno]
    return [s.st_mode, s.st_ino, s.st_nlink, s.st_uid, s.st_gid, s.st_size,
            s.st_blocks, s.st_atime_ns, s.st_mtime_ns, s.st_ctime_ns, s.st_dev]


def do(op, *a):
    try:
        if op == "open":
            FDS[a[0]] = os.open(a[0], os.O_RDWR)
        elif op == "close":
            os.close(FDS.pop(a[0]))
        elif op == "append":
            os.write(FDS[a[0]], b"x" * a[1]) if a[0] in FDS else \
                open(a[0], "ab").write(b"x" * a[1])
        elif op == "pwrite":
            os.pwrite(FDS[a[0]], b"y" * a[1], a[2])
        elif op == "ftruncate":
            os.ftruncate(FDS[a[0]], a[1])
        elif op == "fallocate":
            os.posix_fallocate(FDS[a[0]], a[1], a[2])
        elif op == "fsync":
            os.fsync(FDS[a[0]])
        elif op == "fchmod":
            os.fchmod(FDS[a[0]], a[1])
        elif op == "truncate":
            os.truncate(a[0], a[1])
        elif op == "chmod":
            os.chmod(a[0], a[1])
        elif op == "chown":
            os.chown(a[0], a[1], a[2])
        elif op == "utime":
            os.utime(a[0], ns=(a[1], a[2]))
        elif op == "rename":
            os.rename(a[0], a[1])
        elif op == "unlink":
            os.unlink(a[0])
        elif op == "link":
            os.link(a[0], a[1])
        elif op == "symlink":
            os.symlink(a[0], a[1])
        elif op == "mkdir":
            os.mkdir(a[0])
        elif op == "rmdir":
            os.rmdir(a[0])
        elif op == "create":
            os.close(os.open(a[0], os.O_CREAT | os.O_WRONLY | os.O_TRUNC, a[1]))
        elif op == "setxattr":
            os.setxattr(a[0], a[1], a[2].encode())
        elif op == "removexattr":
            os.removexattr(a[0], a[1])
        elif op == "read":
            with open(a[0], "rb") as f:
                f.read()
        elif op == "listdir":
            os.listdir(a[0])
        elif op == "readlink":
            os.readlink(a[0])
        elif op == "mapwrite":  # a shared writable map, kept: the kernel writes it back later
            import mmap
            fd = os.open(a[0], os.O_RDWR)
            MAPS[a[0]] = (fd, mmap.mmap(fd, 0))
            MAPS[a[0]][1][0] = a[1]
            MAPS[a[0]][1].flush()
        elif op == "mapwrite_again":
            MAPS[a[0]][1][0] = a[1]
            MAPS[a[0]][1].flush()
        elif op == "unmap":
            fd, m = MAPS.pop(a[0])
            m.close()
            os.close(fd)
        elif op == "mapread":
            import mmap
            fd = os.open(a[0], os.O_RDONLY)
            m = mmap.mmap(fd, 0, mmap.MAP_SHARED, mmap.PROT_READ)
            m[0]
            m.close()
            os.close(fd)
        elif op == "exec":
            import subprocess
            if subprocess.run([a[0]], stdout=subprocess.DEVNULL).returncode != 0:
                return "exec failed"
        else:
            return "unknown op " + op
    except OSError as e:
        return errno.errorcode[e.errno]
    return "ok"


def statx_sync(path):
    """statx with AT_STATX_FORCE_SYNC: its mode, or the errno's name"""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(256)
    if libc.statx(-100, path.encode(), 0x2000, 0x7ff, buf) != 0:
        return errno.errorcode[ctypes.get_errno()]
    return int.from_bytes(buf.raw[28:30], "little")  # stx_mode


def statx_full(path, nofollow=False):
    """statx with AT_STATX_FORCE_SYNC (never a kept answer): as st() answers"""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(256)
    flags = 0x2000 | (0x100 if nofollow else 0)
    if libc.statx(-100, path.encode(), flags, 0xfff, buf) != 0:
        return errno.errorcode[ctypes.get_errno()]
    u32 = lambda o: int.from_bytes(buf.raw[o:o + 4], "little")
    u64 = lambda o: int.from_bytes(buf.raw[o:o + 8], "little")
    ts = lambda o: int.from_bytes(buf.raw[o:o + 8], "little", signed=True) * 10**9 + u32(o + 8)
    return [int.from_bytes(buf.raw[28:30], "little"), u64(32), u32(16), u32(20), u32(24),
            u64(40), u64(48), ts(64), ts(112), ts(96), os.makedev(u32(136), u32(140))]


for line in sys.stdin:
    c = json.loads(line)
    if c[0] == "stat":
        out = st(c[1], len(c) > 2 and c[2])
    elif c[0] == "do":
        out = do(*c[1:])
    elif c[0] == "threaded":
        out = agent_race.threaded(st, do, c[1], c[2])
    elif c[0] == "forked":
        out = agent_race.forked(st, do, c[1], c[2])  # after the child's own line
    elif c[0] == "statx_full":
        out = statx_full(c[1], len(c) > 2 and c[2])
    elif c[0] == "statx_sync":
        out = statx_sync(c[1])
    elif c[0] == "setuid":
        os.setresuid(c[1], c[1], c[1])
        out = "ok"
    elif c[0] == "loop":
        for _ in range(c[2]):
            os.stat(c[1])
        out = "ok"
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
