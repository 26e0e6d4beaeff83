#!/usr/bin/env bash
# Integration: garbage requests and a killed service, against a real pool.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
pool_start robust
DANAUS_TEST_SOCKET="$SOCK" DANAUS_TEST_PID="$PID" "$DANAUS_BUILD/tests/integration/test-robust"
