#!/bin/bash
# provider: lxd on an LXD cluster of two members on this host (two
# daemons, each its own LXD_DIR, on 127.0.0.1 and 127.0.0.2), reached
# over HTTPS through the first: `target:` places each machine on its
# member, the box goes to the cluster once, each machine's SSH listens on
# its own member's address; a target that is no member is LXD's error in
# den's words; destroy leaves nothing.
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/machines.sh"
. "$(dirname "$0")/lib/lxd.sh"
require_root "LXD"
add_box debian-12-systemd

free_port() { python3 -c 'import socket, sys; s=socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$1"; }
P1=$(free_port 127.0.0.1)
P2=$(free_port 127.0.0.2)
URL="https://127.0.0.1:$P1"
P="$T_DIR/project"
mkdir -p "$P"
cat >"$P/Envfile" <<EOF2
den: 1
defaults:
  box: den/debian-12-systemd
  provider: lxd
  lxd: { remote: "$URL" }
machines:
  one:
    lxd: { target: m1 }
  two:
    lxd: { target: m2 }
  lost:
    autostart: false
    lxd: { target: m9 }
EOF2
cd "$P"
lxd_cleanup_at_exit "$P"

RC=0 OUT= ERR=
start_lxd
cluster_lxd m1 "127.0.0.1:$P1" m2 "127.0.0.2:$P2"
expect_true '[ "$(lxc cluster list --format csv </dev/null | cut -d, -f1 | sort | tr "\n" " ")" = "m1 m2 " ]' "a cluster of two members on this host"
lxc config trust add --name den </dev/null 2>/dev/null | tail -1 | "$DEN" lxd trust "$URL" >/dev/null 2>&1 ||
	lxd_fail "den lxd trust failed"
location() { lxc list --format csv -c nL </dev/null | grep "^den-$1-" | cut -d, -f2; }

run up
expect_rc 0 "den up of two machines on a two-member cluster"
expect_true '[ "$(location one)" = m1 ] && [ "$(location two)" = m2 ]' "each machine is on its target member"
expect_true '[ "$(printf "%s\n" "$ERR" | grep -c "as an image")" = 1 ] && [ "$(lxc image list --format csv </dev/null | grep -c .)" = 1 ]' "the box went to the cluster once"
expect_err "two: on cluster member m2 (127.0.0.2)" "two's devices moved to its member's address"
run ssh two -c hostname
expect_out "two" "den ssh reaches the machine on the second member"
run ssh-config two
expect_out "HostName 127.0.0.2" "ssh-config says the second member's address"
run ssh-config one
expect_out "HostName 127.0.0.1" "and the first's for the first"
run status
expect_out "running" "status asks the cluster"

run up lost
expect_rc 1 "a target that is no member fails"
expect_err "machine lost: cannot make instance" "it names the machine and what failed"
expect_true '[ -z "$(location lost)" ]' "no instance is left of it"

run destroy -f
expect_rc 0 "destroy on the cluster"
expect_true '[ "$(lxc list --format csv -c n </dev/null | grep -c .)" = 0 ] && [ "$(lxc image list --format csv </dev/null | grep -c .)" = 0 ]' "no instance and no image left"
t_done
