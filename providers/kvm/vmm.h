/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_KVM_VMM_H
#define DEN_PROVIDERS_KVM_VMM_H

/*
 * den's virtual machine monitor on /dev/kvm (DESIGN.md §7), as `den vmm
 * run` uses it: a VM with guest RAM (and the 32-bit MMIO gap), the
 * in-kernel interrupt controllers and PIT, a bzImage booted through the
 * 64-bit boot protocol, one thread per vCPU, an 8250 console and an i8042
 * whose reset ends the VM.
 */

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

#define VMM_MAX_DISKS 4
/* The MP table's KiB and the IOAPIC's 4-bit id (it takes the id after the last vCPU). */
#define VMM_MAX_CPUS 15

struct vmm_spec {
	const char *kernel;  /* bzImage */
	const char *initrd;  /* or NULL */
	const char *cmdline; /* "console=ttyS0 ..." */
	unsigned cpus;
	uint64_t memory; /* bytes */
	int console_out; /* fd the serial console writes to */
	int console_in;	 /* fd read into the serial console, or -1 */
	/* Seconds with no console output before the VMM gives up; 0: never. */
	unsigned quiet_timeout;
	/* Raw images, as virtio-blk devices vda, vdb... */
	const char *disks[VMM_MAX_DISKS];
	bool disk_ro[VMM_MAX_DISKS];
	unsigned n_disks;
	/* Control socket (JSON lines: status, pause, resume, stop), or NULL. */
	const char *api;
};

/*
 * Refuses hosts whose /dev/kvm cannot boot a stock kernel (the PVM
 * backend), saying what to use instead; checks /dev/kvm is there.
 */
int vmm_probe(struct den_err *err);

/* Boots the kernel and runs until the guest resets or powers off (*status 0). */
int vmm_run(const struct vmm_spec *spec, int *status, struct den_err *err);

#endif
