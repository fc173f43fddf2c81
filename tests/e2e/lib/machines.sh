# For e2e tests that start machines: root or skip, and a container box
# (debian-12 unless told) built, cached in $DEN_BUILD_CACHE outside the clone, and
# added to a store of the test's own ($DEN_HOME).

require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		t_skip "$1 needs root"
	fi
}

# add_box RECIPE: den/RECIPE built (or taken from the cache) and added.
add_box() {
	export DEN_HOME="$T_DIR/home"
	export DEN_BUILD_CACHE=${DEN_BUILD_CACHE:-/var/cache/den-test}
	"$DEN" -q box build "$1" --provider "${2:-container}" --output "$T_DIR/boxes" --add >/dev/null
}

add_debian_box() { add_box debian-12; }

# state_dir [PROJECT]: where den keeps the project's machine state (den status --json).
state_dir() {
	"$DEN" -q -C "${1:-.}" status --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["state_dir"])'
}

# mdir NAME [PROJECT]: one machine's state folder.
mdir() { echo "$(state_dir "${2:-.}")/machines/$1"; }

# The host id root inside a container is (den's choice, docs/container.md):
# the start of root's range in /etc/subuid when it has one of 65536 ids or
# more (Debian's lxd package adds one), else den's own 1879048192.
container_base() {
	awk -F: '$1 == "root" && $2 > 0 && $3 >= 65536 { print $2; found = 1; exit }
		END { if (!found) print 1879048192 }' /etc/subuid
}
