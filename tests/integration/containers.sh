#!/usr/bin/env bash
# Integration (containers): real podman containers reach pools through the
# CDI device danaus.io/pool=NAME (the spec each pool writes into /run/cdi),
# in an image with an older glibc (Debian 11, glibc 2.31: debootstrapped,
# then `podman import`ed; no registry needed) than the one the library was
# built with. Podman runs as ../shared/notes/podman-here.md says: runc,
# cgroupfs, no network, ulimits at or below the host's.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

[ "$(id -u)" = 0 ] || fail "the container test runs podman as root"
for tool in podman runc debootstrap; do
	command -v "$tool" > /dev/null || fail "$tool is not installed (scripts/install-deps installs it)"
done
. "$HERE/bullseye-image.sh"

PODMAN=(podman --runtime "$(command -v runc)" --cgroup-manager=cgroupfs --events-backend=file)
# ctr POOL [podman run options...] -- COMMAND...: one throwaway container of pool POOL
ctr() {
	local pool=$1
	shift
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	"${PODMAN[@]}" run --rm --network=none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
		--device "danaus.io/pool=$pool" "${opts[@]}" "$IMAGE" "$@" 2> "$WORK/ctr.err"
}
# podman's own chatter about this host's hybrid cgroups, and nothing else, on stderr
ctr_err() { grep -v 'level=warning msg="Failed to add conmon to cgroupfs' "$WORK/ctr.err" || true; }

A="ca$$" B="cb$$"
SPECS=("/run/cdi/danaus-pool-$A.json" "/run/cdi/danaus-pool-$B.json")
trap 'rc=$?; set +e; rm -f "${SPECS[@]}"; (exit $rc); cleanup' EXIT
CDI_DIR=/run/cdi pool_start "$A" "[access]\nusers = root, nobody"
A_MNT=$MNT A_ROOT=$ROOT A_PID=$PID
CDI_DIR=/run/cdi pool_start "$B" "[access]\nusers = root"
B_MNT=$MNT B_ROOT=$ROOT B_PID=$PID B_SOCK=$SOCK

spec=/run/cdi/danaus-pool-$A.json
[ -f "$spec" ] || fail "pool $A wrote no CDI spec $spec"
python3 - "$spec" "$A" "$SOCK" "$A_MNT" << 'PY' || fail "the spec of $A: see above"
import json, sys
spec, pool, sock, mnt = sys.argv[1:]
s = json.load(open(spec))
dev, = s['devices']
assert s['kind'] == 'danaus.io/pool' and dev['name'] == pool, s
mounts = {m['containerPath']: m['hostPath'] for m in dev['containerEdits']['mounts']}
assert mounts['/run/danaus/%s.sock' % pool].endswith('/%s/pool.sock' % pool), mounts
assert mounts[mnt] == '/run/danaus/not-served', mounts
PY
pass "each pool writes its CDI spec, naming the socket it listens on"

# A container of an older glibc is served: it reads what the host put in the
# pool and writes a file the host then finds, owned by the container's uid.
echo "from the host" > "$A_ROOT/host.txt"
out=$(ctr "$A" -- sh -c "ldd --version | head -1; cat $A_MNT/host.txt; echo 'from container 1' > $A_MNT/c1.txt") ||
	fail "a container of pool $A failed: $out $(ctr_err)"
case "$out" in *"GLIBC 2.31"*"from the host"*) ;; *) fail "container 1 printed: $out" ;; esac
grep -q "cannot be preloaded" <<< "$(ctr_err)" && fail "the loader refused the library: $(ctr_err)"
[ "$(cat "$A_ROOT/c1.txt")" = "from container 1" ] || fail "the host does not find container 1's file"
[ "$(stat -c %u "$A_ROOT/c1.txt")" = 0 ] || fail "container 1's file is owned by $(stat -c %u "$A_ROOT/c1.txt")"
pass "a Debian 11 container (glibc 2.31) reads and writes pool files through the library"

