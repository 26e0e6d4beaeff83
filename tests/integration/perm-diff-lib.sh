# Fixture of perm-diff.sh and ceph-perm-diff.sh: the test's users and groups
# (added here, removed on exit, also on failure) and the checker's command line.
# Source it after lib.sh or ceph-lib.sh.

[ "$(id -u)" = 0 ] || fail "this test adds users and switches to them: run it as root (CI does)"

PD_USERS=(dn_alice dn_bob)
PD_GROUPS=(dn_share dn_other)
PD_ADDED=0

perm_users_del() {
	local u g
	for u in "${PD_USERS[@]}"; do
		getent passwd "$u" >/dev/null && userdel -f "$u" 2>/dev/null
	done
	for g in "${PD_USERS[@]}" "${PD_GROUPS[@]}"; do
		getent group "$g" >/dev/null && groupdel "$g" 2>/dev/null
	done
	true
}

# Runs before the fixture's own cleanup (which keeps the exit status).
perm_cleanup() {
	local rc=$?
	[ "$PD_ADDED" = 1 ] && perm_users_del
	# hands rc on as $?; without errexit, which would end the trap right here
	set +e
	(exit $rc)
	"${PD_PREV_TRAP:-cleanup}"
}
PD_PREV_TRAP=$(trap -p EXIT | sed -n "s/^trap -- '\([a-z_]*\)' EXIT$/\1/p")
trap perm_cleanup EXIT

# perm_users_add: dn_alice and dn_bob, each with a group of its own, both in
# dn_share; dn_other has no members. One run at a time holds them (a lock),
# and leftovers of a killed run are replaced.
perm_users_add() {
	exec {PD_LOCK}>/run/danaus-perm-diff.lock
	flock -w 600 "$PD_LOCK" || fail "another perm-diff run holds /run/danaus-perm-diff.lock"
	perm_users_del
	PD_ADDED=1
	groupadd dn_share
	groupadd dn_other
	for u in "${PD_USERS[@]}"; do
		useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
			--user-group --groups dn_share "$u"
	done
}

# perm_diff ARGS: the checker against the last started pool
perm_diff() {
	local rc=0
	python3 "$HERE/perm-diff.py" --mount "$MNT" --socket "$SOCK" --pool "${POOL_NAME:-x}" \
		--run-bin "$RUN_BIN" --workdir "$WORK" "$@" || rc=$?
	case $rc in
	0) pass "the pool answered as the kernel did, for every identity and operation" ;;
	1) fail "the pool and the kernel disagree (mismatches above)" ;;
	*) fail "perm-diff.py could not finish (exit $rc)" ;;
	esac
}
