/* SPDX-License-Identifier: MIT */
/* Echoes console input in capitals until a '.', then resets. */
#include "guest.inc"

main:
	mov $msg, %si
	call puts
1:	mov $COM1_LSR, %dx
	in %dx, %al
	test $0x01, %al /* data ready */
	jz 1b
	mov $COM1, %dx
	in %dx, %al
	cmp $'.', %al
	je 3f
	cmp $'a', %al
	jb 2f
	cmp $'z', %al
	ja 2f
	sub $0x20, %al
2:	call putc
	jmp 1b
3:	mov $nl, %si
	call puts
	jmp reset

msg:	.asciz "den-guest: echo: "
nl:	.asciz "\n"
