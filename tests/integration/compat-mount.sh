#!/usr/bin/env bash
# Integration: [pool] compat_mount. The pool also mounts its tree through
# FUSE, so programs the library cannot reach -- a static busybox, io_uring --
# use the pool's files; both views see each other's writes at once (the same
# descriptor included), each caller is checked as itself (uid, groups,
# capabilities), locks are shared, and the mount follows the pool through
# SIGTERM and kill -9 + restart; every [mount] instance has a mount of its own.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

BUSYBOX=$(command -v busybox) || fail "busybox is not installed (scripts/install-deps installs busybox-static)"
file -L "$BUSYBOX" | grep -q "statically linked" || fail "$BUSYBOX is not the static busybox (busybox-static)"
URING="$DANAUS_BUILD/tests/integration/compat-uring"
[ -x "$URING" ] || fail "$URING was not built (liburing-dev missing at meson setup?)"
[ -c /dev/fuse ] || fail "no /dev/fuse: the compat mount cannot be tested here"

nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
wait_mounted() {
	for _ in $(seq 600); do
		# A live FUSE mount answers statfs (FUSE's magic). A dead mount of a
		# killed pool does not (ENOTCONN); and once the new pool detaches it
		# the path is the bare directory below until it attaches its own.
		[ "$(findmnt -n -o FSTYPE "$MNT" 2>/dev/null)" = fuse.danaus ] &&
			[ "$(stat -f -c %t "$MNT/." 2>/dev/null)" = 65735546 ] && return 0
		sleep 0.05
	done
	cat "$WORK/cm/pool.log" >&2
	fail "no compat mount at $MNT"
}
start() {
	POOL_SETTINGS='compat_mount = yes\n' pool_start cm "[access]\nusers = root, nobody"
	wait_mounted
}

start
pass "the pool's tree is mounted at $MNT (fuse.danaus)"

# --- programs the library never reaches see what preloaded ones wrote
SRC="$WORK/src"
make_source_tree "$SRC"
in_pool cp -a "$SRC" "$MNT/src"
for f in rand-3m inline-448 one-mib-plus-1 empty tree/sub2/r3; do
	want=$(sha256sum < "$SRC/$f")
	[ "$("$BUSYBOX" sha256sum < "$MNT/src/$f")" = "$want" ] || fail "static busybox read $f wrong"
	[ "$("$URING" "$MNT/src/$f" | sha256sum)" = "$want" ] || fail "io_uring read $f wrong"
done
# shellcheck disable=SC2016
listing='cd "$1" && find . | LC_ALL=C sort | while read -r f; do stat -c "%n %F %s %a %u %Y" "$f"; done'
want=$(in_pool sh -c "$listing" _ "$MNT/src")
[ "$(sh -c "$listing" _ "$MNT/src")" = "$want" ] || fail "the tree through the mount is not the preloaded view"
[ "$("$BUSYBOX" find "$MNT/src" | wc -l)" = "$(echo "$want" | wc -l)" ] || fail "static find counts otherwise"
pass "static busybox, io_uring and plain programs see what preloaded programs wrote"

# --- and preloaded programs see what they write
"$BUSYBOX" cp "$SRC/rand-3m" "$MNT/by-static"
"$BUSYBOX" mkdir -p "$MNT/sdir/a"
"$BUSYBOX" sh -c "echo written by busybox > $MNT/sdir/a/t"
[ "$(in_pool sha256sum < "$MNT/by-static")" = "$(sha256sum < "$SRC/rand-3m")" ] || fail "preloaded read of a static write wrong"
[ "$(in_pool cat "$MNT/sdir/a/t")" = "written by busybox" ] || fail "preloaded read of a static write wrong"
[ "$(cat "$ROOT/sdir/a/t")" = "written by busybox" ] || fail "the static write is not in the pool's root"
pass "preloaded programs see what static ones wrote"

