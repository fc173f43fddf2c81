/* SPDX-License-Identifier: MIT */
#ifndef DEN_BOXES_VM_IMPORT_H
#define DEN_BOXES_VM_IMPORT_H

/*
 * Vagrant boxes made for VirtualBox (box.ovf + a vmdk or vdi), VMware
 * (a .vmx + vmdk) and Hyper-V (a .vhdx in "Virtual Hard Disks" + the
 * machine XML in "Virtual Machines"): converted once, when added, into den's VM box form,
 * a libvirt box (box.img, qcow2, by qemu-img), which the qemu and kvm
 * providers run. The CPU count and memory the machine description says
 * are kept in the metadata, for machines whose Envfile sets none.
 */

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

/* What a box's machine description says. */
struct vm_description {
	char *disk;	    /* the disk image, relative to the box's folder */
	const char *format; /* as qemu-img names it: vmdk, vdi, vpc, vhdx */
	unsigned cpus;	    /* 0: not said */
	uint64_t memory;    /* bytes; 0: not said */
};

/* Is provider (a box's metadata.json "provider") one den converts? */
bool vm_import_provider(const char *provider);

/* Reads the machine description of a box unpacked in dir (vm_describe.c). */
int vm_describe(const char *dir, const char *provider, struct vm_description *d,
		struct den_err *err);
void vm_description_free(struct vm_description *d);

/*
 * Converts the box unpacked in dir, in place, into a libvirt box: box.img
 * (qcow2), metadata.json rewritten (provider libvirt; den.imported_from,
 * den.cpus, den.memory), the original disk and description removed.
 */
int vm_import(const char *dir, const char *provider, struct den_err *err);

#endif
