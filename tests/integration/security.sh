#!/usr/bin/env bash
# Integration: a tenant gets nothing from its pool that the kernel would
# refuse it (issue 13). Real users (made here), a real pool; every check is
# an attack that worked once. On a Ceph pool too: ceph-security.sh runs this
# file with lib.sh pointed at a cluster.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

[ "$(id -u)" = 0 ] || fail "this test switches users and must run as root (CI does)"

# Two ordinary users of our own (lib.sh's make_user: removed again on exit).
HOLDER=
stop_holder() {
	local rc=$?
	[ -z "$HOLDER" ] || kill "$HOLDER" 2> /dev/null || true
	set +e # or (exit 1) would end this trap before cleanup stops the pools
	(exit $rc)
	cleanup
}
trap stop_holder EXIT
make_user dnsec_a
make_user dnsec_b
A=$(id -u dnsec_a)
B=$(id -u dnsec_b)

as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --clear-groups -- "$@"; }
# run_as USER CMD...: CMD through the pool as USER
run_as() { local u=$1; shift; as "$u" "$RUN_BIN" --pool "$POOL_NAME" --socket "$SOCK" --mountpoint "$MNT" -- "$@"; }

POOL_NAME=sec
LIMITS="[limits]\nsessions_per_uid = 8\nopen_files_per_uid = 50\nlock_owners_per_uid = 16\nhello_timeout = 1"
pool_start sec "[access]\nusers = root, dnsec_a, dnsec_b\n$LIMITS"
chmod 755 "$ROOT"

X="$HERE/xcall.py"
# The system's python: other users cannot run one from root's home (pyenv).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# 1. Privileged xattrs and file capabilities: only with CAP_SETFCAP/CAP_SYS_ADMIN.
echo x > "$ROOT/alice-own"
chown "$A:$A" "$ROOT/alice-own"
chmod 755 "$ROOT/alice-own"
echo x > "$ROOT/root-0755"
chmod 755 "$ROOT/root-0755"
for f in alice-own root-0755; do
	p="$MNT/$f"
	out=$(run_as dnsec_a "$X" setxattr "$p" security.capability capblob , \
		setxattr "$p" trusted.x 76 , setxattr "$p" security.x 76 , getxattr "$p" trusted.x)
	[ "$out" = "EPERM EPERM EPERM ENODATA" ] ||
		fail "alice on $f: privileged xattrs answered '$out', the kernel: EPERM EPERM EPERM ENODATA"
done
# Root without CAP_SETFCAP/CAP_SYS_ADMIN (bounding set) is refused alike.
p="$MNT/root-0755"
out=$(setpriv --bounding-set=-setfcap,-sys_admin "$RUN_BIN" --pool sec --socket "$SOCK" \
	--mountpoint "$MNT" -- "$X" setxattr "$p" security.capability capblob , setxattr "$p" trusted.x 76)
