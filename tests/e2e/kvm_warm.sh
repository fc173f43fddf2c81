#!/bin/bash
# Warm images end to end (docs/vmm.md, "Warm images"), in the KVM-in-TCG
# harness (real kvm_amd) with den/debian-12's VM box: the first `den up`
# of the box boots a template and saves it; that machine and the next are
# restored from it and made their own: each answers SSH under den's
# strict host-key check with its own host key, and has its own machine-id,
# boot_id, /dev/urandom output, TCP initial sequence numbers and host
# name, the host's time, its 9p folder and its provisioner run. A warm
# image whose record does not match, and one whose memory file was cut
# short, are made again, never run.
# L1 has one CPU, as kvm_machine.sh says why, and 8 GiB: at its last
# steps a restored machine runs while another template boots and its
# memory is saved, next to the first warm image in the page cache; with 4
# GiB, L1 stopped answering there (twice in a row, at that step).
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/machines.sh"
. "$(dirname "$0")/lib/l2.sh"
require_root "building the VM box (debootstrap, mkfs)"
add_box debian-12 qemu

P="$T_DIR/project"
mkdir -p "$P/share"
echo from-host > "$P/share/host.txt"
cat > "$P/Envfile" <<EOF2
den: 1
defaults:
  provider: kvm
  box: den/debian-12
  cpus: 1
  memory: 1G
  boot_timeout: 900
  synced_folders:
    - { host: ., guest: /vagrant, disabled: true }
    - { host: ./share, guest: /share }
  provision:
    - shell: echo "provisioned \$(hostname)" > /tmp/provisioned
machines:
  a: {}
  b: {}
  c: {}
EOF2

# TCP's initial sequence number of a connection from 127.0.0.1:40000 to
# sshd, read off a raw socket (perl is in every Debian), and the wall clock
# when it was made. Two guests whose kernels share net_secret (a clone's
# that was not reseeded) give numbers that differ by the time between them
# (ISN = hash(secret, ports) + ns / 64); their own secrets give unrelated ones.
cat > "$P/isn.pl" <<'EOF2'
use strict; use Socket;
socket(my $raw, PF_INET, SOCK_RAW, 6) or die "raw: $!";
my $t = `date +%s%N`; chomp $t;
socket(my $c, PF_INET, SOCK_STREAM, 6) or die "socket: $!";
setsockopt($c, SOL_SOCKET, SO_REUSEADDR, 1);
bind($c, sockaddr_in(40000, inet_aton("127.0.0.1"))) or die "bind: $!";
connect($c, sockaddr_in(22, inet_aton("127.0.0.1"))) or die "connect: $!";
while (sysread($raw, my $p, 65535)) {
	my $ihl = (ord(substr($p, 0, 1)) & 15) * 4;
	my ($sport, $dport, $seq) = unpack("nnN", substr($p, $ihl, 8));
	my $flags = ord(substr($p, $ihl + 13, 1));
	if ($sport == 22 && $dport == 40000 && ($flags & 0x12) == 0x12) { print "$seq $t\n"; last }
}
EOF2
cd "$P"

