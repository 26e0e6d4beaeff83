# Fixture of the container tests: the Debian 11 image (glibc 2.31, older than
# the library's build) they run, debootstrapped from the apt mirror and
# `podman import`ed once per machine, whichever test comes first.
# Source it after lib.sh; sets IMAGE.
IMAGE=localhost/danaus-test-bullseye:1
if ! podman image exists "$IMAGE"; then
	command -v debootstrap > /dev/null || fail "debootstrap is not installed (scripts/install-deps installs it)"
	debootstrap --variant=minbase bullseye "$WORK/rootfs" http://deb.debian.org/debian \
		> "$WORK/debootstrap.log" 2>&1 ||
		{ tail -20 "$WORK/debootstrap.log" >&2; fail "debootstrap of Debian 11 failed"; }
	tar -C "$WORK/rootfs" -c . | podman import - "$IMAGE" > /dev/null ||
		fail "podman import of the Debian 11 rootfs failed"
	rm -rf "$WORK/rootfs"
fi
