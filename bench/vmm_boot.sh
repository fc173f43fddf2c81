#!/bin/bash
# VMM figures (issue: den's own VMM). Prints, never asserts.
#   bench/vmm_boot.sh [DEN]
# Inside the KVM-in-TCG harness (tests/harness/kvm-in-tcg.sh: real kvm_amd
# under an emulated EPYC), side by side: time from starting
# the VMM to the guest's first userspace line (median of 3) for `den vmm run` and for
# qemu-system-x86_64 -enable-kvm (pc and microvm), the same Debian kernel
# and busybox initramfs; and den's memory overhead (VMM RSS less the
# guest pages it touched); and virtio-blk sequential read and write of
# 64 MiB inside the guest (dd, 1 MiB blocks, the write with fsync) on den
# and on qemu (virtio-blk-pci on pc, virtio-blk-device on microvm), the
# same raw image. Everything in L2 runs at TCG speed: compare the figures
# with each other, not with bare metal.
set -eu
DEN=$(realpath "${1:-build/den}")
SRC=$(cd "$(dirname "$0")/.." && pwd)
KERNEL=$(ls /boot/vmlinuz-* | sort -V | tail -1)
work=$(mktemp -d "${TMPDIR:-/tmp}/den-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
. "$SRC/tests/e2e/lib/l2.sh"
MODS="virtio_ring virtio virtio_mmio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk"
l2_initramfs "$work/l2" "$KERNEL" "$MODS"
cat > "$work/l2/init" <<EOF
#!/bin/busybox sh
B=/bin/busybox
echo "den-guest: first line"
\$B mount -t proc proc /proc
\$B grep -q den.wait /proc/cmdline && \$B sleep 600
if \$B grep -q den.blk /proc/cmdline; then
	\$B mount -t sysfs sys /sys
	\$B mount -t devtmpfs dev /dev
	for m in $MODS; do \$B insmod /mods/\$m.ko 2>/dev/null; done
	cs() { \$B tr -d . < /proc/uptime | \$B cut -d' ' -f1; }
	t0=\$(cs)
	\$B dd if=/dev/vda of=/dev/null bs=1M count=64 2>/dev/null
	t1=\$(cs)
	\$B dd if=/dev/zero of=/dev/vda bs=1M count=64 conv=fsync 2>/dev/null
	t2=\$(cs)
	echo "den-guest: blk read \$((6400 / (t1 - t0 + 1))) MiB/s write \$((6400 / (t2 - t1 + 1))) MiB/s"
fi
\$B poweroff -f
EOF
chmod 755 "$work/l2/init"
l2_pack "$work/l2" "$work/l2.cpio.gz"
cat > "$work/inside.sh" <<EOF
# Milliseconds from start to the first line, reading the console as it comes.
first_line() {
	local t0=\$(date +%s%N)
	"\$@" 2>&1 | while IFS= read -r line; do
		case "\$line" in *"den-guest: first line"*) echo \$(( (\$(date +%s%N) - t0) / 1000000 )); break;; esac
	done
}
# Three boots: the median, then every run in order of speed.
boots() {
	local runs=\$(for i in 1 2 3; do first_line "\$@"; done | sort -n | tr '\n' ' ')
	echo "\$(echo \$runs | cut -d' ' -f2) ms (runs: \$runs)"
}
CMD="console=ttyS0 panic=1 quiet"
echo "bench: den vmm run          \$(boots "$DEN" vmm run --kernel "$KERNEL" --initrd "$work/l2.cpio.gz" --memory 256M --cmdline "\$CMD reboot=k")"
echo "bench: qemu -M pc           \$(boots qemu-system-x86_64 -enable-kvm -M pc -m 256 -nographic -no-reboot -nodefaults -serial stdio -kernel "$KERNEL" -initrd "$work/l2.cpio.gz" -append "\$CMD")"
echo "bench: qemu -M microvm      \$(boots qemu-system-x86_64 -enable-kvm -M microvm -m 256 -nographic -no-reboot -nodefaults -serial stdio -kernel "$KERNEL" -initrd "$work/l2.cpio.gz" -append "\$CMD")"
# Memory: den's RSS less the guest RAM mapping's (the pages the guest touched): the VMM's own.
"$DEN" vmm run --kernel "$KERNEL" --initrd "$work/l2.cpio.gz" --memory 256M --cmdline "\$CMD reboot=k den.wait" > "$work/console" 2>&1 &
pid=\$!
for i in \$(seq 300); do grep -q "den-guest: first line" "$work/console" 2>/dev/null && break; sleep 0.2; done
sleep 2
total=\$(awk '/^VmRSS/ { print \$2 }' /proc/\$pid/status)
guest=\$(awk '/^Size:/ { big = (\$2 == 262144) } /^Rss:/ && big { print \$2; exit }' /proc/\$pid/smaps)
echo "bench: den RSS \$total KiB, guest pages \$guest KiB, VMM overhead \$((total - guest)) KiB"
kill \$pid
wait \$pid 2>/dev/null || true
# virtio-blk: the same 128 MiB image of random bytes for each, read then written by the guest.
head -c 128M /dev/urandom > /tmp/den-bench-disk.img
blk() { "\$@" 2>&1 | sed -n 's/.*den-guest: blk //p'; }
echo "bench: den vmm run          blk \$(blk "$DEN" vmm run --kernel "$KERNEL" --initrd "$work/l2.cpio.gz" --memory 256M --disk /tmp/den-bench-disk.img --cmdline "\$CMD reboot=k den.blk")"
echo "bench: qemu -M pc           blk \$(blk qemu-system-x86_64 -enable-kvm -M pc -m 256 -nographic -no-reboot -nodefaults -serial stdio -kernel "$KERNEL" -initrd "$work/l2.cpio.gz" -append "\$CMD den.blk" -drive file=/tmp/den-bench-disk.img,format=raw,if=none,id=d0 -device virtio-blk-pci,drive=d0)"
echo "bench: qemu -M microvm      blk \$(blk qemu-system-x86_64 -enable-kvm -M microvm -m 256 -nographic -no-reboot -nodefaults -serial stdio -kernel "$KERNEL" -initrd "$work/l2.cpio.gz" -append "\$CMD den.blk" -drive file=/tmp/den-bench-disk.img,format=raw,if=none,id=d0 -device virtio-blk-device,drive=d0)"
EOF
echo "den vmm, inside the KVM-in-TCG harness (boots: median of 3; L2 at TCG speed)"
bash "$SRC/tests/harness/kvm-in-tcg.sh" "$work/inside.sh" 900 2>&1 | sed -n 's/^bench: /  /p'