S=/scratch/project
cat > "$T_DIR/inside.sh" <<EOF2
cp -a "$DEN_HOME" /scratch/home && export DEN_HOME=/scratch/home
cp -a "$P" $S && cd $S
M=\$("$DEN" -q status --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["state_dir"])')/machines
W=\$(ls -d /scratch/home/boxes/den/debian-12/*/libvirt-*)/kvm/warm
up() {
	t0=\$(date +%s%N)
	"$DEN" up "\$1" > /scratch/up-\$1.log 2>&1; rc=\$?
	echo "warm up \$1: \$rc \$(( (\$(date +%s%N) - t0) / 1000000 )) ms"
	if [ \$rc != 0 ]; then
		tail -5 /scratch/up-\$1.log
		tail -5 "\$M/\$1/vmm.log" | sed 's/^/vmm.log: /'
		tail -25 "\$M/\$1/console.log" | sed 's/^/console: /'
	fi
}
on() { "$DEN" -q ssh "\$1" -c "\$2"; }
# The guest's clock read between two of the host's (L1's), right after its up:
# under TCG an L2 guest's clock drifts from L1's by seconds a minute.
clock() {
	t1=\$(date +%s.%N); g=\$(on \$1 'date +%s.%N'); t2=\$(date +%s.%N)
	[ -n "\$g" ] || { echo "warm \$1 clock: no answer"; return; }
	echo "warm \$1 clock: \$(python3 -c "t1, g, t2 = \$t1, \$g, \$t2; print('within' if t1 - 2 <= g <= t2 + 2 else 'off', round(g - t1, 2), round(t2 - t1, 2))")"
}
up a
clock a
echo "warm made: \$(grep -c 'making a warm image' /scratch/up-a.log) \$(ls "\$W" | grep -vc lock)"
grep -h 'warm image' /scratch/up-a.log | sed 's/^/log a: /'
up b
clock b
echo "warm b restored: \$(grep -c 'making a warm image' /scratch/up-b.log) made, \$(grep -c 'den-warm: done' "\$M/b/vmm.log") hook done, \$(grep -c 'den-warm: folders mounted' "\$M/b/vmm.log") folders"
echo "warm working set: a saved \$(grep -c "working set saved" "\$M/a/vmm.log"), b mapped \$(grep -c "pages of the warm image's working set mapped" "\$M/b/vmm.log"), file \$(ls "\$W"/c*/workingset | wc -l)"
for m in a b; do
	echo "warm \$m hostname: \$(on \$m hostname)"
	# Made once at boot (the template's, for b), not at each session; naming this machine.
	echo "warm \$m motd: \$(on \$m 'grep -c " \$(hostname) " /run/motd.dynamic; grep -c "motd.dynamic noupdate" /etc/pam.d/sshd' | tr '\n' ' ')"
	echo "warm \$m provisioned: \$(on \$m 'cat /tmp/provisioned')"
	echo "warm \$m 9p: \$(on \$m 'cat /share/host.txt')"
	on \$m "echo from-\$m > /share/\$m.txt"
	echo "warm \$m hostkey matches den's: \$(on \$m 'cat /etc/ssh/ssh_host_ed25519_key.pub' | cut -d' ' -f2 | grep -c "\$(cut -d' ' -f2 "\$M/\$m/host_ed25519_key.pub")")"
	on \$m 'cat /etc/machine-id' > /scratch/\$m.machine-id
	on \$m 'cat /proc/sys/kernel/random/boot_id' > /scratch/\$m.boot-id
	on \$m 'head -c 32 /dev/urandom | od -An -tx1 | tr -d " \n"' > /scratch/\$m.urandom
	on \$m 'cat /etc/ssh/ssh_host_ed25519_key.pub' > /scratch/\$m.hostkey
	"$DEN" -q upload isn.pl /tmp/isn.pl \$m >/dev/null 2>&1
	on \$m 'sudo perl /tmp/isn.pl' > /scratch/\$m.isn
	echo "warm \$m isn: \$(cat /scratch/\$m.isn)"
done
echo "warm 9p host: \$(cat $S/share/a.txt) \$(cat $S/share/b.txt)"
for f in machine-id boot-id urandom hostkey; do
	echo "warm differ \$f: \$(cmp -s /scratch/a.\$f /scratch/b.\$f && echo same || echo different) (\$(head -c 40 /scratch/a.\$f) / \$(head -c 40 /scratch/b.\$f))"
