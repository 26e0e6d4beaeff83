#!/usr/bin/env bash
# Integration: libc calls that glibc serves with internal syscalls no preload
# sees (realpath, scandir, nftw, mkstemp, getdents64, fileno, freopen),
# posix_fadvise's answers (an error number, not errno), file calls made
# through syscall(2) by number, preadv2/pwritev2 flags, splice/tee/sendfile/
# copy_file_range, lseek's SEEK_DATA/SEEK_HOLE, the VFS's ioctls and fcntl's
# other commands, called through ctypes and through coreutils on a plain
# directory and on the mount.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

PY="$WORK/libc_calls.py"
cat > "$PY" <<'PYEOF'
# Calls glibc's own realpath, scandir, nftw, mkstemp, getdents64, fileno and
# freopen through ctypes (so through the preload) and prints what they say,
# with the directory under test shown as "@".
import ctypes, ctypes.util, errno, fcntl, os, stat, sys

D = os.path.abspath(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
out = []


def say(*a):
    out.append(" ".join(str(x) for x in a).replace(D, "@"))


def err():
    return errno.errorcode.get(ctypes.get_errno(), ctypes.get_errno())


def setup():
    os.makedirs(D + "/tree/a/b/c")
    os.makedirs(D + "/tree/e")
    os.makedirs(D + "/tree/s/only")
    os.makedirs(D + "/ext/in")
    for p, n in (("tree/a/f1", 10), ("tree/a/b/f2", 200), ("tree/a/b/c/f3", 3000),
                 ("tree/top", 1), ("ext/in/x", 5), ("tree/s/only/f4", 4)):
        with open(D + "/" + p, "wb") as f:
            f.write(b"z" * n)
    os.symlink("a/f1", D + "/tree/flink")
    os.symlink("../ext", D + "/tree/extlink")
    os.symlink("nowhere", D + "/tree/dangling")
    os.makedirs(D + "/links")
    os.symlink("../tree/a/b", D + "/links/rel")
    os.symlink(D + "/tree/a", D + "/links/abs")
    os.symlink("loop2", D + "/links/loop1")
    os.symlink("loop1", D + "/links/loop2")
    os.symlink("rel/../..", D + "/links/updot")
    os.symlink("missing/x", D + "/links/dang")
    os.symlink("/", D + "/links/root")
    os.makedirs(D + "/tmp")


def realpath_tests():
    libc.realpath.restype = ctypes.c_void_p
    libc.realpath.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    libc.canonicalize_file_name.restype = ctypes.c_void_p
    libc.__realpath_chk.restype = ctypes.c_void_p
    libc.__realpath_chk.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    paths = ["", "tree", "tree/a/b/c", "tree/a/./b/../b//c/", "tree/flink", "tree/flink/",
             "tree/flink/.", "tree/a/f1/x", "tree/nope", "tree/nope/more", "tree/extlink/in/x",
             "tree/dangling", "links/rel", "links/rel/c/../f2", "links/abs/b", "links/loop1",
             "links/loop1/x", "links/updot", "links/updot/tree", "links/dang", "links/root",
             "links/root/tmp/..", "tree/a/b/c/../../../..", "links/rel/..//../f1"]
    for p in paths:
        full = (D + "/" + p) if p else D
        r = libc.realpath(full.encode(), None)
        if r:
            say("realpath", p, "->", ctypes.string_at(r).decode())
            libc.free(r)
        else:
            say("realpath", p, "-> error", err())
        buf = ctypes.create_string_buffer(4096)
        r = libc.__realpath_chk(full.encode(), buf, 4096)
        say("  chk", (buf.value.decode() if r else "error " + str(err())))
        r = libc.canonicalize_file_name(full.encode())
        say("  canon", ctypes.string_at(r).decode() if r else "error " + str(err()))
        if r:
            libc.free(r)
    # relative to a working directory inside
    old = os.getcwd()
    os.chdir(D + "/tree/a")
    for p in ["b/c", ".", "f1", "../flink", "../../links/rel/c", "b/nope", ""]:
        r = libc.realpath(p.encode(), None)
        say("realpath (cwd tree/a)", repr(p), "->",
            ctypes.string_at(r).decode() if r else "error " + str(err()))
        if r:
            libc.free(r)
    # relative to a working directory above (for the mount: above the mountpoint)
    up = os.path.dirname(os.path.dirname(D))
    os.chdir(up)
    rel = os.path.relpath(D, up)
    for p in ["/tree/flink", "/links/rel/../f1", "/tree/nope"]:
        r = libc.realpath((rel + p).encode(), None)
        say("realpath (cwd above)", p, "->",
            ctypes.string_at(r).decode() if r else "error " + str(err()))
        if r:
            libc.free(r)
    os.chdir(old)


class Dirent(ctypes.Structure):
    _fields_ = [("d_ino", ctypes.c_uint64), ("d_off", ctypes.c_int64),
                ("d_reclen", ctypes.c_ushort), ("d_type", ctypes.c_ubyte),
                ("d_name", ctypes.c_char * 256)]


SEL = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(Dirent))


def scandir_tests():
    cmp = ctypes.cast(libc.alphasort, ctypes.c_void_p)
    libc.scandir.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    libc.scandirat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p,
                               ctypes.c_void_p]
    libc.scandir64.argtypes = libc.scandir.argtypes
    only_f = SEL(lambda d: d.contents.d_name.startswith(b"f"))
    sel_ptr = ctypes.cast(only_f, ctypes.c_void_p)

    def show(name, n, lst):
        if n < 0:
            say(name, "error", err())
            return
        names = []
        for i in range(n):
            e = lst[i].contents
            names.append("%s:%d" % (e.d_name.decode(), e.d_type))
            libc.free(lst[i])
        libc.free(lst)
        say(name, n, " ".join(names))

    for p, sel in (("tree", None), ("tree/a", None), ("tree", sel_ptr), ("tree/a/b", sel_ptr),
                   ("nope", None), ("tree/top", None), ("tree/extlink", None)):
        lst = ctypes.POINTER(ctypes.POINTER(Dirent))()
        n = libc.scandir((D + "/" + p).encode(), ctypes.byref(lst), sel, cmp)
        show("scandir %s sel=%s" % (p, sel is not None), n, lst)
    lst = ctypes.POINTER(ctypes.POINTER(Dirent))()
    n = libc.scandir64((D + "/tree/a").encode(), ctypes.byref(lst), None, cmp)
    show("scandir64 tree/a", n, lst)
    fd = os.open(D + "/tree", os.O_RDONLY | os.O_DIRECTORY)
    for p in ("a", "a/b", "nope"):
        lst = ctypes.POINTER(ctypes.POINTER(Dirent))()
        n = libc.scandirat(fd, p.encode(), ctypes.byref(lst), None, cmp)
        show("scandirat tree " + p, n, lst)
    os.close(fd)
    old = os.getcwd()
    os.chdir(D + "/tree")
    lst = ctypes.POINTER(ctypes.POINTER(Dirent))()
    n = libc.scandir(b"a/b", ctypes.byref(lst), None, cmp)
    show("scandir relative a/b", n, lst)
    os.chdir(old)


class FTW(ctypes.Structure):
    _fields_ = [("base", ctypes.c_int), ("level", ctypes.c_int)]


NFTW_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int,
                           ctypes.POINTER(FTW))
FTW_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int)
FTW_PHYS, FTW_MOUNT, FTW_CHDIR, FTW_DEPTH, FTW_ACTIONRETVAL = 1, 2, 4, 8, 16
NAMES = {0: "F", 1: "D", 2: "DNR", 3: "NS", 4: "SL", 5: "DP", 6: "SLN"}


def st_mode_size(sp):
    if not sp:
        return 0, 0
    mode = ctypes.c_uint32.from_address(sp + 24).value  # x86_64/aarch64 struct stat
    size = ctypes.c_int64.from_address(sp + 48).value
    return mode, size


