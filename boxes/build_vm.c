/* SPDX-License-Identifier: MIT */
/*
 * `den box build`'s qemu output: the recipe's Debian with a kernel,
 * systemd, networkd (DHCP) and den's seed and warm-image hooks
 * (boxes/vm-guest/), on an ext4 partition of a disk image that boots under
 * SeaBIOS with GRUB, converted to qcow2 and packed as a Vagrant libvirt
 * box (metadata.json, box.img, Vagrantfile). No loop device and no mount:
 * mkfs.ext4 -d fills the partition from the tree, den writes the MBR and
 * GRUB's core image.
 */
#include "boxes/build-internal.h"
#include "boxes/catalog.h"
#include "boxes/identity.h"
#include "boxes/pack.h"
#include "core/cleanup.h"
#include "core/embedded.h"
#include "core/fsutil.h"
#include "core/log.h"

#include <fcntl.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define DISK_GIB 8	/* the box's virtual size; disk_size grows a machine's */
#define PART_START 2048 /* sectors: the first MiB holds the MBR and GRUB's core */
#define GRUB_DIR "/usr/lib/grub/i386-pc"
#define MBR_CODE 440 /* boot.img's code, before the disk signature and partition table */

/*
 * What a VM needs beyond the recipe's packages. dbus: without it logind
 * does not run, and nothing answers the ACPI power button (den halt).
 */
static const char *const vm_packages[] = {
	"linux-image-amd64", "systemd-sysv", "udev", "dbus", "cloud-guest-utils", NULL
};

static int put_guest_file(const char *root, const char *name, const char *rel, mode_t mode,
			  struct den_err *err)
{
	for (size_t i = 0; den_vm_guest[i].name != NULL; i++)
		if (strcmp(den_vm_guest[i].name, name) == 0)
			return build_write_in(root, rel, (const char *)den_vm_guest[i].text, mode,
					      err);
	return den_err_set(err, 0, "den was built without boxes/vm-guest/%s", name);
}

static int new_uuid(char out[37], struct den_err *err)
{
	uint8_t b[16] = { 0 };

	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		return den_err_set(err, errno, "cannot make a file system UUID");
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
	return 0;
}

/* GRUB's modules into /boot/grub/i386-pc, as grub-install would copy them. */
static int copy_grub_modules(const char *root, const char *log, struct den_err *err)
{
	cleanup_free char *dest = NULL;
	glob_t g;

	if (asprintf(&dest, "%s/boot/grub/i386-pc", root) < 0)
		return den_err_set(err, ENOMEM, "cannot install GRUB");
	if (den_mkdir_p(dest, 0755, err) < 0)
		return -1;
	if (glob(GRUB_DIR "/*.mod", 0, NULL, &g) != 0)
		return den_err_set(err, 0,
				   "no GRUB modules in " GRUB_DIR ": install grub-pc-bin "
				   "(`make deps` does)");
	glob(GRUB_DIR "/*.lst", GLOB_APPEND, NULL, &g);
	size_t n = g.gl_pathc;
	char **argv = calloc(n + 4, sizeof(*argv));
	if (argv == NULL) {
		globfree(&g);
		return den_err_set(err, ENOMEM, "cannot install GRUB");
	}
	argv[0] = "cp";
	argv[1] = "-t";
	argv[2] = dest;
	for (size_t i = 0; i < n; i++)
		argv[3 + i] = g.gl_pathv[i];
	int rc = build_step(argv, log, "copying GRUB's modules", err);
	free(argv);
	globfree(&g);
	return rc;
}

/*
 * Debian's sshd PAM stack runs /etc/update-motd.d (env, run-parts, sh,
 * uname: four programs) at every session, `den ssh -c` and each
 * provisioner step included. den's boxes show the same message, made once
 * per boot by den's seed hook: pam_motd is told not to update it.
 */
static int motd_once_per_boot(const char *root, struct den_err *err)
{
	cleanup_free char *path = NULL, *text = NULL, *out = NULL;
	const char *line = "pam_motd.so  motd=/run/motd.dynamic\n";
	size_t len = 0;

	if (asprintf(&path, "%s/etc/pam.d/sshd", root) < 0)
		return den_err_set(err, ENOMEM, "cannot configure the box");
	if (!den_exists(path))
		return 0; /* no sshd: nothing to do */
	if (den_read_file(path, 1 << 20, &text, &len, err) < 0)
		return -1;
	char *at = strstr(text, line);
	if (at == NULL)
		return 0; /* not Debian's stack: left as it is */
	if (asprintf(&out, "%.*spam_motd.so  motd=/run/motd.dynamic noupdate\n%s", (int)(at - text),
		     text, at + strlen(line)) < 0)
		return den_err_set(err, ENOMEM, "cannot configure the box");
	return build_write_in(root, "etc/pam.d/sshd", out, 0644, err);
}

