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
#include <time.h>

#include "core/err.h"
#include "core/usernet.h"

#define VMM_MAX_DISKS 4
#define VMM_MAX_FWDS 16
#define VMM_MAX_SHARES 4
#define VMM_MAX_PRIVATE 2 /* private networks' cards */
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
	/* Control socket (JSON lines: status, pause, resume, stop, powerbutton), or NULL. */
	const char *api;
	/* A virtio-net device on den's user-mode network, with ports forwarded from the host. */
	bool net;
	bool net_no_loopback; /* the gateway does not reach the host's 127.0.0.1 (usernet.h) */
	struct usernet_fwd fwds[VMM_MAX_FWDS];
	unsigned n_fwds;
	/*
	 * Host folders shared over virtio-9p (virtio.h, p9.h), after the network
	 * card; the guest mounts each by its tag. ro: every write refused.
	 */
	struct vmm_share {
		const char *path, *tag;
		bool ro;
	} shares[VMM_MAX_SHARES];
	unsigned n_shares;
	/*
	 * virtio-net cards on private networks (docs/networks.md), after
	 * virtio-rng: each on a switch port (SOCK_SEQPACKET, one packet a
	 * frame) with den's MAC for its address, and the network's MTU.
	 */
	struct vmm_private {
		int fd;
		uint8_t mac[6];
	} privates[VMM_MAX_PRIVATE];
	unsigned n_privates;
	/*
	 * In place of a kernel, for den's tests of exits and devices: a flat
	 * 16-bit program loaded at VMM_PROGRAM_ADDR and started in real mode
	 * there (CS:IP 0:VMM_PROGRAM_ADDR, SS:SP 0:VMM_PROGRAM_STACK), with DS
	 * and ES flat over 4 GiB so it reaches the devices' MMIO registers.
	 */
	const uint8_t *program;
	size_t program_len;
	/*
	 * A snapshot folder (docs/vmm.md, "Snapshots"): the VM goes on from it
	 * (kernel, initrd, cmdline and program unused). cpus, memory, disks and
	 * net must be those of the VM that was saved.
	 */
	const char *restore;
	/*
	 * Warm images (docs/vmm.md, "Warm images"): warm_save, a folder the VM is
	 * saved into (and then ends) when den's hook in the guest says on den's
	 * channel that it is ready; clone, with restore, makes the restored VM a
	 * new machine (a new boot_id) of a warm image; channel_in, den's record
	 * for the guest (a file): put in guest memory as den's ACPI table
	 * (acpi.h), and announced on den's channel (the guest's ttyS1).
	 */
	const char *warm_save;
	bool clone;
	const char *channel_in;
	/* Filled in when the VM ends, if not NULL. */
	struct vmm_stats *stats;
	/*
	 * When `den vmm run` began (CLOCK_MONOTONIC), or zero: the VMM then
	 * says on stderr, and in its status, how long den's own work took
	 * before the guest's first instruction.
	 */
	struct timespec started;
};

#define VMM_PROGRAM_ADDR 0x1000
#define VMM_PROGRAM_MAX 0x6000
#define VMM_PROGRAM_STACK 0x8000

/* What the vCPUs exited to den for: port I/O, MMIO, and queue notifies among the MMIO. */
struct vmm_stats {
	uint64_t io_exits, mmio_exits, notify_exits;
	bool hugetlb;	  /* guest RAM came from hugetlbfs pages */
	bool powered_off; /* the VM ended as a poweroff (S5, --api stop), not a reset */
};

/*
 * Refuses hosts whose /dev/kvm cannot boot a stock kernel (the PVM
 * backend), saying what to use instead; checks /dev/kvm is there.
 */
int vmm_probe(struct den_err *err);

/* Boots the kernel and runs until the guest resets or powers off (*status 0). */
int vmm_run(const struct vmm_spec *spec, int *status, struct den_err *err);

#endif
