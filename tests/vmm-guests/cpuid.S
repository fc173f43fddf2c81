/* SPDX-License-Identifier: MIT */
/* Says what CPUID shows it: "vmx=B svm=B hv=B", then resets through the i8042. */
#include "guest.inc"

main:
	mov $1, %eax
	cpuid
	mov %ecx, %ebp
	mov $vmx, %si
	call puts
	mov %ebp, %eax
	shr $5, %eax
	call bit
	mov $0x80000001, %eax
	cpuid
	mov %ecx, %edi
	mov $svm, %si
	call puts
	mov %edi, %eax
	shr $2, %eax
	call bit
	mov $hv, %si
	call puts
	mov %ebp, %eax
	shr $31, %eax
	call bit
	mov $'\n', %al
	call putc
	jmp reset

/* Prints '0' or '1' for bit 0 of %eax. */
bit:
	and $1, %al
	add $'0', %al
	jmp putc

vmx:	.asciz "vmx="
svm:	.asciz " svm="
hv:	.asciz " hv="