def nftw_tests():
    libc.nftw.argtypes = [ctypes.c_char_p, NFTW_CB, ctypes.c_int, ctypes.c_int]
    libc.nftw64.argtypes = libc.nftw.argtypes
    libc.ftw.argtypes = [ctypes.c_char_p, FTW_CB, ctypes.c_int]
    for flags in (0, FTW_PHYS, FTW_PHYS | FTW_DEPTH, FTW_DEPTH, FTW_CHDIR,
                  FTW_CHDIR | FTW_DEPTH | FTW_PHYS, FTW_MOUNT):
        lines, seq = [], []

        def cb(path, sp, flag, ftw):
            p = path.decode()
            mode, size = st_mode_size(sp)
            f = ftw.contents
            extra = ""
            if flag == 0:
                extra = "size=%d" % size
            if flags & FTW_CHDIR:
                # (the physical directory: through a symlink getcwd may say either)
                extra += " cwd=" + os.path.realpath(os.getcwd()).replace(D, "@")
                # the entry must be reachable by its base name from there
                extra += " here=%s" % os.path.lexists(p[f.base:])
            lines.append("%s %s base=%s level=%d %s" % (NAMES[flag], p.replace(D, "@"),
                                                        p[f.base:], f.level, extra))
            seq.append(p)
            return 0
        cwd_before = os.getcwd()
        r = libc.nftw((D + "/tree").encode(), NFTW_CB(cb), 5, flags)
        say("nftw flags=%d ->" % flags, r, "cwd kept:", os.getcwd() == cwd_before)
        for l in sorted(lines):
            say("  ", l)
        # order: pre-order reports a directory before what it holds, FTW_DEPTH after
        ok = all((seq.index(os.path.dirname(p)) < i) != bool(flags & FTW_DEPTH)
                 for i, p in enumerate(seq) if os.path.dirname(p) in seq)
        say("   order ok:", ok)
    # nftw64, a relative start, a trailing slash, a file, a missing path
    for start, fl in (("tree/a/", 0), ("tree/top", 0), ("nope", 0), ("tree/flink", FTW_PHYS),
                      ("tree/flink", 0), ("tree/dangling", 0), ("tree/dangling", FTW_PHYS)):
        lines = []

        def cb2(path, sp, flag, ftw):
            f = ftw.contents
            lines.append("%s %s %d %d" % (NAMES[flag], path.decode().replace(D, "@"),
                                          f.base - len(D), f.level))
            return 0
        r = libc.nftw64((D + "/" + start).encode(), NFTW_CB(cb2), 5, fl)
        say("nftw64", start, fl, "->", r, "" if r == 0 else err(), sorted(lines))
    old = os.getcwd()
    os.chdir(D)
    lines = []

    def cb3(path, sp, flag, ftw):
        lines.append("%s %s %d" % (NAMES[flag], path.decode(), ftw.contents.base))
        return 0
    r = libc.nftw(b"tree/a", NFTW_CB(cb3), 5, FTW_CHDIR)
    say("nftw relative ->", r, sorted(lines), "cwd back:", os.getcwd() == D)
    up = os.path.dirname(os.path.dirname(D))
    os.chdir(up)
    rel = os.path.relpath(D, up)
    lines = []

    def cb6(path, sp, flag, ftw):
        lines.append("%s %s %d" % (NAMES[flag], path.decode().replace(rel, "@"),
                                   ftw.contents.base - len(rel)))
        return 0
    r = libc.nftw((rel + "/tree/a").encode(), NFTW_CB(cb6), 5, FTW_PHYS)
    say("nftw relative from above ->", r, sorted(lines))
    os.chdir(old)
    # callback's value stops the walk; FTW_ACTIONRETVAL skips
    r = libc.nftw((D + "/tree").encode(),
                  NFTW_CB(lambda p, s, f, w: 7 if p.endswith(b"f2") else 0), 5, FTW_PHYS)
    say("nftw stop ->", r)
    lines = []

    def cb4(path, sp, flag, ftw):
        p = path.decode()
        lines.append(p.replace(D, "@"))
        if p.endswith("/a/b"):
            return 2  # FTW_SKIP_SUBTREE
        if p.endswith("/s/only"):
            return 3  # FTW_SKIP_SIBLINGS: "only" is alone in s
        return 0
    r = libc.nftw((D + "/tree").encode(), NFTW_CB(cb4), 5, FTW_PHYS | FTW_ACTIONRETVAL)
    say("nftw actionretval ->", r, sorted(lines))
    r = libc.nftw((D + "/tree").encode(), NFTW_CB(lambda *a: 0), 5, 1 << 10)
    say("nftw bad flags ->", r, err())
    lines = []

    def cb5(path, sp, flag):
        mode, size = st_mode_size(sp)
        lines.append("%s %s" % (NAMES[flag], path.decode().replace(D, "@")))
        return 0
    r = libc.ftw((D + "/tree").encode(), FTW_CB(cb5), 5)
    say("ftw ->", r, sorted(lines))


def temp_tests():
    libc.mkdtemp.restype = ctypes.c_char_p
    libc.mktemp.restype = ctypes.c_char_p
    umask = os.umask(0o022)
    names = set()

    def check(kind, prefix, suffix, tmpl, fd):
        name = tmpl.value.decode()
        base = os.path.basename(name)
        ok = (base.startswith(prefix) and base.endswith(suffix) and
              len(base) == len(prefix) + 6 + len(suffix) and "XXXXXX" not in base and
              all(c.isalnum() for c in base[len(prefix):len(prefix) + 6]))
        names.add(name)
        st = os.lstat(name) if os.path.lexists(name) else None
        mode = oct(stat.S_IMODE(st.st_mode)) if st else "absent"
        say(kind, "name ok:", ok, "mode:", mode, "fd:", fd >= 0 if fd is not None else "-")
        return name

    for i in range(3):
        t = ctypes.create_string_buffer((D + "/tmp/fileXXXXXX").encode())
        fd = libc.mkstemp(t)
        name = check("mkstemp", "file", "", t, fd)
        os.write(fd, b"hello")
        os.lseek(fd, 0, 0)
        say("  read back", os.read(fd, 10), "same file:", os.fstat(fd).st_ino == os.stat(name).st_ino)
        os.close(fd)
    t = ctypes.create_string_buffer((D + "/tmp/sufXXXXXX.txt").encode())
    check("mkstemps", "suf", ".txt", t, libc.mkstemps(t, 4))
    t = ctypes.create_string_buffer((D + "/tmp/oXXXXXX").encode())
    fd = libc.mkostemp(t, os.O_APPEND | os.O_CLOEXEC)
    check("mkostemp", "o", "", t, fd)
    say("  append:", bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND),
        "cloexec:", bool(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC),
        "rdwr:", fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDWR)
    os.close(fd)
    t = ctypes.create_string_buffer((D + "/tmp/osXXXXXX.c").encode())
    check("mkostemps", "os", ".c", t, libc.mkostemps(t, 2, os.O_CLOEXEC))
    t = ctypes.create_string_buffer((D + "/tmp/s64XXXXXX").encode())
    check("mkstemp64", "s64", "", t, libc.mkstemp64(t))
    t = ctypes.create_string_buffer((D + "/tmp/dirXXXXXX").encode())
    r = libc.mkdtemp(t)
    check("mkdtemp", "dir", "", t, 0 if r else -1)
    t = ctypes.create_string_buffer((D + "/tmp/nameXXXXXX").encode())
    r = libc.mktemp(t)
    check("mktemp", "name", "", t, None)
    for tmpl, call in (("/tmp/badXXXXX", "mkstemp"), ("/tmp/bad", "mkdtemp"),
                       ("/nodir/fXXXXXX", "mkstemp"), ("/nodir/dXXXXXX", "mkdtemp")):
        t = ctypes.create_string_buffer((D + tmpl).encode())
        r = getattr(libc, call)(t)
        say(call, tmpl, "->", r if call == "mkstemp" else (r is not None), err())
    t = ctypes.create_string_buffer((D + "/tmp/sXXXXXX.txt").encode())
    say("mkstemps bad suffix ->", libc.mkstemps(t, 5), err())
    for i in range(40):
        t = ctypes.create_string_buffer((D + "/tmp/manyXXXXXX").encode())
        fd = libc.mkstemp(t)
        names.add(t.value)
        os.close(fd)
    say("distinct names:", len(names))
    os.umask(umask)


def getdents_tests():
    libc.getdents64.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
    libc.getdents64.restype = ctypes.c_ssize_t
    for bufsize in (64, 100, 4096):
        fd = os.open(D + "/tree", os.O_RDONLY | os.O_DIRECTORY)
        buf = ctypes.create_string_buffer(bufsize)
        names, calls, offs = [], 0, []
        while True:
            n = libc.getdents64(fd, buf, bufsize)
            if n <= 0:
                break
            calls += 1
            at = 0
            while at < n:
                ino, off, reclen, typ = (ctypes.c_uint64.from_buffer(buf, at).value,
                                         ctypes.c_int64.from_buffer(buf, at + 8).value,
                                         ctypes.c_ushort.from_buffer(buf, at + 16).value,
                                         ctypes.c_ubyte.from_buffer(buf, at + 18).value)
                name = ctypes.string_at(ctypes.addressof(buf) + at + 19).decode()
                names.append("%s:%d" % (name, typ))
                offs.append(off)
                at += reclen
        say("getdents64 buf=%d ->" % bufsize, n, sorted(names),
            "several calls:", calls > 1 if bufsize < 200 else calls)
        # seeking to an entry's d_off resumes after it
        if len(offs) > 2:
            os.lseek(fd, offs[1], os.SEEK_SET)
            n = libc.getdents64(fd, buf, bufsize)
            first = ctypes.string_at(ctypes.addressof(buf) + 19).decode() if n > 0 else None
            say("  after seek: third entry:", first == names[2].rsplit(":", 1)[0])
        os.lseek(fd, 0, os.SEEK_SET)
        n = libc.getdents64(fd, buf, bufsize)
        say("  rewound:", n > 0)
        os.close(fd)
    fd = os.open(D + "/tree", os.O_RDONLY | os.O_DIRECTORY)
    buf = ctypes.create_string_buffer(64)
    say("getdents64 tiny buffer ->", libc.getdents64(fd, buf, 8), err())
    os.close(fd)
    fd = os.open(D + "/tree/top", os.O_RDONLY)
    say("getdents64 on a file ->", libc.getdents64(fd, buf, 64), err())
    os.close(fd)


