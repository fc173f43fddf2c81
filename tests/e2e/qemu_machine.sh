#!/bin/bash
# The qemu provider end to end, with real QEMU (TCG on this machine's PVM
# KVM): den/debian-12's qemu box built here, `den up` to SSH, shell and
# ansible provisioning, a forwarded port, a 9p folder both ways, an rsync
# folder, halt and up, suspend and resume, snapshots, QEMU killed under
# den, `den box package`, a Vagrant libvirt box made from it and booted
# with the insecure-key convention, a private network shared with a
# container (each reaches the other by name), and destroy leaving nothing.
. "$(dirname "$0")/lib/assert.sh"

. "$(dirname "$0")/lib/machines.sh"
require_root "building the qemu box (debootstrap, mkfs)"
add_box debian-12 qemu
add_box debian-12 container

P="$T_DIR/project"
mkdir -p "$P/share/inner" "$P/code/skip"
echo "from the host" > "$P/share/from-host.txt"
echo "nested" > "$P/share/inner/n.txt"
echo "code" > "$P/code/main.txt"
echo "left out" > "$P/code/skip/x"
FPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$P/site.yml" <<'EOF2'
- hosts: all
  become: true
  gather_facts: false
  tasks:
    - copy: { content: "from ansible\n", dest: /etc/den-ansible }
EOF2
cat > "$P/Envfile" <<EOF2
den: 1
machines:
  vm:
    box: den/debian-12
    provider: qemu
    cpus: 2
    memory: 1G
    disk_size: 10G
    boot_timeout: 600
    forwarded_ports:
      - { guest: 8000, host: $FPORT }
    private_networks: [{ ip: 192.168.60.10 }, { dhcp: true }]
    synced_folders:
      - { host: ./share, guest: /share }
      - { host: ./share/inner, guest: /inner }
      - { host: ./code, guest: /code, type: rsync, rsync_exclude: [skip] }
    provision:
      - shell: echo "shell ran as \$(id -un)" > /tmp/shell-ran
      - ansible: { playbook: site.yml }
  vg:
    box: test/vagrant-libvirt
    provider: qemu
    autostart: false
    memory: 512M
    boot_timeout: 600
    ssh: { private_key_path: ./insecure_key }
  ctr:
    box: den/debian-12
    provider: container
    autostart: false
    memory: 256M
    private_networks: [{ ip: 192.168.60.20 }, { dhcp: true }]
EOF2
cd "$P"
SD=$(state_dir)
cleanup() {
	"$DEN" -C "$P" destroy >/dev/null 2>&1
	rm -rf "$T_DIR"
}
trap cleanup EXIT
vm() { "$DEN" -q ssh vm -c "$1"; }
qemu_pid() { cat "$SD/machines/$1/qemu.pid" 2>/dev/null; }

# Hostile or broken boxes: refused before anything runs, nothing left behind.
mkdir -p "$T_DIR/bad/noimg" "$T_DIR/bad/backed"
echo '{ "provider": "libvirt", "format": "qcow2" }' > "$T_DIR/bad/noimg/metadata.json"
tar -czf "$T_DIR/noimg.box" -C "$T_DIR/bad/noimg" metadata.json
cp "$T_DIR/bad/noimg/metadata.json" "$T_DIR/bad/backed/"
qemu-img create -q -f qcow2 -F raw -b /etc/hostname "$T_DIR/bad/backed/box.img" 1G
tar -czf "$T_DIR/backed.box" -C "$T_DIR/bad/backed" metadata.json box.img
"$DEN" -q box add "$T_DIR/noimg.box" --name test/noimg
"$DEN" -q box add "$T_DIR/backed.box" --name test/backed
mkdir -p "$T_DIR/badp"
printf 'den: 1\nmachines:\n  a: { box: test/noimg, provider: qemu }\n  b: { box: test/backed, provider: qemu }\n' > "$T_DIR/badp/Envfile"
run -C "$T_DIR/badp" up a
expect_rc 1 "a box without box.img"
expect_err "has no box.img: it is not a qemu (libvirt) box" "says what is missing"
run -C "$T_DIR/badp" up b
expect_rc 1 "a box image backed by a host file"
expect_err "refers to another file (a backing or data file): refused" "refuses it"
expect_true '! ls "$(mdir b "$T_DIR/badp")" 2>/dev/null | grep -q disk' "no disk made for it"
expect_true '! pgrep -f "$T_DIR/badp" >/dev/null' "no QEMU started"