# --- no cache between the views: one open descriptor sees the other view's writes
printf one > "$MNT/coh"
python3 - "$MNT/coh" "$WORK" <<'PY' &
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
first = os.pread(fd, 10, 0)
open(sys.argv[2] + '/coh.1', 'w').write(first.decode())
while not os.path.exists(sys.argv[2] + '/coh.go'):
    time.sleep(0.01)
second = os.pread(fd, 10, 0)
st = os.fstat(fd)
open(sys.argv[2] + '/coh.2', 'w').write('%s %d' % (second.decode(), st.st_size))
PY
reader=$!
for _ in $(seq 100); do [ -s "$WORK/coh.1" ] && break; sleep 0.05; done
[ "$(cat "$WORK/coh.1")" = one ] || fail "the kernel-side reader read $(cat "$WORK/coh.1")"
in_pool sh -c "printf twothree > '$MNT/coh'"
touch "$WORK/coh.go"
wait $reader
[ "$(cat "$WORK/coh.2")" = "twothree 8" ] || fail "the same descriptor read '$(cat "$WORK/coh.2")' after a preloaded write, not 'twothree 8'"
in_pool sh -c "printf abc >> '$MNT/coh'"
[ "$(stat -c %s "$MNT/coh")" = 11 ] || fail "the mount's size lags a preloaded append"
rm "$MNT/coh"
in_pool test ! -e "$MNT/coh" || fail "a removal through the mount is not seen by preloaded programs"
pass "no cache between the views: data, sizes and names at once, on an open descriptor too"

# --- each caller is itself: owners, refusals, capabilities
out=$(nobody "$BUSYBOX" touch "$MNT/nobodys" 2>&1) && fail "nobody created a file in root's 0755 directory"
echo "$out" | grep -q "Permission denied" || fail "nobody creating in root's directory: $out"
mkdir -m 1777 "$MNT/pub"
nobody "$BUSYBOX" touch "$MNT/pub/nobodys"
[ "$(stat -c %U "$ROOT/pub/nobodys")" = nobody ] || fail "a file nobody made through the mount is owned by $(stat -c %U "$ROOT/pub/nobodys")"
echo secret > "$MNT/secret"
chmod 600 "$MNT/secret"
out=$(nobody "$BUSYBOX" cat "$MNT/secret" 2>&1) && fail "nobody read root's 0600 file through the mount"
echo "$out" | grep -q "Permission denied" || fail "nobody reading root's 0600 file: $out"
nobody sh -c "echo x > '$MNT/secret'" 2>/dev/null && fail "nobody wrote root's 0600 file through the mount"
chown nobody "$MNT/secret"
# root without the DAC overrides is refused another's 0600 file, as by the kernel
out=$(setpriv --inh-caps=-all --bounding-set=-dac_override,-dac_read_search -- cat "$MNT/secret" 2>&1) &&
	fail "root without CAP_DAC_OVERRIDE read nobody's 0600 file through the mount"
echo "$out" | grep -q "Permission denied" || fail "root without DAC overrides: $out"
[ "$(cat "$MNT/secret")" = secret ] || fail "root could not read nobody's 0600 file"
nobody chmod 644 "$MNT/pub/nobodys"
out=$(nobody chown root "$MNT/pub/nobodys" 2>&1) && fail "nobody gave a file to root through the mount"
mkdir -m 1777 "$MNT/sticky"
touch "$MNT/sticky/roots"
out=$(nobody rm -f "$MNT/sticky/roots" 2>&1) && fail "nobody removed root's file from a sticky directory"
[ -e "$ROOT/sticky/roots" ] || fail "root's file left the sticky directory"
# access(2) asks about the real ids: a set-uid-like caller (euid 0, ruid nobody)
echo root > "$MNT/rootonly"
chmod 600 "$MNT/rootonly"
may_read() { setpriv --ruid=nobody -- /usr/bin/python3 -c "import os, sys; print(os.access(sys.argv[1], os.R_OK))" "$1"; }
[ "$(may_read "$MNT/secret")" = True ] || fail "access(2) as real uid nobody of nobody's 0600 file"
[ "$(may_read "$MNT/rootonly")" = False ] || fail "access(2) as real uid nobody of root's 0600 file said yes"
# [access] admits root and nobody only: another user gets nothing, as at a preloaded attach
echo public > "$MNT/public"
out=$(setpriv --reuid=daemon --regid=daemon --clear-groups -- cat "$MNT/public" 2>&1) &&
	fail "a user outside [access] read a file through the mount"