def stdio_tests():
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.freopen.restype = ctypes.c_void_p
    libc.freopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p]
    for fn in ("fileno", "fileno_unlocked", "fclose", "fflush"):
        getattr(libc, fn).argtypes = [ctypes.c_void_p]
    libc.fputs.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    libc.fgets.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p]
    libc.fgets.restype = ctypes.c_char_p
    p = D + "/stdio-a"
    f = libc.fopen(p.encode(), b"w+")
    fd = libc.fileno(f)
    say("fileno:", fd >= 0, "unlocked same:", libc.fileno_unlocked(f) == fd,
        "same file:", fd >= 0 and os.fstat(fd).st_ino == os.stat(p).st_ino)
    libc.fputs(b"first\n", f)
    # freopen of one stream onto another file: same FILE, same fd number
    q = D + "/stdio-b"
    g = libc.freopen(q.encode(), b"w", f)
    say("freopen same stream:", g == f, "same fd:", g and libc.fileno(g) == fd)
    libc.fputs(b"second\n", g)
    g2 = libc.freopen(None, b"a", g)
    say("freopen NULL:", g2 == g)
    libc.fputs(b"third\n", g2)
    libc.fclose(g2)
    say("contents:", open(p).read().split(), open(q).read().split())
    # freopen onto stdout and stdin, then give fd 0/1 back
    stdout = ctypes.c_void_p.in_dll(libc, "stdout")
    stdin = ctypes.c_void_p.in_dll(libc, "stdin")
    sys.stdout.flush()
    saved1, saved0 = os.dup(1), os.dup(0)
    r = libc.freopen((D + "/stdio-out").encode(), b"w", stdout)
    ok = r is not None and r == stdout.value and libc.fileno(ctypes.c_void_p(r)) == 1
    libc.fputs(b"to stdout\n", stdout)
    libc.fflush(stdout)
    os.dup2(saved1, 1)
    say("freopen stdout:", ok, open(D + "/stdio-out").read().split())
    with open(D + "/stdio-in", "w") as w:
        w.write("line from file\n")
    r = libc.freopen((D + "/stdio-in").encode(), b"r", stdin)
    buf = ctypes.create_string_buffer(100)
    got = libc.fgets(buf, 100, stdin)
    ok = r is not None and r == stdin.value and libc.fileno(ctypes.c_void_p(r)) == 0
    os.dup2(saved0, 0)
    say("freopen stdin:", ok, got)
    os.close(saved0)
    os.close(saved1)


def oserr(f, *a, **k):
    """f(*a, **k), or the errno name it raised"""
    try:
        return f(*a, **k)
    except OSError as e:
        return errno.errorcode.get(e.errno, e.errno)


def raw_syscall_tests():
    # syscall(2) by number, as stress-ng makes most of its file calls
    nr = {"readlink": 89, "getdents": 78, "utime": 132, "stat": 4, "mkdir": 83,
          "rmdir": 84, "open": 2, "close": 3, "fchmod": 91, "ftruncate": 77, "fstat": 5,
          "ioctl": 16, "unlink": 87, "getcwd": 79, "chdir": 80, "fchdir": 81, "dup2": 33}
    libc.syscall.restype = ctypes.c_long
    S = lambda name, *a: (libc.syscall(ctypes.c_long(nr[name]), *a), err())
    if os.uname().machine != "x86_64":
        return
    p = (D + "/tmp/raw").encode()
    say("raw mkdir", S("mkdir", p, 0o750)[0], "rmdir", S("rmdir", p)[0], S("rmdir", p))
    say("raw readlink", S("readlink", (D + "/tree/flink").encode(), ctypes.create_string_buffer(64), 64)[0],
        S("readlink", (D + "/tree/top").encode(), ctypes.create_string_buffer(64), 64))
    # a file that is there (a missing one is ENOENT also where the kernel gets the call)
    sb = ctypes.create_string_buffer(256)
    say("raw stat", S("stat", (D + "/tree/a/b/f2").encode(), sb)[0], "size",
        int.from_bytes(sb.raw[48:56], "little"), "mode", oct(int.from_bytes(sb.raw[24:28], "little")),
        S("stat", (D + "/tree/nothere").encode(), sb))
    say("raw utime", S("utime", (D + "/tree/top").encode(), None)[0])
    fd = S("open", (D + "/tree/a").encode(), os.O_RDONLY | os.O_DIRECTORY)[0]
    buf = ctypes.create_string_buffer(4096)
    n = S("getdents", fd, buf, 4096)[0]
    names, at = [], 0
    while at < n:  # struct linux_dirent: ino, off, reclen, name..., type at reclen-1
        reclen = int.from_bytes(buf.raw[at + 16:at + 18], "little")
        name = buf.raw[at + 18:at + reclen].split(b"\0")[0].decode()
        names.append((name, buf.raw[at + reclen - 1]))
        at += reclen
    say("raw getdents", sorted(names))
    say("raw close", S("close", fd)[0])
    fd = S("open", (D + "/tmp/rawf").encode(), os.O_RDWR | os.O_CREAT, 0o600)[0]
    say("raw ftruncate", S("ftruncate", fd, 1234)[0], "fchmod", S("fchmod", fd, 0o640)[0],
        "size", os.stat(D + "/tmp/rawf").st_size, oct(os.stat(D + "/tmp/rawf").st_mode))
    say("raw TCGETS", S("ioctl", fd, 0x5401, ctypes.create_string_buffer(64)))
    os.close(fd)
    say("raw unlink", S("unlink", (D + "/tmp/rawf").encode())[0], os.path.exists(D + "/tmp/rawf"))
    # a raw chdir out of the directory (a mount or not) is where getcwd says
    old = os.getcwd()
    os.chdir(D + "/tree")
    b = ctypes.create_string_buffer(4096)
    say("raw getcwd size 0", S("getcwd", b, 0), "size 1", S("getcwd", b, 1),
        "ok", S("getcwd", b, 4096)[0] == len(os.getcwd()) + 1)
    say("raw chdir host", S("chdir", b"/")[0], os.getcwd())
    os.chdir(D + "/tree")
    root = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
    say("raw fchdir host", S("fchdir", root)[0], os.getcwd(), S("fchdir", -1))
    os.close(root)
    os.chdir(old)
    # /proc/self/fd/N of an unlinked file: a raw stat says what stat() says
    # (the kernel follows the fd; the library refuses, never the placeholder)
    with open(D + "/tmp/gone", "wb") as fo:
        fo.write(b"12345")
    fd = os.open(D + "/tmp/gone", os.O_RDONLY)
    os.unlink(D + "/tmp/gone")
    sb = ctypes.create_string_buffer(256)
    r, e = S("stat", ("/proc/self/fd/%d" % fd).encode(), sb)
    raw = int.from_bytes(sb.raw[48:56], "little") if r == 0 else e
    say("raw stat /proc/self/fd/N gone: as stat()", raw == oserr(lambda: os.stat("/proc/self/fd/%d" % fd).st_size))
    os.close(fd)
    # a kernel fd dup2'd onto a file's fd: that fd is the kernel's file now
    fd = os.open(D + "/tree/top", os.O_RDONLY)
    null = os.open("/dev/null", os.O_RDONLY)
    say("raw dup2 onto", S("dup2", null, fd)[0] == fd, stat.S_ISCHR(os.fstat(fd).st_mode), os.read(fd, 4))
    os.close(fd)
    # raw close and dup2 over every other fd leave the files reachable (a
    # closefrom by hand: the library's own fds stay open; a dup2 onto one
    # moves it above, so what they are is kept, not where)
    for name in ("close", "dup2"):
        pid = os.fork()
        if pid == 0:
            keep = os.open(D + "/tree/top", os.O_RDONLY)

            def high():  # the library keeps its own fds at 900 and up (none on the kernel's side)
                return {int(n): os.readlink("/proc/self/fd/" + n) for n in os.listdir("/proc/self/fd")
                        if int(n) >= 512 and os.path.exists("/proc/self/fd/" + n)}
            before = high()
            for n in range(3, 1024):
                if n not in (null, keep):
                    S(name, null, n) if name == "dup2" else S(name, n)
            # (the fds dup2 made /dev/null are the test's, not the library's)
            after = {n: v for n, v in high().items() if name == "close" or n >= 1024}
            ok = os.pread(keep, 4, 0) == b"z" and os.stat(D + "/tree/top").st_size == 1
            ok = ok and sorted(after.values()) == sorted(before.values())
            os._exit(0 if ok else 1)
        say("raw", name, "of every other fd, then read and stat", os.waitpid(pid, 0)[1])
    os.close(null)


