/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_KVM_SNAPSHOT_FILE_H
#define DEN_PROVIDERS_KVM_SNAPSHOT_FILE_H

/*
 * A VM snapshot on disk (docs/vmm.md, "Snapshots"): a folder holding
 * `state` (a header, then sections of vCPU, VM and device state) and
 * `memory` (guest RAM, sparse where pages are zero). A snapshot is input
 * like any other file: the reader checks the header and that every
 * section lies inside the file before anything uses one, and hands a
 * section out only at the size its user expects.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define SNAP_MAGIC "DENSNAP\n"
#define SNAP_FORMAT 2 /* 2: den's channel (COM2), the warm image's boot_id */
#define SNAP_STATE_FILE "state"
#define SNAP_MEMORY_FILE "memory"
/* Far more than 64 vCPUs' state takes: a bigger file is not one den wrote. */
#define SNAP_MAX_STATE (64u << 20)

/* Optional pieces: set when the saving host's KVM gave them (docs/vmm.md). */
#define SNAP_HAS_XSAVE (1u << 0)   /* else the FPU through KVM_GET_FPU */
#define SNAP_HAS_XCRS (1u << 1)	   /* XCR0 */
#define SNAP_HAS_TSC_KHZ (1u << 2) /* the TSC's frequency */
#define SNAP_HAS_ALL (SNAP_HAS_XSAVE | SNAP_HAS_XCRS | SNAP_HAS_TSC_KHZ)

/* The header, little-endian as everything here (den runs on x86-64 only). */
struct snap_header {
	char magic[8];	      /* SNAP_MAGIC */
	uint32_t format;      /* SNAP_FORMAT */
	uint32_t header_size; /* sizeof(struct snap_header): the sections follow */
	char den_version[32]; /* the den that saved it, NUL-terminated: for messages */
	uint32_t cpus;	      /* vCPUs */
	uint32_t ndevs;	      /* virtio devices */
	uint64_t memory;      /* guest RAM in bytes: the memory file's size */
	uint32_t has;	      /* SNAP_HAS_* */
	uint32_t reserved;    /* 0 */
};

/* Section types: per vCPU (index: the vCPU), the VM's (index 0), per device. */
enum snap_type {
	SNAP_VCPU_CPUID = 1,	 /* kvm_cpuid_entry2[] */
	SNAP_VCPU_MP_STATE,	 /* struct kvm_mp_state */
	SNAP_VCPU_REGS,		 /* struct kvm_regs */
	SNAP_VCPU_SREGS,	 /* struct kvm_sregs */
	SNAP_VCPU_FPU,		 /* struct kvm_fpu (without SNAP_HAS_XSAVE) */
	SNAP_VCPU_XSAVE,	 /* struct kvm_xsave and what KVM_GET_XSAVE2 adds */
	SNAP_VCPU_XCRS,		 /* struct kvm_xcrs */
	SNAP_VCPU_DEBUGREGS,	 /* struct kvm_debugregs */
	SNAP_VCPU_LAPIC,	 /* struct kvm_lapic_state */
	SNAP_VCPU_MSRS,		 /* kvm_msr_entry[] */
	SNAP_VCPU_EVENTS,	 /* struct kvm_vcpu_events */
	SNAP_VCPU_TSC_KHZ,	 /* uint32_t */
	SNAP_VM_PIC_MASTER = 32, /* struct kvm_irqchip */
	SNAP_VM_PIC_SLAVE,	 /* struct kvm_irqchip */
	SNAP_VM_IOAPIC,		 /* struct kvm_irqchip */
	SNAP_VM_PIT,		 /* struct kvm_pit_state2 */
	SNAP_VM_CLOCK,		 /* struct kvm_clock_data */
	SNAP_VM_UART,		 /* struct serial_state */
	SNAP_VM_GED,		 /* uint32_t: ACPI_GED_* events the guest has not read */
	SNAP_VM_CHANNEL,	 /* struct serial_state: den's channel, COM2 */
	SNAP_VM_CLONE,		 /* uint64_t: where the kernel keeps boot_id (warm images only) */
	SNAP_DEV_TRANSPORT = 64, /* struct virtio_mmio_state (index: the device) */
};

/* A state file being put together in memory, then written at once. */
struct snap_writer {
	uint8_t *buf;
	size_t len, cap;
	bool failed; /* out of memory: snap_writer_write says so */
};

/* Starts with the header (magic, format and den's version are filled in here). */
void snap_writer_start(struct snap_writer *w, const struct snap_header *h);
/* Appends one section. */
void snap_put(struct snap_writer *w, enum snap_type type, uint32_t index, const void *data,
	      size_t len);
/* Writes it all to path (made anew, mode 0600) and syncs it. */
int snap_writer_write(struct snap_writer *w, const char *path, struct den_err *err);
void snap_writer_free(struct snap_writer *w);

/* A state file read back and checked. */
struct snap_file {
	char *path; /* for messages */
	uint8_t *buf;
	size_t len;
	struct snap_header h;
};

/*
 * Reads path and checks it: the magic, den's snapshot format, the header,
 * and every section's type, index and length against the file. Every
 * refusal says what is wrong with the file.
 */
int snap_file_read(const char *path, struct snap_file *f, struct den_err *err);
void snap_file_free(struct snap_file *f);

/* Refuses a snapshot of a VM with other vCPUs or memory than cpus and memory, naming both. */
int snap_file_check_vm(const struct snap_file *f, unsigned cpus, uint64_t memory,
		       struct den_err *err);

/* Section (type, index) where it lies in the file (unaligned: copy it out), or NULL. */
const uint8_t *snap_find(const struct snap_file *f, enum snap_type type, uint32_t index,
			 size_t *len);
/* Section (type, index) copied to out: refused when missing or not size bytes long. */
int snap_get(const struct snap_file *f, enum snap_type type, uint32_t index, void *out, size_t size,
	     struct den_err *err);

/* What a section holds, for messages: "vCPU registers". */
const char *snap_type_name(enum snap_type type);

/*
 * Writes guest RAM to path (made anew, mode 0600) as a file of size
 * bytes in which only 4 KiB pages that are not all zero take room.
 */
int snap_memory_write(const char *path, const uint8_t *mem, uint64_t size, struct den_err *err);

/* Opens a snapshot's memory file, refusing one that is not size bytes long. */
int snap_memory_open(const char *path, uint64_t size, struct den_err *err);

#endif
