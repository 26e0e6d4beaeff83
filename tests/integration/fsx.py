# A file-system exerciser in the manner of fsx: one seeded sequence of
# writes, reads, truncates, fallocates, copy_file_range, maps (read and
# write, kept open across other calls, msync'd or not), fsyncs and reopens,
# applied in lockstep to a file on the kernel (the oracle) and to a file on
# a pool. After every call the results (value or errno) must be equal, and
# the whole file (size and bytes) must read back the same through read(2)
# and through every map that is open.
#
#   fsx.py KERNEL_FILE POOL_FILE [--seed S] [--ops N] [--maxlen BYTES]
#          [--no-insert-collapse] [--no-kept-maps | --copied-maps] [--keep] [-v]
# Exit status: 0 same, 1 a difference (the op log and the first difference
# are printed), 2 a harness error.
import argparse, ctypes, errno, hashlib, mmap, os, random, sys

libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE = 0x01, 0x02
FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_ZERO_RANGE, FALLOC_FL_INSERT_RANGE = 0x08, 0x10, 0x20
PAGE = mmap.PAGESIZE


def outcome(fn):
    """fn()'s value, or the errno name it raised"""
    try:
        return fn()
    except OSError as e:
        return errno.errorcode.get(e.errno, e.errno)


def shown(v):
    """an outcome as the log shows it: bytes by length and digest"""
    if isinstance(v, bytes):
        return "%d bytes %s" % (len(v), hashlib.sha1(v).hexdigest()[:12])
    return repr(v)


def c_fallocate(fd, mode, off, length):
    if libc.fallocate(fd, mode, off, length) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return 0


class Side:
    """one file and the maps open on it"""

    def __init__(self, path, keep):
        self.path = path
        self.fd = os.open(path, os.O_RDWR | (0 if keep else os.O_CREAT | os.O_TRUNC), 0o644)
        self.maps = []  # (mmap, length): MAP_SHARED, read-write, from offset 0

    def size(self):
        return os.fstat(self.fd).st_size

    def content(self):
        n = self.size()
        data = os.pread(self.fd, n + 1, 0)
        return n, data

    def close_maps(self):
        for m, _ in self.maps:
            m.close()
        self.maps = []

    def close(self):
        self.close_maps()
        os.close(self.fd)