def fd_call_tests():
    # preadv2/pwritev2 flags, splice and tee with a pipe, copy_file_range's checks,
    # the VFS's own ioctls, fcntl's owner, signal, lease, pipe and seal commands
    f = D + "/tmp/fdcalls"
    fd = os.open(f, os.O_RDWR | os.O_CREAT, 0o644)
    say("pwritev RWF_SYNC", oserr(os.pwritev, fd, [b"abc", b"defg"], 0, os.RWF_SYNC))
    say("pwritev RWF_DSYNC", oserr(os.pwritev, fd, [b"xy"], 7, os.RWF_DSYNC))
    say("pwritev RWF_APPEND", oserr(os.pwritev, fd, [b"++"], 0, os.RWF_APPEND), os.pread(fd, 20, 0))
    b1, b2 = bytearray(2), bytearray(20)
    say("preadv RWF_HIPRI", oserr(os.preadv, fd, [b1, b2], 1, os.RWF_HIPRI), bytes(b1), bytes(b2))
    say("preadv at -1", oserr(os.preadv, fd, [b2], -1, 0), "offset", os.lseek(fd, 0, os.SEEK_CUR))
    say("preadv bad flag", oserr(os.preadv, fd, [b2], 0, 0x40000000))
    say("preadv offset -2", oserr(os.preadv, fd, [b2], -2))
    r, w = os.pipe()
    say("splice file->pipe", oserr(os.splice, fd, w, 5, offset_src=2), os.read(r, 10),
        "offset", os.lseek(fd, 0, os.SEEK_CUR))
    os.write(w, b"PIPED")
    say("splice pipe->file", oserr(os.splice, r, fd, 5, offset_dst=1), os.pread(fd, 20, 0))
    say("splice pipe offset", oserr(os.splice, r, fd, 5, offset_src=0))
    say("splice file->file", oserr(os.splice, fd, fd, 5))
    say("splice bad flags", oserr(os.splice, fd, w, 5, None, None, 0x100))
    # into a pipe: no more than its room (one page free here), EAGAIN when full;
    # out of an empty pipe without a writer: 0 (its end), with one: EAGAIN
    big = os.open(D + "/tmp/big", os.O_RDWR | os.O_CREAT, 0o644)
    os.write(big, b"b" * 20000)
    r2, w2 = os.pipe()
    fcntl.fcntl(w2, fcntl.F_SETPIPE_SZ, 65536)
    os.write(w2, b"p" * 61440)
    say("splice file->pipe, a page free", oserr(os.splice, big, w2, 10000, offset_src=0),
        "full, nonblock", oserr(os.splice, big, w2, 10000, offset_src=0, flags=os.SPLICE_F_NONBLOCK))
    os.read(r2, 1 << 20)  # all it holds, at once
    say("splice empty pipe->file, nonblock", oserr(os.splice, r2, big, 10, flags=os.SPLICE_F_NONBLOCK))
    os.write(w2, b"kept")  # what the file refuses stays in the pipe
    say("splice pipe->file refused", oserr(os.splice, r2, big, 10, offset_dst=(1 << 63) - 2), os.read(r2, 10))
    os.close(w2)
    say("splice ended pipe->file, nonblock", oserr(os.splice, r2, big, 10, flags=os.SPLICE_F_NONBLOCK),
        "blocking", oserr(os.splice, r2, big, 10))
    os.close(r2)
    os.close(big)
    libc.tee.restype = ctypes.c_ssize_t
    say("tee file", libc.tee(fd, w, 5, 0), err(), "tee pipe, file", libc.tee(r, fd, 5, 0), err())
    g = os.open(D + "/tmp/fdcalls2", os.O_RDWR | os.O_CREAT, 0o644)
    say("copy_file_range", oserr(os.copy_file_range, fd, g, 6, 0, 0), os.pread(g, 10, 0))
    say("copy_file_range overlap", oserr(os.copy_file_range, fd, fd, 4, 0, 2))
    say("copy_file_range pipe", oserr(os.copy_file_range, r, g, 4))
    dfd = os.open(D + "/tree", os.O_RDONLY | os.O_DIRECTORY)
    say("copy_file_range dir", oserr(os.copy_file_range, dfd, g, 4))
    a = os.open(D + "/tmp/fdcalls2", os.O_WRONLY | os.O_APPEND)
    say("copy_file_range append", oserr(os.copy_file_range, fd, a, 4, 0))
    say("copy_file_range flags", libc.copy_file_range(fd, None, g, None, 4, 1), err())
    # an offset given as -1 is that offset, not the file's; negative ones wrap (EOVERFLOW)
    # or are refused after the length is shortened (EINVAL)
    say("copy_file_range at -1", oserr(os.copy_file_range, fd, g, 4, -1, 0),
        "into -1", oserr(os.copy_file_range, fd, g, 4, 0, -1),
        "at -2 for 1", oserr(os.copy_file_range, fd, g, 1, -2, 0),
        "same file at -1", oserr(os.copy_file_range, fd, fd, 4, -1, 0),
        "from past the end into -5", oserr(os.copy_file_range, fd, g, 1, 1 << 40, -5),
        "offset", os.lseek(fd, 0, os.SEEK_CUR), os.pread(g, 10, 0))
    say("sendfile", oserr(os.sendfile, w, fd, 1, 4), os.read(r, 10))
    os.lseek(fd, 3, os.SEEK_SET)
    iv = ctypes.c_int(-1)
    say("FIONREAD", libc.ioctl(fd, 0x541B, ctypes.byref(iv)), iv.value, err())
    say("FIONREAD dir", libc.ioctl(dfd, 0x541B, ctypes.byref(iv)), err())
    say("FIOCLEX", libc.ioctl(fd, 0x5451), fcntl.fcntl(fd, fcntl.F_GETFD),
        "FIONCLEX", libc.ioctl(fd, 0x5450), fcntl.fcntl(fd, fcntl.F_GETFD))
    iv.value = 1
    say("FIONBIO", libc.ioctl(fd, 0x5421, ctypes.byref(iv)), fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK)
    q = ctypes.c_long(-1)
    say("FIOQSIZE", libc.ioctl(fd, 0x5460, ctypes.byref(q)), q.value > 0)  # blocks: ext4's or Ceph's
    say("isatty", os.isatty(fd), "TCGETS", libc.ioctl(fd, 0x5401, ctypes.create_string_buffer(64)), err())
    say("F_SETOWN", fcntl.fcntl(fd, fcntl.F_SETOWN, os.getpid()), fcntl.fcntl(fd, fcntl.F_GETOWN) == os.getpid())
    say("F_SETOWN nobody", oserr(fcntl.fcntl, fd, fcntl.F_SETOWN, 2 ** 22 + 7))
    say("F_SETSIG", fcntl.fcntl(fd, 10, 34), fcntl.fcntl(fd, 11), oserr(fcntl.fcntl, fd, 10, 100))
    say("F_GETLEASE", fcntl.fcntl(fd, fcntl.F_GETLEASE))
    say("F_GETPIPE_SZ", oserr(fcntl.fcntl, fd, fcntl.F_GETPIPE_SZ))
    say("F_GET_SEALS", oserr(fcntl.fcntl, fd, fcntl.F_GET_SEALS))
    say("F_NOTIFY file", oserr(fcntl.fcntl, fd, fcntl.F_NOTIFY, fcntl.DN_CREATE))
    h = ctypes.c_uint64(3)
    say("F_SET_RW_HINT", libc.fcntl(fd, 1036, ctypes.byref(h)), err())
    h.value = 0
    say("F_GET_RW_HINT", libc.fcntl(fd, 1035, ctypes.byref(h)), h.value)
    h.value = 99
    say("F_SET_RW_HINT bad", libc.fcntl(fd, 1036, ctypes.byref(h)), err())
    # a device number that is one (libcephfs's snapshot id was -2 read signed)
    dev = os.stat(D).st_dev
    say("st_dev", dev >= 0, os.makedev(os.major(dev), os.minor(dev)) == dev, os.fstat(fd).st_dev == dev)
    # a descriptor by its kernel names: the file itself, not what stands in for it
    with open(D + "/tree/a/f1", "rb") as fo:
        n = fo.fileno()
        say("/dev/fd/N", open("/dev/fd/%d" % n, "rb").read(), os.stat("/proc/self/fd/%d" % n).st_size,
            os.stat("/proc/%d/fd/%d" % (os.getpid(), n)).st_size,
            sorted(os.listdir("/dev/fd/%d/a" % dfd)))
        say("readlink /proc/self/fd/N", os.readlink("/proc/self/fd/%d" % n),
            os.path.realpath("/dev/fd/%d" % n), os.path.islink("/proc/self/fd/%d" % n))
        # /dev/stdin is a real symlink: its readlink is /proc/self/fd/0 whatever fd 0 is
        saved = os.dup(0)
        os.dup2(n, 0)
        say("readlink /dev/stdin", os.readlink("/dev/stdin"), os.path.islink("/dev/stdin"),
            os.stat("/dev/stdin").st_size)
        os.dup2(saved, 0)
        os.close(saved)
        # procfs reads N with no leading zero: /dev/fd/0N names nothing
        say("/dev/fd/0N", oserr(lambda: os.stat("/dev/fd/0%d" % n).st_size),
            oserr(lambda: os.stat("/proc/%d/fd/0%d" % (os.getpid(), n)).st_size))
    for x in (fd, g, a, dfd, r, w):
        os.close(x)


