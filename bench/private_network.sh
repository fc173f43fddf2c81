#!/bin/bash
# Private network figures (issue 17, docs/networks.md). Prints, never asserts.
#   bench/private_network.sh [DEN] [SECONDS]
# Two containers of den/debian-12 on 192.168.70.0/24: iperf3 (this host's,
# with its libraries, in a synced folder) from one to the other through
# den's switch, and from a container to an iperf3 on the host's 127.0.0.1
# through den's user-mode NAT (host_loopback); the round trip of ping on
# each path. Needs root and iperf3 (`scripts/deps.sh bench`).
set -eu
. "$(dirname "$0")/iperf_lib.sh"
DEN=$(realpath "${1:-build/den}")
SECS=${2:-5}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/den-bench-XXXXXX")
export DEN_HOME="$work/home"
export DEN_BUILD_CACHE=${DEN_BUILD_CACHE:-/var/cache/den-test}
IPERF_PID=
trap '"$DEN" -q -C "$work/p" destroy >/dev/null 2>&1; [ -n "$IPERF_PID" ] && kill $IPERF_PID 2>/dev/null; rm -rf "$work"' EXIT
"$DEN" -q box build debian-12 --provider container --output "$work/boxes" --add >/dev/null
iperf_tools "$work/p/tools"
cat > "$work/p/Envfile" <<EOF2
den: 1
defaults:
  box: den/debian-12
  provider: container
  host_loopback: true
  synced_folders: [{ host: ./tools, guest: /tools }]
machines:
  a: { private_networks: [{ ip: 192.168.70.10 }] }
  b: { private_networks: [{ ip: 192.168.70.20 }] }
EOF2
"$DEN" -q -C "$work/p" up --no-provision
on() { "$DEN" -q -C "$work/p" ssh "$1" -c "$2"; }
IPERF='LD_LIBRARY_PATH=/tools /tools/iperf3'
rtt() { sed -n 's|^rtt min/avg/max/mdev = [0-9.]*/\([0-9.]*\)/.*|\1|p'; }

on b "$IPERF -s -D -p 5201"
sleep 0.5
switch_gbits=$(on a "$IPERF -c b -p 5201 -t $SECS -J" | iperf_gbits)
switch_rtt=$(on a "ping -c 20 -i 0.2 -q b" | rtt)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
iperf3 -s -B 127.0.0.1 -p "$PORT" >/dev/null 2>&1 &
IPERF_PID=$!
sleep 0.5
nat_gbits=$(on a "$IPERF -c 10.0.2.2 -p $PORT -t $SECS -J" | iperf_gbits)
nat_rtt=$(on a "ping -c 20 -i 0.2 -q 10.0.2.2" | rtt || true)

echo "private network, containers ($(nproc) cores, iperf3 -t $SECS, one stream)"
echo "  container to container, den's switch:     ${switch_gbits} Gbit/s, ping ${switch_rtt:-?} ms"
echo "  container to host, user-mode NAT (slirp): ${nat_gbits} Gbit/s, ping ${nat_rtt:-?} ms"
echo "  (published peer: Lima's socket_vmnet, 1-3.4 Gbit/s between VMs, lima#2348)"
