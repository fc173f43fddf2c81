/* SPDX-License-Identifier: MIT */
#include "providers/kvm/boot.h"
#include "providers/kvm/le.h"

#include <string.h>

/* Offsets in a bzImage and in boot_params (Documentation/arch/x86/zero-page.rst). */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_VID_MODE 0x1fa
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define HDR_END 0x268
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0

#define LOADFLAGS_LOADED_HIGH 0x01
#define LOADFLAGS_CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x01

void boot_layout(uint64_t ram, struct guest_layout *out)
{
	out->ram = ram;
	out->low = ram > MMIO_GAP_START ? MMIO_GAP_START : ram;
	out->high = ram - out->low;
}

size_t boot_e820(const struct guest_layout *l, struct e820_entry *out, size_t max)
{
	struct e820_entry all[] = {
		{ 0, BOOT_EBDA_START, E820_RAM },
		{ BOOT_EBDA_START, 0xa0000 - BOOT_EBDA_START, E820_RESERVED },
		{ 0xe0000, 0x20000, E820_RESERVED }, /* ACPI tables and the BIOS area */
		{ BOOT_KERNEL_ADDR, l->low - BOOT_KERNEL_ADDR, E820_RAM },
		{ MMIO_GAP_END, l->high, E820_RAM },
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]) && n < max; i++)
		if (all[i].size > 0)
			out[n++] = all[i];
	return n;
}

int boot_load(uint8_t *mem, const struct guest_layout *l, const uint8_t *image, size_t len,
	      const uint8_t *initrd, size_t initrd_len, const char *cmdline,
	      struct boot_kernel *out, struct den_err *err)
{
	uint8_t *bp = mem + BOOT_PARAMS_ADDR;
	struct e820_entry map[E820_MAX];

	if (len < HDR_END || le_get16(image + HDR_BOOT_FLAG) != 0xaa55 ||
	    memcmp(image + HDR_MAGIC, "HdrS", 4) != 0)
		return den_err_set(err, 0,
				   "not a Linux bzImage (no boot sector signature or no HdrS "
				   "setup header): give --kernel a vmlinuz");
	out->version = le_get16(image + HDR_VERSION);
	if (out->version < 0x020c || !(image[HDR_XLOADFLAGS] & XLF_KERNEL_64))
		return den_err_set(err, 0,
				   "the kernel's boot protocol %u.%u has no 64-bit entry point "
				   "(den needs 2.12 or later, with XLF_KERNEL_64): use a 64-bit "
				   "kernel from 2013 or later",
				   out->version >> 8, out->version & 0xff);
	if (!(image[HDR_LOADFLAGS] & LOADFLAGS_LOADED_HIGH))
		return den_err_set(err, 0,
				   "the kernel is a zImage (loaded low): den needs a bzImage");
	unsigned setup_sects = image[HDR_SETUP_SECTS] ? image[HDR_SETUP_SECTS] : 4;
	out->setup_bytes = (setup_sects + 1) * 512;
	if (out->setup_bytes >= len)
		return den_err_set(err, 0, "the kernel image is truncated (setup past its end)");
	size_t kernel_len = len - out->setup_bytes;
	/*
	 * A 64-bit kernel decompresses itself at its preferred address (16 MiB
	 * usually) aligned to kernel_alignment, not where it was loaded: that
	 * is where init_size bytes must be free, below the initrd.
	 */
	uint32_t init_size = le_get32(image + HDR_INIT_SIZE),
		 align = le_get32(image + HDR_KERNEL_ALIGNMENT);
	uint64_t pref = (uint64_t)le_get32(image + HDR_PREF_ADDRESS) |
			(uint64_t)le_get32(image + HDR_PREF_ADDRESS + 4) << 32;
	uint64_t base = BOOT_KERNEL_ADDR;
	if (align > 1 && (align & (align - 1)) == 0)
		base = (base + align - 1) & ~((uint64_t)align - 1);
	if (pref > base && pref < l->low)
		base = pref;
	uint64_t need = base + (init_size > kernel_len ? init_size : kernel_len);
	if (need > l->low)
		return den_err_set(
			err, 0,
			"the kernel needs %llu MiB of memory to unpack; give the machine "
			"more memory",
			(unsigned long long)(need >> 20) + 1);
	out->initrd_max = le_get32(image + HDR_INITRD_ADDR_MAX);
	out->cmdline_max = le_get32(image + HDR_CMDLINE_SIZE);
	if (out->cmdline_max == 0 || out->cmdline_max > BOOT_CMDLINE_MAX - 1)
		out->cmdline_max = BOOT_CMDLINE_MAX - 1;
	if (strlen(cmdline) > out->cmdline_max)
		return den_err_set(err, 0, "the command line is longer than the kernel takes (%u)",
				   out->cmdline_max);
	out->entry = BOOT_KERNEL_ADDR + 0x200;

