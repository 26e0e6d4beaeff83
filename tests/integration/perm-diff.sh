#!/usr/bin/env bash
# Integration: differential permission check on the local backend (security
# issue 13). perm-diff.py runs the same seeded operations as root, root with
# fewer capabilities, two users, nobody and processes that drop root mid-run,
# once on a kernel directory and once through a pool over a copy of it; every
# answer and the tree after it must match.
#
# Arguments go to perm-diff.py: a mismatch's reproducer line is
#   DANAUS_BUILD=build tests/integration/perm-diff.sh --seed S --segment K -v
# and a long run: ... perm-diff.sh --long 600
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/perm-diff-lib.sh"

perm_users_add
POOL_NAME=pd
pool_start pd
KDIR="$WORK/kernel"
mkdir "$KDIR"
chmod 755 "$KDIR"
perm_diff --backend local --known "$HERE/perm-diff.known" --kernel-dir "$KDIR" --pool-dir "$ROOT" "$@"