run up vm
expect_rc 0 "den up --provider qemu"
expect_err "vm is up" "vm answers on SSH"
[ "$RC" -eq 0 ] || { cat "$SD/machines/vm/console.log" | tail -30; t_done; }
expect_err "TCG" "says it falls back to TCG on this KVM, and why"
expect_true 'grep -q "accel=tcg" /proc/$(qemu_pid vm)/cmdline' "QEMU runs with TCG"
expect_true '[ "$(vm "cat /tmp/shell-ran")" = "shell ran as root" ]' "shell provisioner ran (privileged, as in Vagrant)"
expect_true '[ "$(vm "cat /etc/den-ansible")" = "from ansible" ]' "ansible provisioner ran"
expect_true '[ "$(vm hostname)" = vm ]' "hostname from the seed"
expect_true 'vm "df -B1G --output=size /" | tail -1 | awk "{exit !(\$1 >= 9)}"' "disk_size grew the root file system"
# The forwarded port: a server in the guest, reached from 127.0.0.1.
vm "echo served > /tmp/index.html; nohup python3 -m http.server 8000 -d /tmp >/dev/null 2>&1 &"
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$FPORT/index.html" >/dev/null && break; sleep 0.5; done
expect_true '[ "$(curl -s "http://127.0.0.1:$FPORT/index.html")" = served ]' "forwarded port reaches the guest"
expect_true 'ss -ltn | grep -q "127.0.0.1:$FPORT "' "forwarded port bound to 127.0.0.1"
# A private network shared with a container: each reaches the other by name.
run up ctr
expect_rc 0 "a container joins the VM's private network"
expect_true 'vm "ip -4 -o addr show" | grep -q "inet 192.168.60.10/24"' "the VM has its private address (den's seed)"
expect_true 'vm "ping -c1 -W5 ctr" | grep -q "1 received"' "the VM pings the container by name"
expect_true '"$DEN" -q ssh ctr -c "ping -c1 -W5 vm" | grep -q "1 received"' "the container pings the VM by name"
# dhcp: true: the VM's card asked den's switch, which leased the address den picked.
expect_true 'vm "ip -4 -o addr show" | grep "inet 172.28.128.253/24" | grep -q dynamic' "the VM leased its dhcp address from the switch"
expect_true '! vm "ip route" | grep -q "172.28.128.254"' "and took no route from the lease"
expect_true '"$DEN" -q ssh ctr -c "ping -c1 -W5 172.28.128.253" | grep -q "1 received"' "the container (172.28.128.252) reaches it there"
run destroy ctr
expect_rc 0 "the container goes; the VM's port stays on the switch"
# den's network, not QEMU's: the host's loopback is out of reach (issue 13).
python3 -c 'import socket, time; s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(120)' > "$T_DIR/lport" &
LISTENER=$!
for _ in $(seq 50); do [ -s "$T_DIR/lport" ] && break; sleep 0.1; done
expect_true '[ "$(vm "timeout 5 bash -c \"echo > /dev/tcp/10.0.2.2/$(cat "$T_DIR/lport")\" 2>/dev/null && echo reached || echo refused")" = refused ]' "a service on the host's 127.0.0.1 is not reachable from the VM"
kill $LISTENER
expect_true '! pgrep -f "^qemu-system.*user,id=net0" >/dev/null' "QEMU's own user network is not used"
# 9p both ways.
expect_true '[ "$(vm "cat /share/from-host.txt")" = "from the host" ]' "9p: the guest reads the host's file"
vm "echo from the guest > /share/from-guest.txt"
expect_true '[ "$(cat "$P/share/from-guest.txt")" = "from the guest" ]' "9p: the host reads the guest's file"
# rsync folder.
expect_true '[ "$(vm "cat /code/main.txt")" = code ]' "rsync folder copied in"
expect_true '! vm "test -e /code/skip"' "rsync_exclude left out"
expect_true '[ "$(vm "stat -c %U /code/main.txt")" = den ]' "rsync folder owned by the login user"
echo "changed" > "$P/code/main.txt"
run rsync vm
expect_rc 0 "den rsync"
expect_true '[ "$(vm "cat /code/main.txt")" = changed ]' "den rsync copies changes"

# suspend / resume
run suspend vm
expect_rc 0 "den suspend"
run status vm
expect_out "suspended" "status says suspended"
run resume vm
expect_rc 0 "den resume"
expect_true '[ "$(vm "echo back")" = back ]' "SSH answers after resume"

# snapshots: save, change, restore, list, delete
vm "echo before > /home/den/snap.txt; sync"
run snapshot save vm clean
expect_rc 0 "den snapshot save"
vm "echo after > /home/den/snap.txt; sync"
run snapshot list vm
expect_out "clean" "snapshot list names it"
run snapshot restore vm clean
expect_rc 0 "den snapshot restore"
expect_true '[ "$(vm "cat /home/den/snap.txt")" = before ]' "restore brings the disk back"
expect_true '[ "$(vm "cat /share/from-host.txt")" = "from the host" ]' "9p mounted again after restore"
run snapshot restore vm 'x;quit'
expect_rc 1 "a snapshot name that is not a name"
run snapshot delete vm clean
expect_rc 0 "den snapshot delete"
run snapshot list vm
expect_no_out "clean" "deleted snapshot is gone"

# A hostile guest and 9p (issue 13): what it makes in a synced folder
# lands on the host as plain files (mapped-xattr), never a setuid file or a
# link; a nested synced folder replaced from inside is refused at up.
expect_true '[ "$(vm "cat /inner/n.txt")" = nested ]' "a nested synced folder"
vm "sudo cp /bin/bash /share/sb && sudo chmod 4755 /share/sb && sudo ln -s /etc /share/link"
expect_true '[ -f "$P/share/sb" ] && [ ! -u "$P/share/sb" ]' "a setuid file made inside is not setuid on the host"
expect_true '[ ! -L "$P/share/link" ]' "a link made inside is not a link on the host"
vm "sudo umount /inner; sudo rm -rf /share/inner && sudo ln -s /etc /share/inner"
run halt vm
expect_rc 0 "halt"
run up vm --no-provision
expect_rc 1 "up refuses a nested synced folder that is no longer a folder"
expect_err "share/inner" "and names it"
expect_true '[ -z "$(qemu_pid vm)" ]' "no QEMU started"
rm -rf "$P/share/inner" "$P/share/link" "$P/share/sb" && mkdir "$P/share/inner"
run up vm --no-provision
expect_rc 0 "up once it is a folder again"

# halt, up again
run halt vm
expect_rc 0 "den halt (ACPI power button)"
expect_true '[ -z "$(qemu_pid vm)" ]' "QEMU is gone"
run status vm
expect_out "stopped" "status says stopped"
run up vm --no-provision
expect_rc 0 "up again"
expect_true '[ "$(vm "cat /tmp/shell-ran 2>/dev/null; cat /home/den/snap.txt")" = before ]' "the disk is kept, /tmp is not"

# QEMU killed under den
kill -9 "$(qemu_pid vm)"
sleep 1
run status vm
expect_out "aborted" "status tells QEMU died"
run up vm --no-provision
expect_rc 0 "up recovers"
expect_true '[ "$(vm "echo ok")" = ok ]' "SSH after recovery"

# den killed mid-up, just after QEMU started: destroy still ends that QEMU.
run halt vm
(DEN_CRASH_AT=up:after-supervisor "$DEN" -q up vm --no-provision; echo $? > "$T_DIR/rc") 2>/dev/null
expect_true '[ "$(cat "$T_DIR/rc")" -eq 137 ]' "den killed mid-up"
ORPHAN=$(qemu_pid vm)
expect_true '[ -n "$ORPHAN" ] && kill -0 "$ORPHAN"' "its QEMU runs on"
run status vm
expect_out "running" "status asks QEMU, not den's record"
run up vm --no-provision
expect_rc 0 "up after the killed up"
expect_true '[ "$(vm "echo ok")" = ok ]' "SSH answers"

