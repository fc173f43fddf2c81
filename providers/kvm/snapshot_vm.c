/* SPDX-License-Identifier: MIT */
/*
 * The VM's own state in a snapshot: the in-kernel PICs and IOAPIC, the
 * PIT, the kvmclock's base (KVM_GET_CLOCK), the two UARTs, the ACPI events
 * not yet read, and a warm image's boot_id address. Restored after the vCPUs, as Firecracker does; the clock
 * goes back to the value saved, so the guest's monotonic time resumes
 * where it stopped (its wall clock is behind by the time in between, as
 * after a suspend, until it asks NTP again).
 */
#include "providers/kvm/snapshot-internal.h"
#include "providers/kvm/vm-internal.h"
#include "core/cleanup.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

static const struct {
	enum snap_type type;
	uint32_t chip;
} chips[] = {
	{ SNAP_VM_PIC_MASTER, KVM_IRQCHIP_PIC_MASTER },
	{ SNAP_VM_PIC_SLAVE, KVM_IRQCHIP_PIC_SLAVE },
	{ SNAP_VM_IOAPIC, KVM_IRQCHIP_IOAPIC },
};

int snap_vm_save(struct vm *vm, struct snap_writer *w, struct den_err *err)
{
	struct kvm_irqchip chip;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	struct serial_state uart, chan;

	for (size_t i = 0; i < DEN_ARRAY_SIZE(chips); i++) {
		memset(&chip, 0, sizeof(chip));
		chip.chip_id = chips[i].chip;
		if (ioctl(vm->fd, KVM_GET_IRQCHIP, &chip) < 0)
			return den_err_set(err, errno, "cannot read the VM's %s",
					   snap_type_name(chips[i].type));
		snap_put(w, chips[i].type, 0, &chip, sizeof(chip));
	}
	memset(&pit, 0, sizeof(pit));
	if (ioctl(vm->fd, KVM_GET_PIT2, &pit) < 0)
		return den_err_set(err, errno, "cannot read the VM's PIT");
	snap_put(w, SNAP_VM_PIT, 0, &pit, sizeof(pit));
	memset(&clock, 0, sizeof(clock));
	if (ioctl(vm->fd, KVM_GET_CLOCK, &clock) < 0)
		return den_err_set(err, errno, "cannot read the VM's clock");
	/* KVM_SET_CLOCK takes none of the flags KVM_GET_CLOCK reports. */
	clock.flags = 0;
	snap_put(w, SNAP_VM_CLOCK, 0, &clock, sizeof(clock));
	pthread_mutex_lock(&vm->lock);
	serial_save(&vm->serial, &uart);
	serial_save(&vm->chan.uart, &chan);
	pthread_mutex_unlock(&vm->lock);
	snap_put(w, SNAP_VM_UART, 0, &uart, sizeof(uart));
	snap_put(w, SNAP_VM_CHANNEL, 0, &chan, sizeof(chan));
	if (vm->clone.template)
		snap_put(w, SNAP_VM_CLONE, 0, &vm->clone.boot_id_at, sizeof(vm->clone.boot_id_at));
	uint32_t ged = atomic_load(&vm->ged_events);
	snap_put(w, SNAP_VM_GED, 0, &ged, sizeof(ged));
	return 0;
}

int snap_vm_restore(struct vm *vm, const struct snap_file *f, struct den_err *err)
{
	struct kvm_irqchip chip;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	struct serial_state uart, chan;
	uint32_t ged;
	size_t len;

	if (snap_get(f, SNAP_VM_PIT, 0, &pit, sizeof(pit), err) < 0)
		return -1;
	if (ioctl(vm->fd, KVM_SET_PIT2, &pit) < 0)
		return den_err_set(err, errno, "KVM refused the PIT from %s", f->path);
	if (snap_get(f, SNAP_VM_CLOCK, 0, &clock, sizeof(clock), err) < 0)
		return -1;
	clock.flags = 0;
	if (ioctl(vm->fd, KVM_SET_CLOCK, &clock) < 0)
		return den_err_set(err, errno, "KVM refused the clock from %s", f->path);
	for (size_t i = 0; i < DEN_ARRAY_SIZE(chips); i++) {
		if (snap_get(f, chips[i].type, 0, &chip, sizeof(chip), err) < 0)
			return -1;
		if (chip.chip_id != chips[i].chip)
			return den_err_set(err, 0, "%s is damaged: its %s is another chip", f->path,
					   snap_type_name(chips[i].type));
		if (ioctl(vm->fd, KVM_SET_IRQCHIP, &chip) < 0)
			return den_err_set(err, errno, "KVM refused the %s from %s",
					   snap_type_name(chips[i].type), f->path);
	}
	if (snap_get(f, SNAP_VM_UART, 0, &uart, sizeof(uart), err) < 0 ||
	    snap_get(f, SNAP_VM_CHANNEL, 0, &chan, sizeof(chan), err) < 0 ||
	    snap_get(f, SNAP_VM_GED, 0, &ged, sizeof(ged), err) < 0)
		return -1;
	pthread_mutex_lock(&vm->lock);
	bool ok = serial_load(&vm->serial, &uart) && serial_load(&vm->chan.uart, &chan);
	pthread_mutex_unlock(&vm->lock);
	if (!ok)
		return den_err_set(err, 0, "%s is damaged: its UART state is not one", f->path);
	atomic_store(&vm->ged_events, ged);
	/* A warm image's: where the kernel keeps boot_id (clone.c checks it lies in RAM). */
	if (snap_find(f, SNAP_VM_CLONE, 0, &len) != NULL) {
		if (snap_get(f, SNAP_VM_CLONE, 0, &vm->clone.boot_id_at,
			     sizeof(vm->clone.boot_id_at), err) < 0)
			return -1;
		vm->clone.template = true;
	}
	return 0;
}
