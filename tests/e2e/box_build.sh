#!/bin/bash
# `den box build` makes a real Debian box with debootstrap (cached across
# runs in $DEN_BUILD_CACHE, outside the clone), `den box add` takes it,
# `den box publish` turns a folder of boxes into a box server.
. "$(dirname "$0")/lib/assert.sh"
export DEN_HOME="$T_DIR/home"
export DEN_BUILD_CACHE=${DEN_BUILD_CACHE:-/var/cache/den-test}
cd "$T_DIR"

if [ "$(id -u)" -ne 0 ]; then
	t_skip "den box build runs debootstrap, which needs root"
fi

run box build debian-12 --provider container --output "$T_DIR/out" --no-add
expect_rc 0 "den box build debian-12 --no-add"
expect_err "not added (--no-add); \`den up\` uses it after \`den box add" "says how to add it"
BOX="$T_DIR/out/den-debian-12-1.0.0-container-amd64.box"
expect_true '[ "$OUT" = "$BOX" ]' "prints the box file"
expect_true '[ -s "$BOX" ]' "the box file exists"
expect_true '[ -z "$(ls "$T_DIR/out" | grep -v "\.box$")" ]' "nothing half-made beside it"

run box build debian-12 --provider container --output "$T_DIR/out2" --no-add
expect_rc 0 "a second build"
expect_err "using the cached build" "comes from the cache"
expect_true 'cmp -s "$BOX" "$T_DIR/out2/$(basename "$BOX")"' "the same bytes"
expect_true '[ ! -e "$DEN_HOME/boxes/den/debian-12" ]' "--no-add leaves the store alone"

run box add "$BOX"
expect_rc 0 "den box add of a built box, no --name needed"
expect_err "den/debian-12 1.0.0 (container, amd64) added" "it names itself"
R="$DEN_HOME/boxes/den/debian-12/1.0.0/container-amd64/rootfs"
expect_true '[ -u "$R/usr/bin/sudo" ]' "sudo is installed, setuid"
expect_true '[ -x "$R/usr/sbin/sshd" ]' "sshd is installed"
expect_true '[ -x "$R/usr/bin/python3" ]' "python3 is installed (for Ansible)"
expect_true '[ -x "$R/usr/bin/curl" ]' "curl is installed"
expect_true '[ -d "$R/etc/ssl/certs" ]' "ca-certificates are installed"
expect_true 'grep -q "^den:x:1000:" "$R/etc/passwd"' "the den user exists"
expect_true 'grep -q "^den ALL=(ALL) NOPASSWD:ALL" "$R/etc/sudoers.d/den"' "den has passwordless sudo"
expect_true '[ -z "$(ls "$R/etc/ssh" | grep ssh_host_)" ]' "no host keys baked in"
expect_true 'grep -q "VERSION_CODENAME=bookworm" "$R/etc/os-release"' "it is bookworm"
expect_true '[ "$(stat -c %a "$R/tmp")" = 1777 ]' "/tmp keeps its mode (1777)"
expect_true '[ -d "$R/usr/lib/python3/dist-packages/apt" ]' "python3-apt is installed (Ansible's apt module)"

# Without options the box is added (as docker build does) and no file is left here.
mkdir -p "$T_DIR/plain" && cd "$T_DIR/plain"
run box build debian-12 --provider container
expect_rc 0 "den box build with no options"
expect_err "is already added" "adds the box to the store"
expect_true '[ -z "$(ls -A "$T_DIR/plain")" ]' "writes no file into the current folder"
expect_true 'cmp -s "$BOX" "$OUT"' "prints the build cache's box file"
cd "$T_DIR"

# A box of the same name and version in the store, from another recipe: --add replaces it.
M="$DEN_HOME/boxes/den/debian-12/1.0.0/container-amd64/metadata.json"
sed -i 's/"recipe_hash": "[0-9a-f]*"/"recipe_hash": "0000"/' "$M"
run box build debian-12 --provider container --output "$T_DIR/out" --add
expect_rc 0 "build --add over a box from another recipe"
expect_err "built from another recipe; replacing it" "says it replaces it"
expect_true '! grep -q "\"recipe_hash\": \"0000\"" "$M"' "the store now has the new build"
M="$DEN_HOME/boxes/den/debian-12/1.0.0/container-amd64/metadata.json"
expect_true 'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"den\"][\"ssh_user\"] == \"den\" and d[\"provider\"] == \"container\"" "$M"' "metadata says provider and ssh user"

