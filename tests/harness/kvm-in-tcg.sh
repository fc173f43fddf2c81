#!/bin/bash
# Runs a command where /dev/kvm is real kvm_amd: inside a QEMU TCG guest
# (L1) with an emulated EPYC CPU with SVM and nested paging, whose root is
# this host's root (9p, read-only, with a tmpfs overlay), as
# docs/vmm.md ("How it is tested") describes. L1 has no network card.
#   [HARNESS_MEMORY=MIB] tests/harness/kvm-in-tcg.sh SCRIPT [TIMEOUT_SECONDS]
# L1 has 2048 MiB unless HARNESS_MEMORY says; its writes live in that RAM.
# Its CPU is QEMU's EPYC with SVM unless HARNESS_CPU names another: a full
# Debian guest wants qemu64,+svm,+npt (AMD family 15), whose kernels need
# no SRSO return thunk; under TCG's emulated SVM those crashed L1's and the
# guest's kernels now and then (a stack overflow in error_entry).
# HARNESS_SMP=N gives L1 N CPUs (2 unless said): with 2, L1's kernel has
# crashed under long L2 workloads now and then; 1 ran them clean.
# HARNESS_SCRATCH=SIZE gives L1 an ext4 disk of that size (a sparse file on
# this host, gone with the run) at /scratch: unlike L1's tmpfs it keeps
# user extended attributes, which writable 9p folders need.
# SCRIPT (a path on this host) runs in L1 as root with /dev/kvm; its
# output and exit status come back: the harness exits with SCRIPT's status
# (125 when L1 could not start it; on timeout, 124 when L1 itself had
# stopped answering, 126 when L1 was alive and SCRIPT made no progress:
# L1 prints a heartbeat every 10 s, and the console's last write tells;
# 123 when L1 ended by itself before SCRIPT did, or its kernel panicked,
# locked up for two minutes or went quiet (then the harness ends it): a
# reset, a crash or a stop of the L1 kernel, which QEMU TCG's emulated SVM
# causes now and then).
# Quiet: no heartbeat for 60 s. The harness then prints L1's CPU and local
# APIC state (QEMU's monitor, tests/harness/l1_monitor.py) and presses a
# key: an L1 idle with its timer interrupt lost (one CPU, nothing else to
# wake it) takes the keyboard's interrupt, restarts its tick and goes on;
# the harness says so. Still quiet 120 s later: ended, as a crash. For the
# same reason L1's tick is periodic (nohz=off highres=off: its local APIC
# timer fires again by itself, where a one-shot one lost stays lost); L2
# boots as fast that way (bench/kvm_provider.sh's up: 71 s against 79 s).
# 77, after one line "skipped: REASON", only when it cannot run on this
# machine at all (a package missing): the tests' skip code. A timeout is
# never a skip: callers count 124, 125 and 126 as failures.
set -eu
SCRIPT=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
TIMEOUT=${2:-600}
KVER=$(ls /boot/vmlinuz-* 2>/dev/null | sed 's|/boot/vmlinuz-||' | sort -V | tail -1)
if [ -z "$KVER" ] || ! command -v qemu-system-x86_64 >/dev/null || ! command -v busybox >/dev/null; then
	echo "skipped: the KVM-in-TCG harness needs qemu-system-x86, linux-image-amd64 and busybox-static (make deps)"
	exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/den-harness-XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/initramfs"
mkdir -p "$root/bin" "$root/mods" "$root/proc" "$root/sys" "$root/dev" "$root/host" "$root/new" "$root/rw"
cp "$(command -v busybox)" "$root/bin/busybox"
mods="irqbypass ccp kvm kvm-amd virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p overlay virtio_blk crc16 crc32c_generic libcrc32c mbcache jbd2 ext4"
for m in $mods; do
	f=$(modinfo -n -k "$KVER" "$m" 2>/dev/null) || continue
	case "$f" in
	*.ko.xz) xz -dc "$f" > "$root/mods/$m.ko" ;;
	*.ko.zst) zstd -qdc "$f" > "$root/mods/$m.ko" ;;
	*.ko) cp "$f" "$root/mods/$m.ko" ;;
	*) continue ;;
	esac
	echo "$m" >> "$root/mods/order"
done
cat > "$root/init" <<EOF2
#!/bin/busybox sh
B=/bin/busybox
\$B mount -t proc proc /proc
\$B mount -t devtmpfs dev /dev
for m in \$(\$B cat /mods/order); do \$B insmod /mods/\$m.ko 2>/dev/null; done
\$B mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000 hostroot /host || { echo "harness: no host root"; \$B poweroff -f; }
\$B mount -t tmpfs tmpfs /rw
\$B mkdir -p /rw/upper /rw/work
\$B mount -t overlay overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work /new
if [ -e /dev/vda ]; then \$B mkdir -p /new/scratch && \$B mount -t ext4 /dev/vda /new/scratch || echo "harness: no scratch disk"; fi
\$B mount --move /dev /new/dev
\$B umount /proc
exec \$B switch_root /new /bin/sh -c 'mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t tmpfs tmpfs /run; mkdir -p /dev/pts; mount -t devpts devpts /dev/pts; ip link set lo up; echo "harness: L1 up, kvm: \$(ls /dev/kvm 2>&1)"; (while sleep 10; do echo "harness: L1 alive"; done) & cd /; bash "$SCRIPT"; echo "harness: exit \$?"; echo o > /proc/sysrq-trigger; sleep 60'
EOF2
chmod 755 "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$work/l1.cpio.gz"
scratch=()
if [ -n "${HARNESS_SCRATCH:-}" ]; then
	truncate -s "$HARNESS_SCRATCH" "$work/scratch.img"
	mkfs.ext4 -q -F "$work/scratch.img"
	scratch=(-drive "file=$work/scratch.img,format=raw,if=virtio,cache=unsafe")
