#!/usr/bin/env bash
# Glibc baseline: libdanaus.so asks no newer glibc than 2.17 of the programs it
# loads into (a container's image brings its own glibc; preload/glibc-baseline.h),
# and names libpthread.so.0 and libdl.so.2, where glibc before 2.34 keeps the
# functions it binds to their first versions. That it then really loads and
# serves under an older glibc is tests/integration/containers.sh's part.
# Usage: glibc-baseline.sh LIBDANAUS.SO
set -euo pipefail
lib=$1
BASE=2.17
command -v objdump > /dev/null || { echo "FAIL: objdump (binutils) is needed" >&2; exit 1; }
syms=$(objdump -T "$lib")
newest=$(grep -o 'GLIBC_[0-9][0-9.]*' <<< "$syms" | sed 's/GLIBC_//' | sort -V | tail -1)
[ -n "$newest" ] || { echo "FAIL: $lib references no glibc version at all?" >&2; exit 1; }
if [ "$(printf '%s\n%s\n' "$newest" "$BASE" | sort -V | tail -1)" != "$BASE" ]; then
	echo "FAIL: $lib needs glibc $newest, more than $BASE, through:" >&2
	awk -v b="$BASE" '/GLIBC_/ { v = $0; sub(/.*GLIBC_/, "", v); sub(/[^0-9.].*/, "", v);
		split(v, x, "."); split(b, y, ".");
		if (x[1] > y[1] || (x[1] == y[1] && x[2] + 0 > y[2] + 0)) print "  " $NF " (GLIBC_" v ")" }' <<< "$syms" >&2
	exit 1
fi
needed=$(objdump -p "$lib" | awk '$1 == "NEEDED" { print $2 }')
for n in libpthread.so.0 libdl.so.2; do
	grep -qx "$n" <<< "$needed" || { echo "FAIL: $lib does not name $n as needed" >&2; exit 1; }
done
echo "ok - $lib needs glibc $newest at most (baseline $BASE), and names libpthread.so.0 and libdl.so.2"
