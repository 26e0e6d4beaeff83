#!/usr/bin/env bash
# Integration: inotify watches on pool paths. On a local pool the watch is on
# the file's own inode (the pool hands it over), so changes made through the
# pool, by another process, are events: tail -f follows a file without
# falling back to polling, and a directory's watch names what was created in
# it. A Ceph pool has no inode to watch: inotify_add_watch says EOPNOTSUPP,
# and tail -f polls.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || fail "$PY is needed"
pool_start w
mkdir "$ROOT/dir"
echo one > "$ROOT/log"
cat > "$WORK/watch.py" << 'SCRIPT'
import ctypes, errno, os, struct, sys, time
libc = ctypes.CDLL(None, use_errno=True)
IN_CREATE, IN_MODIFY = 0x100, 0x2
fd = libc.inotify_init1(0)
d = sys.argv[1]
wd = libc.inotify_add_watch(fd, (d + "/dir").encode(), IN_CREATE)
if wd < 0:
    print("watch:", errno.errorcode[ctypes.get_errno()], flush=True)
    sys.exit(0)
wf = libc.inotify_add_watch(fd, (d + "/log").encode(), IN_MODIFY)
print("watching", wd > 0 and wf > 0, flush=True)
if os.fork() == 0:  # another process, through the pool
    time.sleep(0.2)
    open(d + "/dir/new", "w").close()
    with open(d + "/log", "a") as f:
        f.write("more\n")
    os._exit(0)
seen = []
while len(seen) < 2:
    buf = os.read(fd, 4096)
    at = 0
    while at < len(buf):
        w, mask, cookie, n = struct.unpack_from("iIII", buf, at)
        name = buf[at + 16:at + 16 + n].rstrip(b"\0").decode()
        seen.append(("dir" if w == wd else "log", mask, name))
        at += 16 + n
os.wait()
print("events", sorted(seen), flush=True)
SCRIPT
out=$(in_pool "$PY" "$WORK/watch.py" "$MNT" 2>&1) || fail "the watcher failed: $out"
echo "$out"
if [ -n "${DANAUS_TEST_CEPH_DIR:-}" ]; then
	[ "$out" = "watch: ENOTSUP" ] || fail "a watch on a Ceph pool path: $out" # EOPNOTSUPP
	pass "ceph: inotify_add_watch says EOPNOTSUPP"
else
	[ "$out" = "watching True
events [('dir', 256, 'new'), ('log', 2, '')]" ] || fail "the events of pool changes did not arrive: $out"
	pass "local: inotify watches on pool paths see changes made through the pool"
fi
in_pool timeout 3 tail -f "$MNT/log" > "$WORK/tail.out" 2> "$WORK/tail.err" &
tpid=$!
sleep 1
echo two >> "$ROOT/log"
wait "$tpid" || true
cat "$WORK/tail.err"
grep -qx two "$WORK/tail.out" || fail "tail -f did not follow the file: $(cat "$WORK/tail.out")"
if [ -z "${DANAUS_TEST_CEPH_DIR:-}" ]; then
	[ ! -s "$WORK/tail.err" ] || fail "tail -f could not watch a pool file: $(cat "$WORK/tail.err")"
fi
pass "tail -f follows a pool file"
