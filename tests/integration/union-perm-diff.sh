#!/usr/bin/env bash
# Integration (union): perm-diff.sh -- the same seeded operations as root,
# root without capabilities, two users, nobody and processes that drop root
# mid-run, on a kernel directory and through a pool -- with the pool's tree a
# union (lib.sh's DANAUS_TEST_UNION), so every check the union makes itself
# (search and read on the merged view, ACLs, sticky directories, set-ID
# rules, the order of errors) meets the kernel's. union-perm-diff.known adds
# to perm-diff.known what overlayfs itself answers differently.
HERE=$(cd "$(dirname "$0")" && pwd)
DANAUS_TEST_UNION=1 exec bash "$HERE/perm-diff.sh" --known "$HERE/union-perm-diff.known" "$@"
