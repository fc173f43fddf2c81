/* SPDX-License-Identifier: MIT */
/*
 * A VM box's kernel, initrd and root UUID for den's VMM (providers/kvm/vm_boot.c),
 * from real images: an ext4 file system made by mkfs.ext4 -d in an MBR
 * partition, as den's own boxes are, qcow2'd by qemu-img for the box; and
 * hostile ones (link loops, links out, a kernel too large, no kernel).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "providers/kvm/vm_boot.h"
#include "core/fsutil.h"
#include "tests/helpers/testutil.h"

#define UUID "0e5b7c1a-9f3d-4e2b-8a6c-1d2e3f405162"
#define PART_START 2048 /* sectors */

static char *dir;

static void setup(void)
{
	dir = make_temp_dir();
}

static void teardown(void)
{
	rm_rf(dir);
	free(dir);
}

TestSuite(vm_boot, .init = setup, .fini = teardown);

static void sh(const char *fmt, const char *a)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), fmt, a, a, a, a);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* dir/disk.raw: an MBR with one Linux partition holding an ext4 of dir/root. */
static void make_disk(void)
{
	sh("mkfs.ext4 -q -F -U " UUID " -d %s/root %s/fs.img 16M", dir);
	sh("truncate -s 18M %s/disk.raw && dd if=%s/fs.img of=%s/disk.raw bs=512 seek=2048 "
	   "conv=notrunc status=none",
	   dir);
	uint8_t mbr[512] = { 0 };
	uint8_t *p = mbr + 446;
	uint32_t start = PART_START, sectors = 16 * 2048;
	p[0] = 0x80, p[4] = 0x83;
	memcpy(p + 8, &start, 4);
	memcpy(p + 12, &sectors, 4);
	mbr[510] = 0x55, mbr[511] = 0xaa;
	char path[1024];
	snprintf(path, sizeof(path), "%s/disk.raw", dir);
	int fd = open(path, O_WRONLY);
	cr_assert_eq(pwrite(fd, mbr, 512, 0), 512);
	close(fd);
}

static void put(const char *rel, const char *text)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/root/%s", dir, rel);
	*strrchr(path, '/') = '\0';
	sh("mkdir -p %s", path);
	snprintf(path, sizeof(path), "%s/root/%s", dir, rel);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *rel)
{
	char path[1024], *text = NULL;
	size_t len;
	struct den_err err = { 0 };

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (den_read_file(path, 1 << 20, &text, &len, &err) < 0)
		return NULL;
	return text;
}

