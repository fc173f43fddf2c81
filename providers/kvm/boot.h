/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_KVM_BOOT_H
#define DEN_PROVIDERS_KVM_BOOT_H

/*
 * The Linux x86 boot protocol, 64-bit entry (Documentation/arch/x86/
 * boot.rst): a bzImage's setup header is read and checked, its
 * protected-mode kernel copied to 1 MiB, and boot_params (the "zero
 * page") filled with the e820 map, command line and initrd. Pure
 * functions over a guest memory buffer, so they are unit-tested without
 * KVM.
 */

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Guest-physical layout (below 1 MiB, as kvmtool and Firecracker use it). */
#define BOOT_GDT_ADDR 0x500
#define BOOT_PARAMS_ADDR 0x7000
#define BOOT_PML4_ADDR 0x9000 /* PML4, PDPT, then 4 page directories: 0x9000-0xefff */
#define BOOT_CMDLINE_ADDR 0x20000
#define BOOT_CMDLINE_MAX 4096
#define BOOT_STACK_ADDR 0x8ff0
#define BOOT_KERNEL_ADDR 0x100000
#define BOOT_MPTABLE_ADDR 0x9fc00 /* the last KiB of base memory, where MP tables live */
#define BOOT_EBDA_START 0x9fc00

/* The 32-bit MMIO hole: guest RAM above 3 GiB continues at 4 GiB. */
#define MMIO_GAP_START 0xc0000000ULL
#define MMIO_GAP_END 0x100000000ULL

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_MAX 128

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
} __attribute__((packed));

/* Guest RAM as the VMM maps it: [0, low) and, above 4 GiB, [4G, 4G + high). */
struct guest_layout {
	uint64_t ram;  /* total bytes */
	uint64_t low;  /* bytes below the MMIO gap */
	uint64_t high; /* bytes from 4 GiB up */
};

void boot_layout(uint64_t ram, struct guest_layout *out);

/* The e820 map for a layout; returns the number of entries. */
size_t boot_e820(const struct guest_layout *l, struct e820_entry *out, size_t max);

struct boot_kernel {
	uint16_t version;     /* boot protocol, e.g. 0x020f */
	uint32_t setup_bytes; /* real-mode part, skipped */
	uint32_t initrd_max;  /* highest address the initrd may end at */
	uint32_t cmdline_max; /* longest command line */
	uint64_t entry;	      /* 64-bit entry point (guest-physical) */
	uint64_t initrd_addr; /* where the initrd goes (page-aligned), or 0 with none */
};

/*
 * Loads the bzImage in image (len bytes) into guest memory mem (mem_size
 * bytes below the gap): the kernel at 1 MiB, boot_params at
 * BOOT_PARAMS_ADDR with the setup header, e820, command line, and the
 * initrd at the highest aligned address it may use: its initrd_len bytes
 * copied there, or with initrd NULL only its place chosen (out->initrd_addr)
 * for the caller to fill; no initrd when initrd_len is 0.
 */
int boot_load(uint8_t *mem, const struct guest_layout *l, const uint8_t *image, size_t len,
	      const uint8_t *initrd, size_t initrd_len, const char *cmdline,
	      struct boot_kernel *out, struct den_err *err);

/*
 * Identity-mapped page tables for the first 4 GiB (2 MiB pages) at
 * BOOT_PML4_ADDR, and a GDT with 64-bit code (0x10) and data (0x18) at
 * BOOT_GDT_ADDR: what the 64-bit entry point expects.
 */
void boot_page_tables(uint8_t *mem);
void boot_gdt(uint8_t *mem);

/*
 * At the reset vector (0xffff0, where a real-mode restart jumps: Linux's
 * BIOS reboot, its fallback on hardware-reduced ACPI): a few bytes that
 * ask the i8042 for a reset, so that path ends the VM too.
 */
void boot_reset_vector(uint8_t *mem);

/*
 * An Intel MP table for cpus processors at BOOT_MPTABLE_ADDR (IOAPIC at
 * 0xfec00000). Its KiB and the IOAPIC's 4-bit id hold BOOT_MPTABLE_MAX_CPUS;
 * bigger VMs are described by the ACPI MADT alone.
 */
#define BOOT_MPTABLE_MAX_CPUS 15
void boot_mptable(uint8_t *mem, unsigned cpus, uint8_t ioapic_id);

#endif
