/* SPDX-License-Identifier: MIT */
/* A VM box's raw image, kernel, initrd and command line for den's VMM (vm_boot.h). */
#include "providers/kvm/vm_boot.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/lazylib.h"
#include "core/spawn.h"

#include <blkid/blkid.h>
#include <errno.h>
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_BOOT_FILE (512u << 20) /* a kernel or an initrd larger than this is not one */
#define MAX_BOOT_ENTRIES 10000	   /* names looked at in /boot */
#define MAX_PARTITIONS 16
#define CMDLINE_REST "ro console=ttyS0,115200 net.ifnames=0"

io_manager den_ext2fs_unix_io(void); /* boxes/lazy_ext2fs.c */

struct part {
	unsigned long long start, size; /* bytes */
};

/* The image's partitions (bytes), or the whole image when it has no table. */
static int partitions(const char *image, struct part *out, int *n, struct den_err *err)
{
	cleanup_close int fd = open(image, O_RDONLY | O_CLOEXEC);
	struct stat st;
	blkid_probe pr;

	*n = 0;
	if (fd < 0 || fstat(fd, &st) < 0)
		return den_err_set(err, errno, "cannot read %s", image);
	if ((pr = blkid_new_probe()) == NULL)
		return den_err_set(err, ENOMEM, "cannot read %s", image);
	if (blkid_probe_set_device(pr, fd, 0, 0) == 0 &&
	    blkid_probe_enable_superblocks(pr, 0) == 0 &&
	    blkid_probe_enable_partitions(pr, 1) == 0 && blkid_do_fullprobe(pr) == 0) {
		blkid_partlist ls = blkid_probe_get_partitions(pr);
		int count = ls != NULL ? blkid_partlist_numof_partitions(ls) : 0;
		for (int i = 0; i < count && *n < MAX_PARTITIONS; i++) {
			blkid_partition p = blkid_partlist_get_partition(ls, i);
			long long start = p ? blkid_partition_get_start(p) : -1;
			long long size = p ? blkid_partition_get_size(p) : -1;
			/* In sectors; a partition past the image's end is not one to read. */
			if (start > 0 && size > 0 && (start + size) * 512 <= st.st_size)
				out[(*n)++] = (struct part){ (unsigned long long)start * 512,
							     (unsigned long long)size * 512 };
		}
	}
	blkid_free_probe(pr);
	if (*n == 0)
		out[(*n)++] = (struct part){ 0, (unsigned long long)st.st_size };
	return 0;
}

struct newest {
	char name[256]; /* the newest "vmlinuz-VERSION" seen */
	unsigned seen;
};

static int boot_entry(ext2_ino_t dir, int entry, struct ext2_dir_entry *d, int offset,
		      int blocksize, char *buf, void *arg)
{
	struct newest *nw = arg;
	char name[256];
	size_t len = d->name_len & 0xff;

	(void)dir, (void)entry, (void)offset, (void)blocksize, (void)buf;
	if (++nw->seen > MAX_BOOT_ENTRIES)
		return DIRENT_ABORT;
	memcpy(name, d->name, len);
	name[len] = '\0';
	if (strncmp(name, "vmlinuz-", 8) == 0 && strchr(name, '/') == NULL &&
	    (nw->name[0] == '\0' || strverscmp(name, nw->name) > 0))
		snprintf(nw->name, sizeof(nw->name), "%s", name);
	return 0;
}

/* The inode of path in fs when it is a regular file (links followed inside fs), else 0. */
static ext2_ino_t regular(ext2_filsys fs, const char *path)
{
	ext2_ino_t ino = 0;
	struct ext2_inode in;

	if (ext2fs_namei_follow(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, &ino) != 0 ||
	    ext2fs_read_inode(fs, ino, &in) != 0 || !LINUX_S_ISREG(in.i_mode))
		return 0;
	return ino;
}

/* The kernel's and initrd's inodes: /vmlinuz and /initrd.img (Debian's links), else /boot's newest. */
static void find_kernel(ext2_filsys fs, ext2_ino_t *kernel, ext2_ino_t *initrd)
{
	ext2_ino_t boot = 0;
	struct newest nw = { "", 0 };
	char path[300];

	*kernel = regular(fs, "/vmlinuz");
	*initrd = *kernel ? regular(fs, "/initrd.img") : 0;
	if (*kernel != 0)
		return;
	if (ext2fs_namei_follow(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, "/boot", &boot) != 0 ||
	    ext2fs_dir_iterate2(fs, boot, 0, NULL, boot_entry, &nw) != 0 || nw.name[0] == '\0')
		return;
	snprintf(path, sizeof(path), "/boot/%s", nw.name);
	*kernel = regular(fs, path);
	snprintf(path, sizeof(path), "/boot/initrd.img-%s", nw.name + 8);
	*initrd = regular(fs, path);
}

