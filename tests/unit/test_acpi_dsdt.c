/* SPDX-License-Identifier: MIT */
/*
 * den's DSDT read by ACPICA's own tools: iasl disassembles it, then
 * compiles the disassembly back, so an AML encoding slip (a package
 * length, an operand too few) fails here rather than in a guest kernel's
 * ACPI errors. scripts/deps.sh installs iasl (acpica-tools): without it
 * the test fails, it does not skip.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/spawn.h"
#include "providers/kvm/acpi.h"
#include "tests/helpers/testutil.h"

#define MEM (2u << 20)

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* dir/dsdt.dat: the DSDT acpi_write makes for a VM with two virtio devices. */
static void write_dsdt(const char *dir)
{
	uint8_t *mem = calloc(1, MEM);
	struct acpi_mmio_dev devs[2] = { { 0xd0000000, 0x1000, 5 }, { 0xd0001000, 0x1000, 6 } };
	char path[4096];

	cr_assert_not_null(mem);
	acpi_write(mem, 2, 2, devs, 2);
	const uint8_t *fadt = mem + get32(mem + get32(mem + ACPI_RSDP_ADDR + 24) + 36);
	cr_assert_eq(memcmp(fadt, "FACP", 4), 0, "the XSDT's first table is the FADT");
	const uint8_t *dsdt = mem + get32(fadt + 40);
	cr_assert_eq(memcmp(dsdt, "DSDT", 4), 0);
	snprintf(path, sizeof(path), "%s/dsdt.dat", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(dsdt, 1, get32(dsdt + 4), f), get32(dsdt + 4));
	fclose(f);
	free(mem);
}

/* Runs iasl with args in dir; fails the test, with iasl's output, unless it succeeds. */
static void iasl(const char *dir, const char *arg1, const char *arg2, const char *arg3)
{
	const char *argv[] = { "iasl", arg1, arg2, arg3, NULL };
	char out[16384] = "";
	struct den_err err = { 0 };
	struct den_spawn sp = { .argv = argv,
				.cwd = dir,
				.in = DEN_SPAWN_NULL,
				.out = DEN_SPAWN_CAPTURE,
				.out_buf = out,
				.out_size = sizeof(out),
				.err_fd = DEN_SPAWN_NULL,
				.install = "install acpica-tools (scripts/deps.sh does)" };

	cr_assert(den_spawn_run(&sp, &err) == 0, "%s\n%s", err.msg, out);
}

Test(acpi_dsdt, iasl_disassembles_it_and_compiles_it_back)
{
	char *dir = make_temp_dir(), path[4096], *dsl = NULL, want[128];
	size_t len = 0;
	struct den_err err = { 0 };

	write_dsdt(dir);
	iasl(dir, "-d", "dsdt.dat", NULL);
	snprintf(path, sizeof(path), "%s/dsdt.dsl", dir);
	cr_assert(den_read_file(path, 1 << 20, &dsl, &len, &err) == 0, "%s", err.msg);
	cr_expect_not_null(strstr(dsl, "Name (_HID, \"ACPI0013\""), "the GED: %s", dsl);
	cr_expect_not_null(strstr(dsl, "Name (_HID, EisaId (\"PNP0C0C\")"), "the power button");
	cr_expect_not_null(strstr(dsl, "Method (_EVT, 1, Serialized)"), "the GED's handler");
	cr_expect_not_null(strstr(dsl, "Notify (\\_SB.PWRB, 0x80)"), "which presses the button");
	snprintf(want, sizeof(want), "OperationRegion (EREG, SystemIO, 0x%04X, One)",
		 ACPI_GED_PORT);
	cr_expect_not_null(strstr(dsl, want), "the event register is the port den serves");
	cr_expect_not_null(strstr(dsl, "Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive"),
			   "an edge-triggered interrupt");
	snprintf(want, sizeof(want), "0x%08X,", ACPI_GED_IRQ);
	cr_expect_not_null(strstr(dsl, want), "on the IRQ den raises");
	cr_expect_not_null(strstr(dsl, "Notify (\\_SB.VGEN, 0x80)"), "and the VM generation ID");
	cr_expect_not_null(strstr(dsl, "Name (_CID, \"VM_Gen_Counter\")"),
			   "which Linux's vmgenid binds");
	cr_expect_not_null(strstr(dsl, "Name (ADDR, Package (0x02)"), "with its address: %s", dsl);
	snprintf(want, sizeof(want), "0x%08X,", (unsigned)ACPI_VMGENID_ADDR);
	cr_expect_not_null(strstr(dsl, want), "the one den writes");
	cr_expect_not_null(strstr(dsl, "IO (Decode16,\n                    0x02F8,"),
			   "den's channel, COM2");
	cr_expect_not_null(strstr(dsl, "IRQNoFlags ()\n                    {3}"), "on IRQ 3");
	cr_expect_not_null(strstr(dsl, "Name (\\_S5,"), "and the rest is still there");
	/* Compiling the disassembly back checks what disassembly lets through. */
	iasl(dir, "-p", "again", "dsdt.dsl");
	free(dsl);
	rm_rf(dir);
	free(dir);
}
