# The command workload of the integration suite: run once on a Danaus mount and
# once on a plain kernel directory; the outputs and trees must be identical.
# Usage: workload.sh DIR SRC   (prints results with DIR replaced by @D@)
set -u
D=$1 S=$2
run() { "$@" 2>&1 | sed "s|$D|@D@|g; s|$S|@S@|g"; echo "[exit ${PIPESTATUS[0]}] $*" | sed "s|$D|@D@|g; s|$S|@S@|g"; }
lsl() { ls -l --time-style=+ "$@" | sed "s|$D|@D@|g"; }

run cat "$S/small.txt"
echo hello > "$D/redir.txt"
echo world >> "$D/redir.txt"
cat "$S/small.txt" >> "$D/redir.txt"
run cat "$D/redir.txt"
sh -c "echo from dash > '$D/dash.txt'; printf '%s\n' appended >> '$D/dash.txt'"
run cat "$D/dash.txt"
# pwrite on an O_APPEND fd appends and leaves the file offset where it was
run python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
os.write(fd, b"abc"); os.lseek(fd, 1, os.SEEK_SET); os.pwrite(fd, b"XY", 0)
print(os.lseek(fd, 0, os.SEEK_CUR), os.pread(fd, 9, 0))' "$D/append.txt"
run cp "$S/rand-3m" "$D/rand.bin"
run cp "$S/inline-448" "$S/inline-449" "$S/empty" "$S/one-mib" "$S/one-mib-plus-1" "$D/"
run cp -r "$S/tree" "$D/tree"
run mkdir -p "$D/a/b/c/d"
run mkdir -p "$D/a/b/c/d"
run mkdir "$D/a"
run mv "$D/rand.bin" "$D/a/b/c/d/moved.bin"
run mv "$D/tree/sub1" "$D/a/sub1-moved"
run sha256sum "$D/a/b/c/d/moved.bin" "$D/inline-448" "$D/inline-449" "$D/empty" "$D/one-mib-plus-1"
run dd if="$S/rand-3m" of="$D/dd.bin" bs=1M status=none
run dd if="$D/dd.bin" of="$D/dd-part.bin" bs=1M skip=1 count=1 status=none
run dd if="$D/dd.bin" of="$D/dd-conv.bin" bs=4k conv=notrunc,fsync status=none
run cmp "$D/dd.bin" "$S/rand-3m"
# reads larger than a streamed piece (128 KiB), ending inside one, at odd offsets
run sh -c "dd if='$D/dd.bin' bs=4M status=none | sha256sum"
run sh -c "dd if='$D/dd.bin' bs=300000 skip=3 status=none | sha256sum"
run sh -c "dd if='$D/one-mib-plus-1' bs=262145 status=none | sha256sum"
run sha256sum "$D/dd-part.bin" "$D/dd-conv.bin"
run lsl "$D"
run lsl "$D/tree" "$D/a"
(cd "$D/a/b" && run ls -la --time-style=+ . .. c && run cat ../sub1-moved/f1 && pwd | sed "s|$D|@D@|")
run rm -r "$D/a/b"
run rm "$D/empty"
run rm "$D/does-not-exist"
run cat "$D/does-not-exist"
run rmdir "$D/tree"
run ls "$D"
cat "$D/one-mib" "$D/inline-449" > "$D/cat-redirect.bin"
run sha256sum "$D/cat-redirect.bin"
run ls -R "$D"
# tar: contents, modes and mtimes survive a round trip through the mount
mkdir -p "$D/untar"
run tar -C "$S" -cf "$D/src.tar" tree small.txt
run tar -C "$D/untar" -xf "$D/src.tar"
# untar's own mtime is when tar filled it: pinned, so a run across a minute boundary compares equal
run touch -d '2001-01-01 00:00:00' "$D/untar"
# a directory's size is its filesystem's own business (ext4: 4096, CephFS: its entries): "-"
(cd "$D/untar" && find . -mindepth 1 \( -type d -printf '%y %m - %TY-%Tm-%Td %TH:%TM:%TS %p\n' \) \
	-o -printf '%y %m %s %TY-%Tm-%Td %TH:%TM:%TS %p\n' | sort)
run tar -C "$D/untar" -cf - . | tar -tvf - | sort -k6
