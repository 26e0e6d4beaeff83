#!/usr/bin/env bash
# danaus-generator on its own: pool files in, slices and drop-ins out.
set -euo pipefail
: "${DANAUS_BUILD:?}"
GEN="$DANAUS_BUILD/units/danaus-generator"
WORK=$(mktemp -d /tmp/danaus-gen.XXXXXX)
trap 'chmod -R u+w "$WORK"; rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
mkdir -p "$WORK/etc/pools" "$WORK/out"

printf '[pool]\nworkers = 2\n' >"$WORK/etc/danaus.ini"
cat >"$WORK/etc/pools/t1.ini" <<'EOF'
[pool]
backend = local
[local]
root = /home/t1
[resources]
cpu_quota = 150%
cpus = 3,0-1
memory_max = 2G
memory_high = infinity
io_weight = 200
[mount data]
mountpoint = /data/t1
path = /tenants/t1
EOF
cat >"$WORK/etc/pools/a-b.ini" <<'EOF'
[pool]
backend = local
[resources]
cpu_quota = 50%
memory_max = lots
EOF
cat >"$WORK/etc/pools/q.ini" <<'EOF'
[pool]
backend = local
[local]
root = /srv/a b%c"d\e
EOF
cat >"$WORK/etc/pools/c1.ini" <<'EOF'
[pool]
backend = ceph
mountpoint = /mnt/danaus/c1
[ceph]
conf = /home/c1/ceph.conf
keyring = /tmp/c1/ceph.client.c1.keyring
EOF
printf '[pool]\nbackend = ceph\n[ceph]\nnetworks = 10.1.0.0/16, localhost\n' >"$WORK/etc/pools/c2.ini"
printf '[pool]\ncompat_mount = yes\nmountpoint = /srv/c m%%\n[mount x]\nmountpoint = /srv/cm-x\npath = /x\n' >"$WORK/etc/pools/cm.ini"
printf '[pool]\n' >"$WORK/etc/pools/bad name.ini"
printf 'not a pool\n' >"$WORK/etc/pools/README"

DANAUS_CONFIG_DIR="$WORK/etc" DANAUS_CDI_DIR="$WORK/cdi" DANAUS_RUNDIR="$WORK/run" "$GEN" "$WORK/out" "$WORK/early" "$WORK/late" 2>"$WORK/stderr" ||
	fail "the generator failed: $(cat "$WORK/stderr")"

s="$WORK/out/danaus-t1.slice"
for want in 'CPUQuota=150%' 'AllowedCPUs=0-1,3' 'MemoryMax=2147483648' 'MemoryHigh=infinity' \
	'IOWeight=200' 'SourcePath='"$WORK/etc/pools/t1.ini"; do
	grep -qxF "$want" "$s" || fail "$s lacks $want: $(cat "$s")"
done
d="$WORK/out/danaus-pool@t1.service.d/slice.conf"
grep -qxF 'Slice=danaus-t1.slice' "$d" || fail "$d: $(cat "$d")"
grep -q '^Protect\|^PrivateTmp' "$d" && fail "sandbox settings in $d: $(cat "$d")"

# sandbox.conf: a local pool may write its root (ProtectSystem=strict makes
# everything else read-only), gets /home back for a root there, and has no
# network; systemd makes its mountpoint in the host tree, which the sandbox
# keeps the pool from doing.
d="$WORK/out/danaus-pool@t1.service.d/sandbox.conf"
for want in 'ExecStartPre=-+mkdir -p -m 0111 -- "/danaus/t1"' 'ExecStartPre=-+mkdir -p -m 0111 -- "/data/t1"' \
	'ReadWritePaths=-"/home/t1"' 'ProtectHome=no' \
	'PrivateNetwork=yes' 'IPAddressDeny=any' 'RestrictAddressFamilies=AF_UNIX'; do
	grep -qxF "$want" "$d" || fail "$d lacks $want: $(cat "$d")"
done
grep -q '^PrivateTmp' "$d" && fail "a root below /home needs no PrivateTmp=: $(cat "$d")"
# The allow list of the unit (with AF_INET) is reset first, not added to.
grep -A1 -xF 'RestrictAddressFamilies=' "$d" | grep -qxF 'RestrictAddressFamilies=AF_UNIX' ||
	fail "$d does not reset RestrictAddressFamilies=: $(cat "$d")"