echo "$out" | grep -q "Permission denied" || fail "a user outside [access]: $out"
[ "$(nobody cat "$MNT/public")" = public ] || fail "nobody, in [access], cannot read a public file"
pass "each caller is checked as itself: owners, modes, sticky, capabilities, access(2)'s real ids, [access]"

# --- locks are the pool's, shared with preloaded programs
touch "$MNT/lk"
flock "$MNT/lk" -c "touch '$WORK/held'; sleep 2" &
holder=$!
for _ in $(seq 100); do [ -e "$WORK/held" ] && break; sleep 0.02; done
in_pool flock -n "$MNT/lk" -c true 2>/dev/null && fail "a preloaded flock got the lock the mount's holder has"
wait $holder
in_pool flock -n "$MNT/lk" -c true || fail "the lock was not freed with its holder through the mount"
python3 - "$MNT/lk" "$RUN_BIN" "$SOCK" "$MNT" <<'PY' || fail "POSIX record locks are not shared between the views"
import fcntl, os, subprocess, sys
f = open(sys.argv[1], 'r+')
fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)
probe = ('import fcntl,sys\nf=open(sys.argv[1],"r+")\n'
         'try:\n fcntl.lockf(f, fcntl.LOCK_EX|fcntl.LOCK_NB, 10, 0)\n'
         'except OSError: sys.exit(3)\nsys.exit(0)')
r = subprocess.run([sys.argv[2], '--pool', 'cm', '--socket', sys.argv[3], '--mountpoint',
                    sys.argv[4], '--', sys.executable, '-c', probe, sys.argv[1]])
sys.exit(0 if r.returncode == 3 else 1)
PY
pass "flock and POSIX locks are shared between the mount and preloaded programs"

# --- a preloaded process may run static programs: the mount serves them
[ "$(in_pool "$BUSYBOX" cat "$MNT/sdir/a/t")" = "written by busybox" ] || fail "a static program under danaus-run"
pass "a static program started by a preloaded one reaches the pool"

# --- the mount follows the pool: gone on SIGTERM, even with a program inside
(cd "$MNT" && sleep 60) &
inside=$!
sleep 0.2
kill -TERM "$PID"
wait "$PID" || fail "the pool did not exit 0 on SIGTERM with a program inside its mount"
findmnt -n "$MNT" >/dev/null && fail "the compat mount stayed after SIGTERM"
kill "$inside"
pass "SIGTERM ends the pool and its mount, with a program still inside it"

# --- a killed pool's dead mount is replaced when the pool starts again
POOL_PIDS=()
start
# fsync'd, and its directory (the create): what a killed pool held in its
# cache (a Ceph pool's) is lost, as by any client
printf before | dd of="$MNT/kept" conv=fsync status=none
sync "$MNT"
kill -KILL "$PID"
wait "$PID" 2>/dev/null || true
out=$(stat "$MNT" 2>&1) && fail "the mount of a killed pool still answers: $out"
start
grep -q "detached the dead compat mount" "$WORK/cm/pool.log" || fail "the dead mount was not detached"
[ "$("$BUSYBOX" cat "$MNT/kept")" = before ] ||
	{ cat "$WORK/cm/pool.log" >&2; ls -la "$MNT" "$ROOT" >&2 || true
	  fail "after kill -9 and a restart the mount does not serve the pool"; }
[ "$(grep -c " $MNT fuse.danaus " /proc/self/mounts)" = 1 ] || fail "more than one compat mount at $MNT"
pass "after kill -9 the next start detaches the dead mount and mounts again"

