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
#include "core/usernet.h"

#define VMM_MAX_DISKS 4
#define VMM_MAX_FWDS 16
/* vCPUs of one VM; KVM may allow fewer (KVM_CAP_MAX_VCPUS), which den then says. */
#define VMM_MAX_CPUS 64

/* A disk: a raw image, or a copy-on-write overlay over one (cow_disk.h). */
struct vmm_disk {
	const char *path; /* the image, or the overlay when base is set */
	const char *base; /* the raw image under the overlay, never written; NULL: none */
	uint64_t size;	  /* with base: the disk's size in bytes (0: the overlay's) */
	bool ro;	  /* the guest cannot write */
};

struct vmm_spec {
	const char *kernel;  /* bzImage */
	const char *initrd;  /* or NULL */
	const char *cmdline; /* "console=ttyS0 ..." */
	unsigned cpus;
	uint64_t memory;     /* bytes */
	int console_out;     /* fd the serial console writes to */
	int console_in;	     /* fd read into the serial console, or -1 */
	bool console_escape; /* console_in is a terminal: Ctrl-A x stops the VM */
	/* Seconds with no console output before the VMM gives up; 0: never. */
	unsigned quiet_timeout;
	/* virtio-blk devices vda, vdb... */
	struct vmm_disk disks[VMM_MAX_DISKS];
	unsigned n_disks;
	/* Control socket (JSON lines: status, pause, resume, stop), or NULL. */
	const char *api;
	/* A virtio-net device on den's user-mode network, with ports forwarded from the host. */
	bool net;
	bool net_no_loopback; /* the gateway does not reach the host's 127.0.0.1 (usernet.h) */
	struct usernet_fwd fwds[VMM_MAX_FWDS];
	unsigned n_fwds;
	/*
	 * In place of a kernel, for den's tests of exits and devices: a flat
	 * 16-bit program loaded at VMM_PROGRAM_ADDR and started in real mode
	 * there (CS:IP 0:VMM_PROGRAM_ADDR, SS:SP 0:VMM_PROGRAM_STACK), with DS
	 * and ES flat over 4 GiB so it reaches the devices' MMIO registers.
	 */
	const uint8_t *program;
	size_t program_len;
	/* Filled in when the VM ends, if not NULL. */
	struct vmm_stats *stats;
};

#define VMM_PROGRAM_ADDR 0x1000
#define VMM_PROGRAM_MAX 0x6000
#define VMM_PROGRAM_STACK 0x8000

/* What the vCPUs exited to den for: port I/O, MMIO, and queue notifies among the MMIO. */
struct vmm_stats {
	uint64_t io_exits, mmio_exits, notify_exits;
	bool hugetlb; /* guest RAM came from hugetlbfs pages */
};

/*
 * Refuses hosts whose /dev/kvm cannot boot a stock kernel (the PVM
 * backend), saying what to use instead; checks /dev/kvm is there.
 */
int vmm_probe(struct den_err *err);

/* Boots the kernel and runs until the guest resets or powers off (*status 0). */
int vmm_run(const struct vmm_spec *spec, int *status, struct den_err *err);

#endif
