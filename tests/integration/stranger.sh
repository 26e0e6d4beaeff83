#!/usr/bin/env bash
# Integration: calls strangers' programs make that earlier tests left out,
# each line against the same script on a kernel directory: /proc/self/cwd
# (and /proc/PID/cwd, /proc/thread-self/cwd) of a process working in a
# pool; chown, utimensat and the xattr calls through host symlinks into a
# mount; fwide; lseek of a directory to its end; linkat with AT_EMPTY_PATH;
# programs (make, cc, tar, find, sort, sed, git...).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

pool_start a
mkdir -p "$WORK/kernel"
chmod 755 "$ROOT" "$WORK/kernel"
# run_both NAME: $WORK/NAME.sh on the kernel directory and in the pool, the outputs compared
run_both() {
	local name=$1
	bash "$WORK/$name.sh" "$WORK/kernel" > "$WORK/$name.kernel" 2>&1
	in_pool bash "$WORK/$name.sh" "$MNT" > "$WORK/$name.pool" 2>&1
	sed -i "s|$WORK/kernel|D|g" "$WORK/$name.kernel"
	sed -i "s|$MNT|D|g" "$WORK/$name.pool"
	cat "$WORK/$name.pool"
	diff "$WORK/$name.kernel" "$WORK/$name.pool"
}

# /proc/self/cwd of a process working in a pool names its working
# directory there (the kernel's magic link leads to the placeholder)
cat > "$WORK/proc-cwd.sh" << 'SCRIPT'
cd "$1" && mkdir -p sub && echo hi > sub/f && cd sub
echo "cat: $(cat /proc/self/cwd/f 2>&1 | sed 's/^.*: //')"
python3 -c '
import os
def read(p):
    try:
        return open(p).read().strip()
    except OSError as e:
        return e.strerror
print("pid:", read("/proc/%d/cwd/f" % os.getpid()), "thread-self:", read("/proc/thread-self/cwd/f"))
fd = os.open(".", os.O_RDONLY)
print("fd dir:", read("/proc/self/fd/%d/f" % fd), sorted(os.listdir("/proc/self/fd/%d/" % fd)))
print("lstat:", oct(os.lstat("/proc/self/cwd").st_mode >> 12), "stat:", oct(os.stat("/proc/self/cwd/").st_mode >> 12))
'
echo "ls: $(ls /proc/self/cwd/ | tr '\n' ' ')"
echo new > /proc/self/cwd/g && echo "create: $(cat g)"
echo "stat: $(stat -L -c '%F %s' /proc/self/cwd/f /proc/self/cwd 2>&1 | sed 's/^.*: //' | tr '\n' ' ')"
echo "readlink: $(readlink /proc/self/cwd)"
echo "parent: $(ls /proc/self/cwd/.. 2>&1)"
echo "missing: $(cat /proc/self/cwd/nope 2>&1 | sed 's/^.*: //')"
rm /proc/self/cwd/g && echo "rm: $(ls)"
SCRIPT
run_both proc-cwd || fail "/proc/self/cwd of a process working in a pool differs from the kernel's"
pass "/proc/self/cwd, /proc/PID/cwd and /proc/thread-self/cwd name the working directory in the pool"

# chown, utimensat (no-follow too) and the xattr calls through host links into a mount
cat > "$WORK/host-links.sh" << 'SCRIPT'
tree=$1 links=$(mktemp -d /tmp/danaus-links.XXXXXX)
cd "$links" && mkdir -p "$tree/d" && echo x > "$tree/d/f"
ln -s "$tree" top && ln -s "$tree/d" l
chown 1:1 l/f; echo "chown: $(stat -c %u:%g "$tree/d/f")"
chown -h 2:2 l/f; echo "lchown: $(stat -c %u:%g "$tree/d/f")"
chown 3:3 top/d; echo "chown top/d: $(stat -c %u:%g "$tree/d")"
touch -h -d '2002-02-03 04:05:06' top/d/f; echo "utimensat nofollow: $(stat -c %y "$tree/d/f" | cut -c1-19)"
python3 -c '
import os
os.setxattr("l/f", "user.k", b"v"); print("setxattr:", os.getxattr("l/f", "user.k"), os.listxattr("l/f"))
os.setxattr("l/f", "user.j", b"w", follow_symlinks=False)
print("lsetxattr:", os.getxattr("l/f", "user.j", follow_symlinks=False), sorted(os.listxattr("l/f", follow_symlinks=False)))
os.removexattr("l/f", "user.j"); print("removexattr:", os.listxattr("l/f"))
os.chown("top/d/f", 4, 4); print("os.chown:", os.stat("top/d/f").st_uid)
os.utime("top/d/f", (5, 5)); print("os.utime:", os.stat("top/d/f").st_mtime)
try:
    os.getxattr("l/nope", "user.k")
