#!/bin/bash
# The first real `den up`: a debian-12 container box built here, two
# machines, SSH with den's keys and host keys, synced folder, forwarded
# port, limits, halt, up again, a killed supervisor, destroy.
. "$(dirname "$0")/lib/assert.sh"

. "$(dirname "$0")/lib/machines.sh"
require_root "the container provider"
add_debian_box

P="$T_DIR/project"
mkdir -p "$P/src"
echo "from the host" > "$P/src/hello.txt"
chown -R 4321:4321 "$P/src" # a user's folder: den inside reads and writes it as that user
FPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# A host port that is taken, for auto_correct: a listener of the test's own.
python3 -c 'import socket, time; s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(120)' > "$T_DIR/taken" &
TAKER=$!
for _ in $(seq 50); do [ -s "$T_DIR/taken" ] && break; sleep 0.1; done
TAKEN=$(cat "$T_DIR/taken")
cat > "$P/Envfile" <<EOF2
den: 1
defaults:
  box: den/debian-12
  provider: container
  cpus: 1
  memory: 512M
  synced_folders:
    - { host: ./src, guest: /work }
machines:
  web:
    primary: true
    forwarded_ports:
      - { guest: 8000, host: $FPORT }
  db:
    memory: 256M
    no_new_privs: true
    forwarded_ports:
      - { guest: 9000, host: $TAKEN, auto_correct: true }
EOF2
cd "$P"
SD=$(state_dir)
cleanup() {
	"$DEN" -C "$P" destroy >/dev/null 2>&1
	kill $TAKER 2>/dev/null
	rm -rf "$T_DIR"
}
trap cleanup EXIT

run up
expect_rc 0 "den up"
expect_err "web is up" "web answers on SSH"
expect_err "db is up" "db answers on SSH"
expect_true '[ -f Envfile.lock ]' "the box is locked"
run status
expect_true 'printf "%s\n" "$OUT" | grep -qE "^web +running +container"' "status: web running"
expect_true 'printf "%s\n" "$OUT" | grep -qE "^db +running +container"' "status: db running"
run status --json
expect_true 'printf "%s" "$OUT" | python3 -c "import json,sys; assert all(m[\"state\"] == \"running\" for m in json.load(sys.stdin)[\"machines\"])"' "status --json"

run ssh -c 'cat /etc/os-release'
expect_out "bookworm" "den ssh runs a command in the primary machine"
run ssh db -c 'exit 7'
expect_rc 7 "den ssh passes the exit code through"
run ssh db -c 'grep NoNewPrivs /proc/self/status; sudo -n true && echo sudo-worked'
expect_true 'printf "%s\n" "$OUT" | grep -qE "^NoNewPrivs:\s+1$"' "no_new_privs: true reaches the machine's processes"
expect_no_out "sudo-worked" "and sudo (setuid) no longer raises privileges"
run ssh web -c 'grep NoNewPrivs /proc/self/status'
expect_true 'printf "%s\n" "$OUT" | grep -qE "^NoNewPrivs:\s+0$"' "no_new_privs is off by default"
run ssh web -c 'id -un; sudo -n id -u; hostname; nproc; cat /sys/fs/cgroup/memory/memory.limit_in_bytes'
expect_true '[ "$(printf "%s\n" "$OUT" | tr "\n" " ")" = "den 0 web 1 536870912 " ]' "user den, sudo, hostname, cpus and memory limits (got: $(echo $OUT))"
# The login user owns the synced folder inside: it writes as the folder's owner.
run ssh web -c 'cat /work/hello.txt && stat -c %U /work/hello.txt && echo "from the guest" > /work/back.txt'
expect_out "from the host" "the synced folder is visible inside"
expect_out "den" "owned by the login user inside"
expect_true '[ "$(cat src/back.txt)" = "from the guest" ] && [ "$(stat -c %u:%g src/back.txt)" = 4321:4321 ]' "and writes come back to the host as the folder's owner"
run ssh -c 'cd /work && (setsid python3 -m http.server 8000 >/dev/null 2>&1 &) ; sleep 0.5'
got=
for _ in $(seq 50); do got=$(curl -s --max-time 1 "http://127.0.0.1:$FPORT/hello.txt") && [ -n "$got" ] && break; sleep 0.1; done
expect_true '[ "$got" = "from the host" ]' "a forwarded port reaches a server inside"

