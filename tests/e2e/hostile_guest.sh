#!/bin/bash
# Issue 13's attacks, each run as root from inside a real container whose
# project folder is synced read-write (`host: .`), and the host checked
# after: den's state is out of reach, nested synced folders cannot be
# swapped for links, no other project's machine is touched, the host's
# loopback is not reachable, and console output reaches the terminal with
# its control bytes shown, not played. (Uploads and file provisioners:
# upload_symlinks.sh; argument bounds: cli.sh; ssh_config values:
# test_sshcfg; state.json values: status.sh.)
. "$(dirname "$0")/lib/assert.sh"

. "$(dirname "$0")/lib/machines.sh"
require_root "the container provider"
add_debian_box

P="$T_DIR/project"
Q="$T_DIR/other"
CANARY="$T_DIR/canary"
mkdir -p "$P/sub" "$Q" "$CANARY"
echo "host only" > "$CANARY/secret"
chmod 600 "$CANARY/secret"
cat > "$P/Envfile" <<'EOF2'
den: 1
machines:
  c:
    box: den/debian-12
    provider: container
    boot_timeout: 20
    synced_folders:
      - { host: ., guest: /work }
      - { host: ./sub, guest: /sub }
      - { host: ./rootowned, guest: /rootowned }
      - { host: ./made, guest: /made, create: true }
  d:
    box: den/debian-12
    provider: container
    autostart: false
    disk_size: 10G
EOF2
printf 'den: 1\nmachines:\n  q: { box: den/debian-12, provider: container }\n' > "$Q/Envfile"
# The project is a user's (den inside reads and writes it as that user);
# one synced folder is host root's; other host users may walk to both.
chown -R 4321:4321 "$P"
mkdir "$P/rootowned"
chmod 711 "$T_DIR"
# A service of the host's, on its loopback only.
python3 -c 'import socket, time; s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(300)' > "$T_DIR/lport" &
LISTENER=$!
cleanup() {
	"$DEN" -C "$P" destroy -f >/dev/null 2>&1
	"$DEN" -C "$Q" destroy -f >/dev/null 2>&1
	kill $LISTENER 2>/dev/null
	rm -rf "$T_DIR"
}
trap cleanup EXIT
for _ in $(seq 50); do [ -s "$T_DIR/lport" ] && break; sleep 0.1; done
LPORT=$(cat "$T_DIR/lport")
cd "$P"
SD=$(state_dir)
QSD=$(state_dir "$Q")
inside() { "$DEN" -q ssh c -c "sudo sh -c '$1'"; }

run up
expect_rc 0 "den up"
expect_err "belongs to root on the host" "den up says the root-owned folder is not writable inside"
expect_true '[ "$(stat -c %u:%g "$P/made")" = 4321:4321 ]' "a folder den creates (create: true) is the project owner's"
run -C "$Q" up
expect_rc 0 "another project's machine is up"

# den's state is nowhere a machine can reach.
expect_true '[ ! -e "$P/.den" ]' "nothing of den's in the project folder"
expect_true 'case "$SD" in "$P"/*) false ;; *) true ;; esac' "the state folder is outside the project"
expect_true '! inside "grep -rl \"$(cut -d" " -f2 "$SD/machines/c/id_ed25519.pub")\" /work 2>/dev/null"' "den's keys are not in the synced folder"

# 1. A link planted where den kept a machine's upper layer, then reload.
inside "mkdir -p /work/.den/machines/c && ln -s $CANARY /work/.den/machines/c/upper && ln -s $CANARY /work/.den/machines/c/state.json"
# 3. ... and a hostile state.json where den kept it.
inside "printf \"{\\\"ssh_user\\\": \\\"den ansible_connection=local\\\"}\" > /work/.den/machines/c/state.json.new"
# 7. ... and a control socket that leads to the other project's machine.
inside "ln -s $QSD/machines/q/control.sock /work/.den/machines/c/control.sock"
run reload c
expect_rc 0 "den reload after the plants"
run ssh c -c 'sudo touch /etc/written-inside; cat /canary-probe 2>&1; ls /'
expect_rc 0 "the machine is back"
expect_true '[ ! -e "$CANARY/etc/written-inside" ] && [ "$(ls "$CANARY")" = secret ]' "its root is not the planted folder"
expect_no_out "host only" "the host's secret is not readable inside"
run ssh-config c
expect_out "User den" "ssh-config names the box's user"
expect_no_out "ansible_connection" "nothing the guest wrote reaches ssh-config"
run halt c
expect_rc 0 "den halt c"
run -C "$Q" status q
expect_out "running" "the other project's machine still runs"
run up c
expect_rc 0 "c up again"

