#!/bin/bash
# den's own VMM boots Debian's stock kernel with a busybox initramfs. Here
# /dev/kvm is PVM (it cannot run stock kernels): den must say so. The boot
# itself runs in the KVM-in-TCG harness (tests/harness/kvm-in-tcg.sh), on
# real kvm_amd emulated by QEMU.
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/machines.sh"
. "$(dirname "$0")/lib/l2.sh"
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

# The L2 guest: busybox as init with the virtio modules; it reports its
# CPUs, writes to its disk, reads the entropy device, then powers off or
# reboots as the kernel command line says.
MODS="virtio_ring virtio virtio_mmio virtio_blk virtio_rng failover net_failover virtio_net"
l2_initramfs "$T_DIR/l2" "$KERNEL" "$MODS"
l2_dhcp_script "$T_DIR/l2"
cat > "$T_DIR/l2/init" <<EOF2
#!/bin/busybox sh
B=/bin/busybox
\$B mount -t proc proc /proc
\$B mount -t sysfs sys /sys
\$B mount -t devtmpfs dev /dev
for m in $MODS; do \$B insmod /mods/\$m.ko; done
echo "den-guest: up, cpus \$(\$B nproc)"
if \$B grep -q den.net /proc/cmdline; then
	# DHCP from den's user-mode network, a file from the host through its NAT, then a server.
	\$B ip link set lo up
	\$B ip link set eth0 up
	\$B udhcpc -i eth0 -n -q -t 5 -s /udhcpc.sh 2>&1 | \$B grep -o "lease of [0-9.]* obtained"
	echo "den-guest: the host says \$(\$B wget -q -O - http://10.0.2.2:18081/hello.txt)"
	\$B mkdir -p /www
	echo den-http-ok > /www/index.html
	\$B httpd -p 80 -h /www
	echo "den-guest: serving"
	\$B sleep 120
