#!/usr/bin/env bash
# Integration (ceph): [ceph] read_cache bounds the library's read cache.
# One process reads an 8 MiB file (each 64 KiB twice, so that it is kept),
# then re-reads 512 KiB, then reads another 8 MiB file once:
# with read_cache = 0 it keeps nothing (every re-read reaches the pool,
# its anonymous memory does not grow); with 1M it grows by about that and
# no more, and the re-read is served without the pool; with the default
# (64M) it keeps the whole file, so the same measure sees what a bound
# changes. A file read once is never kept, by any of them; whole pages
# scattered over a block and read again are kept apart. Bad values
# stop the pool with FILE:LINE. Agent: read_cache_size.py.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ceph-lib.sh"

command -v python3 >/dev/null || fail "python3 is needed"

# A bad read_cache stops the pool with FILE:LINE (before any cluster is needed).
mkdir -p "$WORK/bad/etc/pools"
printf '[pool]\nbackend = ceph\nmountpoint = /danaus/bad\n[ceph]\nread_cache = 100K\n' \
	>"$WORK/bad/etc/pools/bad.ini"
if "$POOL_BIN" --pool bad --config-dir "$WORK/bad/etc" --socket "$WORK/bad/s" 2>"$WORK/bad/err"; then
	fail "a pool with read_cache = 100K started"
fi
grep -q "bad.ini:5: read_cache: '100K' is not a multiple of 64K" "$WORK/bad/err" ||
	fail "read_cache = 100K: $(cat "$WORK/bad/err")"
pass "read_cache = 100K: $(head -n1 "$WORK/bad/err")"

ceph_start
cp "$HERE/read_cache_size.py" "$HERE/pool_metrics.py" "$WORK/"
chmod 644 "$WORK/read_cache_size.py" "$WORK/pool_metrics.py"
chmod 755 "$WORK"

# name read_cache (bytes; "" for the default) per pool; all on one root
declare -A SOCKS MNTS
for spec in z:0 s:1M d:; do
	name=rcs${spec%%:*} size=${spec#*:}
	extra="attr_timeout = 60"
	[ -n "$size" ] && extra+="\nread_cache = $size"
	ceph_pool_start "$name" / admin "$extra"
	SOCKS[$name]=$SOCK MNTS[$name]=$MNT
done
SOCK=${SOCKS[rcsz]} MNT=${MNTS[rcsz]} POOL_NAME=rcsz in_pool python3 -c '
import os, sys
for p in sys.argv[1:]:
    with open(p, "wb") as f:
        f.write(os.urandom(8 << 20))
' "${MNTS[rcsz]}/f" "${MNTS[rcsz]}/g" || fail "could not write the file"
SOCK=${SOCKS[rcsz]} MNT=${MNTS[rcsz]} POOL_NAME=rcsz in_pool python3 -c '
import os, sys
with open(sys.argv[1], "wb") as f:
    f.write(os.urandom(1 << 20))
' "${MNTS[rcsz]}/h" || fail "could not write the scattered reads' file"

# run NAME: the agent's three lines into GROWTH PREADS ONCE
run() {
	local out
	out=$(SOCK=${SOCKS[$1]} MNT=${MNTS[$1]} POOL_NAME=$1 in_pool python3 "$WORK/read_cache_size.py" \
		"${MNTS[$1]}/f" "${SOCKS[$1]%.sock}.metrics" "$1" "${MNTS[$1]}/g" "${MNTS[$1]}/h") ||
		fail "$1: the agent failed"
	mapfile -t R <<<"$out"
	GROWTH=${R[0]} PREADS=${R[1]} ONCE=${R[2]} SCATTER=${R[3]}
	echo "# $1: anonymous memory grew $GROWTH KiB reading 8 MiB; a third re-read: $PREADS preads;" \
		"reading another 8 MiB once: $ONCE KiB; a third round of scattered pages: $SCATTER preads"
	[ "$ONCE" -lt 512 ] || fail "$1: a file read once grew the process by $ONCE KiB"
}

run rcsz
[ "$PREADS" = 8 ] || fail "read_cache = 0: a re-read of 512 KiB made $PREADS preads, not 8"
[ "$GROWTH" -lt 512 ] || fail "read_cache = 0: the process grew by $GROWTH KiB reading 8 MiB"
[ "$SCATTER" = 4 ] || fail "read_cache = 0: 4 scattered pages made $SCATTER preads, not 4"
pass "read_cache = 0 keeps nothing: every re-read reaches the pool, no memory kept"

run rcss
[ "$GROWTH" -ge 768 ] && [ "$GROWTH" -le $((1024 + 512)) ] ||
	fail "read_cache = 1M: the process grew by $GROWTH KiB (the cache, 1024, and less than 512 more)"
[ "$PREADS" = 0 ] || fail "read_cache = 1M: a re-read of 512 KiB made $PREADS preads"
pass "read_cache = 1M: the process grew $GROWTH KiB, re-reads served in the process"

run rcsd
[ "$GROWTH" -ge $((8 << 10)) ] || fail "default read_cache: the 8 MiB file was not kept ($GROWTH KiB)"
[ "$PREADS" = 0 ] || fail "default read_cache: a re-read of 512 KiB made $PREADS preads"
pass "default read_cache (64M) keeps the whole 8 MiB file (grew $GROWTH KiB)"
[ "$SCATTER" = 0 ] || fail "default read_cache: a third round of 4 scattered pages of a block made $SCATTER preads"
pass "pages scattered over a block, each read twice, are served in the process from then on"
