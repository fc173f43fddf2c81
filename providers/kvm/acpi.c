/* SPDX-License-Identifier: MIT */
#include "providers/kvm/acpi.h"
#include "providers/kvm/le.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FADT_SIZE 276
#define FADT_HW_REDUCED (1u << 20)
#define FADT_RESET_REG_SUP (1u << 10)
#define IAPC_VGA_NOT_PRESENT (1u << 2)
#define IAPC_NO_CMOS_RTC (1u << 5)

/* AML encodings (ACPI 6.4, §20.2) beyond those written inline below. */
#define AML_EXT_PREFIX 0x5b
#define AML_OP_REGION 0x80 /* after AML_EXT_PREFIX */
#define AML_FIELD 0x81	   /* after AML_EXT_PREFIX */
#define AML_METHOD 0x14
#define AML_IF 0xa0
#define AML_STORE 0x70
#define AML_AND 0x7b
#define AML_LEQUAL 0x93
#define AML_NOTIFY 0x86
#define AML_LOCAL0 0x60
#define AML_NULL_NAME 0x00 /* And's target when its result is only an operand */
#define AML_ROOT_CHAR 0x5c
#define AML_DUAL_NAME_PREFIX 0x2e
#define AML_MULTI_NAME_PREFIX 0x2f
#define AML_SYSTEM_IO 0x01	/* OperationRegion space */
#define AML_BYTE_ACC 0x01	/* Field access type */
#define AML_WRITE_AS_ZEROS 0x40 /* Field update rule */
#define AML_SERIALIZED 0x08	/* Method flag */
#define AML_NOTIFY_PRESSED 0x80 /* Notify value for a button: it was pressed */
#define AML_NOTIFY_VMGENID 0x80 /* Notify value for VGEN: its generation ID changed */

/* A byte buffer with room enough for den's tables. */
struct aml {
	uint8_t b[8192];
	size_t n;
};

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return (uint8_t)-s;
}

/* The common 36-byte header; the checksum is set by finish(). */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	le_put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "DEN   ", 6);
	memcpy(t + 16, "DENVMM  ", 8);
	le_put32(t + 24, 1);
	memcpy(t + 28, "DEN ", 4);
	le_put32(t + 32, 1);
}

static void finish(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = checksum(t, len);
}

/* A Generic Address Structure for an 8-bit I/O port. */
static void gas_io(uint8_t *p, uint16_t port)
{
	p[0] = 1; /* system I/O */
	p[1] = 8; /* bit width */
	p[2] = 0;
	p[3] = 1; /* byte access */
	le_put64(p + 4, port);
}

/* AML: bytes, and packages whose PkgLength is known once their contents are. */
static void emit(struct aml *a, const void *p, size_t n)
{
	if (a->n + n <= sizeof(a->b)) {
		memcpy(a->b + a->n, p, n);
		a->n += n;
	}
}

static void emit8(struct aml *a, uint8_t v)
{
	emit(a, &v, 1);
}

/* op (1 or 2 bytes), PkgLength, then body. */
static void package(struct aml *a, const uint8_t *op, size_t op_len, const struct aml *body)
{
	size_t n = body->n;
	uint8_t len[4];
	size_t ll;

	if (n + 1 < 64) {
		len[0] = (uint8_t)(n + 1);
		ll = 1;
	} else if (n + 2 < (1u << 12)) {
		size_t t = n + 2;
		len[0] = (uint8_t)(1u << 6 | (t & 0xf));
		len[1] = (uint8_t)(t >> 4);
		ll = 2;
	} else {
		size_t t = n + 3;
		len[0] = (uint8_t)(2u << 6 | (t & 0xf));
		len[1] = (uint8_t)(t >> 4);
		len[2] = (uint8_t)(t >> 12);
		ll = 3;
	}
	emit(a, op, op_len);
	emit(a, len, ll);
	emit(a, body->b, body->n);
}

static void name_string(struct aml *a, const char *name, const uint8_t *value, size_t n)
{
	emit8(a, 0x08); /* NameOp */
	emit(a, name, 4);
	emit(a, value, n);
}

