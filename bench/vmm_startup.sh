#!/bin/bash
# den's own work before the guest's first instruction (issue: provider:
# kvm; target < 20 ms), natively on this host, for a boot and for a
# restore (issue: instant VMs; target < 20 ms). Prints, never asserts.
#   bench/vmm_startup.sh [DEN] [RUNS]
# `den vmm run` with what the kvm provider gives it: Debian's kernel
# (8 MiB) and initrd (30 MiB) from /boot, 2 vCPUs, 1 GiB, a copy-on-write
# disk over a 2 GiB raw image, the user-mode network with a forwarded
# port, a 9p share and the console in a file. The VMM says (vmm.log, and
# `startup_us` in its status) how long it took from its start to vCPU 0's
# first KVM_RUN. This host's /dev/kvm is KVM's PVM backend, which den
# refuses because the guest's kernel would hang in 64-bit mode; everything
# den does before that runs the same, so for this figure only the run
# happens in a mount namespace where /sys/module is an empty tmpfs (no
# kvm_pvm to see), and each VM is stopped once it has said its figure.
# The restores: one such VM saved (control socket `snapshot`, then stop)
# a second into its boot, then restored RUNS times with the same devices:
# the state read and checked, guest RAM mapped from the memory file (not
# read), every vCPU, the VM and the devices set, to vCPU 0's first KVM_RUN.
# Needs root (the mount namespace).
set -eu
DEN=$(realpath "${1:-build/den}")
RUNS=${2:-9}
KVER=$(ls /boot/vmlinuz-* | sed 's|/boot/vmlinuz-||' | sort -V | tail -1)
work=$(mktemp -d "${TMPDIR:-/var/tmp}/den-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
truncate -s 2G "$work/base.raw"
mkdir "$work/share"
cat > "$work/run.sh" <<EOF
mount --make-rprivate /
mount -t tmpfs tmpfs /sys/module
for i in \$(seq $RUNS); do
	# The first run makes the overlay (as a first up does); the others open it.
	timeout 2 "$DEN" vmm run --kernel /boot/vmlinuz-$KVER --initrd /boot/initrd.img-$KVER \
		--cpus 2 --memory 1G --disk "$work/disk.cow,base=$work/base.raw" \
		--net user,hostfwd=tcp:127.0.0.1:\$((41000 + i))-:22 --share "$work/share,tag=t" \
		--console "$work/console.log" 2>&1 | sed -n 's/.*first instruction, \([0-9.]*\) ms.*/\1/p'
done
echo restores
devs="--cpus 2 --memory 1G --disk $work/disk.cow,base=$work/base.raw --net user,hostfwd=tcp:127.0.0.1:41999-:22 --share $work/share,tag=t,ro --console $work/console.log"
"$DEN" vmm run --kernel /boot/vmlinuz-$KVER --initrd /boot/initrd.img-$KVER \$devs --api "$work/api.sock" >/dev/null 2>&1 &
sleep 1
python3 - "$work/api.sock" "$work/snap" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall((json.dumps({"cmd": "snapshot", "dir": sys.argv[2], "then": "stop"}) + "\n").encode())
s.recv(4096)
PY
wait
for i in \$(seq $RUNS); do
	timeout 2 "$DEN" vmm run --restore "$work/snap" \$devs 2>&1 | sed -n 's/.*first instruction, \([0-9.]*\) ms.*/\1/p'
done
EOF
all=$(unshare -m bash "$work/run.sh")
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
runs=$(printf '%s\n' "$all" | sed '/^restores$/,$d' | tr '\n' ' ')
restores=$(printf '%s\n' "$all" | sed '1,/^restores$/d' | tr '\n' ' ')
echo "den vmm run, start to the guest's first instruction ($(nproc) cores, Debian $KVER kernel + initrd, 1 GiB, disk, net, 9p)"
echo "  boot:    median $(echo "$runs" | median) ms (runs, in order: $runs)"
echo "  restore: median $(echo "$restores" | median) ms (runs, in order: $restores)"
