#!/usr/bin/env bash
# Integration: posix_spawn (and the fork/exec of subprocess) keeps the Danaus
# session, fds and working directory in the child; poll/select/epoll treat a
# Danaus fd as the regular file it is. Each script runs on a plain kernel
# directory (the oracle), through danaus-run on a kernel directory (the
# library's fast path) and inside the mount; all outputs must be identical.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

command -v python3 > /dev/null || fail "python3 is needed"

cat > "$WORK/spawn.py" << 'EOF'
import errno, os, subprocess, sys

d = sys.argv[1]
os.chdir(d)
with open("relative-file", "w") as f:
    f.write("relative content\n")

def out(tag, v):
    print(tag, repr(v), flush=True)

def status(pid):
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

# subprocess: fork/exec (close_fds=True: the child closes "all" fds first)
r = subprocess.run(["cat", "relative-file"], capture_output=True, text=True)
out("subprocess-cat", (r.returncode, r.stdout, r.stderr))
# subprocess through posix_spawn (absolute program, close_fds=False: file actions dup2)
r = subprocess.run(["/bin/cat", "relative-file"], capture_output=True, text=True, close_fds=False)
out("subprocess-spawn-cat", (r.returncode, r.stdout, r.stderr))
r = subprocess.run(["sh", "-c", "echo x > out"])
out("subprocess-sh", r.returncode)
out("out", open("out").read())

# os.posix_spawn: stdout opened by a file action on an absolute path of the directory
tgt = os.path.join(d, "spawned.txt")
pid = os.posix_spawn("/bin/cat", ["cat", "relative-file"], os.environ, file_actions=[
    (os.POSIX_SPAWN_OPEN, 1, tgt, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)])
out("posix_spawn-cat", status(pid))
out("spawned.txt", open("spawned.txt").read())

# os.posix_spawnp: PATH search; stdin is an inherited fd of the directory (dup2, close)
fd = os.open("relative-file", os.O_RDONLY)
pid = os.posix_spawnp("sh", ["sh", "-c", "echo x > out-p; tr a-z A-Z > upper; cat out-p"],
                      os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, fd, 0),
                                                (os.POSIX_SPAWN_CLOSE, fd)])
out("posix_spawnp-sh", status(pid))
os.close(fd)
out("out-p", open("out-p").read())
out("upper", open("upper").read())

# an fd shared with the child: one open file description, one offset
fd = os.open("shared", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, b"parent\n")
pid = os.posix_spawnp("sh", ["sh", "-c", "echo child >&7"], os.environ,
                      file_actions=[(os.POSIX_SPAWN_DUP2, fd, 7)])
out("posix_spawnp-shared", status(pid))
os.write(fd, b"parent again\n")
os.close(fd)
out("shared", open("shared").read())

# attributes: a session and a process group of its own, a default signal
pid = os.posix_spawn("/bin/sh",
                     ["sh", "-c", "test $(ps -o sid= $$) = $$ && cat relative-file > sess"],
                     os.environ, setsid=True)
out("setsid", status(pid))
pid = os.posix_spawnp("sh", ["sh", "-c", "test $(ps -o pgid= $$) = $$ && echo own > pgrp"],
                      os.environ, setpgroup=0, setsigdef=[2], setsigmask=[10])
out("setpgroup", status(pid))
out("sess+pgrp", open("sess").read() + open("pgrp").read())

# failures come back as posix_spawn's error; the child never ran the program
for name, call in [
        ("open-missing", lambda: os.posix_spawn("/bin/true", ["true"], os.environ, file_actions=[
            (os.POSIX_SPAWN_OPEN, 3, "missing/x", os.O_RDONLY, 0)])),
        ("exec-missing", lambda: os.posix_spawn("./no-such-program", ["x"], os.environ)),
        ("execp-missing", lambda: os.posix_spawnp("no-such-program-danaus", ["x"], os.environ)),
        ("dup2-badfd", lambda: os.posix_spawn("/bin/true", ["true"], os.environ, file_actions=[
            (os.POSIX_SPAWN_DUP2, 999, 5)]))]:
    try:
        out(name, status(call()))
    except OSError as e:
        out(name, errno.errorcode[e.errno])

for name in sorted(os.listdir(".")):
    st = os.stat(name)
    out("file", (name, oct(st.st_mode), st.st_size))
EOF

cat > "$WORK/poll.py" << 'EOF'
import errno, os, select, selectors, sys

os.chdir(sys.argv[1])
with open("data.txt", "w") as f:
    f.write("abc\n")
fd = os.open("data.txt", os.O_RDWR)
wfd = os.open("data.txt", os.O_WRONLY)
r, w = os.pipe()
names = {fd: "fd", wfd: "wfd", r: "r", w: "w"}
name = lambda x: names.get(x, str(x))

def out(tag, v):
    print(tag, repr(v), flush=True)

def err(call):
    try:
        call()
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]

p = select.poll()
p.register(fd, select.POLLIN | select.POLLOUT)
p.register(r, select.POLLIN)
p.register(w, select.POLLOUT)
p.register(wfd, select.POLLIN | select.POLLRDNORM)
p.register(1000, select.POLLIN)                 # not open: POLLNVAL
out("poll", sorted((name(x), ev) for x, ev in p.poll(2000)))
q = select.poll()
q.register(fd, select.POLLPRI)                  # nothing a regular file has
q.register(r, select.POLLIN)
out("poll-nothing", q.poll(50))
q = select.poll()
q.register(fd, select.POLLIN)
q.register(r, select.POLLIN)
out("poll-file", sorted((name(x), ev) for x, ev in q.poll(-1)))
os.write(w, b"x")
out("poll-file+pipe", sorted((name(x), ev) for x, ev in q.poll(0)))
os.read(r, 1)