static void dword(struct aml *a, uint32_t v)
{
	uint8_t b[5] = { 0x0c };
	le_put32(b + 1, v);
	emit(a, b, 5);
}

/* An integer in the fewest bytes: ZeroOp, OneOp, or a byte, word or dword constant. */
static void integer(struct aml *a, uint32_t v)
{
	if (v <= 1) {
		emit8(a, (uint8_t)v);
	} else if (v <= 0xff) {
		emit8(a, 0x0a);
		emit8(a, (uint8_t)v);
	} else if (v <= 0xffff) {
		uint8_t b[3] = { 0x0b };
		le_put16(b + 1, (uint16_t)v);
		emit(a, b, sizeof(b));
	} else {
		dword(a, v);
	}
}

/*
 * A NameString from "ESEL" or "\\_SB_.PWRB": an optional root, then
 * four-character segments joined by dots (two follow DualNamePrefix,
 * more MultiNamePrefix and their count).
 */
static void name_path(struct aml *a, const char *path)
{
	if (*path == '\\') {
		emit8(a, AML_ROOT_CHAR);
		path++;
	}
	size_t segs = (strlen(path) + 1) / 5;
	if (segs == 2) {
		emit8(a, AML_DUAL_NAME_PREFIX);
	} else if (segs > 2) {
		emit8(a, AML_MULTI_NAME_PREFIX);
		emit8(a, (uint8_t)segs);
	}
	for (size_t i = 0; i < segs; i++)
		emit(a, path + 5 * i, 4);
}

/* EISAID("PNP0C0C"): the three letters in five bits each, big-endian, then four hex digits. */
static void eisa_id(struct aml *a, const char *id)
{
	unsigned vendor = (unsigned)(id[0] - '@') << 10 | (unsigned)(id[1] - '@') << 5 |
			  (unsigned)(id[2] - '@');
	unsigned product = (unsigned)strtoul(id + 3, NULL, 16);
	uint8_t b[5] = { 0x0c, (uint8_t)(vendor >> 8), (uint8_t)vendor, (uint8_t)(product >> 8),
			 (uint8_t)product };

	emit(a, b, sizeof(b));
}

/* OperationRegion(name, space, offset, length) */
static void op_region(struct aml *a, const char *name, uint8_t space, uint32_t offset,
		      uint32_t length)
{
	static const uint8_t op[] = { AML_EXT_PREFIX, AML_OP_REGION };

	emit(a, op, sizeof(op));
	emit(a, name, 4);
	emit8(a, space);
	integer(a, offset);
	integer(a, length);
}

/* Field(region, flags) { name, bits }: one field from the region's first bit; bits < 64. */
static void field(struct aml *a, const char *region, uint8_t flags, const char *name, uint8_t bits)
{
	static const uint8_t op[] = { AML_EXT_PREFIX, AML_FIELD };
	struct aml body = { .n = 0 };

	emit(&body, region, 4);
	emit8(&body, flags);
	emit(&body, name, 4);
	emit8(&body, bits); /* the field's length is a PkgLength: one byte below 64 */
	package(a, op, sizeof(op), &body);
}

/* Method(name, args, Serialized) { body } */
static void method(struct aml *a, const char *name, unsigned args, const struct aml *body)
{
	static const uint8_t op[] = { AML_METHOD };
	struct aml m = { .n = 0 };

	emit(&m, name, 4);
	emit8(&m, (uint8_t)(args | AML_SERIALIZED));
	emit(&m, body->b, body->n);
	package(a, op, sizeof(op), &m);
}

/* If (predicate) { body } */
static void if_then(struct aml *a, const struct aml *predicate, const struct aml *body)
{
	static const uint8_t op[] = { AML_IF };
	struct aml i = { .n = 0 };

	emit(&i, predicate->b, predicate->n);
	emit(&i, body->b, body->n);
	package(a, op, sizeof(op), &i);
}

/* An operator and its two operands, as Store, And, LEqual and Notify are written. */
static void op2(struct aml *a, uint8_t op, const struct aml *x, const struct aml *y)
{
	emit8(a, op);
	emit(a, x->b, x->n);
	emit(a, y->b, y->n);
}