except OSError as e:
    print("missing:", e.strerror)
' 2>&1
echo "utimes: $(perl -e 'print utime(7, 7, "l/f") ? (stat "l/f")[9] : $!')"
cd / && rm -rf "$links"
SCRIPT
run_both host-links || fail "chown, utimensat or xattr calls through host links into a mount differ from the kernel's"
pass "chown, utimensat and xattr calls through host symlinks into a mount act in the pool"

# fwide on the library's streams: a wide call orients a stream wide, a
# byte call byte, and the first orientation stays (glibc's rule)
cat > "$WORK/fwide.sh" << 'SCRIPT'
cd "$1" && echo hello > f
python3 -c '
import ctypes
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
def fopen(name, mode):
    return ctypes.c_void_p(libc.fopen(name, mode))
f = fopen(b"f", b"r")
print("new:", libc.fwide(f, 0), end=" ")
libc.fgetwc(f)
print("after fgetwc:", libc.fwide(f, 0), "asked -1:", libc.fwide(f, -1))
f = fopen(b"f", b"r")
libc.fgetc(f)
print("after fgetc:", libc.fwide(f, 0), "asked 1:", libc.fwide(f, 1))
f = fopen(b"f", b"r")
buf = ctypes.create_unicode_buffer(32)
libc.fwscanf(f, ctypes.c_wchar_p("%ls"), buf)
print("after fwscanf:", libc.fwide(f, 0), buf.value)
f = fopen(b"g", b"w")
libc.fwprintf(f, ctypes.c_wchar_p("x"))
print("after fwprintf:", libc.fwide(f, 0))
f = fopen(b"f", b"r")
print("set 1:", libc.fwide(f, 1), libc.fwide(f, 0), "then -1:", libc.fwide(f, -1))
f = fopen(b"f", b"r")
print("set -1:", libc.fwide(f, -1), libc.fwide(f, 0))
'
SCRIPT
run_both fwide || fail "fwide on a stream of a pool file differs from glibc's on a kernel file"
pass "fwide on the library's streams tells the orientation the first call set"

# lseek(dir, off, SEEK_END): where the backend's directory ends (ext4's
# hash order: INT64_MAX; the size would be no offset of its entries)
cat > "$WORK/dir-seek.sh" << 'SCRIPT'
cd "$1" && mkdir -p sd && touch sd/a sd/b
python3 -c '
import os
d = os.open("sd", os.O_RDONLY | os.O_DIRECTORY)
def seek(off, how):
    try:
        return os.lseek(d, off, how)
    except OSError as e:
        return e.strerror
print("end:", seek(0, os.SEEK_END), "end-1:", seek(-1, os.SEEK_END), "end+1:", seek(1, os.SEEK_END))
print("cur:", seek(0, os.SEEK_CUR), "set:", seek(0, os.SEEK_SET), sorted(os.listdir(d)))
'
SCRIPT
run_both dir-seek || fail "lseek of a pool directory to its end differs from the kernel's"
pass "lseek(dir, off, SEEK_END) answers where the backend's directory ends"

# linkat(fd, "", AT_EMPTY_PATH): the kernel's rule, CAP_DAC_READ_SEARCH or
# (6.10 and later) the opener's credentials still the caller's: not in a
# forked child or after exec, for a caller without the capability
cat > "$WORK/link-empty.sh" << 'SCRIPT'
cd "$1" && mkdir -m 777 -p ld && cd ld
for who in root nobody; do
	pre=""
	[ $who = nobody ] && pre="setpriv --reuid=65534 --regid=65534 --clear-groups"
	$pre /usr/bin/python3 -c '
import ctypes, os, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
def link(fd, new):
    r = libc.linkat(fd, b"", -100, new.encode(), 0x1000)
    return "ok" if r == 0 else os.strerror(ctypes.get_errno())
