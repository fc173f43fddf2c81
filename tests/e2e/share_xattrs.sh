#!/bin/bash
# A writable 9p synced folder on a file system without user extended
# attributes (tmpfs before Linux 6.6, many NFS homes; here a ramfs, which
# has none on any kernel, mounted in a mount namespace of the test's own)
# is refused by `den up` before anything starts, naming the folder and
# what works instead, for the qemu provider (whose mapped-xattr 9p booted
# for minutes and then failed at chown) as for kvm (checked in
# tests/e2e/kvm_machine.sh, where kvm runs).
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/machines.sh"
require_root "a ramfs mounted in a mount namespace"
add_box debian-12 qemu

P="$T_DIR/project"
mkdir -p "$P"
cat > "$T_DIR/inside.sh" <<EOF2
set -e
mount --make-rprivate /
mount -t ramfs ramfs "$P"
mkdir "$P/share"
printf 'den: 1\nmachines:\n  vm:\n    box: den/debian-12\n    provider: qemu\n    synced_folders:\n      - { host: ., guest: /vagrant, disabled: true }\n      - { host: ./share, guest: /share }\n' > "$P/Envfile"
cd "$P"
set +e
"$DEN" -q up vm 2>&1; echo "up rc: \$?"
echo "state: \$(ls "\$("$DEN" -q status --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["state_dir"])')/machines/vm" 2>/dev/null | wc -l) files"
EOF2
OUT=$(unshare -m bash "$T_DIR/inside.sh" 2>&1)
expect_out "up rc: 1" "den up fails"
expect_out "synced folder /share of machine vm: $P/share is on a file system without user extended attributes" "naming the folder and why"
expect_out "use type: rsync, mount_options: [ro]" "and what works"
expect_out "state: 0 files" "before anything of the machine is made"
t_done
