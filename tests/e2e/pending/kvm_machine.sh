#!/bin/bash
# Pending (not run by make test): it joins tests/e2e/ with provider_kvm in
# providers/registry.c once it passes steadily. Last run by hand (with kvm
# registered, L1 on qemu64): everything passed but destroy, which met
# "Directory not empty" removing the machine's folder in L1's overlay
# root (tmpfs over the host's 9p). Run: DEN_BIN=... DEN_SOURCE_DIR=... bash it.
#
# The kvm provider end to end: den's own VMM runs den/debian-12's VM box
# (the qemu provider's box, no second download) in `den up`. Here /dev/kvm
# is PVM: den up says why and what to use instead. The machine itself runs
# in the KVM-in-TCG harness (real kvm_amd): up to SSH, a shell provisioner,
# a forwarded port, an rsync folder, halt and up again with its disk kept,
# suspend and resume, destroy leaving nothing.
. "$(dirname "$0")/../lib/assert.sh"
. "$(dirname "$0")/../lib/machines.sh"
require_root "building the VM box (debootstrap, mkfs)"
add_box debian-12 qemu

P="$T_DIR/project"
mkdir -p "$P/code" "$T_DIR/mounted"
echo code > "$P/code/main.txt"
FPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$P/Envfile" <<EOF2
den: 1
machines:
  vm:
    box: den/debian-12
    provider: kvm
    cpus: 2
    memory: 1G
    boot_timeout: 600
    forwarded_ports:
      - { guest: 8000, host: $FPORT }
    synced_folders:
      - { host: ., guest: /vagrant, disabled: true }
      - { host: ./code, guest: /code, type: rsync }
    provision:
      - shell: echo "shell ran as \$(id -un)" > /tmp/shell-ran
EOF2
printf 'den: 1\nmachines:\n  m:\n    box: den/debian-12\n    provider: kvm\n    synced_folders: [{ host: ., guest: /work }]\n' > "$T_DIR/mounted/Envfile"
cd "$P"

# On this host: what cannot be, said before anything starts.
run -C "$T_DIR/mounted" up
expect_rc 2 "a mounted synced folder with provider: kvm"
expect_err "synced_folders in machine 'm': the kvm provider does not do it" "is refused, naming the key"
expect_err "type: rsync" "and says what works"
if [ -d /sys/module/kvm_pvm ]; then
	run up vm
	expect_rc 1 "den up with provider: kvm on a PVM host"
	expect_err "use provider: qemu" "says why and what to use instead"
	expect_true '[ ! -e "$(mdir vm)/disk.cow" ]' "and makes no disk"
fi

# In L1 (real kvm_amd): the machine's life.
cat > "$T_DIR/inside.sh" <<EOF2
export DEN_HOME="$DEN_HOME"
cd "$P"
t0=\$(date +%s%N)
"$DEN" -q up vm 2>&1 | tail -20; rc=\${PIPESTATUS[0]}; echo "kvm up: \$rc"
if [ "\$rc" != 0 ]; then
	tail -5 "$(mdir vm)/vmm.log" | sed 's/^/vmm.log: /'
	tail -25 "$(mdir vm)/console.log" | sed 's/^/console: /'
fi
echo "kvm up ms: \$(( (\$(date +%s%N) - t0) / 1000000 ))"
vm() { "$DEN" -q ssh vm -c "\$1"; }
echo "kvm shell: \$(vm 'cat /tmp/shell-ran')"
echo "kvm hostname: \$(vm hostname)"
echo "kvm rsync: \$(vm 'cat /code/main.txt')"
vm "echo served > /tmp/index.html; nohup python3 -m http.server 8000 -d /tmp >/dev/null 2>&1 &"
for i in \$(seq 60); do curl -sf "http://127.0.0.1:$FPORT/index.html" >/dev/null && break; sleep 0.5; done
echo "kvm port: \$(curl -s "http://127.0.0.1:$FPORT/index.html")"
vm "echo kept > /home/den/kept.txt; sync"
"$DEN" -q halt vm; echo "kvm halt: \$?"
echo "kvm after halt: \$("$DEN" -q status vm | grep -o 'stopped\\|running\\|aborted' | head -1)"
"$DEN" -q up vm --no-provision >/dev/null 2>&1; echo "kvm up again: \$?"
echo "kvm kept: \$(vm 'cat /home/den/kept.txt')"
"$DEN" -q suspend vm; echo "kvm suspend: \$?"
echo "kvm suspended: \$("$DEN" -q status vm | grep -o 'suspended\\|running' | head -1)"
"$DEN" -q resume vm; echo "kvm resume: \$?"
echo "kvm resumed: \$(vm 'echo back')"
"$DEN" -q destroy vm; echo "kvm destroy: \$?"
echo "kvm left: \$(ls "$(mdir vm)" 2>/dev/null | wc -l) files, \$(pgrep -fc 'den vmm run' || true) VMMs"
EOF2
OUT=$(HARNESS_MEMORY=4096 HARNESS_CPU=qemu64,+svm,+npt bash "$SRC/tests/harness/kvm-in-tcg.sh" "$T_DIR/inside.sh" 1200 2>&1) && RC=0 || RC=$?
[ "$RC" = 77 ] && t_skip "$(printf '%s\n' "$OUT" | sed -n 's/^skipped: //p' | head -1)"
[ -n "${DEN_TEST_DEBUG:-}" ] && printf '%s\n' "$OUT" >&2
printf '%s\n' "$OUT" | grep "^kvm up ms" || true
expect_rc 0 "the harness ran den inside L1"
expect_out "kvm up: 0" "den up with provider: kvm"
if ! printf '%s\n' "$OUT" | grep -q "kvm up: 0"; then
	printf '%s\n' "$OUT" | tail -30
	t_done
fi
expect_out "kvm shell: shell ran as root" "the shell provisioner ran"
expect_out "kvm hostname: vm" "the hostname came from the seed"
expect_out "kvm rsync: code" "the rsync folder was copied in"
expect_out "kvm port: served" "a forwarded port reaches a server in the guest"
expect_out "kvm halt: 0" "den halt"
expect_out "kvm after halt: stopped" "status says stopped after halt"
expect_out "kvm up again: 0" "den up again"
expect_out "kvm kept: kept" "the disk kept what was written before the halt"
expect_out "kvm suspend: 0" "den suspend"
expect_out "kvm suspended: suspended" "status says suspended"
expect_out "kvm resume: 0" "den resume"
expect_out "kvm resumed: back" "SSH answers after resume"
expect_out "kvm destroy: 0" "den destroy"
expect_out "kvm left: 0 files, 0 VMMs" "destroy leaves nothing"
t_done
