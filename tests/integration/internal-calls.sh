#!/usr/bin/env bash
# Integration: calls that reach files without going through an interposable
# libc function -- glibc's remove() (its own unlink/rmdir), the syscall()
# function (libuv's statx and copy_file_range), _FORTIFY_SOURCE's
# __readlink_chk, ftok, readdir_r, fexecve, execveat, lockf, __xmknod -- reach the
# pool's files, as on a kernel directory, and never the host's behind the
# mountpoint.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

POOL_NAME=internal
pool_start internal
# The same names on the host behind the mountpoint: none of them may change.
mkdir -p "$MNT"
echo host > "$MNT/victim"
mkdir -p "$MNT/victim-dir"

calls() { # calls DIR: the calls on DIR, one answer per line
	python3 - "$1" << 'PY'
import ctypes, errno, os, shutil, struct, sys
d = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
def ans(r):
    return "ok" if r == 0 else (errno.errorcode[ctypes.get_errno()] if r < 0 else str(r))
open(d + "/victim", "w").write("pool\n")
os.mkdir(d + "/victim-dir")
os.mkdir(d + "/full-dir"); open(d + "/full-dir/x", "w").close()
print("remove file", ans(libc.remove((d + "/victim").encode())), os.path.exists(d + "/victim"))
print("remove dir", ans(libc.remove((d + "/victim-dir").encode())), os.path.exists(d + "/victim-dir"))
print("remove full dir", ans(libc.remove((d + "/full-dir").encode())))
print("remove missing", ans(libc.remove((d + "/missing").encode())))
open(d + "/f", "w").write("12345")
SYS_statx, SYS_copy_file_range, SYS_openat, SYS_newfstatat = 332, 326, 257, 262
buf = ctypes.create_string_buffer(256)
r = libc.syscall(SYS_statx, -100, (d + "/f").encode(), 0, 0x7ff, buf)
print("syscall statx", ans(r), struct.unpack_from("<Q", buf.raw, 40)[0])  # stx_size
r = libc.syscall(SYS_statx, -100, (d + "/missing").encode(), 0, 0x7ff, buf)
print("syscall statx missing", ans(r))
fin = libc.syscall(SYS_openat, -100, (d + "/f").encode(), os.O_RDONLY, 0)
fout = libc.syscall(SYS_openat, -100, (d + "/g").encode(), os.O_WRONLY | os.O_CREAT, 0o644)
print("syscall openat", fin >= 0, fout >= 0)
r = libc.syscall(SYS_copy_file_range, fin, None, fout, None, 100, 0)
print("syscall copy_file_range", r)
os.close(fin); os.close(fout)
print("copied", open(d + "/g").read())
st = ctypes.create_string_buffer(144)
print("syscall newfstatat", ans(libc.syscall(SYS_newfstatat, -100, (d + "/g").encode(), st, 0)),
      struct.unpack_from("<q", st.raw, 48)[0])  # st_size
os.symlink("g", d + "/lnk")
lb = ctypes.create_string_buffer(64)
libc.__readlink_chk.restype = libc.__readlinkat_chk.restype = ctypes.c_ssize_t
print("__readlink_chk", libc.__readlink_chk((d + "/lnk").encode(), lb, 64, 64), lb.value)
print("__readlinkat_chk", libc.__readlinkat_chk(-100, (d + "/lnk").encode(), lb, 64, 64), lb.value)
print("__readlink_chk missing", ans(libc.__readlink_chk((d + "/nolink").encode(), lb, 64, 64)))
s = os.stat(d + "/g")
print("ftok", libc.ftok((d + "/g").encode(), 7) == ((s.st_ino & 0xffff) | ((s.st_dev & 0xff) << 16) | (7 << 24)),
      ans(libc.ftok((d + "/missing").encode(), 7)))
libc.opendir.restype = ctypes.c_void_p
dp = ctypes.c_void_p(libc.opendir(d.encode()))
ent, res, names = ctypes.create_string_buffer(280), ctypes.c_void_p(), []
while libc.readdir_r(dp, ent, ctypes.byref(res)) == 0 and res.value:
    names.append(ent.raw[19:].split(b"\0")[0].decode())
libc.closedir(dp)
print("readdir_r", sorted(names))
shutil.copy("/bin/sh", d + "/sh")
def run(how):
    pid = os.fork()
    if pid == 0:
        try:
            how()
        except OSError as x:
            os._exit(100 + x.errno)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
fd = os.open(d + "/sh", os.O_RDONLY)
print("fexecve", run(lambda: os.execve(fd, ["sh", "-c", "exit 7"], {})))
dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
libc.execveat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
argv = (ctypes.c_char_p * 4)(b"sh", b"-c", b"exit 9", None)
def at(dirfd, name, flags):
    libc.execveat(dirfd, name, argv, None, flags)
    os._exit(100 + ctypes.get_errno())
print("execveat", run(lambda: at(dfd, b"sh", 0)), run(lambda: at(fd, b"", 0x1000)),
      run(lambda: at(-100, (d + "/sh").encode(), 0)), run(lambda: at(dfd, b"missing", 0)))
# lockf: glibc's takes the record lock with its own fcntl
F_ULOCK, F_LOCK, F_TLOCK, F_TEST = 0, 1, 2, 3
lf = os.open(d + "/lockf", os.O_RDWR | os.O_CREAT, 0o644)
os.write(lf, b"x" * 100)
os.lseek(lf, 0, os.SEEK_SET)
print("lockf", ans(libc.lockf(lf, F_TLOCK, 10)), ans(libc.lockf(lf, F_TEST, 10)),
      ans(libc.lockf(lf, 9, 10)))
def other(cmd, off, n):
    def child():
        c = os.open(d + "/lockf", os.O_RDWR)
        os.lseek(c, off, os.SEEK_SET)
        r = libc.lockf(c, cmd, n)
        os._exit(0 if r == 0 else 100 + ctypes.get_errno())
    return run(child)
print("lockf other process", other(F_TEST, 0, 10), other(F_TLOCK, 5, 1), other(F_TLOCK, 10, 0))
print("lockf unlock", ans(libc.lockf(lf, F_ULOCK, 10)), other(F_TLOCK, 0, 10), other(F_TEST, 0, 0))
print("lockf64 wait", ans(libc.lockf64(lf, F_LOCK, 0)), other(F_TEST, 50, 1))
# glibc < 2.33's mknod entry points (older images' tar, mknod(1)); a glibc
# without them at all: the plain run answers with mknod.
def xmknod(name, mode, at=False):
    dev = ctypes.c_ulong(0)
    try:
        f = libc.__xmknodat if at else libc.__xmknod
    except AttributeError:
        if os.environ.get("LD_PRELOAD"):
            return "unserved"
        try:
            os.mknod(d + "/" + name, mode)
            return "ok"
        except OSError as x:
            return errno.errorcode[x.errno]
    r = f(0, -100, (d + "/" + name).encode(), mode, ctypes.byref(dev)) if at else \
        f(0, (d + "/" + name).encode(), mode, ctypes.byref(dev))
    return ans(r)
print("__xmknod", xmknod("fifo1", 0o10644), xmknod("fifo1", 0o10644), xmknod("fifo2", 0o10600, True),
      xmknod("missing/x", 0o10644), os.path.exists(d + "/fifo2") and oct(os.lstat(d + "/fifo2").st_mode))
PY
}
mkdir "$WORK/kernel"
want=$(calls "$WORK/kernel")
got=$(in_pool bash -c "$(declare -f calls); calls '$MNT'")
if [ "$got" != "$want" ]; then
	diff <(echo "$want") <(echo "$got") | sed 's/^/  | /'
	fail "glibc's internal calls through the pool differ from the kernel's"
fi
echo "$want" | sed 's/^/  | /'
[ "$(cat "$MNT/victim")" = host ] && [ -d "$MNT/victim-dir" ] ||
	fail "remove() through the library touched the host's files behind the mountpoint"
rm -rf "$MNT/victim" "$MNT/victim-dir"
pass "remove(), syscall(), __readlink_chk, ftok, readdir_r, fexecve, execveat, lockf, __xmknod reach the pool, as on the kernel"
