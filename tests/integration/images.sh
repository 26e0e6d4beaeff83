#!/usr/bin/env bash
# Integration (containers): danaus-image stores images in a pool, through the
# pool and with the caller's rights. Images come from podman without a
# registry (a rootfs of this machine's binaries `podman import`ed, and one
# built FROM it with one more layer), saved as oci-archive (gzip layers),
# docker-archive (plain tars) and an OCI layout directory; hostile and broken
# layouts are written by oci_layout.py.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

[ "$(id -u)" = 0 ] || fail "the image test runs podman as root"
command -v podman > /dev/null || fail "podman is not installed (scripts/install-deps installs it)"
IMG_BIN="$DANAUS_BUILD/image/danaus-image"
[ -x "$IMG_BIN" ] || fail "no $IMG_BIN"
PODMAN=(podman --runtime "$(command -v runc)" --cgroup-manager=cgroupfs --events-backend=file)

# The base image: bash, cat, ls and dash with their libraries.
SRC="$WORK/src"
mkdir -p "$SRC/rootfs/usr/bin"
for b in bash cat ls dash; do
	cp "/usr/bin/$b" "$SRC/rootfs/usr/bin/"
	for l in $(ldd "/usr/bin/$b" | grep -o '/[^ ]*'); do
		mkdir -p "$SRC/rootfs$(dirname "$l")"
		cp -L "$l" "$SRC/rootfs$l"
	done
done
ln -s dash "$SRC/rootfs/usr/bin/sh"
ln -s usr/bin "$SRC/rootfs/bin"
chmod 4755 "$SRC/rootfs/usr/bin/ls" # a set-id bit the store must keep
tar -C "$SRC/rootfs" -cf "$SRC/rootfs.tar" .
BASE=localhost/danaus-test-base:$$ DERIVED=localhost/danaus-test-derived:$$
trap 'rc=$?; set +e; "${PODMAN[@]}" rmi -f "$DERIVED" "$BASE" > /dev/null 2>&1; (exit $rc); cleanup' EXIT
"${PODMAN[@]}" import "$SRC/rootfs.tar" "$BASE" > /dev/null || fail "podman import failed"
echo "the derived image's own file" > "$SRC/hello.txt"
printf 'FROM %s\nCOPY hello.txt /hello.txt\n' "$BASE" > "$SRC/Containerfile"
"${PODMAN[@]}" build --network=none -t "$DERIVED" "$SRC" > "$WORK/build.log" 2>&1 ||
	{ cat "$WORK/build.log" >&2; fail "podman build failed"; }
"${PODMAN[@]}" save --format oci-archive -o "$SRC/base-oci.tar" "$BASE" 2>/dev/null
"${PODMAN[@]}" save --format docker-archive -o "$SRC/derived-docker.tar" "$DERIVED" 2>/dev/null
"${PODMAN[@]}" save --format oci-dir -o "$SRC/derived-oci" "$DERIVED" 2>/dev/null
[ -s "$SRC/base-oci.tar" ] && [ -s "$SRC/derived-docker.tar" ] && [ -f "$SRC/derived-oci/index.json" ] ||
	fail "podman save wrote no archives"

pool_start im "[access]\nusers = root, nobody"
image() { "$IMG_BIN" --pool im --socket "$SOCK" --mountpoint "$MNT" "$@"; }
STORE="$ROOT/images"
layers() { find "$STORE/layers/sha256" -mindepth 1 -maxdepth 1 | wc -l; }

out=$(image import "$SRC/base-oci.tar" base:1) || fail "import of the oci-archive: $out"
[ "$out" = "imported base:1: 1 layers, 1 stored now, 0 already stored" ] || fail "import said: $out"
base_layer=$(find "$STORE/layers/sha256" -mindepth 1 -maxdepth 1)
diff -r --no-dereference "$SRC/rootfs" "$base_layer" > "$WORK/diff" 2>&1 ||
	fail "the stored layer differs from the image's files: $(head "$WORK/diff")"
[ "$(stat -c %a:%u:%g "$base_layer/usr/bin/ls")" = "4755:0:0" ] ||
	fail "the set-id bit or owner of ls was lost: $(stat -c %a:%u:%g "$base_layer/usr/bin/ls")"
