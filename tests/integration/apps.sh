#!/usr/bin/env bash
# Integration: real applications on a Danaus mount, each compared with the
# same run on a plain kernel directory (the oracle). Every scenario runs;
# the test fails if any differs, showing the difference.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

POOL_NAME=apps
pool_start apps
PLAIN="$WORK/plain"
mkdir "$PLAIN"
failed=()

# Names the calls behind a failure: a system call that reached the kernel
# with a mount path was not intercepted, and EBADF is what a bypassed call
# on a Danaus fd (an O_PATH placeholder) gets.
name_calls() {
	command -v strace >/dev/null || { echo "  (install strace to see the calls)" >&2; return; }
	strace -f -qq -o "$WORK/$1.strace" -e trace=%file,%desc,%memory \
		"$RUN_BIN" --pool apps --socket "$SOCK" --mountpoint "$MNT" -- \
		bash "$HERE/apps-scenarios.sh" "$1" "$MNT/$1-strace" "$WORK" >/dev/null 2>&1
	echo "  calls that bypassed the library (syscall: count):" >&2
	# (our own probes: fcntl F_GETFD/F_GETFL on inherited fds, chdir to the mountpoint)
	grep -E "^[0-9]+ +[a-z0-9_]+\(([A-Z_0-9]+, )?\"$MNT[/\"]|= -1 EBADF" "$WORK/$1.strace" |
		grep -v -E "F_GETFD|F_GETFL|chdir\(\"$MNT\"\)" |
		sed -E 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/' | sort | uniq -c | sort -rn | head -10 |
		sed 's/^/  | /' >&2
}

# scenario NAME: runs "apps-NAME" of apps-scenarios.sh on both and compares.
scenario() {
	local name=$1 t0=$SECONDS
	mkdir -p "$PLAIN/$name"
	local prc=0 drc=0 ppid
	# both sides at once, each in its own directory: the run takes the longer one's time
	(cd "$PLAIN" && bash "$HERE/apps-scenarios.sh" "$name" "$PLAIN/$name" "$WORK") \
		> "$WORK/$name.plain" 2>&1 &
	ppid=$!
	in_pool bash "$HERE/apps-scenarios.sh" "$name" "$MNT/$name" "$WORK" \
		> "$WORK/$name.danaus" 2>&1 || drc=$?
	wait "$ppid" || prc=$?
	sed -i "s|$PLAIN/$name|@D@|g" "$WORK/$name.plain"
	sed -i "s|$MNT/$name|@D@|g" "$WORK/$name.danaus"
	# what legitimately differs on another backend (ceph-apps.sh says what)
	if [ -n "${DANAUS_TEST_FILTER:-}" ]; then
		"$DANAUS_TEST_FILTER" < "$WORK/$name.plain" > "$WORK/$name.f" && mv "$WORK/$name.f" "$WORK/$name.plain"
		"$DANAUS_TEST_FILTER" < "$WORK/$name.danaus" > "$WORK/$name.f" && mv "$WORK/$name.f" "$WORK/$name.danaus"
	fi
	if [ $prc -ne 0 ]; then
		echo "FAIL: $name does not even pass on the kernel directory:" >&2
		sed 's/^/  | /' "$WORK/$name.plain" | tail -20 >&2
		failed+=("$name")
	elif ! diff -u "$WORK/$name.plain" "$WORK/$name.danaus" > "$WORK/$name.diff" ||
		[ $drc -ne 0 ]; then
		echo "FAIL: $name differs on the Danaus mount (exit $drc):" >&2
		head -60 "$WORK/$name.diff" | sed "s/^/  | /" >&2
		name_calls "$name"
		failed+=("$name")
	else
		pass "$name ($(wc -l < "$WORK/$name.plain") lines identical, $((SECONDS - t0)) s)"
	fi
}

set +e +o pipefail # every scenario runs; failures are collected
for s in ${APPS_SCENARIOS:-coreutils git sqlite-rollback sqlite-wal python make tools meson locks lock-waits shell fio rocksdb stress shared-offset wide-stdio strangers}; do
	scenario "$s"
done
if [ ${#failed[@]} -gt 0 ]; then
	fail "scenarios that differ: ${failed[*]}"
fi
[ -z "$(ls -A "$MNT" 2>/dev/null)" ] || fail "files leaked into the host directory $MNT"