[ "$out" = "EPERM EPERM" ] || fail "root without CAP_SETFCAP/CAP_SYS_ADMIN set xattrs: $out"
# Nothing landed: the files give no capability when run from the host.
out=$(python3 -c 'import os, sys
for p in sys.argv[1:]:
    try: os.getxattr(p, "security.capability"); print("found on", p)
    except OSError: pass' "$ROOT/alice-own" "$ROOT/root-0755")
[ -z "$out" ] || fail "a file capability landed: $out"
pass "security.capability, security.* and trusted.* need the caller's own capabilities"

# Set-id bits are cleared by a write or chown of a caller without CAP_FSETID,
# as the kernel does (the Ceph backend does it itself).
suid_after() { # suid_after USER CMD: creates a 06777 file of alice, runs CMD as USER on it, prints the mode
	rm -f "$ROOT/sid"
	echo x > "$ROOT/sid"
	chown "$A:$A" "$ROOT/sid"
	chmod 06777 "$ROOT/sid"
	run_as "$1" bash -c "$2" > /dev/null 2>&1 || true
	stat -c %a "$ROOT/sid"
}
[ "$(suid_after dnsec_a "echo y >> $MNT/sid")" = 777 ] || fail "write by the owner kept set-id bits"
[ "$(suid_after dnsec_b "echo y >> $MNT/sid")" = 777 ] || fail "write by another user kept set-id bits"
[ "$(suid_after dnsec_a "truncate -s 1 $MNT/sid")" = 777 ] || fail "truncate kept set-id bits"
[ "$(suid_after dnsec_a "chown $A:$A $MNT/sid")" = 777 ] || fail "chown kept set-id bits"
[ "$(suid_after root "chown $A $MNT/sid")" = 777 ] || fail "chown by root kept set-uid"
[ "$(suid_after root "echo y >> $MNT/sid")" = 6777 ] || fail "root's write (CAP_FSETID) cleared set-id bits"
pass "writes, truncates and chown clear set-id bits as the kernel does"

# 4. Descriptors: no number of connections, files or lock owners of one user
# takes from the others.
pool_fds() { ls "/proc/$PID/fd" | wc -l; }
# hold_conns USER N READY: N raw connections to the pool that never say hello, held until killed
hold_conns() {
	# setpriv itself in the background (not a function around it): $! is the holder
	setpriv --reuid="$1" --regid="$1" --clear-groups -- "$PY" -c 'import socket, sys, time
conns = []
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    conns.append(s)
open(sys.argv[3], "w").close()
time.sleep(600)' "$SOCK" "$2" "$3" > /dev/null 2>&1 &
	HOLDER=$!
	for _ in $(seq 200); do [ -e "$3" ] && return 0; sleep 0.05; done
	fail "the connections of $1 were not made"
}
echo ok > "$ROOT/shared"
chmod 644 "$ROOT/shared"
mkdir -m 1777 "$WORK/ready"
before=$(pool_fds)
hold_conns 65534 2000 "$WORK/ready/nobody"
sleep 0.5
after=$(pool_fds)
[ $((after - before)) -lt 20 ] ||
	fail "2000 connections of a user [access] refuses took $((after - before)) descriptors of the pool"
[ "$(run_as dnsec_b cat "$MNT/shared")" = ok ] || fail "bob could not attach beside nobody's connections"
kill "$HOLDER"
wait "$HOLDER" 2> /dev/null || true
pass "a user [access] refuses is turned away at accept: 2000 connections hold $((after - before)) descriptors"

hold_conns dnsec_a 20 "$WORK/ready/alice"
set +e
out=$(run_as dnsec_a cat "$MNT/shared" 2>&1)
rc=$?
set -e
[ $rc != 0 ] && echo "$out" | grep -q "has 8 sessions of pool 'sec'" ||
	fail "alice's 9th session was not refused clearly: $out"
[ "$(run_as dnsec_b cat "$MNT/shared")" = ok ] || fail "bob could not attach while alice's sessions are full"
sleep 2.5 # hello_timeout = 1: the silent ones are dropped
[ "$(run_as dnsec_a cat "$MNT/shared")" = ok ] || fail "alice's silent connections were not dropped"
kill "$HOLDER"
wait "$HOLDER" 2> /dev/null || true
pass "sessions_per_uid bounds one user's connections; silent ones end after hello_timeout"

mkdir -p "$ROOT/files"
chmod 777 "$ROOT/files"
count_opens() { # count_opens USER N: opens N files and prints how many opened, then the first errno
	run_as "$1" "$PY" -c 'import os, sys, errno
fds, err = [], "none"
for i in range(int(sys.argv[2])):
    try:
        fds.append(os.open("%s/%s-%d" % (sys.argv[1], sys.argv[3], i), os.O_CREAT | os.O_RDWR, 0o644))
    except OSError as e:
        err = errno.errorcode[e.errno]; break
print(len(fds), err)' "$MNT/files" "$2" "$1"
}
[ "$(count_opens dnsec_a 60)" = "50 EMFILE" ] || fail "alice's 51st open file: $(count_opens dnsec_a 60)"
[ "$(count_opens dnsec_b 10)" = "10 none" ] || fail "bob's opens suffered from alice's"
pass "open_files_per_uid: EMFILE beyond it, other users unaffected"

echo x > "$ROOT/locked"
chmod 666 "$ROOT/locked"
out=$(run_as dnsec_a "$PY" -c 'import fcntl, os, sys, time, errno
os.stat(sys.argv[1]) # attached before forking: one session for all
r, w = os.pipe()
kids = []
for i in range(20):
    pid = os.fork()
    if pid == 0:
        fd = os.open(sys.argv[1], os.O_RDWR)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, i)
            os.write(w, b"o")
        except OSError as e:
            os.write(w, b"L" if e.errno == errno.ENOLCK else b"?")
        time.sleep(3)
        os._exit(0)
    kids.append(pid)
got = b""
while len(got) < 20:
    got += os.read(r, 20)
print(got.count(b"o"), got.count(b"L"), got.count(b"?"))
for k in kids:
    os.waitpid(k, 0)' "$MNT/locked")
if [ -n "${DANAUS_TEST_CEPH_DIR:-}" ]; then
	# Ceph keeps locks at the MDS: owners hold no descriptors of the pool, and are not limited.
	[ "$out" = "20 0 0" ] || fail "20 lock owners on a ceph pool: '$out' (taken, ENOLCK, other)"
	pass "lock owners on a ceph pool hold no pool descriptors: all 20 taken"
else
	[ "$out" = "16 4 0" ] || fail "20 lock owners of alice with lock_owners_per_uid = 16: '$out' (taken, ENOLCK, other)"
	pass "lock_owners_per_uid: ENOLCK beyond it"
fi

# 5. RLIMIT_FSIZE: a write or truncate past it fails with EFBIG and SIGXFSZ,
# a write reaching past it is cut short there, as on the kernel's files.
fsize_run() { # fsize_run DIR: dd, append and truncate under ulimit -f 8; prints the outcome
	bash -c "ulimit -f 8
		dd if=/dev/zero of='$1/big' bs=1M count=4 2> /dev/null; echo dd=\$?
		head -c 5000 /dev/zero > '$1/app'; head -c 5000 /dev/zero >> '$1/app'; echo app=\$?
		truncate -s 1M '$1/app'; echo trunc=\$?
		stat -c '%s %s' '$1/big' '$1/app' | tr '\n' ' '" 2> /dev/null | tr '\n' ' '
}
mkdir -p "$WORK/kdir"
want=$(fsize_run "$WORK/kdir")
got=$(in_pool bash -c "$(declare -f fsize_run); fsize_run '$MNT'")
[ "$got" = "$want" ] || fail "ulimit -f 8 through the pool: '$got', on the kernel: '$want'"
echo "$want" | grep -q "dd=153 app=153 trunc=153 8192 8192" || fail "the kernel's own answer changed: $want"
pass "RLIMIT_FSIZE: EFBIG and SIGXFSZ as on the kernel ($got)"

# 3. A FIFO stalls no one: its open waits in the opener's own thread (the pool
# hands the file over), bob is served meanwhile by the pool's one worker, and
# FIFO semantics are the kernel's.
mkdir -p "$ROOT/pipes"
chmod 1777 "$ROOT/pipes"
run_as dnsec_a mkfifo -m 666 "$MNT/pipes/f"
# not through run_as: $! must be the reader itself, not a subshell around it
setpriv --reuid=dnsec_a --regid=dnsec_a --clear-groups -- "$RUN_BIN" --pool sec --socket "$SOCK" \
	--mountpoint "$MNT" -- sh -c "exec cat '$MNT/pipes/f' > /dev/null" &
reader=$!
sleep 0.5
out=$(timeout 20 "$RUN_BIN" --pool sec --socket "$SOCK" --mountpoint "$MNT" -- \
	setpriv --reuid=dnsec_b --regid=dnsec_b --clear-groups cat "$MNT/shared" 2>&1) ||
	fail "bob was not served while alice waits in open(fifo): '$out'"
[ "$out" = ok ] || fail "bob read '$out' while alice waits in open(fifo)"
kill "$reader"
wait "$reader" 2> /dev/null || true
[ "$(run_as dnsec_b cat "$MNT/shared")" = ok ] || fail "the pool did not serve after alice's reader died"
out=$(run_as dnsec_a "$PY" -c 'import errno, os, sys
p = sys.argv[1]
try:
    os.open(p, os.O_WRONLY | os.O_NONBLOCK); print("opened")
except OSError as e:
    print(errno.errorcode[e.errno])
r = os.open(p, os.O_RDONLY | os.O_NONBLOCK)
w = os.open(p, os.O_WRONLY | os.O_NONBLOCK)
os.write(w, b"through")
print(os.read(r, 100).decode())' "$MNT/pipes/f")
[ "$out" = "$(printf 'ENXIO\nthrough')" ] || fail "FIFO semantics through the pool: '$out'"
# As the kernel (fs.protected_fifos), bob may not open alice's FIFO in the
# sticky pipes/ with O_CREAT (sh's "> f"): the writer opens it without.
if [ "$(cat /proc/sys/fs/protected_fifos)" -ge 1 ]; then
	out=$(run_as dnsec_b "$X" open "$MNT/pipes/f" "O_WRONLY|O_CREAT|O_NONBLOCK")
	[ "$out" = EACCES ] || fail "bob opened alice's FIFO in a sticky directory with O_CREAT: $out"
fi
run_as dnsec_a sh -c "cat '$MNT/pipes/f' > '$MNT/pipes/got'" &
reader=$!
echo "data flows" | run_as dnsec_b dd of="$MNT/pipes/f" conv=nocreat status=none
wait "$reader"
[ "$(cat "$ROOT/pipes/got")" = "data flows" ] || fail "a blocking reader and writer did not meet"
# The kernel's rights at open: bob may not open alice's 0600 FIFO.
run_as dnsec_a chmod 600 "$MNT/pipes/f"
out=$(run_as dnsec_b "$X" open "$MNT/pipes/f" O_RDONLY\|O_NONBLOCK)
[ "$out" = EACCES ] || fail "bob opened alice's 0600 FIFO: $out"
pass "FIFOs: a blocked open holds no worker; ENXIO, data and permissions as on the kernel"

# 2. Identity follows the process: a root program that drops to alice (as
# daemons do) acts as alice from its next call on, keeps the files it had
# open (as kernel fds keep their rights), and has no mapping of root's
# session left; likewise after seteuid alone, and after a drop by raw system
# calls followed by exec.
echo secret > "$ROOT/root-only"
chmod 600 "$ROOT/root-only"
out=$(in_pool "$PY" -c 'import errno, os, sys
m, a = sys.argv[1], int(sys.argv[2])
def t(f, *args):
    try:
        f(*args); return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
held = os.open(m + "/root-only", os.O_RDWR)          # opened as root
os.setgroups([]); os.setresgid(a, a, a); os.setresuid(a, a, a)
print(t(os.open, m + "/root-only", os.O_RDONLY),      # EACCES now
      t(os.chown, m + "/root-only", a, a),             # EPERM
      t(os.chmod, m + "/root-only", 0o666))             # EPERM
fd = os.open(m + "/pipes/made-after-drop", os.O_CREAT | os.O_WRONLY, 0o6755)
st = os.fstat(fd)
print(st.st_uid, st.st_gid, oct(st.st_mode & 0o7777))
os.lseek(held, 0, 0)
print(os.read(held, 6).decode(), os.pwrite(held, b"SECRET", 0))  # the old fd keeps its rights
print(open("/proc/self/maps").read().count("danaus-session"))' "$MNT" "$A")
want=$(printf 'EACCES EPERM EPERM\n%s %s 0o6755\nsecret 6\n1' "$A" "$A")
[ "$out" = "$want" ] || fail "after setresuid(alice) through the pool: '$out', the kernel: '$want'"
[ "$(cat "$ROOT/root-only")" = SECRET ] || fail "the write through the fd opened as root did not land"
[ "$(stat -c %u "$ROOT/pipes/made-after-drop")" = "$A" ] || fail "the new file is not alice's"

# seteuid alone (the saved uid stays 0): as the kernel, alice's rights.
out=$(in_pool "$PY" -c 'import errno, os, sys
try:
    os.seteuid(int(sys.argv[2])); os.open(sys.argv[1], os.O_RDONLY); print("opened")
except OSError as e:
    print(errno.errorcode[e.errno])' "$MNT/root-only" "$A")
[ "$out" = EACCES ] || fail "after seteuid(alice): $out"

# A drop by raw system calls, which no library sees, then exec: the new image
# attaches as who it is, with exactly its groups.
groupadd -f dnsec_g
GID=$(getent group dnsec_g | cut -d: -f3)
echo grp > "$ROOT/group-only"
chown root:dnsec_g "$ROOT/group-only"
chmod 040 "$ROOT/group-only"
raw_drop_cat() { # raw_drop_cat GROUPS...: root attaches, drops to alice by syscall(2), execs cat
	in_pool "$PY" -c 'import ctypes, os, sys
m, a, groups = sys.argv[1], int(sys.argv[2]), [int(g) for g in sys.argv[3:]]
os.stat(m)  # attached as root
libc = ctypes.CDLL(None, use_errno=True)
arr = (ctypes.c_uint * max(1, len(groups)))(*groups)
assert libc.syscall(116, len(groups), arr) == 0   # setgroups
assert libc.syscall(119, a, a, a) == 0            # setresgid
assert libc.syscall(117, a, a, a) == 0            # setresuid
os.execvp("cat", ["cat", m + "/group-only"])' "$MNT" "$A" "$@" 2>&1
}
out_with=$(raw_drop_cat "$GID")
out_without=$(raw_drop_cat || true)
groupdel dnsec_g 2> /dev/null || true
[ "$out_with" = grp ] || fail "alice with dnsec_g after a raw drop and exec: '$out_with'"
[ "$out_without" = "cat: $MNT/group-only: Permission denied" ] ||
	fail "alice without dnsec_g after a raw drop and exec read a group-only file: '$out_without'"
pass "identity follows the process: setresuid, seteuid, and a raw drop caught at exec"

# A root process that enters a user namespace of its own (a sandbox: unshare,
# bubblewrap) keeps its uid but no capability over files outside it:
# another user's 0600 file is EACCES to it (no CAP_DAC_OVERRIDE), as the kernel answers, by glibc's unshare and by
# syscall(2) alike (its session as root must not go on serving it).
echo alice > "$ROOT/alice-only"
chown "$A" "$ROOT/alice-only"
chmod 600 "$ROOT/alice-only"
for how in libc raw; do
	out=$(in_pool "$PY" -c 'import ctypes, errno, os, sys
m, how = sys.argv[1], sys.argv[2]
os.close(os.open(m + "/alice-only", os.O_RDONLY))  # attached as root, with its capabilities
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWUSER = 0x10000000
assert (libc.unshare(CLONE_NEWUSER) if how == "libc" else libc.syscall(272, CLONE_NEWUSER)) == 0
try:
    os.open(m + "/alice-only", os.O_RDONLY); print("opened")
except OSError as e:
    print(errno.errorcode[e.errno])' "$MNT" "$how" 2>&1)
	[ "$out" = EACCES ] || fail "root in a user namespace of its own ($how) opened alice's 0600 file: $out"
done
pass "a process that enters a user namespace loses its capabilities over the pool's files"

# 6. Doorbells are per session: a tenant ringing its own as fast as it can
# with nothing queued is muted, and costs the pool a bounded number of
# wake-ups (counted as its threads' voluntary context switches), not a CPU.
switches() { cat /proc/"$PID"/task/*/status | awk '/^voluntary_ctxt_switches/ {s += $2} END {print s}'; }
cpu_ticks() { awk '{print $14 + $15}' /proc/"$PID"/stat; } # utime + stime, 1/100 s
before=$(switches)
cpu_before=$(cpu_ticks)
proto=$(sed -n 's/^#define DN_PROTO_VERSION \([0-9]*\).*/\1/p' "$HERE/../../ipc/wire.h")
as dnsec_a "$PY" - "$SOCK" "$proto" << 'PY' || fail "the ringing client failed"
import array, socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
# DN_PROTO_MAGIC, version, attach, no token, no flags, no container, no image (struct dn_hello)
s.send(struct.pack("<QIIQQI68s256s", 0x31534e4144, int(sys.argv[2]), 0, 0, 0, 0, b"", b""))
fds = array.array("i")
msg, anc, _, _ = s.recvmsg(472, socket.CMSG_LEN(68 * fds.itemsize))
for level, kind, data in anc:
    fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
status = struct.unpack_from("<i", msg, 12)[0]
assert status == 0 and len(fds) >= 3, (status, len(fds))
bell, one, n, end = fds[2], (1).to_bytes(8, "little"), 0, time.monotonic() + 2
while time.monotonic() < end:
    for _ in range(1000):
        os_write = __import__("os").write(bell, one)
    n += 1000
print("  | rang", n, "times")
PY
after=$(switches)
cpu=$(($(cpu_ticks) - cpu_before))
wakes=$((after - before))
echo "  | the pool used $((cpu * 10)) ms of CPU, $wakes wake-ups, while alice rang for 2 s" 
grep -q "rings with nothing queued; its doorbell is muted" "$WORK/sec/pool.log" ||
	fail "a session ringing with nothing queued was not muted"
[ "$wakes" -lt 2000 ] || fail "a ringing session woke the pool's threads $wakes times in 2 s"
# Before per-session doorbells one ringing tenant kept the pool at 85 % of a CPU.
[ "$cpu" -lt 40 ] || fail "a ringing session cost the pool $((cpu * 10)) ms of CPU in 2 s"
[ "$(run_as dnsec_b cat "$MNT/shared")" = ok ] || fail "bob was not served after alice's ringing"
pass "a session ringing its doorbell wakes the pool $wakes times in 2 s, then is muted"
