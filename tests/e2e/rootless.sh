#!/bin/bash
# den without root (issue 13, docs/rootless.md): a user made here runs the
# container lifecycle as itself. Without subordinate ids, and without a
# cgroup it may write, den up says what is missing; with them: box add (the
# root file system keeps its owners, as the user's namespace's ids), up
# with an Ansible step (run as the user), ssh, sudo and ping inside, the
# synced folder both ways with the user's ownership, halt and destroy with
# nothing left behind; then a systemd box (reboot included) and a qemu
# machine as the same user.
. "$(dirname "$0")/lib/assert.sh"

. "$(dirname "$0")/lib/machines.sh"
require_root "making a user for the run"
add_debian_box # as root: the box archive, built or from the cache

U="dent$$"
# v1 controllers den uses, and cgroup2 beside them (hybrid) for systemd boxes.
CONTROLLERS="cpu cpuset memory pids"
[ -d /sys/fs/cgroup/unified ] && CONTROLLERS="$CONTROLLERS unified"
SUB=$((600000000 + ($$ % 20000) * 65536))
CG="den-rootless-$U"
BOX=$(ls "$T_DIR"/boxes/den-debian-12-*-container-*.box)
cleanup() {
	as_user 'den destroy -f' >/dev/null 2>&1
	pkill -9 -u "$U" 2>/dev/null
	sleep 0.2
	userdel -r "$U" >/dev/null 2>&1
	for c in $CONTROLLERS; do
		find "/sys/fs/cgroup/$c/$CG" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	rm -rf "$T_DIR"
}
trap cleanup EXIT

# The user, with no subordinate ids yet; den and the box where it can read them.
useradd -m -s /bin/bash -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$U"
install -m 755 "$DEN" "$T_DIR/den"
chmod 711 "$T_DIR"
chmod 755 "$T_DIR/boxes"
chmod 644 "$BOX"
HOME_U=$(getent passwd "$U" | cut -d: -f6)
su "$U" -c "mkdir -p ~/p/src && echo 'from the host' > ~/p/src/hello.txt"
cat > "$HOME_U/p/Envfile" <<'EOF2'
den: 1
machines:
  web:
    box: den/debian-12
    provider: container
    boot_timeout: 30
    synced_folders:
      - { host: ./src, guest: /work }
    provision:
      - ansible: { playbook: site.yml }
  sd:
    box: den/debian-12-systemd
    provider: container
    autostart: false
    boot_timeout: 60
  vm:
    box: den/debian-12
    provider: qemu
    autostart: false
    boot_timeout: 300
    synced_folders:
      - { host: ./src, guest: /work }
EOF2
# A playbook that says who runs it: inside (become) and on the host.
cat > "$HOME_U/p/site.yml" <<'EOF2'
- hosts: all
  tasks:
    - shell: id -un > /tmp/inside-user
      become: true
    - shell: id -un > "{{ playbook_dir }}/host-user"
      delegate_to: localhost
EOF2
chown "$U:$U" "$HOME_U/p/Envfile" "$HOME_U/p/site.yml"

# as_user CMD: CMD as the user in its project, `den` being the test's den;
# with $DELEGATED set, inside the cgroups delegated to it.
as_user() {
	(
		if [ -n "${DELEGATED:-}" ]; then
			for c in $CONTROLLERS; do echo "$BASHPID" > "/sys/fs/cgroup/$c/$CG/cgroup.procs"; done
		fi
		exec su "$U" -c "unset DEN_HOME DEN_BUILD_CACHE; cd ~/p && export ASAN_OPTIONS='${ASAN_OPTIONS:-}' PATH=$T_DIR:\$PATH && $1"
	)
}
urun() { OUT=$(as_user "$1" 2>"$T_DIR/.err") && RC=0 || RC=$?; ERR=$(cat "$T_DIR/.err"); }

