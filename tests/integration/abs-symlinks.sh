#!/usr/bin/env bash
# Integration: absolute symlinks stored in a pool resolve from the process's
# root, as on a kernel filesystem: a link to a host file reads the host's, a
# link into the mount comes back into the pool, a venv's bin/python3 ->
# /usr/bin/python3 runs the host's python; rename and link through such links
# act where the kernel's would. The pool itself never follows a
# link out of its top: it answers the link, the library goes on. Line for
# line against the same script on a kernel directory.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || fail "$PY is needed"
pool_start a
mkdir -p "$WORK/host/dir"
echo "host file" > "$WORK/host/dir/f"
cat > "$WORK/links.sh" << 'SCRIPT'
set -u
d=$1 other=$2 host=$3
cd "$d"
mkdir sub && echo "sub file" > sub/f
ln -s "$host/dir/f" to-host
ln -s "$host/dir" to-host-dir
ln -s "$other/sub" to-other
ln -s /nonexistent/x dangling
ln -s to-host relative-to-abs
echo "cat to-host: $(cat to-host)"
echo "cat to-host-dir/f: $(cat to-host-dir/f)"
echo "cat relative-to-abs: $(cat relative-to-abs)"
echo "readlink: $(readlink to-host)"
echo "stat -L: $(stat -L -c '%s %F' to-host) / lstat: $(stat -c '%F' to-host)"
echo "test -e dangling: $(test -e dangling && echo yes || echo no); test -L: $(test -L dangling && echo yes || echo no)"
echo "cat dangling: $(cat dangling 2>&1 | sed 's/^.*: //')"
echo "ls to-host-dir/: $(ls to-host-dir/)"
echo "write through: $(echo more >> to-host-dir/g && cat "$host/dir/g")"
echo "into the other tree: $(cat to-other/f)"
# calls that change things go where the kernel's would: through the link
mkdir to-host-dir/made && echo "mkdir: $(ls -d "$host/dir/made")"
ln -s target to-host-dir/made/sl && echo "symlink: $(readlink "$host/dir/made/sl") / readlink through: $(readlink to-host-dir/made/sl)"
chmod 700 to-host-dir/made && echo "chmod: $(stat -c %a "$host/dir/made")"
touch -d '2001-02-03 04:05:06' to-host-dir/f && echo "utimes: $(stat -c %y "$host/dir/f" | cut -c1-19)"
truncate -s 4 to-host-dir/f && echo "truncate: $(stat -c %s "$host/dir/f")"
python3 -c 'import os; os.setxattr("to-host-dir/f", "user.k", b"v"); print("setxattr:", os.getxattr("to-host-dir/f", "user.k"))' 2>&1
mkfifo to-host-dir/made/fifo && echo "mkfifo: $(stat -c %F "$host/dir/made/fifo")"
python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.bind("to-host-dir/made/sock")' &&
	echo "bind: $(stat -c %F "$host/dir/made/sock")"
rm to-host-dir/made/sl to-host-dir/made/fifo to-host-dir/made/sock && rmdir to-host-dir/made &&
	echo "rm, rmdir: $(ls "$host/dir")"
(cd to-host-dir && echo "cd: $(/bin/pwd) $(cat f)")
echo "statfs: $(stat -f -c %T to-host-dir/f)"
# rename and link through absolute links: within the other tree, on the host, across
echo r > r1 && mv r1 to-other/r1 && echo "rename into the other tree: $(cat "$other/sub/r1")"
ln to-other/r1 to-other/r2 && echo "link in the other tree: $(stat -c %h "$other/sub/r1")"
mv to-other/r2 r3 && echo "rename out of it: $(cat r3) $(ls "$other/sub")"
echo h > to-host-dir/h1 && mv to-host-dir/h1 to-host-dir/h2 && echo "rename on the host: $(ls "$host/dir")"
ln to-host-dir/h2 to-host-dir/h3 && echo "link on the host: $(stat -c %h "$host/dir/h2")"
mv r3 to-host-dir/r3 && echo "mv to the host: $(cat "$host/dir/r3") $(ls)"
rm to-host-dir/h2 to-host-dir/h3 to-host-dir/r3 "$other/sub/r1"
# ln -L: linkat(AT_SYMLINK_FOLLOW) links what the old name's symlinks lead to
echo L > lf && ln -s lf lsym && ln -L lsym lhard && echo "ln -L: $(stat -c '%F %h' lhard lf)"
ln -s "$other/sub/f" to-other-file && ln -L to-other-file lhard2 &&
	echo "ln -L through an absolute link: $(stat -c '%F %h' lhard2 "$other/sub/f")"