# den box package -> a Vagrant libvirt box with the insecure-key convention
ssh-keygen -q -t ed25519 -N "" -f "$P/insecure_key"
vm "sudo useradd -m -s /bin/bash vagrant && echo 'vagrant ALL=(ALL) NOPASSWD:ALL' | sudo tee /etc/sudoers.d/vagrant >/dev/null && sudo install -d -o vagrant -m 700 /home/vagrant/.ssh && echo '$(cat "$P/insecure_key.pub")' | sudo install -o vagrant -m 600 /dev/stdin /home/vagrant/.ssh/authorized_keys && sudo systemctl disable -q den-seed.service"
run halt vm
expect_rc 0 "halt before packaging"
run box package vm --output "$T_DIR/vm.box"
expect_rc 0 "den box package"
expect_true 'tar -tf "$T_DIR/vm.box" | sort | tr "\n" " " | grep -q "Vagrantfile box.img metadata.json"' "package holds box.img, metadata.json, Vagrantfile"
mkdir "$T_DIR/vbox"
tar -xf "$T_DIR/vm.box" -C "$T_DIR/vbox" box.img
expect_true '! qemu-img info "$T_DIR/vbox/box.img" | grep -q "backing file"' "the packaged image stands alone"
# As Vagrant's own libvirt boxes are: metadata.json, box.img, Vagrantfile, tar.gz.
printf '{ "provider": "libvirt", "format": "qcow2", "virtual_size": 10 }\n' > "$T_DIR/vbox/metadata.json"
printf 'Vagrant.configure("2") do |c|\n  c.vm.provider :libvirt do |l|\n    l.driver = "kvm"\n  end\nend\n' > "$T_DIR/vbox/Vagrantfile"
tar -czf "$T_DIR/vagrant.box" -C "$T_DIR/vbox" metadata.json box.img Vagrantfile
rm -rf "$T_DIR/vbox"
run box add "$T_DIR/vagrant.box" --name test/vagrant-libvirt
expect_rc 0 "a Vagrant libvirt box is added"
run up vg
expect_rc 0 "den up of the Vagrant box, logging in with its insecure key"
[ "$RC" -eq 0 ] || echo "$ERR" | tail -5
expect_err "replaced the box's insecure key" "says it put den's key in"
expect_true '[ "$("$DEN" -q ssh vg -c "id -un")" = vagrant ]' "logged in as vagrant with den's key"
expect_true '! "$DEN" -q ssh vg -c "cat ~/.ssh/authorized_keys" | grep -qF "$(cut -d" " -f2 "$P/insecure_key.pub")"' "the insecure key is gone from the guest"
expect_true '! grep -q ssh_key "$SD/machines/vg/state.json"' "den no longer uses the box's key"
expect_true 'ssh -p "$(python3 -c "import json;print(json.load(open(\"$SD/machines/vg/state.json\"))[\"ssh_port\"])")" -i "$SD/machines/vg/id_ed25519" -o UserKnownHostsFile="$SD/machines/vg/known_hosts" -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes vagrant@127.0.0.1 true' "the guest now has den's host key (strict check passes)"

# destroy leaves nothing
PIDS="$(qemu_pid vm) $(qemu_pid vg)"
run destroy
expect_rc 0 "den destroy"
expect_true '[ ! -e "$SD/machines/vm" ] && [ ! -e "$SD/machines/vg" ]' "no machine files left"
# Gone, or a zombie waiting for PID 1 to reap it.
alive() { case "$(ps -o stat= -p "$1" 2>/dev/null)" in "" | Z*) return 1 ;; esac; }
for p in $PIDS; do expect_true '! alive '"$p" "QEMU $p is gone"; done
expect_true '! pgrep -f "$SD/machines" >/dev/null' "no process of the project left"
# `den net run` ends with its QEMU (this den's: by its executable).
nets() { for p in $(pgrep -f "^den net run "); do [ "$(readlink "/proc/$p/exe")" = "$(readlink -f "$DEN")" ] && echo "$p"; done; }
for _ in $(seq 50); do [ -z "$(nets)" ] && break; sleep 0.1; done
expect_true '[ -z "$(nets)" ]' "no den net run is left"
for _ in $(seq 50); do pgrep -f "den net switch --control $SD/" >/dev/null || break; sleep 0.1; done
expect_true '! pgrep -f "den net switch --control $SD/" >/dev/null' "the private network's switch is gone"
expect_true '[ -z "$(ls "$SD/networks/"*.sock 2>/dev/null)" ]' "with its socket"
t_done
