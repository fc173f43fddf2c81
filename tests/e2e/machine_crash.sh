#!/bin/bash
# den killed with SIGKILL at several points of up and destroy
# ($DEN_CRASH_AT): the next status, up and destroy repair the state, and
# nothing is left: no process, mount or cgroup.
. "$(dirname "$0")/lib/assert.sh"

. "$(dirname "$0")/lib/machines.sh"
require_root "the container provider"
add_debian_box
P="$T_DIR/project"
mkdir -p "$P"
H="crash$$"
printf 'den: 1\nmachines:\n  %s: { box: den/debian-12, provider: container, memory: 256M }\n' "$H" > "$P/Envfile"
cd "$P"
SD=$(state_dir)
trap '"$DEN" -C "$P" destroy >/dev/null 2>&1; rm -rf "$T_DIR"' EXIT
own=$(sed -n 's/^[0-9]*:memory:\(.*\)/\1/p' /proc/self/cgroup)

nothing_left() {
	expect_true '! pgrep -f "container run.*($P|$SD)" >/dev/null' "$1: no supervisor is left"
	expect_true '! grep -qE "$P|$SD" /proc/self/mountinfo' "$1: no mount is left"
	expect_true '[ -z "$(find "/sys/fs/cgroup/memory$own/den" -maxdepth 1 -name "$H-*" 2>/dev/null)" ]' "$1: no cgroup is left"
	expect_true '[ ! -e "$SD/machines/$H" ]' "$1: nothing is left of its state"
}

for point in up:before-supervisor up:after-supervisor; do
	DEN_CRASH_AT=$point run up
	expect_rc 137 "den killed at $point"
	run status
	expect_rc 0 "status after a kill at $point"
	run up
	expect_rc 0 "up after a kill at $point"
	run ssh -c true
	expect_rc 0 "the machine answers after a kill at $point"
	# One container: its supervisor, the namespace parent and den-init share a command line.
	expect_true '[ "$(pgrep -fc "container run.*$P")" -eq 3 ]' "one container after a kill at $point"
	run destroy
	expect_rc 0 "destroy after a kill at $point"
	nothing_left "$point"
done

# Killed at the same points, then destroyed straight away.
for point in up:before-supervisor up:after-supervisor; do
	DEN_CRASH_AT=$point run up
	run destroy
	expect_rc 0 "destroy right after a kill at $point"
	nothing_left "destroy after $point"
done

# Killed in the middle of destroy.
run up
DEN_CRASH_AT=destroy:after-halt run destroy
expect_rc 137 "den killed in the middle of destroy"
run status
expect_rc 0 "status after a kill mid-destroy"
run destroy
expect_rc 0 "destroy again"
nothing_left "mid-destroy"

# A machine whose sshd never answers: boot_timeout ends up, with the console's last lines.
printf '#!/bin/sh\necho "fake sshd: not today"\nexec sleep 600\n' > "$T_DIR/fake-sshd"
chmod 755 "$T_DIR/fake-sshd"
cat > Envfile <<EOF2
den: 1
machines:
  $H:
    box: den/debian-12
    provider: container
    boot_timeout: 2
    synced_folders:
      - { host: $T_DIR/fake-sshd, guest: /usr/sbin/sshd, mount_options: [ro] }
EOF2
run up
expect_rc 1 "up of a machine that never answers on SSH"
expect_err "did not answer on SSH within 2 s" "the error names boot_timeout"
expect_err "fake sshd: not today" "and ends with what the console said"
run destroy
nothing_left "a boot that timed out"

t_done