# --- what FUSE cannot do for direct-I/O files: shared maps (README)
python3 - "$MNT/kept" <<'PY' || fail "maps of a compat-mount file: see above"
import errno, mmap, sys
with open(sys.argv[1], 'r+b') as f:
    assert mmap.mmap(f.fileno(), 0, mmap.MAP_PRIVATE)[:6] == b'before', 'private map'
    try:
        mmap.mmap(f.fileno(), 0, mmap.MAP_SHARED)
    except OSError as e:
        assert e.errno == errno.ENODEV, e
    else:
        raise AssertionError('a shared map of a direct-I/O file was granted: README says ENODEV')
PY
pass "private maps of compat-mount files work; shared ones answer ENODEV, as README says"

# --- open files through the mount count against [limits] open_files_per_uid,
# as a preloaded program's do: a tenant cannot take the pool's descriptors
kill "$PID"; wait "$PID" 2>/dev/null || true
POOL_PIDS=()
POOL_SETTINGS='compat_mount = yes\n' pool_start cm "[access]\nusers = root, nobody\n[limits]\nopen_files_per_uid = 20"
wait_mounted
mkdir -p "$MNT/many"
chown nobody "$MNT/many"
nobody /usr/bin/python3 - "$MNT/many" <<'PY' || fail "open files of the compat mount against open_files_per_uid: see above"
import errno, os, sys
def fill():
    fds = []
    try:
        for i in range(100):
            fds.append(os.open(os.path.join(sys.argv[1], 'f%d' % i), os.O_RDWR | os.O_CREAT, 0o600))
    except OSError as e:
        assert e.errno == errno.EMFILE, e
    return fds
fds = fill()
assert len(fds) == 20, 'opened %d files, the limit is 20' % len(fds)
for fd in fds:
    os.close(fd)
fds = fill()  # closing gave them back
assert len(fds) == 20, 'after closing all, opened %d files again' % len(fds)
PY
pass "files open through the mount count against open_files_per_uid (EMFILE past it, given back on close)"

