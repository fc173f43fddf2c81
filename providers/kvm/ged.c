/* SPDX-License-Identifier: MIT */
/*
 * The Generic Event Device's host side (its AML is in acpi.c): events the
 * VMM sets wait in one register, and each new one pulses the GED's IRQ.
 * The guest's _EVT reads the register once; the read takes every pending
 * event and clears them (read-to-clear, as QEMU's GED). With write-1-to-
 * clear the AML would need a second access, and an event set between the
 * read and the write back would have to be told apart from the one read.
 * The only event so far is the power button (--api powerbutton).
 */
#include "providers/kvm/vm-internal.h"
#include "providers/kvm/acpi.h"

#include <errno.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

int ged_raise(struct vm *vm, unsigned events, struct den_err *err)
{
	struct kvm_irq_level irq = { .irq = ACPI_GED_IRQ, .level = 1 };

	/* The event first: the guest's handler may read the register at once. */
	atomic_fetch_or(&vm->ged_events, events);
	/* An edge, as the _CRS says (a level would need the guest to lower it). */
	if (ioctl(vm->fd, KVM_IRQ_LINE, &irq) < 0)
		return den_err_set(err, errno, "cannot raise the GED's IRQ %d", ACPI_GED_IRQ);
	irq.level = 0;
	if (ioctl(vm->fd, KVM_IRQ_LINE, &irq) < 0)
		return den_err_set(err, errno, "cannot lower the GED's IRQ %d", ACPI_GED_IRQ);
	return 0;
}

uint8_t ged_read_events(struct vm *vm)
{
	return (uint8_t)atomic_exchange(&vm->ged_events, 0);
}
