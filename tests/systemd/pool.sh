#!/usr/bin/env bash
# Danaus under a real systemd: PID 1 of a PID namespace, booted on an overlay
# of / (see /work/shared/notes/systemd-in-a-namespace.md), with Danaus
# installed into it -- the .deb when DANAUS_DEB names one, else
# `meson install` of DANAUS_BUILD. Pools t1 and t2 are started by socket
# activation, their slices' limits are checked in systemd and in the cgroup
# files, programs run through danaus-run land in their pool's slice and keep
# their open files across restarts of it, restart and stop leave nothing
# behind, a compat_mount pool's FUSE mount reaches the host and goes with
# the pool, and a broken pool file fails visibly with FILE:LINE. Exit 77 (skip) where this cannot run: not root, no systemd.
set -Eeuo pipefail

skip() { echo "SKIP: $*"; exit 77; }
# The reason is said again after the dumps: a runner that shows only the
# last lines of a failed test would lose it above them.
FAILED=
fail() { FAILED=$*; echo "FAIL: $*" >&2; exit 1; }
# (with the callers' lines when it failed in a function)
trap 'FAILED=${FAILED:-"line $LINENO (called from ${BASH_LINENO[*]}): '"'"'$BASH_COMMAND'"'"' exited $?"}' ERR

