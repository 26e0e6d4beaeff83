# Paths as the kernel resolves them (issues 13 and 14): ".", ".." and
# trailing slashes in every kind of call, each on a fresh small tree, with
# the answer and the tree after it printed ("@" for the directory under
# test). paths.sh and ceph-paths.sh run it on a kernel directory and through
# a pool and compare the two outputs line for line.
#
# Usage: paths.py DIR cases        every case, each in DIR/cN
#        paths.py DIR perm-setup   (as root) adir/sub 0700 with a file beside it
#        paths.py DIR perm         (as nobody) what "sub/.." and symlinks O_CREAT follows may reach
#        paths.py DIR long         relative paths near PATH_MAX from a deep directory
#        paths.py DIR renames      failed renames, then the names they were onto
import ctypes
import errno
import os
import stat
import sys

D = os.path.abspath(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                           ctypes.c_uint]
AT_FDCWD = -100
RENAME_NOREPLACE = 1


def out(*a):
    print(" ".join(str(x) for x in a).replace(D, "@"), flush=True)


def answer(f, *args):
    try:
        r = f(*args)
    except OSError as e:
        return errno.errorcode.get(e.errno, e.errno)
    if isinstance(r, os.stat_result):
        return "ok %s" % stat.filemode(r.st_mode)[0]
    if isinstance(r, list):
        return "ok " + ",".join(sorted(r))
    if isinstance(r, bytes):
        return "ok %r" % r
    return "ok" if r is None else "ok %s" % (r,)


def tree(top):
    """Names, types, permission bits, file contents and link targets below top."""
    lines = []
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for n in sorted(dirs + files):
            p = os.path.join(root, n)
            st = os.lstat(p)
            what = "%s %o" % (stat.filemode(st.st_mode)[0], st.st_mode & 0o7777)
            if stat.S_ISLNK(st.st_mode):
                what += " -> " + os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    what += " %r" % f.read()
            lines.append(os.path.relpath(p, top) + " " + what)
    return "; ".join(lines)


def build(top):
    os.makedirs(top + "/d/sub")
    os.makedirs(top + "/d/e")
    os.makedirs(top + "/d/far/x")
    for p, data in (("d/f", b"data"), ("d/sub/g", b"g"), ("d/far/marker", b"far")):
        with open(top + "/" + p, "wb") as f:
            f.write(data)
    os.symlink("sub", top + "/d/link")
    os.symlink("f", top + "/d/flink")
    os.symlink("far/x", top + "/d/ln2")
    os.symlink("nowhere", top + "/d/dangle")


def rename2(a, b, flags=0):
    if libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), flags) < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def open_close(p, flags, mode=0o644):
    os.close(os.open(p, flags, mode))


def write_through(p):
    fd = os.open(p, os.O_WRONLY)
    try:
        os.write(fd, b"X")
    finally:
        os.close(fd)


def cwd_after(p):
    old = os.getcwd()
    try:
        os.chdir(p)
        here = os.getcwd()
        seen = sorted(os.listdir("."))
        return "%s [%s]" % (here, ",".join(seen))
    finally:
        os.chdir(old)


def at_dir(p, rel):
    fd = os.open(p, os.O_RDONLY | os.O_DIRECTORY)
    try:
        st = os.stat(rel, dir_fd=fd, follow_symlinks=False)
        size = " size %d" % st.st_size if stat.S_ISREG(st.st_mode) else ""  # a directory's varies
        return stat.filemode(st.st_mode)[0] + size
    finally:
        os.close(fd)


