/* SPDX-License-Identifier: MIT */
/* The VMM's boot protocol pieces and UART, without KVM. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/size.h"
#include "providers/kvm/acpi.h"
#include "providers/kvm/vmm.h"
#include "providers/kvm/boot.h"
#include "providers/kvm/serial.h"
#include "providers/kvm/vm-internal.h"

#include <linux/kvm.h>

#define MEM (64u << 20)

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A minimal bzImage: boot sector signature, HdrS header 2.15, 64-bit capable. */
static uint8_t *fake_bzimage(size_t *len, uint16_t version, uint8_t xload)
{
	size_t n = 5 * 512 + 4096;
	uint8_t *k = calloc(1, n);

	k[0x1f1] = 4; /* setup sectors */
	k[0x1fe] = 0x55;
	k[0x1ff] = 0xaa;
	k[0x200] = 0xeb;
	k[0x201] = 0x66; /* jump over the header */
	memcpy(k + 0x202, "HdrS", 4);
	k[0x206] = (uint8_t)version;
	k[0x207] = (uint8_t)(version >> 8);
	k[0x211] = 0x01;						    /* loaded high */
	k[0x22c] = 0xff, k[0x22d] = 0xff, k[0x22e] = 0xff, k[0x22f] = 0x37; /* initrd_addr_max */
	k[0x236] = xload;
	k[0x238] = 0xff, k[0x239] = 0x07; /* cmdline_size 2047 */
	memset(k + 5 * 512, 0x90, 4096);  /* the "kernel" */
	*len = n;
	return k;
}

Test(vmm_boot, layout_splits_ram_around_the_mmio_gap)
{
	struct guest_layout l;
	struct e820_entry map[E820_MAX];

	boot_layout(512 * DEN_MIB, &l);
	cr_expect_eq(l.low, 512 * DEN_MIB);
	cr_expect_eq(l.high, 0);
	cr_expect_eq(boot_e820(&l, map, E820_MAX), 4, "no RAM above 4 GiB");
	boot_layout(5 * DEN_GIB, &l);
	cr_expect_eq(l.low, 3 * DEN_GIB);
	cr_expect_eq(l.high, 2 * DEN_GIB);
	size_t n = boot_e820(&l, map, E820_MAX);
	cr_assert_eq(n, 5);
	cr_expect_eq(map[3].addr, BOOT_KERNEL_ADDR);
	cr_expect_eq(map[3].addr + map[3].size, 3 * DEN_GIB, "low RAM ends at the gap");
	cr_expect_eq(map[4].addr, 4 * DEN_GIB, "the rest starts at 4 GiB");
	cr_expect_eq(map[4].size, 2 * DEN_GIB);
	cr_expect_eq(map[1].type, E820_RESERVED, "the MP table's KiB is reserved");
}

Test(vmm_boot, boot_params_carry_the_header_cmdline_initrd_and_e820)
{
	uint8_t *mem = calloc(1, MEM), initrd[8192];
	size_t len;
	uint8_t *k = fake_bzimage(&len, 0x020f, 1);
	struct guest_layout l;
	struct boot_kernel bk;
	struct den_err err = { 0 };

	memset(initrd, 0xab, sizeof(initrd));
	boot_layout(MEM, &l);
	cr_assert(boot_load(mem, &l, k, len, initrd, sizeof(initrd), "console=ttyS0", &bk, &err) ==
			  0,
		  "%s", err.msg);
	const uint8_t *bp = mem + BOOT_PARAMS_ADDR;
	cr_expect_eq(bk.entry, BOOT_KERNEL_ADDR + 0x200, "the 64-bit entry point");
	cr_expect_eq(memcmp(mem + BOOT_KERNEL_ADDR, k + 5 * 512, 4096), 0, "the kernel at 1 MiB");
	cr_expect_eq(memcmp(bp + 0x202, "HdrS", 4), 0, "the setup header is copied");
	cr_expect_eq(bp[0x210], 0xff, "type_of_loader");
	cr_expect_eq(get32(bp + 0x228), BOOT_CMDLINE_ADDR);
	cr_expect_str_eq((const char *)mem + BOOT_CMDLINE_ADDR, "console=ttyS0");
	uint32_t at = get32(bp + 0x218);
	cr_expect_eq(get32(bp + 0x21c), sizeof(initrd));
	cr_expect_eq(at % 4096, 0, "the initrd is page-aligned");
	cr_expect_leq(at + sizeof(initrd), MEM, "and inside RAM");
	cr_expect_eq(memcmp(mem + at, initrd, sizeof(initrd)), 0);
	cr_expect_eq(bp[0x1e8], 4, "four e820 entries");
	free(mem);
	free(k);
}

