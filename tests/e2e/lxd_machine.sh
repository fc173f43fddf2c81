#!/bin/bash
# provider: lxd on an LXD of the test's own (Debian's lxd, its unix
# socket): two machines of the systemd box, one image uploaded once,
# SSH and a forwarded port through proxy devices, a synced folder mapped
# to its owner, shell and ansible provisioners, halt and up, snapshots,
# suspend, destroy leaving no instance and no alias another machine does
# not share; LXD killed mid-up; an instance den did not make left alone.
. "$(dirname "$0")/lib/assert.sh"

. "$(dirname "$0")/lib/machines.sh"
. "$(dirname "$0")/lib/lxd.sh"
require_root "LXD"
command -v ansible-playbook >/dev/null || t_skip "ansible-playbook is missing (make deps installs it)"
add_box debian-12-systemd

OWNER=4242 # a host user LXD may map (root's /etc/subuid): the synced folder's owner
P="$T_DIR/project"
mkdir -p "$P/src"
echo "from the host" >"$P/src/hello.txt"
chown -R $OWNER:$OWNER "$P/src"
FPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$P/Envfile" <<EOF2
den: 1
defaults:
  box: den/debian-12-systemd
  provider: lxd
  cpus: 1
  memory: 512M
machines:
  web:
    synced_folders:
      - { host: ./src, guest: /work }
    forwarded_ports:
      - { guest: 8000, host: $FPORT }
    provision:
      - shell: echo provisioned > /tmp/shell-ran
      - ansible: { playbook: site.yml, extra_vars: { word: hello } }
  db:
    lxd: { profiles: [default] }
EOF2
cat >"$P/site.yml" <<'EOF2'
- hosts: all
  become: true
  tasks:
    - copy: { content: "{{ word }} from ansible\n", dest: /etc/from-ansible }
EOF2
cd "$P"
lxd_cleanup_at_exit "$P"

# No LXD yet: said, nothing made.
export LXD_DIR="$T_DIR/no-lxd"
run up web
expect_rc 1 "up with no LXD running fails"
expect_err "cannot reach the local LXD ($T_DIR/no-lxd/unix.socket)" "it says which LXD it could not reach"
expect_err "is lxd running?" "and what to do"
expect_err "error: machine web: cannot reach" "the machine is named once"

start_lxd
delegate_id $OWNER
instances() { lxc list --format csv -c n </dev/null | grep -c '^den-'; }
aliases() { lxc image alias list --format csv </dev/null | grep -c '^den/'; }
images() { lxc image list --format csv -c f </dev/null | grep -c .; }

run up
expect_rc 0 "den up of two machines on LXD"
expect_err "web is up" "web answers on SSH"
expect_err "db is up" "db answers on SSH"
expect_true '[ "$(printf "%s\n" "$ERR" | grep -c "to the local LXD")" = 1 ]' "the box went to LXD once for both machines"
expect_true '[ "$(instances)" = 2 ] && [ "$(images)" = 1 ] && [ "$(aliases)" = 1 ]' "two instances of one image, aliased once"
expect_true 'lxc image alias list --format csv </dev/null | grep -q "^den/den/debian-12-systemd/1.1.0,"' "the alias names box and version"

run ssh web -c 'hostname; id -un; nproc; ps -p 1 -o comm=; systemctl is-active ssh'
expect_true '[ "$(echo $OUT)" = "web den 1 systemd active" ]' "systemd boots the machine, sshd runs, den's user logs in, 1 CPU (got: $(echo $OUT))"
run ssh-config web
expect_out "StrictHostKeyChecking yes" "the host key is checked strictly"
expect_out "Port " "ssh-config gives the proxy device's port"

run ssh web -c 'cat /tmp/shell-ran /etc/from-ansible'
expect_out "provisioned" "the shell provisioner ran"
expect_out "hello from ansible" "ansible-playbook ran with extra_vars, through the forwarded SSH"

run ssh web -c 'cat /work/hello.txt; stat -c %U /work/hello.txt; echo from the machine > /work/back.txt'
expect_out "from the host" "the synced folder is there"
expect_out "den" "its files are the login user's inside"
expect_true '[ "$(stat -c %u:%g "$P/src/back.txt")" = "$OWNER:$OWNER" ]' "a file written inside is the folder owner's on the host"

run ssh web -c 'nohup python3 -m http.server 8000 --directory /work >/dev/null 2>&1 & sleep 0.3'
got=
for _ in $(seq 50); do got=$(curl -s --max-time 1 "http://127.0.0.1:$FPORT/hello.txt") && [ -n "$got" ] && break; sleep 0.1; done
expect_true '[ "$got" = "from the host" ]' "the forwarded port reaches the machine"
run port web
expect_out "127.0.0.1:$FPORT" "den port lists the forwarded port"

run status
expect_true 'printf "%s\n" "$OUT" | grep -qE "^web +running +lxd"' "status asks LXD: running"
run global-status
expect_true 'printf "%s\n" "$OUT" | grep -E "web" | grep -q "running"' "global-status asks LXD too"

# exec, upload and provision over the proxy device.
run exec --all -- 'echo ran-on-$(hostname)'
expect_rc 0 "den exec on both machines"
expect_out "ran-on-web" "exec ran on web"
expect_out "ran-on-db" "and on db"
echo "uploaded" >"$T_DIR/up.txt"
run upload "$T_DIR/up.txt" /tmp/up.txt web
expect_rc 0 "den upload"
run ssh web -c 'cat /tmp/up.txt'
expect_out "uploaded" "the file arrived"
run ssh web -c 'sudo rm /tmp/shell-ran'
expect_rc 0 "the provisioner's mark removed"
run provision web
expect_rc 0 "den provision"
run ssh web -c 'cat /tmp/shell-ran'
expect_out "provisioned" "the shell provisioner ran again"

