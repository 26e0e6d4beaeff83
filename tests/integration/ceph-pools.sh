#!/usr/bin/env bash
# Integration (ceph): two pools on one host, each with its own cephx id
# (limited by MDS caps to its own tree) and root, served at once.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ceph-lib.sh"

ceph_start_with_fuse
mkdir -p "$FUSE/tenants/a" "$FUSE/tenants/b"
ceph_client ta /tenants/a > /dev/null
ceph_client tb /tenants/b > /dev/null

# The pools' libcephfs clients answer on admin sockets (off for clients by
# default): [client] is the conf file's last section.
mkdir -p "$WORK/asok"
cp "$CEPH_CONF" "$WORK/ceph-asok.conf"
echo "admin socket = $WORK/asok/\$name.\$pid.asok" >> "$WORK/ceph-asok.conf"
CEPH_CONF="$WORK/ceph-asok.conf"
POOL_NAME=pa
ceph_pool_start pa /tenants/a ta
SOCK_A=$SOCK MNT_A=$MNT PID_A=$PID
POOL_NAME=pb
ceph_pool_start pb /tenants/b tb 'memory_log = yes\ncache_size = 64M'
SOCK_B=$SOCK MNT_B=$MNT PID_B=$PID
in_a() { "$RUN_BIN" --pool pa --socket "$SOCK_A" --mountpoint "$MNT_A" -- "$@"; }
in_b() { "$RUN_BIN" --pool pb --socket "$SOCK_B" --mountpoint "$MNT_B" -- "$@"; }

head -c 4000000 /dev/urandom > "$WORK/blob"
# both at once: parallel writers in each pool
writers=()
for i in 1 2 3; do
	in_a bash -c "for j in \$(seq 20); do echo a-$i-\$j > \"$MNT_A/f$i-\$j\"; done; cp '$WORK/blob' '$MNT_A/blob$i'" &
	writers+=($!)
	in_b bash -c "for j in \$(seq 20); do echo b-$i-\$j > \"$MNT_B/f$i-\$j\"; done; cp '$WORK/blob' '$MNT_B/blob$i'" &
	writers+=($!)
done
for w in "${writers[@]}"; do wait "$w" || fail "a writer failed"; done
for t in a b; do
	for i in 1 2 3; do
		cmp -s "$WORK/blob" "$FUSE/tenants/$t/blob$i" || fail "tenant $t: blob$i differs"
		[ "$(cat "$FUSE/tenants/$t/f$i-20")" = "$t-$i-20" ] || fail "tenant $t: f$i-20 wrong"
	done
	[ "$(ls "$FUSE/tenants/$t" | wc -l)" = 63 ] || fail "tenant $t has $(ls "$FUSE/tenants/$t" | wc -l) files"
done
[ "$(in_a cat "$MNT_A/f1-1")" = a-1-1 ] && [ "$(in_b cat "$MNT_B/f1-1")" = b-1-1 ] ||
	fail "a pool sees the other tenant's file under the same name"
kill -0 "$PID_A" && kill -0 "$PID_B" || fail "a pool died"
pass "two pools with ids client.ta and client.tb serve /tenants/a and /tenants/b at once"

# [ceph] memory_log: by default the pool gathers no more debug entries than it
# logs (libcephfs' default gathers level 5 of the client in memory).
debug_of() { timeout 10 ceph --admin-daemon "$WORK/asok/client.$1.$2.asok" config get "debug_$3" |
	python3 -c 'import json,sys; print(next(iter(json.load(sys.stdin).values())))'; }
for sub in client objectcacher; do
	[ "$(debug_of ta "$PID_A" $sub)" = 0/0 ] ||
		fail "pool pa gathers debug_$sub in memory: $(debug_of ta "$PID_A" $sub)"
done
[ "$(debug_of tb "$PID_B" client)" = 0/5 ] ||
	fail "memory_log = yes did not keep libcephfs' gathering: $(debug_of tb "$PID_B" client)"
pass "libcephfs' in-memory debug log off by default, kept with memory_log = yes"

# The object cache's budget holds clean and dirty data together: libcephfs
# bounds them apart, so three quarters clean, a quarter dirty, an eighth the
# flusher's target. pa has libcephfs's default budget (200 MiB), pb 64M.
conf_of() { timeout 10 ceph --admin-daemon "$WORK/asok/client.$1.$2.asok" config get "$3" |
	python3 -c 'import json,sys; print(next(iter(json.load(sys.stdin).values())))'; }
M=$((1 << 20))
for want in "ta $PID_A client_oc_size $((150 * M))" "ta $PID_A client_oc_max_dirty $((50 * M))" \
	"ta $PID_A client_oc_target_dirty $((25 * M))" "tb $PID_B client_oc_size $((48 * M))" \
	"tb $PID_B client_oc_max_dirty $((16 * M))" "tb $PID_B client_oc_target_dirty $((8 * M))"; do
	read -r id pid key bytes <<<"$want"
	got=$(conf_of "$id" "$pid" "$key")
	[ "$got" = "$bytes" ] || fail "client.$id: $key is $got, not $bytes"
done
pass "the object cache's budget (default 200M, cache_size = 64M) is split: 3/4 clean, 1/4 dirty"

# A pool whose id may not reach its root does not start, and says why.
set +e
ceph_pool_start_out=$( (ceph_pool_start bad /tenants/b ta) 2>&1 )
set -e
echo "$ceph_pool_start_out" | sed 's/^/  | /'
echo "$ceph_pool_start_out" | grep -q "cannot mount /tenants/b as client.ta" ||
	fail "no clear message for a root outside the id's caps"
pass "a root outside the cephx id's caps is refused at start with a clear message"