/* The guest's own settings: fstab, DNS, GRUB's menu, the seed hook, networkd, motd. */
static int configure_vm(const char *root, const char *uuid, const char *log, struct den_err *err)
{
	cleanup_free char *fstab = NULL, *grub = NULL, *resolv = NULL;

	if (asprintf(&fstab,
		     "# den: the box's root partition\nUUID=%s / ext4 errors=remount-ro 0 1\n",
		     uuid) < 0 ||
	    asprintf(&grub,
		     "# Written by `den box build`: boot the kernel the box has (/vmlinuz\n"
		     "# follows kernel upgrades), console on the serial port.\n"
		     "set timeout=0\ninsmod part_msdos\ninsmod ext2\n"
		     "search --no-floppy --fs-uuid --set=root %s\n"
		     "linux /vmlinuz root=UUID=%s ro console=ttyS0,115200 net.ifnames=0\n"
		     "initrd /initrd.img\nboot\n",
		     uuid, uuid) < 0 ||
	    asprintf(&resolv, "%s/etc/resolv.conf", root) < 0)
		return den_err_set(err, ENOMEM, "cannot configure the box");
	unlink(resolv);				     /* debootstrap leaves the host's */
	if (copy_grub_modules(root, log, err) < 0 || /* makes boot/grub/ too */
	    build_write_in(root, "etc/fstab", fstab, 0644, err) < 0 ||
	    build_write_in(root, "etc/resolv.conf", "nameserver 10.0.2.3\n", 0644, err) < 0 ||
	    build_write_in(root, "boot/grub/grub.cfg", grub, 0644, err) < 0 ||
	    put_guest_file(root, "den-seed", "usr/local/sbin/den-seed", 0755, err) < 0 ||
	    put_guest_file(root, "den-seed.service", "etc/systemd/system/den-seed.service", 0644,
			   err) < 0 ||
	    put_guest_file(root, "den-warm.service", "etc/systemd/system/den-warm.service", 0644,
			   err) < 0 ||
	    put_guest_file(root, "80-den.network", "etc/systemd/network/80-den.network", 0644,
			   err) < 0 ||
	    motd_once_per_boot(root, err) < 0)
		return -1;
	char *enable[] = { "chroot",
			   (char *)root,
			   "systemctl",
			   "enable",
			   "den-seed.service",
			   "den-warm.service",
			   "systemd-networkd.service",
			   NULL };
	return build_step(enable, log, "systemctl enable", err);
}

/* The MBR: GRUB's boot code and one bootable Linux partition from PART_START to the end. */
static int write_mbr(int fd, uint64_t disk_bytes, struct den_err *err)
{
	uint8_t mbr[512] = { 0 };
	uint32_t sectors = (uint32_t)(disk_bytes / 512 - PART_START), start = PART_START;
	cleanup_close int boot = open(GRUB_DIR "/boot.img", O_RDONLY | O_CLOEXEC);

	if (boot < 0 || read(boot, mbr, MBR_CODE) != MBR_CODE)
		return den_err_set(err, errno,
				   "cannot read " GRUB_DIR "/boot.img: install "
				   "grub-pc-bin (`make deps` does)");
	uint8_t *p = mbr + 446;
	p[0] = 0x80;			       /* bootable */
	p[1] = 0xfe, p[2] = 0xff, p[3] = 0xff; /* CHS: past 8 GiB, use LBA */
	p[4] = 0x83;			       /* Linux */
	p[5] = 0xfe, p[6] = 0xff, p[7] = 0xff;
	for (int i = 0; i < 4; i++) {
		p[8 + i] = (uint8_t)(start >> (8 * i));
		p[12 + i] = (uint8_t)(sectors >> (8 * i));
	}
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
	if (pwrite(fd, mbr, sizeof(mbr), 0) != sizeof(mbr))
		return den_err_set(err, errno, "cannot write the disk image");
	return 0;
}

/* GRUB's core image (disk, partition and ext4 support) right after the MBR. */
static int write_grub_core(const char *work, int fd, const char *log, struct den_err *err)
{
	cleanup_free char *core = NULL, *bytes = NULL;
	size_t len = 0;

	if (asprintf(&core, "%s/core.img", work) < 0)
		return den_err_set(err, ENOMEM, "cannot install GRUB");
	char *argv[] = { "grub-mkimage",	   "-O",       "i386-pc",    "-o",   core, "-p",
			 "(hd0,msdos1)/boot/grub", "biosdisk", "part_msdos", "ext2", NULL };
	if (build_step(argv, log, "grub-mkimage", err) < 0 ||
	    den_read_file(core, (PART_START - 1) * 512, &bytes, &len, err) < 0)
		return -1;
	if (pwrite(fd, bytes, len, 512) != (ssize_t)len)
		return den_err_set(err, errno, "cannot write the disk image");
	return 0;
}