done
python3 - <<'PY'
a = open("/scratch/a.isn").read().split(); b = open("/scratch/b.isn").read().split()
# With one secret: isn_b - isn_a == (t_b - t_a) / 64 (mod 2^32), to within the time between
# the clock read and the SYN (well under 10 ms: 156250 ticks of 64 ns).
d = (int(b[0]) - int(a[0]) - (int(b[1]) - int(a[1])) // 64) % 2**32
d = min(d, 2**32 - d)
print("warm isn: %s" % ("shared" if d < 156250 else "own"), d)
PY
# The warm image's record changed (another den's): made again, not used.
sed -i 's/"key": "/"key": "0/' "\$W"/c*/warm.json
"$DEN" -q destroy -f a >/dev/null 2>&1
up a
echo "warm remade after a bad record: \$(grep -c 'making a warm image' /scratch/up-a.log) \$(grep -c 'is damaged' /scratch/up-a.log)"
# A memory file cut short: refused, made again; the machine still comes up from it.
truncate -s 100M "\$W"/c*/memory
up c
echo "warm remade after a cut memory file: \$(grep -c 'making a warm image' /scratch/up-c.log) \$(grep -c 'is damaged' /scratch/up-c.log)"
echo "warm c hook: \$(grep -c 'den-warm: done' "\$M/c/vmm.log")"
echo "warm c provisioned: \$(on c 'cat /tmp/provisioned')"
"$DEN" -q destroy -f; echo "warm destroy: \$?"
echo "warm left: \$(ls "\$M" 2>/dev/null | wc -l) machines, \$(pgrep -fc 'den vmm run' || true) VMMs"
EOF2
# L1 with room for two guests, an ext4 scratch disk, a CPU a full Debian guest runs on.
HARNESS_MEMORY=8192 HARNESS_SMP=1 HARNESS_SCRATCH=16G HARNESS_CPU=qemu64,+svm,+npt l2_harness "$T_DIR/inside.sh" 2400
printf '%s\n' "$OUT" | grep "^warm up\|^warm . clock" || true
expect_out "warm up a: 0" "the first up of the box"
if ! printf '%s\n' "$OUT" | grep -q "warm up a: 0"; then
	printf '%s\n' "$OUT" | tail -40
	t_done
fi
expect_out "warm made: 1 1" "made one warm image, kept in the store"
expect_out "warm up b: 0" "the second up"
expect_out "warm b restored: 0 made, 1 hook done, 1 folders" "restored from it, the hook personalised it and mounted its folder"
expect_out "warm a hostname: a" "each machine has its own host name"
expect_out "warm b hostname: b" "each machine has its own host name"
expect_out "warm working set: a saved 1, b mapped 1, file 1" "the first machine saved the image's working set, the next mapped it"
expect_out "warm a motd: 1 1 " "the login message names the machine, made at boot, not per session"
expect_out "warm b motd: 1 1 " "a machine from the warm image: its own name in the template's message"
expect_out "warm a provisioned: provisioned a" "provisioners run on a restored machine"
expect_out "warm b provisioned: provisioned b" "provisioners run on a restored machine"
expect_out "warm a 9p: from-host" "the restored machine mounts its 9p folder"
expect_out "warm b 9p: from-host" "the restored machine mounts its 9p folder"
expect_out "warm 9p host: from-a from-b" "and writes through it"
expect_out "warm a hostkey matches den's: 1" "its host key is den's (strict checking passed)"
expect_out "warm b hostkey matches den's: 1" "its host key is den's (strict checking passed)"
for f in machine-id boot-id urandom hostkey; do
	expect_out "warm differ $f: different" "two restored machines never share their $f"
done
expect_out "warm a clock: within" "a's clock is within 2 s of the host's"
expect_out "warm b clock: within" "b's clock is within 2 s of the host's"
expect_out "warm isn: own" "their TCP initial sequence numbers do not come from one secret"
expect_out "warm up a: 0" "up again after destroy"
expect_out "warm remade after a bad record: 1 1" "a warm image whose record does not match is made again"
expect_out "warm up c: 0" "up from a warm image whose memory was cut short"
expect_out "warm remade after a cut memory file: 1 1" "it was refused and made again, never run"
expect_out "warm c hook: 1" "the machine comes from the new warm image"
expect_out "warm c provisioned: provisioned c" "and is provisioned"
expect_out "warm destroy: 0" "den destroy"
expect_out "warm left: 0 machines, 0 VMMs" "destroy leaves nothing"
t_done