run ssh-config
expect_out "Host web" "ssh-config prints a Host block"
printf '%s\n' "$OUT" > "$T_DIR/ssh_config"
OUT=$(ssh -F "$T_DIR/ssh_config" db hostname 2>&1) && RC=0 || RC=$?
expect_true '[ "$OUT" = db ]' "ssh -F with den ssh-config works"

run port web
expect_true 'printf "%s\n" "$OUT" | grep -qE "^22 +127\.0\.0\.1:[0-9]+ +tcp +ssh"' "den port shows SSH's port"
expect_true 'printf "%s\n" "$OUT" | grep -qE "^8000 +127\.0\.0\.1:$FPORT +tcp"' "and the Envfile's"
run port db
expect_true 'printf "%s\n" "$OUT" | grep -E "^9000 " | grep -qv ":$TAKEN "' "auto_correct moved db's taken port"
run global-status
expect_true 'printf "%s\n" "$OUT" | grep -qE "^web +running +container +$P"' "global-status finds the project's machines"
run global-status --json
expect_true 'printf "%s" "$OUT" | python3 -c "import json,sys; assert len([m for m in json.load(sys.stdin) if m[\"state\"] == \"running\"]) == 2"' "global-status --json"

run ssh web -c 'echo kept > /home/den/state.txt'
run halt web
expect_rc 0 "den halt web"
run status web
expect_out "stopped" "web is stopped"
expect_true '! pgrep -f "container run.*--state=$SD/machines/web " >/dev/null' "web's supervisor is gone"
run up web
expect_rc 0 "den up web again"
run up web --provider qemu
expect_rc 1 "den up --provider qemu on a container machine"
expect_err "was made with provider container, not qemu; \`den destroy web\` first" "says which provider made it"
run ssh web -c 'cat /home/den/state.txt'
expect_out "kept" "the machine's files survive a halt"

# The supervisor killed: status says so, up recovers.
sup=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["supervisor_pid"])' "$SD/machines/db/state.json")
kill -9 "$sup"
for _ in $(seq 50); do pgrep -f "container run.*--state=$SD/machines/db " >/dev/null || break; sleep 0.1; done
run status db
expect_out "aborted" "a killed supervisor shows as aborted"
run up db
expect_rc 0 "up after a killed supervisor"
run ssh db -c true
expect_rc 0 "db answers again"

# A second den on the project waits for the first, and says so.
"$DEN" up db >/dev/null 2>&1 &
first=$!
sleep 0.05
run halt db
wait $first || true
expect_rc 0 "a den that had to wait"
flock "$SD/env.lock" sleep 1.5 &
holder=$!
for _ in $(seq 100); do flock -n "$SD/env.lock" true || break; sleep 0.01; done
run status db
expect_rc 0 "status needs no lock"
run up db
expect_err "waiting for" "a mutating den waits on the lock, with a message"
expect_rc 0 "and goes on once it is free"
wait $holder || true

run reload db
expect_rc 0 "den reload db"
expect_err "db halted" "it halts"
expect_err "db is up" "and comes back"

run destroy
expect_rc 0 "den destroy"
expect_true '[ ! -e "$SD/machines/web" ] && [ ! -e "$SD/machines/db" ]' "nothing is left of their state"
expect_true '! pgrep -f "container run.*($P|$SD)" >/dev/null' "no supervisor is left"
expect_true '! grep -q "$P" /proc/self/mountinfo' "no mount is left"
run status
expect_true '[ "$(printf "%s\n" "$OUT" | grep -c "not created")" -eq 2 ]' "both not created"
run global-status --prune
expect_true '! grep -q "$P" "$DEN_HOME/index.json"' "global-status --prune forgets a project with no machines"

t_done
