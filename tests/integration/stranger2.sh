#!/usr/bin/env bash
# Integration: a second round of calls strangers' programs make, each
# script run on a kernel directory and in a pool, the outputs compared:
# rename and link between a mount and the host's tree reached through host
# symlinks (the lookups the kernel makes before its EXDEV); O_DIRECT's
# alignment; chattr/lsattr/xfs_io; /proc/self/fdinfo; df and stat -f (an
# overlay for a union: union-apps.sh runs this with DANAUS_TEST_UNION);
# statx's birth time and attributes;
# git, rsync -aHAX, cp --sparse, tar --acls, zip, sqlite3 WAL, perl File::.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

pool_start a
# The kernel's side on another filesystem than /tmp's, as a pool is to it:
# a tmpfs mounted for the test (the kernel's EXDEV needs two mounts)
KDIR=$WORK/kernel
mkdir -p "$KDIR"
mount -t tmpfs -o mode=755 "danaus-stranger2-$$" "$KDIR" || fail "cannot mount a tmpfs to compare with"
# (a failure midway may leave immutable files, which rm -rf cannot remove)
trap 'rc=$?; set +e; umount "$KDIR" 2>/dev/null; chattr -R -i -a "$WORK" 2>/dev/null; (exit $rc); cleanup' EXIT
chmod 755 "$ROOT"
# run_both NAME: $WORK/NAME.sh on the kernel directory and in the pool, the outputs compared
run_both() {
	local name=$1
	bash "$WORK/$name.sh" "$KDIR" > "$WORK/$name.kernel" 2>&1
	in_pool bash "$WORK/$name.sh" "$MNT" > "$WORK/$name.pool" 2>&1
	sed -i "s|$KDIR|D|g" "$WORK/$name.kernel"
	sed -i "s|$MNT|D|g" "$WORK/$name.pool"
	cat "$WORK/$name.pool"
	diff "$WORK/$name.kernel" "$WORK/$name.pool"
}

# rename and link by root between a name reached through a host symlink
# into the mount and a host name: the kernel finds both directories (and
# for link the old name, and the new one free) before it answers EXDEV;
# a host symlink named last is the kernel's own file
cat > "$WORK/pair-lookups.sh" << 'SCRIPT'
tree=$1 links=$(mktemp -d /tmp/danaus-links.XXXXXX)
cd "$links" && mkdir -p "$tree/d" && echo x > "$tree/d/f" && echo h > hf
ln -s "$tree" top
python3 -c '
import os
def t(name, fn):
    try:
        fn()
        print(name, "ok")
    except OSError as e:
        print(name, e.strerror)
t("rename missing parent", lambda: os.rename("top/nope/f", "top/g"))
t("rename to missing parent", lambda: os.rename("top/d/f", "top/nope/g"))
t("rename host missing parent to pool", lambda: os.rename("nope/x", "top/g"))
t("rename host notdir parent to pool", lambda: os.rename("hf/x", "top/g"))
t("rename pool to host missing parent", lambda: os.rename("top/d/f", "nope/x"))
t("rename pool missing parent to host", lambda: os.rename("top/nope/f", "x"))
t("rename host to pool", lambda: os.rename("hf", "top/g"))
t("rename pool to host", lambda: os.rename("top/d/f", "x"))
t("link host missing to pool", lambda: os.link("nope", "top/g"))
t("link host to pool existing", lambda: os.link("hf", "top/d/f"))
t("link host to pool missing parent", lambda: os.link("hf", "top/nope/g"))
t("link pool missing to host", lambda: os.link("top/d/nope", "x"))
t("link pool to host existing", lambda: os.link("top/d/f", "hf"))
t("link pool to host missing parent", lambda: os.link("top/d/f", "nope/x"))
t("link host to pool", lambda: os.link("hf", "top/g"))
t("link pool to host", lambda: os.link("top/d/f", "x"))
# the new name is made (its length, the search right) before the mounts are compared
t("link pool to host name too long", lambda: os.link("top/d/f", "n" * 300))
t("link host to pool name too long", lambda: os.link("hf", "top/d/" + "n" * 300))
t("rename pool to host name too long", lambda: os.rename("top/d/f", "n" * 300))
# a host symlink named last is renamed or linked itself, not its target
# (coreutils tests/mv/part-symlink.sh: mv onto one renamed a file onto itself)
os.symlink(os.path.realpath("top/d/f"), "sl")
t("rename pool onto host symlink to it", lambda: os.rename("top/d/f", "sl"))
t("link pool onto host symlink to it", lambda: os.link("top/d/f", "sl"))
t("rename host symlink into pool", lambda: os.rename("sl", "top/d/g"))
t("link host symlink into pool", lambda: os.link("sl", "top/d/g"))
t("link host symlink into pool, followed", lambda: os.link("sl", "top/d/g", follow_symlinks=True))
t("rename pool onto host symlink in a pool dir", lambda: os.rename("top/d/f", "top/d/../d/f2"))
print(sorted(os.listdir("top/d")), os.path.islink("sl"))
'
cd / && rm -rf "$links"
SCRIPT
run_both pair-lookups || fail "rename or link between a mount and the host differs from the kernel's"
pass "rename and link between a mount and the host look both names up before EXDEV"

