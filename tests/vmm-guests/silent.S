/* SPDX-License-Identifier: MIT */
/* Prints nothing and halts with interrupts off: a stuck guest, for the quiet timeout. */
#include "guest.inc"

main:
	hlt
	jmp main
