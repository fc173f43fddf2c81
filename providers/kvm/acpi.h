/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_KVM_ACPI_H
#define DEN_PROVIDERS_KVM_ACPI_H

/*
 * ACPI tables for the guest, hardware-reduced (as Firecracker and QEMU's
 * microvm do): RSDP, XSDT, FADT (reset register, sleep control and status
 * registers), MADT (one local APIC per vCPU, the IOAPIC) and a DSDT naming
 * each virtio-mmio device (LNRO0005, its registers and IRQ), \_S5 for
 * poweroff, a power button (PNP0C0C) pressed through a Generic Event
 * Device (ACPI0013), the two UARTs (the console and den's channel) and a
 * VM generation ID (VM_Gen_Counter). Written at ACPI_BASE (below 1 MiB, reserved
 * in e820).
 */

#include <stddef.h>
#include <stdint.h>

#define ACPI_BASE 0xe0000
#define ACPI_SIZE 0x10000
#define ACPI_RSDP_ADDR ACPI_BASE

/* I/O ports the FADT names; exits.c acts on them. */
#define ACPI_SLEEP_CONTROL_PORT 0x600
#define ACPI_SLEEP_STATUS_PORT 0x601
#define ACPI_RESET_PORT 0x604
#define ACPI_RESET_VALUE 0x01
#define ACPI_SLEEP_ENABLE 0x20

/*
 * The Generic Event Device (ged.c): its event register, one byte at a port
 * past the FADT's (0x600-0x604), reads the pending events and clears them;
 * its IRQ is ISA IRQ 15, which nothing else uses (COM1 has 4, COM2 3, the
 * virtio-mmio devices 5, 6, 7, 9, 10, 11, 12 and 14).
 */
#define ACPI_GED_PORT 0x608
#define ACPI_GED_IRQ 15
#define ACPI_GED_POWER_BUTTON 0x01 /* event bit: _EVT notifies \_SB.PWRB */
#define ACPI_GED_VMGENID 0x02	   /* event bit: _EVT notifies \_SB.VGEN */

/*
 * The VM generation ID's 16 bytes: in the e820-reserved BIOS area past the
 * tables, where the guest's kernel never puts anything of its own.
 */
#define ACPI_VMGENID_ADDR (ACPI_BASE + ACPI_SIZE)
#define ACPI_VMGENID_SIZE 16

/*
 * den's record for a machine made from a warm image (clone.c): an ACPI
 * table of den's own, "DENR", in the same reserved area, past the
 * generation ID's page, up to the page of the reset vector (boot.h). Its
 * length is the whole area from the first boot on, as the guest's kernel
 * sizes /sys/firmware/acpi/tables/DENR then; that file reads the table
 * from guest memory at each read, so the hook takes in a record den wrote
 * long after the boot with the shell's own read: no /dev/mem, no program.
 * The header's last byte is a newline (one line to skip), and the record,
 * text lines, follows it. The channel says when it is there, as a serial
 * port would take thousands of exits to carry it.
 */
#define DEN_RECORD_ADDR (ACPI_VMGENID_ADDR + 0x1000)
#define DEN_RECORD_TABLE_SIZE (0xff000 - DEN_RECORD_ADDR)
#define DEN_RECORD_HEADER 36
#define DEN_RECORD_MAX (DEN_RECORD_TABLE_SIZE - DEN_RECORD_HEADER)

/* den's channel to its guest hook: COM2 (channel.h). */
#define ACPI_CHANNEL_PORT 0x2f8
#define ACPI_CHANNEL_IRQ 3

struct acpi_mmio_dev {
	uint64_t base;
	uint32_t size;
	unsigned irq;
};

/* Writes the tables into guest memory mem; returns the RSDP's address. */
uint64_t acpi_write(uint8_t *mem, unsigned cpus, uint8_t ioapic_id,
		    const struct acpi_mmio_dev *devs, size_t n_devs);

/*
 * The DENR table at table (guest memory at DEN_RECORD_ADDR, room for
 * DEN_RECORD_TABLE_SIZE bytes) holding record's len bytes (at most
 * DEN_RECORD_MAX), zeros after them, its checksum right.
 */
void acpi_den_record(uint8_t *table, const void *record, size_t len);

#endif