who = sys.argv[1]
fd = os.open(who + "-f", os.O_RDWR | os.O_CREAT, 0o644)
print(who, "own:", link(fd, who + "-l1"))
pid = os.fork()
if pid == 0:
    print(who, "forked child:", link(fd, who + "-l2"), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
code = "import ctypes, os, sys; libc = ctypes.CDLL(None, use_errno=True); r = libc.linkat(int(sys.argv[1]), b\"\", -100, sys.argv[2].encode(), 0x1000); print(sys.argv[3], \"after exec:\", \"ok\" if r == 0 else os.strerror(ctypes.get_errno()))"
subprocess.run([sys.executable, "-c", code, str(fd), who + "-l3", who], pass_fds=[fd])
print(who, "again:", link(fd, who + "-l4"))
' $who
done
echo $(ls)
SCRIPT
run_both link-empty || fail "linkat with AT_EMPTY_PATH of a pool file follows another rule than the kernel's"
pass "linkat(fd, \"\", AT_EMPTY_PATH) on a Danaus fd asks the kernel's rule (opener's credentials or CAP_DAC_READ_SEARCH)"

# Programs as strangers run them in a pool: make and cc (the compiler
# writes through rename), tar --sparse, find -newer/-exec, sort -T, sed -i,
# install -D, ln -r, mktemp, shred, truncate, du, stat -f, df, git (stash,
# gc, fsck, worktree, clone), cp --reflink=auto/--sparse
cat > "$WORK/programs.sh" << 'SCRIPT'
cd "$1" && mkdir -p progs && cd progs
export LC_ALL=C GIT_CONFIG_NOSYSTEM=1 HOME=$PWD
mkdir proj && cd proj
printf '#include <stdio.h>\nint f(void);\nint main(void){printf("%%d\\n", f());return 0;}\n' > main.c
printf 'int f(void){return 42;}\n' > f.c
printf 'app: main.o f.o\n\t$(CC) -o $@ $^\n%%.o: %%.c\n\t$(CC) -c -o $@ $<\n' > Makefile
make -s && ./app && make -s && echo "make again: nothing" && touch f.c && make 2>&1 && ./app
cd ..
truncate -s 10M sp && echo x >> sp && tar --sparse -cf sp.tar sp && mkdir x && tar -xf sp.tar -C x &&
	cmp sp x/sp && echo "tar --sparse: $(du -k x/sp | cut -f1) $(stat -c %s x/sp)"
touch -d '2000-01-01' old && touch new2 && echo "find -newer: $(find . -maxdepth 1 -newer old -name 'new*')"
echo "find -exec: $(find . -maxdepth 1 -name 'sp*' -exec ls -d {} + | sort | tr '\n' ' ')"
echo "sort -T: $(seq 1 200000 | sort -r -T . -S 100K | head -2 | tr '\n' ' ') $(ls | grep -c '^sort')"
printf 'a\nb\n' > s && sed -i 's/a/A/' s && echo "sed -i: $(cat s | tr '\n' ' ') $(stat -c %a s)"
sed -i.bak 's/b/B/' s && echo "sed -i.bak: $(cat s s.bak | tr '\n' ' ')"
install -m 640 -D s deep/er/s2 && echo "install -D: $(stat -c %a deep/er/s2)"
ln -rs deep/er/s2 rl && mkdir sub2 && ln -rs s sub2/up && echo "ln -r: $(readlink rl) $(readlink sub2/up) $(head -1 sub2/up)"
t=$(mktemp -d ./tmp.XXXX) && echo "mktemp -d: $(stat -c %a "$t")" && rmdir "$t"
t=$(TMPDIR=. mktemp) && echo "mktemp: $(stat -c %a "$t")" && rm "$t"
echo secret > sh && shred -u sh && echo "shred -u: $(ls sh 2>&1 | sed 's/^.*: //')"
echo data > sh2 && shred -n 1 sh2 && echo "shred: $(stat -c %s sh2)"
truncate -s 1K tr && truncate -s +1K tr && truncate -s '<1000' tr && echo "truncate: $(stat -c %s tr)"
echo "du --apparent-size: $(du --apparent-size -s -B1 deep | cut -f1)"
# (df's type column is the mount entry's: a union's device has none, as "-")
echo "stat -f: $(stat -f -c '%S' .) df: $(df -P . > /dev/null && echo ok)" # (the type: stranger2.sh, an overlay's through a union)
git init -q g && cd g && git config user.email a@b && git config user.name n && echo 1 > a &&
	git add a && git commit -qm 1 && echo 2 > a && git stash -q && git stash pop -q &&
	git commit -qam 2 && git gc -q && git fsck --strict > /dev/null 2>&1 && echo "git: $(git log --oneline | wc -l) commits, fsck ok"
git worktree add -q ../wt && echo "git worktree: $(ls ../wt)"
cd .. && git clone -q g g2 && echo "git clone: $(cat g2/a)"
cp --reflink=auto sp sp2 && cmp sp sp2 && cp --sparse=always sp sp3 && echo "cp: $(du -k sp3 | cut -f1)"
# touch -r, gzip, xz, dd with O_DIRECT, split, shutil archives and trees, tempfile, fifo, scandir, walk
cd "$1" && mkdir -p more && cd more
echo abc > f
touch -r f g && echo "touch -r: $(stat -c %Y f) = $(stat -c %Y g)" | awk '{print $1, $2, ($3 == $5)}'
gzip -k f && xz -k f && echo "gzip/xz: $(ls f* | tr '\n' ' ')" && gunzip -c f.gz && xz -dc f.xz
dd if=/dev/zero of=d bs=4096 count=4 oflag=direct status=none && dd if=d of=e bs=4096 iflag=direct status=none && cmp d e && echo "dd direct: ok"
split -b 2 f part. && echo "split: $(ls part.* | tr '\n' ' ')" && cat part.* > joined && cmp f joined && echo joined
python3 -c '
import shutil, os, tempfile
shutil.make_archive("arch", "zip", ".", "f"); shutil.unpack_archive("arch.zip", "un"); print("shutil archive:", open("un/f").read().strip())
shutil.copytree("un", "un2", copy_function=shutil.copy2); print("copytree:", os.listdir("un2"))
with tempfile.TemporaryDirectory(dir=".") as t:
    with tempfile.NamedTemporaryFile(dir=t, delete=False) as n:
        n.write(b"x")
    print("tempfile:", os.path.getsize(n.name))
print("disk_usage:", shutil.disk_usage(".").total > 0)
os.mkfifo("fifo"); print("fifo:", os.path.exists("fifo"))
print("scandir:", sorted(e.name for e in os.scandir(".") if e.is_file())[:3])
print("walk:", sum(len(f) for _, _, f in os.walk(".")))
'
ln f hl && echo "links: $(stat -c %h f)"
echo "readlink -f: $(ln -s f sl && readlink -f sl | sed "s|$1|D|")"
find . -type f -newer f -name 'part*' | sort | head -2
echo "du -l: $(du -sl --apparent-size -B1 . | cut -f1)"
echo "stat dir: $(stat -c '%h' .)"
SCRIPT
run_both programs || fail "programs in a pool differ from the same on a kernel directory"
pass "make, cc, tar --sparse, find, sort -T, sed -i, install, ln -r, mktemp, shred, truncate, du, df, git, cp in a pool as on a kernel directory"

# The read-only inode ioctls (lsattr, filefrag, cp --reflink=auto ask them):
# the backend's answers, as the kernel gives them (physical extents left out)
cat > "$WORK/inode-ioctls.sh" << 'SCRIPT'
cd "$1" && mkdir -p io && cd io
printf x > f && dd if=/dev/zero of=f bs=4k seek=256 count=1 conv=notrunc status=none && sync f
echo "lsattr: $(lsattr f | cut -d' ' -f1) dir: $(lsattr -d . | cut -d' ' -f1)"
echo "filefrag: $(filefrag f | sed 's/^.*: //')"
filefrag -v f | awk '/^ *[0-9]+:/ {print "extent", $2, $3, $(NF)}'
echo "filefrag -e empty: $(: > e; filefrag e | sed 's/^.*: //')"
python3 -c '
import fcntl, struct, os, errno
fd = os.open("f", os.O_RDONLY)
buf = bytearray(struct.pack("QQIIII", 0, 2**64 - 1, 0, 0, 0, 0))
fcntl.ioctl(fd, 0xC020660B, buf)
print("fiemap count only:", struct.unpack("QQIIII", buf)[3])
buf = bytearray(struct.pack("QQIIII", 0, 0, 0, 0, 0, 0))
try:
    fcntl.ioctl(fd, 0xC020660B, buf)
except OSError as e:
    print("fiemap length 0:", errno.errorcode[e.errno])
buf = bytearray(struct.pack("QQIIII", 0, 2**64 - 1, 0x80, 0, 0, 0))
try:
    fcntl.ioctl(fd, 0xC020660B, buf); print("bad flag ok")
except OSError as e:
    print("fiemap bad flag:", errno.errorcode[e.errno], struct.unpack("QQIIII", buf)[2])
buf = bytearray(struct.pack("QQIIII", 0, 2**64 - 1, 0x81, 0, 0, 0))
try:
    fcntl.ioctl(fd, 0xC020660B, buf); print("bad flag ok")
except OSError as e:  # fm_flags: only the ones refused (FIEMAP_FLAG_SYNC is not)
    print("fiemap bad and good flags:", errno.errorcode[e.errno], hex(struct.unpack("QQIIII", buf)[2]))
pfd = os.open("f", os.O_PATH)
try:
    fcntl.ioctl(pfd, 0x80086601, bytes(8))
except OSError as e:
    print("GETFLAGS O_PATH:", errno.errorcode[e.errno])
'
cp --reflink=auto f g && cmp f g && echo "cp --reflink=auto: ok"
SCRIPT
run_both inode-ioctls || fail "FS_IOC_GETFLAGS, FS_IOC_FIEMAP... on a pool file differ from the kernel's"
pass "FS_IOC_GETFLAGS, FS_IOC_GETVERSION, FS_IOC_FSGETXATTR and FS_IOC_FIEMAP answer what the backend's filesystem does"

# "" with AT_EMPTY_PATH on a Danaus fd, O_PATH ones too: fchownat, utimensat,
# faccessat and fchmodat act on its file with the caller's rights (glibc 2.36's
# fchmodat refuses the flag), as root and as nobody
cat > "$WORK/empty-path.sh" << 'SCRIPT'
cd "$1" && mkdir -m 777 -p ep && cd ep && echo x > rootf && chmod 644 rootf && ln -sf rootf sl
for who in root nobody; do
	pre=""
	[ $who = nobody ] && pre="setpriv --reuid=65534 --regid=65534 --clear-groups"
	$pre /usr/bin/python3 -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
E = 0x1000
def r(x):
    return "ok" if x == 0 else os.strerror(ctypes.get_errno())
who = sys.argv[1]
own = who + "-own"
open(own, "w").close()
for name in ("rootf", own):
    for kind, fl in (("O_PATH", os.O_PATH), ("O_RDONLY", os.O_RDONLY)):
        fd = os.open(name, fl)
        print(who, name, kind,
              "chown:", r(libc.fchownat(fd, b"", -1, -1, E)),
              "chown 0:0:", r(libc.fchownat(fd, b"", 0, 0, E)),
              "utimensat:", r(libc.utimensat(fd, b"", None, E)),
              "access W:", r(libc.faccessat(fd, b"", 2, E)),
              "access R eaccess:", r(libc.faccessat(fd, b"", 4, E | 0x200)),
              "chmod:", r(libc.fchmodat(fd, b"", 0o644, E)),
              "bad flag:", r(libc.fchmodat(fd, b"", 0o644, 0x8000)))
        os.close(fd)
fd = os.open("sl", os.O_PATH | os.O_NOFOLLOW)
print(who, "symlink O_PATH chown:", r(libc.fchownat(fd, b"", -1, -1, E)), "access:", r(libc.faccessat(fd, b"", 2, E)),
      "utimensat:", r(libc.utimensat(fd, b"", None, E)))
' $who
done
SCRIPT
run_both empty-path || fail "calls with AT_EMPTY_PATH on a Danaus fd differ from the kernel's"
pass "fchownat, utimensat, faccessat and fchmodat with \"\" and AT_EMPTY_PATH act on the fd's file (O_PATH too)"

# Root (CAP_DAC_OVERRIDE writes in the 0111 placeholder) creating through a
# host symlink to the mountpoint itself: the new file is the pool's, and the
# placeholder stays empty
cat > "$WORK/create-via-link.sh" << 'SCRIPT'
tree=$1 links=$(mktemp -d /tmp/danaus-links.XXXXXX)
cd "$links" && ln -s "$tree" top && mkdir -p "$tree/cd"
echo new > top/new && echo "create: $(cat "$tree/new")"
mkdir top/nd && echo "mkdir: $(ls -d "$tree/nd" | sed "s|$tree|T|")"
mkdir top/nd2/ && echo "mkdir slash: $(ls -d "$tree/nd2" | sed "s|$tree|T|")"
mkfifo top/ff && echo "mkfifo: $(stat -c %F "$tree/ff")"
ln -s somewhere top/sl && echo "symlink: $(readlink "$tree/sl")"
python3 -c '
import os
d = os.open("top", os.O_RDONLY | os.O_DIRECTORY)
fd = os.open("byfd", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=d)
os.write(fd, b"x"); os.close(fd)
print("openat(dirfd):", open(os.path.join(os.readlink("top"), "byfd")).read())
os.mkdir("top/cd/deeper"); print("mkdir below:", os.path.isdir(os.readlink("top") + "/cd/deeper"))
' 2>&1
echo "listing: $(ls "$tree" | tr '\n' ' ')"
rm -r top/new top/nd top/nd2 top/ff top/sl top/byfd top/cd
cd / && rm -rf "$links"
SCRIPT
run_both create-via-link || fail "creating through a host link to the mountpoint differs from the kernel's"
[ -z "$(ls -A "$MNT" 2>/dev/null)" ] || fail "files landed in the host directory behind the mountpoint: $(ls -A "$MNT")"
pass "root creating through a host link to the mountpoint itself (open, mkdir, mkfifo, symlink) creates in the pool"

# rename and link of a host file to a name through such a link: EXDEV, as into
# a mount of another filesystem (the oracle: a tmpfs directory, /dev/shm)
cat > "$WORK/move-via-link.sh" << 'SCRIPT'
tree=$1 links=$(mktemp -d /tmp/danaus-links.XXXXXX)
cd "$links" && ln -s "$tree" top && echo h > hostf && echo p > top/inpool
python3 -c '
import os
def do(f, *a):
    try:
        f(*a); return "ok"
    except OSError as e:
        return e.strerror
print("rename host->link:", do(os.rename, "hostf", "top/moved"), "link:", do(os.link, "hostf", "top/linked"))
print("rename in link:", do(os.rename, "top/inpool", "top/renamed"), "link in link:", do(os.link, "top/renamed", "top/hard"))
'
mv hostf top/mv-moved && echo "mv: $(cat "$tree/mv-moved") $(ls hostf 2>&1 | sed 's/^.*: //')"
echo "listing: $(ls "$tree" | grep -E '^(hard|linked|moved|mv-moved|renamed)$' | tr '\n' ' ')"
rm -f top/mv-moved top/renamed top/hard
cd / && rm -rf "$links"
SCRIPT
shm=$(mktemp -d /dev/shm/danaus-test.XXXXXX)
[ "$(stat -c %d "$shm")" != "$(stat -c %d /tmp)" ] || { rm -rf "$shm"; fail "/dev/shm is on /tmp's filesystem: no other filesystem to compare with"; }
bash "$WORK/move-via-link.sh" "$shm" 2>&1 | sed "s|$shm|D|g" > "$WORK/move-via-link.kernel"
rm -rf "$shm"
in_pool bash "$WORK/move-via-link.sh" "$MNT" 2>&1 | sed "s|$MNT|D|g" > "$WORK/move-via-link.pool"
cat "$WORK/move-via-link.pool"
diff "$WORK/move-via-link.kernel" "$WORK/move-via-link.pool" ||
	fail "rename or link through a host link to the mountpoint differs from another filesystem's"
[ -z "$(ls -A "$MNT" 2>/dev/null)" ] || fail "files landed in the host directory behind the mountpoint: $(ls -A "$MNT")"
pass "rename and link of a host file through a host link to the mountpoint: EXDEV, as into another filesystem"

# POSIX ACLs (setfacl, getfacl, a default ACL inherited, cp -a, tar and
# rsync carrying them) and the rights they give; xfs_io
cat > "$WORK/acls.sh" << 'SCRIPT'
cd "$1" && mkdir -p acl && cd acl && chmod 777 .
echo data > f && chmod 600 f
setfacl -m u:nobody:rw f && echo "getfacl: $(getfacl -cp f 2>/dev/null | tr '\n' ' ')"
echo "stat mode: $(stat -c %A f)"
setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'echo more >> f && echo "nobody writes: ok"; cat f | tail -1'
setfacl -x u:nobody f && setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'echo x >> f 2>&1 | sed "s/^.*: //"; echo "after -x: $?"'
mkdir dd && setfacl -d -m u:nobody:rwx dd && touch dd/new && mkdir dd/sub && echo "default acl: $(getfacl -cp dd/new 2>/dev/null | tr '\n' ' ') / $(getfacl -cp dd/sub 2>/dev/null | grep -c default)"
setfacl -m g:nogroup:r f && cp -a f f2 && echo "cp -a acl: $(getfacl -cp f2 2>/dev/null | tr '\n' ' ')"
tar --acls --xattrs -cf t.tar f dd && mkdir x && tar --acls --xattrs -xf t.tar -C x && echo "tar acls: $(getfacl -cp x/f 2>/dev/null | tr '\n' ' ')"
rsync -aAX f dd r/ 2>&1 && echo "rsync -aAX: $(getfacl -cp r/f 2>/dev/null | tr '\n' ' ')"
setfacl -b f && echo "setfacl -b: $(getfacl -cp f 2>/dev/null | tr '\n' ' ') $(stat -c %A f)"
chmod 640 f2 && echo "chmod with acl: $(getfacl -cp f2 2>/dev/null | tr '\n' ' ')"
xfs_io -f -c "pwrite -q 0 8192" -c "fsync" -c "truncate 4096" -c "stat" xf 2>&1 | grep -E "size|nextents|xflags" | tr '\n' ' '; echo
SCRIPT
run_both acls || fail "ACLs in a pool differ from a kernel directory's"
pass "POSIX ACLs: set, inherited, copied by cp -a, tar --acls --xattrs and rsync -aAX, and the rights they give"

# mknod as the kernel takes the type: none is a regular file (tar --xattrs
# creates so), a directory EPERM
cat > "$WORK/mknod.sh" << 'SCRIPT'
cd "$1" && mkdir -p mk && cd mk
python3 -c '
import os, stat
def do(f, *a):
    try:
        f(*a); return "ok"
    except OSError as e:
        return e.strerror
print("mknod S_IFREG:", do(os.mknod, "r", stat.S_IFREG | 0o640), oct(os.lstat("r").st_mode) if os.path.exists("r") else "-")
print("mknod type 0:", do(os.mknod, "z", 0o640), oct(os.lstat("z").st_mode) if os.path.exists("z") else "-")
print("mknod S_IFIFO:", do(os.mknod, "p", stat.S_IFIFO | 0o640))
print("mknod S_IFSOCK:", do(os.mknod, "s", stat.S_IFSOCK | 0o640))
print("mknod S_IFDIR:", do(os.mknod, "d", stat.S_IFDIR | 0o640))
print("mknod exists:", do(os.mknod, "r", stat.S_IFREG | 0o640))
print("mknod chr null:", do(os.mknod, "c", stat.S_IFCHR | 0o640, os.makedev(1, 3)))
'
cd "$1" && mkdir -p tx && cd tx && echo d > f && setfacl -m g:nogroup:r f
tar --xattrs -cf t.tar f && mkdir -p x1 && tar --xattrs -xf t.tar -C x1 && echo "xattrs ok"
tar --acls -cf t2.tar f && mkdir -p x2 && tar --acls -xf t2.tar -C x2 && echo "acls ok"
mkdir -p x3 && tar -xf t2.tar -C x3 && echo "plain ok"
SCRIPT
run_both mknod || fail "mknod's types, or tar --xattrs extracting, differ from the kernel's"
pass "mknod with no type makes a regular file (tar --xattrs -x), with S_IFDIR is EPERM"

# execvp and posix_spawnp searching a $PATH directory that is a host symlink
# into a mount (glibc's own search meets the placeholder)
cat > "$WORK/path-search.sh" << 'SCRIPT'
tree=$1 links=$(mktemp -d /tmp/danaus-links.XXXXXX)
mkdir -p "$tree/bin" && printf '#!/bin/sh\necho "ran $(basename $0)"\n' > "$tree/bin/myprog" && chmod +x "$tree/bin/myprog"
cp /bin/true "$tree/bin/mytrue"
ln -s "$tree" "$links/top"
echo "direct: $("$links/top/bin/myprog")"
echo "PATH: $(PATH="$links/top/bin:$PATH" myprog) $(PATH="$links/top/bin:$PATH" env myprog) $(PATH="$links/top/bin:$PATH" mytrue && echo true)"
echo "python: $(PATH="$links/top/bin:$PATH" python3 -c 'import subprocess, shutil; print(shutil.which("myprog") is not None, subprocess.run(["myprog"], capture_output=True, text=True).stdout.strip())')"
echo "posix_spawnp: $(PATH="$links/top/bin:$PATH" python3 -c 'import os; pid = os.posix_spawnp("myprog", ["myprog"], os.environ); print(os.waitpid(pid, 0)[1])')"
echo "missing: $(PATH="$links/top/bin:$PATH" env nope-prog 2>&1 | sed 's/^.*: //')"
rm -rf "$links" "$tree/bin"
SCRIPT
run_both path-search || fail "a \$PATH search through a host link into a mount differs from the kernel's"
pass "execvp and posix_spawnp find programs in a \$PATH directory that is a host link into a mount"

# the same rule in a forked child for a file it opened itself, and after
# setuid for one opened before (the rule fails) and after (it holds)
cat > "$WORK/link-empty2.sh" << 'SCRIPT'
cd "$1" && mkdir -m 777 -p ld2 && cd ld2
setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def link(fd, new):
    r = libc.linkat(fd, b"", -100, new.encode(), 0x1000)
    return "ok" if r == 0 else os.strerror(ctypes.get_errno())
fd = os.open("a", os.O_RDWR | os.O_CREAT, 0o644)
print("own:", link(fd, "a1"))
pid = os.fork()
if pid == 0:
    mine = os.open("b", os.O_RDWR | os.O_CREAT, 0o644)
    print("child, parent fd:", link(fd, "a2"), "its own:", link(mine, "b1"), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
print("parent again:", link(fd, "a3"))
'
/usr/bin/python3 -c '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def link(fd, new):
    r = libc.linkat(fd, b"", -100, new.encode(), 0x1000)
    return "ok" if r == 0 else os.strerror(ctypes.get_errno())
before = os.open("r", os.O_RDWR | os.O_CREAT, 0o666)
os.setgid(65534); os.setuid(65534)
after = os.open("n", os.O_RDWR | os.O_CREAT, 0o644)
print("after setuid, root'"'"'s fd:", link(before, "r1"), "its own:", link(after, "n1"))
'
echo $(ls)
SCRIPT
run_both link-empty2 || fail "linkat with AT_EMPTY_PATH after fork or setuid follows another rule than the kernel's"
pass "linkat(fd, \"\", AT_EMPTY_PATH): a forked child's own files and files opened after setuid may be linked"

# more of coreutils, tar and cpio with hard links, python's dir_fd calls
cat > "$WORK/tools.sh" << 'SCRIPT'
cd "$1" && mkdir -p t17 && cd t17
mkdir -p a/b/c && echo x > a/b/c/f && ln a/b/c/f a/hard && ln -s b/c/f a/sym
tar -cf h.tar a && mkdir x && tar -xf h.tar -C x && echo "tar hardlink: $(stat -c %h x/a/hard) $(readlink x/a/sym)"
find a | cpio -pdm --quiet y 2>&1 && echo "cpio -p: $(find y | sort | tr '\n' ' ')"
cp -r --preserve=all a z && echo "cp -r preserve: $(stat -c %h z/a/hard 2>/dev/null || stat -c %h z/hard)"
chmod -R go-rwx a && echo "chmod -R: $(stat -c %a a/b/c/f a/b)"
ln -sf other a/sym && echo "ln -sf: $(readlink a/sym)"
mkdir -p m1 m2 && mv -T m1 m2 2>&1 | sed 's/^.*: //'; echo "mv -T: $(ls -d m* | tr '\n' ' ')"
touch -h -d '2003-01-01' a/sym && echo "touch -h: $(stat -c %y a/sym | cut -c1-10)"
echo "readlink -e: $(readlink -e a/b/c/f | sed "s|$1|D|") $(readlink -e a/nope; echo $?)"
echo "realpath --relative-to: $(realpath --relative-to=a/b a/b/c/f)"
install -d -m 700 dd/ee && echo "install -d: $(stat -c %a dd/ee)"
rm -rf a x y z && echo "rm -rf: $(ls | tr '\n' ' ')"
python3 -c '
import os
os.makedirs("deep/" + "/".join(["d"] * 30))
print("makedirs deep:", len(list(os.walk("deep"))))
import shutil; shutil.rmtree("deep"); print("rmtree:", os.path.exists("deep"))
fd = os.open(".", os.O_RDONLY)
os.mkdir("rel", dir_fd=fd); os.rename("rel", "rel2", src_dir_fd=fd, dst_dir_fd=fd); print("dir_fd ops:", sorted(os.listdir(fd))[:4])
os.symlink("rel2", "sl", dir_fd=fd); print("readlink dir_fd:", os.readlink("sl", dir_fd=fd))
os.unlink("sl", dir_fd=fd); os.rmdir("rel2", dir_fd=fd)
print("stat nofollow dir_fd:", os.stat("h.tar", dir_fd=fd, follow_symlinks=False).st_size)
'
SCRIPT
run_both tools || fail "tar/cpio hard links, cp -r, chmod -R, mv -T, dir_fd calls... differ from the kernel's"
pass "tar and cpio with hard links, cp -r --preserve, chmod -R, ln -sf, mv -T, touch -h, readlink -e, install -d, rm -rf, dir_fd calls"