# O_DIRECT with an unaligned buffer, offset or length (open or F_SETFL;
# read, write, readv, writev; in a hole, at the end): the pool does the I/O
# with its own buffer, at the caller's place in a page, so the backend's
# kernel refuses what it would refuse the caller. The kernel's side on the
# pool's filesystem (ext4 here refuses, tmpfs would not).
mkdir -p "$WORK/kernel-direct"
python3 "$HERE/direct_io.py" "$WORK/kernel-direct" > "$WORK/direct.kernel" 2>&1
in_pool python3 "$HERE/direct_io.py" "$MNT" > "$WORK/direct.pool" 2>&1
diff "$WORK/direct.kernel" "$WORK/direct.pool" || fail "O_DIRECT in the pool differs from the kernel's"
if grep -q "Invalid argument" "$WORK/direct.kernel"; then
	pass "O_DIRECT: the alignment the backend's kernel demands, and the data ($(grep -c "Invalid argument" "$WORK/direct.kernel") refusals)"
else
	pass "O_DIRECT as the kernel's (note: $(stat -f -c %T "$WORK") refuses no alignment: the refusals went unchecked)"
fi

# chattr and lsattr (FS_IOC_SETFLAGS, and xfs_io's FS_IOC_FSSETXATTR) on a
# pool's files: the backend's filesystem decides with the caller's rights
# (the owner or CAP_FOWNER; CAP_LINUX_IMMUTABLE for +a and +i), and its
# flags then hold (an immutable file refuses writes, an append-only one
# opens for appending only). Compared on the pool's own filesystem.
mkdir -p "$WORK/kernel-fs"
cat > "$WORK/chattr.sh" << 'SCRIPT'
cd "$1" && mkdir ch && cd ch
echo a > f && echo b > g && mkdir sub && echo c > nob && chown 65534:65534 nob
ls_() { lsattr -d "$@" 2>&1 | sed 's/^\([^ ]*\) .*\/\([^/]*\)$/\1 \2/'; }
r() { "$@" 2>&1 | sed 's/^.*: //'; echo "rc=${PIPESTATUS[0]}"; }
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
echo "lsattr: $(ls_ f sub | tr '\n' ' ')"
echo "+i: $(r chattr +i f) $(ls_ f)"
echo "write to +i: $(r sh -c 'echo x >> f')"
echo "rm +i: $(r rm -f f)"
echo "-i: $(r chattr -i f) $(ls_ f)"
echo "+a: $(r chattr +a f)"
echo "append to +a: $(r sh -c 'echo y >> f')"
echo "overwrite +a: $(r sh -c 'echo z > f')"
echo "-a: $(r chattr -a f) $(cat f | tr '\n' ' ')"
echo "+d of a directory: $(r chattr +d sub) $(ls_ sub)"
echo "+A: $(r chattr +A g) $(ls_ g)"
echo "nobody +d of its own: $(r nobody chattr +d nob) $(ls_ nob)"
echo "nobody +i of its own: $(r nobody chattr +i nob)"
echo "nobody +d of another's: $(r nobody chattr +d g)"
echo "root without CAP_LINUX_IMMUTABLE +i: $(r setpriv --bounding-set -linux_immutable chattr +i g)"
echo "root without CAP_LINUX_IMMUTABLE +d: $(r setpriv --bounding-set -linux_immutable chattr +d g)"
echo "root without CAP_FOWNER, another's: $(r setpriv --bounding-set -fowner chattr -d nob)"
echo "xfs_io chattr +i: $(r xfs_io -c 'chattr +i' g) $(ls_ g)"
echo "xfs_io lsattr: $(xfs_io -r -c 'lsattr' g 2>&1 | awk '{print $1}')"
chattr -i g
echo "xfs_io nobody +i: $(r nobody xfs_io -c 'chattr +i' nob)"
# project quota state changes only from the initial user namespace (EINVAL
# elsewhere), even for the owner: a rootless container must not escape its quota
mkdir nobd && chown 65534:65534 nobd
echo "userns +P of its own directory: $(r nobody unshare -U -r chattr +P nobd) $(ls_ nobd)"
echo "userns chproj of its own: $(r nobody unshare -U -r xfs_io -c 'chproj 9' nob)"
echo "userns +d of its own directory: $(r nobody unshare -U -r chattr +d nobd) $(ls_ nobd)"
echo "+P of its own directory: $(r nobody chattr +P nobd) $(ls_ nobd)"
echo "userns -P of its own directory: $(r nobody unshare -U -r chattr -P nobd) $(ls_ nobd)"
echo "userns -d, +P kept: $(r nobody unshare -U -r chattr -d nobd) $(ls_ nobd)"
python3 -c '
import fcntl, os
fd = os.open("g", os.O_RDONLY)
for name, arg in (("every flag", b"\xff\xff\xff\xff"), ("bad pointer", 0)):
    try:
        fcntl.ioctl(fd, 0x40086602, arg)
        print("setflags", name, "ok")
    except OSError as e:
        print("setflags", name, e.strerror)
