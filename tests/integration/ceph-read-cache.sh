#!/usr/bin/env bash
# Integration (ceph): the library's read cache (preload/read-cache.c). A
# read served in the process must be what the pool would read now: every
# change of a file's data through the pool (write, truncate, allocate,
# copy_file_range, sendfile, splice, a shared map's write-back, O_TRUNC,
# rename over it), by another process, thread or fork parent, is read by
# the next read (checked against a pool that keeps nothing, on the same
# root); a new identity uses nothing kept; another client's write
# (ceph-fuse) is read within attr_timeout, and at once after an open or a
# lock; a union's copy-up changed through a direct instance over its
# writable layer, and the other way round. Driver: read_cache.py, agents:
# read_agent.py; read_union.py.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ceph-lib.sh"

command -v python3 >/dev/null || fail "python3 is needed"

make_user dnrc_b

ceph_start_with_fuse
TOP="$FUSE/pools/rc"
mkdir -p "$TOP/rc"
head -c 300000 /dev/urandom >"$TOP/rc/g"
chmod 777 "$TOP/rc"
chmod 666 "$TOP/rc/g"
ceph_client rc /pools/rc >/dev/null || fail "could not make client.rc"

# A long timeout: whatever changes through the pool must not wait for it.
ceph_pool_start rc /pools/rc rc "attr_timeout = 600"
SOCK_A=$SOCK MNT_A=$MNT
ceph_pool_start rcz /pools/rc rc "attr_timeout = 0"
SOCK_Z=$SOCK MNT_Z=$MNT
ceph_pool_start rct /pools/rc rc "attr_timeout = 2"
SOCK_T=$SOCK MNT_T=$MNT

cp "$HERE/read_agent.py" "$HERE/agent_race.py" "$WORK/"
chmod 644 "$WORK/read_agent.py" "$WORK/agent_race.py"
cat >"$WORK/read.json" <<JSON
{"run": "$RUN_BIN", "agent": "$WORK/read_agent.py", "fuse_top": "$TOP", "timeout": 2, "rounds": ${READ_ROUNDS:-3},
 "pools": {"rc": {"sock": "$SOCK_A", "mnt": "$MNT_A"},
           "rcz": {"sock": "$SOCK_Z", "mnt": "$MNT_Z"},
           "rct": {"sock": "$SOCK_T", "mnt": "$MNT_T"}}}
JSON
python3 "$HERE/read_cache.py" "$WORK/read.json" || fail "read_cache.py"

# A union's copied-up file through a direct instance over its writable
# layer: two numbers for one file (read_union.py).
mkdir -p "$FUSE/pools/rcu/l" "$FUSE/pools/rcu/u"
ALL="/danaus/t$$-rcu-all"
ceph_pool_start rcu /pools/rcu admin "attr_timeout = 600\n[union]\nlower = /l\nupper = /u\n[mount all]\nmountpoint = $ALL\npath = /\n"
MOUNTS+=("$ALL")
"$RUN_BIN" --pool rcu --socket "$SOCK" --mountpoint "$MNT" -- python3 "$HERE/read_union.py" "$MNT" "$ALL" ||
	fail "read_union.py: a change through the union or the direct instance not read at once through the other"
pass "read cache"
