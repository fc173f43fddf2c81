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
# No daemon of these packages starts as they install (docker-registry would
# listen on :5000 of every interface, lxd would start its own): the tests
# start what they need, on 127.0.0.1, and end it. An existing policy-rc.d
# (a container's) is kept.
policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
	policy=/usr/sbin/policy-rc.d
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Nor at the next boot: the registry is the tests' alone.
case " $missing " in
*" docker-registry "*)
	if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
		$SUDO systemctl disable docker-registry.service >/dev/null 2>&1 || true
	fi
	;;
esac
