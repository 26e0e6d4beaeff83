#!/usr/bin/env bash
# Integration: bad pointers from the caller (NULL, 0xdeadc0de, a PROT_NONE
# page, a string or buffer cut off by one, a read-only page for what is
# written) to every interposed call answer as without the library, reads and
# writes of a buffer accessible in part move as many bytes, and the
# program's own SIGSEGV handlers stay its own.
# The oracle is test-efault on kernel directories without the library.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
BIN="$DANAUS_BUILD/tests/integration/test-efault"

POOL_NAME=efault
pool_start efault
mkdir -p "$WORK/plain" "$WORK/host-plain" "$WORK/host-danaus"

timeout 300 "$BIN" "$WORK/plain" "$WORK/host-plain" > "$WORK/out.plain" 2>&1 ||
	{ cat "$WORK/out.plain" >&2; fail "test-efault failed on the kernel directory"; }
timeout 300 "$RUN_BIN" --pool efault --socket "$SOCK" --mountpoint "$MNT" -- \
	"$BIN" "$MNT" "$WORK/host-danaus" > "$WORK/out.danaus" 2>&1 || true

# Cases known to differ (none now): a case that starts to pass must leave the list.
PENDING="$HERE/efault.pending"

python3 - "$WORK/out.plain" "$WORK/out.danaus" "$PENDING" <<'PYEOF'
import sys

def load(path):
    out = {}
    for line in open(path):
        line = line.rstrip("\n")
        key, sep, value = line.partition(": ")
        out[key] = value if sep else ""
    return out

plain, danaus = load(sys.argv[1]), load(sys.argv[2])
pending = {l.split()[0] for l in open(sys.argv[3]) if l.strip() and not l.startswith("#")}
bad = checked = xfail = 0
for key, want in plain.items():
    # A Danaus file whose call glibc would crash in: never a crash, EFAULT.
    if key.startswith("DIR/") and want.startswith("killed by"):
        want = "-1 EFAULT"
    got = danaus.get(key, "(missing)")
    checked += 1
    if key in pending:
        if got == want:
            print("XPASS: %s: %s (remove it from efault.pending)" % (key, got))
            bad += 1
        else:
            xfail += 1
        continue
    if got != want:
        print("FAIL: %s: want %s, got %s" % (key, want, got))
        bad += 1
for key in pending - set(plain):
    print("FAIL: efault.pending names %s, which the test does not run" % key)
    bad += 1
print("%d cases, %d differ, %d pending (efault.pending)" % (checked, bad, xfail))
sys.exit(1 if bad else 0)
PYEOF
[ $? -eq 0 ] || { tail -5 "$WORK/out.danaus" >&2; fail "bad pointers answered differently with the library"; }
grep -qx done "$WORK/out.danaus" || fail "test-efault did not finish under the library"
pass "bad pointers: every call answers as the kernel (and glibc) do"