# halt and up: the machine and its files come back.
run ssh web -c 'echo kept > ~/kept'
run halt web
expect_rc 0 "halt"
expect_true '[ "$(lxc list --format csv -c s "den-web-" </dev/null)" = STOPPED ]' "LXD says stopped"
run status web
expect_true 'printf "%s\n" "$OUT" | grep -qE "^web +stopped"' "status says stopped"
run up web
expect_rc 0 "up after halt"
run ssh web -c 'cat ~/kept'
expect_out "kept" "its files are kept across halt"
run ssh web -c 'touch /run/before-reload'
run reload web
expect_rc 0 "reload"
run ssh web -c 'cat ~/kept; ls /run/before-reload 2>/dev/null || echo rebooted'
expect_out "kept" "the machine is back after reload"
expect_out "rebooted" "reload booted it again (/run is new)"
run halt -f db
expect_rc 0 "halt -f"
expect_true '[ "$(lxc list --format csv -c s "den-db-" </dev/null)" = STOPPED ]' "LXD says db stopped"
run up db
expect_rc 0 "db up again"

# Snapshots are LXD's own.
run snapshot save web s1
expect_rc 0 "snapshot save"
run ssh web -c 'echo changed > ~/kept'
run snapshot list web
expect_out "s1" "the snapshot is listed"
run completion --complete -- snapshot restore web ""
expect_true '[ "$(echo $OUT)" = "words s1" ]' "completion offers the machine's snapshots (got: $(echo $OUT))"
run doctor --json
expect_true 'echo "$OUT" | python3 -c "import json, sys; d = json.load(sys.stdin); sys.exit(not (d[\"providers\"][\"lxd\"] and any(c[\"area\"] == \"lxd\" and c[\"said\"].startswith(\"LXD 5.\") for c in d[\"checks\"])))"' "den doctor finds this LXD and its version"
expect_true 'lxc query "/1.0/instances/$(lxc list --format csv -c n den-web- </dev/null)/snapshots" </dev/null | grep -q "/snapshots/s1\""' "LXD holds it"
run snapshot restore web s1
expect_rc 0 "snapshot restore"
run up web
run ssh web -c 'cat ~/kept'
expect_out "kept" "the restored machine has the snapshot's files"
run snapshot save web "../x"
expect_rc 1 "a snapshot name LXD cannot take is refused"

# Suspend is LXD's freeze.
run suspend web
expect_rc 0 "suspend"
expect_true '[ "$(lxc list --format csv -c s den-web- </dev/null)" = FROZEN ]' "LXD froze it"
run resume web
expect_rc 0 "resume"
run ssh web -c true
expect_rc 0 "it answers after resume"

# destroy: its instance goes; the image stays while db uses it.
run destroy -f web
expect_rc 0 "destroy web"
expect_true '[ "$(instances)" = 1 ] && [ "$(aliases)" = 1 ]' "web's instance is gone, the alias db shares stays"
run destroy -f db
expect_true '[ "$(instances)" = 0 ] && [ "$(aliases)" = 0 ] && [ "$(images)" = 0 ]' "the last machine takes the box's image and alias with it"

# LXD killed while den uploads the box: a clear error; then up finishes, nothing twice.
("$DEN" up web >"$T_DIR/killed.out" 2>&1; echo $? >"$T_DIR/killed.rc") &
UP=$!
for _ in $(seq 200); do grep -q "uploading box" "$T_DIR/killed.out" && break; sleep 0.05; done
sleep 0.3
kill -9 "$LXD_PID"
wait "$LXD_PID" 2>/dev/null
wait "$UP"
OUT=$(cat "$T_DIR/killed.out") RC=$(cat "$T_DIR/killed.rc") ERR=$OUT
expect_rc 1 "up fails when LXD dies mid-upload"
expect_err "machine web" "the error names the machine"
run_lxd
run up web
expect_rc 0 "the next up finishes"
expect_true '[ "$(instances)" = 1 ] && [ "$(images)" = 1 ] && [ "$(aliases)" = 1 ]' "one instance, one image, one alias"
run ssh web -c 'cat /work/hello.txt'
expect_out "from the host" "the machine is whole"

# An instance by den's name that this project did not make is left alone.
NAME=$(lxc list --format csv -c n den-web- </dev/null)
run destroy -f web
lxc init --empty "$NAME" </dev/null >/dev/null 2>&1
run up web
expect_rc 1 "up refuses an instance den did not make"
expect_err "did not make; den leaves it alone" "and says why"
expect_true 'lxc info "$NAME" </dev/null >/dev/null' "the stranger's instance is still there"
lxc delete "$NAME" </dev/null

# A synced folder whose owner LXD may not map: said before anything is made.
mkdir -p "$P/other" && chown 4343:4343 "$P/other"
cat >>"$P/Envfile" <<'EOF2'
  third:
    synced_folders: [{ host: ./other, guest: /other }]
EOF2
run up third
expect_rc 1 "a folder LXD cannot map is refused"
expect_err "add \`root:4343:1\` to /etc/subuid" "it says what to add"
expect_true '[ "$(instances)" = 0 ]' "no instance was made"

t_done
