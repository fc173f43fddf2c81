#!/bin/bash
# Parallel lifecycle figures for VMs (issue 17): `den up --no-provision` of
# a matrix of three qemu VMs (den/debian-11, -12, -13, built here) side by
# side and with --no-parallel, to SSH-ready, beside each one alone (the
# slowest of them is the floor). Here QEMU runs on TCG (this host's KVM is
# PVM): each VM keeps a core busy while it boots, so with fewer cores than
# VMs side by side cannot reach the floor. One vCPU each: with two, QEMU
# 7.2's multi-threaded TCG once left debian-13's kernel (6.12) a stale
# breakpoint from its own code patching ("Oops: int3" at boot, three VMs
# side by side). Then iperf3 (this host's, over
# a 9p folder) from d12 to d13 on their private network, and ping between
# them. Prints, never asserts. Needs root and iperf3.
#   bench/parallel_vms.sh [DEN]
set -eu
. "$(dirname "$0")/iperf_lib.sh"
DEN=$(realpath "${1:-build/den}")
work=$(mktemp -d "${TMPDIR:-/var/tmp}/den-bench-XXXXXX")
export DEN_HOME="$work/home"
export DEN_BUILD_CACHE=${DEN_BUILD_CACHE:-/var/cache/den-test}
trap '"$DEN" -q -C "$work/p" destroy >/dev/null 2>&1; rm -rf "$work"' EXIT
for r in debian-11 debian-12 debian-13; do
	"$DEN" -q box build "$r" --provider qemu --output "$work/boxes" --add >/dev/null
done
iperf_tools "$work/p/tools"
cat > "$work/p/Envfile" <<EOF2
den: 1
defaults:
  provider: qemu
  cpus: 1
  memory: 1G
  boot_timeout: 900
  synced_folders: [{ host: ., guest: /vagrant, disabled: true }, { host: ./tools, guest: /tools }]
machines:
  d11: { box: den/debian-11, private_networks: [{ ip: 192.168.90.11 }] }
  d12: { box: den/debian-12, private_networks: [{ ip: 192.168.90.12 }] }
  d13: { box: den/debian-13, private_networks: [{ ip: 192.168.90.13 }] }
EOF2
now() { date +%s.%N; }
timed() { local t0; t0=$(now); "$@" >/dev/null 2>&1 || echo "failed: $*" >&2; echo "$(now) - $t0" | bc; }
alone=()
for m in d11 d12 d13; do
	alone+=("$(timed "$DEN" -q -C "$work/p" up "$m" --no-provision)")
	"$DEN" -q -C "$work/p" destroy "$m"
done
par=$(timed "$DEN" -q -C "$work/p" up --no-provision)
"$DEN" -q -C "$work/p" destroy
ser=$(timed "$DEN" -q -C "$work/p" up --no-provision --no-parallel)
slowest=$(printf '%s\n' "${alone[@]}" | sort -n | tail -1)
echo "den up of 3 qemu VMs (debian-11/12/13, TCG, $(nproc) cores), seconds"
printf '  alone: d11 %.1f, d12 %.1f, d13 %.1f\n' "${alone[@]}"
printf '  side by side:    %.1f (%.2fx the slowest alone)\n' "$par" "$(echo "$par / $slowest" | bc -l)"
printf '  --no-parallel:   %.1f\n' "$ser"
on() { "$DEN" -q -C "$work/p" ssh "$1" -c "$2"; }
IPERF='LD_LIBRARY_PATH=/tools /tools/iperf3'
on d13 "$IPERF -s -D -p 5201" || true
sleep 1
gbits=$(on d12 "$IPERF -c d13 -p 5201 -t 5 -J" | iperf_gbits || echo "?")
rtt=$(on d12 "ping -c 10 -i 0.2 -q d13" | sed -n 's|^rtt min/avg/max/mdev = [0-9.]*/\([0-9.]*\)/.*|\1|p' || true)
echo "private network between two of them (TCG VMs): ${gbits} Gbit/s, ping ${rtt:-?} ms"