# --- a blocking lock call holds one of the mount's threads while it waits:
# one uid may have 8 waiting (an eighth of them); the ninth gets ENOLCK, as
# from a kernel whose lock table is full, and the waiters get the lock later
touch "$MNT/many/lk"
chmod 666 "$MNT/many/lk"
flock "$MNT/many/lk" sh -c "while [ ! -e '$MNT/many/release' ]; do sleep 0.05; done" &
holder=$!
for _ in $(seq 200); do flock -n "$MNT/many/lk" true || break; sleep 0.05; done
flock -n "$MNT/many/lk" true && fail "the holder did not get its lock"
nobody /usr/bin/python3 - "$MNT/many/lk" "$MNT/many/release" <<'PY' || fail "blocking locks of one uid through the mount: see above"
import errno, fcntl, os, sys, threading, time
res = []
def waiter():
    fd = os.open(sys.argv[1], os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        res.append('locked')
        fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError as e:
        res.append(errno.errorcode[e.errno])
    finally:
        os.close(fd)
ts = [threading.Thread(target=waiter) for _ in range(9)]
for t in ts:
    t.start()
deadline = time.time() + 30
while not res and time.time() < deadline:
    time.sleep(0.05)
assert res == ['ENOLCK'], 'with 9 waiting: %s' % res
open(sys.argv[2], 'w').close()
for t in ts:
    t.join(60)
assert sorted(res) == ['ENOLCK'] + ['locked'] * 8, res
PY
wait "$holder"
pass "one uid's blocking locks take at most 8 of the mount's threads (ENOLCK beyond), and get their lock"

# --- every instance has its mount: a [mount] subtree and a [mount] union,
# each served by its own libservice, each with its own access lists
kill "$PID"; wait "$PID" 2>/dev/null || true
POOL_PIDS=()
D="/danaus/t$$-cmdata" U="/danaus/t$$-cmunion"
MOUNTS+=("$D" "$U")
# (BACKEND: the backend's root, as the last pool_start of cm made it; ROOT may be a union's upper)
mkdir -p "$BACKEND/data/d" "$BACKEND/low/etc" "$BACKEND/up"
echo in-data > "$BACKEND/data/d/f"
echo from-lower > "$BACKEND/low/etc/conf"
echo gone > "$BACKEND/low/etc/old"
chmod -R go+rX "$BACKEND/data" "$BACKEND/low" "$BACKEND/up"
POOL_SETTINGS='compat_mount = yes\n' pool_start cm "[access]\nusers = root, nobody\n[mount data]\nmountpoint = $D\npath = /data\naccess_users = root\n[mount u]\nmountpoint = $U\nlower = /low\nupper = /up"
wait_mounted
for at in "$D" "$U"; do
	for _ in $(seq 200); do [ "$(findmnt -n -o FSTYPE "$at")" = fuse.danaus ] && break; sleep 0.05; done
	[ "$(findmnt -n -o FSTYPE "$at")" = fuse.danaus ] || { cat "$WORK/cm/pool.log" >&2; fail "no compat mount at the instance's $at"; }
done
[ "$("$BUSYBOX" cat "$D/d/f")" = in-data ] || fail "static read through the subtree instance's mount"
[ "$("$BUSYBOX" ls "$D")" = d ] || fail "the subtree instance's mount lists $("$BUSYBOX" ls "$D"), not its subtree"
[ "$("$BUSYBOX" cat "$U/etc/conf")" = from-lower ] || fail "static read of a lower file through the union's mount"
"$BUSYBOX" sh -c "echo by-static >> $U/etc/conf && rm $U/etc/old"
[ "$(cat "$BACKEND/low/etc/conf")" = from-lower ] || fail "a static write through the union's mount changed the lower layer"
[ "$(cat "$BACKEND/up/etc/conf")" = "from-lower
by-static" ] || fail "a static write through the union's mount was not copied up"
[ -e "$BACKEND/up/etc/.wh.old" ] || fail "a static rm through the union's mount left no whiteout"
want=$(in_pool ls -la --time-style=+ "$U/etc")
[ "$(ls -la --time-style=+ "$U/etc")" = "$want" ] || fail "the union's mount lists otherwise than preloaded programs: $want"
# [mount data] access_users = root: nobody, in [access], is refused that instance only
out=$(nobody "$BUSYBOX" cat "$D/d/f" 2>&1) && fail "nobody read the data instance through its mount, outside its access_users"
echo "$out" | grep -q "Permission denied" || fail "nobody through the data instance's mount: $out"
[ "$(nobody "$BUSYBOX" cat "$U/etc/conf" | head -1)" = from-lower ] || fail "nobody cannot read through the union's mount"
kill -TERM "$PID"
wait "$PID" || fail "the pool with three compat mounts did not exit 0 on SIGTERM"
for at in "$MNT" "$D" "$U"; do
	findmnt -n "$at" >/dev/null && fail "the compat mount at $at stayed after SIGTERM"
done
POOL_PIDS=()
pass "each [mount] instance has its own compat mount: its subtree or union, its access lists; all go on SIGTERM"

# --- a host that cannot give FUSE (here: no /dev/fuse in a private /dev)
# fails the same way at every restart: EX_CONFIG (78), which the unit does
# not restart (RestartPreventExitStatus=78), with the reason in the log
status=0
unshare -m sh -c 'mount -t tmpfs none /dev && exec "$@"' _ timeout 30 "$POOL_BIN" --pool cm \
	--config-dir "$WORK/cm/etc" --socket "$WORK/cm/nofuse.sock" --cdi-dir "$WORK/cm/cdi" \
	2>"$WORK/cm/nofuse.log" || status=$?
[ "$status" = 78 ] || { cat "$WORK/cm/nofuse.log" >&2; fail "no /dev/fuse: exit $status, not 78 (EX_CONFIG)"; }
grep -q "cannot open /dev/fuse" "$WORK/cm/nofuse.log" || fail "no /dev/fuse: the log does not say why"
pass "without /dev/fuse the pool exits 78 (EX_CONFIG) and says why"