# A root with a space, '%' (a specifier to systemd), '"' and '\' is one
# quoted word that names exactly that directory.
d="$WORK/out/danaus-pool@q.service.d/sandbox.conf"
grep -qxF 'ReadWritePaths=-"/srv/a b%%c\"d\\e"' "$d" || fail "q's root is not quoted: $(cat "$d")"
grep -q '^Protect\|^PrivateTmp' "$d" && fail "a root below /srv needs no home or tmp: $(cat "$d")"
# A ceph pool keeps the network, may write where a ceph.conf puts the
# client's admin socket and log, and sees its conf and keyring.
d="$WORK/out/danaus-pool@c1.service.d/sandbox.conf"
for want in 'ExecStartPre=-+mkdir -p -m 0111 -- "/mnt/danaus/c1"' 'ReadWritePaths=-/run/ceph -/var/log/ceph' \
	'ProtectHome=read-only' 'PrivateTmp=no'; do
	grep -qxF "$want" "$d" || fail "$d lacks $want: $(cat "$d")"
done
grep -q '^PrivateNetwork\|^RestrictAddressFamilies\|^IPAddressDeny' "$d" &&
	fail "a ceph pool loses the network: $(cat "$d")"
# [ceph] networks: the cluster's networks, and no other address
d="$WORK/out/danaus-pool@c2.service.d/sandbox.conf"
for want in 'IPAddressDeny=any' 'IPAddressAllow=10.1.0.0/16 localhost'; do
	grep -qxF "$want" "$d" || fail "$d lacks $want: $(cat "$d")"
done

# compat_mount: the pool may make its FUSE mounts (and drops CAP_SYS_ADMIN
# once it has); the unit attaches each in the host and detaches it, at the
# generator's mountpoints (the pool's top and every [mount] instance's). Pools without it get none of that.
d="$WORK/out/danaus-pool@cm.service.d/sandbox.conf"
sbin=$(sed -n 's/^#define DN_SBINDIR "\(.*\)"$/\1/p' "$DANAUS_BUILD/dn-paths.h")
[ -n "$sbin" ] || fail "no DN_SBINDIR in $DANAUS_BUILD/dn-paths.h"
for want in 'Environment=DANAUS_COMPAT_HANDOVER=1' 'CapabilityBoundingSet=CAP_SYS_ADMIN' \
	'DeviceAllow=/dev/fuse rw' 'SystemCallFilter=@mount' \
	"ExecStartPost=+$sbin/danaus-pool --pool %i --attach-compat \"/srv/c m%%\"" \
	"ExecStopPost=+$sbin/danaus-pool --pool %i --detach-compat \"/srv/c m%%\"" \
	"ExecStartPost=+$sbin/danaus-pool --pool %i --attach-compat \"/srv/cm-x\"" \
	"ExecStopPost=+$sbin/danaus-pool --pool %i --detach-compat \"/srv/cm-x\""; do
	grep -qxF "$want" "$d" || fail "$d lacks $want: $(cat "$d")"
done
for p in t1 q c1 c2; do
	grep -q 'SYS_ADMIN\|fuse\|@mount\|compat' "$WORK/out/danaus-pool@$p.service.d/sandbox.conf" &&
		fail "pool $p (no compat_mount) got compat lines: $(cat "$WORK/out/danaus-pool@$p.service.d/sandbox.conf")"
done

# A '-' in the pool name is escaped, not a deeper slice; the bad value is
# reported with FILE:LINE and the slice carries no limit.
s="$WORK/out/danaus-a\\x2db.slice"
[ -f "$s" ] || fail "no escaped slice: $(ls "$WORK/out")"
grep -q '^CPUQuota' "$s" && fail "a pool file with an error must get no limits: $(cat "$s")"
grep -qxF 'Slice=danaus-a\x2db.slice' "$WORK/out/danaus-pool@a-b.service.d/slice.conf" ||
	fail "a-b drop-in: $(cat "$WORK/out/danaus-pool@a-b.service.d/slice.conf")"
[ -e "$WORK/out/danaus-pool@a-b.service.d/sandbox.conf" ] &&
	fail "a pool file with an error got sandbox additions"
grep -qF "$WORK/etc/pools/a-b.ini:5: memory_max:" "$WORK/stderr" ||
	fail "no FILE:LINE message: $(cat "$WORK/stderr")"
grep -qF "'bad name' is not a valid pool name" "$WORK/stderr" ||
	fail "an invalid pool name is not reported: $(cat "$WORK/stderr")"
[ -e "$WORK/out/danaus-bad name.slice" ] && fail "a unit for an invalid pool name"

