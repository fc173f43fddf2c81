/* SPDX-License-Identifier: MIT */
/*
 * Counts, for snapshots (tests/vm/test_vmm_snapshot.c): a 32-bit counter
 * in memory goes up by one a round and is printed as 8 hex digits on a
 * line. Each round also takes 4 bytes from virtio-rng (the first device
 * when there is no disk or network) and waits for them, so a restored
 * guest gets nothing unless the device's queue came back with it. Paced
 * by reads of port 0x80, as ticker is.
 */
#include "guest.inc"

#define DESC 0x9000
#define AVAIL 0x9800
#define USED 0x9c00
#define BUF 0xa000

main:
	cld
	rng_ready 0, DESC, AVAIL, USED, BUF

round:
	incl (count)
	/* Descriptor 0 into the next avail slot, the index on, a notify; then wait. */
	movw (AVAIL + 2), %si
	and $7, %si
	shl $1, %si
	movw $0, AVAIL + 4(%si)
	movw (AVAIL + 2), %dx
	inc %dx
	movw %dx, (AVAIL + 2)
	vwrite 0, REG_QUEUE_NOTIFY, $0
	wait_word USED + 2, %dx
	/* The count, most significant byte first. */
	mov $(count + 3), %si
	mov $4, %cx
1:	movb (%si), %al
	call puthex
	dec %si
	loop 1b
	mov $'\n', %al
	call putc
	mov $400, %cx
2:	in $0x80, %al
	loop 2b
	jmp round

timeout_msg:	.asciz "\ncounter: virtio-rng did not answer\n"
	.align 4
count:	.long 0
