#!/bin/bash
# den's own work before the guest's first instruction (issue: provider:
# kvm; target < 20 ms), natively on this host. Prints, never asserts.
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
EOF
runs=$(unshare -m bash "$work/run.sh" | tr '\n' ' ')
median=$(echo "$runs" | tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
echo "den vmm run, start to the guest's first instruction ($(nproc) cores, Debian $KVER kernel + initrd, 1 GiB, disk, net, 9p)"
echo "  median $median ms (runs, in order: $runs)"