# The mountpoint is a directory in the container: ".." and getcwd work.
out=$(ctr "$A" -- sh -c "ls -la $A_MNT | grep ' \.\.\$'; cd $A_MNT && pwd && ls") ||
	fail "ls -la / cd in the container failed: $out $(ctr_err)"
case "$out" in d[r-][w-]x*" .."*"$A_MNT"*c1.txt*host.txt*) ;; *) fail "ls -la, pwd, ls printed: $out" ;; esac
pass "in the container the mountpoint's '..' is a directory and cd/pwd work"

# A second container of the same pool sees the first's file; one of another
# pool sees its own pool, and nothing of the first at the first's mountpoint.
out=$(ctr "$A" -- cat "$A_MNT/c1.txt") || fail "container 2 cannot read container 1's file: $(ctr_err)"
[ "$out" = "from container 1" ] || fail "container 2 read: $out"
echo "pool b" > "$ROOT/b.txt"
out=$(ctr "$B" -- sh -c "cat $B_MNT/b.txt; ls $A_MNT/c1.txt 2>&1; true") || fail "a container of pool $B failed: $(ctr_err)"
case "$out" in "pool b"*"No such file or directory"*) ;; *) fail "pool $B's container printed: $out" ;; esac
pass "containers of one pool share its files; a container of another pool does not see them"

# Two pools in one container: podman merges the two specs' variables by name
# (the last device's DANAUS_POOL wins, the first's DANAUS_MOUNTS may stay), so
# the library serves neither: each pool's mountpoint answers ENOTCONN and
# the refusal names both devices, rather than one pool served and the other
# showing its placeholder.
out=$(ctr "$A" --device "danaus.io/pool=$B" -- sh -c "cat $A_MNT/c1.txt; ls $B_MNT; echo x > $A_MNT/new.txt; echo done") ||
	fail "the container with two pools failed to run: $out $(ctr_err)"
[ "$out" = done ] || fail "the container with two pools printed: $out $(ctr_err)"
err=$(ctr_err)
for want in "cat: $A_MNT/c1.txt: Transport endpoint is not connected" \
	"ls: cannot access '$B_MNT': Transport endpoint is not connected" \
	"$A_MNT/new.txt: Transport endpoint is not connected" \
	"libdanaus: this process was given the CDI devices danaus.io/pool=$A, danaus.io/pool=$B: a process is served by one pool"; do
	grep -qF "$want" <<< "$err" || fail "with two pools the container's stderr lacks '$want': $err"
done
[ -e "$A_ROOT/new.txt" ] && fail "a container with two pools wrote into pool $A"
pass "a container given two pools is served by neither, and each process says so naming both"

# Who may attach is the pool's decision from the peer's host credentials.
mkdir -m 1777 "$A_ROOT/tmp"
out=$(ctr "$A" --user 65534:65534 -- sh -c "echo x > $A_MNT/nobody.txt; echo by-nobody > $A_MNT/tmp/nobody.txt && cat $A_MNT/tmp/nobody.txt") ||
	fail "nobody (in $A's [access]) was refused: $out $(ctr_err)"
grep -q "nobody.txt: Permission denied" <<< "$(ctr_err)" || fail "nobody wrote into root's 0755 directory: $(ctr_err)"
[ "$(stat -c %u:%g "$A_ROOT/tmp/nobody.txt")" = 65534:65534 ] ||
	fail "nobody's file is owned by $(stat -c %u:%g "$A_ROOT/tmp/nobody.txt")"
out=$(ctr "$A" --user 4242:4242 -- cat "$A_MNT/host.txt" 2>&1) &&
	fail "uid 4242, not in $A's [access], read a pool file: $out"
grep -q "not in its \[access\] list" <<< "$(ctr_err)" || fail "uid 4242's refusal does not say why: $(ctr_err)"
pass "a container's user is checked against [access] by its host uid (nobody in, 4242 refused)"