run box build debian-12 --provider vmware
expect_rc 2 "an output den cannot make"
expect_err "--provider must be container, qemu or kvm" "says which it can"

run box build debain-12
expect_rc 2 "an unknown recipe"
expect_err "did you mean 'debian-12'?" "suggests the right one"
printf 'name: x/y\nversion: 1\nbase: { suite: jessie }\noutputs: [container]\n' > bad.yml
run box build ./bad.yml
expect_rc 1 "a bad recipe"
expect_err "base.suite must be bullseye, bookworm or trixie" "names the problem"
printf 'name: x/y\nversion: 1\nbase: { suite: bookworm }\noutputs: [container]\n  oops: [\n' > broken.yml
run box build ./broken.yml
expect_rc 2 "a recipe that is not YAML"
expect_err "broken.yml:" "points into the file"

# --- publish: a folder of boxes becomes a box server --------------------------
mkdir -p pub
cp "$BOX" pub/
python3 - pub <<'PY'
import io, json, sys, tarfile
# A second, small version of the same box, as den would have built it.
meta = json.dumps({"provider": "container", "architecture": "amd64",
                   "den": {"name": "den/debian-12", "version": "1.1.0"}}).encode()
with tarfile.open(sys.argv[1] + "/den-debian-12-1.1.0-container-amd64.box", "w:gz") as t:
    i = tarfile.TarInfo("metadata.json"); i.size = len(meta); t.addfile(i, io.BytesIO(meta))
    root = io.BytesIO()
    with tarfile.open(fileobj=root, mode="w") as r:
        d = b"hello\n"; e = tarfile.TarInfo("./etc/hostname"); e.size = len(d); r.addfile(e, io.BytesIO(d))
    i = tarfile.TarInfo("rootfs.tar"); i.size = len(root.getvalue()); t.addfile(i, io.BytesIO(root.getvalue()))
PY
echo '{"provider": "libvirt"}' > meta.json && tar -czf pub/vagrant.box meta.json
run box publish pub
expect_rc 0 "den box publish"
expect_true '[ -f pub/den/debian-12 ]' "the catalog is at DIR/ORG/NAME"
expect_err "skipping vagrant.box" "a box that does not name itself is skipped, with a word"
expect_true 'python3 - pub/den/debian-12 "$(sha256sum "$BOX" | cut -d" " -f1)" <<PY
import json, sys
c = json.load(open(sys.argv[1]))
assert c["name"] == "den/debian-12"
vs = {v["version"]: v["providers"][0] for v in c["versions"]}
assert set(vs) == {"1.0.0", "1.1.0"}, vs
assert vs["1.0.0"]["checksum"] == sys.argv[2] and vs["1.0.0"]["checksum_type"] == "sha256"
assert vs["1.0.0"]["url"] == "../den-debian-12-1.0.0-container-amd64.box"
PY' "catalog with both versions, sha256 and relative URLs"

python3 "$SRC/tests/helpers/boxserver.py" "$T_DIR/pub" > "$T_DIR/port" &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null; rm -rf "$T_DIR"' EXIT
for _ in $(seq 50); do [ -s "$T_DIR/port" ] && break; sleep 0.1; done
export DEN_BOX_SERVER="http://127.0.0.1:$(cat "$T_DIR/port")"
DEN_HOME="$T_DIR/home2" run box add den/debian-12 --box-version "~> 1.1"
expect_rc 0 "add from the published folder, over HTTP"
expect_err "den/debian-12 1.1.0" "the newest allowed version"
DEN_HOME="$T_DIR/home2" run box add den/debian-12 --box-version 1.0.0
expect_rc 0 "the built box, over HTTP"
expect_true '[ -u "$T_DIR/home2/boxes/den/debian-12/1.0.0/container-amd64/rootfs/usr/bin/sudo" ]' "whole after the trip"

run box publish pub --base-url https://boxes.example.test/den
expect_true 'grep -q "https://boxes.example.test/den/den-debian-12-1.0.0-container-amd64.box" pub/den/debian-12' "--base-url makes absolute URLs"

t_done