echo "ln -L dangling: $(ln -L dangling lhard3 2>&1 | sed 's/^.*: //')"
rm lhard lhard2 "$other/sub/f" 2>/dev/null; echo "other sub" > "$other/sub/f"
SCRIPT
mkdir -p "$WORK/kernel" "$WORK/kernel-other/sub"
echo "other sub" > "$WORK/kernel-other/sub/f"
mkdir -p "$ROOT/other/sub" "$ROOT/t"
echo "other sub" > "$ROOT/other/sub/f"
bash "$WORK/links.sh" "$WORK/kernel" "$WORK/kernel-other" "$WORK/host" > "$WORK/kernel.out" 2>&1
rm -f "$WORK/host/dir/g"
echo "host file" > "$WORK/host/dir/f" # as the kernel run found it
in_pool bash "$WORK/links.sh" "$MNT/t" "$MNT/other" "$WORK/host" > "$WORK/pool.out" 2>&1
cat "$WORK/pool.out"
diff "$WORK/kernel.out" "$WORK/pool.out" ||
	fail "absolute symlinks in a pool resolve otherwise than on a kernel directory"
pass "absolute symlinks in a pool resolve from the process's root, into the pool or the host"

# Host symlinks into a mount (/tmp/x -> /danaus/p/dir): the kernel follows
# them into the mountpoint's empty placeholder; the library goes on in the pool.
cat > "$WORK/host-links.sh" << 'SCRIPT'
set -u
tree=$1 links=$2
mkdir -p "$tree/d/sub" && echo "in tree" > "$tree/d/f" && echo deep > "$tree/d/sub/g"
mkdir -p "$links" && cd "$links"
ln -s "$tree/d" l && ln -s "$links/l" chain && ln -s "$tree/d/f" lf && ln -s ../"$(basename "$links")"/l rel
ln -s "$tree" top
echo "cat: $(cat "$links/l/f") / $(cat l/f) / $(cat chain/sub/g) / $(cat lf) / $(cat rel/f) / $(cat l/sub/../f)"
echo "ls: $(ls l) / $(ls l/) / $(ls -d l/sub) / $(ls chain/sub)"
echo "stat: $(stat -c '%F %s' l/f) $(stat -c %F l/ l/sub) / lstat: $(stat -c %F l lf)" # (CephFS: other dir sizes)
echo "test: $(test -d l/sub && echo d) $(test -f l/f && echo f) $(test -e l/nope || echo none)"
echo "missing: $(cat l/nope 2>&1 | sed 's/^.*: //') / $(ls l/nope/x 2>&1 | sed 's/^.*: //')"
echo "cd: $(cd l/sub && /bin/pwd | sed "s|$tree|T|" && cat g && cat ../f)"
echo "realpath: $(realpath l/sub/g | sed "s|$tree|T|")"
echo new > l/new && echo "create: $(cat "$tree/d/new")"
mkdir l/made && echo "mkdir: $(ls "$tree/d")"
echo x > l/made/x && mv l/made/x l/made/y && echo "rename: $(ls l/made)"
ln l/made/y l/made/z && echo "link: $(stat -c %h "$tree/d/made/y")" && rm l/made/z
echo "rename out: $(echo o > "$links/o" && mv "$links/o" l/o 2>&1 | sed 's/^.*: //') $(ls "$tree/d")"
rm l/made/y && rmdir l/made && rm l/new && echo "rm: $(ls "$tree/d")"
ln -s f l/sl && echo "symlink: $(readlink "$tree/d/sl") $(cat l/sl)" && rm l/sl
chmod 640 l/f && echo "chmod: $(stat -c %a "$tree/d/f")"
truncate -s 3 l/f && echo "truncate: $(stat -c %s "$tree/d/f")"
echo "statfs: $(stat -f -c %b l/f >/dev/null && echo ok)"
printf '#!/bin/sh\necho "ran $0"\n' > l/run.sh && chmod +x l/run.sh && cp /bin/true l/true
echo "exec: $(l/run.sh | sed "s|$links|L|") $("$links/chain/run.sh" | sed "s|$links|L|") $(l/true && echo true)"
rm l/run.sh l/true
# a link to the mountpoint itself: its placeholder answers (empty; EACCES but for root)
echo "top: $(stat -L -c %F top) $(ls top | grep -x d) $(cd top && cat d/f && ls -d d) $(cat top/d/f)"
setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'echo "top as nobody: $(ls top | grep -x d) $(cd top && ls d)"'
echo "listdir top:" $(python3 -c 'import os; print("d" in os.listdir("top"), sorted(os.listdir("top/d")))')
python3 - "$links" << 'PY'
import os, sys
links = sys.argv[1]
print("python:", sorted(os.listdir(links + "/l")), open(links + "/l/sub/g").read().strip(),
      os.path.isdir("l/sub"), os.access("l/f", os.R_OK))
