/* SPDX-License-Identifier: MIT */
/*
 * What a vCPU thread does: KVM_RUN, then the exit: port I/O to the UARTs,
 * the i8042 (whose reset command ends the VM), the ACPI registers and the
 * GED's event register, MMIO nobody answers, shutdown (a triple fault,
 * which is how some reboots end), and KVM's own failures. Unknown ports
 * read as all ones, as on a bus with nothing on it.
 */
#include "providers/kvm/vm-internal.h"
#include "providers/kvm/acpi.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#define I8042_DATA 0x60
#define I8042_STATUS 0x64
#define I8042_RESET 0xfe
#define PCI_RESET_CONTROL 0xcf9
#define FAST_A20 0x92

void vm_end(struct vm *vm, enum vm_end how, const char *why)
{
	int running = VM_RUNNING;

	if (!atomic_compare_exchange_strong(&vm->end, &running, (int)how))
		return;
	if (why != NULL)
		snprintf(vm->why, sizeof(vm->why), "%s", why);
	vm_kick(vm);
	if (vm->stop_fd >= 0)
		eventfd_write(vm->stop_fd, 1); /* the device threads */
	/* Paused vCPUs must see the end too. */
	pthread_mutex_lock(&vm->pause_lock);
	vm->paused = false;
	pthread_cond_broadcast(&vm->resumed);
	pthread_mutex_unlock(&vm->pause_lock);
}

void vm_kick(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (v->run != NULL)
			__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
		if (atomic_load_explicit(&v->started, memory_order_acquire))
			pthread_kill(v->thread, SIGUSR1);
	}
}

/* A paused VM: this vCPU waits, counted, until resume or the end. */
static void park(struct vcpu *v)
{
	struct vm *vm = v->vm;

	pthread_mutex_lock(&vm->pause_lock);
	if (vm->paused) {
		vm->parked++;
		pthread_cond_broadcast(&vm->resumed);
		while (vm->paused)
			pthread_cond_wait(&vm->resumed, &vm->pause_lock);
		vm->parked--;
	}
	v->run->immediate_exit = 0;
	pthread_mutex_unlock(&vm->pause_lock);
}

static void port_in(struct vm *vm, uint16_t port, uint8_t *data, unsigned size)
{
	memset(data, 0xff, size);
	if (port >= SERIAL_BASE && port < SERIAL_BASE + 8 && size == 1) {
		pthread_mutex_lock(&vm->lock);
		data[0] = serial_read(&vm->serial, port - SERIAL_BASE);
		pthread_mutex_unlock(&vm->lock);
	} else if (port == I8042_STATUS) {
		data[0] = 0; /* nothing to read, ready for commands */
	} else if (port == ACPI_SLEEP_STATUS_PORT) {
		data[0] = 0;
	} else if (port >= ACPI_CHANNEL_PORT && port < ACPI_CHANNEL_PORT + 8 && size == 1) {
		pthread_mutex_lock(&vm->lock);
		data[0] = channel_read(&vm->chan, port - ACPI_CHANNEL_PORT);
		pthread_mutex_unlock(&vm->lock);
	} else if (port == ACPI_GED_PORT) {
		memset(data, 0, size);
		data[0] = ged_read_events(vm); /* read-to-clear (ged.c) */
		/* The guest has its events (a new VM generation ID): den's record may follow. */
		pthread_mutex_lock(&vm->lock);
		vm_channel_release(vm);
		pthread_mutex_unlock(&vm->lock);
	}
}

static void port_out(struct vm *vm, uint16_t port, const uint8_t *data, unsigned size)
{
	if (port >= SERIAL_BASE && port < SERIAL_BASE + 8 && size == 1) {
		uint8_t tx[sizeof(vm->tx)];
		size_t n;
		pthread_mutex_lock(&vm->lock);
		serial_write(&vm->serial, port - SERIAL_BASE, data[0]);
		n = vm->tx_len;
		memcpy(tx, vm->tx, n);
		vm->tx_len = 0;
		pthread_mutex_unlock(&vm->lock);
		if (n > 0)
			vm_console_write(vm, tx, n);
	} else if (port >= ACPI_CHANNEL_PORT && port < ACPI_CHANNEL_PORT + 8 && size == 1) {
		pthread_mutex_lock(&vm->lock);
		channel_write(&vm->chan, port - ACPI_CHANNEL_PORT, data[0]);
		bool line = vm->chan.has_done;
		pthread_mutex_unlock(&vm->lock);
		if (line)
			eventfd_write(vm->chan_fd, 1); /* vm_watch takes it */
	} else if (port == I8042_STATUS && data[0] == I8042_RESET) {
		vm_end(vm, VM_RESET, "the guest reset it (the i8042's reset command)");
	} else if (port == ACPI_RESET_PORT && data[0] == ACPI_RESET_VALUE) {
		vm_end(vm, VM_RESET, "the guest reset it (ACPI's reset register)");
	} else if (port == PCI_RESET_CONTROL && (data[0] & 0x04)) {
		vm_end(vm, VM_RESET,
		       "the guest reset it (port 0xcf9)"); /* Linux's reboot tries these too */
	} else if (port == FAST_A20 && (data[0] & 0x01)) {
		vm_end(vm, VM_RESET, "the guest reset it (port 0x92)");
	} else if (port == ACPI_SLEEP_CONTROL_PORT && (data[0] & ACPI_SLEEP_ENABLE)) {
		vm_end(vm, VM_POWEROFF, "the guest powered off (ACPI S5)");
	}
}

