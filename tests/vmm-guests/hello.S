/* SPDX-License-Identifier: MIT */
/* Says hello on the UART, then resets through the i8042. */
#include "guest.inc"

main:
	mov $msg, %si
	call puts
	jmp reset

msg:	.asciz "den-guest: hello from real mode\n"
