/* SPDX-License-Identifier: MIT */
/*
 * The ACPI power button as the GED's _EVT sees it: reads the event
 * register and the slave PIC's IRR (IRQ 15 is its bit 7) with nothing
 * pressed, says what it read, then polls the register until the power
 * button's bit comes (the test presses it once the first line is out),
 * reads it once more (read-to-clear: 00), and powers off. Interrupts stay
 * off (cli), so the pulsed IRQ waits in the PIC's IRR for the guest to see.
 * A press that never reaches the register leaves the guest silent: the
 * test's quiet timeout ends it.
 */
#include "guest.inc"

#define GED_EVENTS 0x608
#define PIC2_COMMAND 0xa0
#define OCW3_READ_IRR 0x0a
#define IRQ15 0x80

main:
	call read_both
	mov $idle, %si
	call report
1:	mov $GED_EVENTS, %dx
	in %dx, %al
	test $0x01, %al
	jz 1b
	mov %al, %bl
	in %dx, %al
	mov %al, %bh
	mov $events, %si
	call puts
	mov %bl, %al
	call puthex
	mov $again, %si
	call puts
	mov %bh, %al
	call puthex
	call read_irr
	mov %al, %cl
	mov $irq, %si
	call puts
	mov %cl, %al
	call puthex
	mov $'\n', %al
	call putc
	mov $0x600, %dx
	mov $0x20, %al /* SLP_EN: S5 */
	out %al, %dx
1:	jmp 1b

/* %bl: the event register, %cl: whether IRQ 15 is pending in the PIC. */
read_both:
	mov $GED_EVENTS, %dx
	in %dx, %al
	mov %al, %bl
	call read_irr
	mov %al, %cl
	ret

/* %al: the slave PIC's IRR bit for IRQ 15. */
read_irr:
	mov $OCW3_READ_IRR, %al
	out %al, $PIC2_COMMAND
	in $PIC2_COMMAND, %al
	and $IRQ15, %al
	ret

/* Writes the string at %si, then "XX irq15 YY\n" from %bl and %cl. */
report:
	call puts
	mov %bl, %al
	call puthex
	mov $irq, %si
	call puts
	mov %cl, %al
	call puthex
	mov $'\n', %al
	jmp putc

idle:	.asciz "den-ged: idle "
events:	.asciz "den-ged: events "
again:	.asciz " again "
irq:	.asciz " irq15 "