# A process the library does not serve (a static binary) sees no empty
# look-alike of the pool: a read-only directory whose one entry says why.
PROBE="$DANAUS_BUILD/tests/integration/unserved-probe"
[ -x "$PROBE" ] || fail "no $PROBE (meson builds it)"
out=$(ctr "$A" -v "$PROBE:/probe:ro" -- /probe "$A_MNT") || fail "the static probe failed: $out $(ctr_err)"
[ "$out" = "entry: DANAUS-NOT-SERVED
note: This directory is a Danaus mountpoint, and this process is not served by
create: Read-only file system" ] || fail "a static binary in the container saw: $out"
[ -e "$A_ROOT/new.txt" ] && fail "the unserved write reached the pool"
pass "unserved, the mountpoint is a read-only directory holding only DANAUS-NOT-SERVED"

# A pool with a compat mount ([pool] compat_mount) binds that mount at the
# mountpoint instead: the same static binary then reads and writes the pool.
D="cd$$"
SPECS+=("/run/cdi/danaus-pool-$D.json")
CDI_DIR=/run/cdi POOL_SETTINGS='compat_mount = yes\n' pool_start "$D"
D_MNT=$MNT D_ROOT=$ROOT
for _ in $(seq 100); do
	[ "$(findmnt -n -o FSTYPE "$D_MNT" 2>/dev/null)" = fuse.danaus ] && break
	sleep 0.05
done
[ "$(findmnt -n -o FSTYPE "$D_MNT")" = fuse.danaus ] || fail "pool $D has no compat mount at $D_MNT"
python3 -c "
import json, sys
m = {m['containerPath']: m for m in json.load(open(sys.argv[1]))['devices'][0]['containerEdits']['mounts']}
assert m[sys.argv[2]]['hostPath'] == sys.argv[2] and 'rbind' in m[sys.argv[2]]['options'], m
" "/run/cdi/danaus-pool-$D.json" "$D_MNT" || fail "the spec of $D does not bind its compat mount"
echo "from the host" > "$D_ROOT/host.txt"
out=$(ctr "$D" -v "$PROBE:/probe:ro" -- sh -c "/probe $D_MNT; cat $D_MNT/host.txt") ||
	fail "the static probe in a compat pool's container failed: $out $(ctr_err)"
[ "$out" = "entry: host.txt
create: done
from the host" ] || fail "a static binary in a compat pool's container saw: $out"
[ -f "$D_ROOT/new.txt" ] || fail "the static binary's file is not in the pool's root"
pass "with compat_mount a static binary in a container reads and writes the pool's files"

# A container's own union: with DANAUS_CONTAINER and DANAUS_IMAGE in its
# environment, the container sees, at the pool's mountpoint, an image of the
# pool's store under a writable layer of its name (the pool's [union]
# containers); the next container of that name finds it again.
C="cu$$"
SPECS+=("/run/cdi/danaus-pool-$C.json")
CDI_DIR=/run/cdi pool_start "$C" "[union]\ncontainers = /containers"
C_MNT=$MNT C_ROOT=$ROOT
python3 "$HERE/oci_layout.py" "$WORK/tiny" '{"layers": [[{"name": "etc", "kind": "dir", "mode": 493},
	{"name": "etc/motd", "data": "from the image"}]]}' > /dev/null
"$DANAUS_BUILD/image/danaus-image" --pool "$C" --socket "$SOCK" --mountpoint "$C_MNT" \
	import "$WORK/tiny" tiny:1 > /dev/null || fail "import of the tiny image failed"
union_ctr() { ctr "$C" -e DANAUS_CONTAINER="$1" -e DANAUS_IMAGE=tiny:1 -- sh -c "$2"; }
out=$(union_ctr web "cat $C_MNT/etc/motd; echo; echo mine > $C_MNT/etc/state; ls $C_MNT") ||
	fail "a container of its own union failed: $out $(ctr_err)"