/* Copies fs's file ino to path (at most MAX_BOOT_FILE bytes), through path.part. */
static int copy_out(ext2_filsys fs, ext2_ino_t ino, const char *path, struct den_err *err)
{
	cleanup_free char *part = NULL, *buf = malloc(1 << 16);
	ext2_file_t f = NULL;
	__u64 size = 0, done = 0;
	int rc = -1;

	if (buf == NULL || asprintf(&part, "%s.part", path) < 0)
		return den_err_set(err, ENOMEM, "cannot write %s", path);
	if (ext2fs_file_open(fs, ino, 0, &f) != 0 || ext2fs_file_get_lsize(f, &size) != 0)
		return den_err_set(err, 0, "cannot read the file for %s in the image", path);
	cleanup_close int fd = -1;
	if (size == 0 || size > MAX_BOOT_FILE) {
		den_err_set(err, 0, "%s in the image is %llu bytes: not a kernel or an initrd",
			    path, (unsigned long long)size);
		goto out;
	}
	fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		den_err_set(err, errno, "cannot write %s", part);
		goto out;
	}
	while (done < size) {
		unsigned got = 0;
		errcode_t e = ext2fs_file_read(f, buf, 1 << 16, &got);
		if (e != 0 || got == 0) {
			den_err_set(err, 0, "cannot read the image's file for %s: %s", path,
				    e ? error_message(e) : "it ends early");
			goto out;
		}
		if (write(fd, buf, got) != (ssize_t)got) {
			den_err_set(err, errno, "cannot write %s", part);
			goto out;
		}
		done += got;
	}
	if (fsync(fd) < 0 || rename(part, path) < 0) {
		den_err_set(err, errno, "cannot write %s", path);
		goto out;
	}
	rc = 0;
out:
	ext2fs_file_close(f);
	if (rc < 0)
		unlink(part);
	return rc;
}

/* The boot files of the file system at p, when it holds a kernel and /etc. 1: done, 0: not it. */
static int from_partition(const char *image, const struct part *p, const char *dir,
			  struct den_err *err)
{
	char opts[64], uuid[37], text[160];
	cleanup_free char *kernel = NULL, *initrd = NULL, *cmdline = NULL;
	ext2_filsys fs = NULL;
	ext2_ino_t k, i;
	int rc = 0;

	snprintf(opts, sizeof(opts), "offset=%llu", p->start);
	if (ext2fs_open2(image, opts, 0, 0, 0, den_ext2fs_unix_io(), &fs) != 0)
		return 0; /* not an ext2/3/4 file system */
	find_kernel(fs, &k, &i);
	ext2_ino_t etc = 0;
	if (k == 0 || ext2fs_namei_follow(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, "/etc", &etc) != 0)
		goto out; /* not the root file system, or no kernel in it */
	const unsigned char *u = fs->super->s_uuid;
	snprintf(uuid, sizeof(uuid),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
		 u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
		 u[15]);
	snprintf(text, sizeof(text), "root=UUID=%s " CMDLINE_REST "\n", uuid);
	if (asprintf(&kernel, "%s/vmlinuz", dir) < 0 ||
	    asprintf(&initrd, "%s/initrd.img", dir) < 0 ||
	    asprintf(&cmdline, "%s/cmdline", dir) < 0) {
		rc = den_err_set(err, ENOMEM, "cannot read %s", image);
		goto out;
	}
	if (copy_out(fs, k, kernel, err) < 0 || (i != 0 && copy_out(fs, i, initrd, err) < 0) ||
	    den_write_file_atomic(cmdline, text, 0644, err) < 0)
		rc = -1;
	else
		rc = 1;
out:
	ext2fs_close_free(&fs);
	return rc;
}

int vm_boot_extract(const char *image, const char *dir, struct den_err *err)
{
	struct part parts[MAX_PARTITIONS];
	int n;

	if (den_blkid_load(err) < 0 || den_ext2fs_load(err) < 0 ||
	    partitions(image, parts, &n, err) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		int r = from_partition(image, &parts[i], dir, err);
		if (r != 0)
			return r < 0 ? -1 : 0;
	}
	return den_err_set(err, 0,
			   "found no ext2/3/4 root file system with a kernel (/vmlinuz or "
			   "/boot/vmlinuz-*) in %s",
			   image);
}