pass "an oci-archive (gzip layers) is stored through the pool: the layer is the image's files"

out=$(image import "$SRC/base-oci.tar" base:again) || fail "second import: $out"
[ "$out" = "imported base:again: 1 layers, 0 stored now, 1 already stored" ] || fail "said: $out"
out=$(image import "$SRC/derived-docker.tar" derived) || fail "import of the docker-archive: $out"
[ "$out" = "imported derived:latest: 2 layers, 1 stored now, 1 already stored" ] || fail "said: $out"
out=$(image import "$SRC/derived-oci" derived:oci) || fail "import of the OCI layout: $out"
[ "$out" = "imported derived:oci: 2 layers, 0 stored now, 2 already stored" ] || fail "said: $out"
[ "$(layers)" = 2 ] || fail "$(layers) layers stored for two images sharing one base"
grep -rqx "the derived image's own file" "$STORE/layers/sha256" || fail "the derived layer lacks hello.txt"
pass "layers are stored once: the same image again, and an image on the same base in two formats"

out=$(image list) || fail "list: $out"
for want in "base:1 " "base:again " "derived:latest " "derived:oci "; do
	grep -q "^$want" <<< "$out" || fail "list lacks $want: $out"
done
pass "list names every image"

# OCI whiteouts stay the plain files the spec defines.
python3 "$HERE/oci_layout.py" "$WORK/wh" '{"gzip": true, "layers": [
	[{"name": "etc", "kind": "dir", "mode": 493}, {"name": "etc/gone", "data": "x"},
	 {"name": "d", "kind": "dir", "mode": 493}, {"name": "d/f", "data": "lower"}],
	[{"name": "etc/.wh.gone"}, {"name": "d/.wh..wh..opq"}, {"name": "d/g", "data": "upper"}]]}' \
	> "$WORK/wh.ids"
image import "$WORK/wh" wh > /dev/null || fail "import of a layout with whiteouts failed"
upper=$(cut -d' ' -f2 < "$WORK/wh.ids")
for f in etc/.wh.gone d/.wh..wh..opq d/g; do
	[ -f "$STORE/layers/sha256/$upper/$f" ] || fail "the upper layer lacks $f"
done
pass "whiteouts (.wh.NAME, .wh..wh..opq) are stored as the plain files they are"

# The union: pools on the same backend serve stored images, each under its
# own writable layer; the layers are shared and never written.
IM_SOCK=$SOCK IM_MNT=$MNT
POOL_ROOT_OF=im pool_start c1 "[union]\nimage = derived\nupper = /containers/c1"
C1_SOCK=$SOCK C1_MNT=$MNT
in_c1() { "$RUN_BIN" --pool c1 --socket "$C1_SOCK" --mountpoint "$C1_MNT" -- "$@"; }
[ "$(in_c1 cat "$C1_MNT/hello.txt")" = "the derived image's own file" ] ||
	fail "the union does not show the derived layer's file"
[ "$(in_c1 ls "$C1_MNT/usr/bin")" = "$(printf 'bash\ncat\ndash\nls\nsh')" ] ||
	fail "the union does not show the base layer: $(in_c1 ls "$C1_MNT/usr/bin")"
[ "$(in_c1 stat -c %a:%u "$C1_MNT/usr/bin/ls")" = 4755:0 ] || fail "the union lost ls's set-id bit"
in_c1 sh -c "echo changed >> '$C1_MNT/hello.txt' && rm '$C1_MNT/usr/bin/cat' && mkdir '$C1_MNT/new'" ||
	fail "writes through the union failed"
[ "$(in_c1 cat "$C1_MNT/hello.txt")" = "$(printf "the derived image's own file\nchanged")" ] ||
	fail "the appended file reads back as: $(in_c1 cat "$C1_MNT/hello.txt")"
in_c1 test -e "$C1_MNT/usr/bin/cat" && fail "a removed lower file is still there"
[ -f "$ROOT/containers/c1/usr/bin/.wh.cat" ] || fail "no whiteout for the removed file in upper"
[ -f "$ROOT/containers/c1/hello.txt" ] && [ -d "$ROOT/containers/c1/new" ] ||
	fail "the writable layer lacks the copied-up file or the new directory"
grep -rqx "changed" "$STORE/layers/sha256" && fail "a write reached a stored layer"
[ "$(find "$STORE/layers/sha256" -name cat | wc -l)" = 1 ] || fail "the stored cat is gone"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
	"$RUN_BIN" --pool c1 --socket "$C1_SOCK" --mountpoint "$C1_MNT" -- \
	sh -c "echo x >> '$C1_MNT/hello.txt'" 2>&1) && fail "nobody wrote root's 0644 file through the union"