/* Store(source, target) */
static void store(struct aml *a, const struct aml *source, const struct aml *target)
{
	op2(a, AML_STORE, source, target);
}

/* And(x, y) with no target: its value is an operand of what encloses it. */
static void and_(struct aml *a, const struct aml *x, const struct aml *y)
{
	op2(a, AML_AND, x, y);
	emit8(a, AML_NULL_NAME);
}

/* LEqual(x, y) */
static void lequal(struct aml *a, const struct aml *x, const struct aml *y)
{
	op2(a, AML_LEQUAL, x, y);
}

/* Notify(object, value) */
static void notify(struct aml *a, const struct aml *object, const struct aml *value)
{
	op2(a, AML_NOTIFY, object, value);
}

/* Name(_CRS, Buffer() { res }): a device's resources (res ends with its end tag). */
static void name_crs(struct aml *dev, const uint8_t *res, size_t n)
{
	static const uint8_t buffer_op[] = { 0x11 };
	struct aml buf = { .n = 0 };

	emit8(&buf, 0x0a); /* BufferSize as a byte */
	emit8(&buf, (uint8_t)n);
	emit(&buf, res, n);
	emit8(dev, 0x08);
	emit(dev, "_CRS", 4);
	package(dev, buffer_op, 1, &buf);
}

/* Device(VRnn) { _HID "LNRO0005", _UID n, _CRS { Memory32Fixed, Interrupt } } */
static void mmio_device(struct aml *scope, unsigned i, const struct acpi_mmio_dev *d)
{
	struct aml dev = { .n = 0 };
	char name[8];
	static const uint8_t hid[] = { 0x0d, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0 };
	static const uint8_t device_op[] = { 0x5b, 0x82 };

	snprintf(name, sizeof(name), "VR%02X", i & 0xff);
	emit(&dev, name, 4);
	name_string(&dev, "_HID", hid, sizeof(hid));
	emit8(&dev, 0x08);
	emit(&dev, "_UID", 4);
	dword(&dev, i);
	/* ResourceTemplate: Memory32Fixed(ReadWrite, base, size), Interrupt(Consumer, Edge, High) */
	uint8_t res[12 + 9 + 2] = { 0x86, 9, 0, 1 };
	le_put32(res + 4, (uint32_t)d->base);
	le_put32(res + 8, d->size);
	res[12] = 0x89;
	le_put16(res + 13, 6);
	res[15] = 0x03; /* consumer, edge-triggered, active high, exclusive */
	res[16] = 1;
	le_put32(res + 17, d->irq);
	res[21] = 0x79; /* end tag */
	res[22] = 0;
	name_crs(&dev, res, sizeof(res));
	package(scope, device_op, 2, &dev);
}

/*
 * Device(name) { _HID PNP0501, _UID uid, _CRS { IO port-port+7, IRQ irq } }:
 * in a hardware-reduced system ISA interrupts are not set up by
 * themselves, so a UART's IRQ comes from here (the console would stall
 * without it). COM1 is the console, COM2 den's channel (channel.h).
 */
static void uart_device(struct aml *scope, const char *name, uint16_t port, unsigned irq,
			uint8_t uid)
{
	struct aml dev = { .n = 0 };
	static const uint8_t hid[] = { 0x0c, 0x41, 0xd0, 0x05, 0x01 }; /* EISAID("PNP0501") */
	/* IO(Decode16, port, port, 0, 8), IRQNoFlags() { irq }, end tag */
	uint8_t res[] = { 0x47, 1, 0, 0, 0, 0, 0, 8, 0x22, 0, 0, 0x79, 0 };
	static const uint8_t device_op[] = { 0x5b, 0x82 };

	le_put16(res + 2, port);
	le_put16(res + 4, port);
	le_put16(res + 9, (uint16_t)(1u << irq));
	emit(&dev, name, 4);
	name_string(&dev, "_HID", hid, sizeof(hid));
	emit8(&dev, 0x08);
	emit(&dev, "_UID", 4);
	integer(&dev, uid);
	name_crs(&dev, res, sizeof(res));
	package(scope, device_op, 2, &dev);
}

