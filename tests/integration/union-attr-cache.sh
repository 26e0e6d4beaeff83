#!/usr/bin/env bash
# Integration (union): the library's attribute cache on a local pool's union
# ([union] attr_timeout). A stat answered in the process must be what the
# pool answers now (statx with AT_STATX_FORCE_SYNC, which always asks it),
# atime included: after reads, listings, readlinks and symlinks followed (the
# host kernel moves their atimes), copy-ups by write, chmod and truncate,
# whiteouts, renames, an exec, shared maps read and written (the kernel
# writes a map back with no request), by other processes, threads, a fork
# parent, another uid and the compat mount (FUSE); an ancestor's chmod 700
# refuses at once, a new identity keeps nothing; a direct instance keeps
# nothing; a host process's change to a layer is seen within the timeout.
# Driver: union_attr_cache.py, agent: attr_agent.py.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

command -v python3 >/dev/null || fail "python3 is needed"
[ -c /dev/fuse ] || fail "no /dev/fuse: the compat mount cannot be tested here"
ROUNDS=${ATTR_ROUNDS:-4}
make_user dnuc_a
make_user dnuc_b

# start NAME INI: a pool from this ini (lib.sh's fixture: stopped at exit)
start() {
	local name=$1 dir="$WORK/$1"
	mkdir -p "$dir/etc/pools"
	printf '%b' "$2" >"$dir/etc/pools/$name.ini"
	"$POOL_BIN" --pool "$name" --config-dir "$dir/etc" --socket "$dir/pool.sock" \
		--cdi-dir "$dir/cdi" 2>"$dir/pool.log" &
	POOL_PIDS+=($!)
	for _ in $(seq 100); do
		[ -S "$dir/pool.sock" ] && return 0
		kill -0 "$!" 2>/dev/null || { cat "$dir/pool.log" >&2; fail "pool $name exited"; }
		sleep 0.05
	done
	fail "pool $name did not start"
}

# 1. Config: a bad attr_timeout stops the pool with FILE:LINE.
mkdir -p "$WORK/bad/etc/pools" "$WORK/bad/root/l" "$WORK/bad/root/u"
printf '[pool]\nmountpoint = /danaus/bad%s\n[local]\nroot = %s\n[union]\nlower = /l\nupper = /u\nattr_timeout = 1h\n' \
	$$ "$WORK/bad/root" >"$WORK/bad/etc/pools/bad.ini"
if "$POOL_BIN" --pool bad --config-dir "$WORK/bad/etc" --socket "$WORK/bad/s" 2>"$WORK/bad/err"; then
	fail "a pool with [union] attr_timeout = 1h started"
fi
grep -q "bad.ini:8: attr_timeout: '1h' is not a number of seconds" "$WORK/bad/err" ||
	fail "attr_timeout = 1h: $(cat "$WORK/bad/err")"
pass "[union] attr_timeout = 1h: $(head -n1 "$WORK/bad/err")"

# Two lower layers (l1 on top of l2) under a writable one, and a direct instance.
B="$WORK/uc/backend"
mkdir -p "$B/l1/u" "$B/l2/u" "$B/upper" "$B/data"
echo x >"$B/data/x"
for r in $(seq 0 $((ROUNDS - 1))); do
	l1="$B/l1/u/r$r" l2="$B/l2/u/r$r"
	mkdir -p "$l1/sub" "$l2/wd"
	for f in f g h mr mw; do echo "lower $f $r" >"$l1/$f"; done
	echo inside >"$l1/sub/x"
	ln -s f "$l1/link"
	ln -s f "$l1/link2"
	printf '#!/bin/sh\nexit 0\n' >"$l1/prog"
	chmod 755 "$l1/prog"
	echo deep >"$l2/deep"
	echo gone >"$l2/w"
done
mkdir -p "$B/l1/u/t" "$B/l1/u/c" "$B/l1/u/p/q" "$B/l1/u/cm"
echo t >"$B/l1/u/t/f"
echo cm >"$B/l1/u/cm/f"
echo c >"$B/l1/u/c/f"
echo p >"$B/l1/u/p/f"
echo q >"$B/l1/u/p/q/f"
chown -R dnuc_a "$B/l1/u/p"
chmod -R a+rX "$B"
# times as a fresh unpack leaves them: atime == mtime, so the first read moves atime (relatime)
find "$B" -exec touch -h -d '2026-01-01 00:00:00' {} +
chmod 755 "$WORK/uc"
MNT_UC="/danaus/t$$-uc"
MOUNTS+=("$MNT_UC" "$MNT_UC-data")
start uc "[pool]\nbackend = local\nmountpoint = $MNT_UC\nworkers = 2\ncompat_mount = yes\n[local]\nroot = $B\n[union]\nlower = /l1:/l2\nupper = /upper\nattr_timeout = 600\n[mount data]\nmountpoint = $MNT_UC-data\npath = /data\n"

# a pool whose writable layer a host process changes (attr_timeout 2)
H="$WORK/uh/backend"
mkdir -p "$H/l" "$H/upper"
chmod -R a+rX "$WORK/uh"
MNT_UH="/danaus/t$$-uh"
MOUNTS+=("$MNT_UH")
start uh "[pool]\nbackend = local\nmountpoint = $MNT_UH\n[local]\nroot = $H\n[union]\nlower = /l\nupper = /upper\nattr_timeout = 2\n"

cp "$HERE/attr_agent.py" "$HERE/agent_race.py" "$WORK/"
chmod 644 "$WORK/attr_agent.py" "$WORK/agent_race.py"
cat >"$WORK/attr.json" <<JSON
{"run": "$RUN_BIN", "agent": "$WORK/attr_agent.py", "rounds": $ROUNDS,
 "l1": "$B/l1", "data_mnt": "$MNT_UC-data", "host_upper": "$H/upper", "host_timeout": 2,
 "pools": {"uc": {"sock": "$WORK/uc/pool.sock", "mnt": "$MNT_UC"},
           "uh": {"sock": "$WORK/uh/pool.sock", "mnt": "$MNT_UH"}}}
JSON
python3 "$HERE/union_attr_cache.py" "$WORK/attr.json" || fail "union_attr_cache.py"