/* The VMM maps the initrd file into place itself: boot_load only chooses where. */
Test(vmm_boot, an_initrd_without_bytes_gets_its_place_and_nothing_written)
{
	uint8_t *mem = calloc(1, MEM);
	size_t len;
	uint8_t *k = fake_bzimage(&len, 0x020f, 1);
	struct guest_layout l;
	struct boot_kernel bk;
	struct den_err err = { 0 };

	boot_layout(MEM, &l);
	cr_assert(boot_load(mem, &l, k, len, NULL, 3 * 4096 + 5, "", &bk, &err) == 0, "%s",
		  err.msg);
	const uint8_t *bp = mem + BOOT_PARAMS_ADDR;
	cr_expect_eq(bk.initrd_addr, get32(bp + 0x218), "the place is in boot_params");
	cr_expect_eq(get32(bp + 0x21c), 3 * 4096 + 5);
	cr_expect_eq(bk.initrd_addr % 4096, 0, "page-aligned, so a file can be mapped there");
	cr_expect_leq(bk.initrd_addr + 3 * 4096 + 5, MEM);
	for (size_t i = 0; i < 3 * 4096 + 5; i++)
		cr_assert_eq(mem[bk.initrd_addr + i], 0, "nothing written at %zu", i);
	cr_assert(boot_load(mem, &l, k, len, NULL, 0, "", &bk, &err) == 0);
	cr_expect_eq(bk.initrd_addr, 0, "no initrd, no place");
	cr_expect_eq(get32(bp + 0x21c), 0);
	free(mem);
	free(k);
}

Test(vmm_boot, non_kernels_and_old_protocols_are_refused_clearly)
{
	uint8_t *mem = calloc(1, MEM);
	size_t len;
	uint8_t *k = fake_bzimage(&len, 0x020a, 1);
	struct guest_layout l;
	struct boot_kernel bk;
	struct den_err err = { 0 };

	boot_layout(MEM, &l);
	cr_expect(boot_load(mem, &l, k, len, NULL, 0, "", &bk, &err) < 0);
	cr_expect(strstr(err.msg, "has no 64-bit entry point") != NULL, "%s", err.msg);
	k[0x1fe] = 0;
	cr_expect(boot_load(mem, &l, k, len, NULL, 0, "", &bk, &err) < 0);
	cr_expect(strstr(err.msg, "not a Linux bzImage") != NULL, "%s", err.msg);
	cr_expect(boot_load(mem, &l, (const uint8_t *)"tiny", 4, NULL, 0, "", &bk, &err) < 0);
	free(k);
	k = fake_bzimage(&len, 0x020f, 1);
	char longline[3000];
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	cr_expect(boot_load(mem, &l, k, len, NULL, 0, longline, &bk, &err) < 0, "cmdline too long");
	uint8_t huge[1];
	cr_expect(boot_load(mem, &l, k, len, huge, MEM, "", &bk, &err) < 0, "an initrd too big");
	cr_expect(strstr(err.msg, "does not fit") != NULL, "%s", err.msg);
	free(mem);
	free(k);
}

