# shellcheck shell=bash
# Booting a real systemd as PID 1 of a PID namespace, on an overlay of /
# (see /work/shared/notes/systemd-in-a-namespace.md); sourced by
# tests/systemd/pool.sh and scripts/bench-isolation. The caller runs in a
# private mount namespace (sd_enter_mount_namespace), so the overlay and its
# mounts vanish with it, also when the caller is killed.
#
#   sd_enter_mount_namespace "$0" "$@"   re-executes the caller in one (once)
#   sd_prepare_root WORK                 overlay of / at $SD_ROOT (WORK/root)
#   (install into $SD_ROOT, bind what the units need)
#   sd_boot                              systemd boots there: $SD_PID
#   ns CMD...                            CMD inside, with systemd's view
#   sd_dump                              danaus units, journal, console: stderr
#   sd_poweroff                          stops it, unmounts $SD_ROOT
# Each returns non-zero with a reason on stderr when it fails.

SD_WORK='' SD_ROOT='' SD_PID='' SD_UNSHARE_PID=''

sd_enter_mount_namespace() {
	[ -n "${DANAUS_SYSTEMD_NS:-}" ] && return 0
	DANAUS_SYSTEMD_NS=1 exec unshare --mount --propagation private "$@"
}

ns() { nsenter -t "$SD_PID" -m -p -r -w env -u DANAUS_LIBRARY -u DANAUS_BUILD -u LD_PRELOAD \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

sd_prepare_root() { # WORK
	SD_WORK=$1 SD_ROOT=$1/root
	mkdir -p "$SD_WORK/rw" "$SD_ROOT"
	mount -t tmpfs -o mode=755 tmpfs "$SD_WORK/rw"
	mkdir -p "$SD_WORK/rw/upper" "$SD_WORK/rw/work"
	mount -t overlay overlay -o "lowerdir=/,upperdir=$SD_WORK/rw/upper,workdir=$SD_WORK/rw/work" "$SD_ROOT"
	mount --rbind /dev "$SD_ROOT/dev"
	mount --rbind /sys "$SD_ROOT/sys"
	mount -t tmpfs -o mode=755 tmpfs "$SD_ROOT/run"
	mount -t tmpfs -o mode=1777 tmpfs "$SD_ROOT/tmp"
	# Whatever the host had in its systemd configuration stays out.
	rm -f "$SD_ROOT/etc/danaus/pools/"*.ini 2>/dev/null || true
}

sd_boot() {
	unshare --pid --fork --mount-proc="$SD_ROOT/proc" chroot "$SD_ROOT" env -i container=danaus-test \
		/lib/systemd/systemd --system --log-target=console >"$SD_WORK/console.log" 2>&1 &
	SD_UNSHARE_PID=$!
	for _ in $(seq 50); do
		SD_PID=$(awk '{print $1}' "/proc/$SD_UNSHARE_PID/task/$SD_UNSHARE_PID/children" 2>/dev/null)
		[ -n "$SD_PID" ] && break
		sleep 0.1
	done
	[ -n "$SD_PID" ] || { echo "systemd did not start: $(cat "$SD_WORK/console.log")" >&2; return 1; }
	local state=
	for _ in $(seq 150); do
		state=$(ns systemctl is-system-running 2>/dev/null || true)
		case $state in running|degraded) return 0 ;; esac
		sleep 0.2
	done
	echo "systemd did not boot (state '$state')" >&2
	return 1
}

sd_dump() {
	[ -n "$SD_PID" ] || return 0
	echo "--- units" >&2
	ns systemctl status --no-pager -l 'danaus*' >&2 2>&1 || true
	echo "--- journal of the danaus units" >&2
	ns journalctl --no-pager -n 60 -u 'danaus*' >&2 2>&1 || true
	echo "--- console (last 30 lines)" >&2
	tail -n 30 "$SD_WORK/console.log" >&2 || true
}

sd_poweroff() {
	if [ -n "$SD_PID" ]; then
		ns systemctl poweroff --no-block >/dev/null 2>&1 || kill -TERM "$SD_PID" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$SD_UNSHARE_PID" 2>/dev/null || break; sleep 0.2; done
		# PID 1 of the namespace takes every process in it along.
		kill -KILL "$SD_PID" 2>/dev/null || true
		wait "$SD_UNSHARE_PID" 2>/dev/null || true
		SD_PID=
	fi
	[ -n "$SD_ROOT" ] || return 0
	umount -R "$SD_ROOT" 2>/dev/null || umount -lR "$SD_ROOT" 2>/dev/null || true
	umount "$SD_WORK/rw" 2>/dev/null || true
}