/*
 * Device(VGEN) { _HID "DENV0001", _CID "VM_Gen_Counter", _DDN
 * "VM_Gen_Counter", ADDR Package { low, high } }: the VM generation ID
 * (Microsoft's spec, as QEMU's vmgenid; Linux binds the _CID, which ACPICA
 * upper-cases, as "VM_GEN_COUNTER"): 16 bytes at ACPI_VMGENID_ADDR
 * that den changes when a VM is restored, then notifies VGEN (a GED
 * event); Linux's vmgenid driver then reseeds its random number generator
 * (add_vmfork_randomness), so no two restored machines share its output.
 */
static void vmgenid_device(struct aml *scope)
{
	struct aml dev = { .n = 0 }, addr = { .n = 0 };
	static const uint8_t hid[] = { 0x0d, 'D', 'E', 'N', 'V', '0', '0', '0', '1', 0 };
	static const uint8_t cid[] = { 0x0d, 'V', 'M', '_', 'G', 'e', 'n', '_',
				       'C',  'o', 'u', 'n', 't', 'e', 'r', 0 };
	static const uint8_t device_op[] = { 0x5b, 0x82 }, package_op[] = { 0x12 };

	emit(&dev, "VGEN", 4);
	name_string(&dev, "_HID", hid, sizeof(hid));
	name_string(&dev, "_CID", cid, sizeof(cid));
	name_string(&dev, "_DDN", cid, sizeof(cid));
	emit8(&addr, 2); /* elements */
	dword(&addr, (uint32_t)ACPI_VMGENID_ADDR);
	dword(&addr, (uint32_t)((uint64_t)ACPI_VMGENID_ADDR >> 32));
	emit8(&dev, 0x08);
	emit(&dev, "ADDR", 4);
	package(&dev, package_op, 1, &addr);
	package(scope, device_op, 2, &dev);
}

/*
 * Device(PWRB) { _HID EISAID("PNP0C0C"), _UID 0 }: a power button with no
 * fixed hardware (the FADT is hardware-reduced); Linux's ACPI button
 * driver turns a Notify(PWRB, 0x80) into KEY_POWER, which systemd-logind
 * and every distribution take for a poweroff.
 */
static void power_button_device(struct aml *scope)
{
	struct aml dev = { .n = 0 };
	static const uint8_t device_op[] = { 0x5b, 0x82 };

	emit(&dev, "PWRB", 4);
	emit8(&dev, 0x08);
	emit(&dev, "_HID", 4);
	eisa_id(&dev, "PNP0C0C");
	emit8(&dev, 0x08);
	emit(&dev, "_UID", 4);
	integer(&dev, 0);
	package(scope, device_op, 2, &dev);
}

/* If ((Local0 & bit) == bit) { Notify(path, value) } */
static void on_event(struct aml *body, unsigned bit, const char *path, unsigned value)
{
	struct aml local0 = { .n = 0 }, mask = { .n = 0 }, masked = { .n = 0 };
	struct aml is_set = { .n = 0 }, object = { .n = 0 }, v = { .n = 0 }, then = { .n = 0 };

	emit8(&local0, AML_LOCAL0);
	integer(&mask, bit);
	name_path(&object, path);
	integer(&v, value);
	and_(&masked, &local0, &mask);
	lequal(&is_set, &masked, &mask);
	notify(&then, &object, &v);
	if_then(body, &is_set, &then);
}

/*
 * Method(_EVT, 1, Serialized) { Local0 = ESEL; If ((Local0 & 1) == 1) {
 * Notify(\_SB.PWRB, 0x80) } If ((Local0 & 2) == 2) { Notify(\_SB.VGEN, 0x80) } }
 */