rl, wl, xl = select.select([fd, r, wfd], [fd, w], [fd, r], 2.0)
out("select", ([name(x) for x in rl], [name(x) for x in wl], [name(x) for x in xl]))
out("select-nothing", select.select([r], [], [fd], 0.05))
os.write(w, b"y")
out("select-file+pipe", sorted(name(x) for x in select.select([fd, r], [], [], None)[0]))
os.read(r, 1)

ep = select.epoll()
out("epoll-add", err(lambda: ep.register(fd, select.EPOLLIN)))
out("epoll-mod", err(lambda: ep.modify(fd, select.EPOLLOUT)))
out("epoll-del", err(lambda: ep.unregister(fd)))
ep.register(w, select.EPOLLOUT)
out("epoll-pipe", [(name(x), ev) for x, ev in ep.poll(0)])
out("epoll-selector", err(lambda: selectors.EpollSelector().register(fd, selectors.EVENT_READ)))
for cls in (selectors.SelectSelector, selectors.PollSelector):
    s = cls()
    s.register(fd, selectors.EVENT_READ | selectors.EVENT_WRITE)
    s.register(r, selectors.EVENT_READ)
    s.register(w, selectors.EVENT_WRITE)
    out(cls.__name__, sorted((name(k.fd), ev) for k, ev in s.select(1.0)))
EOF

POOL_NAME=sp
pool_start sp
PLAIN="$WORK/plain"
FAST="$WORK/fast"
mkdir "$PLAIN" "$FAST"
PY=$(command -v python3)

# run WHERE DIR OUT [CMD...]: the script in DIR (cwd WHERE), output in OUT, stops on failure.
# The launcher's own notes (danaus-run: ...) are not the program's output.
run() {
	local where=$1 dir=$2 out=$3
	shift 3
	(cd "$where" && "$@" "$PY" "$WORK/$script.py" "$dir") > "$out.raw" 2>&1 ||
		{ cat "$out.raw" >&2; fail "$script.py fails in $dir"; }
	grep -v '^danaus-run: ' "$out.raw" | sed "s|$dir|@D@|g" > "$out" || true
}

for script in spawn poll; do
	mkdir "$PLAIN/$script" "$FAST/$script" "$ROOT/$script"
	run "$PLAIN" "$PLAIN/$script" "$WORK/$script.plain"
	run "$FAST" "$FAST/$script" "$WORK/$script.fast" in_pool
	run "$WORK" "$MNT/$script" "$WORK/$script.danaus" in_pool
	diff -u "$WORK/$script.plain" "$WORK/$script.fast" ||
		fail "$script.py: danaus-run outside the mount differs from the kernel"
	diff -u "$WORK/$script.plain" "$WORK/$script.danaus" ||
		fail "$script.py: the Danaus mount differs from the kernel directory"
	pass "$script.py: kernel, fast path and mount agree ($(wc -l < "$WORK/$script.plain") lines)"
done

# The children really worked in the pool: their files are in its root, none on the host.
grep -qx "spawned.txt 'relative content\\\\n'" "$WORK/spawn.danaus" ||
	fail "the posix_spawn file action did not write spawned.txt"
[ "$(cat "$ROOT/spawn/spawned.txt")" = "relative content" ] ||
	fail "spawned.txt is not in the pool's root"
[ "$(cat "$ROOT/spawn/upper")" = "RELATIVE CONTENT" ] || fail "upper is not in the pool's root"
[ "$(cat "$ROOT/spawn/out")" = x ] || fail "out is not in the pool's root"
[ -z "$(ls -A "$MNT" 2>/dev/null)" ] || fail "files leaked into the host directory $MNT"
pass "spawned children wrote into the pool, nothing on the host mountpoint"

# fork(2) while another thread records posix_spawn file actions: the child
# records its own and exits. Without the library's fork handler a child
# forked while that thread held the actions table's lock would hang.
cat > "$WORK/fork-actions.py" << 'PYEOF'
import ctypes, os, sys, threading, time

libc = ctypes.CDLL(None, use_errno=True)
fa_size = 256  # room for posix_spawn_file_actions_t (80 bytes on x86_64 glibc)
stop = False

def recorder():
    fa = ctypes.create_string_buffer(fa_size)
    while not stop:  # ctypes calls drop the GIL: they run beside the forks
        libc.posix_spawn_file_actions_init(fa)
        for _ in range(8):
            libc.posix_spawn_file_actions_addopen(fa, 3, b"/dev/null", os.O_RDONLY, 0)
        libc.posix_spawn_file_actions_destroy(fa)

threads = [threading.Thread(target=recorder) for _ in range(2)]
for t in threads:
    t.start()
hung = 0
for i in range(600):
    pid = os.fork()
    if pid == 0:
        fa = ctypes.create_string_buffer(fa_size)
        libc.posix_spawn_file_actions_init(fa)
        libc.posix_spawn_file_actions_addopen(fa, 3, b"/dev/null", os.O_RDONLY, 0)
        libc.posix_spawn_file_actions_destroy(fa)
        os._exit(0)
    deadline = time.monotonic() + 3
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            hung += 1
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            break
        time.sleep(0.001)
stop = True
for t in threads:
    t.join()
print("hung children:", hung)
sys.exit(1 if hung else 0)
PYEOF
out=$(in_pool python3 -W ignore "$WORK/fork-actions.py" 2>&1) ||
	fail "children forked beside posix_spawn_file_actions_addopen hung: $out"
pass "600 forks beside threads recording posix_spawn file actions: no child hangs"
