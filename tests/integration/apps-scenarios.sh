# Scenarios of apps.sh. Usage: apps-scenarios.sh NAME DIR WORK
# Prints only what must be identical on a kernel directory and on a mount.
set -euo pipefail
name=$1 D=$2 WORK=$3
SRC=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$D"
cd "$D"
export LC_ALL=C TZ=UTC
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org GIT_COMMITTER_NAME=t \
	GIT_COMMITTER_EMAIL=t@example.org GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' \
	GIT_COMMITTER_DATE='2026-01-01T00:00:00Z' GIT_CONFIG_NOSYSTEM=1 HOME="$D"

case "$name" in
coreutils)
	mkdir -p src/a/b && echo one > src/a/f1 && echo two > src/a/b/f2
	ln -s a/f1 src/link
	touch -d '2025-03-04 05:06:07' src/a/f1 src/a/b/f2
	touch -h -d '2025-03-04 05:06:07' src/link
	cp -a src copy
	mv copy moved
	ln -s moved/a lnk
	touch -d '2025-06-01 00:00:00' newer-ref
	touch -d '2025-07-01 00:00:00' moved/a/b/f2
	find moved -newer newer-ref | sort
	chmod -R go-rwx moved
	# directories were changed "now": give them a time of their own
	touch -d '2025-08-01 00:00:00' moved moved/a moved/a/b src src/a src/a/b
	stat -c '%n %A %s %Y' $(find moved src -print | sort)
	du -a --apparent-size moved | sort -k2
	readlink lnk
	cat lnk/f1
	mkfifo -m 640 fifo
	stat -c '%n %A' fifo
	python3 -c 'import tempfile; f = tempfile.TemporaryFile(dir="."); f.write(b"tmp"); f.seek(0); print(f.read())'
	ls
	;;
git)
	git init -q repo
	cd repo
	cp -r "$SRC/ipc" "$SRC/util" .
	git add .
	git commit -qm first
	echo change >> ipc/wire.h
	git status --short
	git commit -qam second
	git log --format='%H %s'
	git gc -q
	git fsck --full 2>&1
	git count-objects -v | grep -E '^(count|in-pack|packs)'
	cd ..
	git clone -q repo clone
	git -C clone log --format='%H %s'
	git -C clone fsck --full 2>&1
	git -C clone status --short
	;;
sqlite-rollback | sqlite-wal)
	mode=delete
	[ "$name" = sqlite-wal ] && mode=wal
	{
		echo "pragma journal_mode=$mode;"
		echo "create table t(a integer primary key, b text, c real);"
		for t in $(seq 0 9); do
			echo "begin;"
			for i in $(seq 1 1000); do echo "insert into t(b, c) values ('r$t-$i', $i.5);"; done
			echo "commit;"
		done
		echo "select count(*), sum(c) from t;"
	} | sqlite3 db.sqlite
	# a second process, in turn: reads, updates, checks (locks decide who goes)
	sqlite3 db.sqlite "update t set b = upper(b) where a % 7 = 0; select count(*) from t where b like 'R%'; pragma integrity_check;"
	# Two writers: at once in rollback mode (the busy timeout makes each wait
	# for the other's lock); in turn in WAL mode, whose wal-index is a shared
	# map, which a Ceph pool gives one process at a time (shared-maps.sh runs
	# them at once on both backends).
	[ "$mode" = wal ] && together=wait || together=:
	sqlite3 -cmd ".timeout 20000" db.sqlite \
		"begin immediate; update t set c = c + 1 where a <= 5000; commit; pragma integrity_check;" > p1.out &
	$together
	sqlite3 -cmd ".timeout 20000" db.sqlite \
		"begin immediate; delete from t where a > 9990; commit; select count(*) from t where a > 9990;" > p2.out &
	wait
	cat p1.out p2.out
	sqlite3 db.sqlite "pragma journal_mode; select count(*), sum(c) from t; pragma integrity_check;"
	;;
python)
	python3 - "$SRC" <<'PY'