static void ged_evt_method(struct aml *dev)
{
	struct aml body = { .n = 0 }, esel = { .n = 0 }, local0 = { .n = 0 };

	name_path(&esel, "ESEL");
	emit8(&local0, AML_LOCAL0);
	/* One read takes every pending event (the register clears on read). */
	store(&body, &esel, &local0);
	on_event(&body, ACPI_GED_POWER_BUTTON, "\\_SB_.PWRB", AML_NOTIFY_PRESSED);
	on_event(&body, ACPI_GED_VMGENID, "\\_SB_.VGEN", AML_NOTIFY_VMGENID);
	method(dev, "_EVT", 1, &body);
}

/*
 * Device(GED_) { _HID "ACPI0013", _UID 0, _CRS { Interrupt(Edge, ActiveHigh) { 15 } },
 * OperationRegion(EREG, SystemIO, 0x608, 1), Field(EREG, ByteAcc, NoLock,
 * WriteAsZeros) { ESEL, 8 }, _EVT }: Linux's evged runs _EVT (there is no
 * _E0F) on each edge of the IRQ, as on QEMU's microvm, whose GED is the
 * same but for a register in memory.
 */
static void ged_device(struct aml *scope)
{
	struct aml dev = { .n = 0 };
	static const uint8_t hid[] = { 0x0d, 'A', 'C', 'P', 'I', '0', '0', '1', '3', 0 };
	static const uint8_t device_op[] = { 0x5b, 0x82 };
	/* Interrupt(ResourceConsumer, Edge, ActiveHigh, Exclusive) { ACPI_GED_IRQ }, end tag */
	uint8_t res[9 + 2] = { 0x89, 6, 0, 0x03, 1 };

	le_put32(res + 5, ACPI_GED_IRQ);
	res[9] = 0x79;
	emit(&dev, "GED_", 4);
	name_string(&dev, "_HID", hid, sizeof(hid));
	emit8(&dev, 0x08);
	emit(&dev, "_UID", 4);
	integer(&dev, 0);
	name_crs(&dev, res, sizeof(res));
	op_region(&dev, "EREG", AML_SYSTEM_IO, ACPI_GED_PORT, 1);
	field(&dev, "EREG", AML_BYTE_ACC | AML_WRITE_AS_ZEROS, "ESEL", 8);
	ged_evt_method(&dev);
	package(scope, device_op, 2, &dev);
}

static size_t dsdt(uint8_t *t, const struct acpi_mmio_dev *devs, size_t n)
{
	struct aml body = { .n = 0 }, sb = { .n = 0 }, s5 = { .n = 0 };
	static const uint8_t scope_op[] = { 0x10 }, package_op[] = { 0x12 };

	emit(&sb, "\\_SB_", 5);
	uart_device(&sb, "COM1", 0x3f8, 4, 1);
	uart_device(&sb, "COM2", ACPI_CHANNEL_PORT, ACPI_CHANNEL_IRQ, 2);
	power_button_device(&sb);
	vmgenid_device(&sb);
	ged_device(&sb);
	for (size_t i = 0; i < n; i++)
		mmio_device(&sb, (unsigned)i, &devs[i]);
	package(&body, scope_op, 1, &sb);
	/* Name(\_S5, Package() { 5, 0 }): the sleep type den's sleep register gets for poweroff. */
	emit8(&s5, 2);
	emit8(&s5, 0x0a);
	emit8(&s5, 5);
	emit8(&s5, 0x00);
	emit8(&body, 0x08);
	emit(&body, "\\_S5_", 5);
	package(&body, package_op, 1, &s5);
	header(t, "DSDT", (uint32_t)(36 + body.n), 2);
	memcpy(t + 36, body.b, body.n);
	finish(t, (uint32_t)(36 + body.n));
	return 36 + body.n;
}

