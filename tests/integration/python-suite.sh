#!/usr/bin/env bash
# Integration: CPython's own test suite (Debian's libpython3.11-testsuite)
# as a stranger's conformance check. The modules that work on files run with
# their working directory and TMPDIR in a kernel directory, then in a pool
# through danaus-run; every test that passes on the kernel must pass on the
# pool (pysuite_compare.py, per test), except the ones python-suite.known
# lists with their reasons. PYSUITE_MODULES overrides the module list.
# On a Ceph pool (ceph-conformance.sh sets DANAUS_TEST_CEPH_DIR/_FUSE) the
# oracle is a directory of the same cluster through ceph-fuse.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

# Debian's interpreter: its test package matches it (a python3 earlier on
# PATH, pyenv's say, has no such tests or other ones)
PY=/usr/bin/python3
[ -x "$PY" ] || fail "$PY is missing (scripts/install-deps installs python3)"
"$PY" -c 'import test.support, test.test_os' 2>/dev/null ||
	fail "CPython's test suite is missing for $PY: install libpython3.11-testsuite (scripts/install-deps)"

MODULES=${PYSUITE_MODULES:-"test_os test_posix test_shutil test_tempfile test_fileio test_glob
	test_fcntl test_stat test_genericpath test_posixpath test_filecmp test_fileinput
	test_file test_py_compile test_zipimport test_mmap test_largefile test_pathlib test_dbm
	test_logging"}

pool_start pysuite

# run_suite DIR LOG [through the pool...]: the modules with DIR as cwd and TMPDIR
run_suite() {
	local dir=$1 log=$2
	shift 2
	# SOURCE_DATE_EPOCH changes what test_py_compile expects: the same on both sides
	"$@" env -u SOURCE_DATE_EPOCH TMPDIR="$dir" bash -c 'cd "$1" && shift && exec "$@"' _ "$dir" \
		timeout -k 30 900 "$PY" -m test -v $MODULES > "$log" 2>&1 || true
}

KDIR=$WORK/kernel-tmp
[ -n "${DANAUS_TEST_CEPH_FUSE:-}" ] && KDIR=$DANAUS_TEST_CEPH_FUSE/oracle-pysuite-$$
mkdir -p "$KDIR"
in_pool mkdir -p "$MNT/tmp"
# Both sides at once, each in its own directory: the modules are mostly one
# busy thread each, so the run takes the longer side's time, not the sum.
run_suite "$KDIR" "$WORK/kernel.log" &
kpid=$!
run_suite "$MNT/tmp" "$WORK/pool.log" "$RUN_BIN" --pool "${POOL_NAME:-x}" --socket "$SOCK" --mountpoint "$MNT" --
wait "$kpid"

# The logs, for whoever reads a failure
for side in kernel pool; do
	grep -E '^(FAIL|ERROR):' "$WORK/$side.log" | sed "s/^/$side: /" | head -40 || true
done
KNOWN=$HERE/python-suite.known
[ -n "${DANAUS_TEST_CEPH_DIR:-}" ] && cat "$HERE/python-suite.known" "$HERE/ceph-python-suite.known" > "$WORK/known" && KNOWN=$WORK/known
"$PY" "$HERE/pysuite_compare.py" "$WORK/kernel.log" "$WORK/pool.log" "$KNOWN" ||
	{ tail -n 30 "$WORK/pool.log" >&2; fail "tests that pass on a kernel directory fail on the pool"; }
n=$(grep -c ' \.\.\. ok$' "$WORK/kernel.log" || true)
[ -z "${DANAUS_TEST_CEPH_FUSE:-}" ] || rm -rf "$KDIR"
# a call that slipped past the library would land in the host's placeholder (root may write there)
[ -z "$(ls -A "$MNT" 2>/dev/null)" ] || fail "files landed in the host directory behind the mountpoint: $(ls -A "$MNT" | head -5)"
[ "$n" -ge 500 ] || fail "only $n tests passed on the kernel directory: the suite did not really run"
pass "CPython's $(echo $MODULES | wc -w) file modules: every test that passes on a kernel directory passes on the pool"
