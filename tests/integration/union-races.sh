#!/usr/bin/env bash
# Integration (union): calls that race on one name from 4 processes at
# once, through a union with lower files, compared with the same races on a
# kernel directory: O_CREAT without O_EXCL of a name another process creates
# (never EEXIST: two SQLite connections opening a new -wal once failed so),
# creates in a directory only a lower layer has (its copy-up), appends to
# one lower file (one copy-up, no write lost), mkdir -p of one path, renames
# onto a lower name, and of one lower file to 4 names, unlinks and rmdirs of
# one lower name (one wins, the others get ENOENT), an unlink of a lower
# file others open to write (the name stays gone) or with O_CREAT (they
# never get ENOENT), and rmdirs of a lower directory others chmod (it stays
# gone) or create files in (the rmdir loses, or the creates do), and a link
# of a lower file others unlink (one unlink wins).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

command -v python3 > /dev/null || fail "python3 is needed"
ROUNDS=${ROUNDS:-50}
export DANAUS_TEST_UNION=1
# the lower layer (lib.sh's union pool reads it from here) and a kernel twin
lower=$(union_lower u)
mkdir -p "$lower" "$WORK/plain"
for top in "$lower" "$WORK/plain"; do
	for r in $(seq 0 $((ROUNDS - 1))); do
		mkdir -p "$top/d$r"
		printf 'lower %s\n' "$r" > "$top/d$r/f"
		printf 'lower %s\n' "$r" > "$top/d$r/g"
		printf 'lower %s\n' "$r" > "$top/d$r/h"
		printf 'lower %s\n' "$r" > "$top/d$r/i"
		printf 'lower %s\n' "$r" > "$top/d$r/j"
		printf 'lower %s\n' "$r" > "$top/d$r/x"
		printf 'lower %s\n' "$r" > "$top/d$r/l"
		mkdir "$top/d$r/m" "$top/d$r/n"
		mkdir "$top/d$r/e"
	done
done
chmod -R a+rX "$lower" "$WORK/plain"
pool_start u

cat > "$WORK/races.py" << 'PY'
import errno, os, sys

top, rounds = sys.argv[1], int(sys.argv[2])
KIDS = 4

def race(what, fn):
    """fn(round, kid) in KIDS processes at once, each round; prints how
    many calls failed with which errno (the kernel's counts are exact: one
    unlink of a name wins, the others find it gone)"""
    errors = {}
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
                    os._exit(e.errno if 0 < e.errno < 256 else 255)
            pids.append(pid)
        os.close(rd)
        os.close(wr)
        for p in pids:
            code = os.waitstatus_to_exitcode(os.waitpid(p, 0)[1])
            if code:
                name = errno.errorcode.get(code, str(code))
                errors[name] = errors.get(name, 0) + 1
    print(what, "failed:", sorted(errors.items()) or "none", flush=True)

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

def rename_onto_lower(r, k):
    tmp = "%s/d%d/tmp%d" % (top, r, k)
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    os.rename(tmp, "%s/d%d/g" % (top, r))

def rename_lower_away(r, k):
    os.rename("%s/d%d/i" % (top, r), "%s/d%d/i%d" % (top, r, k))

def unlink_while_written(r, k):
    """kid 0 unlinks a lower file the others open to write (a copy-up):
    whatever the order, the name is gone after the unlink"""
    p = "%s/d%d/j" % (top, r)
    if k == 0:
        os.unlink(p)
        return
    try:
        fd = os.open(p, os.O_WRONLY | os.O_APPEND)
    except FileNotFoundError:
        return
    os.write(fd, b"kid %d\n" % k)
    os.close(fd)

def unlink_while_created(r, k):
    """kid 0 unlinks a lower file the others open with O_CREAT: they
    open it or create it anew, never ENOENT"""
    p = "%s/d%d/x" % (top, r)
    if k == 0:
        os.unlink(p)
    else:
        os.close(os.open(p, os.O_WRONLY | os.O_CREAT, 0o644))

def rmdir_while_chmodded(r, k):
    """kid 0 removes a lower directory the others chmod (a copy-up): it is
    gone after, whatever the order"""
    p = "%s/d%d/m" % (top, r)
    if k == 0:
        os.rmdir(p)
        return
    try:
        os.chmod(p, 0o750)
    except FileNotFoundError:
        pass