Test(vmm_boot, page_tables_identity_map_4_gib_with_2_mib_pages)
{
	uint8_t *mem = calloc(1, MEM);

	boot_page_tables(mem);
	const uint8_t *pml4 = mem + BOOT_PML4_ADDR;
	cr_expect_eq(get32(pml4) & ~0xfffu, BOOT_PML4_ADDR + 0x1000);
	for (uint64_t g = 0; g < 4; g++) {
		uint64_t pd = get32(mem + BOOT_PML4_ADDR + 0x1000 + g * 8) & ~0xfffu;
		const uint8_t *last = mem + pd + 511 * 8;
		uint64_t addr = (uint64_t)get32(last) | (uint64_t)get32(last + 4) << 32;
		cr_expect_eq(addr & ~0xfffULL, (g << 30) + (511ULL << 21), "GiB %lu maps to itself",
			     (unsigned long)g);
		cr_expect_eq(addr & 0x83, 0x83, "present, writable, 2 MiB");
	}
	free(mem);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

Test(vmm_boot, the_mp_table_lists_every_cpu_and_checks_out)
{
	uint8_t *mem = calloc(1, MEM);

	boot_mptable(mem, 3, 3);
	const uint8_t *fp = mem + BOOT_MPTABLE_ADDR, *ct = fp + 16;
	cr_expect_eq(memcmp(fp, "_MP_", 4), 0);
	cr_expect_eq(sum(fp, 16), 0, "the floating pointer's checksum");
	cr_expect_eq(memcmp(ct, "PCMP", 4), 0);
	size_t len = (size_t)(ct[4] | ct[5] << 8);
	cr_expect_eq(sum(ct, len), 0, "the configuration table's checksum");
	int cpus = 0;
	for (const uint8_t *e = ct + 44; e < ct + len; e += e[0] == 0 ? 20 : 8)
		cpus += e[0] == 0;
	cr_expect_eq(cpus, 3);
	cr_expect_eq(ct[44 + 3], 3, "the first is the enabled boot processor");
	free(mem);
}

struct sink {
	char out[64];
	size_t n;
	bool irq;
};

static void out(const uint8_t *b, size_t n, void *arg)
{
	struct sink *s = arg;
	memcpy(s->out + s->n, b, n);
	s->n += n;
}

static void irq(bool level, void *arg)
{
	((struct sink *)arg)->irq = level;
}

Test(vmm_boot, the_uart_sends_receives_and_interrupts_as_a_16550)
{
	struct serial u;
	struct sink s = { 0 };

	serial_init(&u, out, irq, &s);
	serial_write(&u, 0, 'h');
	serial_write(&u, 0, 'i');
	cr_expect_eq(s.n, 2);
	cr_expect_eq(memcmp(s.out, "hi", 2), 0);
	cr_expect_eq(serial_read(&u, 5) & 0x60, 0x60, "THR empty");
	cr_expect(!s.irq, "no interrupt while none is enabled");
	serial_write(&u, 1, 0x02); /* THR-empty interrupt on */
	cr_expect(s.irq, "enabling it with THR empty raises it");
	cr_expect_eq(serial_read(&u, 2) & 0x0f, 0x02, "IIR says THR empty");
	cr_expect(!s.irq, "reading IIR acknowledges it");
	serial_write(&u, 1, 0x01); /* received-data interrupt */
	cr_expect_eq(serial_receive(&u, (const uint8_t *)"ok", 2), 2);
	cr_expect(s.irq);
	cr_expect_eq(serial_read(&u, 5) & 1, 1, "data ready");
	cr_expect_eq(serial_read(&u, 0), 'o');
	cr_expect_eq(serial_read(&u, 0), 'k');
	cr_expect(!s.irq, "drained");
	serial_write(&u, 3, 0x80); /* DLAB: the divisor, not data */
	serial_write(&u, 0, 1);
	cr_expect_eq(s.n, 2, "divisor writes are not output");
	cr_expect_eq(serial_read(&u, 0), 1);
	uint8_t lots[100];
	memset(lots, 'x', sizeof(lots));
	cr_expect_eq(serial_receive(&u, lots, sizeof(lots)), SERIAL_FIFO, "the FIFO holds 64");
}

static const uint8_t *find_table(const uint8_t *mem, const char *sig)
{
	const uint8_t *rsdp = mem + ACPI_RSDP_ADDR;
	uint64_t xsdt = 0;

	memcpy(&xsdt, rsdp + 24, 8);
	const uint8_t *x = mem + xsdt;
	uint32_t len = get32(x + 4);
	for (uint32_t off = 36; off + 8 <= len; off += 8) {
		uint64_t a = 0;
		memcpy(&a, x + off, 8);
		if (memcmp(mem + a, sig, 4) == 0)
			return mem + a;
	}
	return NULL;
}

Test(vmm_boot, acpi_tables_check_out_and_name_the_devices)
{
	uint8_t *mem = calloc(1, MEM);
	struct acpi_mmio_dev devs[2] = { { 0xd0000000, 0x1000, 5 }, { 0xd0001000, 0x1000, 6 } };

	cr_expect_eq(acpi_write(mem, 2, 2, devs, 2), ACPI_RSDP_ADDR);
	const uint8_t *rsdp = mem + ACPI_RSDP_ADDR;
	cr_expect_eq(memcmp(rsdp, "RSD PTR ", 8), 0);
	cr_expect_eq(sum(rsdp, 20), 0, "RSDP checksum");
	cr_expect_eq(sum(rsdp, 36), 0, "RSDP extended checksum");
	const uint8_t *fadt = find_table(mem, "FACP"), *madt = find_table(mem, "APIC");
	cr_assert_not_null(fadt);
	cr_assert_not_null(madt);
	cr_expect_eq(sum(fadt, get32(fadt + 4)), 0, "FADT checksum");
	cr_expect_eq(get32(fadt + 4), 276);
	cr_expect(get32(fadt + 112) & (1u << 20), "hardware-reduced");
	cr_expect(fadt[109] & (1u << 5), "no CMOS RTC to probe");
	cr_expect(!(fadt[109] & (1u << 1)), "no 8042 to probe");
	cr_expect_eq(fadt[244], 1, "the sleep control register is an I/O port");
	cr_expect_eq(sum(madt, get32(madt + 4)), 0, "MADT checksum");
	int lapics = 0;
	for (uint32_t off = 44; off < get32(madt + 4); off += madt[off + 1])
		lapics += madt[off] == 0;
	cr_expect_eq(lapics, 2, "a local APIC per vCPU");
	const uint8_t *dsdt = mem + get32(fadt + 40);
	uint32_t dlen = get32(dsdt + 4);
	cr_expect_eq(memcmp(dsdt, "DSDT", 4), 0);
	cr_expect_eq(sum(dsdt, dlen), 0, "DSDT checksum");
	cr_expect_not_null(memmem(dsdt, dlen, "LNRO0005", 8), "virtio-mmio devices are named");
	cr_expect_not_null(memmem(dsdt, dlen, "VR01", 4), "both of them");
	cr_expect_not_null(memmem(dsdt, dlen, "_S5_", 4), "poweroff is described");
	cr_expect_not_null(memmem(dsdt, dlen, "COM1", 4), "and the UART with its IRQ");
	free(mem);
}

Test(vmm_boot, a_vm_past_the_mp_tables_reach_is_described_by_the_madt)
{
	uint8_t *mem = calloc(1, MEM);

	acpi_write(mem, VMM_MAX_CPUS, VMM_MAX_CPUS, NULL, 0);
	const uint8_t *madt = find_table(mem, "APIC");
	cr_assert_not_null(madt);
	cr_expect_eq(sum(madt, get32(madt + 4)), 0, "MADT checksum");
	int lapics = 0, last = -1;
	for (uint32_t off = 44; off < get32(madt + 4); off += madt[off + 1]) {
		if (madt[off] == 0) {
			lapics++;
			last = madt[off + 3];
		}
	}
	cr_expect_eq(lapics, VMM_MAX_CPUS, "every vCPU's local APIC");
	cr_expect_eq(last, VMM_MAX_CPUS - 1);
	cr_expect_lt(get32(madt + 4), 0x1000 - 0x300, "it fits before the DSDT");
	free(mem);
}

/* The kernel unpacks at its preferred address (16 MiB), not at 1 MiB: that is what must fit. */
Test(vmm_boot, the_kernels_unpacking_room_counts_from_its_preferred_address)
{
	uint8_t *mem = calloc(1, MEM), initrd[4096];
	size_t len;
	uint8_t *k = fake_bzimage(&len, 0x020f, 1);
	struct guest_layout l;
	struct boot_kernel bk;
	struct den_err err = { 0 };

	k[0x25a] = 0x00, k[0x25b] = 0x01; /* pref_address 0x1000000 */
	k[0x262] = 0x10, k[0x263] = 0x03; /* init_size 49 MiB: 16 + 49 > the 64 MiB of RAM */
	boot_layout(MEM, &l);
	cr_expect(boot_load(mem, &l, k, len, NULL, 0, "", &bk, &err) < 0,
		  "16 MiB + 48 MiB does not fit beside the low memory den uses");
	cr_expect(strstr(err.msg, "more memory") != NULL, "%s", err.msg);
	k[0x262] = 0, k[0x263] = 0x02; /* 32 MiB: fits; the initrd must go above 48 MiB */
	cr_assert(boot_load(mem, &l, k, len, initrd, sizeof(initrd), "", &bk, &err) == 0, "%s",
		  err.msg);
	cr_expect_geq(get32(mem + BOOT_PARAMS_ADDR + 0x218), 48u << 20,
		      "the initrd is above the kernel's unpacking room");
	free(mem);
	free(k);
}

/* What KVM supports, as a guest sees it: its APIC id, a hypervisor, no VMX or SVM. */
Test(vmm_boot, cpuid_hides_nested_virtualization_and_names_the_apic)
{
	struct kvm_cpuid_entry2 leaf1 = { .function = 1, .ebx = 0xff0800, .ecx = 1u << 5 | 1 };
	struct kvm_cpuid_entry2 ext = { .function = 0x80000001, .ecx = 1u << 2 | 1 };
	struct kvm_cpuid_entry2 topo = { .function = 0xb };

	vcpu_cpuid_adjust(&leaf1, 3);
	vcpu_cpuid_adjust(&ext, 3);
	vcpu_cpuid_adjust(&topo, 3);
	cr_expect_eq(leaf1.ecx & (1u << 5), 0, "no VMX");
	cr_expect(leaf1.ecx & (1u << 31), "a hypervisor");
	cr_expect(leaf1.ecx & 1, "the other bits are kept");
	cr_expect_eq(leaf1.ebx >> 24, 3, "the APIC id");
	cr_expect_eq(leaf1.ebx & 0xffffff, 0xff0800);
	cr_expect_eq(ext.ecx, 1, "no SVM, the rest kept");
	cr_expect_eq(topo.edx, 3, "the x2APIC id");
}