grep -q "Permission denied" <<< "$out" || fail "nobody's write failed otherwise: $out"
# a second container of the image sees the image, not c1's changes
POOL_ROOT_OF=im pool_start c2 "[union]\nimage = derived\nupper = /containers/c2"
in_c2() { "$RUN_BIN" --pool c2 --socket "$SOCK" --mountpoint "$MNT" -- "$@"; }
[ "$(in_c2 cat "$MNT/hello.txt")" = "the derived image's own file" ] && in_c2 test -e "$MNT/usr/bin/cat" ||
	fail "c2 sees c1's changes"
# a missing image stops the pool with the reason
pool_file="$WORK/c3/etc/pools/c3.ini"
mkdir -p "$(dirname "$pool_file")"
sed 's|^image = .*|image = nosuch:1|; s|/containers/c2|/containers/c3|' "$WORK/c2/etc/pools/c2.ini" > "$pool_file"
out=$("$POOL_BIN" --pool c3 --config-dir "$WORK/c3/etc" --socket "$WORK/c3/s" --cdi-dir "" 2>&1) &&
	fail "a pool started with a missing image"
grep -q "no image nosuch:1 in /images" <<< "$out" || fail "a missing image said: $out"
# The union hands its backend paths without symlinks: one found there (a
# client's rename race would put it) is refused, never followed.
ln -s containers "$ROOT/clink"
sed 's|^upper = .*|upper = /clink/c3|' "$WORK/c2/etc/pools/c2.ini" > "$pool_file"
out=$("$POOL_BIN" --pool c3 --config-dir "$WORK/c3/etc" --socket "$WORK/c3/s" --cdi-dir "" 2>&1) &&
	fail "a union pool followed a symlink in its backend"
grep -q "upper: cannot make /clink/c3: Too many levels of symbolic links" <<< "$out" ||
	fail "a symlink in the backend path said: $out"
[ -e "$ROOT/containers/c3" ] && fail "the symlink was followed: containers/c3 exists"
pass "[union] image: the image's layers under a writable layer per pool; lower layers untouched; nobody refused; a missing image named; no symlink followed in the backend"

# Containers made on demand: danaus-run --container NAME --image IMAGE gets a
# union of its own in a pool that has [union] containers; the pool's own tree
# stays the plain backend.
POOL_ROOT_OF=im pool_start cp "[union]\ncontainers = /containers"
CP_SOCK=$SOCK CP_MNT=$MNT
ctr() { # ctr [setpriv args --] NAME [--rm] -- CMD...: CMD in container NAME of pool cp
	local name=$1; shift
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	"$RUN_BIN" --pool cp --socket "$CP_SOCK" --mountpoint "$CP_MNT" --container "$name" \
		--image derived "${opts[@]}" -- "$@"
}
out=$(ctr web1 -- cat "$CP_MNT/hello.txt" 2>&1) || true
[ "$out" = "the derived image's own file" ] ||
	fail "container web1 does not show its image: $out $(tail -40 "$WORK/cp/pool.log")"
ctr web1 -- sh -c "echo kept > '$CP_MNT/state' && rm '$CP_MNT/usr/bin/ls'" || fail "web1 could not write"
[ "$(ctr web1 -- cat "$CP_MNT/state")" = kept ] || fail "web1's second run lost its writable layer"
ctr web1 -- test -e "$CP_MNT/usr/bin/ls" && fail "web1's second run sees a removed file"
ctr web2 -- test -e "$CP_MNT/state" && fail "web2 sees web1's file"
ctr web2 -- test -e "$CP_MNT/usr/bin/ls" || fail "web2 lost ls, which web1 removed"
[ -f "$ROOT/containers/web1/state" ] || fail "web1's file is not in its writable layer"
# the pool's own tree is not a container's
"$RUN_BIN" --pool cp --socket "$CP_SOCK" --mountpoint "$CP_MNT" -- test -d "$CP_MNT/images/layers" ||
	fail "the pool's own tree is not its backend"