# Everything happens in a private mount namespace: the overlay and its mounts
# vanish with it, also when the test is killed.
. "$(dirname "$0")/boot-lib.sh"
if [ -z "${DANAUS_SYSTEMD_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || skip "needs root"
	[ -x /lib/systemd/systemd ] || skip "no /lib/systemd/systemd"
	command -v unshare >/dev/null && command -v nsenter >/dev/null || skip "no unshare/nsenter"
	grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || true
	grep -qw overlay /proc/filesystems || skip "no overlayfs"
	[ -n "${DANAUS_DEB:-}" ] || : "${DANAUS_BUILD:?DANAUS_BUILD or DANAUS_DEB must be set}"
	sd_enter_mount_namespace "$0" "$@"
fi

CONFDIR=${DANAUS_CONFDIR:-/etc/danaus}
WORK=$(mktemp -d /tmp/danaus-systemd.XXXXXX)

cleanup() {
	local rc=$?
	[ "$rc" != 0 ] && sd_dump
	sd_poweroff
	rm -rf "$WORK"
	[ "$rc" = 0 ] || echo "FAIL (repeated): ${FAILED:-exit status $rc}" >&2
	exit "$rc"
}
trap cleanup EXIT

# --- boot
sd_prepare_root "$WORK"
ROOT=$SD_ROOT

# Install before boot: the generator then runs on the first start already.
if [ -n "${DANAUS_DEB:-}" ]; then
	cp "$DANAUS_DEB" "$ROOT/var/cache/danaus-test.deb"
else
	DESTDIR="$ROOT" meson install -C "$DANAUS_BUILD" --no-rebuild --quiet >/dev/null ||
		fail "meson install into the overlay failed"
fi

sd_boot 2>"$WORK/boot.err" || fail "$(cat "$WORK/boot.err")"
echo "systemd booted ($(ns systemctl is-system-running 2>/dev/null || true)), PID $SD_PID"

if [ -n "${DANAUS_DEB:-}" ]; then
	ns dpkg -i /var/cache/danaus-test.deb >"$WORK/dpkg.log" 2>&1 || fail "dpkg -i: $(cat "$WORK/dpkg.log")"
	echo "installed $(basename "$DANAUS_DEB")"
fi

# For debugging: DANAUS_SYSTEMD_HOLD=1 keeps the booted systemd until
# $WORK/release exists; enter it with `nsenter -t PID -m -p -r -w`.
if [ -n "${DANAUS_SYSTEMD_HOLD:-}" ]; then
	echo "holding: nsenter -t $SD_PID -m -p -r -w; touch $WORK/release to go on" >&2
	while [ ! -e "$WORK/release" ]; do sleep 1; done
fi

# --- systemd-analyze verify: clean for every unit (instances of the templates)
unitdir=$(ns sh -c 'for d in /usr/lib/systemd/system /lib/systemd/system; do
	[ -f $d/danaus-pool@.service ] && echo $d && break; done')
[ -n "$unitdir" ] || fail "the units are not installed"
ns mkdir -p /tmp/verify
ns cp "$unitdir/danaus-pool@.service" /tmp/verify/danaus-pool@v.service
ns cp "$unitdir/danaus-pool@.socket" /tmp/verify/danaus-pool@v.socket
ns cp "$unitdir/danaus.slice" /tmp/verify/danaus.slice
# --man=no when the pages are not in man's index (meson install); the .deb has them.
man_arg=--man=yes
ns man -w danaus-pool.8 >/dev/null 2>&1 || man_arg=--man=no
out=$(ns systemd-analyze verify "$man_arg" /tmp/verify/danaus-pool@v.socket \
	/tmp/verify/danaus-pool@v.service /tmp/verify/danaus.slice 2>&1) || true
[ -z "$out" ] || fail "systemd-analyze verify is not clean: $out"
echo "systemd-analyze verify: clean ($man_arg)"

# --- pools t1 and t2
pool_ini() { # NAME QUOTA MEMMAX [ROOT]
	local root=${4:-/var/lib/danaus/$1}
	ns mkdir -p "$CONFDIR/pools" "$root"
	ns sh -c "cat >$CONFDIR/pools/$1.ini" <<EOF
[pool]
backend = local
mountpoint = /danaus/$1

[local]
root = $root

[resources]
cpu_quota = $2%
memory_max = $3
memory_high = $3
io_weight = 100
EOF
}
pool_ini t1 50 256M
ns systemctl daemon-reload
ns systemctl start danaus-pool@t1.socket
[ "$(ns systemctl is-active danaus-pool@t1.service || true)" = inactive ] ||
	fail "the service runs before anyone connected"
ns test -S /run/danaus/t1.sock || fail "no socket /run/danaus/t1.sock"

# The program: writes and reads through the pool, reports its own cgroups.
run_in() { # POOL
	ns danaus-run --pool "$1" --cgroup=required -- sh -c \
		"echo hello-$1 >/danaus/$1/f && cat /danaus/$1/f && cat /proc/self/cgroup"
}
# Serves POOL: danaus-run's program reads back what it wrote there.
serves() { local o; o=$(run_in "$1") && grep -qx "hello-$1" <<<"$o"; }
out=$(run_in t1) || fail "danaus-run --pool t1 failed: $out"
echo "$out" | grep -qx hello-t1 || fail "t1 did not serve the program: $out"
ns grep -qx hello-t1 /var/lib/danaus/t1/f || fail "the file is not in t1's local root"
[ "$(ns systemctl is-active danaus-pool@t1.service)" = active ] || fail "socket activation did not start t1"
# The program itself (not only the service) is in the pool's slice, in the
# name=systemd hierarchy and in the memory and cpu controllers.
# (In a v1 controller without settings of its own, such as cpu, systemd
# stops at the slice: the scope has no cpu cgroup of its own.)
for h in 'name=systemd' memory cpu; do
	echo "$out" | grep -E "^[0-9]+:([a-z_,]*,)?$h(,[a-z_,]*)?:" |
		grep -qE '/danaus.slice/danaus-t1.slice(/danaus-run-t1-[0-9]+.scope)?$' ||
		fail "the program is not in danaus-t1.slice ($h): $out"
done
echo "$out" | grep -q '^[0-9]*:name=systemd:.*/danaus.slice/danaus-t1.slice/danaus-run-t1-[0-9]*.scope$' ||
	fail "the program is not in its scope: $out"
echo "t1: socket activation served danaus-run; the program ran in danaus-t1.slice"

# The other way in, for hosts where no manager is asked: libcgroup moves the
# program into the pool's cgroup in every controller hierarchy itself (the
# resource controllers; systemd's own name=systemd tree is the manager's).
out=$(ns danaus-run --pool t1 --cgroup=required --cgroup-via=libcgroup -- sh -c \
	"cat /danaus/t1/f && cat /proc/self/cgroup") || fail "danaus-run via libcgroup failed: $out"
echo "$out" | grep -qx hello-t1 || fail "t1 did not serve the libcgroup-placed program: $out"
for h in memory cpu pids; do
	echo "$out" | grep -E "^[0-9]+:([a-z_,]*,)?$h(,[a-z_,]*)?:" |
		grep -qE '/danaus.slice/danaus-t1.slice$' ||
		fail "libcgroup did not place the program in danaus-t1.slice ($h): $out"
done
echo "t1: libcgroup placed a program in danaus-t1.slice too"

# systemd's view and the kernel's: the slice carries quota and limit.
check_limits() { # POOL QUOTA_PCT MEMMAX_BYTES
	local p=$1 slice=danaus-$1.slice
	local show
	show=$(ns systemctl show -p CPUQuotaPerSecUSec -p MemoryMax -p MemoryHigh -p IOWeight "$slice")
	echo "$show" | grep -qx "CPUQuotaPerSecUSec=$(($2 * 10))ms" || fail "$slice: $show"
	echo "$show" | grep -qx "MemoryMax=$3" || fail "$slice: $show"
	[ "$(ns systemctl show -p Slice --value "danaus-pool@$p.service")" = "$slice" ] ||
		fail "danaus-pool@$p.service is not in $slice"
	local pid cpu_cg mem_cg
	pid=$(ns systemctl show -p MainPID --value "danaus-pool@$p.service")
	[ "$pid" != 0 ] || fail "danaus-pool@$p.service has no main process"
	# The service's cgroups, seen by the kernel, lie in the slice's. (In a v1
	# controller where the service has no settings of its own, such as cpu,
	# systemd stops at the slice.)
	cpu_cg=$(ns cat "/proc/$pid/cgroup" | awk -F: '$2 ~ /(^|,)cpu(,|$)/ {print $3}')
	mem_cg=$(ns cat "/proc/$pid/cgroup" | awk -F: '$2 == "memory" {print $3}')
	[[ $cpu_cg =~ /danaus.slice/$slice(/danaus-pool@$p.service)?$ ]] || fail "cpu cgroup $cpu_cg"
	[[ $mem_cg =~ /danaus.slice/$slice(/danaus-pool@$p.service)?$ ]] || fail "memory cgroup $mem_cg"
	local cpudir=/sys/fs/cgroup/cpu memdir=/sys/fs/cgroup/memory
	[ -f $cpudir/cpu.cfs_quota_us ] || cpudir=/sys/fs/cgroup/cpu,cpuacct
	local q m
	q=$(cat "$cpudir${cpu_cg%%/danaus.slice/*}/danaus.slice/$slice/cpu.cfs_quota_us")
	m=$(cat "$memdir${mem_cg%%/danaus.slice/*}/danaus.slice/$slice/memory.limit_in_bytes")
	[ "$q" = $(($2 * 1000)) ] || fail "$slice: cpu.cfs_quota_us = $q, not $(($2 * 1000))"
	[ "$m" = "$3" ] || fail "$slice: memory.limit_in_bytes = $m, not $3"
	echo "$p: CPUQuota=$2% -> cpu.cfs_quota_us=$q; MemoryMax=$3 -> memory.limit_in_bytes=$m"
}
check_limits t1 50 268435456
grep -qx 30s <<<"$(ns systemctl show -p WatchdogUSec --value danaus-pool@t1.service)" || fail "no watchdog"
grep -q '^serving t1 .* sessions' <<<"$(ns systemctl show -p StatusText --value danaus-pool@t1.service)" ||
	fail "no STATUS=: $(ns systemctl show -p StatusText danaus-pool@t1.service)"
# the metrics socket the unit passes: danaus-ctl reads it, by the pool's name
out=$(ns danaus-ctl status t1 --interval 0.2) || fail "danaus-ctl status t1: $out"
echo "$out" | grep -q '^pool t1 (local at /danaus/t1)' || fail "danaus-ctl status t1 said: $out"
echo "$out" | grep -qE '^(open|pread|stat) ' || fail "danaus-ctl status t1 lists no requests: $out"
# resource use against the slice: the cgroup's memory and its limit, MemoryMax=256M
echo "$out" | grep -qE '^memory: .*; cgroup [0-9.]+ [KMG]?i?B of 256(\.0)? MiB' ||
	fail "danaus-ctl status t1 shows no cgroup memory against the slice's 256M: $out"
echo "t1: danaus-ctl status reads the metrics socket systemd passed, the cgroup's memory against MemoryMax"
# the CDI spec: written by the sandboxed pool itself (RuntimeDirectory= cdi),
# naming systemd's socket, with the placeholder it binds at the mountpoint
spec=$(ns cat /run/cdi/danaus-pool-t1.json) || fail "the pool under systemd wrote no CDI spec"
for want in '"DANAUS_POOL=t1"' '"hostPath":"/run/danaus/t1.sock"' '"hostPath":"/run/danaus/not-served"'; do
	grep -qF "$want" <<<"$spec" || fail "the CDI spec of t1 lacks $want: $spec"
done
ns test -f /run/danaus/not-served/DANAUS-NOT-SERVED || fail "no mountpoint placeholder for containers"
echo "t1: its CDI spec (danaus.io/pool=t1) names systemd's socket"

# --- a second pool beside the first, with its own limits
pool_ini t2 30 128M
ns systemctl daemon-reload
ns systemctl start danaus-pool@t2.socket
out=$(run_in t2) || fail "danaus-run --pool t2 failed: $out"
echo "$out" | grep -qx hello-t2 || fail "t2 did not serve: $out"
echo "$out" | grep -q '/danaus.slice/danaus-t2.slice/danaus-run-t2-' || fail "not in t2's slice: $out"
check_limits t2 30 134217728
check_limits t1 50 268435456
serves t1 || fail "t1 stopped serving after t2 came"

# --- confinement: the unit's sandbox and the generated drop-in
# The capabilities a caller may use on files, CAP_SETUID/CAP_SETGID (serving
# as the caller) and CAP_SYS_RESOURCE -- as far as the host's own bounding
# set has them (a container host may lack CAP_SYS_RESOURCE) -- and never
# CAP_SYS_ADMIN (bit 21).
pid=$(ns systemctl show -p MainPID --value danaus-pool@t1.service)
status=$(ns cat "/proc/$pid/status")
capbnd=$(awk '$1 == "CapBnd:" {print $2}' <<<"$status")
(( (16#$capbnd >> 21) & 1 )) && fail "the pool's CapBnd $capbnd holds CAP_SYS_ADMIN"
host_bnd=$(ns awk '$1 == "CapBnd:" {print $2}' /proc/1/status)
want_bnd=$(printf '%016x' $((16#890002df & 16#$host_bnd)))
[ "$capbnd" = "$want_bnd" ] || fail "the pool's CapBnd is $capbnd, not $want_bnd (CAP_CHOWN, \
DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID, SETGID, SETUID, LINUX_IMMUTABLE, SYS_RESOURCE, \
MKNOD, SETFCAP within the host's $host_bnd)"
grep -qE '^NoNewPrivs:[[:space:]]+1$' <<<"$status" || fail "the pool runs without NoNewPrivs"
# ProtectSystem=strict: in the pool's mount namespace only its root and
# /run/danaus are writable (nsenter keeps our capabilities: this is the
# mount's read-only flag, not a permission check).
ns nsenter -t "$pid" -m -r -w sh -c 'touch /var/lib/danaus/probe' 2>/dev/null &&
	fail "the pool can write /var/lib/danaus, outside its root"
ns nsenter -t "$pid" -m -r -w sh -c 'touch /var/lib/danaus/t1/.probe && rm /var/lib/danaus/t1/.probe &&
	mkdir /run/danaus/.probe && rmdir /run/danaus/.probe' || fail "the pool cannot write its root or /run/danaus"
[ "$(ns systemctl show -p PrivateNetwork --value danaus-pool@t1.service)" = yes ] ||
	fail "a local pool keeps the network"
echo "t1: CapBnd=$capbnd, NoNewPrivs=1, only its root and /run/danaus writable, no network"
# Without CAP_SYS_ADMIN, trusted.* extended attributes are refused to the
# pool's callers, root included, on a file where root outside the pool may
# set one.
xattr_py='import errno, os, sys
try:
    if sys.argv[1] == "set":
        os.setxattr(sys.argv[2], "trusted.danaus", b"1")
    else:
        os.getxattr(sys.argv[2], "trusted.danaus")
    print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])'
out=$(ns python3 -c "$xattr_py" set /var/lib/danaus/t1/f)
[ "$out" = ok ] || fail "root outside the pool cannot set trusted.danaus on t1's file: $out"
out=$(ns danaus-run --pool t1 --no-cgroup -- python3 -c "$xattr_py" set /danaus/t1/f)
[ "$out" = EPERM ] || fail "root set trusted.danaus through the pool: $out"
out=$(ns danaus-run --pool t1 --no-cgroup -- python3 -c "$xattr_py" get /danaus/t1/f)
[ "$out" = ENODATA ] || fail "root read trusted.danaus through the pool: $out"
echo "t1: trusted.* extended attributes are refused to root through the pool"

# A root outside /var, its name quoted in the drop-in (a space, a '%'),
# served to a user that is not root, with that user's rights.
t3root="/srv/danaus pools/t3%x"
pool_ini t3 50 128M "$t3root"
ns mkdir -p "$t3root/u"
ns chown 65534:65534 "$t3root/u"
ns systemctl daemon-reload
ns systemctl start danaus-pool@t3.socket
rwp=$(ns systemctl show -p ReadWritePaths --value danaus-pool@t3.service)
[ "$rwp" = "-$t3root" ] || [ "$rwp" = "\"-$t3root\"" ] || fail "t3's ReadWritePaths=$rwp"
as_nobody() { ns setpriv --reuid=65534 --regid=65534 --clear-groups danaus-run --pool t3 --no-cgroup -- "$@"; }
out=$(as_nobody sh -c 'echo hello-nobody >/danaus/t3/u/f && cat /danaus/t3/u/f') ||
	fail "nobody's write through t3 failed: $out"
[ "$out" = hello-nobody ] || fail "nobody read back '$out'"
[ "$(ns stat -c %u:%g "$t3root/u/f")" = 65534:65534 ] ||
	fail "nobody's file is owned by $(ns stat -c %u:%g "$t3root/u/f")"
as_nobody sh -c 'echo x >/danaus/t3/not-mine' 2>/dev/null &&
	fail "nobody wrote into t3's root-owned root directory"
ns test -e "$t3root/not-mine" && fail "nobody's refused file exists"
# The mountpoint exists in the host tree, made before the sandbox closed it.
ns test -d /danaus/t3 || fail "no mountpoint /danaus/t3 on the host"
grep -q 'cannot create the mountpoint' <<<"$(ns journalctl --no-pager -u danaus-pool@t3.service)" &&
	fail "t3 could not create its mountpoint: $(ns journalctl --no-pager -u danaus-pool@t3.service)"
echo "t3: root '$t3root' served nobody's write, with nobody's rights"
# journald has each session's entries with the pool's fields: POOL=, SESSION=, UID=
# (journald takes them asynchronously: the entry may be a moment late)
for _ in $(seq 50); do
	grep -q 'MESSAGE=attached pid .*, uid 65534' <<<"$(ns journalctl --no-pager -o verbose \
		-u danaus-pool@t3.service POOL=t3 UID=65534)" && break
	sleep 0.1
done
grep -q 'MESSAGE=attached pid .*, uid 65534' <<<"$(ns journalctl --no-pager -o verbose \
	-u danaus-pool@t3.service POOL=t3 UID=65534)" ||
	fail "no structured attach entry (POOL=t3 UID=65534): $(ns journalctl --no-pager -o verbose -u danaus-pool@t3.service | tail -30)"
echo "t3: nobody's attach is in the journal with POOL=, SESSION= and UID="

# The pool reads its clients' /proc/PID/status (their capabilities): a
# process of another user must be visible in the pool's /proc to a reader
# with the pool's capabilities and a worker's groups (ProtectProc=invisible
# would hide it; hidepid exempts group 0, so the reader is not in it).
pid3=$(ns systemctl show -p MainPID --value danaus-pool@t3.service)
sleeper=$(ns sh -c 'setpriv --reuid=65534 --regid=65534 --clear-groups sleep 60 >/dev/null 2>&1 & echo $!')
bnd=-all,+chown,+dac_override,+dac_read_search,+fowner,+fsetid,+setgid,+setuid,+linux_immutable
bnd=$bnd,+mknod,+sys_resource,+setfcap
seen=$(ns nsenter -t "$pid3" -m -r -w setpriv --regid=65533 --clear-groups --bounding-set="$bnd" \
	--inh-caps=-all sh -c "grep '^Uid:' /proc/$sleeper/status" 2>&1) || true
ns kill "$sleeper" 2>/dev/null || true
grep -q '65534' <<<"$seen" || fail "the pool cannot read another user's /proc/PID/status: $seen"
echo "t3: another user's /proc/PID/status is readable with the pool's capabilities"

# systemd's own rating of the sandbox: 0 (confined) to 10 (exposed).
exposure() { # UNIT MAX: prints the unit's exposure, fails above MAX
	local e
	e=$(ns systemd-analyze security --no-pager "$1" |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p')
	[ -n "$e" ] || fail "systemd-analyze security printed no exposure for $1"
	awk -v e="$e" -v max="$2" 'BEGIN { exit !(e + 0 <= max + 0) }' || fail "$1: exposure $e > $2"
	echo "$e"
}
e1=$(exposure danaus-pool@t1.service 3.0)
echo "systemd-analyze security: danaus-pool@t1.service (local) exposure $e1"
# A ceph pool (rated, not started) keeps the network its cluster needs: 3.2
# with any address, 3.0 when [ceph] networks names its cluster's (here one on
# this host: localhost; 3.1 for other networks).
ns sh -c "printf '[pool]\nbackend = ceph\n' >$CONFDIR/pools/c1.ini"
ns sh -c "printf '[pool]\nbackend = ceph\n[ceph]\nnetworks = localhost\n' >$CONFDIR/pools/c2.ini"
ns systemctl daemon-reload
grep -qw AF_INET <<<"$(ns systemctl show -p RestrictAddressFamilies --value danaus-pool@c1.service)" ||
	fail "a ceph pool has no AF_INET"
e2=$(exposure danaus-pool@c1.service 3.2)
echo "systemd-analyze security: danaus-pool@c1.service (ceph) exposure $e2"
grep -q 127.0.0.0/8 <<<"$(ns systemctl show -p IPAddressAllow --value danaus-pool@c2.service)" ||
	fail "[ceph] networks = localhost is not the unit's IPAddressAllow="
e3=$(exposure danaus-pool@c2.service 3.0)
echo "systemd-analyze security: danaus-pool@c2.service (ceph, networks = localhost) exposure $e3"
ns rm "$CONFDIR/pools/c1.ini" "$CONFDIR/pools/c2.ini"

# --- compat_mount under systemd: the sandboxed pool makes its FUSE mount
# detached, the unit's ExecStartPost=+ attaches it in the host's mount
# namespace, and ExecStopPost=+ takes it away; the pool keeps no
# CAP_SYS_ADMIN once it serves.
BUSYBOX=$(command -v busybox) || fail "busybox is not installed (scripts/install-deps installs busybox-static)"
file -L "$BUSYBOX" | grep -q "statically linked" || fail "$BUSYBOX is not the static busybox (busybox-static)"
ns test -c /dev/fuse || fail "no /dev/fuse: the compat mount cannot be tested here"
ns mkdir -p /var/lib/danaus/cm/data
ns sh -c "echo in-data >/var/lib/danaus/cm/data/f"
ns sh -c "printf '[pool]\nbackend = local\nmountpoint = /danaus/cm\ncompat_mount = yes\n[local]\nroot = /var/lib/danaus/cm\n[mount data]\nmountpoint = /danaus/cm-data\npath = /data\n' >$CONFDIR/pools/cm.ini"
ns systemctl daemon-reload
ns systemctl start danaus-pool@cm.service || fail "the compat pool did not start"
# The mounts at /danaus/cm (or another mountpoint) in the host (systemd's) namespace, bottom first.
cm_mounts() { ns awk -v at="${1:-/danaus/cm}" '$5 == at {print $(NF-2)}' /proc/self/mountinfo | tr '\n' ' '; }
[ "$(cm_mounts)" = "fuse.danaus " ] ||
	fail "/danaus/cm after start holds: '$(cm_mounts)'; mounts: $(ns grep danaus /proc/self/mountinfo)"
[ "$(cm_mounts /danaus/cm-data)" = "fuse.danaus " ] ||
	fail "/danaus/cm-data ([mount data]) after start holds: '$(cm_mounts /danaus/cm-data)'"
[ "$(ns "$BUSYBOX" cat /danaus/cm-data/f)" = in-data ] || fail "static busybox cannot read [mount data]'s file"
cm_static_preload() { # TAG: a static program and a preloaded one see each other's writes
	ns "$BUSYBOX" sh -c "echo static-$1 >/danaus/cm/s" || fail "static busybox cannot write /danaus/cm/s"
	local out
	out=$(ns danaus-run --pool cm --no-cgroup -- sh -c "cat /danaus/cm/s && echo preload-$1 >/danaus/cm/p") ||
		fail "danaus-run on cm: $out"
	[ "$out" = "static-$1" ] || fail "the preloaded program read '$out', not static-$1"
	out=$(ns "$BUSYBOX" cat /danaus/cm/p)
	[ "$out" = "preload-$1" ] || fail "static busybox read '$out', not preload-$1"
	ns grep -qx "static-$1" /var/lib/danaus/cm/s || fail "the static write is not in cm's root"
}
cm_static_preload 1
pid=$(ns systemctl show -p MainPID --value danaus-pool@cm.service)
# Every thread of the serving pool: no CAP_SYS_ADMIN (bit 21) permitted or effective.
for st in $(ns sh -c "ls -d /proc/$pid/task/*/status"); do
	for set in CapPrm CapEff; do
		v=$(ns awk -v s="$set:" '$1 == s {print $2}' "$st")
		[ -n "$v" ] || fail "no $set in $st"
		(( (16#$v >> 21) & 1 )) && fail "$st: $set $v holds CAP_SYS_ADMIN"
	done
done
[ "$(ns sh -c "ls /proc/$pid/task | wc -l")" -gt 1 ] || fail "the compat pool has no threads to check"
ns test -e /run/danaus/cm.compat || fail "the pool did not record its mount's descriptor"
# so root, through the library or the mount, still gets no trusted.* xattr
ns touch /var/lib/danaus/cm/x
out=$(ns danaus-run --pool cm --no-cgroup -- python3 -c "$xattr_py" set /danaus/cm/x)
[ "$out" = EPERM ] || fail "root set trusted.danaus through the compat pool's library path: $out"
out=$(ns python3 -c "$xattr_py" set /danaus/cm/x)
[ "$out" = EPERM ] || fail "root set trusted.danaus through the compat mount: $out"
echo "cm: static busybox and danaus-run share /danaus/cm; [mount data] has its mount too; the pool serves without CAP_SYS_ADMIN"
ns systemctl stop danaus-pool@cm.service danaus-pool@cm.socket
[ -z "$(cm_mounts)" ] || fail "/danaus/cm after stop holds: '$(cm_mounts)'"
[ -z "$(cm_mounts /danaus/cm-data)" ] || fail "/danaus/cm-data after stop holds: '$(cm_mounts /danaus/cm-data)'"
ns test -e /run/danaus/cm.compat && fail "the compat record stayed after stop"
ns systemctl start danaus-pool@cm.service || fail "the compat pool did not start again"
old=$(ns systemctl show -p MainPID --value danaus-pool@cm.service)
ns systemctl kill -s KILL danaus-pool@cm.service
new=$old
for _ in $(seq 100); do
	new=$(ns systemctl show -p MainPID --value danaus-pool@cm.service)
	[ "$new" != 0 ] && [ "$new" != "$old" ] &&
		[ "$(ns systemctl is-active danaus-pool@cm.service)" = active ] && break
	sleep 0.1
done
[ "$new" != 0 ] && [ "$new" != "$old" ] || fail "the killed compat pool was not restarted ($old -> $new)"
[ "$(cm_mounts)" = "fuse.danaus " ] || fail "/danaus/cm after kill -9 + restart holds: '$(cm_mounts)'"
[ "$(cm_mounts /danaus/cm-data)" = "fuse.danaus " ] ||
	fail "/danaus/cm-data after kill -9 + restart holds: '$(cm_mounts /danaus/cm-data)'"
cm_static_preload 2
echo "cm: stop leaves no mount; kill -9 + Restart=on-failure mounts it again, once"
e4=$(exposure danaus-pool@cm.service 2.7)
echo "systemd-analyze security: danaus-pool@cm.service (local, compat_mount) exposure $e4 (t1, the same without: $e1)"
ns systemctl stop danaus-pool@cm.service danaus-pool@cm.socket

# --- a program keeps its open file across restarts of its pool: systemctl
# restart, and kill -9 with the unit's Restart=on-failure (restart.sh tests
# the details with a pool started by hand)
ns sh -c 'printf 0123456789 > /var/lib/danaus/t1/held'
ns sh -c 'cat > /tmp/held.py' <<'EOF'
import os, time
def wait(p):
    while not os.path.exists(p):
        time.sleep(0.05)
fd = os.open("/danaus/t1/held", os.O_RDWR)
print(os.read(fd, 2).decode(), flush=True)
open("/tmp/held.1", "w").close()
wait("/tmp/held.go1")
print(os.read(fd, 2).decode(), flush=True)
os.write(fd, b"ab")
open("/tmp/held.2", "w").close()
wait("/tmp/held.go2")
print(os.read(fd, 2).decode(), flush=True)
print("done", flush=True)
EOF
ns sh -c 'danaus-run --pool t1 --no-cgroup -- python3 /tmp/held.py >/tmp/held.out 2>&1 &'
ns_wait() { # FILE: waits for it in the namespace
	for _ in $(seq 200); do ns test -e "$1" && return 0; sleep 0.1; done
	fail "timed out waiting for $1: $(ns cat /tmp/held.out)"
}
ns_wait /tmp/held.1
old=$(ns systemctl show -p MainPID --value danaus-pool@t1.service)
ns systemctl restart danaus-pool@t1.service
ns touch /tmp/held.go1
ns_wait /tmp/held.2
ns kill -KILL "$(ns systemctl show -p MainPID --value danaus-pool@t1.service)"
ns touch /tmp/held.go2
for _ in $(seq 200); do ns grep -qx done /tmp/held.out && break; sleep 0.1; done
out=$(ns cat /tmp/held.out)
[ "$(tr '\n' ' ' <<<"$out")" = "01 23 67 done " ] || fail "the program across restarts of t1 said: $out"
[ "$(ns cat /var/lib/danaus/t1/held)" = 0123ab6789 ] || fail "held: $(ns cat /var/lib/danaus/t1/held)"
[ "$(ns systemctl show -p NRestarts --value danaus-pool@t1.service)" -ge 1 ] ||
	fail "systemd did not restart the killed pool"
new=$(ns systemctl show -p MainPID --value danaus-pool@t1.service)
[ "$new" != 0 ] && [ "$new" != "$old" ] || fail "t1's pool is not a new process ($old -> $new)"
echo "t1: a program's open file went on across systemctl restart and kill -9 + Restart=on-failure"

# --- restart and stop
old=$(ns systemctl show -p MainPID --value danaus-pool@t1.service)
ns systemctl restart danaus-pool@t1.service
new=$(ns systemctl show -p MainPID --value danaus-pool@t1.service)
[ "$(ns systemctl is-active danaus-pool@t1.service)" = active ] && [ "$new" != "$old" ] ||
	fail "restart: active=$(ns systemctl is-active danaus-pool@t1.service) pid $old -> $new"
serves t1 || fail "t1 does not serve after restart"
svc_cg=$(ns cat "/proc/$new/cgroup" | awk -F: '$2 == "memory" {print $3}')
ns systemctl stop danaus-pool@t1.service danaus-pool@t1.socket
for u in danaus-pool@t1.service danaus-pool@t1.socket; do
	[ "$(ns systemctl is-active "$u" || true)" = inactive ] || fail "$u is still $(ns systemctl is-active "$u")"
done
ns test -e /run/danaus/t1.sock && fail "the socket file stayed behind"
ns test -S /run/danaus/t2.sock || fail "stopping t1 took t2's socket along"
[ -d "/sys/fs/cgroup/memory$svc_cg" ] && fail "the service's cgroup stayed behind: $svc_cg"
ns pgrep -f 'danaus-pool --pool t1' >/dev/null && fail "a danaus-pool process for t1 stayed behind"
grep -q . <<<"$(ns systemctl list-units --all --plain --no-legend 'danaus-run-t1-*')" &&
	fail "danaus-run scopes stayed behind: $(ns systemctl list-units --all 'danaus-run-t1-*')"
echo "t1: restart and stop work and leave nothing behind"

# --- a broken pool file fails visibly, with FILE:LINE
ns sed -i 's/^memory_max = .*/memory_max = lots/' "$CONFDIR/pools/t1.ini"
line=$(ns grep -n '^memory_max' "$CONFDIR/pools/t1.ini" | cut -d: -f1)
want="$CONFDIR/pools/t1.ini:$line: memory_max:"
ns systemctl daemon-reload
grep -qF "danaus-generator: $want" <<<"$(ns journalctl --no-pager -b)" ||
	echo "note: the generator's message did not reach the journal (it goes to kmsg/console)"
grep -qF "$want" "$WORK/console.log" && echo "generator reported: $(grep -F "$want" "$WORK/console.log" | head -1)"
if ns systemctl start danaus-pool@t1.service 2>/dev/null; then
	fail "danaus-pool@t1.service started with a broken t1.ini"
fi
status=$(ns systemctl status --no-pager -l danaus-pool@t1.service 2>&1 || true)
echo "$status" | grep -qF "$want" || fail "systemctl status does not show '$want': $status"
grep -qF "$want" <<<"$(ns journalctl --no-pager -u danaus-pool@t1.service)" ||
	fail "the journal does not show '$want'"
echo "broken t1.ini: the unit fails, status and journal show '$want'"
ns systemctl stop danaus-pool@t1.service danaus-pool@t1.socket 2>/dev/null || true
# A pool that cannot start is no CDI device: a container asking for it gets
# an unresolvable device, not a dead pool.
ns test -e /run/cdi/danaus-pool-t1.json && fail "t1's CDI spec stayed after its file broke"
echo "broken t1.ini: daemon-reload removed its CDI spec"

# t2 kept serving all along.
serves t2 || fail "t2 stopped serving"

# A pool file removed: daemon-reload takes the pool's CDI spec away.
ns test -f /run/cdi/danaus-pool-t2.json || fail "t2 has no CDI spec"
ns mv "$CONFDIR/pools/t2.ini" "$CONFDIR/pools/t2.ini.off"
ns systemctl daemon-reload
ns test -e /run/cdi/danaus-pool-t2.json && fail "t2's CDI spec stayed after its file was removed"
echo "t2.ini removed: daemon-reload removed its CDI spec"
echo ok
