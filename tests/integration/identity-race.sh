#!/usr/bin/env bash
# Integration: threads keep using their open files while another thread of
# the process changes who it is (seteuid, setegid, setgroups, setresuid),
# which moves the process to a new session of the pool (preload/identity.c).
# The kernel never fails a pwrite, lseek or fstat because another thread
# changed the process's credentials, and answers an open as the identity
# its thread had: test-identity-race checks each, on a kernel directory
# first (the oracle), then through the pool, with and without shared maps
# of the file (ceph-identity-race.sh: copies, unmapped by a signal handler
# meanwhile). Before the fix, 25 round trips failed pwrite and fstat with
# EBADF in every run.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

[ "$(id -u)" = 0 ] || fail "this test changes identity and must run as root (CI does)"
BIN="$DANAUS_BUILD/tests/integration/test-identity-race"
ROUNDS=${IDENTITY_RACE_ROUNDS:-25} # there and back: two sessions of the pool each, kept until exit
RUNS=${IDENTITY_RACE_RUNS:-3}

pool_start idr "[access]\nusers = root, nobody"
KDIR="$WORK/kernel"
mkdir -p "$KDIR"
for d in "$KDIR" "$ROOT"; do
	echo secret > "$d/secret"
	chmod 600 "$d/secret"
done

# a run that hangs (a switch waiting for a call that waits for it) is killed: exit 124
for mode in euid egid groups resuid; do
	for map in "" map; do
		out=$(timeout -k 5 120 "$BIN" "$KDIR" "$mode" "$ROUNDS" $map 2>&1) || out="$out (exit $?)"
		[ "$out" = done ] || fail "the kernel itself ($mode ${map:-no map}): $out"
		for run in $(seq "$RUNS"); do
			out=$(in_pool timeout -k 5 120 "$BIN" "$MNT" "$mode" "$ROUNDS" $map 2>&1) ||
				out="$out (exit $?)"
			[ "$out" = done ] || fail "through the pool ($mode ${map:-no map}, run $run): $out"
		done
	done
done
pass "pwrite, lseek, fcntl, fstat and open as the kernel's while another thread changes identity ($RUNS runs of $ROUNDS round trips per change)"

# Many changes in one process: each leaves the old session, whose
# descriptors go (the kernel's fd count stays), and whose connection goes
# too unless it may hold a lock of the process (kept until exit, as its
# locks are). Before, every change kept both: after 64 round trips the
# uid's 128 sessions ([limits] sessions_per_uid) were used up, and the
# process lost all its files (EBADF); each round trip cost 8 descriptors.
many='import fcntl, os, sys
fd = os.open(sys.argv[1] + "/many", os.O_RDWR | os.O_CREAT, 0o644)
if sys.argv[2] == "lock":
    fcntl.lockf(fd, fcntl.LOCK_EX)   # that session stays, the later ones go
before = len(os.listdir("/proc/self/fd"))
for _ in range(150):
    os.seteuid(65534); os.seteuid(0)
os.pwrite(fd, b"kept", 0)
print(os.pread(fd, 4, 0).decode(), len(os.listdir("/proc/self/fd")) - before)'
for lock in none lock; do
	out=$(python3 -c "$many" "$KDIR" $lock 2>&1) || out="$out (exit $?)"
	[ "$out" = "kept 0" ] || fail "the kernel itself, 150 round trips ($lock): $out"
	# (with the lock, one more: the connection of the session that holds it)
	want="kept $([ $lock = lock ] && echo 1 || echo 0)"
	out=$(in_pool python3 -c "$many" "$MNT" $lock 2>&1) || out="$out (exit $?)"
	[ "$out" = "$want" ] || fail "150 round trips of seteuid through the pool ($lock): $out"
done
pass "150 round trips of seteuid in one process: its files stay, its descriptors do not pile up"

# A thread's first call waits while a switch holds the list of threads (it
# waits for a call in flight on the stopped pool), and a signal handler on
# that thread makes a call: before, the handler's call answered ENOTCONN
# (it found its thread half listed); now the thread is listed with signals
# blocked, and the handler's call waits for the switch like any other.
SIG="$DANAUS_BUILD/tests/integration/test-switch-signal"
printf '0123456789abcdef' > "$KDIR/sig"
cp "$KDIR/sig" "$ROOT/sig"
out=$(timeout -k 5 60 "$SIG" "$KDIR/sig" 2>&1) || out="$out (exit $?)"
[ "$out" = done ] || fail "the kernel itself (switch-signal): $out"
out=$(in_pool timeout -k 5 60 "$SIG" "$MNT/sig" "$PID" 2>&1) || out="$out (exit $?)"
kill -CONT "$PID" 2>/dev/null || true
[ "$out" = done ] || fail "a handler's call on a thread whose first call waits for a switch: $out"
pass "a signal handler's call while its thread's first call waits for a switch"
