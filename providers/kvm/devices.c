/* SPDX-License-Identifier: MIT */
/*
 * The VM's virtio-mmio devices, 4 KiB apart from VIRTIO_MMIO_BASE: the
 * disks (vda, vdb... in order), the network card, the shared folders
 * (virtio-9p), then the entropy source, each wired to KVM (ioeventfd,
 * irqfd) and served on its own thread.
 */
#include "providers/kvm/vm-internal.h"
#include "providers/kvm/vmm.h"

#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Level-triggered in spirit, delivered as an edge per batch of used buffers (as kvmtool does). */
static void virtio_irq(struct virtio_dev *d)
{
	struct vm *vm = d->vm;
	struct kvm_irq_level irq = { .irq = d->irq, .level = 1 };

	ioctl(vm->fd, KVM_IRQ_LINE, &irq);
	irq.level = 0;
	ioctl(vm->fd, KVM_IRQ_LINE, &irq);
}

/*
 * A device's notifies and interrupt through KVM: ioeventfd on its
 * QueueNotify register per queue, irqfd on its IRQ. Where KVM refuses, the
 * notify exits and the transport hands it on, and the IRQ is raised by
 * ioctl: slower, the same to the guest.
 */
static int wire(struct vm *vm, struct virtio_dev *d, struct den_err *err)
{
	if (virtio_wire(d, vm->stop_fd, err) < 0)
		return -1;
	for (unsigned q = 0; q < d->nqueues; q++) {
		struct kvm_ioeventfd io = { .datamatch = q,
					    .addr = d->base + VIRTIO_REG_QUEUE_NOTIFY,
					    .len = 4,
					    .fd = d->kick[q],
					    .flags = KVM_IOEVENTFD_FLAG_DATAMATCH };
		ioctl(vm->fd, KVM_IOEVENTFD, &io);
	}
	struct kvm_irqfd irq = { .fd = (uint32_t)d->irqfd, .gsi = d->irq };
	if (ioctl(vm->fd, KVM_IRQFD, &irq) < 0) {
		close(d->irqfd);
		d->irqfd = -1;
	}
	return 0;
}

/* The disks (vda, vdb... in order), the network card, the shares, then the entropy source. */
int vm_add_devices(struct vm *vm, const struct vmm_spec *s, struct den_err *err)
{
	/*
	 * ISA IRQs nothing else takes (4 is COM1's, 15 the ACPI GED's), then
	 * IOAPIC pins past the ISA ones: the guest learns them from the DSDT.
	 */
	static const unsigned irqs[VM_MAX_DEVICES] = { 5, 6, 7, 9, 10, 11, 12, 14, 16, 17, 18, 19 };
	_Static_assert(VM_MAX_DEVICES >= VMM_MAX_DISKS + 1 + VMM_MAX_SHARES + 1 + VMM_MAX_PRIVATE,
		       "room for every device vmm_spec can ask for");
	unsigned first_share = s->n_disks + (s->net ? 1 : 0);
	unsigned rng = first_share + s->n_shares;
	unsigned n = rng + 1 + s->n_privates;

	vm->gm = (struct guest_mem){ vm->mem, vm->layout };
	for (unsigned i = 0; i < n && i < VM_MAX_DEVICES; i++) {
		struct virtio_dev *d = &vm->devs[i];
		int rc;
		*d = (struct virtio_dev){ .base = VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_SIZE,
					  .irq = irqs[i],
					  .mem = &vm->gm,
					  .interrupt = virtio_irq,
					  .vm = vm };
		pthread_mutex_init(&d->lock, NULL);
		vm->ndevs++;
		if (i < s->n_disks) {
			d->name = s->disks[i].path;
			rc = virtio_blk_init(d, &s->disks[i], err);
		} else if (i == s->n_disks && s->net) {
			d->name = "virtio-net";
			rc = virtio_net_init(d, s->fwds, s->n_fwds, !s->net_no_loopback, err);
		} else if (i < first_share + s->n_shares) {
			const struct vmm_share *sh = &s->shares[i - first_share];
			d->name = sh->path;
			rc = virtio_9p_init(d, sh->path, sh->tag, sh->ro, err);
		} else if (i == rng) {
			d->name = "virtio-rng";
			rc = virtio_rng_init(d, err);
		} else {
			const struct vmm_private *p = &s->privates[i - rng - 1];
			d->name = "virtio-net (private network)";
			rc = virtio_net_init_private(d, p->fd, p->mac, err);
		}
		if (rc < 0 || wire(vm, d, err) < 0)
			return -1;
	}
	return 0;
}

int vm_start_devices(struct vm *vm, struct den_err *err)
{
	for (unsigned i = 0; i < vm->ndevs; i++)
		if (virtio_start(&vm->devs[i], err) < 0)
			return -1;
	return 0;
}