fi
# There before tail looks: the background job below may open it later than tail runs.
: > "$work/raw"
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu "${HARNESS_CPU:-EPYC,+svm,+npt}" -m "${HARNESS_MEMORY:-2048}" -smp "${HARNESS_SMP:-2}" \
	-nographic -no-reboot -nic none -kernel "/boot/vmlinuz-$KVER" -initrd "$work/l1.cpio.gz" \
	-append "console=ttyS0 quiet panic=-1 loglevel=3 nohz=off highres=off" -monitor "unix:$work/monitor,server=on,wait=off" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap "${scratch[@]}" \
	</dev/null >"$work/raw" 2>&1 &
qemu=$!
# QEMU goes with the harness, however it ends (a test killed on timeout included).
# The watcher below first: one that marks L1 broken as the folder goes would leave it behind.
watcher=
trap 'kill $watcher $qemu 2>/dev/null || true; rm -rf "$work"' EXIT
trap 'exit 143' TERM INT
# L1's own kernel stuck (a soft lockup going on for minutes), stopped or
# panicked: TCG's emulated SVM, now and then. It never recovers; end it now,
# as a crash. Quiet for a minute: first what L1's CPU was doing, and a key
# press (see the top). Once SCRIPT's status is out, L1 only powers off:
# what its kernel does then is no crash.
(
	woken=
	while kill -0 $qemu 2>/dev/null; do
		sleep 5
		grep -q "^harness: exit [0-9]" "$work/raw" && break
		# Its heartbeat (every 10 s) silent: L1 stopped (idle, never woken).
		quiet=$(($(date +%s) - $(stat -c %Y "$work/raw")))
		grep -q "harness: L1 up" "$work/raw" || quiet=0
		if [ "$quiet" -lt 60 ]; then
			woken=
		elif [ -z "$woken" ]; then
			woken=1
			{
				echo "quiet for ${quiet} s at $(date +%T); L1's CPU then:"
				python3 "$HERE/l1_monitor.py" "$work/monitor" state 2>&1
				python3 "$HERE/l1_monitor.py" "$work/monitor" wake 2>&1
				echo "a key pressed"
			} >> "$work/l1-quiet"
		fi
		if grep -q "Kernel panic" "$work/raw" || [ "$quiet" -gt 180 ] ||
			sed -n 's/.*soft lockup - CPU#[0-9]* stuck for \([0-9]*\)s.*/\1/p' "$work/raw" |
			awk '$1 >= 120 { found = 1 } END { exit !found }'; then
			: > "$work/l1-broken"
			kill $qemu 2>/dev/null
		fi
	done
) >/dev/null 2>&1 &
watcher=$!
# L1's heartbeat and SCRIPT's output share L1's console, so a heartbeat can land in the
# middle of one of SCRIPT's lines ("d" "harness: L1 alive" "en-9p: ..."): it is taken
# out wherever it is, and the two halves of the line it cut are joined again.
tail --pid=$qemu -n +1 -f "$work/raw" | grep --line-buffered -v "TCG doesn't support" |
	tee "$work/console" | awk '
		{ line = held $0; held = "" }
		line ~ /harness: L1 alive\r?$/ { sub(/harness: L1 alive\r?$/, "", line); held = line; next }
		line ~ /^harness: exit/ { next }
		{ print line }
		END { if (held != "") print held }' || true
qemu_rc=0
wait $qemu || qemu_rc=$?
if [ -e "$work/l1-broken" ]; then
	echo "harness: L1's kernel locked up or panicked (QEMU TCG's emulated SVM): a harness fault"
	# What L1's kernel said last, for the one who looks into it.
	grep -v "^harness: L1 alive\|TCG doesn't support" "$work/raw" | tail -25 | sed 's/^/L1 console: /'
	# (No l1-quiet when its heartbeat went on: a lockup of its CPUs alone. Under set -e a
	# missing file must not end the harness with sed's 2 instead of 123.)
	[ ! -e "$work/l1-quiet" ] || sed 's/^/L1 quiet: /' "$work/l1-quiet"
	exit 123
fi
# L1 went quiet and the key press woke it: said, for whoever looks into TCG's SVM.
[ -e "$work/l1-quiet" ] && sed 's/^/harness: L1 went quiet and went on: /' "$work/l1-quiet"
status=$(sed -n 's/^harness: exit \([0-9]*\).*/\1/p' "$work/console" | tail -1 | tr -d '\r')
if [ -z "$status" ]; then
	grep -q "harness: L1 up" "$work/console" || exit 125
	# timeout(1) says 124 when it ended QEMU; anything else: L1 went by itself.
	if [ "$qemu_rc" != 124 ]; then
		echo "harness: L1 ended by itself (QEMU exit $qemu_rc) before the script did"
		exit 123
	fi
	# Written to within two heartbeats of the end: L1 was alive, SCRIPT was stuck.
	age=$(($(date +%s) - $(stat -c %Y "$work/console")))
	[ "$age" -le 25 ] && exit 126
	exit 124
fi
exit "$status"
