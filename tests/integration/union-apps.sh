#!/usr/bin/env bash
# Integration (union): the application and path tests through a pool whose
# tree is a union (lib.sh's DANAUS_TEST_UNION: an empty lower layer under a
# writable one, which is the test's ROOT), each compared with the same run
# on a kernel directory as it is for a plain pool: git, sqlite, python,
# make, fio, rocksdb..., paths with '.', '..' and trailing slashes, libc
# calls, maps, directory descriptors, handles, inotify, the compat mount,
# fsx (the file starting in the lower layer).
# (commands.sh stays
# out: a merged directory's link count is 1 there, as overlayfs says.)
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

set +e
failed=()
for t in apps paths libc-calls mmap shared-maps dirfd-walk file-handles internal-calls inotify \
	unix-sockets abs-symlinks pathconf compat-mount fsx stranger stranger2; do
	t0=$SECONDS
	DANAUS_TEST_UNION=1 bash "$HERE/$t.sh" 2>&1 | sed "s/^/  $t: /"
	rc=${PIPESTATUS[0]}
	if [ "$rc" = 0 ]; then
		pass "$t.sh through a union ($((SECONDS - t0)) s)"
	else
		echo "FAIL: $t.sh through a union (exit $rc, $((SECONDS - t0)) s)" >&2
		failed+=("$t")
	fi
