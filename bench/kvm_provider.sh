#!/bin/bash
# kvm provider figures (issue: provider: kvm). Prints, never asserts.
#   bench/kvm_provider.sh [DEN]
# Inside the KVM-in-TCG harness (real kvm_amd under QEMU TCG), the same L1
# and the same den/debian-12 VM box for both providers, side by side:
# - `den up` to SSH-ready: the kvm provider (box files made on the first
#   up, then cached: the second up is the figure) and the qemu provider
#   with `accel: kvm`;
# - den's own work before the guest's first instruction (the VMM says it
#   in vmm.log: from `den vmm run` starting to vCPU 0's first KVM_RUN);
# - the VMM's memory overhead with 9p and the network active: its RSS
#   less the guest RAM mapping's resident pages;
# - 9p: a tree of ~10k files (/usr/include and /usr/lib/python3.11 of this
#   host) unpacked into the synced folder and `find | wc -l`ed, kvm vs
#   qemu's 9p (virtio-9p-pci, mapped-xattr);
# - `den snapshot restore` to SSH-ready (and the 9p folder mounted) vs a
#   cold `den up`.
# L1 has one CPU (HARNESS_SMP=1): with two, its kernel crashed in the 9p
# run; so the machines have one vCPU each (two on one CPU crawl).
# Everything in L2 runs at TCG speed: compare the figures with each other,
# not with bare metal. Needs root (the box build).
set -eu
DEN=$(realpath "${1:-build/den}")
SRC=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/var/tmp}/den-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
export DEN_HOME="$work/home"
export DEN_BUILD_CACHE=${DEN_BUILD_CACHE:-/var/cache/den-test}
"$DEN" -q box build debian-12 --provider qemu --output "$work/boxes" --add >/dev/null
tar -cf "$work/tree.tar" -C / usr/include usr/lib/python3.11 2>/dev/null || true
for p in kvm qemu; do
	mkdir -p "$work/$p/share"
	accel=""
	[ "$p" = qemu ] && accel="    accel: kvm"
	cat > "$work/$p/Envfile" <<EOF
den: 1
machines:
  vm:
    box: den/debian-12
    provider: $p
$accel
    cpus: 1
    memory: 1G
    boot_timeout: 900
    synced_folders:
      - { host: ., guest: /vagrant, disabled: true }
      - { host: ./share, guest: /share }
EOF
done
cat > "$work/inside.sh" <<EOF
export DEN_HOME="$DEN_HOME"
D="$DEN"
now() { date +%s%N; }
ms() { echo \$(( (\$2 - \$1) / 1000000 )); }
cp -a "$work/kvm" "$work/qemu" /scratch/
# A cold up of each (kvm makes its box files), halted, then the figure: up again from scratch.
for p in kvm qemu; do
	cd /scratch/\$p
	t0=\$(now); "\$D" -q up --no-provision >/dev/null 2>&1 || echo "bench: \$p first up failed"
	echo "bench: \$p first up \$(ms \$t0 \$(now)) ms"
	"\$D" -q destroy >/dev/null 2>&1
	t0=\$(now); "\$D" -q up --no-provision >/dev/null 2>&1 || echo "bench: \$p up failed"
	echo "bench: \$p up to SSH-ready \$(ms \$t0 \$(now)) ms"
	M=\$("\$D" -q status --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["state_dir"])')/machines/vm
	if [ \$p = kvm ]; then
		echo "bench: kvm \$(grep -o "first instruction, .*" "\$M/vmm.log" | tail -1)"
		pid=\$(python3 -c "import json; print(json.load(open('\$M/state.json'))['supervisor_pid'])")
	else
		pid=\$(cat "\$M/qemu.pid")
	fi
	# 9p: unpack, then list, inside the guest.
	"\$D" -q ssh -c 'cd /share && t0=\$(date +%s%N); tar -xf -; rc=\$?; t1=\$(date +%s%N); n=\$(find /share | wc -l); t2=\$(date +%s%N); echo "9p unpack \$(( (t1 - t0) / 1000000 )) ms (tar exit \$rc), find | wc -l (\$n) \$(( (t2 - t1) / 1000000 )) ms"' < "$work/tree.tar" | sed "s/^/bench: \$p /"
	total=\$(awk '/^VmRSS/ { print \$2 }' /proc/\$pid/status)
	# Guest RAM is the mappings of 16 MiB and more (den's own are all far smaller).
	guest=\$(awk '/^Size:/ { big = (\$2 >= 16384) } /^Rss:/ && big { s += \$2 } END { print s + 0 }' /proc/\$pid/smaps)
	echo "bench: \$p RSS \$total KiB, guest RAM resident \$guest KiB, overhead \$((total - guest)) KiB"
	if [ \$p = kvm ]; then
		"\$D" -q snapshot save s1 >/dev/null 2>&1 || echo "bench: snapshot save failed"
		t0=\$(now); "\$D" -q snapshot restore s1 >/dev/null 2>&1 || echo "bench: snapshot restore failed"
		echo "bench: kvm snapshot restore to SSH-ready (9p mounted) \$(ms \$t0 \$(now)) ms"
		echo "bench: kvm restore, in den's VMM: \$(grep -o "first instruction, .*" "\$M/vmm.log" | tail -1)"
	fi
	"\$D" -q destroy >/dev/null 2>&1
done
EOF
echo "kvm provider vs qemu provider (accel: kvm), in the KVM-in-TCG harness, den/debian-12"
# BENCH_LOG=FILE keeps L1's whole console (what went wrong, when a figure is missing).
HARNESS_MEMORY=4096 HARNESS_SMP=1 HARNESS_SCRATCH=16G HARNESS_CPU=qemu64,+svm,+npt \
	bash "$SRC/tests/harness/kvm-in-tcg.sh" "$work/inside.sh" 3000 2>&1 |
	tee "${BENCH_LOG:-/dev/null}" | sed -n 's/^bench: /  /p'
