#!/bin/bash
# provider: lxd figures (issue 19). Prints, never asserts.
#   bench/lxd_up.sh [DEN] [RUNS]
# On an LXD of its own (tests/e2e/lib/lxd.sh): den up of the systemd box
# to SSH-ready (image already in LXD), against the same done with lxc:
# init of the same image, a proxy device, host key and authorized_keys
# pushed, start, and ssh until `true` answers; then den up of 10 machines
# side by side, the first up, which uploads the box, and den up and
# status over HTTPS (den lxd trust with a token; the pinned certificate). Needs root.
set -eu
DEN=$(realpath "${1:-build/den}")
RUNS=${2:-5}
SRC=$(cd "$(dirname "$0")/.." && pwd)
T_DIR=$(mktemp -d "${TMPDIR:-/var/tmp}/den-bench-XXXXXX")
t_skip() { echo "lxd bench skipped: $*"; exit 0; }
. "$SRC/tests/e2e/lib/lxd.sh"
export DEN_HOME="$T_DIR/home"
export DEN_BUILD_CACHE=${DEN_BUILD_CACHE:-/var/cache/den-test}
cleanup() {
	"$DEN" -q -C "$T_DIR/p" destroy -f >/dev/null 2>&1 || true
	"$DEN" -q -C "$T_DIR/ten" destroy -f >/dev/null 2>&1 || true
	"$DEN" -q -C "$T_DIR/h" destroy -f >/dev/null 2>&1 || true
	stop_lxd
	rm -rf "$T_DIR"
}
trap cleanup EXIT
start_lxd
"$DEN" -q box build debian-12-systemd --output "$T_DIR/boxes" --add >/dev/null

now() { date +%s.%N; }
ms() { echo "($(now) - $1) * 1000" | bc; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

mkdir -p "$T_DIR/p"
printf 'den: 1\nmachines:\n  web: { box: den/debian-12-systemd, provider: lxd, cpus: 1, memory: 512M }\n' >"$T_DIR/p/Envfile"
t0=$(now)
"$DEN" -q -C "$T_DIR/p" up
first=$(ms "$t0")
ALIAS=den/den/debian-12-systemd/1.1.0
# An instance of LXD's own keeps the image while den's machines come and go.
lxc init "$ALIAS" holder </dev/null >/dev/null 2>&1
"$DEN" -q -C "$T_DIR/p" destroy -f

# The same LXD over HTTPS too, paired by den lxd trust: what TLS and the pinned
# certificate cost. Each round does lxc's, HTTPS's and the unix socket's up in turn:
# LXD itself gets slower over a run (its storage), which would otherwise count
# against whichever came later.
HPORT=$(free_port)
lxc config set core.https_address "127.0.0.1:$HPORT" </dev/null
lxc config trust add --name bench </dev/null 2>/dev/null | tail -1 | "$DEN" -q lxd trust "https://127.0.0.1:$HPORT" >/dev/null
mkdir -p "$T_DIR/h"
printf 'den: 1\nmachines:\n  web: { box: den/debian-12-systemd, provider: lxd, cpus: 1, memory: 512M, lxd: { remote: "https://127.0.0.1:%s" } }\n' \
	"$HPORT" >"$T_DIR/h/Envfile"
# The peer: the same steps with lxc and OpenSSH's ssh, in the same rounds.
ssh-keygen -q -t ed25519 -N '' -f "$T_DIR/client" && ssh-keygen -q -t ed25519 -N '' -f "$T_DIR/host"
printf 'HostKey /etc/ssh/ssh_host_ed25519_key\nUsePAM no\n' >"$T_DIR/den.conf"
peer_up() { # NAME: one lxc launch of the image, timed into peer
	local port
	port=$(free_port)
	t0=$(now)
	lxc init "$ALIAS" "$1" -c limits.cpu=1 -c limits.memory=512MiB </dev/null >/dev/null 2>&1
	lxc config device add "$1" ssh proxy "listen=tcp:127.0.0.1:$port" connect=tcp:127.0.0.1:22 bind=host </dev/null >/dev/null
	lxc file push --mode 0600 "$T_DIR/host" "$1/etc/ssh/ssh_host_ed25519_key" </dev/null >/dev/null
	lxc file push "$T_DIR/den.conf" "$1/etc/ssh/sshd_config.d/den.conf" </dev/null >/dev/null
	lxc file push -p --uid 1000 --gid 1000 --mode 0600 "$T_DIR/client.pub" "$1/home/den/.ssh/authorized_keys" </dev/null >/dev/null
	lxc start "$1" </dev/null >/dev/null 2>&1
	until ssh -q -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-i "$T_DIR/client" -p "$port" den@127.0.0.1 true 2>/dev/null; do sleep 0.02; done
	peer+=("$(ms "$t0")")
	lxc delete -f "$1" </dev/null
}
peer=()
ups=() halts=() downs=() stats=() hups=() hstats=()
https_up() {
	t0=$(now); "$DEN" -q -C "$T_DIR/h" up; hups+=("$(ms "$t0")")
	t0=$(now); "$DEN" -q -C "$T_DIR/h" status >/dev/null; hstats+=("$(ms "$t0")")
	"$DEN" -q -C "$T_DIR/h" destroy -f
}
unix_up() {
	t0=$(now); "$DEN" -q -C "$T_DIR/p" up; ups+=("$(ms "$t0")")
	t0=$(now); "$DEN" -q -C "$T_DIR/p" status >/dev/null; stats+=("$(ms "$t0")")
	t0=$(now); "$DEN" -q -C "$T_DIR/p" halt; halts+=("$(ms "$t0")")
	t0=$(now); "$DEN" -q -C "$T_DIR/p" destroy -f; downs+=("$(ms "$t0")")
}
# The three in a rotating order, so none is always the round's last.
for i in $(seq "$RUNS"); do
	case $((i % 3)) in
	0) peer_up "peer$i"; https_up; unix_up ;;
	1) unix_up; peer_up "peer$i"; https_up ;;
	2) https_up; unix_up; peer_up "peer$i" ;;
	esac