done
set -e
[ ${#failed[@]} -eq 0 ] || fail "through a union: ${failed[*]}"

# lseek of a directory to its end, SEEK_DATA or SEEK_HOLE: overlayfs refuses
# them on a merged directory (ovl_dir_llseek: EINVAL), whose offsets are
# places in its merged listing; a directory of one layer answers as that
# layer's filesystem. The same layers under a kernel overlay and a union.
if grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null; then
	DANAUS_TEST_UNION=1
	POOL_NAME=useek
	lower=$(union_lower "$POOL_NAME")
	ovl=$WORK/ovl-seek
	for l in "$lower" "$ovl/lower"; do
		mkdir -p "$l/merged" "$l/only" && touch "$l/merged/a" "$l/only/x"
	done
	mkdir -p "$ovl/upper/merged" "$ovl/work" "$ovl/mnt" && touch "$ovl/upper/merged/b"
	mount -t overlay "danaus-seek-$$" -o "lowerdir=$ovl/lower,upperdir=$ovl/upper,workdir=$ovl/work" \
		"$ovl/mnt" || fail "cannot mount a kernel overlay to compare with"
	pool_start "$POOL_NAME"
	mkdir -p "$ROOT/merged" && touch "$ROOT/merged/b" # the writable layer's copy
	cat > "$WORK/dir-seek.py" << 'PYEOF'
import os, sys
for d in ("merged", "only", "."):
    fd = os.open(sys.argv[1] + "/" + d, os.O_RDONLY | os.O_DIRECTORY)
    for how, name in ((os.SEEK_END, "end"), (os.SEEK_DATA, "data"), (os.SEEK_HOLE, "hole")):
        for off in (0, -1, 5):
            try:
                r = os.lseek(fd, off, how)
                print(d, name, off, "past 2^40" if r > 2**40 else r)
            except OSError as e:
                print(d, name, off, e.strerror)
    os.close(fd)
PYEOF
	# the read-only inode ioctls: overlayfs has no FS_IOC_GETVERSION, and
	# FIEMAP only of a regular file (EOPNOTSUPP for a directory)
	cat > "$WORK/inode-ioctls.py" << 'PYEOF'
import errno, fcntl, os, struct, sys
for name in ("merged/a", "merged/b", "merged", "only", "only/x"):
    fd = os.open(sys.argv[1] + "/" + name, os.O_RDONLY)
    out = [name]
    for req, size, label in ((0x80086601, 8, "GETFLAGS"), (0x80087601, 8, "GETVERSION"),
                             (0x801C581F, 28, "FSGETXATTR")):
        try:
            fcntl.ioctl(fd, req, bytes(size))
            out.append(label + " ok")
        except OSError as e:
            out.append(label + " " + errno.errorcode[e.errno])
    try:
        fcntl.ioctl(fd, 0xC020660B, bytearray(struct.pack("QQIIII", 0, 2**64 - 1, 0, 0, 0, 0)))
        out.append("FIEMAP ok")
    except OSError as e:
        out.append("FIEMAP " + errno.errorcode[e.errno])
    print(*out)
    os.close(fd)
PYEOF
	python3 "$WORK/dir-seek.py" "$ovl/mnt" > "$WORK/dir-seek.kernel" 2>&1
	python3 "$WORK/inode-ioctls.py" "$ovl/mnt" > "$WORK/inode-ioctls.kernel" 2>&1
	umount "$ovl/mnt"
	in_pool python3 "$WORK/dir-seek.py" "$MNT" > "$WORK/dir-seek.pool" 2>&1
	in_pool python3 "$WORK/inode-ioctls.py" "$MNT" > "$WORK/inode-ioctls.pool" 2>&1
	diff -u "$WORK/dir-seek.kernel" "$WORK/dir-seek.pool" ||
		fail "lseek of a union directory to its end, data or hole differs from overlayfs's (above)"
	grep -q "merged end 0 Invalid argument" "$WORK/dir-seek.pool" ||
		fail "overlayfs answered a merged directory's SEEK_END: $(head -1 "$WORK/dir-seek.pool")"
	pass "lseek(dir, SEEK_END/SEEK_DATA/SEEK_HOLE) of merged and one-layer union directories as overlayfs answers"
	diff -u "$WORK/inode-ioctls.kernel" "$WORK/inode-ioctls.pool" ||
		fail "FS_IOC_* ioctls on union files differ from overlayfs's (above)"
	grep -q "merged/a GETFLAGS ok" "$WORK/inode-ioctls.pool" ||
		fail "FS_IOC_GETFLAGS failed on a union file: $(head -1 "$WORK/inode-ioctls.pool")"
	pass "FS_IOC_GETFLAGS, GETVERSION, FSGETXATTR and FIEMAP on union files and directories as overlayfs answers"
else
	fail "no overlayfs in this kernel (modprobe overlay failed): union directory seeks cannot be compared"
fi

# chattr of files of a lower layer: overlayfs copies one up once the caller
# owns it (or has CAP_FOWNER), a refusal copying nothing, and the writable
# layer's filesystem decides the rest with the caller's rights
# (CAP_LINUX_IMMUTABLE). The same layers under a kernel overlay and a union.
DANAUS_TEST_UNION=1
POOL_NAME=uchattr
lower=$(union_lower "$POOL_NAME")
ovl=$WORK/ovl-chattr
for l in "$lower" "$ovl/lower"; do
	mkdir -p "$l/d" && echo lo > "$l/f" && echo lo > "$l/g" && echo lo > "$l/n" && echo lo > "$l/m"
	chown 65534 "$l/n" && chattr +d "$l/g"
done
mkdir -p "$ovl/upper" "$ovl/work" "$ovl/mnt"
mount -t overlay "danaus-chattr-$$" -o "lowerdir=$ovl/lower,upperdir=$ovl/upper,workdir=$ovl/work" \
	"$ovl/mnt" || fail "cannot mount a kernel overlay to compare chattr with"
pool_start "$POOL_NAME"
cat > "$WORK/chattr-lower.sh" << 'SCRIPT'
cd "$1"
r() { "$@" 2>&1 | sed 's/^.*: //'; echo "rc=${PIPESTATUS[0]}"; }
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
echo "lsattr: $(lsattr f g n | awk '{print $1}' | tr '\n' ' ')"
echo "nobody +d of another's: $(r nobody chattr +d f)"
echo "nobody +i of its own: $(r nobody chattr +i n)"
echo "nobody +d of its own: $(r nobody chattr +d n)"
echo "root without CAP_LINUX_IMMUTABLE +a: $(r setpriv --bounding-set -linux_immutable chattr +a m)"
echo "root +i: $(r chattr +i f)"
echo "root -d: $(r chattr -d g)"
echo "root +A of a directory: $(r chattr +A d)"
echo "after: $(lsattr f g n m | awk '{print $1}' | tr '\n' ' ') $(lsattr -d d | awk '{print $1}')"
echo "write to +i: $(r sh -c 'echo x >> f')"
chattr -i f
SCRIPT
bash "$WORK/chattr-lower.sh" "$ovl/mnt" > "$WORK/chattr-lower.kernel" 2>&1
echo "copied up: $(ls "$ovl/upper" | tr '\n' ' ')" >> "$WORK/chattr-lower.kernel"
umount "$ovl/mnt"
in_pool bash "$WORK/chattr-lower.sh" "$MNT" > "$WORK/chattr-lower.pool" 2>&1
echo "copied up: $(ls "$ROOT" | tr '\n' ' ')" >> "$WORK/chattr-lower.pool"
cat "$WORK/chattr-lower.pool"
diff -u "$WORK/chattr-lower.kernel" "$WORK/chattr-lower.pool" ||
	fail "chattr of lower-layer files through a union differs from overlayfs's (above)"
grep -q "root +i: rc=0" "$WORK/chattr-lower.pool" || fail "chattr +i by root failed through a union"
pass "chattr of lower-layer files through a union as overlayfs: copy-up after the owner check, the caller's capabilities"