static bool handle_exit(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct kvm_run *r = v->run;
	char why[384];

	switch (r->exit_reason) {
	case KVM_EXIT_IO: {
		atomic_fetch_add_explicit(&vm->io_exits, 1, memory_order_relaxed);
		uint8_t *data = (uint8_t *)r + r->io.data_offset;
		for (uint32_t i = 0; i < r->io.count; i++, data += r->io.size) {
			if (r->io.direction == KVM_EXIT_IO_IN)
				port_in(vm, r->io.port, data, r->io.size);
			else
				port_out(vm, r->io.port, data, r->io.size);
		}
		return true;
	}
	case KVM_EXIT_MMIO: {
		uint64_t a = r->mmio.phys_addr;
		unsigned len = r->mmio.len > 8 ? 8 : r->mmio.len;
		atomic_fetch_add_explicit(&vm->mmio_exits, 1, memory_order_relaxed);
		for (unsigned i = 0; i < vm->ndevs; i++) {
			struct virtio_dev *d = &vm->devs[i];
			if (a < d->base || a >= d->base + VIRTIO_MMIO_SIZE)
				continue;
			if (r->mmio.is_write && a - d->base == VIRTIO_REG_QUEUE_NOTIFY)
				atomic_fetch_add_explicit(&vm->notify_exits, 1,
							  memory_order_relaxed);
			if (r->mmio.is_write)
				virtio_mmio_write(d, a - d->base, r->mmio.data, len);
			else
				virtio_mmio_read(d, a - d->base, r->mmio.data, len);
			return true;
		}
		if (!r->mmio.is_write)
			memset(r->mmio.data, 0xff, sizeof(r->mmio.data));
		return true;
	}
	case KVM_EXIT_HLT:
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN: {
		/* As hardware does, the machine resets; where it was says why (vmm.log). */
		struct kvm_regs regs = { 0 };
		struct kvm_sregs sr = { 0 };
		ioctl(v->fd, KVM_GET_REGS, &regs);
		ioctl(v->fd, KVM_GET_SREGS, &sr);
		snprintf(why, sizeof(why),
			 "a triple fault on vCPU %u (rip %llx rsp %llx cr0 %llx cr2 %llx cr3 %llx "
			 "cr4 %llx efer %llx): the machine resets",
			 v->id, (unsigned long long)regs.rip, (unsigned long long)regs.rsp,
			 (unsigned long long)sr.cr0, (unsigned long long)sr.cr2,
			 (unsigned long long)sr.cr3, (unsigned long long)sr.cr4,
			 (unsigned long long)sr.efer);
		vm_end(vm, VM_RESET, why);
		return false;
	}
	case KVM_EXIT_SYSTEM_EVENT:
		if (r->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN)
			vm_end(vm, VM_POWEROFF, "KVM says the guest shut down");
		else
			vm_end(vm, VM_RESET, "KVM says the guest reset");
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(why, sizeof(why),
			 "vCPU %u could not enter the guest (hardware reason 0x%llx)", v->id,
			 (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
		vm_end(vm, VM_FAILED, why);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(why, sizeof(why), "KVM internal error %u on vCPU %u", r->internal.suberror,
			 v->id);
		vm_end(vm, VM_FAILED, why);
		return false;
	default:
		snprintf(why, sizeof(why),
			 "vCPU %u stopped with KVM exit %u, which den does not handle", v->id,
			 r->exit_reason);
		vm_end(vm, VM_FAILED, why);
		return false;
	}
}

/* den's own work before the guest's first instruction: said once, on stderr (vmm.log). */
static void note_startup(struct vm *vm)
{
	struct timespec now;

	if (vm->started.tv_sec == 0 && vm->started.tv_nsec == 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long us = (now.tv_sec - vm->started.tv_sec) * 1000000LL +
		       (now.tv_nsec - vm->started.tv_nsec) / 1000;
	atomic_store(&vm->startup_us, us);
	fprintf(stderr, "den vmm: the guest's first instruction, %.1f ms after den vmm run began\n",
		(double)us / 1000.0);
}

void *vcpu_loop(void *arg)
{
	struct vcpu *v = arg;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (v->id == 0)
		note_startup(v->vm);
	while (atomic_load(&v->vm->end) == VM_RUNNING) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				park(v);
				continue;
			}
			char why[128];
			snprintf(why, sizeof(why), "KVM_RUN failed on vCPU %u: %s", v->id,
				 strerror(errno));
			vm_end(v->vm, VM_FAILED, why);
			break;
		}
		if (!handle_exit(v))
			break;
	}
	return NULL;
}
