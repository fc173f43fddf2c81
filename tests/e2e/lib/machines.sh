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