fi
echo "den-disk-ok" | \$B dd of=/dev/vda 2>/dev/null && \$B sync
echo "den-guest: rng \$(\$B dd if=/dev/hwrng bs=16 count=1 2>/dev/null | \$B wc -c) bytes"
\$B grep -q den.wait /proc/cmdline && \$B sleep 20
if \$B grep -q den.reboot /proc/cmdline; then \$B reboot -f; else \$B poweroff -f; fi
EOF2
chmod 755 "$T_DIR/l2/init"
l2_pack "$T_DIR/l2" "$T_DIR/l2.cpio.gz"
cat > "$T_DIR/inside.sh" <<EOF2
# A watchdog: a den older than 150 s (no run here lasts half that) has its threads' kernel
# stacks shown, then is killed so the rest goes on. Stuck inside KVM's kernel code (the
# emulated SVM under TCG) or in den's own code: a failure either way, the stacks say which.
(while sleep 5; do
	for p in \$(pgrep -x den); do
		[ "\$(ps -o etimes= -p \$p 2>/dev/null | tr -d ' ')" -gt 150 ] 2>/dev/null || continue
		where=userspace
		for t in /proc/\$p/task/*; do
			echo "den-stuck: thread \$(cat \$t/comm) wchan \$(cat \$t/wchan)"
			sed 's/^/den-stuck:   /' \$t/stack
			grep -q kvm \$t/stack && where=kvm
		done
		echo "den-stuck: in \$where"
		kill -9 \$p
	done
done) &
"$DEN" vmm run --kernel /nonexistent 2>&1; echo "vmm missing kernel: \$?"
"$DEN" vmm run --kernel "$T_DIR/junk" 2>&1; echo "vmm junk kernel: \$?"
truncate -s 8M /tmp/den-disk.img
"$DEN" vmm run --kernel "$KERNEL" --initrd "$T_DIR/l2.cpio.gz" --cpus 2 --memory 256M \
	--disk /tmp/den-disk.img --cmdline "console=ttyS0 panic=1 quiet" --quiet-timeout 120
echo "vmm poweroff exit: \$? disk: \$(head -c 11 /tmp/den-disk.img)"
"$DEN" vmm run --kernel "$KERNEL" --initrd "$T_DIR/l2.cpio.gz" --memory 256M \
	--disk /tmp/den-disk.img,ro --cmdline "console=ttyS0 panic=1 quiet den.reboot" --quiet-timeout 120
echo "vmm reboot exit: \$?"
# The control socket: status while the guest runs (it waits a little, then powers off).
# pause, resume and stop are not run here: with them this harness run hung now and then
# (not yet understood: docs/vmm.md).
"$DEN" vmm run --kernel "$KERNEL" --initrd "$T_DIR/l2.cpio.gz" --memory 256M --api /tmp/den-vmm.sock \
	--cmdline "console=ttyS0 panic=1 quiet den.wait" > /tmp/den-vmm-console 2>&1 &
vmm=\$!
for i in \$(seq 600); do grep -q "den-guest: rng" /tmp/den-vmm-console && break; sleep 0.1; done
timeout 30 python3 -c "import socket; s = socket.socket(socket.AF_UNIX); s.connect('/tmp/den-vmm.sock'); s.sendall(b'{\"cmd\": \"status\"}\\n'); print('api status: ' + s.makefile().readline().strip())"
for i in \$(seq 600); do kill -0 \$vmm 2>/dev/null || break; sleep 0.1; done
kill -9 \$vmm 2>/dev/null
wait \$vmm
echo "vmm api exit: \$?"
# A terminal on stdin (script gives den a pty): raw mode, and Ctrl-A x stops the VM
# (the guest would power off by itself only 20 s after it is up; den reads keys from its start).
(sleep 8; printf '\001x') | script -qec "$DEN vmm run --kernel $KERNEL --initrd $T_DIR/l2.cpio.gz --memory 256M --cmdline 'console=ttyS0 panic=1 quiet den.wait'" /dev/null > /tmp/den-tty-console 2>&1
echo "vmm ctrl-a x exit: \$?"
grep -a -o "den: Ctrl-A x: the VM is stopped" /tmp/den-tty-console
# The network: DHCP, the guest fetching from a server on L1's loopback through the NAT,
# and the guest's server reached from L1 through a forwarded port; then stop.
mkdir -p /tmp/den-www && echo den-from-host > /tmp/den-www/hello.txt
python3 -m http.server 18081 --bind 127.0.0.1 --directory /tmp/den-www > /dev/null 2>&1 &
web=\$!
"$DEN" vmm run --kernel "$KERNEL" --initrd "$T_DIR/l2.cpio.gz" --memory 256M --api /tmp/den-net.sock \
	--net user,hostfwd=tcp:127.0.0.1:18080-:80 \
	--cmdline "console=ttyS0 panic=1 quiet den.net" > /tmp/den-net-console 2>&1 &
vmm=\$!
for i in \$(seq 900); do grep -q "den-guest: serving" /tmp/den-net-console && break; sleep 0.1; done
grep "den-guest\|lease" /tmp/den-net-console
echo "through hostfwd: \$(python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:18080/', timeout=30).read().decode().strip())" 2>&1)"
timeout 30 python3 -c "import socket; s = socket.socket(socket.AF_UNIX); s.connect('/tmp/den-net.sock'); s.sendall(b'{\"cmd\": \"stop\"}\\n'); print('api stop: ' + s.makefile().readline().strip())"
for i in \$(seq 300); do kill -0 \$vmm 2>/dev/null || break; sleep 0.1; done
kill -9 \$vmm \$web 2>/dev/null
wait \$vmm
echo "vmm net exit: \$?"
EOF2
OUT=$(bash "$SRC/tests/harness/kvm-in-tcg.sh" "$T_DIR/inside.sh" 420 2>&1) && RC=0 || RC=$?
# 123: L1 itself reset, crashed or locked up (QEMU TCG's emulated SVM does now and
# then; a den stuck or crashing in L2 cannot end L1): again, saying so, up to three runs
# in all, as lib/l2.sh's l2_harness does (two in a row were seen). Three is a failure.
for run in 2 3; do
	[ "$RC" = 123 ] || break
	printf '%s\n' "$OUT" | tail -3
	echo "note: L1 ended by itself; running the harness again ($run of 3)"
	OUT=$(bash "$SRC/tests/harness/kvm-in-tcg.sh" "$T_DIR/inside.sh" 420 2>&1) && RC=0 || RC=$?
done
if [ "$RC" = 123 ]; then
	printf '%s\n' "$OUT" | tail -5
	expect_true false "the KVM-in-TCG harness's L1 ended by itself three times (see its last lines above)"
	t_done
	exit 1
fi
ERR=
# 77: the harness cannot run on this machine (a package missing); it said why in one line.
if [ "$RC" = 77 ]; then
	why=$(printf '%s\n' "$OUT" | sed -n 's/^skipped: //p' | head -1)
	t_skip "${why:-the KVM-in-TCG harness cannot run here}"
fi
# 124: L1 came up and then stopped answering altogether; a den stuck inside L1's KVM kernel
# code. Both may be the emulated SVM under QEMU TCG, not den; but a run that hangs is a
# failure, never a skip: said plainly, with where it stopped.
if [ "$RC" = 124 ]; then
	printf '%s\n' "$OUT" | tail -5
	expect_true false "the KVM-in-TCG harness's L1 stopped responding (timeout; see its last lines above)"
	t_done
	exit 1
fi
if printf '%s\n' "$OUT" | grep -q "den-stuck: in kvm"; then
	printf '%s\n' "$OUT" | grep "den-stuck" | head -40
	expect_true false "a den process was stuck inside L1's KVM (its stacks above) and was killed"
fi
expect_true '! printf "%s\n" "$OUT" | grep -q "den-stuck: in userspace"' "no den run stopped in its own code"
# 126: L1 was alive to the end, so what stopped was den (or the script): a failure.
if [ "$RC" = 126 ]; then
	printf '%s\n' "$OUT" | tail -5
	expect_true false "L1 stayed alive but the run inside stopped making progress (den hung?)"
	t_done
	exit 1
fi
[ -n "${DEN_TEST_DEBUG:-}" ] && printf "%s\n" "$OUT" >&2
expect_rc 0 "the harness ran den inside L1"
expect_out "harness: L1 up, kvm: /dev/kvm" "L1 has a real /dev/kvm"
expect_out "vmm missing kernel: 1" "a missing kernel file fails"
expect_out "not a Linux bzImage" "a file that is not a kernel is refused with a clear message"
expect_out "den-guest: up, cpus 2" "the stock kernel boots to userspace and sees both vCPUs (ACPI MADT)"
expect_out "den-guest: rng 16 bytes" "virtio-rng gives entropy"
expect_out "vmm poweroff exit: 0 disk: den-disk-ok" "poweroff (ACPI S5) ends the VM with 0; the guest's write is on the disk image"
expect_out "vmm reboot exit: 0" "a reboot ends the VM with 0"
expect_true '[ "$(printf "%s\n" "$OUT" | grep -c "den-guest: up")" = 3 ]' "every boot printed here reached userspace (a read-only disk, the network)"
expect_out 'api status: {"ok":true,"state":"running","cpus":1,"memory":268435456,"memory_backing":"anonymous","startup_us":' "--api status answers while the guest runs, with den's time to the first instruction"
expect_out "vmm api exit: 0" "and the VM ends with the guest's poweroff"
expect_out "vmm ctrl-a x exit: 0" "on a terminal, Ctrl-A x ends den vmm run with 0"
expect_out "den: Ctrl-A x: the VM is stopped" "and says so"
expect_out "lease of 10.0.2.15 obtained" "the guest's DHCP gets its address from libslirp"
expect_out "den-guest: the host says den-from-host" "the guest reaches a server on the host's loopback through the NAT"
expect_out "through hostfwd: den-http-ok" "a server in the guest is reached through --net user,hostfwd"
expect_out 'api stop: {"ok":true}' "--api stop answers"
expect_out "vmm net exit: 0" "and stop ends the VM with 0"
t_done
