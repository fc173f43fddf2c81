#!/bin/sh
# Installs the Debian packages den needs that are missing, and says nothing
# when none are. `make deps` runs it; `make test` and `make up` too.
#   scripts/deps.sh          build and test dependencies (clang: the clang build check)
#   scripts/deps.sh fuzz     also libFuzzer, for `make fuzz`
#   scripts/deps.sh bench    also curl, bc, crun and iperf3, for `make bench`
set -eu

PKGS="gcc clang make cmake pkg-config libc6-dev clang-format git python3
libyaml-dev libjansson-dev libcurl4-openssl-dev libarchive-dev libssh-dev
libslirp-dev libglib2.0-dev libcriterion-dev libssl-dev libseccomp-dev libext2fs-dev libblkid-dev libxml2-dev debootstrap zstd xz-utils busybox-static curl openssh-client procps uidmap
ansible-core qemu-system-x86 qemu-utils linux-image-amd64 cpio grub-pc-bin rsync e2fsprogs
acpica-tools podman skopeo lxd lxd-client openssl
bash-completion zsh fish man-db groff-base dpkg-dev debhelper lintian ruby
docker-registry apache2-utils"
[ "${1:-}" = fuzz ] && PKGS="$PKGS libclang-rt-14-dev"
[ "${1:-}" = bench ] && PKGS="$PKGS curl bc crun iperf3"

installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' $PKGS 2>/dev/null |
	awk '$2 == "installed" { print $1 }')
missing=
for p in $PKGS; do
	echo "$installed" | grep -qx "$p" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "den: installing Debian packages:$missing"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null; then
		SUDO=sudo
	else
		echo "den: need root to install:$missing (run as root, or install them)" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
