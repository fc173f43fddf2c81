/* SPDX-License-Identifier: MIT */
/*
 * den's warm-image handshake as a guest hook does it (tests/vm/
 * test_vmm_warm.c): a 16-byte "boot_id" at BOOT_ID and the VM generation
 * ID (at 0xf0000) printed on the console, then on den's channel (COM2)
 * "den-warm: ready bootid=<hex> at=00003000". Then, forever: the GED's events
 * (port 0x608) printed when there are some, and each byte den's channel
 * brings echoed to the console; after its last line ("end"), den's record
 * (NUL-terminated, past the 36-byte header of den's ACPI table at 0xf1000)
 * is printed, then the boot_id and generation
 * ID again, and the VM resets.
 */
#include "guest.inc"

#define COM2 0x2f8
#define COM2_LSR 0x2fd
#define GED 0x608
#define BOOT_ID 0x3000

main:
	cld
	/* A boot_id the guest made: 0x11, 0x22, ... 0xff, 0x10 (0x11 * (i + 1), in a byte). */
	xor %bx, %bx
	xor %al, %al
1:	add $0x11, %al
	movb %al, BOOT_ID(%bx)
	inc %bx
	cmp $16, %bx
	jne 1b
	mov $before, %si
	call puts
	call ids
	mov $ready, %si
	call com2_puts

wait:
	mov $GED, %dx
	in %dx, %al
	test %al, %al
	jz 1f
	mov $ged_msg, %si
	call puts
	call puthex
	mov $'\n', %al
	call putc
1:	mov $COM2_LSR, %dx
	in %dx, %al
	test $0x01, %al
	jz wait
	mov $COM2, %dx
	in %dx, %al
	call putc
	xchg %al, %bl
	cmp $'d', %al
	jne wait
	cmp $'\n', %bl
	jne wait
	/* "end\n": den's record is in memory. */
	push %ds
	mov $0xf100, %ax
	mov %ax, %ds
	mov $36, %si
	call puts
	pop %ds
	mov $after, %si
	call puts
	call ids
	jmp reset

/* "bootid=<hex> vmgenid=<hex>\n" on the console. */
ids:
	mov $bootid_msg, %si
	call puts
	mov $BOOT_ID, %si
	call hex16
	mov $vmgenid_msg, %si
	call puts
	push %ds
	mov $0xf000, %ax
	mov %ax, %ds
	xor %si, %si
	call hex16
	pop %ds
	mov $'\n', %al
	jmp putc

/* 16 bytes at %ds:%si as hex. */
hex16:
	mov $16, %cx
1:	lodsb
	call puthex
	loop 1b
	ret

/* The NUL-terminated string at %si on den's channel. */
com2_puts:
1:	lodsb
	test %al, %al
	jz 3f
	mov %al, %ah
	mov $COM2_LSR, %dx
2:	in %dx, %al
	test $0x20, %al
	jz 2b
	mov %ah, %al
	mov $COM2, %dx
	out %al, %dx
	jmp 1b
3:	ret

before:		.asciz "before "
after:		.asciz "\nafter "
bootid_msg:	.asciz "bootid="
vmgenid_msg:	.asciz " vmgenid="
ged_msg:	.asciz "ged="
ready:		.asciz "den-warm: ready bootid=112233445566778899aabbccddeeff10 at=00003000\n"