import mmap, os, shutil, sys, tempfile
src = sys.argv[1]
shutil.copytree(os.path.join(src, "ipc"), "tree")
for root, dirs, files in sorted(os.walk("tree")):
    print(root, sorted(dirs), sorted(files))
with open("text.txt", "w", encoding="utf-8") as f:
    f.write("héllo\nwörld\n" * 100)
with open("text.txt", encoding="utf-8") as f:
    print(len(f.read()), f.tell())
with open("bin.dat", "wb") as f:
    f.write(bytes(range(256)) * 64)
with open("bin.dat", "r+b") as f:
    f.seek(1000); f.write(b"XYZ"); f.seek(-10, 2); print(f.read(4), f.tell())
with open("bin.dat", "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    print(m[998:1004], len(m))
    m[0:3] = b"abc"; m.flush(); m.close()
print(open("bin.dat", "rb").read(4))
fd, name = tempfile.mkstemp(dir=".", prefix="tmp")
os.write(fd, b"temp"); os.close(fd)
print(os.path.basename(name).startswith("tmp"), open(name, "rb").read())
with tempfile.TemporaryDirectory(dir=".") as d:
    open(os.path.join(d, "x"), "w").write("x")
    print(sorted(os.listdir(d)))
print(sorted(os.listdir(".")) == sorted(e.name for e in os.scandir(".")))
PY
	;;
make)
	mkdir -p proj && cd proj
	printf '#include "msg.h"\n#include <stdio.h>\nint main(void) { puts(MSG); return 0; }\n' > main.c
	printf '#define MSG "built in a pool"\n' > msg.h
	printf 'prog: main.o\n\t$(CC) -o $@ $^\nmain.o: main.c msg.h\n\t$(CC) -c -o $@ $<\nclean:\n\trm -f prog main.o\n' > Makefile
	make -s
	./prog
	make -s -q && echo up-to-date
	touch msg.h
	make -s -q || echo out-of-date
	make -s clean && ls
	;;
tools)
	# GNU patch renames through its own (gnulib) renameat2, which calls
	# syscall(): a program's definition of a name the library serves.
	seq 1 10 > a && seq 1 11 > b
	diff -u a b > p.diff || true
	patch -s a < p.diff && cmp a b && echo patched
	patch -s -R -b a < p.diff && ls a* && wc -l < a
	# cmake + ninja: a configure's compiler checks, then a build
	mkdir -p cm && cd cm
	printf 'cmake_minimum_required(VERSION 3.10)\nproject(p C)\nadd_executable(hello main.c)\n' \
		> CMakeLists.txt
	printf '#include <stdio.h>\nint main(void) { puts("cmake built"); return 0; }\n' > main.c
	cmake -S . -B build -G Ninja > /dev/null
	ninja -C build > /dev/null
	./build/hello
	;;
meson)
	# this project configured and partly built from the tree under test,
	# and a unit test run from it: meson's configure, ninja's parallel
	# compiles, an archive and links, a test binary executed from the tree
	# (the library and one test: the whole build took 60-105 s of CI per
	# backend, on both sides at once)
	(cd "$SRC" && tar --exclude='./build*' --exclude=./.git --exclude='./obj-*' -cf - .) | tar -xf -
	meson setup b > setup.log 2>&1 || { tail -5 setup.log; exit 1; }
	ninja -C b preload/libdanaus.so ipc/test-queue > ninja.log 2>&1 || { tail -20 ninja.log; exit 1; }
	meson test -C b --no-rebuild queue > test.log 2>&1 || { tail -20 test.log; exit 1; }
	echo "built: $(find b -name 'libdanaus.so' -o -name 'test-queue' -type f | sort | xargs -n1 basename)"
	grep -E '^(Ok|Fail):' test.log
	;;