def fadvise_tests():
    """posix_fadvise answers an error number, checked as the kernel checks it."""
    p = D + "/fadv"
    with open(p, "wb") as f:
        f.write(b"x" * 65536)
    fd = os.open(p, os.O_RDONLY)
    pfd = os.open(p, os.O_PATH)
    dfd = os.open(D, os.O_RDONLY)
    for name, f, off, n, adv in (("dontneed", fd, 0, 0, 4), ("willneed", fd, 10, 10, 3),
                                 ("negative len", fd, 0, -1, 0), ("bad advice", fd, 0, 10, 9),
                                 ("negative offset", fd, -5, 10, 2), ("O_PATH", pfd, 0, 0, 9),
                                 ("directory", dfd, 0, 0, 4), ("closed", 999, 0, 0, 0)):
        r = libc.posix_fadvise(f, ctypes.c_long(off), ctypes.c_long(n), adv)
        say("posix_fadvise", name, errno.errorcode.get(r, r))
    for f in (fd, pfd, dfd):
        os.close(f)


def seek_tests():
    """lseek SEEK_DATA/SEEK_HOLE: results, errno and the fd offset after.

    DANAUS_SEEK_HOLES=any (a pool whose backend keeps no holes: Ceph): a
    hole may be reported as data, so a result shows as whether it is a
    right one (zeros skipped, ends at a hole or the end), not its value.
    """
    exact = os.environ.get("DANAUS_SEEK_HOLES", "exact") != "any"
    DATA, HOLE, M = os.SEEK_DATA, os.SEEK_HOLE, 1 << 20
    f = D + "/tmp/sparse"
    fd = os.open(f, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.pwrite(fd, b"a" * 4096, M)            # hole at the start,
    os.pwrite(fd, b"b" * 4096, 3 * M)        # one in the middle
    os.ftruncate(fd, 6 * M)                  # and one at the end
    size = 6 * M

    def zeros(a, b):
        return a >= b or os.pread(fd, b - a, a) == bytes(b - a)

    def probe(x, off, wh, sz, any_ok):
        os.lseek(x, 7, os.SEEK_SET)
        r = oserr(os.lseek, x, off, wh)
        at = os.lseek(x, 0, os.SEEK_CUR)
        if any_ok and isinstance(r, int):
            right = off <= r <= sz and (zeros(off, r) if wh == DATA else r == sz or zeros(r, r + 1))
            return "right" if right and at == r else "WRONG %d at %d" % (r, at)
        if any_ok and r == "ENXIO" and wh == DATA and 0 <= off < sz:  # only holes from off on
            return "right" if zeros(off, sz) and at == 7 else "WRONG ENXIO at %d" % at
        return "%s at %d" % (r, at)
    offs = (-1, 0, 4095, M - 1, M, M + 100, M + 4096, 2 * M, 3 * M + 4095, 3 * M + 4096, 5 * M,
            size - 1, size, size + 1, 1 << 62, (1 << 63) - 1)
    for off in offs:
        say("seek sparse", off, "data", probe(fd, off, DATA, size, not exact),
            "hole", probe(fd, off, HOLE, size, not exact))
    say("seek whence 5", oserr(os.lseek, fd, 0, 5), "offset", os.lseek(fd, 0, os.SEEK_CUR))
    os.close(fd)
    # all data (no hole in it), write-only: exact everywhere
    fd = os.open(D + "/tmp/full", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, b"f" * 10000)
    for off in (-5, 0, 9999, 10000):
        say("seek full", off, "data", probe(fd, off, DATA, 10000, False),
            "hole", probe(fd, off, HOLE, 10000, False))
    os.close(fd)
    fd = os.open(D + "/tmp/empty", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    for off in (-1, 0, 1):
        say("seek empty", off, "data", probe(fd, off, DATA, 0, False), "hole", probe(fd, off, HOLE, 0, False))
    os.close(fd)
    # a directory: its end is no offset of an entry (ext4's, hash-ordered, is INT64_MAX)
    fd = os.open(D + "/tree", os.O_RDONLY | os.O_DIRECTORY)
    for off in (-1, 0, 100, 4096, 1 << 40, (1 << 63) - 1):
        say("seek dir", off, "data", probe(fd, off, DATA, 0, False), "hole", probe(fd, off, HOLE, 0, False))
    say("  then readdir from the start", os.lseek(fd, 0, os.SEEK_SET), sorted(os.listdir(fd)))
    os.close(fd)
    fd = os.open(f, os.O_PATH)
    say("seek O_PATH", oserr(os.lseek, fd, 0, DATA), oserr(os.lseek, fd, 0, HOLE))
    os.close(fd)


def close_range_tests():
    """close_range's flags: unknown ones refused touching nothing, CLOEXEC and UNSHARE on files"""
    libc.close_range.argtypes = [ctypes.c_uint, ctypes.c_uint, ctypes.c_int]
    UNSHARE, CLOEXEC = 2, 4
    x = os.open(D + "/tree/a/f1", os.O_RDONLY)
    for n in (200, 201, 203):
        os.dup2(x, n, inheritable=True)
    os.close(x)

    def state():
        return " ".join("%d:%s" % (n, oserr(fcntl.fcntl, n, fcntl.F_GETFD)) for n in (200, 201, 203))
    for flags in (1 << 5, -1, 1 << 31, CLOEXEC | 8):
        say("close_range flags", hex(flags & 0xffffffff), libc.close_range(200, 203, flags), err(),
            state(), os.pread(200, 2, 0))
    say("close_range first > last", libc.close_range(203, 200, 0), err(), state())
    say("close_range CLOEXEC", libc.close_range(200, 202, CLOEXEC), state())
    # the exec'd child has what was not marked, the file itself
    probe = ("import os\nfor n in (200, 201, 203):\n"
             "    try: print(n, os.pread(n, 3, 0))\n    except OSError as e: print(n, e.errno)\n")
    sys.stdout.flush()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(w, 1)
        os.execv(sys.executable, [sys.executable, "-c", probe])
    os.close(w)
    got = b""
    while True:
        chunk = os.read(r, 4096)
        if not chunk:
            break
        got += chunk
    os.close(r)
    say("  after exec", got.decode().split("\n"), os.waitpid(pid, 0)[1])
    say("close_range UNSHARE", libc.close_range(200, 201, UNSHARE), state(), os.pread(203, 2, 0))
    say("close_range UNSHARE|CLOEXEC", libc.close_range(203, 203, UNSHARE | CLOEXEC), state(),
        os.pread(203, 2, 0))
    os.close(203)


def own_fd_path_tests():
    """/proc/self/fd/N/more: on from the directory fd N is, wherever it now lies"""
    dfd = os.open(D + "/tree/a", os.O_RDONLY | os.O_DIRECTORY)
    # the name it was opened by leads nowhere; on Ceph names with a slash
    # below a directory fd still go by its opened path (README, Limits)
    moved = "/tree/a" if os.environ.get("DANAUS_TEST_CEPH_DIR") else "/tree/a-moved"
    os.rename(D + "/tree/a", D + moved)
    for name, p in (("/proc/self/fd/N", "/proc/self/fd/%d" % dfd), ("/dev/fd/N", "/dev/fd/%d" % dfd),
                    ("/proc/PID/fd/N", "/proc/%d/fd/%d" % (os.getpid(), dfd))):
        say("own fd path", name,
            oserr(lambda: os.stat(p + "/f1").st_size), oserr(lambda: sorted(os.listdir(p + "/b"))),
            oserr(lambda: os.stat(p + "//b/f2").st_size), oserr(lambda: stat.S_ISDIR(os.stat(p + "/").st_mode)),
            oserr(lambda: os.stat(p + "/../top").st_size), oserr(lambda: os.stat(p + "/nope")),
            oserr(lambda: os.stat(p + "/f1/")), oserr(lambda: os.readlink(p + "/b")))
    p = "/proc/self/fd/%d" % dfd
    with open(p + "/b/f2", "rb") as f:
        say("  open", len(f.read()))
    say("  mkdir", oserr(os.mkdir, p + "/new"), os.path.isdir(D + moved + "/new"),
        "rename", oserr(os.rename, p + "/new", p + "/new2"), sorted(os.listdir(D + moved)),
        "rmdir", oserr(os.rmdir, p + "/new2"))
    old = os.getcwd()
    say("  chdir", oserr(os.chdir, p + "/b"), os.getcwd().replace(D, "@"), sorted(os.listdir(".")))
    os.chdir(old)
    opath = os.open(D + moved + "/b", os.O_PATH)
    say("  O_PATH", oserr(lambda: os.stat("/proc/self/fd/%d/f2" % opath).st_size))
    ffd = os.open(D + "/tree/top", os.O_RDONLY)
    say("  file fd", oserr(lambda: os.stat("/proc/self/fd/%d/x" % ffd)),
        oserr(lambda: os.stat("/proc/self/fd/%d/" % ffd)), oserr(lambda: os.stat("/proc/self/fd/%d/." % ffd)))
    os.mkdir(D + "/tmp/rmd")
    gfd = os.open(D + "/tmp/rmd", os.O_RDONLY | os.O_DIRECTORY)
    os.rmdir(D + "/tmp/rmd")
    say("  removed dir", oserr(lambda: os.stat("/proc/self/fd/%d/x" % gfd)),
        oserr(os.open, "/proc/self/fd/%d/x" % gfd, os.O_CREAT | os.O_WRONLY, 0o644))
    # a kernel directory fd of an ancestor leads on into the directory under test
    up = os.path.dirname(os.path.dirname(D))
    ufd = os.open(up, os.O_RDONLY | os.O_DIRECTORY)
    q = "/proc/self/fd/%d/%s" % (ufd, os.path.relpath(D, up))
    say("  ancestor fd", oserr(lambda: os.stat(q + "/tree/top").st_size),
        oserr(lambda: sorted(os.listdir(q + "/tree/s"))))
    os.rename(D + moved, D + "/tree/a")
    for x in (dfd, opath, ffd, gfd, ufd):
        os.close(x)


def rename_same_tests():
    """rename onto the same file does nothing: a directory, a file, two hard links"""
    os.makedirs(D + "/same/d/sub")
    with open(D + "/same/f", "w") as f:
        f.write("f")
    os.link(D + "/same/f", D + "/same/h")
    dfd = os.open(D + "/same", os.O_RDONLY | os.O_DIRECTORY)
    say("rename same", oserr(os.rename, D + "/same/d", D + "/same/d"),
        oserr(lambda: sorted(os.listdir(D + "/same/d"))),
        oserr(lambda: os.stat("d/sub", dir_fd=dfd).st_nlink > 0),
        oserr(os.rename, D + "/same/f", D + "/same/f"), oserr(lambda: os.stat(D + "/same/f").st_nlink),
        oserr(os.rename, D + "/same/f", D + "/same/h"), sorted(os.listdir(D + "/same")),
        oserr(os.rename, "d", "d", src_dir_fd=dfd, dst_dir_fd=dfd),
        oserr(lambda: os.stat("d", dir_fd=dfd).st_mode & 0o170000),
        oserr(os.rename, D + "/same/d/", D + "/same/d/"), oserr(os.rename, D + "/same/f/", D + "/same/f/"))
    os.close(dfd)


def empty_name_tests():
    """an empty name: getname's ENOENT, the target of symlink (taken in first) too"""
    os.makedirs(D + "/empty")
    with open(D + "/empty/f", "w") as f:
        f.write("f")
    e = D + "/empty/"
    say("empty names", oserr(os.symlink, "", e + "s"), oserr(os.symlink, "", e + "f"),
        oserr(os.symlink, "", e + "no/such/s"), oserr(os.symlink, "f", ""),
        oserr(os.link, e + "f", ""), oserr(os.link, "", e + "l"), oserr(os.rename, "", e + "r"),
        oserr(os.rename, e + "f", ""), oserr(os.mkdir, ""), oserr(os.readlink, ""),
        sorted(os.listdir(e)))


def syncfs_tests():
    """syncfs on a file, a directory, an O_PATH fd (EBADF), through syscall(2) too"""
    with open(D + "/sfs", "w") as f:
        f.write("s")
    res = []
    for p, fl in (("/sfs", os.O_RDONLY), ("/sfs", os.O_WRONLY), ("", os.O_RDONLY | os.O_DIRECTORY),
                  ("/sfs", os.O_PATH)):
        fd = os.open(D + p, fl)
        r = libc.syncfs(fd)
        res.append(err() if r else r)
        if os.uname().machine == "x86_64":
            r = libc.syscall(ctypes.c_long(306), fd)  # SYS_syncfs
            res.append(err() if r else r)
        os.close(fd)
    say("syncfs", *res)


def tmpfile_link_tests():
    """linkat of an open file: "" with AT_EMPTY_PATH, /proc/self/fd/N followed
    (not followed: the magic link, EXDEV); a named file, an O_PATH one, one
    with no name left, a directory; an O_TMPFILE, with O_EXCL (ENOENT)"""
    AT_EMPTY_PATH, AT_FDCWD, FOLLOW = 0x1000, -100, 0x400
    libc.linkat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    t = D + "/tmpl"
    os.mkdir(t)
    os.mkdir(t + "/sub")

    def link(fd, old, new, flags):
        r = libc.linkat(fd, old.encode(), AT_FDCWD, (t + "/" + new).encode(), flags)
        return err() if r else r

    def proc(fd):
        return "/proc/self/fd/%d" % fd

    nf = os.open(t + "/named", os.O_CREAT | os.O_RDWR, 0o600)
    os.write(nf, b"named")
    pf = os.open(t + "/named", os.O_PATH)
    dfd = os.open(t + "/sub", os.O_RDONLY | os.O_DIRECTORY)
    res = [link(nf, "", "i", AT_EMPTY_PATH), link(AT_FDCWD, proc(nf), "sub/i", FOLLOW),
           link(AT_FDCWD, proc(nf), "c", 0), link(nf, "", "d", 0), link(nf, "", "i", AT_EMPTY_PATH),
           link(nf, "", "nodir/e", AT_EMPTY_PATH), link(nf, "", "f", AT_EMPTY_PATH | 0x2),
           link(pf, "", "m", AT_EMPTY_PATH), link(dfd, "", "l", AT_EMPTY_PATH), os.fstat(nf).st_nlink]
    for n in ("named", "i", "sub/i", "m"):
        os.unlink(t + "/" + n)
    res += [link(nf, "", "j", AT_EMPTY_PATH), link(AT_FDCWD, proc(nf), "k", FOLLOW)]
    for fd in (nf, pf, dfd):
        os.close(fd)
    say("linkat of open files", *res)
    # (a Ceph pool has no O_TMPFILE: EOPNOTSUPP; the kernel side of its runs is ext4)
    if not os.environ.get("DANAUS_TEST_CEPH_DIR"):
        tf = os.open(t, os.O_TMPFILE | os.O_RDWR, 0o640)
        os.write(tf, b"tmp")
        res = [link(tf, "", "a", AT_EMPTY_PATH), link(AT_FDCWD, proc(tf), "b", FOLLOW),
               link(AT_FDCWD, proc(tf), "c", 0), link(tf, "", "a", AT_EMPTY_PATH),
               link(tf, "", "sub/e", AT_EMPTY_PATH), os.fstat(tf).st_nlink]
        os.write(tf, b"-more")
        ex = os.open(t, os.O_TMPFILE | os.O_RDWR | os.O_EXCL, 0o600)
        res += [link(ex, "", "g", AT_EMPTY_PATH), link(AT_FDCWD, proc(ex), "h", FOLLOW)]
        os.close(tf)
        os.close(ex)
        say("linkat of O_TMPFILEs", *res)
    say("  names", *["%s:%d:%o:%s" % (n, os.stat(t + "/" + n).st_nlink, os.stat(t + "/" + n).st_mode,
                                        open(t + "/" + n, "rb").read())
                     for n in sorted(os.listdir(t)) + sorted("sub/" + x for x in os.listdir(t + "/sub"))
                     if n != "sub"])


def cwd_name_tests():
    """getwd and get_current_dir_name (glibc's own getcwd inside), the latter
    $PWD when it names the working directory: through a symlink, a stale one"""
    libc.getwd.restype = ctypes.c_char_p
    libc.get_current_dir_name.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]

    def gcdn():
        p = libc.get_current_dir_name()
        s = ctypes.string_at(p).decode()
        libc.free(p)
        return s

    here = os.getcwd()
    old = os.environ.get("PWD")
    os.chdir(D + "/links/rel")
    buf = ctypes.create_string_buffer(4096)
    for pwd in (D + "/links/rel", D + "/links/abs/b/", D + "/tree/a", D + "/tree/nope", D + "/tree/top",
                None):
        if pwd is None:
            os.environ.pop("PWD", None)
        else:
            os.environ["PWD"] = pwd
        say("cwd names", str(pwd).replace(D, "@"), libc.getwd(buf).decode(), gcdn())
    os.chdir(here)
    if old is not None:
        os.environ["PWD"] = old


def empty_path_cwd_tests():
    """"" with AT_EMPTY_PATH from AT_FDCWD is the working directory (without: ENOENT);
    statx's flags and mask checked; an OFD lock naming a pid is EINVAL"""
    here = os.getcwd()
    os.makedirs(D + "/ecwd/sub")
    os.chmod(D + "/ecwd/sub", 0o750)
    os.chdir(D + "/ecwd/sub")
    E = 0x1000  # AT_EMPTY_PATH
    sb = ctypes.create_string_buffer(512)
    res = []
    for flags in (E, 0):
        r = libc.fstatat(-100, b"", sb, flags)
        res.append(err() if r else oct(int.from_bytes(sb.raw[24:28], "little")))
        r = libc.statx(-100, b"", flags, 0x7ff, sb)
        res.append(err() if r else oct(int.from_bytes(sb.raw[28:30], "little")))
        for name, call in (("fchownat", lambda: libc.fchownat(-100, b"", -1, -1, flags)),
                           ("utimensat", lambda: libc.utimensat(-100, b"", None, flags)),
                           ("faccessat2", lambda: libc.syscall(ctypes.c_long(439), -100, b"", 2, flags)),
                           ("fchmodat2", lambda: libc.syscall(ctypes.c_long(452), -100, b"", 0o700, flags))):
            r = call()
            res.append(name + ":" + str(err() if r else r))
    res.append(oct(os.stat(".").st_mode))
    for flags, mask in ((0x80000000, 0x7ff), (0x6000, 0x7ff), (0, 0x80000000), (0x2000, 0x7ff)):
        r = libc.statx(-100, b".", flags, mask, sb)
        res.append(err() if r else r)
    os.chdir(here)
    say("empty path cwd", *res)
    fd = os.open(D + "/ecwd/lk", os.O_RDWR | os.O_CREAT, 0o644)
    import struct
    lk = lambda cmd, t, pid: oserr(fcntl.fcntl, fd, cmd, struct.pack("hhqqi", t, 0, 0, 0, pid))
    say("ofd lock pid", lk(37, fcntl.F_WRLCK, 1), lk(36, fcntl.F_WRLCK, 1), lk(38, fcntl.F_WRLCK, 5),
        lk(37, fcntl.F_WRLCK, 0) == struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0), lk(37, fcntl.F_UNLCK, 0) is not None)
    os.close(fd)