def rmdir_while_filled(r, k):
    """kid 0 removes a lower directory the others create files in: either
    the rmdir fails (ENOTEMPTY) and their files stay, or it wins and they
    get ENOENT"""
    p = "%s/d%d/n" % (top, r)
    if k == 0:
        try:
            os.rmdir(p)
        except OSError as e:
            if e.errno != errno.ENOTEMPTY:
                raise
        return
    try:
        os.close(os.open("%s/kid%d" % (p, k), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    except FileNotFoundError:
        pass

def link_while_unlinked(r, k):
    """kid 0 links a lower file (a copy-up) the others unlink: one unlink
    wins, whatever the order (the link's own result depends on it)"""
    p = "%s/d%d/l" % (top, r)
    if k == 0:
        try:
            os.link(p, p + "k")
        except FileNotFoundError:
            pass
        return
    try:
        os.unlink(p)
    except FileNotFoundError:
        with open("%s/d%d/l-lost-%d" % (top, r, k), "w"):
            pass

def unlink_lower(r, k):
    os.unlink("%s/d%d/h" % (top, r))

def rmdir_lower(r, k):
    os.rmdir("%s/d%d/e" % (top, r))

race("open O_CREAT of one new name", creat)
race("create in a lower directory", creat_lower_dir)
race("append to a lower file", append_lower)
race("mkdir -p of one path", mkdir_p)
race("rename onto a lower name", rename_onto_lower)
race("rename of a lower name to 4 names", rename_lower_away)
race("unlink of a lower name", unlink_lower)
race("unlink of a lower file being written", unlink_while_written)
race("rmdir of a lower directory", rmdir_lower)
race("unlink of a lower file opened with O_CREAT", unlink_while_created)
race("rmdir of a lower directory being chmodded", rmdir_while_chmodded)
race("rmdir of a lower directory being filled", rmdir_while_filled)
race("link of a lower file being unlinked", link_while_unlinked)
for r in range(rounds):
    names = sorted(n for n in os.listdir("%s/d%d" % (top, r)) if n in ("a", "f", "g") or n.startswith("kid"))
    moved = [n for n in os.listdir("%s/d%d" % (top, r)) if n.startswith("i")]
    if os.path.lexists("%s/d%d/j" % (top, r)):
        print("round", r, "an unlinked file is back")
    lost = [n for n in os.listdir("%s/d%d" % (top, r)) if n.startswith("l-lost-")]
    if len(lost) != KIDS - 2 or os.path.lexists("%s/d%d/l" % (top, r)):
        print("round", r, "unlinks that found the linked file gone:", len(lost), "of", KIDS - 1)
    if os.path.lexists("%s/d%d/m" % (top, r)):
        print("round", r, "a removed directory is back")
    filled = os.path.isdir("%s/d%d/n" % (top, r)) and sorted(os.listdir("%s/d%d/n" % (top, r)))
    if filled not in (False, ["kid%d" % k for k in range(1, KIDS)]):
        print("round", r, "after rmdir and creates, the directory holds", filled)
    with open("%s/d%d/f" % (top, r)) as f:
        lines = sorted(f.read().splitlines())
    if names != ["a", "f", "g"] + ["kid%d" % k for k in range(KIDS)] or \
       lines != ["kid %d" % k for k in range(KIDS)] + ["lower %d" % r]:
        print("round", r, "left", names, lines)
    if len(moved) != 1:
        print("round", r, "the renamed lower file is", moved)
print("checked", rounds, "rounds")
PY
python3 "$WORK/races.py" "$WORK/plain" "$ROUNDS" > "$WORK/plain.out" 2>&1 || fail "the races on a kernel directory: $(cat "$WORK/plain.out")"
in_pool python3 "$WORK/races.py" "$MNT" "$ROUNDS" > "$WORK/union.out" 2>&1 || true
cat "$WORK/union.out"
diff -u "$WORK/plain.out" "$WORK/union.out" || fail "racing calls through the union differ from the kernel directory"
pass "$ROUNDS rounds of 4 processes racing on one name (creates, copy-ups, renames, removals) as on the kernel"
