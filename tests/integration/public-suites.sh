#!/usr/bin/env bash
# Integration (suite 'public', not run by default: docs/testing.md): public
# test suites from Debian source packages, run as a stranger runs them,
# once in a kernel directory and once in a pool, compared test by test.
# git's own tests (t/) with their trash directories on the pool, on a local
# pool and through a union; coreutils built in a pool by its configure and
# make through the library (the same files as a build in a kernel
# directory), then its tests of rm, cp, mv, touch, chmod, ln, du, df, tail
# and dd in that build tree. Every test that passes on the kernel must pass
# on the pool.
# The sources come from `apt-get source` (deb-src lines, or the apt options
# in DANAUS_PUBLIC_APT_OPTS), kept with their builds in DANAUS_PUBLIC_DIR
# (default /var/tmp/danaus-public-suites); a source that cannot be fetched
# or built fails the test. PUBLIC_GIT_TESTS and PUBLIC_COREUTILS_TESTS
# change the test lists, PUBLIC_SUITES ("git coreutils") the suites.
# public-suites.known lists what is left, with reasons.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

SRC=${DANAUS_PUBLIC_DIR:-/var/tmp/danaus-public-suites}
SUITES=${PUBLIC_SUITES:-"git coreutils"}
# the ones that found divergences (an exec with git's own LD_PRELOAD), and
# the filesystem-heavy ones around them
GIT_TESTS=${PUBLIC_GIT_TESTS:-"t0000-basic t0001-init t0021-conversion t0060-path-utils
	t1006-cat-file t1300-config t2400-worktree-add t2403-worktree-move t3600-rm t3700-add
	t3903-stash t5300-pack-object t5601-clone t7001-mv t7300-clean t7508-status"}
CU_TESTS=${PUBLIC_COREUTILS_TESTS:-"tests/rm/*.sh tests/cp/*.sh tests/mv/*.sh tests/touch/*.sh
	tests/chmod/*.sh tests/ln/*.sh tests/du/*.sh tests/df/*.sh tests/tail/*.sh tests/dd/*.sh
	tests/rm/*.pl tests/cp/*.pl tests/mv/*.pl tests/tail/*.pl tests/dd/*.pl"}
mkdir -p "$SRC"

# source PKG: the unpacked source directory of PKG (fetched once)
source_of() {
	local dir
	dir=$(find -L "$SRC" -maxdepth 1 -type d -name "$1-[0-9]*" | sort | tail -1)
	if [ -z "$dir" ]; then
		# shellcheck disable=SC2086 # (options, one word each)
		(cd "$SRC" && apt-get ${DANAUS_PUBLIC_APT_OPTS:-} source "$1" > "$SRC/$1-fetch.log" 2>&1) ||
			{ tail -5 "$SRC/$1-fetch.log" >&2 || true
			  fail "cannot fetch the source of $1 (apt-get source needs deb-src lines or DANAUS_PUBLIC_APT_OPTS)"; }
		dir=$(find -L "$SRC" -maxdepth 1 -type d -name "$1-[0-9]*" | sort | tail -1)
		[ -n "$dir" ] || fail "apt-get source $1 unpacked nothing in $SRC"
	fi
	echo "$dir"
}

# verdicts KIND LOG: "NAME STATUS" per test, sorted (git: ok/not ok N; automake: PASS/FAIL...)
verdicts() {
	if [ "$1" = git ]; then # (the rest: automake's PASS: NAME)
		grep -E '^(not )?ok [0-9]+' "$2" | grep -v '# TODO' |
			sed -E 's/^(not ok|ok) ([0-9]+).*/\2 \1/; s/ not ok$/ FAIL/; s/ ok$/ PASS/' | sort
	else
		grep -E '^(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR): ' "$2" | sed -E 's/^([A-Z]+): (.*)/\2 \1/' | sort
	fi
}

# compare KIND WHAT KLOG PLOG: every test that passes on the kernel passes on the pool
compare() {
	local kind=$1 what=$2 bad
	verdicts "$kind" "$3" > "$3.v"
	verdicts "$kind" "$4" > "$4.v"
	local n
	n=$(grep -c ' PASS$' "$3.v" || true)
	[ "$n" -gt 0 ] || { tail -20 "$3" >&2 || true; fail "$what: no test passed on the kernel directory: the suite did not run"; }
	# (public-suites.known: what is left, with its reason)
	bad=$(join "$3.v" "$4.v" -a 1 -e MISSING -o 0,1.2,2.2 | awk '$2 == "PASS" && $3 != "PASS"' |
		while read -r name _; do
			grep -q "^$kind $name " "$HERE/public-suites.known" && echo "known: $name" >&2 ||
				echo "$name"
		done)
	if [ -n "$bad" ]; then
		echo "$bad" | head -20 >&2 || true
		fail "$what: tests that pass on a kernel directory do not on the pool"
	fi
	echo "$what: $n tests pass on the kernel directory and on the pool"
}

run_git() {
	local git
	git=$(source_of git)
	if [ ! -x "$git/git" ]; then
		make -C "$git" -j2 NO_GETTEXT=1 NO_TCLTK=1 NO_CURL=1 NO_EXPAT=1 NO_PYTHON=1 \
			> "$SRC/git-build.log" 2>&1 || { tail -20 "$SRC/git-build.log" >&2 || true; fail "git did not build"; }
	fi
	local side t
	for side in local union; do
		if [ $side = union ]; then DANAUS_TEST_UNION=1 pool_start "git$side"; else pool_start "git$side"; fi
		mkdir -p "$WORK/gk-$side" "$WORK/glog-$side"
		for t in $GIT_TESTS; do
			[ -f "$git/t/$t.sh" ] || fail "git has no test $t"
			# both at once (each is mostly one busy process)
			(cd "$git/t" && timeout -k 10 900 "./$t.sh" --root="$WORK/gk-$side/$t" \
				> "$WORK/glog-$side/$t.kernel" 2>&1) &
			local kpid=$!
			(cd "$git/t" && timeout -k 10 900 "$RUN_BIN" --pool "${POOL_NAME:-x}" --socket "$SOCK" \
				--mountpoint "$MNT" -- "./$t.sh" --root="$MNT/$t" > "$WORK/glog-$side/$t.pool" 2>&1) || true
			wait "$kpid" || true
			compare git "git $t ($side)" "$WORK/glog-$side/$t.kernel" "$WORK/glog-$side/$t.pool"
		done
		[ -z "$(ls -A "$MNT" 2>/dev/null)" ] ||
			fail "files landed in the host directory behind the mountpoint: $(ls -A "$MNT" | head -5)"
	done
	pass "git's tests ($(echo $GIT_TESTS | wc -w) scripts): every test that passes on a kernel directory passes on a local pool and through a union"
}

run_coreutils() {
	local cu
	cu=$(source_of coreutils)
	pool_start cu
	# the same build on both sides: configure and make, in the kernel
	# directory and in the pool through the library; as root, as the
	# tests that need root want it
	local build='mkdir "$2" && cp -a "$1/." "$2" && cd "$2" && FORCE_UNSAFE_CONFIGURE=1 ./configure --quiet > build.log 2>&1 && make -j2 >> build.log 2>&1'
	bash -c "$build" _ "$cu" "$WORK/kernel-cu" > /dev/null 2>&1 ||
		{ tail -20 "$WORK/kernel-cu/build.log" >&2 || true; fail "coreutils did not build in the kernel directory"; }
	in_pool bash -c "$build" _ "$cu" "$MNT/cu" ||
		{ tail -20 "$ROOT/cu/build.log" >&2 || true; fail "coreutils did not build in the pool"; }
	# the same files made (logs and timestamps apart)
	(cd "$WORK/kernel-cu" && find . -path ./build.log -prune -o -print | sort) > "$WORK/cu.files.kernel"
	(cd "$ROOT/cu" && find . -path ./build.log -prune -o -print | sort) > "$WORK/cu.files.pool"
	diff "$WORK/cu.files.kernel" "$WORK/cu.files.pool" | head -20 >&2 || true
	cmp -s "$WORK/cu.files.kernel" "$WORK/cu.files.pool" ||
		fail "coreutils' build made other files in the pool than in a kernel directory"
	in_pool "$MNT/cu/src/ls" --version > "$WORK/ls.pool"
	"$WORK/kernel-cu/src/ls" --version > "$WORK/ls.kernel"
	cmp -s "$WORK/ls.kernel" "$WORK/ls.pool" || fail "the ls built in the pool says otherwise than the kernel's"
	pass "coreutils' configure && make in a pool: the same $(wc -l < "$WORK/cu.files.pool") files as in a kernel directory"
	local tests
	tests=$(cd "$WORK/kernel-cu" && echo $CU_TESTS)
	local check='cd "$1" && shift && make check SUBDIRS=. VERBOSE=no TESTS="$*" > check.log 2>&1; cat check.log'
	bash -c "$check" _ "$WORK/kernel-cu" $tests > "$WORK/cu.kernel" 2>&1 &
	local kpid=$!
	in_pool bash -c "$check" _ "$MNT/cu" $tests > "$WORK/cu.pool" 2>&1 || true
	wait "$kpid" || true
	compare coreutils "coreutils' tests" "$WORK/cu.kernel" "$WORK/cu.pool"
	[ -z "$(ls -A "$MNT" 2>/dev/null)" ] ||
		fail "files landed in the host directory behind the mountpoint: $(ls -A "$MNT" | head -5)"
	pass "coreutils' tests ($(echo $tests | wc -w)): every test that passes on a kernel directory passes on the pool"
}

for s in $SUITES; do
	case $s in
	git) run_git ;;
	coreutils) run_coreutils ;;
	*) fail "no suite $s (git, coreutils)" ;;
	esac
done