'
echo "final: $(ls_ f g sub nob nobd | tr '\n' ' ')"
chattr -i -a f g nob 2>/dev/null
SCRIPT
bash "$WORK/chattr.sh" "$WORK/kernel-fs" > "$WORK/chattr.kernel" 2>&1
in_pool bash "$WORK/chattr.sh" "$MNT" > "$WORK/chattr.pool" 2>&1
cat "$WORK/chattr.pool"
diff "$WORK/chattr.kernel" "$WORK/chattr.pool" || fail "chattr on pool files differs from the kernel's"
grep -q "^+i: rc=0" "$WORK/chattr.pool" || fail "chattr +i by root failed in the pool"
pass "chattr +i/+a/+d/+A and xfs_io's FSSETXATTR: the backend decides with the caller's rights"

# /proc/self/fdinfo/N of a pool fd: the open file's offset and flags
# (close-on-exec, F_SETFL, O_APPEND), its inode and a mount id, where the
# kernel's would describe the placeholder
cat > "$WORK/fdinfo.sh" << 'SCRIPT'
cd "$1" && printf 'hello world\n' > f && mkdir -p d
python3 -c '
import os, fcntl
def info(fd):
    d = dict(l.split(":\t") for l in open("/proc/self/fdinfo/%d" % fd).read().splitlines() if ":\t" in l)
    return "pos %s flags %s ino %s mnt_id %s" % (d["pos"], d["flags"], int(d["ino"]) == os.fstat(fd).st_ino,
                                                 d["mnt_id"].isdigit())
