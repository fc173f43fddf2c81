#!/bin/bash
# den's own VMM boots Debian's stock kernel with a busybox initramfs. Here
# /dev/kvm is PVM (it cannot run stock kernels): den must say so. The boot
# itself runs in the KVM-in-TCG harness (tests/harness/kvm-in-tcg.sh), on
# real kvm_amd emulated by QEMU.
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/machines.sh"
require_root "den's VMM"

KERNEL=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
run vmm run
expect_rc 2 "den vmm run without --kernel is a usage error"
printf 'not a kernel' > "$T_DIR/junk"
if [ -d /sys/module/kvm_pvm ]; then
	run vmm run --kernel "$KERNEL"
	expect_rc 1 "on a PVM host den refuses to boot"
	expect_err "PVM backend, which cannot boot a stock Linux kernel" "and says why"
	expect_err "provider: container or qemu" "and what to use instead"
fi

# The L2 guest: busybox as init, one line with its CPU count, then a reboot.
mkdir -p "$T_DIR/l2/bin" "$T_DIR/l2/proc"
cp "$(command -v busybox)" "$T_DIR/l2/bin/busybox"
cat > "$T_DIR/l2/init" <<'EOF2'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "den-guest: up, cpus $(/bin/busybox nproc)"
/bin/busybox reboot -f
EOF2
chmod 755 "$T_DIR/l2/init"
(cd "$T_DIR/l2" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$T_DIR/l2.cpio.gz"
cat > "$T_DIR/inside.sh" <<EOF2
"$DEN" vmm run --kernel /nonexistent 2>&1; echo "vmm missing kernel: \$?"
"$DEN" vmm run --kernel "$T_DIR/junk" 2>&1; echo "vmm junk kernel: \$?"
"$DEN" vmm run --kernel "$KERNEL" --initrd "$T_DIR/l2.cpio.gz" --cpus 2 --memory 256M \
	--cmdline "console=ttyS0 reboot=k panic=1 quiet" --quiet-timeout 120
echo "vmm exit: \$?"
EOF2
OUT=$(bash "$SRC/tests/harness/kvm-in-tcg.sh" "$T_DIR/inside.sh" 900 2>&1) && RC=0 || RC=$?
ERR=
if [ "$RC" = 77 ]; then
	echo "$OUT"
	t_done
	exit 0
fi
expect_rc 0 "the harness ran den inside L1"
expect_out "harness: L1 up, kvm: /dev/kvm" "L1 has a real /dev/kvm"
expect_out "vmm missing kernel: 1" "a missing kernel file fails"
expect_out "not a Linux bzImage" "a file that is not a kernel is refused with a clear message"
expect_out "den-guest: up, cpus 2" "the stock kernel boots to userspace and sees both vCPUs"
expect_out "vmm exit: 0" "a reboot in the guest ends the VM with status 0"
t_done
