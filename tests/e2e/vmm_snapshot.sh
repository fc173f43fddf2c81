#!/bin/bash
# A snapshot of Debian's stock kernel running a busybox guest (2 vCPUs,
# kvm-clock, virtio-blk, -rng and -net), saved over --api mid-run and
# restored with den vmm run --restore: the guest's count goes on from the
# next number, its uptime from where it was, its disk, entropy source and
# network work (a new connection through a fresh slirp), with no lockup
# or RCU stall in its log; a snapshot of the restored VM works too. In the
# KVM-in-TCG harness (real kvm_amd under QEMU); natively, under PVM, only
# real-mode guests run (tests/vm/test_vmm_snapshot.c).
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/machines.sh"
. "$(dirname "$0")/lib/l2.sh"
require_root "den's VMM"

KERNEL=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
MODS="virtio_ring virtio virtio_mmio virtio_blk virtio_rng failover net_failover virtio_net"
l2_initramfs "$T_DIR/l2" "$KERNEL" "$MODS"
l2_dhcp_script "$T_DIR/l2"
# A line a round: the count, the uptime, 4 bytes of entropy, the disk's first bytes, a
# file from the host; then what the kernel logged that sounds wrong.
cat > "$T_DIR/l2/init" <<EOF2
#!/bin/busybox sh
B=/bin/busybox
\$B mount -t proc proc /proc
\$B mount -t sysfs sys /sys
\$B mount -t devtmpfs dev /dev
for m in $MODS; do \$B insmod /mods/\$m.ko 2>/dev/null; done
echo "den-guest: up, cpus \$(\$B nproc), \$(\$B cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
\$B ip link set lo up
\$B ip link set eth0 up
\$B udhcpc -i eth0 -n -q -t 5 -s /udhcpc.sh > /dev/null 2>&1
\$B dmesg -c > /dev/null
i=0
while true; do
	i=\$((i + 1))
	echo "tick \$i up \$(\$B cut -d' ' -f1 /proc/uptime) rng \$(\$B dd if=/dev/hwrng bs=4 count=1 2>/dev/null | \$B wc -c) disk \$(\$B dd if=/dev/vda bs=8 count=1 2>/dev/null) net \$(\$B wget -q -O - http://10.0.2.2:18081/hello.txt)"
	\$B dmesg -c | \$B grep -i "lockup\|stall\|watchdog\|clocksource\|BUG\|oops" | \$B sed "s/^/den-dmesg: /"
	\$B sleep 0.5
done
EOF2
chmod 755 "$T_DIR/l2/init"
l2_pack "$T_DIR/l2" "$T_DIR/l2.cpio.gz"
cat > "$T_DIR/inside.sh" <<EOF2
api() { timeout 120 python3 -c "import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall((sys.argv[2] + '\n').encode()); print(s.makefile().readline().strip())" "\$@"; }
mkdir -p /tmp/www && echo from-host > /tmp/www/hello.txt
python3 -m http.server 18081 --bind 127.0.0.1 --directory /tmp/www > /dev/null 2>&1 &
printf den-disk > /tmp/disk.img && truncate -s 1M /tmp/disk.img
VM="--cpus 2 --memory 128M --disk /tmp/disk.img --net user --quiet-timeout 120"
"$DEN" vmm run --kernel "$KERNEL" --initrd "$T_DIR/l2.cpio.gz" \$VM --api /tmp/a.sock \
	--cmdline "console=ttyS0 panic=1 quiet" > /tmp/a.console 2>&1 &
