#!/bin/bash
# qemu provider figures (issue: qemu provider). Prints, never asserts.
#   bench/qemu_up.sh [DEN] [RUNS]
# `den up --provider qemu` to SSH-ready with the box cached (TCG on this
# machine's PVM KVM), and den's overhead over the bare QEMU command line
# it runs: the same command line, disk and seed, started by this script,
# timed to its first SSH login, side by side (with QEMU's own user network
# in place of den's, which `den net run` serves on a socket QEMU inherits). den's own work before QEMU
# starts (keys, overlay, seed) is also timed exactly, through a wrapper
# that notes when den executes QEMU. Needs root (the box build).
set -eu
DEN=$(realpath "${1:-build/den}")
RUNS=${2:-3}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/den-bench-XXXXXX")
export DEN_HOME="$work/home"
export DEN_BUILD_CACHE=${DEN_BUILD_CACHE:-/var/cache/den-test}
bare_pid=
trap '[ -n "$bare_pid" ] && kill "$bare_pid" 2>/dev/null; "$DEN" -C "$work/p" destroy >/dev/null 2>&1; rm -rf "$work"' EXIT
"$DEN" -q box build debian-12 --provider qemu --output "$work/boxes" --add >/dev/null
BOXIMG="$DEN_HOME/boxes/den/debian-12/1.0.0/libvirt-amd64/box.img"
mkdir -p "$work/p" "$work/bin"
printf 'den: 1\nmachines:\n  vm: { box: den/debian-12, provider: qemu, cpus: 2, memory: 1G, boot_timeout: 600 }\n' > "$work/p/Envfile"
# A qemu-system-x86_64 first in PATH: notes the time and its arguments, then is QEMU.
real_qemu=$(command -v qemu-system-x86_64)
cat > "$work/bin/qemu-system-x86_64" <<EOF
#!/bin/sh
date +%s.%N > "$work/exec-time"
printf '%s\n' "\$@" > "$work/qemu-args"
exec "$real_qemu" "\$@"
EOF
chmod +x "$work/bin/qemu-system-x86_64"

now() { date +%s.%N; }
ms() { echo "($1) * 1000" | bc; }
median() { sort -n | awk '{ a[NR] = $1 } END { printf "%.0f", a[int((NR + 1) / 2)] }'; }
M="$("$DEN" -q -C "$work/p" status --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["state_dir"])')/machines/vm"
ups=() pre=() bares=()
for i in $(seq "$RUNS"); do
	t0=$(now)
	PATH="$work/bin:$PATH" "$DEN" -q -C "$work/p" up --no-provision
	t1=$(now)
	ups+=("$(ms "$t1 - $t0")")
	pre+=("$(ms "$(cat "$work/exec-time") - $t0")")
	# Keep what the bare run needs: den's keys and seed, its command line.
	cp "$M/id_ed25519" "$M/seed.iso" "$work/"
	port=$(python3 -c "import json; print(json.load(open('$M/state.json'))['ssh_port'])")
	"$DEN" -q -C "$work/p" destroy
	# The bare run: the same arguments, a fresh overlay of the same box, den's seed copy.
	mkdir -p "$work/bare"
	qemu-img create -q -f qcow2 -F qcow2 -b "$BOXIMG" "$work/bare/disk.qcow2"
	mapfile -t args < <(sed -e "s|$M/disk.qcow2|$work/bare/disk.qcow2|; s|$M/seed.iso|$work/seed.iso|; s|$M/|$work/bare/|g" \
		-e "s|^stream,id=net0,.*|user,id=net0,hostfwd=tcp:127.0.0.1:$port-:22|" "$work/qemu-args")
	t0=$(now)
	"$real_qemu" "${args[@]}"
	bare_pid=$(cat "$work/bare/qemu.pid")
	until ssh -q -p "$port" -i "$work/id_ed25519" -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o BatchMode=yes \
		-o ConnectTimeout=5 den@127.0.0.1 true 2>/dev/null; do
		sleep 0.01
	done
	bares+=("$(ms "$(now) - $t0")")
	kill "$bare_pid"
	bare_pid=
	rm -rf "$work/bare"
	sleep 1
done
echo "qemu provider, median of $RUNS ($(nproc) cores, den/debian-12 qemu box, TCG)"
printf '  den up to SSH-ready (cached box)     %6s ms\n' "$(printf '%s\n' "${ups[@]}" | median)"
printf '  bare qemu, same command line         %6s ms\n' "$(printf '%s\n' "${bares[@]}" | median)"
printf '  den before QEMU starts (keys, overlay, seed) %s ms\n' "$(printf '%s\n' "${pre[@]}" | median)"
echo "  runs (ms): den $(printf '%.0f ' "${ups[@]}")/ bare $(printf '%.0f ' "${bares[@]}")"
