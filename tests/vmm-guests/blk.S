/* SPDX-License-Identifier: MIT */
/*
 * Drives the first virtio-blk device: first with a broken queue (the
 * descriptor table misaligned), which the device must answer with
 * DEVICE_NEEDS_RESET until reset; then, after the reset, reads sector 1,
 * writes sector 2, flushes, and reads the interrupt status.
 */
#include "guest.inc"

#define DESC 0x9000
#define AVAIL 0x9800
#define USED 0x9c00
#define HDR 0xa000
#define DATA 0xa200
#define STATUS 0xa400

main:
	cld
	/* A hostile driver: the descriptor table is not 16-byte aligned. */
	driver 0
	queue 0, 0, 8, DESC + 1, AVAIL, USED
	vwrite 0, REG_STATUS, $0xf
	vwrite 0, REG_QUEUE_NOTIFY, $0
	mov $0x4000000, %ecx
1:	vread 0, REG_STATUS
	test $0x40, %al
	jnz 2f
	dec %ecx
	jnz 1b
2:	mov $broken_msg, %si
	call puts
	call puthex
	vwrite 0, REG_STATUS, $0
	vread 0, REG_STATUS
	mov $reset_msg, %si
	call puts
	call puthex

	/* The device again, as a driver should: read sector 1. */
	driver 0
	queue 0, 0, 8, DESC, AVAIL, USED
	vwrite 0, REG_STATUS, $0xf
	movl $0, (HDR)		/* VIRTIO_BLK_T_IN */
	movl $0, (HDR + 4)
	movl $1, (HDR + 8)	/* sector */
	movl $0, (HDR + 12)
	desc DESC, 0, $HDR, $16, $1, $1
	desc DESC, 1, $DATA, $512, $3, $2
	desc DESC, 2, $STATUS, $1, $2, $0
	movb $0xff, (STATUS)
	movw $0, (AVAIL + 4)
	movw $1, (AVAIL + 2)
	vwrite 0, REG_QUEUE_NOTIFY, $0
	wait_word USED + 2, $1
	mov $read_msg, %si
	call puts
	mov $DATA, %si
	mov $16, %cx
3:	lodsb
	call putc
	loop 3b
	mov $status_msg, %si
	call puts
	movb (STATUS), %al
	call puthex

	/* Write sector 2. */
	movl $1, (HDR)		/* VIRTIO_BLK_T_OUT */
	movl $2, (HDR + 8)
	mov $wmsg, %si
	mov $DATA, %di
	mov $32, %cx
	rep movsb
	desc DESC, 1, $DATA, $512, $1, $2
	movb $0xff, (STATUS)
	movw $0, (AVAIL + 6)
	movw $2, (AVAIL + 2)
	vwrite 0, REG_QUEUE_NOTIFY, $0
	wait_word USED + 2, $2
	mov $write_msg, %si
	call puts
	movb (STATUS), %al
	call puthex

	/* Flush: the header and the status byte only. */
	movl $4, (HDR)		/* VIRTIO_BLK_T_FLUSH */
	movl $0, (HDR + 8)
	desc DESC, 0, $HDR, $16, $1, $2
	movb $0xff, (STATUS)
	movw $0, (AVAIL + 8)
	movw $3, (AVAIL + 2)
	vwrite 0, REG_QUEUE_NOTIFY, $0
	wait_word USED + 2, $3
	mov $flush_msg, %si
	call puts
	movb (STATUS), %al
	call puthex

	vread 0, REG_INTERRUPT_STATUS
	mov $isr_msg, %si
	call puts
	call puthex
	vwrite 0, REG_INTERRUPT_ACK, $1
	mov $nl, %si
	call puts
	jmp reset

broken_msg:	.asciz "den-blk: hostile queue, status "
reset_msg:	.asciz " after reset "
read_msg:	.asciz "\nden-blk: read '"
status_msg:	.asciz "' status "
write_msg:	.asciz " write "
flush_msg:	.asciz " flush "
isr_msg:	.asciz " isr "
nl:		.asciz "\n"
timeout_msg:	.asciz "\ntimeout\n"
wmsg:		.ascii "written by a real-mode guest...\n"
