#!/bin/bash
# Private networks end to end with containers (docs/networks.md): web and
# db on 192.168.50.0/24, brought up side by side, reach each other by name
# (ping, and TCP to a server on db's private address); a third machine
# whose box is missing fails alone; a second project on the same subnet
# cannot reach them; destroy leaves no switch process and no socket.
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/machines.sh"
require_root "the container provider"
add_debian_box

P="$T_DIR/project"
Q="$T_DIR/other"
mkdir -p "$P" "$Q"
cat > "$P/Envfile" <<EOF2
den: 1
defaults:
  box: den/debian-12
  provider: container
  memory: 256M
  synced_folders: [{ host: ., guest: /vagrant, disabled: true }]
machines:
  web:
    private_networks: [{ ip: 192.168.50.10 }]
  db:
    hostname: database
    private_networks: [{ ip: 192.168.50.20, netmask: 255.255.255.0 }]
  ghost:
    box: test/no-such-box
    private_networks: [{ ip: 192.168.50.30 }]
EOF2
cat > "$Q/Envfile" <<EOF2
den: 1
machines:
  intruder:
    box: den/debian-12
    provider: container
    memory: 256M
    synced_folders: [{ host: ., guest: /vagrant, disabled: true }]
    private_networks: [{ ip: 192.168.50.30 }]
EOF2
cleanup() {
	"$DEN" -q -C "$P" destroy >/dev/null 2>&1
	"$DEN" -q -C "$Q" destroy >/dev/null 2>&1
	rm -rf "$T_DIR"
}
trap cleanup EXIT
cd "$P"
SOCK="$(state_dir)/networks/192.168.50.0-24.sock"
switch_pids() { pgrep -f -- "den net switch --control $1" || true; }

run up
expect_rc 1 "den up of web, db and ghost, whose box is missing"
expect_err "ghost: " "the end names ghost"
expect_err "web: ok" "web came up"
expect_err "db: ok" "and db"
expect_err "web | " "each machine's lines carry its name"
expect_err "db | " "db's too"
expect_true '[ -S "$SOCK" ]' "the project's switch listens at networks/192.168.50.0-24.sock"
expect_true '[ "$(switch_pids "$SOCK" | wc -l)" -eq 1 ]' "one switch process for the network"
run status
expect_true 'printf "%s\n" "$OUT" | grep -qE "^web +running +container .* 192\.168\.50\.10/24"' "status shows web's private address"
run status --json db
expect_true 'printf "%s" "$OUT" | python3 -c "import json,sys; n = json.load(sys.stdin)[\"machines\"][0][\"private_networks\"]; assert n == [{\"ip\": \"192.168.50.20\", \"prefix\": 24, \"network\": \"192.168.50.0\", \"dhcp\": False}], n"' "status --json lists db's private network"
run ssh web -c 'ip -4 -o addr show eth1; cat /sys/class/net/eth1/address; getent hosts db database'
expect_out "inet 192.168.50.10/24" "web has its address on eth1"
expect_out "52:54:c0:a8:32:0a" "and den's MAC for it"
expect_out "192.168.50.20   db database" "db is in web's /etc/hosts, with its host name"
# The switch port is the supervisor's: every socket a process of the
# container holds is one of the container's own network namespace.
cat > "$T_DIR/own-sockets.sh" <<'EOS'
for f in /proc/[0-9]*/fd/*; do readlink "$f"; done 2>/dev/null | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | sort -u |
	while read -r i; do cat /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 /proc/net/unix /proc/net/raw /proc/net/icmp /proc/net/netlink 2>/dev/null | grep -qw "$i" || echo "foreign socket $i"; done
echo checked
EOS
"$DEN" -q upload "$T_DIR/own-sockets.sh" /tmp/own-sockets.sh web
run ssh web -c 'sudo sh /tmp/own-sockets.sh'
expect_out "checked" "the container's sockets are listed"
expect_no_out "foreign socket" "no process of the container holds its switch port"
run ssh web -c 'ping -c1 -W5 db'
expect_rc 0 "web pings db by name"
expect_out "1 received" "and db answers"
# A machine of the test's own on the switch (tests/helpers/switch_probe.py): web reaches it.
python3 "$SRC/tests/helpers/switch_probe.py" "$SOCK" probe 192.168.50.99 > "$T_DIR/probe.log" 2>&1 &
PROBE=$!
for _ in $(seq 50); do grep -q joined "$T_DIR/probe.log" && break; sleep 0.1; done
run ssh web -c 'ping -c1 -W5 192.168.50.99'
expect_out "1 received" "web pings a probe on the switch (ARP and ICMP through it)"
kill $PROBE
# A TCP server on db's private address only, and web's client.
"$DEN" -q ssh db -c 'nohup python3 -c "
import socket
s = socket.socket(); s.bind((\"192.168.50.20\", 7000)); s.listen()
c, a = s.accept(); c.sendall(b\"hello from db to \" + a[0].encode()); c.close()
" >/dev/null 2>&1 &'
run ssh web -c 'for i in $(seq 50); do python3 -c "
import socket
s = socket.create_connection((\"db\", 7000), timeout=5); print(s.recv(100).decode())
" 2>/dev/null && exit 0; sleep 0.2; done; exit 1'
expect_rc 0 "web connects to db's server on its private address"
expect_out "hello from db to 192.168.50.10" "and db sees web's private address"

# Another project with the same subnet: its own switch, which sees neither.
run -C "$Q" up
expect_rc 0 "den up of a second project on 192.168.50.0/24"
run -C "$Q" ssh intruder -c 'ping -c1 -W2 192.168.50.20; ping -c1 -W2 192.168.50.10'
expect_rc 1 "it reaches neither machine of the first project"
expect_out "0 received" "its pings go unanswered"
expect_true '[ "$(switch_pids "$SOCK" | wc -l)" -eq 1 ]' "the first project's switch is still its own"

# A machine killed: the switch serves the rest; destroyed: it goes with the last.
run halt db
expect_rc 0 "den halt db"
run ssh web -c 'ping -c1 -W2 db'
expect_rc 1 "web no longer reaches db"
run up db
expect_rc 0 "db up again"
run ssh web -c 'ping -c1 -W5 db'
expect_rc 0 "and web reaches it again, through the same switch"
run destroy
expect_rc 0 "den destroy"
for _ in $(seq 50); do [ -z "$(switch_pids "$SOCK")" ] && [ ! -e "$SOCK" ] && break; sleep 0.1; done
expect_true '[ -z "$(switch_pids "$SOCK")" ]' "destroy leaves no switch process"
expect_true '[ ! -e "$SOCK" ]' "and no socket"
t_done
