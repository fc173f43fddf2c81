#!/bin/bash
# `den container run`: den's own container runtime on a busybox root.
# Namespaces, the overlay root, binds, /dev, /proc, /sys, den-init as PID 1,
# exit codes, and no process or mount left on the host afterwards.
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/machines.sh"

if [ "$(id -u)" -ne 0 ]; then
	t_skip "containers need root (namespaces, mounts)"
fi
ROOT="$T_DIR/rootfs"
STATE="$T_DIR/state"
mkdir -p "$ROOT/bin" "$ROOT/etc" "$STATE" "$T_DIR/share" "$T_DIR/ro"
cp "$(command -v busybox)" "$ROOT/bin/"
for c in sh cat ps hostname ls touch sleep grep wc echo; do ln -s busybox "$ROOT/bin/$c"; done
echo from-the-box > "$ROOT/etc/motd"
echo shared > "$T_DIR/share/f"
chmod 0777 "$T_DIR/share" # root inside is no host root: it writes where anyone may
echo readonly > "$T_DIR/ro/f"
before=$(find "$ROOT" -printf '%p %s %m\n' | sort)

crun() { run container run --rootfs "$ROOT" --state "$STATE" --hostname web \
	--bind "$T_DIR/share:/work" --bind "$T_DIR/ro:/ro:ro" -- /bin/sh -c "$1"; }

crun 'exit 7'
expect_rc 7 "the command's exit status is den's"
crun 'echo $$; hostname'
expect_true '[ "$(printf "%s\n" "$OUT" | sed -n 1p)" -gt 1 ] && [ "$(printf "%s\n" "$OUT" | sed -n 1p)" -lt 10 ]' "the main process has a small pid (den-init is 1)"
expect_out "web" "the host name is set"
crun 'ls /proc | grep "^[0-9]"'
expect_true '[ "$(printf "%s\n" "$OUT" | sort -n | tail -1)" -le 10 ]' "only the container's processes are visible (pids: $(echo $OUT))"
crun 'cat /proc/1/cmdline | grep -c den'
expect_out "1" "PID 1 is den-init"
crun 'cat /work/f && echo new > /work/g'
expect_out "shared" "a bound folder is visible"
expect_true '[ "$(cat "$T_DIR/share/g")" = new ]' "and writable both ways"
# A user namespace: root inside is an unprivileged host id (den's range, docs/container.md).
BASE=$(container_base)
expect_true '[ "$(stat -c %u:%g "$T_DIR/share/g")" = "$BASE:$BASE" ]' "root inside writes as host id $BASE, not root (got $(stat -c %u:%g "$T_DIR/share/g"))"
crun 'cat /proc/self/uid_map /proc/self/gid_map | tr -s " " | tr "\n" "|"'
expect_out " 0 $BASE 65536| 0 $BASE 65536|" "its maps: container ids 0-65535 are host ids $BASE-"
crun 'cp /bin/busybox /work/sh && chmod 4755 /work/sh && ls -ln /work/sh'
expect_true '[ -u "$T_DIR/share/sh" ] && [ "$(stat -c %u "$T_DIR/share/sh")" = $BASE ]' "a setuid program made inside is setuid to the unprivileged id only"
crun 'echo x > /work/f'
expect_true '[ "$(cat "$T_DIR/share/f")" = shared ]' "and root inside cannot change a host root's file"
crun 'echo x > /ro/f'
expect_true '[ "$RC" -ne 0 ] && [ "$(cat "$T_DIR/ro/f")" = readonly ]' "a read-only bind stays read-only"
crun 'echo changed > /etc/motd; echo made > /made'
expect_true '[ "$(cat "$STATE/upper/etc/motd")" = changed ] && [ -f "$STATE/upper/made" ]' "writes land in the upper layer"
expect_true '[ "$(find "$ROOT" -printf "%p %s %m\n" | sort)" = "$before" ]' "the box's rootfs is untouched"
crun 'cat /etc/motd'
expect_out "changed" "the upper layer is kept between runs"
crun 'ls /dev'
for d in null zero full random urandom tty console ptmx pts shm; do
	expect_out "$d" "/dev/$d exists"
done
crun 'echo hi > /dev/null && touch /sys/x'
expect_true '[ "$RC" -ne 0 ]' "/sys is read-only"
crun 'cat /proc/net/dev | grep ":" | cut -d: -f1 | tr -d " " | sort | tr "\n" " "'
expect_true '[ "$OUT" = "lo tap0 " ]' "an own network namespace: lo and tap0 only (got: $OUT)"
crun 'sleep 1000 & exit 3'
expect_rc 3 "den-init ends the orphans when the main process exits"
expect_true '! pgrep -f "sleep 1000" >/dev/null' "no sleep is left running"
expect_true '! grep -q "$STATE" /proc/self/mountinfo' "nothing is mounted on the host"