fd = os.open("f", os.O_RDWR | os.O_APPEND)
os.lseek(fd, 5, os.SEEK_SET)
print("O_RDWR|O_APPEND at 5:", info(fd))
fcntl.fcntl(fd, fcntl.F_SETFD, 0)
print("without close-on-exec:", info(fd))
fcntl.fcntl(fd, fcntl.F_SETFL, os.O_NONBLOCK)
print("F_SETFL O_NONBLOCK:", info(fd))
fd2 = os.open("f", os.O_RDONLY | os.O_NOFOLLOW)
os.read(fd2, 3)
print("O_RDONLY after a read of 3:", info(fd2))
print("a directory:", info(os.open("d", os.O_RDONLY | os.O_DIRECTORY)))
print("a dup:", info(os.dup(fd2)))
'
echo "cat: $(exec 3<f; grep -E '^(pos|flags)' /proc/self/fdinfo/3 | tr '\n\t' '  ')"
SCRIPT
run_same_fs() {
	local name=$1
	bash "$WORK/$name.sh" "$WORK/kernel-fs" > "$WORK/$name.kernel" 2>&1
	in_pool bash "$WORK/$name.sh" "$MNT" > "$WORK/$name.pool" 2>&1
	sed -i "s|$WORK/kernel-fs|D|g" "$WORK/$name.kernel"
	sed -i "s|$MNT|D|g" "$WORK/$name.pool"
	cat "$WORK/$name.pool"
	diff "$WORK/$name.kernel" "$WORK/$name.pool"
}
run_same_fs fdinfo || fail "/proc/self/fdinfo of a pool fd differs from the kernel's of a kernel fd"
pass "/proc/self/fdinfo/N of a pool fd: its offset, flags and inode"

# df and stat -f: a union is an overlay (df's type and mountpoint come from
# the mount table, its device from the union's st_dev); a plain local pool
# shows the host filesystem it is on, as a kernel directory there does
cat > "$WORK/df.sh" << 'SCRIPT'
cd "$1" && echo x > f
echo "df: $(df --output=fstype,target "$1" | tail -1)"
echo "df of a file: $(df --output=fstype,target f | tail -1)"
echo "stat -f: $(stat -f -c '%t %T' "$1")"
echo "findmnt: $(findmnt -n -o FSTYPE,TARGET -T "$1/f")"
SCRIPT
if [ -n "${DANAUS_TEST_UNION:-}" ]; then
	ovl=$WORK/ovl-df
	mkdir -p "$ovl/lower" "$ovl/upper" "$ovl/work" "$ovl/mnt"
	mount -t overlay "danaus-df-$$" -o "lowerdir=$ovl/lower,upperdir=$ovl/upper,workdir=$ovl/work" \
		"$ovl/mnt" || fail "cannot mount a kernel overlay to compare df with"
	bash "$WORK/df.sh" "$ovl/mnt" > "$WORK/df.kernel" 2>&1
	umount "$ovl/mnt"
	in_pool bash "$WORK/df.sh" "$MNT" > "$WORK/df.pool" 2>&1
	sed -i "s|$ovl/mnt|D|g" "$WORK/df.kernel"
	sed -i "s|$MNT|D|g" "$WORK/df.pool"
	cat "$WORK/df.pool"
	diff "$WORK/df.kernel" "$WORK/df.pool" || fail "df of a union pool differs from a kernel overlay's"
	grep -q "^df: overlay D" "$WORK/df.pool" || fail "df names no overlay at the union's mountpoint"
else
	run_same_fs df || fail "df of a pool differs from a kernel directory's on its filesystem"
fi
pass "df, stat -f and findmnt of a pool as of the kernel's (an overlay for a union)"

# statx's birth time (given when asked, as ext4 gives it) and attributes
# (chattr's append-only flag among them) of files, a directory, a symlink
# and an fd, as the pool's filesystem tells them; through a union, as a
# kernel overlay tells them (the real file's, under the overlay's number)
cat > "$WORK/btime.py" << 'PYEOF'
import ctypes, os, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
class TS(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_int64), ("nsec", ctypes.c_uint32), ("r", ctypes.c_int32)]
class STX(ctypes.Structure):
    _fields_ = [("mask", ctypes.c_uint32), ("blksize", ctypes.c_uint32), ("attributes", ctypes.c_uint64),
                ("nlink", ctypes.c_uint32), ("uid", ctypes.c_uint32), ("gid", ctypes.c_uint32),
                ("mode", ctypes.c_uint16), ("pad", ctypes.c_uint16), ("ino", ctypes.c_uint64),
                ("size", ctypes.c_uint64), ("blocks", ctypes.c_uint64), ("amask", ctypes.c_uint64),
                ("atime", TS), ("btime", TS), ("ctime", TS), ("mtime", TS), ("rest", ctypes.c_uint8 * 160)]
