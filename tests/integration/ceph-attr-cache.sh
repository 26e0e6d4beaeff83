#!/usr/bin/env bash
# Integration (ceph): the library's attribute cache ([ceph] attr_timeout,
# issue 17). A stat answered in the process must be what the pool would
# answer now: every change through the pool, by any process, thread or
# identity, is seen by the next stat (checked against a pool that keeps
# nothing, on the same root), an ancestor's chmod 700 refuses at once, a
# new identity keeps nothing, and another client's change (ceph-fuse) is
# seen within the timeout. Driver: attr_cache.py, agents: attr_agent.py.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ceph-lib.sh"

command -v python3 >/dev/null || fail "python3 is needed"

make_user dnac_a
make_user dnac_b

ceph_start_with_fuse
TOP="$FUSE/pools/ac"
mkdir -p "$TOP/ac/d" "$TOP/ac/p/q"
echo hello >"$TOP/ac/d/f"
echo 1 >"$TOP/ac/p/f"
echo 2 >"$TOP/ac/p/q/f"
echo 3 >"$TOP/ac/o"
chmod -R a+rX "$TOP"
chown -R dnac_a "$TOP/ac/p"
ceph_client ac /pools/ac >/dev/null || fail "could not make client.ac"

# 1. Config: a bad attr_timeout stops the pool with FILE:LINE.
mkdir -p "$WORK/bad/etc/pools"
printf '[pool]\nbackend = ceph\nmountpoint = /danaus/bad\n[ceph]\nattr_timeout = 1h\n' \
	>"$WORK/bad/etc/pools/bad.ini"
if "$POOL_BIN" --pool bad --config-dir "$WORK/bad/etc" --socket "$WORK/bad/s" \
	2>"$WORK/bad/err"; then
	fail "a pool with attr_timeout = 1h started"
fi
grep -q "bad.ini:5: attr_timeout: '1h' is not a number of seconds" "$WORK/bad/err" ||
	fail "attr_timeout = 1h: $(cat "$WORK/bad/err")"
pass "attr_timeout = 1h: $(head -n1 "$WORK/bad/err")"

# A long timeout: whatever changes through the pool must not wait for it.
ceph_pool_start ac /pools/ac ac "attr_timeout = 600"
SOCK_A=$SOCK MNT_A=$MNT
ceph_pool_start acz /pools/ac ac "attr_timeout = 0"
SOCK_Z=$SOCK MNT_Z=$MNT
ceph_pool_start act /pools/ac ac "attr_timeout = 2"
SOCK_T=$SOCK MNT_T=$MNT

cp "$HERE/attr_agent.py" "$HERE/agent_race.py" "$WORK/"
chmod 644 "$WORK/attr_agent.py" "$WORK/agent_race.py"
cat >"$WORK/attr.json" <<JSON
{"run": "$RUN_BIN", "agent": "$WORK/attr_agent.py", "fuse_top": "$TOP", "timeout": 2, "rounds": ${ATTR_ROUNDS:-10},
 "pools": {"ac": {"sock": "$SOCK_A", "mnt": "$MNT_A"},
           "acz": {"sock": "$SOCK_Z", "mnt": "$MNT_Z"},
           "act": {"sock": "$SOCK_T", "mnt": "$MNT_T"}}}
JSON
python3 "$HERE/attr_cache.py" "$WORK/attr.json" || fail "attr_cache.py"