static int extract(struct den_err *err)
{
	char image[1024], out[1024];

	snprintf(image, sizeof(image), "%s/disk.raw", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	mkdir(out, 0755);
	return vm_boot_extract(image, out, err);
}

Test(vm_boot, debian_links_name_the_kernel_and_initrd)
{
	struct den_err err = { 0 };

	put("etc/os-release", "ID=debian\n");
	put("boot/vmlinuz-6.1.0-9-amd64", "kernel 9");
	put("boot/initrd.img-6.1.0-9-amd64", "initrd 9");
	put("boot/vmlinuz-6.1.0-10-amd64", "kernel 10");
	sh("ln -s boot/vmlinuz-6.1.0-9-amd64 %s/root/vmlinuz", dir);
	sh("ln -s boot/initrd.img-6.1.0-9-amd64 %s/root/initrd.img", dir);
	make_disk();
	cr_assert_eq(extract(&err), 0, "%s", err.msg);
	char *k = slurp("out/vmlinuz"), *i = slurp("out/initrd.img"), *c = slurp("out/cmdline");
	cr_expect_str_eq(k, "kernel 9", "the link's kernel, not the newest file");
	cr_expect_str_eq(i, "initrd 9");
	cr_expect_str_eq(c, "root=UUID=" UUID " ro console=ttyS0,115200 net.ifnames=0\n");
	free(k), free(i), free(c);
}

Test(vm_boot, without_links_the_newest_kernel_and_its_initrd)
{
	struct den_err err = { 0 };

	put("etc/hostname", "x\n");
	put("boot/vmlinuz-6.1.0-9-amd64", "kernel 9");
	put("boot/vmlinuz-6.1.0-10-amd64", "kernel 10");
	put("boot/initrd.img-6.1.0-10-amd64", "initrd 10");
	make_disk();
	cr_assert_eq(extract(&err), 0, "%s", err.msg);
	char *k = slurp("out/vmlinuz"), *i = slurp("out/initrd.img");
	cr_expect_str_eq(k, "kernel 10", "6.1.0-10 is newer than 6.1.0-9");
	cr_expect_str_eq(i, "initrd 10");
	free(k), free(i);
}

Test(vm_boot, links_stay_inside_the_image_and_loops_end)
{
	struct den_err err = { 0 };

	put("etc/hostname", "x\n");
	sh("ln -s /vmlinuz %s/root/vmlinuz", dir); /* a loop */
	sh("mkdir -p %s/root/boot && ln -s ../../../../../../etc/hostname %s/root/boot/vmlinuz-1",
	   dir);
	make_disk();
	cr_assert_eq(extract(&err), 0, "%s", err.msg);
	char *k = slurp("out/vmlinuz");
	cr_expect_str_eq(k, "x\n",
			 "`..` past the root stays at the image's root: its /etc/hostname");
	free(k);
}

Test(vm_boot, a_kernel_too_large_or_none_is_refused)
{
	struct den_err err = { 0 };

	put("etc/hostname", "x\n");
	put("boot/vmlinuz-1", "");
	sh("truncate -s 600M %s/root/boot/vmlinuz-1", dir);
	make_disk();
	cr_expect_neq(extract(&err), 0);
	cr_expect(strstr(err.msg, "not a kernel or an initrd") != NULL, "%s", err.msg);
	char path[1024];
	snprintf(path, sizeof(path), "%s/out/vmlinuz", dir);
	cr_expect(!den_exists(path), "nothing half-written is left");

	sh("rm -rf %s/root/boot", dir);
	make_disk();
	memset(&err, 0, sizeof(err));
	cr_expect_neq(extract(&err), 0);
	cr_expect(strstr(err.msg, "found no ext2/3/4 root file system with a kernel") != NULL, "%s",
		  err.msg);
}

Test(vm_boot, a_box_gets_its_raw_image_and_boot_files_once)
{
	struct den_err err = { 0 };
	struct vm_boot b;
	struct stat st1, st2;

	put("etc/hostname", "x\n");
	put("boot/vmlinuz-1", "kernel 1");
	make_disk();
	sh("mkdir -p %s/box && qemu-img convert -q -f raw -O qcow2 %s/disk.raw %s/box/box.img",
	   dir);
	sh("printf '{\"provider\": \"libvirt\", \"format\": \"qcow2\"}' > %s/box/metadata.json",
	   dir);
	char box[1024];
	snprintf(box, sizeof(box), "%s/box", dir);
	cr_assert_eq(vm_boot_prepare(box, &b, &err), 0, "%s", err.msg);
	cr_expect_str_eq(b.cmdline, "root=UUID=" UUID " ro console=ttyS0,115200 net.ifnames=0");
	cr_expect_null(b.initrd, "this box has none");
	sh("cmp %s/disk.raw %s/box/kvm/disk.raw", dir);
	cr_assert_eq(stat(b.image, &st1), 0);
	vm_boot_free(&b);
	cr_assert_eq(vm_boot_prepare(box, &b, &err), 0, "%s", err.msg);
	cr_assert_eq(stat(b.image, &st2), 0);
	cr_expect_eq(st1.st_mtim.tv_nsec, st2.st_mtim.tv_nsec, "made once, then reused");
	vm_boot_free(&b);

	/* A container box has no image: said, naming the box. */
	sh("mkdir -p %s/cbox && echo '{}' > %s/cbox/metadata.json", dir);
	snprintf(box, sizeof(box), "%s/cbox", dir);
	cr_expect_neq(vm_boot_prepare(box, &b, &err), 0);
	cr_expect(strstr(err.msg, "has no box.img: it is not a VM") != NULL, "%s", err.msg);
}
