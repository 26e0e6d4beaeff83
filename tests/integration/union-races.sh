#!/usr/bin/env bash
# Integration (union): calls that race on one name from several processes
# at once, through a union with lower files, compared with the same races on
# a kernel directory: O_CREAT without O_EXCL of a name another process
# creates (never EEXIST: two SQLite connections opening a new -wal once
# failed so), creates of different names in a directory only a lower layer
# has (its copy-up), writers of one lower file (one copy-up, no write lost),
# and mkdir -p of one path.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

command -v python3 > /dev/null || fail "python3 is needed"
ROUNDS=${ROUNDS:-50}
export DANAUS_TEST_UNION=1
# the lower layer (lib.sh's union pool reads it from here) and a kernel twin
lower="$WORK/u/backend/lower"
mkdir -p "$lower" "$WORK/plain"
for top in "$lower" "$WORK/plain"; do
	for r in $(seq 0 $((ROUNDS - 1))); do
		mkdir -p "$top/d$r"
		printf 'lower %s\n' "$r" > "$top/d$r/f"
	done
done
chmod -R a+rX "$WORK/u" "$WORK/plain"
pool_start u

cat > "$WORK/races.py" << 'PY'
import os, sys

top, rounds = sys.argv[1], int(sys.argv[2])
KIDS = 4

def race(what, fn):
    """fn(round, kid) in KIDS processes at once, each round; prints what failed"""
    failed = 0
    for r in range(rounds):
        rd, wr = os.pipe()
        pids = []
        for k in range(KIDS):
            pid = os.fork()
            if pid == 0:
                os.close(wr)
                os.read(rd, 1)  # all start at once
                try:
                    fn(r, k)
                    os._exit(0)
                except OSError as e:
                    print(what, "round", r, "kid", k, e.strerror, flush=True)
                    os._exit(1)
            pids.append(pid)
        os.close(rd)
        os.close(wr)
        for p in pids:
            failed += os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) != 0
    print(what, "failed:", failed, flush=True)

def creat(r, k):
    os.close(os.open("%s/new%d" % (top, r), os.O_RDWR | os.O_CREAT, 0o644))

def creat_lower_dir(r, k):
    os.close(os.open("%s/d%d/kid%d" % (top, r, k), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))

def append_lower(r, k):
    fd = os.open("%s/d%d/f" % (top, r), os.O_WRONLY | os.O_APPEND)
    os.write(fd, b"kid %d\n" % k)
    os.close(fd)

def mkdir_p(r, k):
    os.makedirs("%s/d%d/a/b/c" % (top, r), exist_ok=True)

race("open O_CREAT of one new name", creat)
race("create in a lower directory", creat_lower_dir)
race("append to a lower file", append_lower)
race("mkdir -p of one path", mkdir_p)
for r in range(rounds):
    names = sorted(os.listdir("%s/d%d" % (top, r)))
    with open("%s/d%d/f" % (top, r)) as f:
        lines = sorted(f.read().splitlines())
    if names != ["a", "f"] + ["kid%d" % k for k in range(KIDS)] or \
       lines != ["kid %d" % k for k in range(KIDS)] + ["lower %d" % r]:
        print("round", r, "left", names, lines)
print("checked", rounds, "rounds")
PY
python3 "$WORK/races.py" "$WORK/plain" "$ROUNDS" > "$WORK/plain.out" 2>&1 || fail "the races on a kernel directory: $(cat "$WORK/plain.out")"
in_pool python3 "$WORK/races.py" "$MNT" "$ROUNDS" > "$WORK/union.out" 2>&1 || true
cat "$WORK/union.out"
diff -u "$WORK/plain.out" "$WORK/union.out" || fail "racing calls through the union differ from the kernel directory"
pass "$ROUNDS rounds of 4 processes racing on one name: creates, copy-ups, appends, mkdir -p as on the kernel"
