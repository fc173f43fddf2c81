/* SPDX-License-Identifier: MIT */
/*
 * Posts a buffer to virtio-rng (the first device when there is no disk or
 * network) without notifying the device, then prints dots, paced, until
 * the buffer comes back, says so, and goes on with dots. The VM it ran in
 * never serves it; one restored from a snapshot does, as a restore
 * notifies every queue once (tests/vm/test_vmm_snapshot.c).
 */
#include "guest.inc"

#define DESC 0x9000
#define AVAIL 0x9800
#define USED 0x9c00
#define BUF 0xa000

main:
	cld
	rng_ready 0, DESC, AVAIL, USED, BUF
	movw $0, (AVAIL + 4)
	movw $1, (AVAIL + 2)
	mov $posted_msg, %si
	call puts
waiting:
	call dot
	cmpw $1, (USED + 2)
	jne waiting
	mov $served_msg, %si
	call puts
1:	call dot
	jmp 1b

/* A dot, then 400 reads of port 0x80. */
dot:
	mov $'.', %al
	call putc
	mov $400, %cx
1:	in $0x80, %al
	loop 1b
	ret

posted_msg:	.asciz "posted, not notified\n"
served_msg:	.asciz "\nserved\n"