fio)
	fio --name=verify --directory="$D" --ioengine=psync --rw=randwrite --bs=4k --size=4M \
		--numjobs=3 --verify=crc32c --do_verify=1 --verify_fatal=1 --output-format=terse \
		--terse-version=3 > fio.out
	# native AIO (libaio), as fio's users run it most
	fio --name=aio --directory="$D" --ioengine=libaio --iodepth=16 --rw=randwrite --bs=4k \
		--size=4M --numjobs=2 --verify=crc32c --do_verify=1 --verify_fatal=1 \
		--output-format=terse --terse-version=3 >> fio.out
	# terse field 5 is the error count of each job
	awk -F';' '{print "job", $3, "errors", $5}' fio.out | sort
	;;
rocksdb)
	db_bench --benchmarks=fillrandom,readrandom --db="$D/db" --num=5000 --seed=1 \
		--compression_type=none > bench.out 2>&1
	grep -c -E '^(fillrandom|readrandom) ' bench.out
	ldb --db="$D/db" checkconsistency
	ldb --db="$D/db" scan --max_keys=5 --hex | cut -c1-40
	;;
locks)
	# POSIX record locks: per process, not inherited by fork, dropped by any close
	python3 "$SRC/tests/integration/locks.py" .
	;;
lock-waits)
	# blocking flock and F_SETLKW: the waiter gets the lock once released, by unlock or close
	python3 "$SRC/tests/integration/lock-waits.py" .
	;;
shell)
	# system(3) and popen(3): the shell runs in the cwd, sees relative paths and inherited fds
	echo hello > f
	python3 - <<'PY'
import ctypes, os
libc = ctypes.CDLL(None)
libc.popen.restype = ctypes.c_void_p
libc.fgets.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p]
libc.pclose.argtypes = [ctypes.c_void_p]
print(os.system("cat f && exit 3") >> 8)
fd = os.open("inherited", os.O_WRONLY | os.O_CREAT, 0o644)
os.set_inheritable(fd, True)
print(libc.system(f"echo through-fd >&{fd}".encode()))
p = libc.popen(b"tr a-z A-Z < f", b"r")
buf = ctypes.create_string_buffer(64)
libc.fgets(buf, 64, p)
print(buf.value, libc.pclose(p))
w = libc.popen(b"cat > written", b"w")
libc.fputs.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
libc.fputs(b"from popen\n", w)
print(libc.pclose(w))
print(open("written").read(), open("inherited").read())
# glob(3) walks directories with glibc's internal calls unless we step in
class Glob(ctypes.Structure):
    _fields_ = [("pathc", ctypes.c_size_t), ("pathv", ctypes.POINTER(ctypes.c_char_p)),
                ("offs", ctypes.c_size_t), ("flags", ctypes.c_int), ("rest", ctypes.c_char * 128)]
g = Glob()
print(libc.glob(b"*e*", 0, None, ctypes.byref(g)), sorted(g.pathv[i] for i in range(g.pathc)))
libc.globfree(ctypes.byref(g))
PY
	;;
stress)
	python3 - <<'PY'
import os, sys, threading, hashlib
PROCS, THREADS, ROUNDS = 3, 4, 40
def worker(p, t, errors):
    name = f"s-{p}-{t}.dat"
    for r in range(ROUNDS):
        data = hashlib.sha256(f"{p}/{t}/{r}".encode()).digest() * (64 + r * 16)
        with open(name, "wb") as f:
            f.write(data)
        with open(name, "rb") as f:
            if f.read() != data:
                errors.append(name)
def proc(p):
    errors = []
    ts = [threading.Thread(target=worker, args=(p, t, errors)) for t in range(THREADS)]
    for t in ts: t.start()
    for t in ts: t.join()
    os._exit(1 if errors else 0)
pids = []
for p in range(PROCS):
    pid = os.fork()
    if pid == 0:
        proc(p)
    pids.append(pid)