# processes of one container share it while they run, forks and execs included
ctr web3 -- sh -c "echo one > '$CP_MNT/a'; sh -c 'cat $CP_MNT/a > $CP_MNT/b'; cat '$CP_MNT/b'" > "$WORK/web3.out" ||
	fail "web3's children failed"
[ "$(cat "$WORK/web3.out")" = one ] || fail "web3's child did not see its parent's file"
# --rm: the writable layer goes with the container's last process (after a grace time)
ctr tmp1 --rm -- sh -c "echo x > '$CP_MNT/x'" || fail "a --rm container failed"
[ -d "$ROOT/containers/tmp1" ] || fail "no writable layer for tmp1"
for _ in $(seq 50); do [ -d "$ROOT/containers/tmp1" ] || break; sleep 0.1; done
[ -d "$ROOT/containers/tmp1" ] && fail "the --rm container's writable layer stayed"
[ -d "$ROOT/containers/web1" ] || fail "web1's layer went with tmp1's"
# the pool decides who may: another uid may not enter root's container;
# a container runs one image; names cannot lead elsewhere
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$RUN_BIN" --pool cp --socket "$CP_SOCK" \
	--mountpoint "$CP_MNT" --container web1 --image derived -- cat "$CP_MNT/state" 2>&1) &&
	fail "nobody entered root's container: $out"
grep -q "container web1 belongs to uid 0" <<< "$out" || fail "nobody's refusal said: $out"
out=$("$RUN_BIN" --pool cp --socket "$CP_SOCK" --mountpoint "$CP_MNT" --container web1 --image base:1 -- true 2>&1) &&
	fail "web1 ran another image"
grep -q "container web1 runs derived:latest, not base:1" <<< "$out" || fail "another image said: $out"
for bad in .. ../im x/y .hidden; do
	out=$("$RUN_BIN" --pool cp --socket "$CP_SOCK" --mountpoint "$CP_MNT" --container "$bad" --image derived -- true 2>&1) &&
		fail "container name '$bad' was taken"
	grep -q "is not a container name" <<< "$out" || fail "container name '$bad' said: $out"
done
out=$("$RUN_BIN" --pool im --socket "$IM_SOCK" --mountpoint "$IM_MNT" --container web1 --image derived -- true 2>&1) &&
	fail "a pool without [union] containers ran a container"
grep -q "runs no containers" <<< "$out" || fail "a pool without containers said: $out"
# nobody's own container is nobody's
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$RUN_BIN" --pool cp --socket "$CP_SOCK" \
	--mountpoint "$CP_MNT" --container nob --image derived -- sh -c "cat $CP_MNT/hello.txt; echo x > $CP_MNT/hello.txt" 2>&1) || true
grep -q "the derived image's own file" <<< "$out" && grep -q "Permission denied" <<< "$out" ||
	fail "nobody's container: $out"
# one uid may hold 32 containers open at once; the 33rd and on are refused,
# others' and the pool unharmed
caps=()
for i in $(seq 40); do
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$RUN_BIN" --pool cp --socket "$CP_SOCK" \
		--mountpoint "$CP_MNT" --container "cap$i" --image derived --rm -- sleep 4 > "$WORK/cap$i.out" 2>&1 &
	caps+=($!)
done
for p in "${caps[@]}"; do wait "$p" || true; done
refused=$(cat "$WORK"/cap*.out | grep -c "uid 65534 has 32 containers open already" || true)
[ "$refused" -ge 8 ] && [ "$refused" -le 9 ] || fail "40 containers of nobody: $refused refused ($(cat "$WORK"/cap*.out | sort | uniq -c))"
[ "$(ctr web1 -- cat "$CP_MNT/state")" = kept ] || fail "root's container after nobody's were refused"
SOCK=$IM_SOCK MNT=$IM_MNT
pass "containers on demand: one union per name, kept across runs, shared by a run's processes, --rm, only for its uid and image, 32 per uid"

