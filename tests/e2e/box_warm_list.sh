#!/bin/bash
# Warm images as the box commands show them, without a VM: `den box list`
# (its WARM column and --json), `den box prune` (removes the warm images
# this den cannot use) and `den box warm`'s refusals.
# Making a warm image needs /dev/kvm and a real box: the VM harness does it.
. "$(dirname "$0")/lib/assert.sh"
export DEN_HOME="$T_DIR/home"
mkdir -p "$T_DIR/work"
cd "$T_DIR/work"

# vm_box FILE NAME VERSION WARM: a tiny libvirt box that names itself; WARM
# is its metadata's "den"."warm" (empty: none, a box of an older den).
vm_box() {
	local d
	d=$(mktemp -d "$T_DIR/b.XXXX")
	python3 - "$d/metadata.json" "$2" "$3" "$4" <<'PY'
import json, sys
path, name, version, warm = sys.argv[1:]
den = {"name": name, "version": version}
if warm:
    den["warm"] = warm
json.dump({"provider": "libvirt", "format": "qcow2", "den": den}, open(path, "w"))
PY
	echo img > "$d/box.img"
	tar -C "$d" -czf "$1" .
	rm -rf "$d"
}

vm_box "$T_DIR/vm-1.box" den/vm 1.0.0 2
vm_box "$T_DIR/vm-0.box" den/vm 0.9.0 2
vm_box "$T_DIR/oldvm.box" den/oldvm 1.0.0 1 # an older den's handshake
d=$(mktemp -d "$T_DIR/c.XXXX")
echo '{"provider": "container", "den": {"name": "den/ctr", "version": "1.0.0"}}' > "$d/metadata.json"
mkdir "$d/rootfs" && tar -C "$d/rootfs" -cf "$d/rootfs.tar" . && rm -rf "$d/rootfs"
tar -C "$d" -czf "$T_DIR/ctr.box" .
for f in vm-1 vm-0 oldvm ctr; do
	run box add "$T_DIR/$f.box"
	expect_rc 0 "add $f.box"
done
BOX=$(ls -d "$DEN_HOME"/boxes/den/vm/1.0.0/libvirt-*)
OLD=$(ls -d "$DEN_HOME"/boxes/den/vm/0.9.0/libvirt-*)

