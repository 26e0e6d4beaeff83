#!/usr/bin/env bash
# Integration: AF_UNIX sockets bound, connected and sent datagrams to at paths
# in a mount, and the names getsockname/getpeername/accept show. On a
# local pool the socket is the pool's file (stat, ls, chmod, unlink, rmdir
# and rename see it; a second bind is EADDRINUSE), line for line as on a
# kernel directory, and nothing lands in the host's placeholder directory
# behind the mountpoint. A Ceph pool has no kernel directory to hold one:
# bind and connect say EOPNOTSUPP.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

PY=/usr/bin/python3 # the system one: nobody may run it
[ -x "$PY" ] || fail "$PY is needed"
pool_start u "[access]\nusers = root, nobody"
cat > "$WORK/sock.py" << 'PY'
import errno, os, socket, stat, sys
d = sys.argv[1]
os.chdir(d)
os.mkdir("dir")

def tryit(f):
    try:
        r = f()
        return "ok" if r is None else r
    except OSError as e:
        return errno.errorcode[e.errno]

srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
print("bind", tryit(lambda: srv.bind(os.path.join(d, "dir/s.sock"))))
if len(sys.argv) > 2 and sys.argv[2] == "ceph":
    sys.exit(0)
srv.listen(1)
print("type", stat.S_ISSOCK(os.lstat("dir/s.sock").st_mode))
print("ls", sorted(os.listdir("dir")))
print("second bind", tryit(lambda: socket.socket(socket.AF_UNIX).bind("dir/s.sock")))
cli = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
print("connect", tryit(lambda: cli.connect(os.path.join(d, "dir/s.sock"))))
conn, _ = srv.accept()
cli.sendall(b"ping")
print("recv", conn.recv(4))
# the names as given to bind (socketserver and logging connect to getsockname's answer)
name = lambda a: a.replace(d, "@")
print("names", name(srv.getsockname()), name(cli.getpeername()), name(conn.getsockname()))
print("connect to getsockname", tryit(lambda: socket.socket(socket.AF_UNIX).connect(srv.getsockname())))
print("connect relative", tryit(lambda: socket.socket(socket.AF_UNIX).connect("dir/s.sock")))
print("connect missing", tryit(lambda: socket.socket(socket.AF_UNIX).connect("dir/none.sock")))
print("bind missing dir", tryit(lambda: socket.socket(socket.AF_UNIX).bind("nodir/s.sock")))
print("rmdir", tryit(lambda: os.rmdir("dir")))
print("chmod", tryit(lambda: os.chmod("dir/s.sock", 0o600)), oct(os.lstat("dir/s.sock").st_mode & 0o777))
print("rename", tryit(lambda: os.rename("dir/s.sock", "dir/t.sock")), sorted(os.listdir("dir")))
print("unlink", tryit(lambda: os.unlink("dir/t.sock")), sorted(os.listdir("dir")))
os.chmod("dir", 0o555)
print("bind unwritable dir", tryit(lambda: socket.socket(socket.AF_UNIX).bind("dir/u.sock")))
dg = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
print("dgram bind", tryit(lambda: dg.bind("dgram.sock")))
c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
print("sendto", tryit(lambda: c.sendto(b"hi", os.path.join(d, "dgram.sock"))), dg.recv(2))
print("sendmsg", tryit(lambda: c.sendmsg([b"yo"], [], 0, "dgram.sock")), dg.recv(2))
print("sendto missing", tryit(lambda: c.sendto(b"hi", "none.sock")))
print("dgram name", dg.getsockname(), tryit(lambda: c.sendto(b"re", dg.getsockname())), dg.recv(2))
PY
mkdir "$WORK/kernel"
"$PY" "$WORK/sock.py" "$WORK/kernel" > "$WORK/kernel.out" 2>&1 || fail "the script failed on a kernel directory: $(cat "$WORK/kernel.out")"
if [ -n "${DANAUS_TEST_CEPH_DIR:-}" ]; then
	out=$(in_pool "$PY" "$WORK/sock.py" "$MNT" ceph 2>&1) || fail "the script failed: $out"
	[ "$out" = "bind ENOTSUP" ] || fail "bind at a Ceph pool path: $out" # EOPNOTSUPP, as python names it
	pass "ceph: bind at a pool path says EOPNOTSUPP"
	exit 0
fi
# as nobody too: the kernel checks the directory's and socket's rights for the caller
in_pool "$PY" "$WORK/sock.py" "$MNT" > "$WORK/pool.out" 2>&1 || fail "the script failed in the pool: $(cat "$WORK/pool.out")"
diff "$WORK/kernel.out" "$WORK/pool.out" || fail "sockets at pool paths differ from a kernel directory"
cat "$WORK/pool.out"
# as nobody: the kernel checks the directory's and the socket's rights for the caller
mkdir "$WORK/kernel-nobody" "$ROOT/nobody"
chown nobody "$WORK/kernel-nobody" "$ROOT/nobody"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
as_nobody "$PY" "$WORK/sock.py" "$WORK/kernel-nobody" > "$WORK/kernel-nobody.out" 2>&1 ||
	fail "the script failed as nobody on a kernel directory: $(cat "$WORK/kernel-nobody.out")"
as_nobody "$RUN_BIN" --pool "${POOL_NAME:-x}" --socket "$SOCK" --mountpoint "$MNT" -- \
	"$PY" "$WORK/sock.py" "$MNT/nobody" > "$WORK/pool-nobody.out" 2>&1 ||
	fail "the script failed as nobody in the pool: $(cat "$WORK/pool-nobody.out")"
diff "$WORK/kernel-nobody.out" "$WORK/pool-nobody.out" ||
	fail "sockets at pool paths differ from a kernel directory for nobody"
grep -qx "bind unwritable dir EACCES" "$WORK/pool-nobody.out" ||
	fail "nobody bound a socket in a directory it may not write"
[ -z "$(ls -A "$MNT" 2>/dev/null)" ] || [ "$(ls -A "$MNT")" = "$(ls -A "$ROOT")" ] ||
	fail "something landed in the host's placeholder: $(ls -A "$MNT")"
pass "sockets bound and connected at pool paths are the pool's files, as on a kernel directory"