/* root -> work/disk.raw (MBR, GRUB, ext4 made from the tree) -> box.img (qcow2). */
static int make_image(const char *root, const char *work, const char *uuid, const char *img,
		      const char *log, struct den_err *err)
{
	cleanup_free char *raw = NULL, *offset = NULL, *blocks = NULL;
	uint64_t size = (uint64_t)DISK_GIB << 30;
	cleanup_close int fd = -1;

	if (asprintf(&raw, "%s/disk.raw", work) < 0 ||
	    asprintf(&offset, "offset=%d", PART_START * 512) < 0 ||
	    asprintf(&blocks, "%lluk", (unsigned long long)(size / 1024 - PART_START / 2)) < 0)
		return den_err_set(err, ENOMEM, "cannot make the disk image");
	fd = open(raw, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		return den_err_set(err, errno, "cannot make %s", raw);
	if (write_mbr(fd, size, err) < 0)
		return -1;
	char *mkfs[] = { "mkfs.ext4", "-q",	  "-F", "-d",	(char *)root, "-U",   (char *)uuid,
			 "-L",	      "den-root", "-E", offset, raw,	      blocks, NULL };
	if (build_step(mkfs, log, "mkfs.ext4", err) < 0 || write_grub_core(work, fd, log, err) < 0)
		return -1;
	if (fsync(fd) < 0)
		return den_err_set(err, errno, "cannot write %s", raw);
	char *convert[] = { "qemu-img", "convert", "-O", "qcow2", raw, (char *)img, NULL };
	if (build_step(convert, log, "qemu-img convert", err) < 0)
		return -1;
	unlink(raw);
	return 0;
}

static const char vagrantfile[] =
	"# A Vagrant libvirt box made by `den box build` (den's qemu provider runs it too).\n"
	"Vagrant.configure(\"2\") do |config|\n"
	"  config.vm.provider :libvirt do |libvirt|\n"
	"    libvirt.driver = \"kvm\"\n"
	"  end\n"
	"end\n";

int make_vm_box(const struct recipe *r, const char *work, const char *out, struct den_err *err)
{
	cleanup_free char *root = NULL, *log = NULL, *img = NULL, *meta = NULL, *vf = NULL;
	char uuid[37];

	if (asprintf(&root, "%s/rootfs", work) < 0 || asprintf(&log, "%s/build.log", work) < 0 ||
	    asprintf(&img, "%s/box.img", work) < 0 ||
	    asprintf(&meta, "%s/metadata.json", work) < 0 ||
	    asprintf(&vf, "%s/Vagrantfile", work) < 0)
		return den_err_set(err, ENOMEM, "cannot build %s", r->name);
	if (new_uuid(uuid, err) < 0)
		return -1;
	den_info("[1/4] debootstrap %s with a kernel into a new root (a few minutes)", r->suite);
	if (build_debootstrap(r, vm_packages, root, log, err) < 0)
		return -1;
	den_info("[2/4] configuring: users, sudo, sshd, den's seed hook, networkd, GRUB");
	if (build_configure(r, root, log, err) < 0 || configure_vm(root, uuid, log, err) < 0)
		return -1;
	den_info("[3/4] making the %d GiB disk image (ext4, GRUB) and converting it to qcow2",
		 DISK_GIB);
	if (make_image(root, work, uuid, img, log, err) < 0)
		return -1;
	json_t *den = build_den_metadata(r, "system");
	json_object_set_new(den, "credentials", json_string("seed"));
	/* Its seed hook does den's warm-image handshake (docs/vmm.md, "Warm images"). */
	json_object_set_new(den, "warm", json_string(BOX_WARM_PROTOCOL));
	if (build_write_json(json_pack("{s:s, s:s, s:i, s:s, s:o}", "provider", "libvirt", "format",
				       "qcow2", "virtual_size", DISK_GIB, "architecture",
				       box_host_arch(), "den", den),
			     meta, err) < 0 ||
	    den_write_file_atomic(vf, vagrantfile, 0644, err) < 0)
		return -1;
	den_info("[4/4] writing the box file");
	const char *files[] = { meta, img, vf },
		   *names[] = { "metadata.json", "box.img", "Vagrantfile" };
	return pack_box(out, files, names, 3, PACK_ZSTD, err);
}