# --- warm images: one of this den, one of another, one of an old version ------
run version
VERSION=${OUT#den }
SNAP=$(sed -n 's/^#define SNAP_FORMAT \([0-9]*\).*/\1/p' "$SRC/providers/kvm/snapshot_file.h")
# Which CPU a warm image was made for is a digest of what /dev/kvm offers
# (warm.h, warm_host_cpu), which this test does not compute: every warm
# image here is for another CPU, so none is usable, and the checks are of
# the other den's (the VM harness makes and uses real ones).
CPU=0000000000000000000000000000000000000000000000000000000000000000
# warm NAME DEN [BOX]: a warm image's folder with its record and some memory.
warm() {
	local dir="${3:-$BOX}/kvm/warm/$1"
	mkdir -p "$dir"
	python3 - "$dir/warm.json" "$2" "$SNAP" "$CPU" <<'PY'
import json, sys
path, den, snap, cpu = sys.argv[1:]
json.dump({"key": "0" * 64, "den": den, "snapshot_format": int(snap), "cpu": cpu,
           "cpus": 2, "memory": 1 << 30, "disk_size": 0, "shares": 1}, open(path, "w"))
PY
	head -c 65536 /dev/urandom > "$dir/memory"
}
warm c2-m1024-d0-s1-0123456789abcdef "$VERSION"
warm c2-m1024-d0-s1-fedcba9876543210 0.0.0-other
warm c2-m1024-d0-s1-00000000000000aa 0.0.0-other "$OLD"
mkdir -p "$BOX/kvm/warm/.new-c2-m1024-d0-s1-0000000000000000" # a template being made
touch "$BOX/kvm/warm/c2-m1024-d0-s1-0123456789abcdef.lock"

# --- den box list ---------------------------------------------------------------
run box list
expect_rc 0 "box list"
expect_true 'printf "%s\n" "$OUT" | head -1 | grep -qE "^BOX +VERSION +PROVIDER +ARCH +WARM +FROM$"' "WARM and FROM columns after the others"
# warm_of NAME [VERSION]: the WARM cell of that box's row, by the header's columns.
warm_of() {
	printf "%s\n" "$OUT" | python3 -c '
import sys
rows = sys.stdin.read().splitlines()
a, b = rows[0].index("WARM"), rows[0].index("FROM")
for r in rows[1:]:
    f = r.split()
    if f[0] == sys.argv[1] and (len(sys.argv) < 3 or f[1] == sys.argv[2]):
        print(r[a:b].strip())' "$@"
}
expect_true '[ "$(warm_of den/vm 1.0.0)" = "2 (0 usable)" ]' "two warm images, neither for this CPU"
expect_true '[ "$(warm_of den/ctr)" = - ]' "a container box has none"
expect_true '[ "$(warm_of den/oldvm)" = - ]' "a VM box without warm images"

run box list --json
expect_rc 0 "box list --json"
check_json() { # PYTHON: d is the list, b(name, version) a box, w(box, name) a warm image
	printf '%s' "$OUT" | python3 -c "
import json, sys
d = json.load(sys.stdin)
b = lambda n, v: [x for x in d if x['name'] == n and x['version'] == v][0]
w = lambda box, n: [x for x in box['warm'] if x['name'] == n][0]
$1" 2>&1
}
expect_true 'check_json "assert all(isinstance(x[\"warm\"], list) for x in d)"' "every box has a warm list"
expect_true 'check_json "assert b(\"den/ctr\", \"1.0.0\")[\"warm\"] == []"' "empty for a container box"
expect_true 'check_json "assert len(b(\"den/vm\", \"1.0.0\")[\"warm\"]) == 2"' "two warm images (neither the template being made nor the lock)"
expect_true 'check_json "
x = w(b(\"den/vm\", \"1.0.0\"), \"c2-m1024-d0-s1-fedcba9876543210\")
assert x[\"usable\"] is False, x
assert (x[\"cpus\"], x[\"memory\"], x[\"disk_size\"], x[\"folders\"]) == (2, 1 << 30, 0, 1), x
assert x[\"bytes\"] >= 65536, x"' "the other den's: unusable, with its shape and size"
expect_true 'check_json "assert w(b(\"den/vm\", \"1.0.0\"), \"c2-m1024-d0-s1-0123456789abcdef\")[\"usable\"] is False"' "this den's, for another CPU: unusable too"

# --- den box prune ---------------------------------------------------------------
run box prune --dry-run
expect_rc 0 "prune --dry-run"
expect_out "would remove den/vm 0.9.0" "the old box would go"
expect_out "would remove the warm image c2-m1024-d0-s1-fedcba9876543210 of den/vm 1.0.0" "and the other den's warm image"
expect_true '[ -d "$BOX/kvm/warm/c2-m1024-d0-s1-fedcba9876543210" ] && [ -d "$OLD" ]' "a dry run removes nothing"

run box prune
expect_rc 0 "prune"
expect_true '[ ! -e "$BOX/kvm/warm/c2-m1024-d0-s1-fedcba9876543210" ]' "the other den's warm image is gone"
expect_true '[ ! -e "$OLD" ]' "the old version is gone, with its warm image"
expect_true '[ ! -e "$BOX/kvm/warm/c2-m1024-d0-s1-0123456789abcdef" ]' "and this den's for another CPU"
expect_err "removed 2 warm images that this den cannot use" "says how many"
expect_true '[ -f "$BOX/kvm/warm/c2-m1024-d0-s1-0123456789abcdef.lock" ]' "what is not a warm image stays"
expect_true '[ -f "$BOX/box.img" ] && [ -d "$DEN_HOME/boxes/den/ctr" ]' "the boxes kept are whole"
run box prune
expect_rc 0 "prune again"
expect_err "removed 0 warm images" "nothing more to remove"

# --- den box warm refuses, before any VM --------------------------------------------
run box warm den/nosuch
expect_rc 1 "an unknown box"
expect_err "no box den/nosuch in the store" "says so"
expect_err "den box add den/nosuch" "says how to add it"
expect_err "den box build RECIPE --provider qemu" "or build it"
run box warm den/ctr
expect_rc 1 "a container box"
expect_err "box den/ctr is not a VM box (the store has it for provider container)" "says it is not a VM box"
run box warm den/oldvm
expect_rc 1 "a VM box whose hook makes no warm images"
expect_err "box den/oldvm 1.0.0 cannot make warm images" "says so"
expect_err "rebuild it with a den of this version: den box build" "says what to do"
run box warm den/vm --version 9.9.9
expect_rc 1 "a version not in the store"
expect_err "box den/vm has no version 9.9.9 in the store" "says so"
run box warm den/vm --folders 99
expect_rc 2 "--folders 99"
expect_err "--folders takes 0 to 4" "names the range"
run box warm den/vm --memory 1X
expect_rc 2 "a bad --memory"
run box warm den/vm --disk-size 1M
expect_rc 2 "a --disk-size under the Envfile's least"
expect_err "0 (the box's) or 64M" "names the range"
run box warm
expect_rc 2 "no box named"
expect_err "usage: den box warm BOX" "shows the usage"

run help box
expect_out "den box warm BOX" "den help box shows it"

t_done