# owner=: the host folder's files appear owned by a user inside (idmapped mount).
printf 'root:x:0:0::/root:/bin/sh\nden:x:1000:1000::/home/den:/bin/sh\n' > "$ROOT/etc/passwd"
printf 'root:x:0:\nden:x:1000:\n' > "$ROOT/etc/group"
for c in su stat; do ln -sf busybox "$ROOT/bin/$c"; done
mkdir -p "$T_DIR/owned" && echo mine > "$T_DIR/owned/f" && chown -R 4321:4321 "$T_DIR/owned"
run container run --rootfs "$ROOT" --state "$STATE" --bind "$T_DIR/owned:/work:rw,owner=den" -- \
	/bin/sh -c 'stat -c "%u:%g" /work/f; su den -c "echo new > /work/g" && echo den-wrote'
expect_rc 0 "a bind with owner=den"
expect_out "1000:1000" "the host folder's files appear owned by den"
expect_out "den-wrote" "den can write there without sudo"
expect_true '[ "$(stat -c %u:%g "$T_DIR/owned/g")" = 4321:4321 ]' "and the file belongs to the folder's owner on the host"
run container run --rootfs "$ROOT" --state "$STATE" --bind "$T_DIR/owned:/work:rw,owner=den" -- \
	/bin/sh -c 'touch /work/byroot; su den -c "cp /bin/busybox /work/densh && chmod 4755 /work/densh"; stat -c "%u:%g" /work/byroot'
expect_out "0:0" "root inside still writes as root inside"
expect_true '[ "$(stat -c %u "$T_DIR/owned/byroot")" = $BASE ] && [ "$(stat -c %u "$T_DIR/owned/densh")" = 4321 ]' "and as the shifted id outside; den's files are the owner's"
# A folder of host root's is never mapped to a user inside: it could make setuid-root programs.
mkdir -p "$T_DIR/rootowned" && echo root > "$T_DIR/rootowned/f"
run container run --rootfs "$ROOT" --state "$STATE" --bind "$T_DIR/rootowned:/work:rw,owner=den" -- \
	/bin/sh -c 'stat -c "%u:%g" /work/f; su den -c "echo new > /work/g" || echo refused'
expect_out "65534:65534" "a root-owned folder shows as nobody's"
expect_out "refused" "and den cannot write there"
expect_true '[ ! -e "$T_DIR/rootowned/g" ]' "nothing was written on the host"

# cpus and memory through cgroups, visible inside, gone afterwards.
ln -s busybox "$ROOT/bin/nproc"
before=$(find "$ROOT" -printf '%p %s %m\n' | sort)
run container run --rootfs "$ROOT" --state "$STATE" --hostname "limits-$$" --cpus 1 --memory 256M -- /bin/sh -c \
	'nproc; cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'
expect_rc 0 "a container with limits"
expect_true '[ "$(printf "%s\n" "$OUT" | sed -n 1p)" = 1 ]' "nproc inside is the cpus limit"
expect_true '[ "$(printf "%s\n" "$OUT" | sed -n 2p)" = 268435456 ]' "the memory limit is visible inside"
own=$(sed -n 's/^[0-9]*:memory:\(.*\)/\1/p' /proc/self/cgroup)
expect_true '[ -z "$(find "/sys/fs/cgroup/memory$own/den" -mindepth 1 -maxdepth 1 -type d -name "limits-$$-*" 2>/dev/null)" ]' "no cgroup is left behind"

# Escapes: no mounts, no kernel modules, no sysrq, no sysctl writes.
for c in mount mkdir insmod; do ln -sf busybox "$ROOT/bin/$c"; done
crun 'mkdir -p /mnt && mount -t tmpfs x /mnt'
expect_true '[ "$RC" -ne 0 ]' "mount inside fails"
crun 'mount /dev/vda /mnt 2>&1 || mount -t ext4 /dev/null /mnt'
expect_true '[ "$RC" -ne 0 ]' "mounting a host disk fails"
crun 'echo b > /proc/sysrq-trigger'
expect_true '[ "$RC" -ne 0 ]' "writing /proc/sysrq-trigger fails"
crun 'echo 1 > /proc/sys/kernel/panic'
expect_true '[ "$RC" -ne 0 ]' "writing /proc/sys fails"
crun 'insmod /bin/busybox'
expect_true '[ "$RC" -ne 0 ]' "loading a kernel module fails"
expect_err "not permitted" "with EPERM"
ln -sf busybox "$ROOT/bin/mknod"
crun 'mknod /disk b 254 0'
expect_true '[ "$RC" -ne 0 ]' "making a block device fails"
crun 'mknod /tty c 4 1'
expect_true '[ "$RC" -ne 0 ]' "making a character device fails"
crun 'mknod /fifo p && echo fifo-ok'
expect_out "fifo-ok" "a FIFO is still fine"
crun 'cat /proc/1/environ | tr "\0" "\n" | grep -c DEN_'
expect_true '[ "$OUT" = 0 ] || [ -z "$OUT" ]' "den-init shows none of den's environment"
crun 'grep CapBnd /proc/self/status'
expect_out "00000000a00405fb" "the bounding set is the documented default (no CAP_MKNOD, no CAP_NET_RAW on den's network)"