# Hostile or broken images: refused with the reason, nothing written outside
# the store, no layer left half-unpacked.
mkdir "$WORK/outside"
bad() {
	local name=$1 spec=$2 want=$3
	rm -rf "$WORK/bad"
	python3 "$HERE/oci_layout.py" "$WORK/bad" "$spec" > /dev/null
	local before
	before=$(layers)
	out=$(image import "$WORK/bad" "bad-$name" 2>&1) && fail "$name: imported: $out"
	grep -qF "$want" <<< "$out" || fail "$name: refused without saying '$want': $out"
	[ "$(layers)" = "$before" ] || fail "$name: a layer was stored"
	[ -z "$(ls -A "$WORK/outside")" ] || fail "$name: wrote outside: $(ls -A "$WORK/outside")"
	grep -q '^\.' <<< "$(ls -A "$STORE/layers/sha256")" && fail "$name: left $(ls -A "$STORE/layers/sha256")"
	grep -q "^bad-$name" <<< "$(image list)" && fail "$name: named in the store"
	return 0
}
bad dotdot '{"layers": [[{"name": "../../outside/x", "data": "x"}]]}' "leads out of the layer"
bad absolute '{"layers": [[{"name": "'"$WORK"'/outside/x", "data": "x"}]]}' "leads out of the layer"
bad hardlink '{"layers": [[{"name": "hl", "kind": "hardlink", "target": "../../../etc/passwd"}]]}' \
	"leads out of the layer"
bad symlink '{"layers": [[{"name": "l", "kind": "symlink", "target": "'"$WORK"'/outside"},
	{"name": "l/x", "data": "x"}]]}' "symlink"
bad blob '{"layers": [[{"name": "f", "data": "x"}]], "corrupt": "blob"}' "the image names"
bad diff_id '{"layers": [[{"name": "f", "data": "x"}]], "corrupt": "diff_id"}' "the config names"
pass "escaping entries (.., absolute, hardlinks, through symlinks) and wrong digests are refused"

# The store is the pool's files: a caller the pool admits imports only where
# the kernel would let it write.
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
	"$IMG_BIN" --pool im --socket "$SOCK" --mountpoint "$MNT" import "$SRC/base-oci.tar" nob 2>&1) &&
	fail "nobody imported into root's store: $out"
grep -q "Permission denied" <<< "$out" || fail "nobody's import failed otherwise: $out"
pass "nobody cannot write root's store through the pool (EACCES)"

# rm: an image a writable layer stacks on stays (the pools' records in users/);
# a --rm container's record went with its layer.
[ -f "$STORE/users/%containers%c1" ] && [ -f "$STORE/users/%containers%web1" ] ||
	fail "no users/ records of c1, web1: $(ls "$STORE/users" 2>&1)"
[ -e "$STORE/users/%containers%tmp1" ] && fail "the --rm container's record stayed"
out=$(image rm derived:latest 2>&1) && fail "rm of an image in use: $out"
grep -q "derived:latest is in use: the writable layer /containers/.* stacks on it" <<< "$out" ||
	fail "rm of an image in use said: $out"
[ "$(layers)" -ge 2 ] || fail "the refused rm removed layers"
rm -rf "$ROOT/containers" "$STORE/users"
pass "rm refuses an image a writable layer stacks on, until the layer and its record go"

# rm: a layer goes when no image uses it any more.
image rm derived:latest > /dev/null && image rm derived:oci > /dev/null || fail "rm derived failed"
[ "$(layers)" = 3 ] || fail "rm of the derived images left $(layers) layers (base + whiteout pair)"
[ -d "$base_layer" ] || fail "rm of the derived images removed the base layer other images use"
image rm base:1 > /dev/null || fail "rm base:1 failed"
[ -d "$base_layer" ] || fail "the base layer went while base:again uses it"
out=$(image rm base:again) || fail "rm base:again: $out"
[ "$out" = "removed base:again: 1 layers freed" ] || fail "rm said: $out"
[ -e "$base_layer" ] && fail "the base layer stayed with no image using it"
out=$(image rm base:again 2>&1) && fail "rm of a missing image: $out"
grep -q "no image base:again" <<< "$out" || fail "rm of a missing image said: $out"
pass "rm frees the layers no other image uses, and only those"