dfd = os.open(links, os.O_RDONLY | os.O_DIRECTORY)
print("dir_fd:", os.stat("l/sub/g", dir_fd=dfd).st_size, sorted(os.listdir("chain")))
fd = os.open("l/sub/g", os.O_RDONLY, dir_fd=dfd)
print("openat:", os.read(fd, 10))
PY
SCRIPT
mkdir -p "$WORK/kernel-tree"
chmod 755 "$WORK/kernel-tree" "$ROOT"
bash "$WORK/host-links.sh" "$WORK/kernel-tree" "$WORK/links-k" > "$WORK/hl-kernel.out" 2>&1 ||
	{ cat "$WORK/hl-kernel.out" >&2; fail "the host links script fails on a kernel directory"; }
in_pool bash "$WORK/host-links.sh" "$MNT" "$WORK/links-p" > "$WORK/hl-pool.out" 2>&1 || true # (the diff says)
cat "$WORK/hl-pool.out"
diff "$WORK/hl-kernel.out" "$WORK/hl-pool.out" ||
	fail "host symlinks into a mount resolve otherwise than into a kernel directory"
pass "host symlinks into a mount and to its mountpoint lead into the pool (cat, ls, stat, cd, create, rename...)"

# /proc/PID/cwd of a process working in the pool is the kernel's working
# directory there, the mountpoint's placeholder: a magic link, not a name
# the host-link walk may follow (it led to the pool's top, another file)
mkdir "$ROOT/cwd-sub" && echo top > "$ROOT/cwd-f" && echo sub > "$ROOT/cwd-sub/cwd-f"
chmod -R a+rX "$ROOT/cwd-sub" "$ROOT/cwd-f"
out=$(in_pool python3 -c '
import os, subprocess, sys
os.chdir(sys.argv[1] + "/cwd-sub")
child = subprocess.Popen(["sleep", "30"])
def read(p):
    try:
        return open(p).read().strip()
    except OSError as e:
        return e.strerror
try:
    print(read("/proc/self/cwd/cwd-f"), read("/proc/%d/cwd/cwd-f" % os.getpid()),
          read("/proc/%d/cwd/cwd-f" % child.pid))
finally:
    child.kill()
' "$MNT") || fail "reading through /proc/PID/cwd: $out"
case " $out " in
*" top "*) fail "/proc/PID/cwd/cwd-f of a process in the pool's cwd-sub read the pool's top cwd-f: $out" ;;
esac
pass "/proc/PID/cwd of a process working in the pool never names the pool's top ($out)"

# a venv: bin/python3 -> /usr/bin/python3 (the host's), pyvenv.cfg in the pool
in_pool "$PY" -m venv --without-pip "$MNT/venv" || fail "python3 -m venv in the pool failed"
[ -L "$ROOT/venv/bin/python3" ] || fail "the venv has no symlinked python"
out=$(in_pool "$MNT/venv/bin/python3" -c 'import sys; print(sys.prefix, sys.base_prefix != sys.prefix)') ||
	fail "the venv's python did not run: $out"
[ "$out" = "$MNT/venv True" ] || fail "the venv's python runs outside its venv: $out"
pass "a venv in the pool runs its python (a symlink to the host's)"
# an activated venv: execvp's $PATH search (env, #!/usr/bin/env) finds the pool's python
out=$(PATH="$MNT/venv/bin:$PATH" in_pool env python3 -c 'import sys; print(sys.prefix)') ||
	fail "env python3 with the venv's bin first in PATH failed: $out"
[ "$out" = "$MNT/venv" ] || fail "execvp's PATH search skipped the pool's venv: $out"
out=$(PATH="$MNT/venv/bin:$PATH" in_pool env no-such-program 2>&1) &&
	fail "a missing program was found: $out"
echo "$out" | grep -q "No such file or directory" || fail "a missing program: $out"
pass "execvp searches PATH directories in the pool (an activated venv)"
