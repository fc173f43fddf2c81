/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_KVM_VM_BOOT_H
#define DEN_PROVIDERS_KVM_VM_BOOT_H

/*
 * What den's VMM boots a VM box with: it loads a kernel directly, with no
 * BIOS or boot loader, so a Vagrant libvirt box (box.img, qcow2) gives
 * up its disk as a raw image (the base of its machines' copy-on-write
 * disks, providers/kvm/cow_disk.h) and its kernel, initrd and root file
 * system's UUID, read from the image's ext2/3/4 file system with
 * libext2fs after libblkid found the partitions. Made once per box, in
 * BOX_DIR/kvm/, and kept in the store (docs/vmm.md, "Boxes").
 */

#include "core/err.h"

struct vm_boot {
	char *image;   /* BOX_DIR/kvm/disk.raw */
	char *kernel;  /* BOX_DIR/kvm/vmlinuz */
	char *initrd;  /* BOX_DIR/kvm/initrd.img, or NULL when the box has none */
	char *cmdline; /* "root=UUID=... ro console=ttyS0,115200 net.ifnames=0" */
};

/* The box at box_dir's boot files, made when missing (one den at a time). */
int vm_boot_prepare(const char *box_dir, struct vm_boot *out, struct den_err *err);

/*
 * From a raw disk image: the kernel and initrd into dir (vmlinuz,
 * initrd.img) and the command line into dir/cmdline. The image is a box's:
 * untrusted, so sizes are capped and links are followed only inside its
 * file system.
 */
int vm_boot_extract(const char *image, const char *dir, struct den_err *err);

void vm_boot_free(struct vm_boot *b);

#endif
