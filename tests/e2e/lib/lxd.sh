# An LXD of the test's own: Debian's daemon with its own LXD_DIR under
# /var/tmp, `dir` storage, no network bridge, no traffic but loopback
# (its image-server lookups go to a proxy address nothing listens on).
# Needs $T_DIR. Sets LXD_DIR and LXD_PID; stop_lxd ends it by pid.

lxd_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

start_lxd() {
	command -v lxd >/dev/null || t_skip "lxd is not installed (make deps installs it)"
	LXD_DIR=$(mktemp -d /var/tmp/den-lxd.XXXXXX)
	export LXD_DIR LXD_CONF="$LXD_DIR/client" # lxc's own settings: not root's ~/.config/lxc
	run_lxd
	lxc storage create default dir </dev/null >/dev/null 2>&1 &&
		lxc profile device add default root disk path=/ pool=default </dev/null >/dev/null 2>&1 ||
		lxd_fail "cannot give the test's LXD a storage pool"
}

# lxd_cleanup_at_exit PROJECT: when the test ends, however it ends, the
# project's machines destroyed, the LXD (and a second member) stopped, a
# delegated id taken back and $T_DIR removed.
lxd_cleanup_at_exit() {
	LXD_PROJECT=$1
	trap '"$DEN" -C "$LXD_PROJECT" destroy -f >/dev/null 2>&1; stop_lxd; drop_delegation; rm -rf "$T_DIR"' EXIT
}

# The daemon on $LXD_DIR (again, after a kill).
run_lxd() {
	https_proxy=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9 no_proxy= \
		lxd --group root --logfile "$LXD_DIR/lxd.log" </dev/null >"$LXD_DIR/lxd.out" 2>&1 &
	LXD_PID=$!
	if ! lxd waitready --timeout 60; then
		tail -5 "$LXD_DIR/lxd.out" >&2
		lxd_fail "LXD did not start"
	fi
}

# Instances stopped (LXD's shutdown stops them), the daemon ended, its
# mounts and folder gone; a second cluster member's first.
stop_lxd() {
	if [ -n "${LXD2_PID:-}" ]; then
		stop_lxd_at "$LXD2_DIR" "$LXD2_PID"
		LXD2_PID=
	fi
	[ -n "${LXD_PID:-}" ] || return 0
	stop_lxd_at "$LXD_DIR" "$LXD_PID"
	LXD_PID=
}
# Safe under set -e (bench/lxd_up.sh): a daemon already gone is no error.
stop_lxd_at() { # DIR PID
	LXD_DIR=$1 timeout 120 lxd shutdown </dev/null >/dev/null 2>&1 || true
	for _ in $(seq 100); do kill -0 "$2" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$2" 2>/dev/null || true
	wait "$2" 2>/dev/null || true
	{ grep -o " $1[^ ]*" /proc/self/mountinfo || true; } | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf "$1"
}

# cluster_lxd NAME ADDRESS NAME2 ADDRESS2: the test's LXD (start_lxd) made
# a cluster's first member NAME listening on ADDRESS (IP:PORT), and a
# second daemon (its own LXD_DIR, LXD2_DIR and LXD2_PID) joined as NAME2
# on ADDRESS2. LXD allows both on one host, on loopback addresses.
cluster_lxd() {
	lxc config set core.https_address "$2" </dev/null >/dev/null &&
		lxc cluster enable "$1" </dev/null >/dev/null || lxd_fail "cannot make LXD a cluster"
	local token
	token=$(lxc cluster add "$3" </dev/null 2>/dev/null | tail -1)
	LXD2_DIR=$(mktemp -d /var/tmp/den-lxd.XXXXXX)
	(
		export LXD_DIR=$LXD2_DIR
		https_proxy=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9 no_proxy= \
			exec lxd --group root --logfile "$LXD_DIR/lxd.log" </dev/null >"$LXD_DIR/lxd.out" 2>&1
	) &
	LXD2_PID=$!
	LXD_DIR=$LXD2_DIR lxd waitready --timeout 60 || lxd_fail "the second LXD did not start"
	printf 'cluster:\n  enabled: true\n  server_name: %s\n  server_address: %s\n  cluster_token: %s\n' \
		"$3" "$4" "$token" | LXD_DIR=$LXD2_DIR lxd init --preseed >/dev/null 2>&1 ||
		lxd_fail "the second LXD did not join the cluster"
}

# A host uid (and gid) that LXD may map into containers: root:ID:1 in
# /etc/subuid and /etc/subgid, taken back by drop_delegation. usermod
# will not change root's, so the files are edited under shadow's own
# lock (FILE.lock, made by link(2)), as usermod would.
edit_subid() { # FILE sed-script
	local tmp="$1.den$$" got=
	echo $$ >"$tmp"
	for _ in $(seq 300); do ln "$tmp" "$1.lock" 2>/dev/null && got=1 && break; sleep 0.1; done
	[ -n "$got" ] && sed "$2" "$1" >"$1.new" && mv "$1.new" "$1"
	[ -n "$got" ] && rm -f "$1.lock"
	rm -f "$tmp"
}
delegate_id() {
	DELEGATED=$1
	edit_subid /etc/subuid "\$a root:$1:1"
	edit_subid /etc/subgid "\$a root:$1:1"
}
drop_delegation() {
	[ -n "${DELEGATED:-}" ] || return 0
	edit_subid /etc/subuid "/^root:$DELEGATED:1\$/d"
	edit_subid /etc/subgid "/^root:$DELEGATED:1\$/d"
	DELEGATED=
}