def open_flag_tests():
    """open and openat drop bits that are no open flag (GNU dd passes its own); openat2 refuses them"""
    import struct
    with open(D + "/oflags", "w") as f:
        f.write("x")
    res = []
    for fl in (0xc, os.O_ASYNC, 0o100000, 0x40000000, os.O_WRONLY | os.O_CREAT | 0x4, 3):
        fd = oserr(os.open, D + "/oflags", fl, 0o644)
        res.append(oct(fcntl.fcntl(fd, fcntl.F_GETFL)) if isinstance(fd, int) else fd)
        if isinstance(fd, int):
            os.close(fd)
    for fl in (os.O_RDONLY, 0xc, 0x40000000):
        how = struct.pack("QQQ", fl, 0, 0)
        r = libc.syscall(ctypes.c_long(437), -100, (D + "/oflags").encode(), how, ctypes.c_size_t(24))
        res.append(err() if r < 0 else "fd")
        if r >= 0:
            os.close(r)
    say("open flags", *res)


def dprintf_tests():
    """dprintf formats through glibc's own FILE over the fd: it must reach the file"""
    fd = os.open(D + "/dprintf", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    r = libc.dprintf(fd, b"n=%d %s\n", 42, b"str")
    rr = libc.dprintf(fd, b"%s", b"x" * 100000)
    os.close(fd)
    with open(D + "/dprintf", "rb") as f:
        data = f.read()
    say("dprintf", r, rr, data[:9], len(data), libc.dprintf(fd, b"closed"), err())


def tty_tests():
    """isatty, tcgetattr, ttyname(_r) ask with glibc's internal ioctl: ENOTTY (O_PATH: EBADF)"""
    libc.ttyname.restype = ctypes.c_char_p
    buf = ctypes.create_string_buffer(64)
    res = []
    for fl in (os.O_RDONLY, os.O_PATH):
        fd = os.open(D + "/tree/top", fl)
        res += [libc.isatty(fd), err(), libc.tcgetattr(fd, buf), err(), libc.ttyname(fd), err()]
        r = libc.ttyname_r(fd, buf, 64)
        res.append(errno.errorcode.get(r, r))
        os.close(fd)
    say("tty calls", *res)


if __name__ == "__main__":
    if sys.argv[2:] and sys.argv[2] == "realpath-only":
        # print realpath of the given paths as they are (no @ replacement)
        libc.realpath.restype = ctypes.c_void_p
        for p in sys.argv[3:]:
            r = libc.realpath(p.encode(), None)
            print(ctypes.string_at(r).decode() if r else "error " + str(err()))
        sys.exit(0)
    if sys.argv[2:] and sys.argv[2] == "ancestor":
        # walk an ancestor of D, entering only what leads to D: is D's content seen?
        top, seen = sys.argv[3], []

        def cb(path, sp, flag, ftw):
            p = path.decode()
            if p.startswith(D + "/"):
                seen.append(p)
            elif flag == 1 and p != top and p != D and not D.startswith(p + "/"):
                return 2  # FTW_SKIP_SUBTREE
            return 0
        libc.nftw.argtypes = [ctypes.c_char_p, NFTW_CB, ctypes.c_int, ctypes.c_int]
        r = libc.nftw(top.encode(), NFTW_CB(cb), 5, FTW_PHYS | FTW_ACTIONRETVAL)
        print("ancestor walk ->", r, "saw:", D + "/tree/a/b/f2" in seen, len(seen))
        sys.exit(0)
    setup()
    for t in (realpath_tests, scandir_tests, nftw_tests, temp_tests, getdents_tests,
              fadvise_tests, stdio_tests, raw_syscall_tests, fd_call_tests, seek_tests,
              close_range_tests, own_fd_path_tests, rename_same_tests, empty_name_tests,
              syncfs_tests, tmpfile_link_tests, cwd_name_tests, empty_path_cwd_tests, open_flag_tests,
              dprintf_tests, tty_tests):
        t()
    print("\n".join(out))
PYEOF

CMDS="$WORK/cmds.sh"
cat > "$CMDS" <<'SHEOF'
# Coreutils and findutils over the tree libc_calls.py made in $1, "@" for $1.
set -u
cd "$1"
D=$1
r() { sed "s|$D|@|g"; }
realpath tree/flink links/rel links/updot tree/extlink/in/x 2>&1 | r
realpath -e tree/dangling 2>&1 | r
readlink -f links/abs/b links/rel/../f1 tree/dangling 2>&1 | r
readlink -e links/loop1 >/dev/null 2>&1; echo "readlink -e loop: $?"
ls -R tree | r
ls -l tree | awk 'NR > 1 {print $1, $NF}'
du -ab tree | while read -r s p; do [ -d "$p" ] && s=dir; echo "$s $p"; done | sort -k2
touch -d 2001-01-01 tree/top
find tree -newer tree/top | sort
find -L tree -type f | sort
f=$(mktemp -p "$1/tmp" fooXXXXXX); [ -f "$f" ] && echo "mktemp file: $(basename "$f" | cut -c1-3) $(stat -c %a "$f")"
dd if=tree/a/b/f2 iflag=skip_bytes,count_bytes skip=7 count=50 status=none | wc -c
sync -f tree/top; echo "sync -f: $?"
sync -d tree/top tree; echo "sync -d: $?"
d=$(mktemp -d -p "$1/tmp" barXXXXXX); [ -d "$d" ] && echo "mktemp dir: $(basename "$d" | cut -c1-3) $(stat -c %a "$d")"
SHEOF

# A backend without holes (Ceph) may call a hole data: seek_tests checks its answers are right ones.
[ -n "${DANAUS_TEST_CEPH_DIR:-}" ] && export DANAUS_SEEK_HOLES=any
POOL_NAME=libc
pool_start libc
PLAIN="$WORK/plain"

# stderr apart: danaus-run may warn there (no cgroup to join, ...)
python3 "$PY" "$PLAIN" > "$WORK/out.plain" 2> "$WORK/err.plain" ||
	{ cat "$WORK/err.plain" >&2; fail "script on the kernel directory"; }
in_pool python3 "$PY" "$MNT/d" > "$WORK/out.danaus" 2> "$WORK/err.danaus" ||
	{ cat "$WORK/err.danaus" >&2; fail "script on the mount"; }
grep -q '^freopen stdin: True' "$WORK/out.plain" || { cat "$WORK/out.plain" >&2; fail "script did not run to the end"; }
diff -u "$WORK/out.plain" "$WORK/out.danaus" || fail "libc calls differ between the kernel directory and the mount"
pass "realpath, scandir, nftw, mkstemp, getdents64, fileno, freopen agree ($(wc -l < "$WORK/out.plain") lines)"

bash "$CMDS" "$PLAIN" > "$WORK/cmds.plain" 2> "$WORK/err.plain"
in_pool bash "$CMDS" "$MNT/d" > "$WORK/cmds.danaus" 2> "$WORK/err.danaus"
grep -q '^mktemp dir: bar 700' "$WORK/cmds.plain" || { cat "$WORK/cmds.plain" >&2; fail "commands did not run"; }
diff -u "$WORK/cmds.plain" "$WORK/cmds.danaus" || fail "realpath/readlink/ls/du/find/mktemp differ"
pass "coreutils and find agree ($(wc -l < "$WORK/cmds.plain") lines)"

# A host symlink into the mount: the kernel finds the target missing, we do not.
ln -s "$MNT/d/tree" "$WORK/hostlink"
got=$(in_pool python3 "$PY" "$MNT/d" realpath-only "$WORK/hostlink/a/f1" 2>/dev/null)
[ "$got" = "$MNT/d/tree/a/f1" ] || fail "realpath through a host symlink into the mount: $got"
pass "realpath through a host symlink into the mount"

# A walk of an ancestor of the mountpoint goes on into the mount.
want=$(python3 "$PY" "$PLAIN" ancestor "$(dirname "$PLAIN")")
got=$(in_pool python3 "$PY" "$MNT/d" ancestor "$(dirname "$MNT")" 2>/dev/null)
[ "$want" = "$got" ] || fail "nftw of an ancestor: kernel '$want', mount '$got'"
pass "nftw of an ancestor of the mount sees into it"

# glibc's fts_* walk with its own internal calls: the library walks a pool
# tree itself, with the same entries, fts_info values, paths and errors.
FTS_BIN="$DANAUS_BUILD/tests/integration/test-fts-walk"
fts_tree() {
	mkdir -p "$1/t/sub/deep" "$1/t/e"
	echo 12345 > "$1/t/top"
	echo x > "$1/t/sub/f"
	ln -s sub "$1/t/dirlink"
	ln -s nowhere "$1/t/dangling"
	ln -s .. "$1/t/sub/up"
	mkfifo "$1/t/fifo"
}
fts_tree "$WORK/fts-plain"
"$FTS_BIN" "$WORK/fts-plain" > "$WORK/fts.plain" || fail "fts walk on the kernel directory"
in_pool mkdir "$MNT/fts"
in_pool bash -c "$(declare -f fts_tree); fts_tree $MNT/fts"
in_pool "$FTS_BIN" "$MNT/fts" > "$WORK/fts.danaus" 2> "$WORK/err.danaus" ||
	{ cat "$WORK/err.danaus" >&2; fail "fts walk on the mount"; }
grep -qx done "$WORK/fts.plain" || fail "fts walk did not finish"
diff -u "$WORK/fts.plain" "$WORK/fts.danaus" || fail "fts_* differ between the kernel directory and the mount"
pass "fts_open/fts_read/fts_children/fts_set agree ($(wc -l < "$WORK/fts.plain") lines)"

# glibc's POSIX AIO: its threads' own pread/pwrite reach no preload, so the
# library does a Danaus fd's requests itself; results, notifications
# (siginfo's code and value), lio_listio's answers and O_APPEND as glibc's
# on a kernel directory. A mixed list holds a host file's requests too.
AIO_BIN="$DANAUS_BUILD/tests/integration/test-aio-calls"
mkdir -p "$WORK/aio-plain" "$WORK/aio-host"
"$AIO_BIN" "$WORK/aio-plain" "$WORK/aio-host" > "$WORK/aio.plain" || fail "aio calls on the kernel directory"
grep -qx done "$WORK/aio.plain" || fail "aio calls did not finish"
in_pool mkdir "$MNT/aio"
in_pool "$AIO_BIN" "$MNT/aio" "$WORK/aio-host" > "$WORK/aio.danaus" 2> "$WORK/err.danaus" ||
	{ cat "$WORK/err.danaus" >&2; fail "aio calls on the mount"; }
diff -u "$WORK/aio.plain" "$WORK/aio.danaus" || fail "aio calls differ between the kernel directory and the mount"
pass "aio_read/aio_write/aio_fsync/lio_listio and their notifications agree ($(wc -l < "$WORK/aio.plain") lines)"

# Native AIO (io_submit/io_getevents: libaio's functions, and the system
# calls through syscall(2)): the kernel would meet the placeholder (EBADF),
# so the library does a Danaus fd's requests; results, events, refusals
# before queueing, eventfd notices, a waiting thread woken, a full ring, as
# the kernel answers on a kernel directory. Batches hold a host file's too.
NAIO_BIN="$DANAUS_BUILD/tests/integration/test-native-aio"
mkdir -p "$WORK/naio-plain" "$WORK/naio-host"
in_pool mkdir "$MNT/naio"
for mode in syscall libaio; do
	"$NAIO_BIN" "$WORK/naio-plain" "$WORK/naio-host" $mode > "$WORK/naio.plain" ||
		fail "native aio ($mode) on the kernel directory"
	grep -qx done "$WORK/naio.plain" || fail "native aio ($mode) did not finish"
	in_pool "$NAIO_BIN" "$MNT/naio" "$WORK/naio-host" $mode > "$WORK/naio.danaus" 2> "$WORK/err.danaus" ||
		{ cat "$WORK/err.danaus" >&2; fail "native aio ($mode) on the mount"; }
	diff -u "$WORK/naio.plain" "$WORK/naio.danaus" || fail "native aio ($mode) differs between the kernel directory and the mount"
done
pass "io_submit/io_getevents/io_destroy by libaio and by syscall(2) agree ($(wc -l < "$WORK/naio.plain") lines)"

# A thread with a 64 KiB stack (smaller than musl's 128 KiB) splices, copies
# with sendfile and copy_file_range, dlopens a library and runs a program
# stored in the pool: the library's buffers for those must not be on its
# stack (a 64 KiB one overflowed it).
SMALL_BIN="$DANAUS_BUILD/tests/integration/test-small-stack"
LIBM=$(ldconfig -p | awk '$1 == "libm.so.6" && !f {print $NF; f = 1}')
[ -n "$LIBM" ] || fail "no libm.so.6 for the small-stack check"
mkdir -p "$WORK/stack-plain"
"$SMALL_BIN" "$WORK/stack-plain" 64 "$LIBM" /bin/true > "$WORK/stack.plain" || fail "small stack on the kernel directory"
grep -qx done "$WORK/stack.plain" && [ "$(grep -c 'status 0$' "$WORK/stack.plain")" = 2 ] ||
	{ cat "$WORK/stack.plain" >&2; fail "small stack calls on the kernel directory did not all succeed"; }
in_pool mkdir "$MNT/stack"
in_pool "$SMALL_BIN" "$MNT/stack" 64 "$LIBM" /bin/true > "$WORK/stack.danaus" 2> "$WORK/err.danaus" || {
	rc=$?
	cat "$WORK/err.danaus" >&2
	fail "small stack calls on the mount (status $rc)"
}
diff -u "$WORK/stack.plain" "$WORK/stack.danaus" || fail "calls from a small stack differ"
pass "splice, sendfile, copy_file_range, dlopen and exec of pool files from a thread with a 64 KiB stack"

# Item 3 of issue 14: host paths under danaus-run are the kernel's, exactly
# as without the library (futimens of a host fd once answered EINVAL).
in_pool python3 "$PY" "$WORK/host-run" > "$WORK/out.host" 2> "$WORK/err.host" ||
	{ cat "$WORK/err.host" >&2; fail "script on a host directory under danaus-run"; }
diff -u "$WORK/out.plain" "$WORK/out.host" || fail "libc calls on host paths differ under danaus-run"
in_pool bash "$CMDS" "$WORK/host-run" > "$WORK/cmds.host" 2> "$WORK/err.host"
diff -u "$WORK/cmds.plain" "$WORK/cmds.host" || fail "commands on host paths differ under danaus-run"
fts_tree "$WORK/fts-host"
in_pool "$FTS_BIN" "$WORK/fts-host" > "$WORK/fts.host" 2> "$WORK/err.host"
diff -u "$WORK/fts.plain" "$WORK/fts.host" || fail "fts_* on host paths differ under danaus-run"
pass "the same calls and commands on host paths under danaus-run agree with a plain run"

# syncfs(2) on a pool file flushes the filesystem, not that file alone: a
# local backend's pool makes the kernel's syncfs on it (libcephfs's
# ceph_sync_fs makes no system call to see: the Ceph runs leave it out)
if [ -z "${DANAUS_TEST_CEPH_DIR:-}" ]; then
	in_pool sh -c "echo x > '$MNT/syncfs-file'"
	strace -f -qq -e trace=syncfs,fsync,fdatasync -o "$WORK/syncfs.strace" -p "$PID" &
	spid=$!
	for _ in $(seq 50); do grep -q "^TracerPid:[[:space:]]*[1-9]" /proc/$PID/status && break; sleep 0.1; done
	in_pool python3 -c 'import ctypes, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
sys.exit(ctypes.CDLL(None, use_errno=True).syncfs(fd))' "$MNT/syncfs-file" || fail "syncfs on a pool file failed"
	sleep 0.3
	kill "$spid"; wait "$spid" 2>/dev/null || true
	grep -q "syncfs(" "$WORK/syncfs.strace" && ! grep -qE "f(data)?sync\(" "$WORK/syncfs.strace" ||
		{ cat "$WORK/syncfs.strace" >&2; fail "syncfs on a pool file did not flush the pool's filesystem"; }
	in_pool rm "$MNT/syncfs-file"
	pass "syncfs on a pool file flushes the backend's filesystem (the pool's syncfs(2))"
fi

# linkat of an open file leaves the pool holding nothing once the file is
# closed: its kernel fds (local backend) show no file of that name after
# (the link by handle kept a reference to the open file: never closed)
if [ -z "${DANAUS_TEST_CEPH_DIR:-}" ]; then
	in_pool python3 -c 'import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open(sys.argv[1] + "/held-a", os.O_CREAT | os.O_RDWR, 0o600)
for i in range(3):
    n = (sys.argv[1] + "/held-b%d" % i).encode()
    if libc.linkat(fd, b"", -100, n, 0x1000) != 0:
        sys.exit("linkat: %s" % os.strerror(ctypes.get_errno()))
os.close(fd)' "$MNT" || fail "linkat of an open pool file failed"
	held=$(find /proc/$PID/fd -lname "*held-*" 2>/dev/null | wc -l)
	in_pool sh -c "rm '$MNT'/held-*"
	[ "$held" = 0 ] || fail "the pool still holds $held fds of a file closed after linkat by handle"
	pass "linkat of an open file leaves no reference to it in the pool after its close"
fi

[ -z "$(ls -A "$MNT" 2>/dev/null)" ] || fail "files leaked into the host directory $MNT"
pass "nothing written to the host mountpoint directory"
