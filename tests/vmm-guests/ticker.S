/* SPDX-License-Identifier: MIT */
/*
 * Prints a dot after every 200 reads of port 0x80, forever: for pause,
 * resume and stop. Paced by exits rather than a busy loop, whose speed
 * differs a thousandfold between hardware and PVM's emulated real mode.
 */
#include "guest.inc"

main:
	mov $'.', %al
	call putc
	mov $200, %cx
1:	in $0x80, %al
	loop 1b
	jmp main