[ "$out" = "from the image
etc" ] || fail "the container's union showed: $out $(ctr_err)"
[ "$(cat "$C_ROOT/containers/web/etc/state")" = mine ] || fail "its write is not in containers/web"
out=$(union_ctr web "cat $C_MNT/etc/state") || fail "the second container of web failed: $(ctr_err)"
[ "$out" = mine ] || fail "the second container of web read: $out"
out=$(union_ctr other "cat $C_MNT/etc/state 2>&1; cat $C_MNT/etc/motd; echo") || true
case "$out" in *"No such file"*"from the image") ;; *) fail "container other saw: $out" ;; esac
pass "podman containers get their own union of a stored image by name (DANAUS_CONTAINER, DANAUS_IMAGE)"

# A rootless container (podman run by an unprivileged user): its root is the
# user's host uid for the pool, with no capability over the pool's files.
RL=dnct_rl$$
RL_TAR=/tmp/danaus-rootless.$$.tar RL_RUN=/tmp/danaus-rootless-run.$$
rootless_cleanup() {
	# rootless podman leaves its pause process behind: the user goes with it
	pkill -KILL -u "$RL" 2> /dev/null
	for _ in $(seq 50); do pgrep -u "$RL" > /dev/null || break; sleep 0.1; done
	userdel -r "$RL" > /dev/null 2>&1
	sed -i "/^$RL:/d" /etc/subuid /etc/subgid
	rm -rf "$RL_TAR" "$RL_RUN"
}
trap 'rc=$?; set +e; rootless_cleanup; rm -f "${SPECS[@]}"; (exit $rc); cleanup' EXIT
useradd -m -s /bin/sh "$RL" || fail "useradd $RL failed"
printf '%s:400000:65536\n' "$RL" | tee -a /etc/subuid >> /etc/subgid
mkdir -p "$WORK/rl/usr/bin"
for b in sh cat id touch; do
	p=$(command -v "$b")
	cp "$p" "$WORK/rl/usr/bin/"
	for l in $(ldd "$p" | grep -o '/[^ ]*'); do
		mkdir -p "$WORK/rl$(dirname "$l")"
		cp -L "$l" "$WORK/rl$l"
	done
done
# and what the library needs besides: libpthread.so.0 and libdl.so.2, which
# every glibc package ships (stubs since 2.34)
for l in $(ldd "$DANAUS_BUILD/preload/libdanaus.so" | grep -o '/[^ ]*'); do
	mkdir -p "$WORK/rl$(dirname "$l")"
	cp -L "$l" "$WORK/rl$l"
done
ln -s usr/bin "$WORK/rl/bin"
tar -C "$WORK/rl" -cf "$RL_TAR" . && chmod 644 "$RL_TAR"
install -d -m 700 -o "$RL" "$RL_RUN"
CDI_DIR=/run/cdi pool_start "cr$$" "[access]\nusers = root, $RL"
SPECS+=("/run/cdi/danaus-pool-cr$$.json")
echo secret > "$ROOT/secret"
chmod 600 "$ROOT/secret"
mkdir -m 1777 "$ROOT/tmp"
rootless() {
	su "$RL" -s /bin/sh -c "cd && XDG_RUNTIME_DIR=$RL_RUN podman --runtime $(command -v runc) \
		--cgroup-manager=cgroupfs --events-backend=file $*"
}
rootless import "$RL_TAR" localhost/rl:1 > /dev/null 2>&1 || fail "rootless podman import failed"
out=$(rootless run --rm --network=none --device "danaus.io/pool=cr$$" localhost/rl:1 \
	sh -c "'id -u; echo rootless > $MNT/tmp/rl.txt; cat $MNT/secret || echo refused'" 2> "$WORK/rl.err") ||
	fail "the rootless container failed: $out $(cat "$WORK/rl.err")"
