#!/bin/bash
# A host folder shared over den's virtio-9p (--share), mounted by Debian's
# stock kernel in a busybox guest: reads, writes of more than msize, chown
# and chmod kept in QEMU's mapped-xattr format, symlinks, renames, device
# nodes and fifos as plain host files, a directory of 300 entries; the
# folder beside the share untouched. In the KVM-in-TCG harness (real
# kvm_amd under QEMU), on an ext4 loop mount in L1: L1's tmpfs (Linux 6.1)
# keeps no user xattrs, and den must refuse a writable share there.
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/machines.sh"
. "$(dirname "$0")/lib/l2.sh"
require_root "den's VMM"

KERNEL=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
MODS="virtio_ring virtio virtio_mmio netfs fscache 9pnet 9pnet_virtio 9p"
l2_initramfs "$T_DIR/l2" "$KERNEL" "$MODS"
mkdir -p "$T_DIR/l2/mnt" "$T_DIR/l2/tmp"
cat > "$T_DIR/l2/init" <<EOF2
#!/bin/busybox sh
B=/bin/busybox
\$B mount -t proc proc /proc
\$B mount -t sysfs sys /sys
\$B mount -t devtmpfs dev /dev
for m in $MODS; do \$B insmod /mods/\$m.ko 2>/dev/null; done
\$B mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 hostshare /mnt && echo "den-9p: mounted"
echo "den-9p: read \$(\$B cat /mnt/hello.txt)"
echo from-guest > /mnt/guest.txt && echo "den-9p: wrote \$(\$B cat /mnt/guest.txt)"
\$B chown 1234:5678 /mnt/guest.txt && \$B chmod 4755 /mnt/guest.txt
echo "den-9p: ls \$(\$B ls -ln /mnt/guest.txt | \$B cut -c1-10) \$(\$B stat -c '%u:%g' /mnt/guest.txt)"
\$B dd if=/dev/urandom of=/tmp/rand bs=64k count=64 2>/dev/null
\$B cp /tmp/rand /mnt/big
echo "den-9p: big \$(\$B md5sum < /tmp/rand | \$B cut -c1-8) \$(\$B md5sum < /mnt/big | \$B cut -c1-8)"
\$B mkdir /mnt/d && \$B ln -s /etc/passwd /mnt/d/link && \$B mv /mnt/d /mnt/e
echo "den-9p: readlink \$(\$B readlink /mnt/e/link)"
\$B mknod /mnt/fifo p && \$B mknod /mnt/null c 1 3
echo "den-9p: nodes \$(\$B ls -ln /mnt/fifo | \$B cut -c1) \$(\$B ls -ln /mnt/null | \$B cut -c1)"
echo "den-9p: out \$(\$B cat /mnt/out/secret 2>/dev/null || echo none)"
\$B mkdir /mnt/many && for i in \$(\$B seq 1 300); do : > /mnt/many/a-long-file-name-\$i; done
echo "den-9p: many \$(\$B ls /mnt/many | \$B wc -l)"
\$B rm -r /mnt/many && echo "den-9p: rm -r ok"
\$B sync
\$B umount /mnt && echo "den-9p: unmounted"
\$B poweroff -f
EOF2
chmod 755 "$T_DIR/l2/init"
l2_pack "$T_DIR/l2" "$T_DIR/l2.cpio.gz"
cat > "$T_DIR/inside.sh" <<EOF2
mkdir -p /tmp/den-noxattr
"$DEN" vmm run --kernel "$KERNEL" --share /tmp/den-noxattr,tag=t > /tmp/den-noxattr.out 2>&1
echo "vmm tmpfs share: \$? \$(cat /tmp/den-noxattr.out)"
for m in loop crc16 mbcache jbd2 ext4; do modprobe \$m 2>/dev/null; done
truncate -s 64M /tmp/ext.img && mkfs.ext4 -q -F /tmp/ext.img && mkdir -p /tmp/ext &&
	mount -o loop /tmp/ext.img /tmp/ext || echo "no ext4 in L1"
mkdir -p /tmp/ext/share /tmp/ext/sentinel
echo secret > /tmp/ext/sentinel/secret
echo hello-host > /tmp/ext/share/hello.txt
ln -s ../sentinel /tmp/ext/share/out
"$DEN" vmm run --kernel "$KERNEL" --initrd "$T_DIR/l2.cpio.gz" --memory 256M \
	--share /tmp/ext/share,tag=hostshare --cmdline "console=ttyS0 panic=1 quiet" --quiet-timeout 120
echo "vmm 9p exit: \$?"
echo "host: guest.txt \$(cat /tmp/ext/share/guest.txt) \$(stat -c '%a %u' /tmp/ext/share/guest.txt)"
python3 -c "import os; p = '/tmp/ext/share/guest.txt'; print('host: xattrs', sorted((k, os.getxattr(p, k).hex()) for k in os.listxattr(p)))"
echo "host: null \$(stat -c '%F %a' /tmp/ext/share/null)"
echo "host: link \$(readlink /tmp/ext/share/e/link)"
echo "host: big \$(ls /tmp/ext/share/big >/dev/null 2>&1 && echo kept)"
echo "host: sentinel \$(ls /tmp/ext/sentinel | tr '\n' ' ')\$(cat /tmp/ext/sentinel/secret)"
EOF2
l2_harness "$T_DIR/inside.sh" 300
expect_out "vmm tmpfs share: 2" "a writable share on a file system without user xattrs is refused"
expect_out "keeps no user extended attributes" "saying why"
expect_out "vmm 9p exit: 0" "the guest with a share powers off"
expect_out "den-9p: mounted" "the stock kernel mounts the share (9P2000.L, msize 256 KiB)"
expect_out "den-9p: read hello-host" "and reads a host file"
expect_out "den-9p: wrote from-guest" "and writes one"
expect_out "den-9p: ls -rwsr-xr-x 1234:5678" "the guest's chown and chmod hold, setuid included"
expect_out "host: guest.txt from-guest 755 0" "on the host: the VMM's user, 0755, no setuid"
expect_out "('user.virtfs.gid', '2e160000'), ('user.virtfs.mode', 'ed890000'), ('user.virtfs.uid', 'd2040000')" \
	"the guest's owner and mode in QEMU's xattrs"
expect_true 'printf "%s" "$OUT" | grep -q "den-9p: big \([0-9a-f]*\) \1"' "4 MiB written and read back whole"
expect_out "den-9p: readlink /etc/passwd" "a symlink, through a rename of its folder"
expect_out "host: link /etc/passwd" "a real symlink on the host"
expect_out "den-9p: nodes p c" "mknod of a fifo and a device"
expect_out "host: null regular empty file 600" "which are plain 0600 files on the host"
expect_out "den-9p: out none" "a host symlink out of the share leads nowhere in the guest"
expect_out "den-9p: many 300" "a directory of 300 entries is listed whole"
expect_out "den-9p: rm -r ok" "and removed"
expect_out "den-9p: unmounted" "the share unmounts"
expect_out "host: sentinel secret secret" "the folder beside the share is untouched"
t_done
