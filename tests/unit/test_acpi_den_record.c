/* SPDX-License-Identifier: MIT */
/*
 * den's own ACPI table, DENR (providers/kvm/acpi.h), which carries den's
 * record to a machine restored from a warm image: listed in the XSDT, as
 * long as its whole area (the guest's kernel sizes its sysfs file at the
 * first boot), its checksum right, and its header one line that the
 * hook's shell skips with one read.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/kvm/acpi.h"

#define MEM (2u << 20)

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

static void expect_one_line_header(const uint8_t *t)
{
	const uint8_t *nl = memchr(t, '\n', DEN_RECORD_HEADER);
	cr_expect(nl == t + DEN_RECORD_HEADER - 1, "the header's only newline is its last byte");
}

Test(acpi_den_record, the_xsdt_lists_it_empty_and_as_long_as_its_area)
{
	uint8_t *mem = calloc(1, MEM);
	struct acpi_mmio_dev dev = { 0xd0000000, 0x1000, 5 };

	cr_assert_not_null(mem);
	acpi_write(mem, 1, 1, &dev, 1);
	const uint8_t *xsdt = mem + get32(mem + ACPI_RSDP_ADDR + 24);
	uint32_t len = get32(xsdt + 4), found = 0;
	cr_assert_eq(sum(xsdt, len), 0, "the XSDT's checksum");
	for (uint32_t off = 36; off + 8 <= len; off += 8)
		if (get32(xsdt + off) == DEN_RECORD_ADDR)
			found++;
	cr_expect_eq(found, 1, "the XSDT names den's table once");
	const uint8_t *t = mem + DEN_RECORD_ADDR;
	cr_expect_eq(memcmp(t, "DENR", 4), 0);
	cr_expect_eq(get32(t + 4), DEN_RECORD_TABLE_SIZE, "its whole area, from the first boot");
	cr_expect_eq(sum(t, DEN_RECORD_TABLE_SIZE), 0, "its checksum");
	cr_expect_eq(t[DEN_RECORD_HEADER], 0, "no record before a restore");
	expect_one_line_header(t);
	free(mem);
}

Test(acpi_den_record, a_record_follows_the_header_with_zeros_after_it_and_the_checksum_right)
{
	uint8_t *t = malloc(DEN_RECORD_TABLE_SIZE);
	char record[64];

	cr_assert_not_null(t);
	/* Every last byte value: the checksum takes each, and never the newline. */
	for (int i = 0; i < 256; i++) {
		memset(t, 0xee, DEN_RECORD_TABLE_SIZE);
		int n = snprintf(record, sizeof(record), "user 1\nden\nend 0\n%c", (char)i);
		acpi_den_record(t, record, (size_t)n);
		cr_assert_eq(sum(t, DEN_RECORD_TABLE_SIZE), 0, "the checksum, with last byte %d",
			     i);
		expect_one_line_header(t);
		cr_assert_eq(memcmp(t + DEN_RECORD_HEADER, record, (size_t)n), 0);
		cr_assert_eq(t[DEN_RECORD_HEADER + n], 0,
			     "zeros after the record, not what was there");
		cr_assert_eq(t[DEN_RECORD_TABLE_SIZE - 1], 0);
	}
	free(t);
}