def sx(dirfd, name, flags, mask):
    s = STX()
    if libc.statx(dirfd, name, flags, mask, ctypes.byref(s)) < 0:
        return None
    return s
os.chdir(sys.argv[1])
open("bt", "w").write("x")
os.mkdir("btd")
os.symlink("bt", "btl")
subprocess.run(["chattr", "+a", "bt"])
for name, flags in (("bt", 0), ("btd", 0), ("btl", 0x100), ("btl", 0)):
    for mask in (0x7ff, 0xfff):  # basic stats; and STATX_BTIME too
        s = sx(-100, name.encode(), flags, mask)
        print(name, hex(flags), hex(mask), "btime", bool(s.mask & 0x800),
              "set", 0 < s.btime.sec <= s.ctime.sec, "attributes", hex(s.attributes), "mask", hex(s.amask))
fd = os.open("bt", os.O_RDONLY)
s = sx(fd, b"", 0x1000, 0xfff)
print("fd btime", bool(s.mask & 0x800), "attributes", hex(s.attributes), "mask", hex(s.amask))
subprocess.run(["chattr", "-a", "bt"])
print("stat %W set:", subprocess.run(["stat", "-c", "%W", "bt"], capture_output=True, text=True).stdout.strip() != "0")
PYEOF
printf 'python3 "%s" "$1"\n' "$WORK/btime.py" > "$WORK/btime.sh"
if [ -n "${DANAUS_TEST_UNION:-}" ]; then
	ovl=$WORK/ovl-btime
	mkdir -p "$ovl/lower" "$ovl/upper" "$ovl/work" "$ovl/mnt"
	mount -t overlay "danaus-btime-$$" -o "lowerdir=$ovl/lower,upperdir=$ovl/upper,workdir=$ovl/work" \
		"$ovl/mnt" || fail "cannot mount a kernel overlay to compare statx with"
	bash "$WORK/btime.sh" "$ovl/mnt" > "$WORK/btime.kernel" 2>&1
	umount "$ovl/mnt"
	in_pool bash "$WORK/btime.sh" "$MNT" > "$WORK/btime.pool" 2>&1
	cat "$WORK/btime.pool"
	diff "$WORK/btime.kernel" "$WORK/btime.pool" ||
		fail "statx's birth time or attributes through a union differ from a kernel overlay's"
	grep -q "^bt 0x0 0xfff btime True set True attributes 0x20" "$WORK/btime.pool" ||
		fail "the union tells no birth time or append-only attribute: nothing was compared"
	pass "statx through a union: the birth time and attributes a kernel overlay tells"
else
	run_same_fs btime || fail "statx's birth time or attributes in the pool differ from the kernel's"
	grep -q "^bt 0x0 0xfff btime True set True attributes 0x20" "$WORK/btime.pool" ||
		fail "the pool's filesystem tells no birth time or append-only attribute: nothing was compared"
	pass "statx: the birth time and attributes of the pool's filesystem"
fi