# The network: tap0 in an own namespace, den's user-mode network outside.
for c in httpd wget ifconfig route; do ln -sf busybox "$ROOT/bin/$c"; done
mkdir -p "$T_DIR/www" "$ROOT/www"
echo "from the host" > "$T_DIR/www/index.html"
echo "from the container" > "$ROOT/www/index.html"
python3 "$SRC/tests/helpers/boxserver.py" "$T_DIR/www" > "$T_DIR/port" &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null; rm -rf "$T_DIR"' EXIT
for _ in $(seq 50); do [ -s "$T_DIR/port" ] && break; sleep 0.1; done
HPORT=$(cat "$T_DIR/port")
crun "wget -qO- http://10.0.2.2:$HPORT/index.html"
expect_rc 1 "by default the gateway does not lead to the host's loopback"
expect_no_out "from the host" "nothing from a server on the host's 127.0.0.1"
crun_loop() { run container run --rootfs "$ROOT" --state "$STATE" --host-loopback -- /bin/sh -c "$1"; }
crun_loop "ifconfig tap0; route -n; cat /etc/resolv.conf; wget -qO- http://10.0.2.2:$HPORT/index.html"
expect_rc 0 "a container on den's network, --host-loopback"
expect_out "inet addr:10.0.2.15" "the guest is 10.0.2.15"
expect_true 'printf "%s\n" "$OUT" | grep -qE "^0\.0\.0\.0 +10\.0\.2\.2 "' "the default route is 10.0.2.2"
expect_out "nameserver 10.0.2.3" "DNS is 10.0.2.3"
expect_out "from the host" "with --host-loopback 10.0.2.2 reaches the host's loopback"
FPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$DEN" container run --rootfs "$ROOT" --state "$STATE" --forward "tcp:127.0.0.1:$FPORT:80" -- \
	/bin/sh -c 'httpd -f -p 80 -h /www & sleep 4; kill %1' > "$T_DIR/fwd.out" 2>&1 &
FWD=$!
got=
for _ in $(seq 40); do got=$(curl -s --max-time 1 "http://127.0.0.1:$FPORT/index.html") && [ -n "$got" ] && break; sleep 0.1; done
RC=0 OUT="$got" ERR=$(cat "$T_DIR/fwd.out")
expect_out "from the container" "a forwarded port on 127.0.0.1 reaches the container"
wait $FWD || true
run container run --rootfs "$ROOT" --state "$STATE" --forward "tcp:127.0.0.1:$HPORT:80" -- /bin/true
expect_rc 1 "forwarding a host port that is taken"
expect_err "the host port is in use" "says so, before starting anything"
run container run --rootfs "$ROOT" --state "$STATE" --network host -- /bin/sh -c 'cat /proc/net/dev | grep -c ":"'
expect_true '[ "$OUT" -gt 1 ]' "--network host shares the host's interfaces"

# den killed: the whole container goes with it.
"$DEN" container run --rootfs "$ROOT" --state "$STATE" -- /bin/sleep 1001 &
DENPID=$!
for _ in $(seq 50); do pgrep -f "^/bin/sleep 1001" >/dev/null && break; sleep 0.1; done
kill -9 $DENPID
wait $DENPID 2>/dev/null || true
for _ in $(seq 50); do pgrep -f "sleep 1001" >/dev/null || break; sleep 0.1; done
RC=0 OUT= ERR=
expect_true '! pgrep -f "sleep 1001" >/dev/null' "den killed with -9 leaves no container process"

run container run --rootfs "$T_DIR/nope" --state "$STATE" -- /bin/true
expect_rc 1 "a missing rootfs"
expect_err "$T_DIR/nope" "says what failed"
run container run --rootfs relative --state "$STATE" -- /bin/true
expect_rc 2 "relative paths"
run container run --rootfs "$ROOT" --state "$STATE" -- /bin/nothing-here
expect_rc 127 "a command that does not exist"
expect_err "cannot run /bin/nothing-here" "says so"

# A real Debian userland: the box den builds, with sudo working for den.
export DEN_HOME="$T_DIR/home"
export DEN_BUILD_CACHE=${DEN_BUILD_CACHE:-/var/cache/den-test}
"$DEN" -q box build debian-12 --provider container --output "$T_DIR/boxes" --add >/dev/null
DEB="$DEN_HOME/boxes/den/debian-12/1.0.0/container-amd64/rootfs"
run container run --rootfs "$DEB" --state "$T_DIR/deb" --hostname deb -- /bin/sh -c \
	'. /etc/os-release; echo $VERSION_CODENAME; su den -c "sudo -n id -u"; /usr/sbin/sshd -t -f /etc/ssh/sshd_config 2>&1 | head -1; python3 -c "print(6*7)"'
expect_rc 0 "debian-12 runs in a container"
expect_out "bookworm" "it is bookworm"
expect_true 'printf "%s\n" "$OUT" | grep -qx 0' "sudo works for the den user (no_new_privs is off)"
expect_out "42" "python3 runs"
run container run --rootfs "$DEB" --state "$T_DIR/deb" --no-new-privs -- /bin/su den -c "sudo -n id -u"
expect_true '[ "$RC" -ne 0 ]' "with --no-new-privs, sudo cannot gain root"

t_done