class Differ(Exception):
    pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kernel")
    ap.add_argument("pool")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ops", type=int, default=2000)
    ap.add_argument("--maxlen", type=int, default=256 * 1024)
    ap.add_argument("--no-insert-collapse", action="store_true",
                    help="leave out FALLOC_FL_INSERT_RANGE/COLLAPSE_RANGE (file systems differ)")
    ap.add_argument("--no-kept-maps", action="store_true",
                    help="every map is made, used and unmapped in one step, as fsx's own")
    ap.add_argument("--copied-maps", action="store_true",
                    help="a store into a kept map is msync'd before anything reads the file, and "
                    "maps go before a reopen (a Ceph pool's shared maps are copies: README)")
    ap.add_argument("--keep", action="store_true",
                    help="the files exist (the same bytes): open them as they are (a union's lower file)")
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    sides = [Side(a.kernel, a.keep), Side(a.pool, a.keep)]
    log = []

    def step(name, fn):
        """fn(side) on both sides; the two outcomes must be equal"""
        res = [outcome(lambda s=s: fn(s)) for s in sides]
        log.append("%d %s -> %s" % (len(log), name, shown(res[0])))
        if a.v:
            print(log[-1], flush=True)
        if res[0] != res[1]:
            raise Differ("%s: kernel %s, pool %s" % (name, shown(res[0]), shown(res[1])))
        return res[0]

    def check():
        (kn, kd), (pn, pd) = sides[0].content(), sides[1].content()
        if kn != pn:
            raise Differ("size: kernel %d, pool %d" % (kn, pn))
        if kd != pd:
            at = next(i for i in range(min(len(kd), len(pd))) if kd[i] != pd[i]) \
                if len(kd) == len(pd) else min(len(kd), len(pd))
            raise Differ("read(2) content differs first at byte %d (size %d)" % (at, kn))
        # every open map shows the file as read(2) does, up to the smaller end
        for i, ((km, kl), (pm, pl)) in enumerate(zip(sides[0].maps, sides[1].maps)):
            end = min(kl, kn)
            if km[:end] != kd[:end]:
                raise Differ("harness: the kernel's map %d differs from its own file" % i)
            if pm[:end] != kd[:end]:
                at = next(j for j in range(end) if pm[j] != kd[j])
                raise Differ("map %d (length %d) differs from the file at byte %d (size %d)"
                             % (i, pl, at, kn))

    def rand_range():
        off = rnd.randrange(a.maxlen)
        return off, rnd.randrange(1, min(65536, a.maxlen - off) + 1)

    def op_write():
        off, n = rand_range()
        data = rnd.randbytes(n)
        step("pwrite %d+%d" % (off, n), lambda s: os.pwrite(s.fd, data, off))

    def op_seqwrite():
        off, n = rand_range()
        data = rnd.randbytes(n)
        step("lseek %d; write %d" % (off, n),
             lambda s: (os.lseek(s.fd, off, os.SEEK_SET), os.write(s.fd, data)))

    def op_append():
        n = rnd.randrange(1, 4096)
        data = rnd.randbytes(n)

        def app(s):
            fd = os.open(s.path, os.O_WRONLY | os.O_APPEND)
            try:
                return os.write(fd, data), os.lseek(fd, 0, os.SEEK_CUR)
            finally:
                os.close(fd)
        step("append %d" % n, app)

    def op_read():
        off, n = rand_range()
        step("pread %d+%d" % (off, n), lambda s: os.pread(s.fd, n, off))

    def op_truncate():
        n = rnd.randrange(a.maxlen)
        step("ftruncate %d" % n, lambda s: os.ftruncate(s.fd, n))

    def op_fallocate():
        off, n = rand_range()
        modes = [0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                 FALLOC_FL_ZERO_RANGE, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE]
        if not a.no_insert_collapse:
            modes += [FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE]
        mode = rnd.choice(modes)
        if mode in (FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE) and rnd.random() < 0.8:
            off, n = off // 4096 * 4096, max(1, n // 4096) * 4096  # mostly aligned
        step("fallocate mode %#x %d+%d" % (mode, off, n),
             lambda s: c_fallocate(s.fd, mode, off, n))

    def op_copy_range():
        src, n = rand_range()
        dst = rnd.randrange(a.maxlen)
        if abs(src - dst) < n:  # overlapping ranges of one file are EINVAL: keep it so
            pass
        step("copy_file_range %d -> %d, %d" % (src, dst, n),
             lambda s: os.copy_file_range(s.fd, s.fd, n, src, dst))

    def op_mapread():
        size = sides[0].size()
        if size == 0:
            return
        off = rnd.randrange(size)
        n = rnd.randrange(1, size - off + 1)

        def mr(s):
            m = mmap.mmap(s.fd, size, mmap.MAP_SHARED, mmap.PROT_READ)
            try:
                return m[off:off + n]
            finally:
                m.close()
        step("map read %d+%d of %d" % (off, n, size), mr)

    def op_mapwrite():
        off, n = rand_range()
        data = rnd.randbytes(n)
        sync = rnd.random() < 0.5

        def mw(s):
            # as fsx: the file grows first when the map would reach past its end
            if s.size() < off + n:
                os.ftruncate(s.fd, off + n)
            m = mmap.mmap(s.fd, off + n, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
            try:
                m[off:off + n] = data
                if sync:
                    m.flush()
            finally:
                m.close()
            return 0
        step("map write %d+%d%s" % (off, n, " msync" if sync else ""), mw)

    def op_keepmap():
        """a map left open while other calls change the file"""
        size = sides[0].size()
        if size == 0 or len(sides[0].maps) >= 3:
            return
        length = rnd.randrange(1, size + 1)
        step("keep a map of %d" % length,
             lambda s: s.maps.append((mmap.mmap(s.fd, length, mmap.MAP_SHARED,
                                                mmap.PROT_READ | mmap.PROT_WRITE), length)))

    def op_keptwrite():
        """a store into an open map, read back later through read(2) without msync"""
        if not sides[0].maps:
            return
        i = rnd.randrange(len(sides[0].maps))
        size = sides[0].size()
        end = min(sides[0].maps[i][1], size)
        if end == 0:
            return
        off = rnd.randrange(end)
        n = rnd.randrange(1, min(4096, end - off) + 1)
        data = rnd.randbytes(n)

        def kw(s):
            s.maps[i][0][off:off + n] = data
            if a.copied_maps:
                s.maps[i][0].flush()
            return 0
        step("store %d+%d into map %d" % (off, n, i), kw)

    def op_unmap():
        if not sides[0].maps:
            return
        i = rnd.randrange(len(sides[0].maps))
        sync = rnd.random() < 0.5

        def um(s):
            m, _ = s.maps.pop(i)
            if sync:
                m.flush()
            m.close()
            return 0
        step("unmap %d%s" % (i, " after msync" if sync else ""), um)

    def op_sync():
        fn = rnd.choice([os.fsync, os.fdatasync])
        step(fn.__name__, lambda s: fn(s.fd))

    def op_reopen():
        def ro(s):
            os.close(s.fd)
            s.fd = os.open(s.path, os.O_RDWR)
            return 0
        step("close; reopen", ro)

    ops = [(op_write, 10), (op_seqwrite, 4), (op_append, 2), (op_read, 8),
           (op_truncate, 4), (op_fallocate, 4), (op_copy_range, 3), (op_mapread, 6),
           (op_mapwrite, 6), (op_keepmap, 2), (op_keptwrite, 6), (op_unmap, 2),
           (op_sync, 2), (op_reopen, 2)]
    if a.no_kept_maps:
        ops = [(f, w) for f, w in ops if f not in (op_keepmap, op_keptwrite, op_unmap)]
    fns = [f for f, _ in ops]
    weights = [w for _, w in ops]
    try:
        for _ in range(a.ops):
            f = rnd.choices(fns, weights)[0]
            # a map must not be touched past the end of the file (SIGBUS):
            # shrinking calls close the maps first, as fsx does
            if (f in (op_truncate, op_fallocate) or (a.copied_maps and f == op_reopen)) \
                    and sides[0].maps:
                step("unmap all", lambda s: (s.close_maps(), 0)[1])
            f()
            check()
    except Differ as d:
        for line in log[-30:]:
            print(line)
        print("DIFFERENT (seed %d, op %d): %s" % (a.seed, len(log) - 1, d))
        return 1
    finally:
        for s in sides:
            s.close()
    print("same: %d calls (seed %d)" % (len(log), a.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
