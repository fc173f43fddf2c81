#!/bin/bash
# A box with "init": "system" (den/debian-12-systemd): systemd is PID 1 of
# the container and starts sshd; it manages its own cgroup tree, services
# survive halt and up, a reboot inside boots it again, halt stops it in
# order, and destroy leaves nothing (process, mount, cgroup).
. "$(dirname "$0")/lib/assert.sh"

. "$(dirname "$0")/lib/machines.sh"
require_root "the container provider"
add_box debian-12-systemd

P="$T_DIR/project"
H="sysd$$"
mkdir -p "$P/src"
echo "from the host" > "$P/src/hello.txt"
FPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$P/Envfile" <<EOF2
den: 1
machines:
  $H:
    box: den/debian-12-systemd
    provider: container
    cpus: 1
    memory: 512M
    synced_folders:
      - { host: ./src, guest: /work }
    forwarded_ports:
      - { guest: 8000, host: $FPORT }
EOF2
cd "$P"
SD=$(state_dir)
trap '"$DEN" -C "$P" destroy -f >/dev/null 2>&1; rm -rf "$T_DIR"' EXIT

nothing_left() {
	expect_true '! pgrep -f "container run.*($P|$SD)" >/dev/null' "$1: no supervisor is left"
	expect_true '! grep -qE "$P|$SD" /proc/self/mountinfo' "$1: no mount is left"
	expect_true '[ -z "$(find /sys/fs/cgroup -maxdepth 6 -type d -name "$H-*" 2>/dev/null)" ]' \
		"$1: no cgroup is left, systemd's own included"
}

run up
expect_rc 0 "den up with a systemd box"
expect_err "$H is up" "the machine answers on SSH"
run ssh -c 'ps -p 1 -o comm=; systemctl is-system-running --wait; systemctl is-active ssh'
expect_true '[ "$(echo $OUT)" = "systemd running active" ]' "systemd is PID 1, the system is running, sshd is its service (got: $(echo $OUT))"
run ssh -c 'cat /proc/1/cgroup; sudo systemd-run --wait --quiet --unit=den-probe /bin/true && echo transient-ok'
expect_out "0::/init.scope" "systemd manages its own cgroup tree"
expect_out "transient-ok" "a transient unit runs (systemd writes its cgroups)"
run ssh -c 'nproc; cat /work/hello.txt; test -s /etc/machine-id && cat /etc/machine-id'
expect_out "from the host" "the synced folder is there"
expect_true '[ "$(printf "%s\n" "$OUT" | head -1)" = 1 ]' "the cpu limit is visible inside"
MID=$(printf '%s\n' "$OUT" | tail -1)
expect_true '[ ${#MID} -eq 32 ]' "den gave the machine a machine-id"

# A service of the user's own, enabled: it comes back after halt and up.
run ssh -c 'printf "[Service]\nExecStart=/usr/bin/python3 -m http.server 8000 --directory /work\n[Install]\nWantedBy=multi-user.target\n" | sudo tee /etc/systemd/system/web.service >/dev/null && sudo systemctl enable --now web.service 2>/dev/null && systemctl is-active web'
expect_out "active" "a service enabled inside runs"
got=
for _ in $(seq 50); do got=$(curl -s --max-time 1 "http://127.0.0.1:$FPORT/hello.txt") && [ -n "$got" ] && break; sleep 0.1; done
expect_true '[ "$got" = "from the host" ]' "the forwarded port reaches the service"

# Escapes: reboot(2) ends only the container; every other command is refused.
run ssh -c 'sudo python3 -c "
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for cmd in (0x89ABCDEF, 0x45584543, 0xD000FCE2):  # CAD on, kexec, suspend
    print(libc.reboot(ctypes.c_int(cmd - (1 << 32) if cmd >= 1 << 31 else cmd)), os.strerror(ctypes.get_errno()))
"'
expect_true '[ "$(printf "%s\n" "$OUT" | grep -c "^-1 Invalid argument")" = 3 ]' "reboot(2) commands other than halt and restart are refused"
run ssh -c 'sudo sh -c "for f in \$(find /sys/fs/cgroup -name memory.max -o -name memory.limit_in_bytes); do echo max > \$f 2>/dev/null && echo RAISED \$f; done; echo looked"'
expect_out "looked" "looked for memory limits inside"
expect_no_out "RAISED" "the container cannot raise its memory limit"
limit=$(cat "$(find /sys/fs/cgroup/memory -maxdepth 6 -type d -name "$H-*" | head -1)/memory.limit_in_bytes" 2>/dev/null || cat "$(find /sys/fs/cgroup -maxdepth 6 -type d -name "$H-*" | head -1)/memory.max")
expect_true '[ "$limit" = 536870912 ]' "the memory limit holds, outside the container's tree (got $limit)"

# A client that leaves the control socket without reading must not end the supervisor.
python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect("'"$SD/machines/$H"'/control.sock"); s.sendall(b"{\"cmd\": \"status\"}\n"); s.close()'
sleep 0.2
run status
expect_true 'printf "%s\n" "$OUT" | grep -qE "^$H +running"' "the supervisor outlives a control client that hung up"

# A reboot inside boots the container again: /run is new, the upper layer kept.
run ssh -c 'sudo touch /run/before-reboot /etc/kept; sudo systemctl reboot'
back=
for _ in $(seq 100); do
	"$DEN" ssh -c 'test ! -e /run/before-reboot && test -e /etc/kept' 2>/dev/null && back=yes && break
	sleep 0.1
done
expect_true '[ "$back" = yes ]' "after a reboot inside, the machine is back with its files"
expect_true 'grep -q "rebooted; starting it again" "$SD/machines/$H/console.log"' "console.log says it rebooted"

run halt
expect_rc 0 "den halt (SIGRTMIN+3 to systemd)"
expect_no_err "killing it" "systemd halted within the timeout"
nothing_left "after halt"
run up
expect_rc 0 "up again"
run ssh -c 'systemctl is-system-running --wait >/dev/null; systemctl is-active web; cat /etc/machine-id'
expect_true '[ "$(echo $OUT)" = "active $MID" ]' "the enabled service and the machine-id survive halt and up (got: $(echo $OUT))"

run destroy -f
expect_rc 0 "destroy"
nothing_left "after destroy"
expect_true '[ ! -e "$SD/machines/$H" ]' "nothing is left of its state"
t_done
