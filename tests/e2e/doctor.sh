#!/bin/bash
# den doctor on this machine, whose answers are known: /dev/kvm is KVM's
# PVM backend (den's VMM refuses it) or missing, QEMU is installed, root can run
# containers. Then with QEMU off the PATH, as a user without root, and
# with no LXD: each says what to do. (lxd_machine.sh checks the LXD line
# against a running LXD.)
. "$(dirname "$0")/lib/assert.sh"

[ "$(id -u)" -eq 0 ] || t_skip "needs root (the container checks differ without it)"

run doctor
expect_rc 0 "den doctor"
for line in "kvm +/dev/kvm" "kvm +den's VMM" "qemu +qemu-system-x86_64 +ok" "qemu +qemu-img +ok" \
	"container +user +ok +root" "container +namespaces +ok" "container +overlayfs +ok" \
	"container +cgroups +ok" "container +/dev/net/tun" "container +idmapped mounts +ok" \
	"lxd +LXD" "tools +ssh +ok" "tools +ansible-playbook +ok"; do
	expect_true 'echo "$OUT" | grep -qE "^$line"' "a line '$line'"
done
expect_out "Providers that can run here:" "the summary"
expect_true 'echo "$OUT" | grep -E "^container +cgroups" | grep -qE "hybrid|v1|v2"' "the cgroup layout named"
if [ ! -e /dev/kvm ]; then
	expect_true 'echo "$OUT" | grep -E "^kvm +den.s VMM +no" | grep -q "needs /dev/kvm.*use provider: qemu"' "no /dev/kvm: den's VMM says no, and what to use"
elif [ -e /sys/module/kvm_pvm ]; then
	expect_true 'echo "$OUT" | grep -E "^kvm +den.s VMM +no" | grep -q "PVM backend.*use provider: qemu"' "den's VMM: no on PVM, and what to use"
	expect_true 'echo "$OUT" | grep -E "^qemu +qemu-system" | grep -q "machines run with tcg"' "QEMU: TCG on PVM"
	expect_true 'echo "$OUT" | grep -q "Providers that can run here: qemu, container"' "qemu and container can run (got: $(echo "$OUT" | tail -1))"
fi

# JSON: the same checks.
run doctor --json
expect_rc 0 "den doctor --json"
expect_true 'echo "$OUT" | python3 -c "import json, sys; d = json.load(sys.stdin); sys.exit(not (d[\"providers\"][\"container\"] and d[\"providers\"][\"qemu\"] and all(set(c) == {\"area\", \"check\", \"state\", \"said\"} for c in d[\"checks\"])))"' "checks and providers in JSON"

# No LXD at LXD_DIR: a note saying so, not an error.
OUT=$(LXD_DIR="$T_DIR/no-lxd" "$DEN" doctor 2>&1) && RC=0 || RC=$?
expect_rc 0 "no LXD is not a failure"
expect_true 'echo "$OUT" | grep -E "^lxd +LXD +note" | grep -q "$T_DIR/no-lxd/unix.socket"' "the LXD line names the socket it tried"

# QEMU off the PATH: its line says which package.
mkdir -p "$T_DIR/bin"
for t in ssh rsync ansible-playbook debootstrap; do ln -s "$(command -v $t)" "$T_DIR/bin/$t"; done
OUT=$(PATH="$T_DIR/bin" "$DEN" doctor 2>&1) && RC=0 || RC=$?
expect_true 'echo "$OUT" | grep -E "^qemu +qemu-system-x86_64 +no" | grep -q "apt-get install qemu-system-x86"' "no QEMU: the package to install"
expect_true 'echo "$OUT" | grep -q "Providers that can run here: container"' "then only containers"

# Without root and without /etc/subuid ids: containers cannot run, and why.
if id nobody >/dev/null 2>&1 && ! grep -q "^nobody:" /etc/subuid 2>/dev/null; then
	OUT=$(cd / && HOME=/ DEN_HOME="$T_DIR/nobody" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$DEN" doctor 2>&1) && RC=0 || RC=$?
	expect_true 'echo "$OUT" | grep -E "^container +user +no" | grep -q "subuid"' "not root, no subuid range: says to add one"
	expect_true 'echo "$OUT" | grep -E "^container +idmapped mounts +note" | grep -q "without root"' "idmapped mounts: not tried without root"
fi

run doctor extra
expect_rc 2 "den doctor takes no arguments"

t_done