def create_at(p, name):
    fd = os.open(p, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.close(os.open(name, os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd))
    finally:
        os.close(fd)


def create_via(link, target, flags=os.O_WRONLY | os.O_CREAT):
    """open(2) through a new symlink link -> target, which O_CREAT follows:
    the name it leads to is created, or opened if there."""
    os.symlink(target, link)
    fd = os.open(link, flags, 0o640)
    try:
        os.write(fd, b"via")
    finally:
        os.close(fd)


# (call, arguments...): "@x" is the path x below the case's top
CASES = [
    (os.rmdir, "@d/sub/."), (os.rmdir, "@d/sub/.."), (os.rmdir, "@d/e/."), (os.rmdir, "@d/e/"),
    (os.rmdir, "@d/e//"), (os.rmdir, "@d/f/"), (os.rmdir, "@d/link/"), (os.rmdir, "@d/link/.."),
    (os.rmdir, "@d/ln2/.."), (os.rmdir, "@d/far/x/../x"), (os.rmdir, "@d/dangle/"),
    (os.unlink, "@d/f/"), (os.unlink, "@d/flink/"), (os.unlink, "@d/link/"), (os.unlink, "@d/e/"),
    (os.unlink, "@d/sub/."), (os.unlink, "@d/sub/.."), (os.unlink, "@d/dangle/"),
    (os.unlink, "@d/sub/../f"), (os.unlink, "@d/ln2/../marker"),
    (os.mkdir, "@d/n/"), (os.mkdir, "@d/n//"), (os.mkdir, "@d/n/."), (os.mkdir, "@d/sub/."),
    (os.mkdir, "@d/sub/.."), (os.mkdir, "@d/f/"), (os.mkdir, "@d/link/"), (os.mkdir, "@d/dangle/"),
    (os.mkdir, "@d/ln2/../n"), (os.mkdir, "@d/nope/.."),
    (rename2, "@d/sub/.", "@d/x"), (rename2, "@d/sub/..", "@d/x"), (rename2, "@d/f", "@d/sub/."),
    (rename2, "@d/f", "@d/sub/.."), (rename2, "@d/f/", "@d/g"), (rename2, "@d/f", "@d/g/"),
    (rename2, "@d/e/", "@d/e2/"), (rename2, "@d/e", "@d/e3/"), (rename2, "@d/link/", "@d/l2"),
    (rename2, "@d/flink/", "@d/l2"), (rename2, "@d/f", "@d/e/."),
    (rename2, "@d/missing", "@d/f"), (rename2, "@d/ln2/../marker", "@d/m"),
    (rename2, "@d/f", "@d/sub/.", RENAME_NOREPLACE), (rename2, "@d/sub/.", "@d/f", RENAME_NOREPLACE),
    (rename2, "@d/f", "@d/flink", RENAME_NOREPLACE), (rename2, "@d/f", "@d/new", RENAME_NOREPLACE),
    (os.link, "@d/f/", "@d/h"), (os.link, "@d/f", "@d/h/"), (os.link, "@d/sub/.", "@d/h"),
    (os.link, "@d/f", "@d/sub/."), (os.link, "@d/flink/", "@d/h"), (os.link, "@d/link/", "@d/h"),
    (os.link, "@d/f", "@d/sub/.."), (os.link, "@d/ln2/../marker", "@d/h"),
    (os.link, "@d/missing/", "@d/nope/h"),
    (os.symlink, "t", "@d/s/"), (os.symlink, "t", "@d/sub/."), (os.symlink, "t", "@d/f/"),
    (os.symlink, "t", "@d/ln2/../s"),
    (os.mkfifo, "@d/p/"), (os.mkfifo, "@d/sub/.."), (os.mkfifo, "@d/f/"),
    (open_close, "@d/n/", os.O_WRONLY | os.O_CREAT), (open_close, "@d/f/", os.O_WRONLY | os.O_CREAT),
    (open_close, "@d/sub/.", os.O_WRONLY | os.O_CREAT),
    (open_close, "@d/sub/.", os.O_RDONLY | os.O_CREAT | os.O_EXCL),
    (open_close, "@d/sub/..", os.O_RDONLY | os.O_CREAT),
    (open_close, "@d/f/", os.O_RDONLY), (open_close, "@d/f/.", os.O_RDONLY),
    (open_close, "@d/link/", os.O_RDONLY | os.O_DIRECTORY), (open_close, "@d/flink/", os.O_RDONLY),
    (open_close, "@d/ln2/../n", os.O_WRONLY | os.O_CREAT),
    (open_close, "@d/f/", os.O_WRONLY | os.O_TRUNC),
    (open_close, "@d/link/..", os.O_RDONLY | os.O_DIRECTORY),
    (open_close, "@d/sub/..", os.O_RDWR),
    (write_through, "@d/f/"), (write_through, "@d/flink/"),
    (os.stat, "@d/f/"), (os.lstat, "@d/f/"), (os.lstat, "@d/flink/"), (os.lstat, "@d/link/"),
    (os.lstat, "@d/link"), (os.lstat, "@d/dangle/"), (os.stat, "@d/f/."), (os.stat, "@d/f/.."),
    (os.listdir, "@d/ln2/.."), (os.listdir, "@d/link/.."), (os.listdir, "@d/sub/../sub/"),
    (os.truncate, "@d/f/", 1), (os.truncate, "@d/flink/", 1), (os.truncate, "@d/sub/../f", 1),
    (os.chmod, "@d/f/", 0o600), (os.chmod, "@d/link/", 0o700), (os.chmod, "@d/sub/.", 0o711),
    (os.chmod, "@d/ln2/..", 0o700),
    (lambda p: os.chown(p, 1, 1), "@d/f/"), (lambda p: os.lchown(p, 1, 1), "@d/flink/"),
    (lambda p: os.lchown(p, 1, 1), "@d/link/."),
    (lambda p: os.utime(p, (1, 2)), "@d/f/"),
    (lambda p: os.utime(p, (1, 2), follow_symlinks=False), "@d/flink/"),
    (lambda p: os.utime(p, (1, 2), follow_symlinks=False), "@d/link/."),
    (lambda p: os.setxattr(p, "user.a", b"v"), "@d/f/"),
    (lambda p: os.setxattr(p, "user.a", b"v", follow_symlinks=False), "@d/flink/"),
    (lambda p: os.getxattr(p, "user.a", follow_symlinks=False), "@d/link/."),
    (lambda p: os.removexattr(p, "user.a"), "@d/f/"),
    (os.readlink, "@d/flink/"), (os.readlink, "@d/link/"), (os.readlink, "@d/sub/."),
    (os.readlink, "@d/flink"), (os.readlink, "@d/sub/../flink"),
    (lambda p: os.access(p, os.R_OK), "@d/f/"), (lambda p: os.access(p, os.R_OK), "@d/sub/.."),
    (cwd_after, "@d/ln2/.."), (cwd_after, "@d/sub/../e/"), (cwd_after, "@d/link/."),
    (cwd_after, "@d/f/"),
    (at_dir, "@d/ln2/..", "marker"), (at_dir, "@d/ln2/..", "../f"), (at_dir, "@d/link/..", "f"),
    (at_dir, "@d/sub", "../../d/e/"), (at_dir, "@d/sub", "g/"),
    (create_at, "@d/ln2/..", "made"), (create_at, "@d/link", "../made2"),
    # O_CREAT through a symlink whose target is missing creates the target
    (create_via, "@d/l", "new"), (create_via, "@d/l", "sub/new"),
    (create_via, "@d/l", "nodir/new"), (create_via, "@d/l", "f/new"),
    (create_via, "@d/l", "new", os.O_WRONLY | os.O_CREAT | os.O_EXCL),
    (create_via, "@d/l", "new", os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW),
    (create_via, "@d/l", "dangle"), (create_via, "@d/l", "l"), (create_via, "@d/l", "f"),
    (create_via, "@d/l", "sub"), (create_via, "@d/l", "sub/new/"), (create_via, "@d/l", "."),
    (create_via, "@d/l", "../d/sub/./new"), (create_via, "@d/link/l", "../new"),
    (create_via, "@d/l", "@d/sub/abs"), (create_via, "@d/l", "@d/nodir/abs"),
    (create_at, "@d", "dangle"), (create_at, "@d/sub", "../dangle"),
]


def cases():
    for i, case in enumerate(CASES):
        f = case[0]
        top = "%s/c%d" % (D, i)
        build(top)
        args = [top + "/" + a[1:] if isinstance(a, str) and a.startswith("@") else a
                for a in case[1:]]
        name = getattr(f, "__name__", "call")
        r = answer(f, *args)
        out(i, name, " ".join(str(a) for a in args), "->", r)
        out("  ", tree(top))


def perm_setup():
    os.makedirs(D + "/perm/adir/sub")
    with open(D + "/perm/adir/f", "w") as f:
        f.write("secret")
    with open(D + "/perm/adir/sub/g", "w") as f:
        f.write("g")
    os.chmod(D + "/perm", 0o777)
    os.chmod(D + "/perm/adir", 0o777)
    os.chmod(D + "/perm/adir/f", 0o666)
    os.chmod(D + "/perm/adir/sub", 0o700)
    os.mkdir(D + "/perm/open")
    os.chmod(D + "/perm/open", 0o777)
    # symlinks that nobody's O_CREAT follows: fs.protected_symlinks in a sticky
    # world-writable directory (a link neither nobody's nor its owner's),
    # and to directories nobody may not write or search
    os.mkdir(D + "/perm/sticky")
    os.chmod(D + "/perm/sticky", 0o1777)
    for name, target, owner in (("others", "made", 1), ("owners", "made2", 0),
                                ("nobodys", "made3", 65534)):
        os.symlink(target, D + "/perm/sticky/" + name)
        os.lchown(D + "/perm/sticky/" + name, owner, owner)
    os.mkdir(D + "/perm/ro")
    os.symlink("../ro/new", D + "/perm/open/to-ro")
    os.symlink("../adir/sub/new", D + "/perm/open/to-sub")
    os.symlink("../adir/new", D + "/perm/open/to-adir")


def create_through(p):
    os.close(os.open(p, os.O_WRONLY | os.O_CREAT, 0o644))


def perm():
    p = D + "/perm/adir"
    for f, args in ((lambda q: open(q).read(), (p + "/sub/../f",)), (os.stat, (p + "/sub/../f",)),
                    (os.listdir, (p + "/sub/..",)), (os.stat, (p + "/sub/.",)),
                    (os.stat, (p + "/sub/",)), (os.unlink, (p + "/sub/../f",)),
                    (os.mkdir, (p + "/sub/../n",)), (os.rmdir, (p + "/sub/.",)),
                    (os.rename, (p + "/sub/../f", p + "/f2")),
                    (os.rename, (p + "/f", p + "/sub/../f3")),
                    (os.symlink, ("t", p + "/sub/../s")), (os.chdir, (p + "/sub/..",)),
                    (lambda q: open(q, "w").close(), (p + "/sub/../n",)),
                    (os.listdir, (p + "/sub/../../open",)), (os.stat, (p + "/f/",)),
                    (create_through, (D + "/perm/sticky/others",)),
                    (create_through, (D + "/perm/sticky/owners",)),
                    (create_through, (D + "/perm/sticky/nobodys",)),
                    (create_through, (D + "/perm/open/to-ro",)),
                    (create_through, (D + "/perm/open/to-sub",)),
                    (create_through, (D + "/perm/open/to-adir",))):
        out(getattr(f, "__name__", "call"), " ".join(args), "->", answer(f, *args))
    out("  ", tree(D + "/perm"))


def long_paths():
    """Relative paths up to PATH_MAX - 1 bytes from a working directory deep in
    the tree, where the pool resolves the two joined (issue 14 item 7)."""
    os.chdir(D)
    os.mkdir("long")
    os.chdir("long")
    for i in range(28):  # the working directory: 28 x 101 bytes below D/long
        n = "c%02d" % i + "x" * 97
        os.mkdir(n)
        os.chdir(n)
    out("getcwd", os.getcwd().replace(D, "@")[:12], len(os.getcwd()) - len(D))
    comps = ["r%02d" % i + "y" * 97 for i in range(39)]
    for k in range(1, len(comps) + 1):
        os.mkdir("/".join(comps[:k]))
    deep = "/".join(comps)  # 3938 bytes
    f = deep + "/" + "f" * (4095 - len(deep) - 1)
    dotted = "./" * 30 + deep + "/" + "g" * (4095 - 60 - len(deep) - 1)
    up = "../" + "c27" + "x" * 97 + "/" + deep
    up_f = up + "/" + "h" * (4095 - len(up) - 1)
    os.symlink(deep, "lnk")
    os.symlink("../" + "c27" + "x" * 97 + "/" + comps[0], "uplnk")
    via_lnk = "lnk/" + "./" * ((4095 - 4 - 1 - len(f[len(deep) + 1:])) // 2) + f[len(deep) + 1:]
    via_up = "uplnk/" + "/".join(comps[1:]) + "/" + f[len(deep) + 1:]
    for name, p in (("f", f), ("dotted", dotted), ("up_f", up_f), ("via_lnk", via_lnk),
                    ("via_up", via_up)):
        out("len", name, len(p))

    def write(p, data):
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def read(p):
        with open(p, "rb") as fh:
            return fh.read()

    def at_deep(name):
        fd = os.open(deep, os.O_RDONLY | os.O_DIRECTORY)
        try:
            return os.stat(name, dir_fd=fd).st_size
        finally:
            os.close(fd)

    calls = [
        ("write", write, f, b"long"), ("read", read, f), ("stat", lambda p: os.stat(p).st_size, f),
        ("write", write, dotted, b"dotted"), ("read", read, dotted),
        ("write", write, up_f, b"up"), ("read", read, up_f),
        ("read", read, via_lnk), ("read", read, via_up),
        ("chmod", os.chmod, f, 0o600), ("mode", lambda p: oct(os.stat(p).st_mode), f),
        ("utime", lambda p: os.utime(p, (5, 6)), f), ("mtime", lambda p: os.stat(p).st_mtime, f),
        ("setxattr", lambda p: os.setxattr(p, "user.k", b"v"), f),
        ("getxattr", lambda p: os.getxattr(p, "user.k"), f),
        ("access", lambda p: os.access(p, os.R_OK), f),
        ("truncate", os.truncate, f, 2), ("read", read, f),
        ("listdir", os.listdir, deep + "/" + "." * 1),
        ("at_deep", at_deep, f[len(deep) + 1:]),
        ("symlink", os.symlink, "target", deep + "/" + "s" * (4095 - len(deep) - 1)),
        ("readlink", os.readlink, deep + "/" + "s" * (4095 - len(deep) - 1)),
        ("link", os.link, f, deep + "/" + "l" * (4095 - len(deep) - 1)),
        ("rename", os.rename, dotted, deep + "/" + "n" * (4095 - len(deep) - 1)),
        ("mkdir", os.mkdir, deep + "/" + "m" * (4095 - len(deep) - 1)),
        ("rmdir", os.rmdir, deep + "/" + "m" * (4095 - len(deep) - 1)),
        ("unlink", os.unlink, deep + "/" + "l" * (4095 - len(deep) - 1)),
        ("mkfifo", os.mkfifo, deep + "/" + "p" * (4095 - len(deep) - 1)),
        ("open fifo", lambda p: os.close(os.open(p, os.O_RDONLY | os.O_NONBLOCK)),
         deep + "/" + "p" * (4095 - len(deep) - 1)),
        ("too long", os.stat, f + "x"), ("too long", os.stat, "./" + f),
        ("too long", write, "./" + f, b"x"), ("too long", os.mkdir, deep + "/" + "m" * 157),
        ("name too long", os.stat, deep + "/" + "z" * 256),
        ("absolute", os.stat, os.getcwd() + "/" + f),
        # (a working directory whose pool path is PATH_MAX or longer: README Limits)
        ("chdir", os.chdir, "/".join(comps[:10])), ("getcwd", lambda: len(os.getcwd()) - len(D)),
        ("back", os.chdir, "../" * 10 + "../" * 28),
        ("getcwd", lambda: os.getcwd().replace(D, "@")),
    ]
    for name, fn, *args in calls:
        out(name, "->", answer(fn, *args))
    lines = []
    for root, dirs, files, dfd in os.fwalk(D + "/long"):
        for n in sorted(dirs + files):
            st = os.stat(n, dir_fd=dfd, follow_symlinks=False)
            lines.append("%d/%s %s %d" % (root[len(D):].count("/"), n[:4],
                                          stat.filemode(st.st_mode),
                                          st.st_size if stat.S_ISREG(st.st_mode) else 0))
    out("  ", "; ".join(sorted(lines)))


def renames():
    """Failed renames onto existing names, then those names (issue 14 item 5)."""
    os.mkdir(D + "/r1")
    a, b = D + "/r1/a", D + "/r1/b"
    open(b, "w").close()
    for f, args in ((os.rename, (a, b)), (os.chmod, (b, 0o600)), (os.chown, (b, 1, 1)),
                    (os.lstat, (b,)), (os.stat, (b,))):
        out(f.__name__, " ".join(str(x) for x in args), "->", answer(f, *args))
    os.mkdir(D + "/r2")
    a, b = D + "/r2/a", D + "/r2/b"
    open(a, "w").close()
    for f, args in ((os.lstat, (a,)), (os.rename, (a, b)), (os.rename, (a, b)),
                    (os.lstat, (b,)), (os.lstat, (a,)), (os.unlink, (b,)), (os.lstat, (b,))):
        out(f.__name__, " ".join(args), "->", answer(f, *args))
    os.mkdir(D + "/r3")
    a, b = D + "/r3/a", D + "/r3/b"
    os.mkdir(b)
    for f, args in ((os.rename, (a, b)), (os.listdir, (b,)), (os.rmdir, (b,)),
                    (os.rename, (a + "/", b + "/")), (os.mkdir, (b,)), (os.lstat, (b,))):
        out(f.__name__, " ".join(args), "->", answer(f, *args))
    out("  ", tree(D + "/r1"), "|", tree(D + "/r2"), "|", tree(D + "/r3"))
    out("end")


{"cases": cases, "perm-setup": perm_setup, "perm": perm, "long": long_paths,
 "renames": renames}[sys.argv[2]]()