/* The box's image format, from its metadata.json: qcow2 (Vagrant's libvirt boxes) or raw. */
static int box_format(const char *box_dir, char *fmt, size_t n, struct den_err *err)
{
	cleanup_free char *meta = NULL;
	json_t *j;

	if (asprintf(&meta, "%s/metadata.json", box_dir) < 0)
		return den_err_set(err, ENOMEM, "box %s", box_dir);
	j = json_load_file(meta, 0, NULL);
	const char *f = json_string_value(json_object_get(j, "format"));
	snprintf(fmt, n, "%s", f ? f : "qcow2");
	json_decref(j);
	if (strcmp(fmt, "qcow2") != 0 && strcmp(fmt, "raw") != 0)
		return den_err_set(err, 0, "box %s: its image format '%s' is not qcow2 or raw",
				   box_dir, fmt);
	return 0;
}

/* Makes BOX/kvm from box.img: through BOX/kvm.part, so a den killed meanwhile leaves nothing used. */
static int make(const char *box_dir, const char *kvm, struct den_err *err)
{
	cleanup_free char *part = NULL, *img = NULL, *raw = NULL;
	char fmt[16];

	if (asprintf(&part, "%s.part", kvm) < 0 || asprintf(&img, "%s/box.img", box_dir) < 0 ||
	    asprintf(&raw, "%s/disk.raw", part) < 0)
		return den_err_set(err, ENOMEM, "box %s", box_dir);
	if (!den_exists(img))
		return den_err_set(err, 0,
				   "box %s has no box.img: it is not a VM (libvirt) box; build one "
				   "with `den box build debian-12 --provider qemu`",
				   box_dir);
	if (box_format(box_dir, fmt, sizeof(fmt), err) < 0 || den_rm_rf(part, err) < 0 ||
	    den_mkdir_p(part, 0755, err) < 0)
		return -1;
	/* The format is said, never guessed: a raw image could pass for a qcow2 naming a host file. */
	const char *argv[] = {
		"qemu-img", "convert", "-q", "-f", fmt, "-O", "raw", img, raw, NULL
	};
	struct den_spawn sp = { .argv = argv,
				.in = DEN_SPAWN_NULL,
				.out = DEN_SPAWN_NULL,
				.name = "qemu-img convert",
				.install = "install qemu-utils (`make deps` does)" };
	if (den_spawn_run(&sp, err) < 0 || vm_boot_extract(raw, part, err) < 0)
		return den_err_wrap(err, "box %s", box_dir);
	if (rename(part, kvm) < 0)
		return den_err_set(err, errno, "cannot make %s", kvm);
	return 0;
}

int vm_boot_prepare(const char *box_dir, struct vm_boot *out, struct den_err *err)
{
	cleanup_free char *kvm = NULL, *lock = NULL, *cmdline = NULL, *text = NULL;
	cleanup_close int fd = -1;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (asprintf(&kvm, "%s/kvm", box_dir) < 0 || asprintf(&lock, "%s/kvm.lock", box_dir) < 0 ||
	    asprintf(&cmdline, "%s/cmdline", kvm) < 0)
		return den_err_set(err, ENOMEM, "box %s", box_dir);
	/* Two dens making the same box's files: the second waits, then finds them made. */
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		return den_err_set(err, errno, "cannot lock %s", lock);
	if (!den_exists(kvm) && make(box_dir, kvm, err) < 0)
		return -1;
	if (den_read_own_file(cmdline, 4096, &text, &len, err) < 0)
		return -1;
	text[strcspn(text, "\n")] = '\0';
	if (asprintf(&out->image, "%s/disk.raw", kvm) < 0 ||
	    asprintf(&out->kernel, "%s/vmlinuz", kvm) < 0 ||
	    asprintf(&out->initrd, "%s/initrd.img", kvm) < 0) {
		vm_boot_free(out);
		return den_err_set(err, ENOMEM, "box %s", box_dir);
	}
	if (!den_exists(out->initrd)) {
		free(out->initrd);
		out->initrd = NULL;
	}
	out->cmdline = steal_pointer(&text);
	return 0;
}

void vm_boot_free(struct vm_boot *b)
{
	free(b->image);
	free(b->kernel);
	free(b->initrd);
	free(b->cmdline);
	memset(b, 0, sizeof(*b));
}