urun 'den box add '"$BOX"
expect_rc 1 "box add without subordinate ids"
expect_err "usermod --add-subuids" "says how to add them"
usermod --add-subuids "$SUB-$((SUB + 65535))" --add-subgids "$SUB-$((SUB + 65535))" "$U"
urun 'den box add '"$BOX"
expect_rc 0 "box add as the user"
ROOTFS=$(ls -d "$HOME_U"/.local/share/den/boxes/den/debian-12/*/container-amd64/rootfs)
expect_true '[ "$(stat -c %u "$ROOTFS/etc/shadow")" = "$SUB" ] && [ "$(stat -c %u "$ROOTFS/home/den")" = "$(id -u "$U")" ]' "the root file system keeps its owners: root's files are the first subordinate id's, den's the user's"
expect_true '[ -u "$ROOTFS/usr/bin/sudo" ]' "and sudo stays setuid"

urun 'den up'
expect_rc 1 "up without a cgroup the user may write"
expect_err "delegate a cgroup to the user" "says what is missing"
expect_true '! pgrep -u "$U" -f "container run" >/dev/null' "and leaves nothing running"

# A delegated cgroup: the user's own folder in each v1 controller (this
# host's layout), as a service manager would give a user.
for c in $CONTROLLERS; do
	mkdir -p "/sys/fs/cgroup/$c/$CG"
	if [ "$c" = cpuset ]; then
		cat /sys/fs/cgroup/cpuset/cpuset.cpus > "/sys/fs/cgroup/cpuset/$CG/cpuset.cpus"
		cat /sys/fs/cgroup/cpuset/cpuset.mems > "/sys/fs/cgroup/cpuset/$CG/cpuset.mems"
	fi
	for f in "" /cgroup.procs /tasks /cgroup.threads /cgroup.subtree_control; do
		[ -e "/sys/fs/cgroup/$c/$CG$f" ] && chown "$U:$U" "/sys/fs/cgroup/$c/$CG$f"
	done
done
DELEGATED=1
urun 'den up'
expect_rc 0 "den up as the user"
expect_true '[ "$(cat "$HOME_U/p/host-user")" = "$U" ]' "ansible-playbook ran on the host as the user"
urun 'den ssh web -c "cat /tmp/inside-user"'
expect_out "root" "and became root inside"
urun 'den ssh web -c "id -un; stat -c %U /work/hello.txt; cat /work/hello.txt; echo from the guest > /work/back.txt; sudo -n id -u; sudo touch /work/byroot; head -1 /proc/self/uid_map; nproc; python3 -c \"import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP); print(42)\""'
expect_rc 0 "den ssh as the user"
expect_true '[ "$(printf "%s\n" "$OUT" | sed -n 1,3p | tr "\n" " ")" = "den den from the host " ]' "the login user, who owns the synced folder inside (got: $(echo $OUT))"
line() { printf "%s\n" "$OUT" | sed -n "${1}p"; }
expect_true '[ "$(line 4)" = 0 ]' "sudo works inside"
expect_true 'line 5 | grep -qE "^ +0 +$SUB +1000$"' "root inside is the first subordinate id"
expect_true '[ "$(line 6)" = 2 ]' "the cpus limit holds (nproc: $(line 6))"
expect_true '[ "$(line 7)" = 42 ]' "the login user can open a ping socket"
expect_true '[ "$(cat "$HOME_U/p/src/back.txt")" = "from the guest" ] && [ "$(stat -c %U "$HOME_U/p/src/back.txt")" = "$U" ]' "the login user's writes are the user's on the host"
expect_true '[ "$(stat -c %u "$HOME_U/p/src/byroot")" = "$SUB" ]' "root's writes are a subordinate id's"
expect_true '[ "$(cat /sys/fs/cgroup/memory/$CG/den/web-*/memory.limit_in_bytes)" = $((1 << 30)) ]' "the memory limit is set in the delegated cgroup"

urun 'den halt'
expect_rc 0 "den halt as the user"
expect_true '! pgrep -u "$U" -f "container run" >/dev/null && ! pgrep -u "$SUB" >/dev/null' "nothing of the machine runs"
urun 'den up && den destroy -f'
expect_rc 0 "up again, then destroy"
expect_true '[ -z "$(ls "$HOME_U"/.local/share/den/projects/*/machines 2>/dev/null)" ]' "destroy removed the machine's files, the subordinate ids' too"
expect_true '! grep -q "$HOME_U" /proc/self/mountinfo' "nothing is mounted on the host"

# A box with its own init (systemd as PID 1) as the user: its cgroup2
# subtree is the container root's inside, a reboot boots it again.
add_box debian-12-systemd
SBOX=$(ls "$T_DIR"/boxes/den-debian-12-systemd-*-container-*.box)
chmod 644 "$SBOX"
urun "den box add $SBOX && den up sd"
expect_rc 0 "a systemd box up as the user"
urun 'den ssh sd -c "systemctl is-system-running --wait; sudo -n systemctl start systemd-hostnamed && echo unit-started"'
expect_true 'printf "%s\n" "$OUT" | grep -qE "^(running|degraded)$"' "systemd runs (got: $(echo $OUT))"
expect_out "unit-started" "and starts units in its cgroup subtree"
urun 'den ssh sd -c "sudo touch /etc/kept; sudo systemctl reboot"'
back=
for _ in $(seq 120); do
	as_user 'den ssh sd -c "test -e /etc/kept"' >/dev/null 2>&1 && back=yes && break
	sleep 0.5
done
expect_true '[ "$back" = yes ]' "a reboot inside boots it again"
urun 'den destroy -f sd'
expect_rc 0 "destroy the systemd machine"
expect_true '! pgrep -u "$SUB" >/dev/null' "nothing of it runs"

# The qemu provider as the same user: QEMU and den's network are the user's.
add_box debian-12 qemu
QBOX=$(ls "$T_DIR"/boxes/den-debian-12-*-libvirt-*.box)
chmod 644 "$QBOX"
urun "den box add $QBOX && den up vm"
expect_rc 0 "a qemu machine up as the user"
expect_true 'pgrep -u "$U" -f qemu-system >/dev/null && ! pgrep -u 0 -f "qemu-system.*$HOME_U" >/dev/null' "QEMU runs as the user"
urun 'den ssh vm -c "id -un; cat /work/hello.txt; echo from the vm > /work/vm.txt; sudo -n id -u"'
expect_true '[ "$(printf "%s\n" "$OUT" | tr "\n" " ")" = "den from the host 0 " ]' "ssh, the synced folder and sudo in the VM (got: $(echo $OUT))"
expect_true '[ "$(cat "$HOME_U/p/src/vm.txt")" = "from the vm" ] && [ "$(stat -c %U "$HOME_U/p/src/vm.txt")" = "$U" ]' "the VM's writes are the user's on the host"
urun 'den destroy -f vm'
expect_rc 0 "destroy the VM"
for _ in $(seq 50); do pgrep -u "$U" -f qemu-system >/dev/null || break; sleep 0.1; done
expect_true '! pgrep -u "$U" -f qemu-system >/dev/null' "no QEMU is left"

t_done