done

# Ten machines side by side.
mkdir -p "$T_DIR/ten"
{
	printf 'den: 1\ndefaults: { box: den/debian-12-systemd, provider: lxd, cpus: 1, memory: 256M }\nmachines:\n'
	for i in $(seq 10); do printf '  m%d: {}\n' "$i"; done
} >"$T_DIR/ten/Envfile"
t0=$(now); "$DEN" -q -C "$T_DIR/ten" up; ten=$(ms "$t0")
t0=$(now); "$DEN" -q -C "$T_DIR/ten" destroy -f; ten_down=$(ms "$t0")

echo "lxd provider, median of $RUNS ($(nproc) cores, den/debian-12-systemd, LXD $(lxd --version), dir storage)"
printf '  den up to SSH-ready (image in LXD)          %8.1f ms\n' "$(printf '%s\n' "${ups[@]}" | median)"
printf '  lxc init+device+push+start, ssh true        %8.1f ms\n' "$(printf '%s\n' "${peer[@]}" | median)"
printf '  den up over HTTPS (127.0.0.1, pinned cert)  %8.1f ms\n' "$(printf '%s\n' "${hups[@]}" | median)"
printf '  den status, unix socket                     %8.1f ms\n' "$(printf '%s\n' "${stats[@]}" | median)"
printf '  den status, HTTPS                           %8.1f ms\n' "$(printf '%s\n' "${hstats[@]}" | median)"
printf '  den halt                                    %8.1f ms\n' "$(printf '%s\n' "${halts[@]}" | median)"
printf '  den destroy                                 %8.1f ms\n' "$(printf '%s\n' "${downs[@]}" | median)"
printf '  first den up (box uploaded as an image)     %8.1f ms\n' "$first"
printf '  den up of 10 machines side by side          %8.1f ms\n' "$ten"
printf '  den destroy of the 10                       %8.1f ms\n' "$ten_down"