vmm=\$!
for i in \$(seq 900); do grep -q "^tick 6 " /tmp/a.console && break; sleep 0.1; done
echo "snapshot: \$(api /tmp/a.sock '{"cmd": "snapshot", "dir": "/tmp/snap", "then": "stop"}')"
wait \$vmm
echo "saved vmm exit: \$?"
grep "den-guest" /tmp/a.console
echo "memory file: \$(stat -c %s /tmp/snap/memory) bytes, \$((\$(stat -c %b /tmp/snap/memory) * 512)) taken"
"$DEN" vmm run --restore /tmp/snap \$VM --api /tmp/b.sock > /tmp/b.console 2>&1 &
vmm=\$!
for i in \$(seq 600); do [ "\$(grep -c '^tick' /tmp/b.console)" -ge 6 ] && break; sleep 0.1; done
echo "status: \$(api /tmp/b.sock '{"cmd": "status"}')"
echo "again: \$(api /tmp/b.sock '{"cmd": "snapshot", "dir": "/tmp/snap2"}')"
sleep 2
echo "stop: \$(api /tmp/b.sock '{"cmd": "stop"}')"
wait \$vmm
echo "restored vmm exit: \$?"
# One text, as a line may have been cut by the save: the count goes up by one throughout.
cat /tmp/a.console /tmp/b.console | grep '^tick' > /tmp/ticks
echo "ticks: \$(grep -c '^tick' /tmp/a.console) before, \$(grep -c '^tick' /tmp/b.console) after"
awk 'NR > 1 && \$2 != prev + 1 { print "count: " \$2 " after " prev; bad = 1 } { prev = \$2 }
	END { if (!bad) print "count: one by one from 1 to " prev }' /tmp/ticks
awk '{ print \$4 }' /tmp/ticks | sort -c -n && echo "uptime: goes on"
# Every round but the first and the last whole. The stop may cut the last, the kernel's
# power-off lines on its end. The first may have begun before the save: a connection its
# wget had open then is one the fresh slirp never saw, which it resets (as a real network
# would after a machine came back from a snapshot), so it may lack the file; its entropy
# and disk it must have, and a round after it must reach the host through a new connection.
echo "after, all whole: \$(grep '^tick' /tmp/b.console | head -n -1 | tail -n +2 | grep -vc 'rng 4 disk den-disk net from-host')"
echo "after, first round: \$(grep '^tick' /tmp/b.console | head -1 | grep -c 'rng 4 disk den-disk net ')"
grep '^tick' /tmp/b.console | grep -v 'rng 4 disk den-disk net from-host' | sed 's/^/not whole: /'
grep "den-dmesg" /tmp/b.console || echo "after, kernel log: clean"
# What the restored VM said besides its rounds (a panic), and den's words on why it ended
# (which may follow a round the end cut short, on its line), for a failure's reader.
grep -av '^tick' /tmp/b.console | tail -40 | sed 's/^/restored console: /'
grep -ao 'den vmm: .*' /tmp/b.console | sed 's/^/restored vmm: /'
tail -c 300 /tmp/b.console | sed 's/^/restored console end: /'
EOF2
l2_harness "$T_DIR/inside.sh" 300
expect_out "den-guest: up, cpus 2, kvm-clock" "the stock kernel boots on 2 vCPUs with kvm-clock"
expect_out 'snapshot: {"ok":true,"ms":' "the control socket's snapshot answers with the time it took"
expect_out "saved vmm exit: 0" "\"then\": \"stop\" ends the saved VM with 0"
expect_out "memory file: 134217728 bytes" "the memory file is the guest's RAM"
expect_out "count: one by one from 1 to" "the restored guest's count goes on from the next number"
expect_true 'printf "%s" "$OUT" | grep -Eq "^ticks: ([6-9]|[1-9][0-9]+) before, ([6-9]|[1-9][0-9]+) after"' \
	"it counted before the save and after the restore"
expect_out "uptime: goes on" "its uptime goes on from where it was (kvm-clock restored)"
expect_out "after, all whole: 0" "after the restore every round read entropy, the disk and a file from the host"
expect_out "after, first round: 1" "the first round after the restore read entropy and the disk"
expect_out '"memory_backing":"snapshot"' "the restored VM's memory is the snapshot's file"
expect_out 'again: {"ok":true,"ms":' "a restored VM can be snapshotted again"
expect_out 'stop: {"ok":true}' "and stopped"
expect_out "restored vmm exit: 0" "ending with 0"
expect_out "after, kernel log: clean" "no lockup, stall or clocksource complaint after the restore"
# A failure's report shows 20 lines of stdout: what the restored VM said, whole, below it.
[ "$T_FAIL" -eq 0 ] || printf '%s\n' "$OUT" | grep -a "^restored \|^not whole: \|^L1 " >&2
t_done
