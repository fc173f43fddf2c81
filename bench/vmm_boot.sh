#!/bin/bash
# VMM figures (issue: den's own VMM). Prints, never asserts.
#   bench/vmm_boot.sh [DEN]
# Inside the KVM-in-TCG harness (tests/harness/kvm-in-tcg.sh: real kvm_amd
# under an emulated EPYC), one run each, side by side: time from starting
# the VMM to the guest's first userspace line for `den vmm run` and for
# qemu-system-x86_64 -enable-kvm (pc and microvm), the same Debian kernel
# and busybox initramfs; and den's memory overhead (VMM RSS less the
# guest pages it touched). Everything in L2 runs at TCG speed: compare the
# figures with each other, not with bare metal.
set -eu
DEN=$(realpath "${1:-build/den}")
SRC=$(cd "$(dirname "$0")/.." && pwd)
KERNEL=$(ls /boot/vmlinuz-* | sort -V | tail -1)
work=$(mktemp -d "${TMPDIR:-/tmp}/den-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/l2/bin" "$work/l2/proc"
cp "$(command -v busybox)" "$work/l2/bin/busybox"
cat > "$work/l2/init" <<'EOF'
#!/bin/busybox sh
echo "den-guest: first line"
/bin/busybox mount -t proc proc /proc
/bin/busybox grep -q den.wait /proc/cmdline && /bin/busybox sleep 600
/bin/busybox poweroff -f
EOF
chmod 755 "$work/l2/init"
(cd "$work/l2" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$work/l2.cpio.gz"
cat > "$work/inside.sh" <<EOF
# Milliseconds from start to the first line, reading the console as it comes.
first_line() {
	local t0=\$(date +%s%N)
	"\$@" 2>&1 | while IFS= read -r line; do
		case "\$line" in *"den-guest: first line"*) echo \$(( (\$(date +%s%N) - t0) / 1000000 )); break;; esac
	done
}
CMD="console=ttyS0 panic=1 quiet"
echo "bench: den vmm run          \$(first_line "$DEN" vmm run --kernel "$KERNEL" --initrd "$work/l2.cpio.gz" --memory 256M --cmdline "\$CMD reboot=k") ms"
echo "bench: qemu -M pc           \$(first_line qemu-system-x86_64 -enable-kvm -M pc -m 256 -nographic -no-reboot -nodefaults -serial stdio -kernel "$KERNEL" -initrd "$work/l2.cpio.gz" -append "\$CMD") ms"
echo "bench: qemu -M microvm      \$(first_line qemu-system-x86_64 -enable-kvm -M microvm -m 256 -nographic -no-reboot -nodefaults -serial stdio -kernel "$KERNEL" -initrd "$work/l2.cpio.gz" -append "\$CMD") ms"
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
EOF
echo "den vmm, inside the KVM-in-TCG harness (one run each; L2 at TCG speed)"
bash "$SRC/tests/harness/kvm-in-tcg.sh" "$work/inside.sh" 900 2>&1 | sed -n 's/^bench: /  /p'