print("workers ok", all(os.waitpid(pid, 0)[1] == 0 for pid in pids))
# fork+exec chains: an fd opened here is written by grandchildren through exec
fd = os.open("chain.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
os.set_inheritable(fd, True)
code = "import os,sys; os.write(int(sys.argv[1]), sys.argv[2].encode() + b'\\n')"
for gen in range(3):
    pid = os.fork()
    if pid == 0:
        os.execvp("sh", ["sh", "-c", f'python3 -c "{code}" {fd} gen{gen}; echo shell{gen} >&{fd}'])
    os.waitpid(pid, 0)
os.close(fd)
print(open("chain.log").read().split())
print(sorted(os.listdir("."))[:5], len(os.listdir(".")))
PY
	;;
shared-offset)
	# One open file description shared by processes (fork) and threads:
	# read and write at its offset one at a time, as the kernel's f_pos_lock
	# makes them, so no record is written over or read twice.
	python3 - <<'PY'
import os, threading
fd = os.open("shared", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
kids = []
for k in range(3):
    pid = os.fork()
    if pid == 0:
        for i in range(300):
            os.write(fd, b"%d%04d\n" % (k, i))
        os._exit(0)
    kids.append(pid)
for i in range(300):
    os.write(fd, b"9%04d\n" % i)
for pid in kids:
    os.waitpid(pid, 0)
lines = open("shared", "rb").read().splitlines()
print("processes", len(lines), len(set(lines)), os.fstat(fd).st_size)
def writer(t):
    for i in range(300):
        os.write(fd, b"t%d%03d\n" % (t, i))
ts = [threading.Thread(target=writer, args=(t,)) for t in range(3)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("threads", os.fstat(fd).st_size, os.lseek(fd, 0, os.SEEK_CUR))
os.lseek(fd, 0, os.SEEK_SET)
r, w = os.pipe()
kids = []
for k in range(3):
    pid = os.fork()
    if pid == 0:
        n = 0
        while os.read(fd, 6):
            n += 1
        os.write(w, b"%d\n" % n)
        os._exit(0)
    kids.append(pid)
os.close(w)
n = 0
while os.read(fd, 6):
    n += 1
for pid in kids:
    os.waitpid(pid, 0)
print("reads", n + sum(int(x) for x in os.read(r, 100).split()))
# readv and writev: the whole array at once, no other sharer's call between its parts
g = os.open("records", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
kids = []
for k in range(3):
    pid = os.fork()
    if pid == 0:
        for i in range(300):
            os.writev(g, [b"%d" % k, b"%04d" % i, b"\n"])
        os._exit(0)
    kids.append(pid)
for pid in kids:
    os.waitpid(pid, 0)
os.lseek(g, 0, os.SEEK_SET)
r, w = os.pipe()
kids = []
for k in range(3):
    pid = os.fork()
    if pid == 0:
        good = bad = 0
        a, b = bytearray(3), bytearray(3)
        while os.readv(g, [a, b]) == 6:
            rec = bytes(a + b)
            if rec[5:] == b"\n" and rec[:5].isdigit():
                good += 1
            else:
                bad += 1
        os.write(w, b"%d %d\n" % (good, bad))
        os._exit(0)
    kids.append(pid)
os.close(w)
for pid in kids:
    os.waitpid(pid, 0)
got = [int(x) for x in os.read(r, 100).split()]
print("vectors", sum(got[0::2]), "torn", sum(got[1::2]))
# lseek(SEEK_CUR) moves the shared offset under the same lock
os.lseek(fd, 0, os.SEEK_SET)
kids = []
for k in range(3):
    pid = os.fork()
    if pid == 0:
        for i in range(3000):
            os.lseek(fd, 1, os.SEEK_CUR)
        os._exit(0)
    kids.append(pid)
for i in range(3000):
    os.lseek(fd, 1, os.SEEK_CUR)
for pid in kids:
    os.waitpid(pid, 0)
print("seeks", os.lseek(fd, 0, os.SEEK_CUR))
PY
	;;
wide-stdio)
	# Wide-character stdio on streams over pool files (fopen, and stdin/stdout
	# redirected): glibc's own wide calls crash on the library's cookie streams.
	export LC_ALL=C.UTF-8
	seq 1 3000 > big
	printf 'h\303\251llo w\303\266rld\n\316\261\316\262\316\263\n' > u8
	printf 'ok\n\377\376bad\n' > bad
	rev big | tail -2
	rev u8
	rev < u8 > out && cat out
	rev bad || echo "rev: $?"
	colrm 2 4 < u8
	python3 - <<'PY'
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.setlocale(6, b"C.UTF-8")
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.fclose.argtypes = libc.ferror.argtypes = libc.fgetwc.argtypes = [ctypes.c_void_p]
libc.fputws.argtypes = [ctypes.c_wchar_p, ctypes.c_void_p]
libc.fputwc.argtypes = [ctypes.c_wchar, ctypes.c_void_p]
libc.fwprintf.argtypes = [ctypes.c_void_p, ctypes.c_wchar_p]
libc.fgetwc.restype = libc.ungetwc.restype = ctypes.c_uint32
libc.ungetwc.argtypes = [ctypes.c_uint32, ctypes.c_void_p]
libc.fgetws.argtypes = [ctypes.c_wchar_p, ctypes.c_int, ctypes.c_void_p]
libc.fgetws.restype = ctypes.c_void_p
f = libc.fopen(b"wout", b"w")
print("fputws", libc.fputws("a\u00f1b\u20ac\n", f), "fputwc", libc.fputwc("\u03c9", f))
print("fwprintf", libc.fwprintf(f, "%ls=%d\n", ctypes.c_wchar_p("z\u00e9"), ctypes.c_int(42)))
libc.fclose(f)
print(open("wout", "rb").read())
f = libc.fopen(b"wout", b"r")
c, c2 = libc.fgetwc(f), libc.fgetwc(f)
libc.ungetwc(c2, f)
print(hex(c), hex(c2), hex(libc.fgetwc(f)))
buf = ctypes.create_unicode_buffer(64)
for _ in range(3):
    print(repr(buf.value) if libc.fgetws(buf, 64, f) else None)
libc.fclose(f)
f = libc.fopen(b"bad", b"r")
libc.fgetws(buf, 64, f)
print(repr(buf.value), libc.fgetws(buf, 64, f), ctypes.get_errno(), libc.ferror(f))
PY
	# every other wide entry point glibc has, fwscanf's family among them
	W="$DANAUS_BUILD/tests/integration/test-wide-calls"
	"$W" files
	printf '\303\251x 1 2 3 4 5 z' > wide-in
	"$W" stdin < wide-in
	"$W" stdout > wide-out
	cat wide-out
	;;
strangers)
	# Programs no other scenario runs: archivers, sparse copies, patch, rsync's
	# fuzzy and append modes, flock(1), perl's file calls, sqlite's WAL
	# checkpoint, VACUUM, backup and immutable mode, xfs_io.
	blocks() { # a Ceph pool's blocks are its size's, ext4's the written ones: asked only locally
		if [ -z "${DANAUS_TEST_CEPH_DIR:-}" ]; then stat -c '%n %s %b' "$@"; else stat -c '%n %s' "$@"; fi
	}
	mkdir -p src/a/b
	for i in 1 2 3; do seq 1 $((i * 500)) > src/a/f$i; done
	echo hi > src/a/b/x
	ln -s f1 src/a/l
	touch -d '2025-01-01' src/a/f1 src/a/f2 src/a/f3 src/a/b/x src/a/b src/a
	(cd src && find . -print | sort | cpio -o -H newc 2>/dev/null) > a.cpio
	mkdir cp1 && (cd cp1 && cpio -idm < ../a.cpio 2>&1)
	find cp1 | sort
	(cd src && find . | sort | cpio -pdm ../cp2 2>&1)
	diff -r src cp2 && echo "cpio -p: same"
	zip -qr a.zip src && unzip -qo a.zip -d uz && diff -r src uz/src && echo "zip, unzip: same"
	dd if=/dev/zero of=sp bs=1M seek=8 count=1 status=none
	dd if=sp of=sp2 conv=sparse bs=64K status=none
	cp --sparse=always sp sp3
	printf 'data' | dd of=sp4 bs=1 seek=3M conv=notrunc status=none
	blocks sp sp2 sp3 sp4
	# (the kernel side of a Ceph run is ext4: CephFS has no collapse-range to compare)
	if [ -z "${DANAUS_TEST_CEPH_DIR:-}" ]; then
		fallocate -l 4M sp5 && fallocate --punch-hole -o 0 -l 1M sp5 && blocks sp5
		fallocate --dig-holes sp3 && fallocate -c -o 1M -l 1M sp5 && blocks sp3 sp5
	fi
	tar --sparse -cf s.tar sp sp4 && mkdir st && tar -xf s.tar -C st && blocks st/sp st/sp4
	cmp sp st/sp && cmp sp4 st/sp4 && echo "tar --sparse: same"
	cp -r src pt && sed -i 's/^5$/five/' pt/a/f1
	diff -u src/a/f1 pt/a/f1 > p.diff || true
	patch -s src/a/f1 < p.diff && cmp src/a/f1 pt/a/f1 && patch -R -s --dry-run src/a/f1 < p.diff &&
		echo "patch: applied"
	diff -r src pt && echo "diff -r: same"
	mkdir rs && cp src/a/f3 rs/old-f3
	rsync -a --fuzzy --stats src/a/ rs/ | grep -E "^Number of regular files transferred"
	rsync -a --delete --checksum src/ rs2/ && diff -r src rs2 && echo "rsync --checksum: same"
	rsync -a --sparse sp rs/sp && blocks rs/sp
	head -c 1000 src/a/f3 > rs/f3 && rsync -a --append src/a/f3 rs/f3 && cmp src/a/f3 rs/f3 && echo "rsync --append: same"
	flock -n lockf -c 'flock -n lockf -c true || echo "flock: a second open file is refused"'
	(flock -x 9 && flock -n -s lockf -c true || echo "flock: exclusive blocks shared") 9> lockf
	perl -e 'open(my $f, ">", "pl") or die; print $f "x" x 10; close $f;
		print join(" ", -e "pl", -s "pl", -f "pl", -d ".", (-l "src/a/l") ? 1 : 0), "\n";
		rename("pl", "pl2") or die; opendir(my $d, "src/a") or die;
		print join(",", sort grep { !/^\./ } readdir $d), "\n";
		truncate("pl2", 3); utime(100, 200, "pl2"); print ((stat "pl2")[9], " ", -s "pl2", "\n");
		sysopen(my $h, "pl3", 0101 | 0200, 0600) and print "sysopen O_EXCL\n";
		sysopen(my $h2, "pl3", 0101 | 0200, 0600) or print "again: $!\n"'
	perl -pi.bak -e 's/^1$/one/' src/a/f1 && head -2 src/a/f1 && ls src/a
	sqlite3 db.sqlite 'pragma journal_mode=wal; create table t(x); insert into t values(1),(2); pragma wal_checkpoint(truncate);'
	sqlite3 db.sqlite 'pragma integrity_check; select count(*) from t; vacuum; pragma page_count;'
	sqlite3 -readonly db.sqlite 'select sum(x) from t'
	sqlite3 db.sqlite '.backup bk.sqlite' && sqlite3 bk.sqlite 'select * from t'
	sqlite3 'file:db.sqlite?immutable=1' 'select count(*) from t'
	zstd -q src/a/f3 -o f3.zst && zstd -qdc f3.zst | cmp - src/a/f3 && echo "zstd: same"
	xfs_io -f -c 'pwrite -q 0 4096' -c 'fsync' -c 'fdatasync' -c 'truncate 100' xio && stat -c '%n %s' xio
	split -n 3 src/a/f3 part. && cat part.* | cmp - src/a/f3 && echo "split: same"
	sort -m src/a/f1 src/a/f2 -o merged && wc -l < merged
	;;
*)
	echo "unknown scenario $name" >&2
	exit 2
	;;
esac
