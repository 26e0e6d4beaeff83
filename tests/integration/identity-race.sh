#!/usr/bin/env bash
# Integration: threads keep using their open files while another thread of
# the process changes who it is (seteuid, setegid, setgroups, setresuid),
# which moves the process to a new session of the pool (preload/identity.c).
# The kernel never fails a pwrite, lseek or fstat because another thread
# changed the process's credentials, and answers an open as the identity
# its thread had: test-identity-race checks each, on a kernel directory
# first (the oracle), then through the pool, with and without a shared map
# of the file. Before the fix, 25 round trips failed pwrite and fstat with
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

for mode in euid egid groups resuid; do
	for map in "" map; do
		out=$("$BIN" "$KDIR" "$mode" "$ROUNDS" $map)
		[ "$out" = done ] || fail "the kernel itself ($mode ${map:-no map}): $out"
		for run in $(seq "$RUNS"); do
			out=$(in_pool "$BIN" "$MNT" "$mode" "$ROUNDS" $map 2>&1)
			[ "$out" = done ] || fail "through the pool ($mode ${map:-no map}, run $run): $out"
		done
	done
done
pass "pwrite, lseek, fcntl, fstat and open as the kernel's while another thread changes identity ($RUNS runs of $ROUNDS round trips per change)"