static size_t fadt(uint8_t *t, uint64_t dsdt_addr)
{
	header(t, "FACP", FADT_SIZE, 6);
	le_put32(t + 40, (uint32_t)dsdt_addr);
	/*
	 * No 8042 flag: nothing to probe there. No CMOS RTC: the wall clock is
	 * kvm-clock's, and Linux's rtc_cmos probe of ports that read 0xff waits
	 * seconds (3 s of an 8.5 s boot in the harness).
	 */
	le_put16(t + 109, IAPC_VGA_NOT_PRESENT | IAPC_NO_CMOS_RTC);
	le_put32(t + 112, FADT_HW_REDUCED | FADT_RESET_REG_SUP);
	gas_io(t + 116, ACPI_RESET_PORT);
	t[128] = ACPI_RESET_VALUE;
	t[131] = 0; /* FADT minor version: 6.0 */
	le_put64(t + 140, dsdt_addr);
	gas_io(t + 244, ACPI_SLEEP_CONTROL_PORT);
	gas_io(t + 256, ACPI_SLEEP_STATUS_PORT);
	memcpy(t + 268, "DENVMM  ", 8); /* hypervisor vendor identity */
	finish(t, FADT_SIZE);
	return FADT_SIZE;
}

static size_t madt(uint8_t *t, unsigned cpus, uint8_t ioapic_id)
{
	uint8_t *e = t + 44;

	for (unsigned c = 0; c < cpus; c++, e += 8) {
		e[0] = 0; /* processor local APIC */
		e[1] = 8;
		e[2] = (uint8_t)c;  /* processor UID */
		e[3] = (uint8_t)c;  /* APIC id */
		le_put32(e + 4, 1); /* enabled */
	}
	e[0] = 1; /* I/O APIC */
	e[1] = 12;
	e[2] = ioapic_id;
	e[3] = 0;
	le_put32(e + 4, 0xfec00000);
	le_put32(e + 8, 0); /* GSI base */
	e += 12;
	e[0] = 4; /* local APIC NMI on LINT1 of every processor */
	e[1] = 6;
	e[2] = 0xff;
	le_put16(e + 3, 0);
	e[5] = 1;
	e += 6;
	uint32_t len = (uint32_t)(e - t);
	header(t, "APIC", len, 4);
	le_put32(t + 36, 0xfee00000);
	le_put32(t + 40, 1); /* PCAT_COMPAT: there are 8259s, to be masked */
	finish(t, len);
	return len;
}

void acpi_den_record(uint8_t *table, const void *record, size_t len)
{
	memset(table, 0, DEN_RECORD_TABLE_SIZE);
	header(table, "DENR", DEN_RECORD_TABLE_SIZE, 1);
	table[DEN_RECORD_HEADER - 1] = '\n'; /* the creator revision's top byte */
	memcpy(table + DEN_RECORD_HEADER, record, len);
	finish(table, DEN_RECORD_TABLE_SIZE);
	/* The header is one line: a checksum that is a newline moves by one. */
	if (table[9] == '\n') {
		table[27] = 1; /* the OEM revision's top byte */
		finish(table, DEN_RECORD_TABLE_SIZE);
	}
}

uint64_t acpi_write(uint8_t *mem, unsigned cpus, uint8_t ioapic_id,
		    const struct acpi_mmio_dev *devs, size_t n_devs)
{
	uint8_t *base = mem + ACPI_BASE;
	uint64_t rsdp = ACPI_BASE, xsdt = ACPI_BASE + 0x40, fadt_a = ACPI_BASE + 0x100;
	uint64_t madt_a = ACPI_BASE + 0x300, dsdt_a = ACPI_BASE + 0x1000;

	memset(base, 0, ACPI_SIZE);
	dsdt(mem + dsdt_a, devs, n_devs);
	fadt(mem + fadt_a, dsdt_a);
	madt(mem + madt_a, cpus, ioapic_id);
	acpi_den_record(mem + DEN_RECORD_ADDR, "", 0); /* empty until a warm image's restore */
	header(mem + xsdt, "XSDT", 36 + 24, 1);
	le_put64(mem + xsdt + 36, fadt_a);
	le_put64(mem + xsdt + 44, madt_a);
	le_put64(mem + xsdt + 52, DEN_RECORD_ADDR);
	finish(mem + xsdt, 36 + 24);
	uint8_t *r = mem + rsdp;
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "DEN   ", 6);
	r[15] = 2; /* ACPI 2.0+: the XSDT */
	le_put32(r + 20, 36);
	le_put64(r + 24, xsdt);
	r[8] = checksum(r, 20);
	r[32] = checksum(r, 36);
	return rsdp;
}
