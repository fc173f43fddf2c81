#!/bin/bash
# Container images as boxes (issue 18): a ~500 MiB docker-archive (den's
# debian-12 root plus a layer of 300 MiB of incompressible data), made by
# podman here, then
#   den box add docker-archive:FILE   vs  podman load -i FILE
#   den up (container, to SSH-ready)  vs  podman run --rm IMAGE true
# each best of 3, same run, same disk; then `den ssh -c true` (a whole
# connection: key exchange, login, one command), median of 20, against
# den's own SSH server (a busybox-only image) and against OpenSSH's sshd
# (den/debian-12) in the same container runtime. podman uses the kernel's overlayfs
# (its overlay driver, as den does) with its own storage here, no systemd,
# crun as runtime, and --network none. Prints, never asserts. Needs root,
# podman and crun (`scripts/deps.sh bench`).
#   bench/box_image.sh [DEN]
set -eu
DEN=$(realpath "${1:-build/den}")
work=$(mktemp -d "${TMPDIR:-/var/tmp}/den-bench-XXXXXX")
export DEN_HOME="$work/home"
export DEN_BUILD_CACHE=${DEN_BUILD_CACHE:-/var/cache/den-test}
pm() {
	podman --root "$work/podman/root" --runroot "$work/podman/run" --storage-driver overlay \
		--cgroup-manager cgroupfs --events-backend none --runtime crun "$@"
}
# podman's overlay driver leaves its storage mounted: unmounted (lazily) before the folder goes.
cleanup() {
	"$DEN" -q -C "$work/p" destroy -f >/dev/null 2>&1
	grep -o " $work/[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
	rm -rf "$work"
}
trap cleanup EXIT
"$DEN" -q box build debian-12 --provider container --output "$work/boxes" --add >/dev/null
root=$(echo "$DEN_HOME"/boxes/den/debian-12/*/container-amd64/rootfs)
tar -C "$root" -cf - . | pm import - localhost/bench:1.0 >/dev/null
mkdir -p "$work/ctx"
head -c 300M /dev/urandom >"$work/ctx/blob"
printf 'FROM localhost/bench:1.0\nCOPY blob /opt/blob\n' >"$work/ctx/Containerfile"
pm build -q --isolation chroot -t localhost/bench:1.1 "$work/ctx" >/dev/null
pm save -q --format docker-archive -o "$work/image.tar" localhost/bench:1.1 2>/dev/null
size=$(du -m "$work/image.tar" | cut -f1)
pm rmi -a -f >/dev/null 2>&1 || true

now() { date +%s.%N; }
best() { # best of the numbers on stdin
	sort -g | head -1
}
add_den() {
	"$DEN" -q box remove localhost/bench --force >/dev/null 2>&1 || true
	local t0; t0=$(now)
	"$DEN" -q box add "docker-archive:$work/image.tar" >/dev/null
	echo "$(now) - $t0" | bc
}
load_podman() {
	pm rmi -a -f >/dev/null 2>&1 || true
	local t0; t0=$(now)
	pm load -q -i "$work/image.tar" >/dev/null 2>&1
	echo "$(now) - $t0" | bc
}
mkdir -p "$work/p"
cat >"$work/p/Envfile" <<'EOF'
den: 1
machines:
  app: { box: localhost/bench, provider: container, synced_folders: [{ host: ., guest: /vagrant, disabled: true }] }
EOF
up_den() {
	"$DEN" -q -C "$work/p" destroy -f >/dev/null 2>&1 || true
	local t0; t0=$(now)
	"$DEN" -q -C "$work/p" up >/dev/null
	echo "$(now) - $t0" | bc
}
run_podman() {
	local t0; t0=$(now)
	pm run --rm --network none localhost/bench:1.1 true >/dev/null 2>&1
	echo "$(now) - $t0" | bc
}

echo "image: docker-archive of $size MiB (2 layers)"
d=$(for i in 1 2 3; do add_den; done | best)
p=$(for i in 1 2 3; do load_podman; done | best)
printf 'add:  den box add %6.2f s   podman load %6.2f s\n' "$d" "$p"
d=$(for i in 1 2 3; do up_den; done | best)
p=$(for i in 1 2 3; do run_podman; done | best)
printf 'up:   den up      %6.2f s   podman run true %6.2f s   (den: to SSH-ready)\n' "$d" "$p"

# den's own SSH server (an image with no sshd) against OpenSSH's sshd, same runtime.
mkdir -p "$work/bb/bin"
cp "$(command -v busybox)" "$work/bb/bin/"
ln -s busybox "$work/bb/bin/sh"
tar -C "$work/bb" -cf - . | pm import - localhost/busybox:1.0 >/dev/null
pm save -q --format docker-archive -o "$work/busybox.tar" localhost/busybox:1.0 2>/dev/null
"$DEN" -q box add "docker-archive:$work/busybox.tar" >/dev/null
"$DEN" -q -C "$work/p" destroy -f >/dev/null 2>&1 || true
cat >"$work/p/Envfile" <<'YAML'
den: 1
defaults: { provider: container, synced_folders: [{ host: ., guest: /vagrant, disabled: true }] }
machines:
  bb: { box: localhost/busybox }
  deb: { box: den/debian-12 }
YAML
"$DEN" -q -C "$work/p" up >/dev/null
median_ssh() {
	for i in $(seq 20); do
		local t0
		t0=$(now)
		"$DEN" -q -C "$work/p" ssh "$1" -c true
		echo "$(now) - $t0" | bc
	done | sort -g | sed -n 10p
}
b=$(median_ssh bb)
o=$(median_ssh deb)
printf 'ssh:  den ssh -c true, median of 20: den'"'"'s SSH server (busybox image) %5.3f s   OpenSSH sshd (den/debian-12) %5.3f s\n' "$b" "$o"