	memcpy(mem + BOOT_KERNEL_ADDR, image + out->setup_bytes, kernel_len);
	memset(bp, 0, 4096);
	/* The setup header, as the kernel wrote it, then what the loader fills in. */
	size_t hdr_end = HDR_JUMP + 2 + image[HDR_JUMP + 1];
	if (hdr_end > HDR_END + 0x100 || hdr_end > len)
		hdr_end = HDR_END;
	memcpy(bp + HDR_SETUP_SECTS, image + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
	le_put16(bp + HDR_VID_MODE, 0xffff);
	bp[HDR_TYPE_OF_LOADER] = 0xff;
	bp[HDR_LOADFLAGS] |= LOADFLAGS_CAN_USE_HEAP;
	le_put16(bp + HDR_HEAP_END_PTR, 0xfe00);
	memset(mem + BOOT_CMDLINE_ADDR, 0, BOOT_CMDLINE_MAX);
	memcpy(mem + BOOT_CMDLINE_ADDR, cmdline, strlen(cmdline));
	le_put32(bp + HDR_CMD_LINE_PTR, BOOT_CMDLINE_ADDR);
	le_put32(bp + BP_EXT_CMD_LINE_PTR, 0);
	out->initrd_addr = 0;
	if (initrd_len > 0) {
		uint64_t top = l->low;
		if (out->initrd_max != 0 && (uint64_t)out->initrd_max + 1 < top)
			top = (uint64_t)out->initrd_max + 1;
		if (initrd_len > top || ((top - initrd_len) & ~0xfffULL) < need)
			return den_err_set(err, 0,
					   "the initrd (%zu MiB) does not fit in memory below %llu "
					   "MiB beside the kernel; give the machine more memory",
					   initrd_len >> 20, (unsigned long long)(top >> 20));
		uint64_t at = (top - initrd_len) & ~0xfffULL;
		if (initrd != NULL)
			memcpy(mem + at, initrd, initrd_len);
		out->initrd_addr = at;
		le_put32(bp + HDR_RAMDISK_IMAGE, (uint32_t)at);
		le_put32(bp + HDR_RAMDISK_SIZE, (uint32_t)initrd_len);
		le_put32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(at >> 32));
		le_put32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)((uint64_t)initrd_len >> 32));
	}
	size_t n = boot_e820(l, map, E820_MAX);
	bp[BP_E820_ENTRIES] = (uint8_t)n;
	memcpy(bp + BP_E820_TABLE, map, n * sizeof(map[0]));
	return 0;
}

void boot_page_tables(uint8_t *mem)
{
	uint8_t *pml4 = mem + BOOT_PML4_ADDR, *pdpt = pml4 + 0x1000;

	memset(pml4, 0, 6 * 0x1000);
	le_put64(pml4, (BOOT_PML4_ADDR + 0x1000) | 0x3); /* present, writable */
	for (uint64_t g = 0; g < 4; g++) {
		uint64_t pd = BOOT_PML4_ADDR + 0x2000 + g * 0x1000;
		le_put64(pdpt + g * 8, pd | 0x3);
		for (uint64_t i = 0; i < 512; i++)
			le_put64(mem + pd + i * 8, ((g << 30) + (i << 21)) | 0x83); /* 2 MiB page */
	}
}

void boot_gdt(uint8_t *mem)
{
	static const uint64_t gdt[] = {
		0,		       /* null */
		0,		       /* unused */
		0x00af9b000000ffffULL, /* 0x10: 64-bit code, present, ring 0 */
		0x00cf93000000ffffULL, /* 0x18: data, 4 GiB, writable */
	};

	for (size_t i = 0; i < sizeof(gdt) / sizeof(gdt[0]); i++)
		le_put64(mem + BOOT_GDT_ADDR + i * 8, gdt[i]);
}

void boot_reset_vector(uint8_t *mem)
{
	static const uint8_t code[] = {
		0xb0, 0xfe, /* mov al, 0xfe */
		0xe6, 0x64, /* out 0x64, al: i8042 pulse reset */
		0xf4,	    /* hlt */
		0xeb, 0xfd, /* jmp back to hlt */
	};

	memcpy(mem + 0xffff0, code, sizeof(code));
}

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)-sum;
}

void boot_mptable(uint8_t *mem, unsigned cpus, uint8_t ioapic_id)
{
	uint8_t *fp = mem + BOOT_MPTABLE_ADDR, *ct = fp + 16, *e = ct + 44;
	uint16_t count = 0;

	memset(fp, 0, 0x400);
	for (unsigned c = 0; c < cpus; c++, e += 20, count++) {
		e[0] = 0;		/* processor */
		e[1] = (uint8_t)c;	/* local APIC id */
		e[2] = 0x14;		/* local APIC version */
		e[3] = c == 0 ? 3 : 1;	/* enabled; the first is the boot processor */
		le_put32(e + 4, 0x600); /* family 6 */
		le_put32(e + 8, 0x201); /* FPU, APIC */
	}
	e[0] = 1; /* bus 0: ISA */
	memcpy(e + 2, "ISA   ", 6);
	e += 8, count++;
	e[0] = 2; /* the IOAPIC */
	e[1] = ioapic_id;
	e[2] = 0x11;
	e[3] = 1;
	le_put32(e + 4, 0xfec00000);
	e += 8, count++;
	for (uint8_t irq = 0; irq < 16; irq++, e += 8, count++) {
		e[0] = 3; /* I/O interrupt: ISA IRQ n on IOAPIC pin n */
		e[4] = 0;
		e[5] = irq;
		e[6] = ioapic_id;
		e[7] = irq;
	}
	e[0] = 4; /* local interrupts: ExtINT on LINT0, NMI on LINT1 of every APIC */
	e[1] = 3;
	e[6] = 0xff;
	e[7] = 0;
	e += 8, count++;
	e[0] = 4;
	e[1] = 1;
	e[6] = 0xff;
	e[7] = 1;
	e += 8, count++;
	memcpy(ct, "PCMP", 4);
	le_put16(ct + 4, (uint16_t)(e - ct));
	ct[6] = 4;
	memcpy(ct + 8, "DEN     ", 8);
	memcpy(ct + 16, "DEN VMM     ", 12);
	le_put16(ct + 34, count);
	le_put32(ct + 36, 0xfee00000);
	ct[7] = checksum(ct, (size_t)(e - ct));
	memcpy(fp, "_MP_", 4);
	le_put32(fp + 4, BOOT_MPTABLE_ADDR + 16);
	fp[8] = 1;
	fp[9] = 4;
	fp[10] = checksum(fp, 16);
}
