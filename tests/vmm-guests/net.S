/* SPDX-License-Identifier: MIT */
/*
 * Drives the virtio-net device (the first device when there is no disk):
 * one receive buffer, then an ARP request for the gateway 10.0.2.2 sent
 * through the transmit queue; prints the frame that comes back.
 */
#include "guest.inc"

#define RX_DESC 0x9000
#define RX_AVAIL 0x9800
#define RX_USED 0x9c00
#define TX_DESC 0xa000
#define TX_AVAIL 0xa800
#define TX_USED 0xac00
#define RX_BUF 0xb000

main:
	driver 0
	queue 0, 0, 8, RX_DESC, RX_AVAIL, RX_USED
	queue 0, 1, 8, TX_DESC, TX_AVAIL, TX_USED
	vwrite 0, REG_STATUS, $0xf
	desc RX_DESC, 0, $RX_BUF, $2048, $2, $0
	movw $0, (RX_AVAIL + 4)
	movw $1, (RX_AVAIL + 2)
	vwrite 0, REG_QUEUE_NOTIFY, $0
	desc TX_DESC, 0, $frame, $(frame_end - frame), $0, $0
	movw $0, (TX_AVAIL + 4)
	movw $1, (TX_AVAIL + 2)
	vwrite 0, REG_QUEUE_NOTIFY, $1
	wait_word TX_USED + 2, $1
	wait_word RX_USED + 2, $1
	mov $rx_msg, %si
	call puts
	movb (RX_USED + 9), %al	/* the used element's length, high byte first */
	call puthex
	movb (RX_USED + 8), %al
	call puthex
	mov $sp_msg, %si
	call puts
	mov $(RX_BUF + 12), %si	/* past the virtio-net header */
	mov $42, %cx
1:	lodsb
	call puthex
	loop 1b
	mov $nl, %si
	call puts
	jmp reset

rx_msg:	.asciz "den-net: rx "
sp_msg:	.asciz " "
nl:	.asciz "\n"
timeout_msg: .asciz "den-net: timeout\n"

frame:	.fill 12, 1, 0					/* virtio_net_hdr_v1 */
	.byte 0xff, 0xff, 0xff, 0xff, 0xff, 0xff	/* to everyone */
	.byte 0x52, 0x54, 0x00, 0x12, 0x34, 0x56	/* from the guest's MAC */
	.byte 0x08, 0x06				/* ARP */
	.byte 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01	/* Ethernet, IPv4, request */
	.byte 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10, 0, 2, 15
	.byte 0, 0, 0, 0, 0, 0, 10, 0, 2, 2		/* who has 10.0.2.2? */
frame_end:
