#!/bin/bash
# Warm-image figures (issue: instant VMs). Prints, never asserts.
#   bench/kvm_warm.sh [DEN]
# Inside the KVM-in-TCG harness (real kvm_amd under QEMU TCG), one L1, one
# CPU (HARNESS_SMP=1, as bench/kvm_provider.sh), den/debian-12's VM box,
# machines of one vCPU and 512 MiB:
# - `den up` to SSH-ready of a new machine: cold (the box booted; a box
#   without den's warm hook, as a foreign box is) vs restored from the
#   box's warm image, and the first up that makes the warm image; five of
#   each alone (each destroyed before the next: L1 has one CPU, and a
#   guest just up still works for a few seconds), then five of each kept
#   running, each up with the ones before it there;
# - the restore alone, in den's VMM: from `den vmm run` starting to vCPU
#   0's first KVM_RUN (vmm.log);
# - host memory of 5 machines up from one warm image vs 5 booted: the sum
#   of the VMMs' proportional set sizes (Pss: a page 5 share counts a fifth
#   in each), each machine idle at SSH.
# The qemu provider makes no warm images (QEMU's migration to a file could
# save a template; den does not use it): no qemu figure here.
# Everything in L2 runs at TCG speed: compare the figures with each other.
set -eu
DEN=$(realpath "${1:-build/den}")
SRC=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/var/tmp}/den-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
export DEN_HOME="$work/home"
export DEN_BUILD_CACHE=${DEN_BUILD_CACHE:-/var/cache/den-test}
"$DEN" -q box build debian-12 --provider qemu --output "$work/boxes" --add >/dev/null
mkdir -p "$work/p"
{
	printf 'den: 1\ndefaults:\n  provider: kvm\n  box: den/debian-12\n  cpus: 1\n  memory: 512M\n'
	printf '  boot_timeout: 900\n  synced_folders: [{ host: ., guest: /vagrant, disabled: true }]\n'
	printf 'machines:\n'
	for m in w r1 r2 r3 r4 r5 c1 c2 c3 c4 c5; do printf '  %s: {}\n' "$m"; done
} > "$work/p/Envfile"
cat > "$work/inside.sh" <<EOF
cp -a "$DEN_HOME" /scratch/home && export DEN_HOME=/scratch/home
cp -a "$work/p" /scratch/p && cd /scratch/p
D="$DEN"
now() { date +%s%N; }
ms() { echo \$(( (\$2 - \$1) / 1000000 )); }
M=\$("\$D" -q status --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["state_dir"])')/machines
meta=\$(ls -d /scratch/home/boxes/den/debian-12/*/libvirt-*)/metadata.json
pss() { # the machines' VMMs' Pss, MiB
	local t=0 m pid
	for m in "\$@"; do
		pid=\$(python3 -c "import json; print(json.load(open('\$M/\$m/state.json'))['supervisor_pid'])")
		t=\$((t + \$(awk '/^Pss:/ { print \$2 }' /proc/\$pid/smaps_rollup)))
	done
	echo \$((t / 1024))
}
t0=\$(now); "\$D" -q up w --no-provision >/dev/null 2>&1 || echo "bench: first up failed"
echo "bench: first up (boots the template, saves the warm image, restores) \$(ms \$t0 \$(now)) ms"
"\$D" -q destroy -f w >/dev/null 2>&1
# ups KIND MACHINES...: each timed, each destroyed before the next.
ups() {
	local kind=\$1 m t0; shift
	for m in "\$@"; do
		t0=\$(now); "\$D" -q up \$m --no-provision >/dev/null 2>&1 || echo "bench: \$m up failed"
		echo "bench: \$kind up \$m alone \$(ms \$t0 \$(now)) ms (VMM: \$(grep -o 'first instruction, [0-9.]* ms' "\$M/\$m/vmm.log" | tail -1))"
		"\$D" -q destroy -f \$m >/dev/null 2>&1
	done
}
# kept KIND MACHINES...: each timed with the ones before it running; then their Pss.
kept() {
	local kind=\$1 m t0 n=0; shift
	for m in "\$@"; do
		t0=\$(now); "\$D" -q up \$m --no-provision >/dev/null 2>&1 || echo "bench: \$m up failed"
		echo "bench: \$kind up \$m with \$n running \$(ms \$t0 \$(now)) ms"
		n=\$((n + 1))
	done
	echo "bench: 5 \$kind machines, VMMs' Pss \$(pss "\$@") MiB"
	"\$D" -q destroy -f "\$@" >/dev/null 2>&1
}
ups restored r1 r2 r3 r4 r5
kept restored r1 r2 r3 r4 r5
# The same box as one without den's warm hook: every machine boots.
python3 - "\$meta" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); m["den"].pop("warm", None); json.dump(m, open(sys.argv[1], "w"))
PY
ups cold c1 c2 c3 c4 c5
kept cold c1 c2 c3 c4 c5
"\$D" -q destroy -f >/dev/null 2>&1
EOF
echo "warm images: cold vs restored den up, kvm provider, in the KVM-in-TCG harness, den/debian-12"
# BENCH_LOG=FILE keeps L1's whole console (what went wrong, when a figure is missing).
# L1 ending by itself (123: TCG's emulated SVM, now and then) runs it once more.
for try in 1 2; do
	HARNESS_MEMORY=6144 HARNESS_SMP=1 HARNESS_SCRATCH=16G HARNESS_CPU=qemu64,+svm,+npt \
		bash "$SRC/tests/harness/kvm-in-tcg.sh" "$work/inside.sh" 3600 2>&1 |
		tee -a "${BENCH_LOG:-/dev/null}" | sed -n 's/^bench: /  /p; s/^harness: L1.s kernel/  (&)/p'
	[ "${PIPESTATUS[0]}" = 123 ] && [ $try = 1 ] || break
	echo "  (L1 ended by itself: all over again)"
done