[ "$out" = "0
refused" ] || fail "the rootless container printed: $out $(cat "$WORK/rl.err")"
grep -q "Permission denied" "$WORK/rl.err" || fail "its read of root's file: $(cat "$WORK/rl.err")"
[ "$(stat -c %u "$ROOT/tmp/rl.txt")" = "$(id -u "$RL")" ] ||
	fail "the rootless container's file is owned by $(stat -c %u "$ROOT/tmp/rl.txt"), not $RL"
pass "a rootless container's root is its user's host uid: owns its files, cannot read root's"

# A pool killed by SIGKILL leaves its spec and its socket file: a container
# started with that spec must fail loudly where it touches the pool (the
# library cannot connect: ENOTCONN and why, on stderr), not run unserved.
b_spec=/run/cdi/danaus-pool-$B.json
# (the group's redirection also silences bash's "Killed" notice)
{ kill -KILL "$B_PID" && wait "$B_PID"; } 2>/dev/null || true
[ -f "$b_spec" ] && [ -S "$B_SOCK" ] || fail "pool $B, killed, left no spec or no socket file to test"
rc=0
out=$(timeout 60 "${PODMAN[@]}" run --rm --network=none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
	--device "danaus.io/pool=$B" "$IMAGE" sh -c "echo x > $B_MNT/stale.txt; ls $B_MNT; echo ran" 2> "$WORK/ctr.err") || rc=$?
[ $rc = 124 ] && fail "a container of the killed pool $B hung"
[ $rc = 0 ] && [ "$out" = ran ] || fail "a container of the killed pool $B printed: $out $(ctr_err)"
err=$(ctr_err)
for want in "$B_MNT/stale.txt: Transport endpoint is not connected" \
	"ls: cannot access '$B_MNT': Transport endpoint is not connected" \
	"libdanaus:" "cannot connect to /run/danaus/$B.sock"; do
	grep -qF "$want" <<< "$err" || fail "a container of the killed pool: its stderr lacks '$want': $err"
done
[ -e "$B_ROOT/stale.txt" ] && fail "a container of the killed pool $B wrote into its root"
pass "a container given the spec of a killed pool fails where it touches the pool, saying why"

# The next start replaces the spec and serves containers again; one on
# another socket, when it stops, removes the spec rather than putting back
# the killed pool's (its socket file is still there, but nobody listens).
CDI_DIR=/run/cdi pool_start "$B" "[access]\nusers = root"
B_PID=$PID
out=$(ctr "$B" -- sh -c "echo back > $B_MNT/back.txt; cat $B_MNT/back.txt") || fail "pool $B restarted, its container failed: $(ctr_err)"
[ "$out" = back ] && [ -f "$B_ROOT/back.txt" ] || fail "pool $B restarted, its container printed: $out"
{ kill -KILL "$B_PID" && wait "$B_PID"; } 2>/dev/null || true
"$POOL_BIN" --pool "$B" --config-dir "$WORK/$B/etc" --socket "$WORK/$B/other.sock" --cdi-dir /run/cdi \
	2> "$WORK/$B/other.log" &
B_PID=$!
POOL_PIDS+=("$B_PID")
# (its spec is written just after it listens)
for _ in $(seq 100); do grep -qF "$WORK/$B/other.sock" "$b_spec" && break; sleep 0.05; done
grep -qF "$WORK/$B/other.sock" "$b_spec" || fail "pool $B on another socket did not take over its spec"
kill -TERM "$B_PID"
for _ in $(seq 100); do kill -0 "$B_PID" 2>/dev/null || break; sleep 0.05; done
[ -e "$b_spec" ] && fail "pool $B stopped and put back the killed pool's spec: $(cat "$b_spec")"
pass "a killed pool's spec is replaced by its next start, and never put back once that stops"

# A pool started by hand takes its spec with it when it stops.
kill -TERM "$A_PID"
for _ in $(seq 100); do kill -0 "$A_PID" 2>/dev/null || break; sleep 0.05; done
[ -e "$spec" ] && fail "pool $A stopped and left its spec $spec"
out=$(ctr "$A" -- true) && fail "a container of the stopped pool $A ran: $out $(ctr_err)"
grep -qF "unresolvable CDI devices danaus.io/pool=$A" <<< "$(ctr_err)" ||
	fail "podman's refusal of the stopped pool $A: $(ctr_err)"
pass "a pool started by hand removes its spec when it stops: podman then finds no such device"
