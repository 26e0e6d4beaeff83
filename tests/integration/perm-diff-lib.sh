# Fixture of perm-diff.sh and ceph-perm-diff.sh: the test's users and groups
# (added here, removed on exit, also on failure) and the checker's command line.
# Source it after lib.sh or ceph-lib.sh.

[ "$(id -u)" = 0 ] || fail "this test adds users and switches to them: run it as root (CI does)"

PD_USERS=(dn_alice dn_bob)
PD_GROUPS=(dn_share dn_other)
PD_ADDED=0
PD_LOCKED=0
PD_PID=
PD_HOST_MNT=

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
	# first the checker (and so its agents): nothing of it may still be using
	# the pool or a FUSE mount the fixture is about to take away
	[ -n "$PD_PID" ] && kill -KILL "$PD_PID" 2>/dev/null
	[ "$PD_ADDED" = 1 ] && perm_users_del
	[ -n "$PD_HOST_MNT" ] && umount -l "$PD_HOST_MNT" 2>/dev/null
	[ "$PD_LOCKED" = 1 ] && rm -rf "$PD_LOCK"
	# hands rc on as $?; without errexit, which would end the trap right here
	set +e
	(exit $rc)
	"${PD_PREV_TRAP:-cleanup}"
}
PD_PREV_TRAP=$(trap -p EXIT | sed -n "s/^trap -- '\([a-z_]*\)' EXIT$/\1/p")
trap perm_cleanup EXIT
# a signal (meson's timeout, ^C) ends the shell through exit, so that the EXIT
# trap runs: killed outright, bash would leave pools, mounts and users behind
trap 'exit 143' TERM
trap 'exit 130' INT

# One run at a time owns the users: a directory with the owner's pid (not a
# flock, whose descriptor every daemon the test starts would inherit and hold).
PD_LOCK=/run/danaus-perm-diff.lock
perm_lock() {
	local owner
	for _ in $(seq 600); do
		if mkdir "$PD_LOCK" 2>/dev/null; then
			echo $$ > "$PD_LOCK/pid"
			PD_LOCKED=1
			return 0
		fi
		owner=$(cat "$PD_LOCK/pid" 2>/dev/null || true)
		# its owner is gone, or it never wrote its pid (killed right after mkdir)
		if { [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; } ||
			{ [ -z "$owner" ] && [ -z "$(find "$PD_LOCK" -maxdepth 0 -newermt '-10 seconds')" ]; }; then
			rm -rf "$PD_LOCK"
			continue
		fi
		sleep 1
	done
	fail "another perm-diff run (pid ${owner:-?}) holds $PD_LOCK"
}

# perm_users_add: dn_alice and dn_bob, each with a group of its own, both in
# dn_share; dn_other has no members. Leftovers of a killed run are replaced.
perm_users_add() {
	perm_lock
	perm_users_del
	PD_ADDED=1
	groupadd dn_share
	groupadd dn_other
	for u in "${PD_USERS[@]}"; do
		useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
			--user-group --groups dn_share "$u"
	done
}

# perm_host_dir: PD_HOST, the host directory the trees' absolute symlinks lead
# to, alike for both sides: root's 0755 with 0644 files (and one 0600), on a
# tmpfs mounted read-only so that no caller, root included, changes the host
# through a link; two levels down, so that a '..' after a link stays on it.
perm_host_dir() {
	PD_HOST_MNT="$WORK/hostro"
	PD_HOST="$PD_HOST_MNT/up/host"
	mkdir "$PD_HOST_MNT"
	mount -t tmpfs -o size=1m,mode=0755 danaus-pd-host "$PD_HOST_MNT"
	mkdir -p "$PD_HOST/d"
	echo 'host file' > "$PD_HOST/f"
	echo 'host, deeper' > "$PD_HOST/d/g"
	echo 'host secret' > "$PD_HOST/x"
	ln -s "$PD_HOST/loop" "$PD_HOST/loop"
	chmod 755 "$PD_HOST_MNT/up" "$PD_HOST" "$PD_HOST/d"
	chmod 644 "$PD_HOST/f" "$PD_HOST/d/g"
	chmod 600 "$PD_HOST/x"
	mount -o remount,ro "$PD_HOST_MNT"
}

# perm_diff ARGS: the checker against the last started pool
perm_diff() {
	local rc=0
	[ -n "$PD_HOST_MNT" ] || perm_host_dir
	python3 "$HERE/perm-diff.py" --mount "$MNT" --socket "$SOCK" --pool "${POOL_NAME:-x}" \
		--run-bin "$RUN_BIN" --workdir "$WORK" --host-dir "$PD_HOST" "$@" &
	PD_PID=$!
	wait "$PD_PID" || rc=$?
	PD_PID=
	case $rc in
	0) pass "the pool answered as the kernel did, for every identity and operation" ;;
	1) fail "the pool and the kernel disagree (mismatches above)" ;;
	*) fail "perm-diff.py could not finish (exit $rc)" ;;
	esac
}