# CDI specs: one per pool that can start, naming systemd's socket and the
# pool's mountpoint; none for a pool file with an error.
python3 - "$WORK/cdi" "$WORK/run" <<'PY' || fail "CDI specs: see above; generator: $(cat "$WORK/stderr")"
import json, os, sys
d, run = sys.argv[1:]
names = sorted(os.listdir(d))
want = ['danaus-pool-%s.json' % p for p in ('c1', 'c2', 'cm', 'q', 't1')]
assert names == want, 'CDI specs %s, expected %s' % (names, want)
for pool, mnt in (('t1', '/danaus/t1'), ('c1', '/mnt/danaus/c1')):
    spec = json.load(open(os.path.join(d, 'danaus-pool-%s.json' % pool)))
    assert spec['kind'] == 'danaus.io/pool', spec
    dev, = spec['devices']
    assert dev['name'] == pool, dev
    edits = dev['containerEdits']
    assert 'DANAUS_MOUNTPOINT=%s' % mnt in edits['env'], edits['env']
    hosts = {m['containerPath']: m['hostPath'] for m in edits['mounts']}
    assert hosts['/run/danaus/%s.sock' % pool] == '%s/%s.sock' % (run, pool), hosts
    assert hosts[mnt] == run + '/not-served', hosts
    assert os.access(hosts['/run/danaus/libdanaus.so'], os.R_OK), hosts
    # t1's [mount data]: its mountpoint passed on, a placeholder there too
    assert ('DANAUS_MOUNTS=/data/t1' in edits['env']) == (pool == 't1'), edits['env']
    assert (hosts.get('/data/t1') == run + '/not-served') == (pool == 't1'), hosts
assert os.listdir(run + '/not-served') == ['DANAUS-NOT-SERVED'], os.listdir(run)
PY

# daemon-reload after pool files went (c2), were renamed (q -> q2) or broke
# (cm): their specs go, the renamed pool's comes under its new name; another
# vendor's spec and that of a pool started by hand (its own socket) stay.
cp "$WORK/cdi/danaus-pool-t1.json" "$WORK/cdi/danaus-pool-h.json"
sed -i 's/"t1"/"h"/; s|/run/danaus/t1.sock|/run/danaus/h.sock|; s|"[^"]*/run/t1.sock"|"/tmp/by-hand/h.sock"|' \
	"$WORK/cdi/danaus-pool-h.json"
grep -qF '"/tmp/by-hand/h.sock"' "$WORK/cdi/danaus-pool-h.json" || fail "the hand pool's spec: $(cat "$WORK/cdi/danaus-pool-h.json")"
printf '{"cdiVersion": "0.5.0", "kind": "vendor.com/gpu", "devices": []}\n' > "$WORK/cdi/vendor-gpu.json"
rm "$WORK/etc/pools/c2.ini"
mv "$WORK/etc/pools/q.ini" "$WORK/etc/pools/q2.ini"
printf '[pool]\nworkers = many\n' > "$WORK/etc/pools/cm.ini"
rm -rf "$WORK/out"/*
DANAUS_CONFIG_DIR="$WORK/etc" DANAUS_CDI_DIR="$WORK/cdi" DANAUS_RUNDIR="$WORK/run" "$GEN" "$WORK/out" 2>"$WORK/stderr" ||
	fail "the generator failed again: $(cat "$WORK/stderr")"
got=$(cd "$WORK/cdi" && echo *)
[ "$got" = "danaus-pool-c1.json danaus-pool-h.json danaus-pool-q2.json danaus-pool-t1.json vendor-gpu.json" ] ||
	fail "after the pool files changed the CDI specs are: $got; generator: $(cat "$WORK/stderr")"
for p in c2 q cm; do
	grep -qF "pool $p is no longer configured: its CDI spec is removed" "$WORK/stderr" ||
		fail "the removal of $p's spec is not reported: $(cat "$WORK/stderr")"
done
# With no pool file left, no spec of the units is left either.
mv "$WORK/etc/pools" "$WORK/etc/pools.off"
DANAUS_CONFIG_DIR="$WORK/etc" DANAUS_CDI_DIR="$WORK/cdi" DANAUS_RUNDIR="$WORK/run" "$GEN" "$WORK/out" 2>"$WORK/stderr" ||
	fail "the generator failed without pools: $(cat "$WORK/stderr")"
got=$(cd "$WORK/cdi" && echo *)
[ "$got" = "danaus-pool-h.json vendor-gpu.json" ] || fail "with no pools the CDI specs are: $got"

# The escaping agrees with systemd's own.
if command -v systemd-escape >/dev/null; then
	[ "danaus-$(systemd-escape a-b).slice" = 'danaus-a\x2db.slice' ] || fail "systemd-escape disagrees"
fi
# No pools directory: nothing to do, no error.
DANAUS_CONFIG_DIR="$WORK/none" DANAUS_CDI_DIR="$WORK/cdi" "$GEN" "$WORK/out" || fail "missing config dir is an error"
echo ok