# Real programs' own round trips, each printed as they report it: git
# worktree/stash/merge/gc --aggressive/fsck --strict, rsync -aHAX (ACLs,
# xattrs, hard links, a sparse file), cp -a --sparse=always, tar --acls
# --xattrs, zip/unzip -t, sqlite3 in WAL mode with a checkpoint and VACUUM,
# perl's File::Copy/Temp/Find/Path
cat > "$WORK/tools.sh" << 'SCRIPT'
cd "$1" || exit 1
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t
export GIT_AUTHOR_DATE='2020-01-01T00:00:00Z' GIT_COMMITTER_DATE='2020-01-01T00:00:00Z'
mkdir src && cd src
for i in 1 2 3; do seq $((i * 1000)) > "f$i"; done
mkdir sub && echo deep > sub/x && ln -s f1 link && ln f2 hard
truncate -s 1M sparse && printf 'data' | dd of=sparse bs=1 seek=500000 conv=notrunc status=none
setfacl -m u:65534:r f1 && python3 -c 'import os; os.setxattr("f3", "user.k", b"v")'
cd ..
echo "== git worktree, stash, gc --aggressive, fsck"
git init -q repo && cd repo && cp ../src/f1 ../src/f2 . && git add . && git commit -qm one
git worktree add -q ../wt -b side 2>&1
(cd ../wt && echo side >> f1 && git commit -qam side && git log --format=%s | tr '\n' ' '; echo)
echo change >> f2 && git stash -q && echo "stashed: $(git stash list | wc -l) clean: $(git status --short | wc -l)"
git stash pop -q && echo "popped: $(git status --short | tr '\n' ' ')"
git merge -q side -m merge 2>&1 && echo "merged: $(git log --format=%s | tr '\n' ' ')"
git gc -q --aggressive --prune=now && git fsck --full --strict 2>&1 && echo "fsck ok: $(git count-objects -v | grep -E '^(count|packs)' | tr '\n' ' ')"
git worktree remove ../wt && git worktree prune && echo "worktrees: $(git worktree list | wc -l)"
cd ..
echo "== rsync -aHAX"
rsync -aHAX src/ rs/ 2>&1 && echo "rsync: $(cd rs && ls -l --time-style=+ . | awk '{print $1, $2, $NF}' | tr '\n' ' ')"
echo "  acl: $(getfacl -cpn rs/f1 2>/dev/null | tr '\n' ' ') xattr: $(python3 -c 'import os; print(os.getxattr("rs/f3", "user.k"))' 2>&1)"
echo "  hard links: $(stat -c %h rs/f2 rs/hard | tr '\n' ' ')same inode: $([ rs/f2 -ef rs/hard ] && echo yes || echo no)"
rsync -aHAX --checksum --itemize-changes src/ rs/ | wc -l
echo "== cp -a --sparse=always"
cp -a --sparse=always src/sparse sp && echo "cp: $(stat -c '%s' sp) same: $(cmp src/sparse sp && echo yes) sparse: $([ "$(stat -c %b sp)" -lt 100 ] && echo yes || echo "no ($(stat -c %b sp))")"
cp -a src cpa && echo "cp -a: $(diff -r src cpa && echo same) acl: $(getfacl -cpn cpa/f1 2>/dev/null | grep -c 65534)"
echo "== tar --acls --xattrs"
tar --acls --xattrs -cf t.tar -C src . && mkdir tx && tar --acls --xattrs -xf t.tar -C tx && echo "tar: $(diff -r src tx && echo same) acl: $(getfacl -cpn tx/f1 2>/dev/null | grep -c 65534) xattr: $(python3 -c 'import os; print(os.getxattr("tx/f3", "user.k"))' 2>&1)"
echo "== zip, unzip"
(cd src && zip -qry ../z.zip .) && mkdir uz && unzip -q z.zip -d uz && echo "zip: $(diff -r src uz && echo same) test: $(unzip -tq z.zip)"
echo "== sqlite3 WAL"
sqlite3 db.sqlite 'PRAGMA journal_mode=WAL; CREATE TABLE t(a, b); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 2000) INSERT INTO t SELECT x, randomblob(100) FROM c;' 
echo "wal: $(ls db.sqlite* | tr '\n' ' ')"
sqlite3 db.sqlite 'PRAGMA wal_checkpoint(TRUNCATE); PRAGMA integrity_check; SELECT count(*), sum(a) FROM t;' | tr '\n' ' '; echo
sqlite3 db.sqlite 'BEGIN; DELETE FROM t WHERE a % 2; COMMIT; VACUUM; PRAGMA integrity_check; SELECT count(*) FROM t;' | tr '\n' ' '; echo
echo "== perl File::"
perl -MFile::Copy -MFile::Temp=tempfile,tempdir -MFile::Find -MFile::Path=make_path,remove_tree -e '
my $d = tempdir(DIR => ".", CLEANUP => 0);
make_path("$d/a/b/c") or die; copy("src/f1", "$d/a/b/c/f") or die "copy: $!";
move("$d/a/b/c/f", "$d/a/g") or die "move: $!";
my ($fh, $name) = tempfile(DIR => "$d/a"); print $fh "x" x 10; close $fh;
my $bn = $name =~ s{.*/}{}r;
my @found; find(sub { push @found, $File::Find::name =~ s/^\Q$d\E//r =~ s/\Q$bn\E/TMP/r }, $d);
print join(" ", sort @found), "\n";
print "sizes: ", -s "$d/a/g", " ", -s $name, "\n";
remove_tree($d); print "removed: ", (-e $d ? "no" : "yes"), "\n";' 2>&1
SCRIPT
run_same_fs tools || fail "git, rsync, cp, tar, zip, sqlite3 or perl in a pool differ from a kernel directory"
pass "git worktree/stash/gc/fsck, rsync -aHAX, cp -a --sparse=always, tar --acls, zip, sqlite3 WAL, perl File::"

# A program that sets LD_PRELOAD for what it runs (git's test-lib preloads
# libc_malloc_debug.so.0) but keeps the pool's variables: its children see
# the mount as on a kernel one, and the environment they were given
cat > "$WORK/preload.sh" << 'SCRIPT'
cd "$1" && echo data > f
LD_PRELOAD=libc_malloc_debug.so.0 sh -c 'cat f; echo "LD_PRELOAD=$LD_PRELOAD"; env | grep -c DANAUS_PRELOAD'
LD_PRELOAD= sh -c 'cat f; echo "empty: [$LD_PRELOAD]"'
(unset LD_PRELOAD; sh -c 'cat f; echo "unset: ${LD_PRELOAD-yes}"')
# (an image that never reached the pool before its exec)
LD_PRELOAD=libc_malloc_debug.so.0 bash -c 'exec cat "$1/f"' _ "$1"
python3 -c 'import os, subprocess; e = dict(os.environ, LD_PRELOAD="libc_malloc_debug.so.0"); print(subprocess.run(["cat", "f"], env=e, capture_output=True, text=True).stdout.strip())'
SCRIPT
run_same_fs preload || fail "a child given another LD_PRELOAD sees a pool otherwise than a kernel directory"
grep -q "^LD_PRELOAD=libc_malloc_debug.so.0$" "$WORK/preload.pool" || fail "nothing was compared"
pass "a child given other preloads keeps the pool, and sees the LD_PRELOAD it was given"

# dup2 and dup3 of a pool fd to a negative or too large one: EBADF (gnulib's
# configure test of dup2 found a pool's dup2(2, -1) succeeding and replaced
# dup2 in a coreutils built in a pool)
cat > "$WORK/dup2.sh" << 'SCRIPT'
cd "$1" && echo x > f
python3 -c '
import ctypes, os, resource
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open("f", os.O_RDONLY)
big = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
for name, call in (("dup2 -1", lambda: libc.dup2(fd, -1)), ("dup3 -1", lambda: libc.dup3(fd, -1, 0)),
                   ("dup2 rlimit", lambda: libc.dup2(fd, big)), ("dup3 -1 cloexec", lambda: libc.dup3(fd, -1, os.O_CLOEXEC)),
                   ("F_DUPFD -1", lambda: libc.fcntl(fd, 0, -1))):
    r = call()
    print(name, r, os.strerror(ctypes.get_errno()) if r < 0 else "")
'
SCRIPT
run_same_fs dup2 || fail "dup2/dup3 of a pool fd to a bad fd differs from the kernel's"
grep -q "^dup2 -1 -1 Bad file descriptor" "$WORK/dup2.pool" || fail "nothing was compared"
pass "dup2 and dup3 of a pool fd to a bad descriptor: EBADF, as the kernel"