# 2. A nested synced folder swapped for a link to a host folder.
inside "rmdir /work/sub && ln -s $CANARY /work/sub"
run reload c
expect_rc 1 "reload refuses a synced folder that became a link"
expect_err "symlink" "and says it is a link"
expect_true '[ "$(ls "$CANARY")" = secret ]' "nothing was written to the host folder"
rm "$P/sub" && mkdir "$P/sub"
run up c
expect_rc 0 "up once the folder is a folder again"

# 4. Setuid shells made inside, in the synced folders: root inside is no
# host root, den's login user is the folder's owner, and a folder of host
# root's is mapped to no one inside.
inside "cp /bin/bash /work/rootbash && chmod 4755 /work/rootbash; cp /bin/bash /rootowned/rootbash; chmod 4755 /rootowned/rootbash"
"$DEN" -q ssh c -c 'cp /bin/bash /work/denbash && chmod 4755 /work/denbash; cp /bin/bash /rootowned/denbash' >/dev/null 2>&1
BASE=$(container_base)
expect_true '[ -u "$P/rootbash" ] && [ "$(stat -c %u "$P/rootbash")" = $BASE ]' "root's setuid copy belongs to an unprivileged host id"
expect_true '[ -u "$P/denbash" ] && [ "$(stat -c %u "$P/denbash")" = 4321 ]' "den's belongs to the folder's owner"
expect_true '[ -z "$(find "$P" -perm -4000 -uid 0)" ] && [ -z "$(find "$P" -perm -2000 -gid 0)" ]' "no setuid or setgid root file appears on the host"
expect_true '[ -z "$(ls "$P/rootowned")" ]' "nothing could be written to the root-owned folder"
OUT=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$P/rootbash" -p -c 'id -u' 2>&1)
expect_true '[ "$OUT" = $BASE ]' "another host user running it gets no root (euid: $OUT)"

# 9. The host's loopback and the other machine's SSH port are out of reach.
QPORT=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["ssh_port"])' "$QSD/machines/q/state.json")
run ssh c -c "timeout 5 bash -c 'echo > /dev/tcp/10.0.2.2/$LPORT' && echo reached; timeout 5 bash -c 'echo > /dev/tcp/10.0.2.2/$QPORT' && echo reached-ssh; true"
expect_no_out "reached" "a service on the host's 127.0.0.1 is not reachable from inside"
sed -i 's/    boot_timeout: 20/    boot_timeout: 20\n    host_loopback: true/' Envfile
run reload c
run ssh c -c "timeout 5 bash -c 'echo > /dev/tcp/10.0.2.2/$LPORT' && echo reached"
expect_out "reached" "host_loopback: true lets it through"
sed -i '/host_loopback: true/d' Envfile

# Containment defaults: no raw sockets (ping through ICMP datagram
# sockets instead), a pids limit that leaves the host room, and a
# disk_size the container provider cannot enforce is refused, not ignored.
run ssh c -c "python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP); print(\"ping-ok\")'; sudo python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)' 2>/dev/null || echo raw-refused; cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null"
expect_out "ping-ok" "the login user can open a ping socket"
expect_out "raw-refused" "root inside cannot open a raw socket"
expect_out "$(($(cat /proc/sys/kernel/pid_max) / 8))" "pids.max is pid_max/8"
run up d
expect_rc 2 "a container with disk_size"
expect_err "disk_size in machine 'd': the container provider does not do it" "is refused with the reason"

# 8. What the console shows, when an up fails. Inside a container nothing
# writes raw bytes there (sshd escapes what it logs, PID 1's descriptors
# are closed to the guest); what does arrive (sshd's CRs) is shown as text.
# A VM's guest owns its serial console: den_read_tail's escaping is tested
# byte by byte in test_fsutil.
inside 'chmod 0 /usr/sbin/sshd'
run reload c
expect_rc 1 "reload of a machine whose sshd is gone fails"
expect_err "console.log" "it shows the console's end"
expect_true '! printf "%s" "$ERR" | grep -q "$(printf "[\033\r]")"' "no raw control byte reaches the terminal"
expect_err "\\x0d" "control bytes are shown as text"

run destroy -f c
expect_rc 0 "destroy"
expect_true '[ ! -e "$SD/machines/c" ]' "nothing is left of its state"
run -C "$Q" status q
expect_out "running" "the other project's machine still runs"
t_done
